/**
 * Foundation acceptance in a real VS Code (code-server 1.139 + Chromium): the built .vsix is
 * installed; the Tokens view starts empty; a token is set through the command palette, the quick
 * picks and the real password input; its value is copied through the modal confirmation and the
 * clipboard is cleared after `mcpTokens.clipboardClearSeconds`; it is rotated and deleted through
 * the UI. Then every foundation command runs through the driver with its argument object (checking
 * its effect) and without arguments (checking the quick pick / input it opens). Finally no value
 * may be found in plaintext in any file of the run.
 */
import assert from 'node:assert/strict';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { EXTENSION_ID, REPO_ROOT, launch, testSecret, type VSCode } from './harness';

interface Meta {
  namespace: string;
  name: string;
  type: string;
  expiresAt?: string;
  hasPrevious?: boolean;
  backend: string;
  description?: string;
}

const CLEAR_SECONDS = 3;
const secrets: string[] = [];
const secret = (label: string) => {
  const v = testSecret(label);
  secrets.push(v);
  return v;
};
const ENV_SECRET = secret('env-import');
const DOTENV_SECRET = secret('dotenv-import');

const pkg = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as {
  version: string;
  contributes: { commands: { command: string; title: string }[] };
};
const nls = JSON.parse(readFileSync(join(REPO_ROOT, 'package.nls.json'), 'utf8')) as Record<string, string>;
const title = (id: string) => {
  const c = pkg.contributes.commands.find((x) => x.command === id);
  assert.ok(c, `${id} is not in package.json`);
  return `${nls.category}: ${nls[c.title.replace(/^%|%$/g, '')] ?? c.title}`;
};

/** The commands the foundation owns (others are checked by their features' e2e tests). */
const FOUNDATION_COMMANDS = [
  'mcpTokens.setToken', 'mcpTokens.showToken', 'mcpTokens.copyToken', 'mcpTokens.copyReference', 'mcpTokens.deleteToken',
  'mcpTokens.clearTokens', 'mcpTokens.clearExpiredTokens', 'mcpTokens.rotateToken', 'mcpTokens.restorePreviousToken',
  'mcpTokens.generateToken', 'mcpTokens.importFromEnv', 'mcpTokens.listTokens', 'mcpTokens.filterTokens', 'mcpTokens.clearFilter',
  'mcpTokens.refresh', 'mcpTokens.revealToken', 'mcpTokens.showLog',
];

let vs: VSCode;
const started = Date.now();

async function tokens(filter: Record<string, unknown> = {}): Promise<Meta[]> {
  return vs.runCommand<Meta[]>('mcpTokens.listTokens', { noUi: true, ...filter });
}

async function rowsOfTokensView() {
  return (await vs.sideBarRows('Tokens')).filter((r) => r.label);
}

async function waitUntil(what: string, probe: () => Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > until) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Copies a token's value through copyToken (the modal is always shown) and returns the clipboard. */
async function copyValue(key: { namespace: string; name: string }): Promise<string> {
  const p = vs.runCommand<boolean>('mcpTokens.copyToken', key);
  const d = await vs.dialogs.waitFor(15_000, new RegExp(`Copy the value of ${key.namespace}:${key.name}`));
  assert.ok(d.buttons.includes('Copy Value'), `buttons: ${d.buttons.join(', ')}`);
  await vs.dialogs.click('Copy Value');
  assert.equal(await p, true);
  return vs.readClipboard();
}

/** Runs `id` without arguments, waits for the quick input matching `match`, escapes, returns the result. */
async function expectQuickInput(id: string, match: RegExp): Promise<{ state: Awaited<ReturnType<VSCode['quickInput']['state']>>; result: unknown }> {
  const p = vs.runCommand(id);
  const state = await vs.quickInput.waitOpen(match);
  await vs.quickInput.close();
  return { state, result: await p };
}

before(async () => {
  vs = await launch({
    name: 'foundation',
    settings: { 'mcpTokens.clipboardClearSeconds': CLEAR_SECONDS, 'mcpTokens.expiryWarningDays': 7 },
    env: { MCP_E2E_SAMPLE_API_KEY: ENV_SECRET },
  });
  console.log(`[foundation] timings: ${JSON.stringify(vs.timings)}`);
});

after(async () => {
  if (!vs) return;
  await vs.dispose();
  await vs.assertNoPlaintext(secrets);
  console.log(`[foundation] wall time: ${((Date.now() - started) / 1000).toFixed(1)} s`);
});

describe('foundation in code-server', () => {
  test('the built vsix is installed and active, with every foundation command registered', async () => {
    const ext = await vs.driver.extension(EXTENSION_ID);
    assert.equal(ext.found, true);
    assert.equal(ext.isActive, true);
    assert.equal(ext.version, pkg.version);
    const registered = new Set(await vs.driver.commands('mcpTokens.'));
    assert.deepEqual(FOUNDATION_COMMANDS.filter((id) => !registered.has(id)), []);
    assert.equal((await vs.driver.ping()).isTrusted, true);
  });

  test('every command contributed in package.json is registered', async () => {
    const registered = new Set(await vs.driver.commands('mcpTokens.'));
    const missing = pkg.contributes.commands.map((c) => c.command).filter((c) => !registered.has(c));
    assert.deepEqual(missing, [], `contributed but not registered: ${missing.join(', ')}`);
  });

  test('the MCP Tokens view opens empty, with its welcome content', async () => {
    await vs.openActivity('MCP Tokens');
    const welcome = vs.view('Tokens').locator('.welcome-view-content');
    await welcome.waitFor({ state: 'visible', timeout: 15_000 });
    assert.match((await welcome.textContent()) ?? '', /No MCP tokens are stored yet/);
    assert.ok(await welcome.getByRole('button', { name: 'Set Token' }).isVisible());
    await vs.screenshot('empty-welcome-view');
  });

  const github = { namespace: 'bearer', name: 'github' };
  const githubValue = secret('github');
  const githubRotated = secret('github-rotated');

  test('Set Token… through the palette: type and namespace quick picks, name, password input', async () => {
    await vs.clearNotifications();
    await vs.palette(title('mcpTokens.setToken'));
    let s = await vs.quickInput.waitOpen(/Set Token \(1\/4\): type/);
    assert.ok(s.items.includes('Bearer token'), s.items.join(','));
    await vs.quickInput.pick('Bearer token');
    s = await vs.quickInput.waitOpen(/Set Token \(2\/4\): namespace/);
    assert.equal(s.items[0], 'bearer');
    await vs.quickInput.pick('bearer');
    s = await vs.quickInput.waitOpen(/Set Token \(3\/4\): name/);
    await vs.quickInput.type('github');
    s = await vs.quickInput.waitOpen(/Set Token \(4\/4\): value of bearer:github/);
    assert.equal(s.password, true, 'the value is typed into a password input');
    await vs.quickInput.type(githubValue, { submit: false });
    assert.equal((await vs.quickInput.input.getAttribute('type')), 'password');
    await vs.page.keyboard.press('Enter');
    // The optional questions (provider, description): Enter skips them (this value fits no provider's format).
    s = await vs.quickInput.waitOpen(/Provider \(optional\)/);
    assert.match(s.items[0], /No provider/);
    await vs.page.keyboard.press('Enter');
    s = await vs.quickInput.waitOpen(/Description \(optional\)/);
    await vs.quickInput.type('');
    s = await vs.quickInput.waitOpen(/Expiry/);
    await vs.quickInput.type('10d');
    await vs.quickInput.waitClosed();
    await vs.notifications.waitFor(/Stored \$<TOKEN:bearer:github>/);

    await waitUntil('the token in the tree', async () => (await rowsOfTokensView()).some((r) => r.label === 'github'));
    const rows = await rowsOfTokensView();
    assert.deepEqual(rows.map((r) => r.label), ['bearer', 'github']);
    assert.match(rows[1].description, /Bearer token · expires in (9|10) days/);
    const [meta] = await tokens();
    assert.equal(meta.type, 'bearer');
    assert.equal(meta.backend, 'secretStorage');
    const bodyText = await vs.page.evaluate(() => (globalThis as any).document.body.innerText as string);
    assert.ok(!bodyText.includes(githubValue), 'the value is not displayed anywhere');
    await vs.screenshot('token-in-tree');
  });

  test('Copy Token Value… from the tree context menu asks in a modal, copies, then clears the clipboard', async () => {
    const row = vs.page.locator('#workbench\\.parts\\.sidebar .monaco-list-row').filter({ hasText: 'github' }).first();
    await vs.contextMenu(row, /^Copy Token Value/, () => vs.screenshot('context-menu'));
    const d = await vs.dialogs.waitFor(15_000, /Copy the value of bearer:github to the clipboard\?/);
    assert.match(d.detail, new RegExp(`cleared after ${CLEAR_SECONDS} seconds`));
    assert.ok(!JSON.stringify(d).includes(githubValue));
    await vs.screenshot('copy-confirmation');
    await vs.dialogs.click('Copy Value');
    const copiedAt = Date.now();
    await waitUntil('the value in the clipboard', async () => (await vs.readClipboard()) === githubValue, 5_000);
    await waitUntil('the clipboard to be cleared', async () => (await vs.readClipboard()) === '', (CLEAR_SECONDS + 6) * 1000);
    const clearedAfter = Date.now() - copiedAt;
    assert.ok(clearedAfter >= (CLEAR_SECONDS - 1) * 1000, `cleared too early (${clearedAfter} ms)`);
  });

  test('cancelling the copy confirmation copies nothing', async () => {
    await vs.writeClipboard('unrelated clipboard text');
    const p = vs.runCommand<boolean>('mcpTokens.copyToken', github);
    await vs.dialogs.waitFor(15_000, /Copy the value of bearer:github/);
    await vs.dialogs.cancel();
    assert.equal(await p, false);
    assert.equal(await vs.readClipboard(), 'unrelated clipboard text');
  });

  test('Rotate Token… through the palette with a typed value keeps the previous one', async () => {
    await vs.clearNotifications();
    await vs.palette(title('mcpTokens.rotateToken'));
    await vs.quickInput.waitOpen(/Rotate Token/);
    await vs.quickInput.pick(/bearer:github/);
    const s = await vs.quickInput.waitOpen(/Rotate bearer:github/);
    assert.equal(s.password, true);
    await vs.quickInput.type(githubRotated);
    await vs.notifications.waitFor(/Rotated bearer:github/);
    const [meta] = await tokens({ namespace: 'bearer' });
    assert.equal(meta.hasPrevious, true);
    assert.equal(await copyValue(github), githubRotated);
  });

  test('Delete Token… through the palette and its confirmation dialog', async () => {
    await vs.palette(title('mcpTokens.deleteToken'));
    await vs.quickInput.waitOpen(/Delete Token/);
    await vs.quickInput.pick(/bearer:github/);
    const d = await vs.dialogs.waitFor(15_000, /Delete the token bearer:github\?/);
    assert.deepEqual(d.buttons.filter((b) => b === 'Delete'), ['Delete']);
    await vs.screenshot('delete-confirmation');
    await vs.dialogs.click('Delete');
    await waitUntil('the token to leave the tree', async () => !(await rowsOfTokensView()).some((r) => r.label === 'github'));
    assert.deepEqual(await tokens(), []);
    // The value is not gone: the tree now holds only Recently Deleted, with it.
    await waitUntil('Recently Deleted in the tree', async () => (await rowsOfTokensView()).some((r) => r.label === 'Recently Deleted' && /1 value/.test(r.description)));
    await vs.screenshot('deleted');
    // Emptying it is asked in a modal (it cannot be undone); then the welcome view is back.
    await vs.dialogs.answer(vs.runCommand('mcpTokens.emptyRecentlyDeleted'), /Empty Recently Deleted \(1 value\)\?/, 'Empty');
    await vs.view('Tokens').locator('.welcome-view-content').waitFor({ state: 'visible', timeout: 10_000 });
    await vs.screenshot('emptied');
  });
});

describe('foundation commands with argument objects (automation)', () => {
  const search = { namespace: 'api-key', name: 'search' };
  const v1 = secret('search-1');
  const v2 = secret('search-2');
  const v3 = secret('search-3');
  const expired = { namespace: 'custom-team', name: 'old' };
  let generated = '';

  test('setToken stores a token and returns its metadata; overwrite needs consent or overwrite:true', async () => {
    const expiresAt = new Date(Date.now() + 3 * 86400e3).toISOString();
    const meta = await vs.runCommand<Meta>('mcpTokens.setToken', { ...search, type: 'api-key', value: v1, expiresAt, description: 'e2e' });
    assert.equal(meta.namespace, 'api-key');
    assert.equal(meta.expiresAt, expiresAt);
    assert.ok(!JSON.stringify(meta).includes(v1), 'metadata never holds the value');
    // Existing key without overwrite: the modal asks; cancelling keeps the old value.
    const p = vs.runCommand<Meta | null>('mcpTokens.setToken', { ...search, type: 'api-key', value: v2 });
    await vs.dialogs.waitFor(15_000, /A token api-key:search already exists/);
    await vs.dialogs.cancel();
    assert.equal(await p, null);
    assert.equal(await copyValue(search), v1);
    const again = await vs.runCommand<Meta>('mcpTokens.setToken', { ...search, type: 'api-key', value: v2, overwrite: true, expiresAt });
    assert.equal(again.name, 'search');
    assert.equal(await copyValue(search), v2);
    // A past expiry makes an expired token.
    await vs.runCommand('mcpTokens.setToken', { ...expired, type: 'generic', value: secret('expired'), expiresAt: new Date(Date.now() - 86400e3).toISOString() });
    assert.deepEqual((await tokens({ expiry: 'expired' })).map((t) => t.name), ['old']);
    assert.deepEqual((await tokens({ expiry: 'soon' })).map((t) => t.name), ['search']);
  });

  test('setToken rejects invalid arguments with a message naming the field (not the value)', async () => {
    const bad = secret('bad-args');
    await assert.rejects(vs.runCommand('mcpTokens.setToken', { namespace: 'bad ns!', name: 'x', type: 'bearer', value: bad }), (e: Error) => {
      assert.match(e.message, /invalid arguments: namespace/);
      assert.ok(!e.message.includes(bad));
      return true;
    });
    await assert.rejects(vs.runCommand('mcpTokens.setToken', { namespace: 'bearer', name: 'x', type: 'nope', value: bad }), /type/);
  });

  test('showToken returns the metadata and shows its details', async () => {
    await vs.clearNotifications();
    const meta = await vs.runCommand<Meta>('mcpTokens.showToken', search);
    assert.equal(meta.description, 'e2e');
    await vs.notifications.waitFor(/api-key:search: API key · expires in/);
    assert.equal(((await vs.runCommand<Meta>('mcpTokens.showToken', 'api-key:search')) as Meta).name, 'search');
    await assert.rejects(vs.runCommand('mcpTokens.showToken', { namespace: 'api-key', name: 'missing' }), /No token api-key:missing is stored/);
  });

  test('copyReference puts $<TOKEN:ns:name> (or the brace form) on the clipboard', async () => {
    assert.equal(await vs.runCommand('mcpTokens.copyReference', search), '$<TOKEN:api-key:search>');
    assert.equal(await vs.readClipboard(), '$<TOKEN:api-key:search>');
    assert.equal(await vs.runCommand('mcpTokens.copyReference', { ...search, form: 'brace' }), '${TOKEN:api-key:search}');
    assert.equal(await vs.readClipboard(), '${TOKEN:api-key:search}');
  });

  test('copyToken with arguments still shows the modal confirmation; options it does not have are refused, never obeyed', async () => {
    assert.equal(await copyValue(search), v2);
    await vs.writeClipboard('before');
    // An automation object is the key only: "force", "confirm", "noUi", "modal" are errors…
    await assert.rejects(vs.runCommand('mcpTokens.copyToken', { ...search, force: true, confirm: false, noUi: true, modal: false }), /invalid arguments/);
    // …and the key alone still asks; cancelling copies nothing.
    const p = vs.runCommand('mcpTokens.copyToken', search);
    await vs.dialogs.waitFor(10_000, /Copy the value of api-key:search to the clipboard\?/);
    await vs.dialogs.cancel();
    assert.equal(await p, false);
    assert.equal(await vs.readClipboard(), 'before');
  });

  test('generateToken stores a random value of the requested length without showing it', async () => {
    const meta = await vs.runCommand<Meta>('mcpTokens.generateToken', { namespace: 'generic', name: 'gen', length: 32 });
    assert.equal(meta.type, 'generic');
    assert.equal(await vs.dialogs.isOpen(), false, 'automation does not show the value');
    generated = await copyValue({ namespace: 'generic', name: 'gen' });
    secrets.push(generated);
    assert.match(generated, /^[A-Za-z0-9_-]{32}$/);
  });

  test('rotateToken with a value, then without (generated), and restorePreviousToken', async () => {
    let meta = await vs.runCommand<Meta>('mcpTokens.rotateToken', { ...search, value: v3 });
    assert.equal(meta.hasPrevious, true);
    assert.equal(await copyValue(search), v3);
    meta = await vs.runCommand<Meta>('mcpTokens.rotateToken', search);
    assert.equal(meta.hasPrevious, true);
    assert.equal(await vs.dialogs.isOpen(), false, 'automation rotation does not show the generated value');
    const rotated = await copyValue(search);
    secrets.push(rotated);
    assert.notEqual(rotated, v3);
    assert.match(rotated, /^[A-Za-z0-9_-]{40}$/, 'mcpTokens.generatedTokenLength default');
    await vs.clearNotifications();
    meta = await vs.runCommand<Meta>('mcpTokens.restorePreviousToken', search);
    assert.equal(meta.hasPrevious, true, 'the replaced value becomes the previous one');
    assert.equal(await copyValue(search), v3);
    await vs.notifications.waitFor(/Restored the previous value of api-key:search/);
  });

  test('importFromEnv from the extension host environment and from a .env file', async () => {
    const fromEnv = await vs.runCommand<{ namespace: string; name: string }[]>('mcpTokens.importFromEnv', {
      variables: { MCP_E2E_SAMPLE_API_KEY: 'api-key:sample' },
    });
    assert.deepEqual(fromEnv, [{ namespace: 'api-key', name: 'sample' }]);
    assert.equal(await copyValue({ namespace: 'api-key', name: 'sample' }), ENV_SECRET);
    const envFile = join(vs.dirs.workspace!, '.env');
    writeFileSync(envFile, `# e2e\nGITHUB_TOKEN=${DOTENV_SECRET}\nPLAIN_SETTING=1\n`);
    const fromFile = await vs.runCommand<{ namespace: string; name: string }[]>('mcpTokens.importFromEnv', { file: envFile });
    assert.deepEqual(fromFile, [{ namespace: 'bearer', name: 'github' }]);
    const [meta] = await tokens({ namespace: 'bearer' });
    assert.equal(meta.type, 'bearer');
    assert.match(meta.description ?? '', /Imported from GITHUB_TOKEN/);
    assert.equal(await copyValue({ namespace: 'bearer', name: 'github' }), DOTENV_SECRET);
    // Already there: skipped without overwrite.
    assert.deepEqual(await vs.runCommand('mcpTokens.importFromEnv', { file: envFile }), []);
    rmSync(envFile); // the test's own plaintext file: the scan is about what VS Code and the extension write
    await assert.rejects(vs.runCommand('mcpTokens.importFromEnv', { variables: { MCP_E2E_NOT_SET_TOKEN: '' } }), /MCP_E2E_NOT_SET_TOKEN is not set/);
  });

  test('listTokens filters by type, namespace and expiry; refresh returns the count', async () => {
    const all = await tokens();
    assert.deepEqual(all.map((t) => `${t.namespace}:${t.name}`).sort(), ['api-key:sample', 'api-key:search', 'bearer:github', 'custom-team:old', 'generic:gen']);
    assert.deepEqual((await tokens({ type: 'api-key' })).length, 2);
    assert.deepEqual((await tokens({ namespace: 'generic' })).map((t) => t.name), ['gen']);
    assert.equal(await vs.runCommand('mcpTokens.refresh'), all.length);
  });

  test('revealToken selects the token in the view; filterTokens / clearFilter narrow the view', async () => {
    assert.equal(await vs.runCommand('mcpTokens.revealToken', search), true);
    const selected = vs.page.locator('#workbench\\.parts\\.sidebar .monaco-list-row.selected');
    await selected.first().waitFor({ state: 'visible', timeout: 10_000 });
    assert.match((await selected.first().textContent()) ?? '', /search/);
    assert.equal(await vs.runCommand('mcpTokens.filterTokens', { text: 'sea' }), 1);
    await waitUntil('the filtered view', async () => (await rowsOfTokensView()).map((r) => r.label).join(',') === 'api-key,search');
    await vs.screenshot('filtered-view');
    await vs.runCommand('mcpTokens.clearFilter');
    await waitUntil('the unfiltered view', async () => (await rowsOfTokensView()).some((r) => r.label === 'gen'));
    // Run as the user would (no argument): the problem is shown to the user, and the command ends.
    assert.equal(await vs.runCommand('mcpTokens.revealToken'), null);
    await vs.notifications.waitFor(/needs \{namespace, name\}/);
    // With an automation argument, the caller gets the rejection.
    await assert.rejects(vs.runCommand('mcpTokens.revealToken', { namespace: 'api-key', name: 'missing' }), /No token api-key:missing is stored/);
  });

  test('clearTokens {expiredOnly, force} deletes only expired tokens; clearExpiredTokens asks first', async () => {
    await vs.runCommand('mcpTokens.setToken', { namespace: 'custom-team', name: 'old2', type: 'generic', value: secret('expired-2'), expiresAt: new Date(Date.now() - 3600e3).toISOString() });
    const cleared = await vs.runCommand<{ namespace: string; name: string }[]>('mcpTokens.clearTokens', { expiredOnly: true, force: true });
    assert.deepEqual(cleared.map((k) => `${k.namespace}:${k.name}`).sort(), ['custom-team:old', 'custom-team:old2']);
    assert.deepEqual(await tokens({ expiry: 'expired' }), []);
    await vs.runCommand('mcpTokens.setToken', { ...expired, type: 'generic', value: secret('expired-3'), expiresAt: new Date(Date.now() - 60e3).toISOString() });
    const p = vs.runCommand('mcpTokens.clearExpiredTokens');
    const d = await vs.dialogs.waitFor(15_000, /Delete 1 expired token\?/);
    assert.match(d.detail, /custom-team:old/);
    await vs.dialogs.click('Delete');
    assert.deepEqual(((await p) as { namespace: string; name: string }[]).map((k) => `${k.namespace}:${k.name}`), ['custom-team:old']);
  });

  test('deleteToken {force} deletes without asking; a missing token is an error', async () => {
    assert.equal(await vs.runCommand('mcpTokens.deleteToken', { namespace: 'generic', name: 'gen', force: true }), true);
    assert.equal(await vs.dialogs.isOpen(), false);
    assert.ok(!(await tokens()).some((t) => t.name === 'gen'));
    await assert.rejects(vs.runCommand('mcpTokens.deleteToken', { namespace: 'generic', name: 'gen', force: true }), /No token generic:gen is stored/);
    // Without force the modal asks; cancel keeps it.
    const p = vs.runCommand('mcpTokens.deleteToken', { namespace: 'api-key', name: 'sample' });
    await vs.dialogs.waitFor(15_000, /Delete the token api-key:sample\?/);
    await vs.dialogs.cancel();
    assert.equal(await p, false);
  });

  test('showLog shows the MCP Tokens output, which never contains a value', async () => {
    await vs.runCommand('mcpTokens.showLog');
    await vs.page.locator('.part.panel').waitFor({ state: 'visible', timeout: 10_000 });
    const log = vs.readLog();
    assert.match(log, /Stored api-key:search/);
    for (const s of secrets) assert.ok(!log.includes(s), 'a value leaked into the log');
    await vs.page.keyboard.press('ControlOrMeta+J'); // hide the panel again
  });
});

describe('foundation commands without arguments open their UI', () => {
  test('each command opens the expected quick pick or input, and Escape cancels it', async () => {
    const cases: [string, RegExp, unknown][] = [
      ['mcpTokens.setToken', /Set Token \(1\/4\): type/, null],
      ['mcpTokens.showToken', /Show Token Details/, null],
      ['mcpTokens.copyToken', /Copy Token Value/, false],
      ['mcpTokens.copyReference', /Copy Token Reference/, null],
      ['mcpTokens.deleteToken', /Delete Token/, false],
      ['mcpTokens.clearTokens', /Clear Tokens/, []],
      ['mcpTokens.rotateToken', /Rotate Token/, null],
      ['mcpTokens.restorePreviousToken', /Restore Previous Token Value/, null],
      ['mcpTokens.generateToken', /namespace/, null],
      ['mcpTokens.importFromEnv', /Import Tokens: source/, []],
      ['mcpTokens.listTokens', /MCP Tokens \(\d+\)/, undefined],
      ['mcpTokens.filterTokens', /Filter Tokens/, null],
    ];
    const failures: string[] = [];
    for (const [id, match, expected] of cases) {
      try {
        const { state, result } = await expectQuickInput(id, match);
        assert.ok(!state.password || state.value === '', `${id}: password input prefilled`);
        if (expected !== undefined) assert.deepEqual(result, expected, `${id} result after Escape`);
      } catch (e) {
        failures.push(`${id}: ${e instanceof Error ? e.message.split('\n')[0] : String(e)}`);
        await vs.quickInput.close();
        if (await vs.dialogs.isOpen()) await vs.dialogs.cancel();
      }
    }
    assert.deepEqual(failures, []);
  });

  test('listTokens without arguments lists every token grouped by namespace; picking one offers its actions', async () => {
    const p = vs.runCommand<Meta[]>('mcpTokens.listTokens');
    const s = await vs.quickInput.waitOpen(/MCP Tokens \(3\)/);
    assert.ok(s.items.some((i) => /api-key:search/.test(i)), s.items.join(' | '));
    await vs.screenshot('list-tokens');
    await vs.quickInput.pick(/api-key:search/);
    const actions = await vs.quickInput.waitOpen(/^api-key:search/);
    assert.ok(actions.items.some((i) => /Copy Reference/.test(i)), actions.items.join(' | '));
    await vs.quickInput.pick(/Copy Reference/);
    await waitUntil('the reference on the clipboard', async () => (await vs.readClipboard()) === '$<TOKEN:api-key:search>');
    assert.equal((await p).length, 3);
  });

  test('clearTokens through its quick pick: a namespace, confirmed in the dialog', async () => {
    const p = vs.runCommand('mcpTokens.clearTokens');
    await vs.quickInput.waitOpen(/Clear Tokens/);
    await vs.quickInput.pick(/Namespace api-key/);
    const d = await vs.dialogs.waitFor(15_000, /Delete 2 tokens in namespace "api-key"\?/);
    assert.match(d.detail, /api-key:sample/);
    await vs.dialogs.click('Delete');
    assert.deepEqual(((await p) as unknown[]).length, 2);
    assert.deepEqual((await tokens()).map((t) => `${t.namespace}:${t.name}`), ['bearer:github']);
  });

  test('clearExpiredTokens with nothing expired says so', async () => {
    await vs.clearNotifications();
    assert.deepEqual(await vs.runCommand('mcpTokens.clearExpiredTokens'), []);
    await vs.notifications.waitFor(/No token has expired/);
  });
});
