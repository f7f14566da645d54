/**
 * The one command path: every command is declared once in the table with its class and argument
 * schema, registered only through platform/commands.ts, and values are read only by the gate and
 * the launch paths. These tests read the source, so a new command or a new way for a value to leave
 * the store fails here until it is declared and gated.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { z } from 'zod';
import { COMMANDS, COMMAND_IDS } from '../../extension/platform/commandTable';
import { ArgumentError, parseCommandInput } from '../../extension/platform/commandInput';

const root = join(__dirname, '..', '..');
const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((e) => {
    const p = join(dir, e);
    return statSync(p).isDirectory() ? sources(p) : p.endsWith('.ts') ? [relative(root, p)] : [];
  });
}
const extensionFiles = sources(join(root, 'extension'));

test('every contributed command is in the table, and every table command is contributed', () => {
  const contributed: string[] = manifest.contributes.commands.map((c: { command: string }) => c.command);
  assert.deepEqual([...contributed].sort(), [...COMMAND_IDS].sort());
  assert.equal(new Set(COMMAND_IDS).size, COMMAND_IDS.length, 'ids are unique');
});

test('commands are registered only through platform/commands.ts', () => {
  const offenders = extensionFiles.filter((f) => f !== 'extension/platform/commands.ts' && /commands\.registerCommand\(/.test(readFileSync(join(root, f), 'utf8')));
  assert.deepEqual(offenders, []);
});

test('values are read only by the gate, the server launch (provider and launcher channel), the OAuth refresh of the launcher (extension/cli.ts) and the OAuth session', () => {
  // The value-reading methods of the TokenStore, and who may call them.
  const allowed = new Set(['extension/platform/gate.ts', 'extension/runtime/provider.ts', 'extension/runtime/launcherAccess.ts', 'extension/cli.ts', 'extension/oauth/session.ts', 'extension/oauth/manager.ts']);
  const readers = extensionFiles.filter((f) => !f.startsWith('extension/store/') && /\.(getValue|getPreviousValue)\(/.test(readFileSync(join(root, f), 'utf8')));
  assert.deepEqual(readers.filter((f) => !allowed.has(f)), []);
});

test('no release command has an option that could skip its question', () => {
  for (const spec of Object.values(COMMANDS).filter((c) => c.class === 'release')) {
    const shape = (spec.args as unknown as z.ZodObject).shape as Record<string, z.ZodType>;
    for (const [field, schema] of Object.entries(shape)) {
      const accepts = (v: unknown) => schema.safeParse(v).success;
      assert.ok(!(accepts(true) || accepts(false)), `${spec.id} has a boolean option "${field}"`);
    }
  }
});

test('destroying and releasing commands are classed as such', () => {
  const cls = (id: string) => Object.values(COMMANDS).find((c) => c.id === id)?.class;
  for (const id of ['mcpTokens.copyToken', 'mcpTokens.exportTokens', 'mcpTokens.moveTokensToBackend', 'mcpTokens.resumeMigration', 'mcpTokens.signIn', 'mcpTokens.verifyToken', 'mcpTokens.verifyAllTokens']) assert.equal(cls(id), 'release', id);
  for (const id of ['mcpTokens.setToken', 'mcpTokens.deleteToken', 'mcpTokens.clearTokens', 'mcpTokens.rotateToken', 'mcpTokens.importTokens', 'mcpTokens.signOut', 'mcpTokens.deleteTokenPermanently'])
    assert.equal(cls(id), 'destroy', id);
});

test('an argument is parsed one way: nothing, a key string, a tree element, or a strict automation object', () => {
  const copy = COMMANDS.copyToken;
  assert.deepEqual(parseCommandInput(copy, undefined), { via: 'ui' });
  assert.deepEqual(parseCommandInput(copy, 'bearer:github'), { via: 'ui', key: { namespace: 'bearer', name: 'github' } });
  assert.deepEqual(parseCommandInput(copy, { namespace: 'bearer', name: 'github' }), { via: 'args', args: { namespace: 'bearer', name: 'github' } });
  const tree = parseCommandInput(copy, { treeElement: true, kind: 'token', namespace: 'bearer', name: 'github', meta: {} });
  assert.equal(tree.via, 'ui');
  assert.deepEqual(tree.via === 'ui' && tree.key, { namespace: 'bearer', name: 'github' });
  // Options a command does not have are errors, not ignored: `force` cannot skip a release.
  assert.throws(() => parseCommandInput(copy, { namespace: 'bearer', name: 'github', force: true, confirm: false, noUi: true }), ArgumentError);
  assert.throws(() => parseCommandInput(copy, 'no-colon'), /not a namespace:name key/);
  assert.throws(() => parseCommandInput(copy, [1, 2]), /expected an object/);
  assert.throws(() => parseCommandInput(COMMANDS.refresh, 'bearer:github'), /takes no string argument/);
  assert.throws(() => parseCommandInput(COMMANDS.exportTokens, { keys: ['a:b'], file: '/tmp/x', passphrase: 'long enough', skipConfirmation: true }), ArgumentError);
  assert.throws(() => parseCommandInput(COMMANDS.moveTokensToBackend, { to: 'vault', keys: ['a:b'], force: true }), ArgumentError);
  assert.throws(() => parseCommandInput(COMMANDS.signIn, { url: 'https://x.example/mcp', clientSecret: '$<TOKEN:bearer:github>', confirm: false }), ArgumentError);
});

test('a path argument a modal names holds no control or bidirectional-override characters', () => {
  for (const file of ['/tmp/x\u202egpj.mcptokens', '/tmp/a\nExport to /safe', '/tmp/\u2066x']) {
    assert.throws(() => parseCommandInput(COMMANDS.exportTokens, { keys: ['a:b'], file, passphrase: 'long enough' }), /control or bidirectional/);
  }
  assert.throws(() => parseCommandInput(COMMANDS.installLauncher, { directory: '/tmp/bin\u202e' }), /control or bidirectional/);
  assert.throws(() => parseCommandInput(COMMANDS.importFromEnv, { file: '/tmp/.env\r' }), /control or bidirectional/);
  assert.equal(parseCommandInput(COMMANDS.exportTokens, { keys: ['a:b'], file: '/tmp/ünïcode backup.mcptokens', passphrase: 'long enough' }).via, 'args');
});

test('the hover links run the interactive Rotate (a key string), never an automation call', () => {
  const hover = readFileSync(join(root, 'server', 'features', 'hover.ts'), 'utf8');
  const rotate = /commandUri\(EXTENSION_COMMANDS\.rotate, ([^)]*\))\)/.exec(hover);
  assert.ok(rotate, 'the hover has a Rotate link');
  assert.match(rotate[1], /^keyId\(/);
});

test('the README gives each command the class of the table', () => {
  const readme = readFileSync(join(root, 'README.md'), 'utf8');
  for (const spec of Object.values(COMMANDS)) {
    const row = new RegExp(`^\\| \`${spec.id.replace('.', '\\.')}\` \\| [^|]+ \\| (\\w+) \\|`, 'm').exec(readme);
    assert.ok(row, `${spec.id} has a row`);
    assert.equal(row[1], spec.class, spec.id);
  }
});

test('settings that decide where values go or how long they stay are user settings only (a workspace cannot set them)', () => {
  const props = manifest.contributes.configuration.properties as Record<string, { scope?: string; minimum?: number }>;
  const userOnly = Object.keys(props).filter(
    (k) => /^mcpTokens\.(backend|vault|keyring)\./.test(k) || ['mcpTokens.clipboardClearSeconds', 'mcpTokens.generatedTokenLength', 'mcpTokens.recentlyDeleted.days', 'mcpTokens.servers.mcpCliConfig', 'mcpTokens.oauth.clientMetadataUrl'].includes(k),
  );
  assert.ok(userOnly.length >= 20);
  assert.deepEqual(userOnly.filter((k) => props[k].scope !== 'application'), []);
  assert.equal(props['mcpTokens.recentlyDeleted.days'].minimum, 1);
});

test('commands never touch internal namespaces (refresh tokens, client registrations, Recently Deleted), whatever the argument form', () => {
  for (const ns of ['oauth-refresh', 'oauth-client', 'trash']) {
    assert.throws(() => parseCommandInput(COMMANDS.setToken, { namespace: ns, name: 'github', type: 'generic', value: 'x', overwrite: true }), /internal namespace/, ns);
    assert.throws(() => parseCommandInput(COMMANDS.deleteToken, { namespace: ns, name: 'github', force: true }), /internal namespace/, ns);
    assert.throws(() => parseCommandInput(COMMANDS.deleteToken, `${ns}:github`), /internal namespace/, ns);
    assert.throws(() => parseCommandInput(COMMANDS.rotateToken, { treeElement: true, kind: 'token', namespace: ns, name: 'github' }), /internal namespace/, ns);
    assert.throws(() => parseCommandInput(COMMANDS.generateToken, { namespace: ns, name: 'x', overwrite: true }), /internal namespace/, ns);
  }
  assert.equal(parseCommandInput(COMMANDS.deleteToken, 'oauth:github').via, 'ui');
});

test('setToken takes mcp-cli\'s metadata (provider, description, expires) and nothing that skips a check', () => {
  const base = { namespace: 'api-key', name: 'openai', type: 'api-key', value: 'v' };
  const ok = parseCommandInput(COMMANDS.setToken, { ...base, provider: 'openai', description: 'CI key', expires: '30d' });
  assert.equal(ok.via, 'args');
  assert.deepEqual(ok.via === 'args' && (ok.args as Record<string, unknown>).expires, '30d');
  assert.ok(parseCommandInput(COMMANDS.setToken, { ...base, expires: '2026-12-31' }));
  assert.throws(() => parseCommandInput(COMMANDS.setToken, { ...base, expires: 'soon' }), /expires: expected a date/);
  for (const skip of ['skipFormatCheck', 'force', 'allowExpired', 'jwt']) {
    assert.throws(() => parseCommandInput(COMMANDS.setToken, { ...base, [skip]: true }), /Unrecognized key/, skip);
  }
});
