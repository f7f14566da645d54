/**
 * The Tokens view's context menus and inline actions, from the manifest's `view/item/context`
 * `when` clauses, for each kind of row the view draws (its `contextValue`): a token row gets the
 * token's actions; a History node, a version row, Recently Deleted and a deleted entry get only
 * their own. (A version row once matched `viewItem =~ /^token/` and offered Delete Token… and
 * Rotate Token… as if it were the token.)
 *
 * The `when` clauses here use only `view == X`, `viewItem == Y` and `viewItem =~ /re/` joined by
 * `&&`; anything else fails the test, so a new clause shape is noticed rather than misread.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';

const manifest = JSON.parse(readFileSync(join(__dirname, '..', '..', 'package.json'), 'utf8')) as {
  contributes: { menus: { 'view/item/context': Array<{ command: string; when: string; group?: string }> } };
};
const items = manifest.contributes.menus['view/item/context'];

function matches(when: string, ctx: { view: string; viewItem: string }): boolean {
  return when.split('&&').every((raw) => {
    const clause = raw.trim();
    let m = /^view == ([\w.]+)$/.exec(clause);
    if (m) return ctx.view === m[1];
    m = /^viewItem == ([\w.+-]+)$/.exec(clause);
    if (m) return ctx.viewItem === m[1];
    m = /^viewItem =~ \/(.*)\/$/.exec(clause);
    if (m) return new RegExp(m[1]!).test(ctx.viewItem);
    throw new Error(`a when clause this test cannot read: ${clause}`);
  });
}

const menuOf = (viewItem: string, view = 'mcpTokens.tokens') =>
  [...new Set(items.filter((i) => matches(i.when, { view, viewItem })).map((i) => i.command.replace(/^mcpTokens\./, '')))].sort();

describe('Tokens view menus per row kind', () => {
  test('a token row offers the token actions, Restore Previous only with a previous value', () => {
    const plain = menuOf('token.bearer.ok');
    for (const c of ['copyToken', 'copyReference', 'rotateToken', 'deleteToken', 'showToken', 'verifyToken']) assert.ok(plain.includes(c), `${c} in ${plain}`);
    assert.ok(!plain.includes('restorePreviousToken'));
    assert.ok(!plain.includes('restoreTokenVersion'));
    assert.ok(menuOf('token.bearer.ok+previous').includes('restorePreviousToken'));
  });

  test('OAuth actions only on oauth tokens', () => {
    const oauthOnly = menuOf('token.oauth.ok').filter((c) => !menuOf('token.bearer.ok').includes(c));
    assert.ok(oauthOnly.length > 0, 'oauth rows have their own actions');
    for (const c of oauthOnly) assert.ok(!menuOf('token.api-key.ok').includes(c));
  });

  test('a version row offers only Restore This Version', () => {
    assert.deepEqual(menuOf('tokenVersion'), ['restoreTokenVersion']);
  });

  test('the History node, Recently Deleted and a deleted entry get none of the token actions', () => {
    const tokenActions = new Set(menuOf('token.bearer.ok+previous'));
    for (const kind of ['tokenHistory', 'recentlyDeleted', 'deletedToken', 'namespace', 'consent']) {
      // A namespace row may offer Set Token (a new token in that namespace), nothing that acts on one token.
      const shared = menuOf(kind).filter((c) => tokenActions.has(c) && !(kind === 'namespace' && c === 'setToken'));
      assert.deepEqual(shared, [], `${kind} offers ${shared}`);
    }
    assert.ok(menuOf('deletedToken').includes('restoreDeletedToken'));
  });
});
