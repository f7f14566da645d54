/**
 * Backends in a real VS Code (code-server + Chromium) with the built .vsix: Vault against the fake
 * Vault of test/fixtures/vault/server.ts on 127.0.0.1 (no real Vault server runs in the tests), the
 * Backends view, Check Backends, Set Vault Token, Move Tokens to Backend, and the encrypted
 * Export/Import round trip (including a wrong passphrase that imports nothing). At the end no value,
 * Vault token or passphrase may be found in plaintext in any file of the run.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { FakeVault } from '../fixtures/vault/server';
import { launch, testSecret, type VSCode } from './harness';

interface Health {
  backend: string;
  available: boolean;
  active: boolean;
  healthy: boolean;
  cause?: string;
  fix?: string;
}
interface Meta {
  namespace: string;
  name: string;
  backend: string;
  hasPrevious?: boolean;
}

const secrets: string[] = [];
const secret = (label: string) => {
  const v = testSecret(label);
  secrets.push(v);
  return v;
};
const VAULT_TOKEN = secret('vault-token');
const PASSPHRASE = secret('export-passphrase');
const SHARED = secret('shared');
const LOCAL = secret('local');
const LOCAL_OLD = secret('local-old');
const BACKEND_COMMANDS = [
  'mcpTokens.checkBackends', 'mcpTokens.moveTokensToBackend', 'mcpTokens.resumeMigration', 'mcpTokens.exportTokens',
  'mcpTokens.importTokens', 'mcpTokens.setVaultToken', 'mcpTokens.vaultLogin', 'mcpTokens.refreshBackends',
];

let vs: VSCode;
let vault: FakeVault;
const started = Date.now();

const health = async () => vs.runCommand<Health[]>('mcpTokens.checkBackends', { quiet: true });
const tokens = async () => vs.runCommand<Meta[]>('mcpTokens.listTokens', { noUi: true });
const latest = (path: string) => vault.versions('secret', path).at(-1)?.value;

async function waitUntil(what: string, probe: () => Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > until) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

before(async () => {
  vault = new FakeVault();
  await vault.start();
  vault.addToken(VAULT_TOKEN, { paths: { '*': ['create', 'read', 'update', 'delete', 'list'] }, ttl: 3600 });
  vs = await launch({
    name: 'backends',
    settings: { 'mcpTokens.vault.address': vault.url, 'mcpTokens.backend.namespaces': { team: 'vault' } },
  });
  console.log(`[backends] timings: ${JSON.stringify(vs.timings)}`);
});

after(async () => {
  if (vs) {
    await vs.dispose();
    await vs.assertNoPlaintext(secrets);
  }
  await vault?.stop();
  console.log(`[backends] wall time: ${((Date.now() - started) / 1000).toFixed(1)} s`);
});

describe('backends in code-server', () => {
  test('every backend command is registered', async () => {
    const registered = new Set(await vs.driver.commands('mcpTokens.'));
    assert.deepEqual(BACKEND_COMMANDS.filter((id) => !registered.has(id)), []);
  });

  test('Check Backends: Vault without a token says so with the fix; every unhealthy backend has a cause and a fix', async () => {
    const h = await health();
    assert.deepEqual(h.map((x) => x.backend).sort(), ['keyring', 'secretStorage', 'vault']);
    const v = h.find((x) => x.backend === 'vault')!;
    assert.equal(v.healthy, false);
    assert.equal(v.active, true, 'namespace team is stored in Vault');
    assert.match(v.cause ?? '', /No Vault token is set/);
    assert.match(v.fix ?? '', /Set Vault Token/);
    for (const x of h.filter((x) => !x.healthy)) assert.ok(x.cause && x.fix, `${x.backend} has a cause and a fix`);
  });

  test('Set Vault Token keeps the token in SecretStorage and Vault becomes healthy', async () => {
    // A credential given by argument replaces the stored one for good: always asked.
    const h = await vs.dialogs.answer(vs.runCommand<Health>('mcpTokens.setVaultToken', { token: VAULT_TOKEN }), /Replace the stored Vault token\?/, 'Replace');
    assert.equal(h.healthy, true, h.cause);
    assert.ok(vault.requests.some((r) => r.path === '/v1/auth/token/lookup-self' && r.hadToken));
  });

  test('a token of namespace team goes to Vault (KV v2); the Backends view shows Vault healthy and in use', async () => {
    const meta = await vs.runCommand<Meta>('mcpTokens.setToken', { namespace: 'team', name: 'shared', type: 'bearer', value: SHARED });
    assert.equal(meta.backend, 'vault');
    assert.equal(latest('mcp-tokens/team/shared'), SHARED);
    await vs.openActivity('MCP Tokens');
    await vs.runCommand('mcpTokens.backends.focus');
    await waitUntil('the Backends view rows', async () => (await vs.sideBarRows('Backends')).some((r) => r.label === 'HashiCorp Vault' && /healthy, in use/.test(r.description)));
    const rows = await vs.sideBarRows('Backends');
    assert.ok(rows.some((r) => r.label === 'VS Code SecretStorage'));
    assert.ok(rows.some((r) => r.label === 'OS keyring'));
    await vs.screenshot('backends-view');
  });

  test('a teammate\'s token in the shared Vault path appears after Refresh', async () => {
    vault.put('secret', 'mcp-tokens/team/teammate', { value: secret('teammate'), type: 'api-key', provider: 'openai' });
    await vs.runCommand('mcpTokens.refresh');
    const t = (await tokens()).find((x) => x.name === 'teammate');
    assert.equal(t?.backend, 'vault');
  });

  test('Move Tokens to Backend moves a SecretStorage token (and its previous value) into Vault', async () => {
    await vs.runCommand('mcpTokens.setToken', { namespace: 'bearer', name: 'local', type: 'bearer', value: LOCAL_OLD });
    await vs.runCommand('mcpTokens.rotateToken', { namespace: 'bearer', name: 'local', value: LOCAL });
    const move = vs.runCommand<{ moved: unknown[]; failed: unknown[]; resumable: boolean }>('mcpTokens.moveTokensToBackend', { to: 'vault', keys: ['bearer:local'] });
    // The gate names the destination's address.
    const r = await vs.dialogs.answer(move, new RegExp(`Move the values of 1 token \\(bearer:local\\) to HashiCorp Vault at ${vault.url.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`), 'Move');
    assert.equal(r.moved.length, 1);
    assert.equal(r.resumable, false);
    assert.deepEqual(vault.versions('secret', 'mcp-tokens/bearer/local').map((v) => v?.value), [LOCAL_OLD, LOCAL]);
    assert.equal((await tokens()).find((t) => t.name === 'local')?.backend, 'vault');
  });

  test('Export Tokens writes an encrypted file; a wrong passphrase imports nothing; Import restores deleted tokens', async () => {
    const file = join(vs.dirs.root, 'backup.mcptokens');
    const exporting = vs.runCommand<{ file: string; count: number }>('mcpTokens.exportTokens', { keys: ['team:shared', 'bearer:local'], file, passphrase: PASSPHRASE });
    const out = await vs.dialogs.answer(exporting, /Export the values of 2 tokens \(team:shared, bearer:local\) to the file .*backup\.mcptokens\?/, 'Export');
    assert.equal(out.count, 2);
    assert.ok(existsSync(file));
    const text = readFileSync(file, 'utf8');
    assert.ok(!text.includes(SHARED) && !text.includes(LOCAL));
    assert.equal(JSON.parse(text).kdf.N, 131072);

    await vs.runCommand('mcpTokens.deleteToken', { namespace: 'team', name: 'shared', force: true });
    await vs.runCommand('mcpTokens.deleteToken', { namespace: 'bearer', name: 'local', force: true });
    const before = (await tokens()).length;
    await assert.rejects(vs.runCommand('mcpTokens.importTokens', { file, passphrase: 'definitely wrong' }), /passphrase is wrong, or the export file was changed/);
    assert.equal((await tokens()).length, before, 'nothing was imported');

    const r = await vs.runCommand<{ imported: string[] }>('mcpTokens.importTokens', { file, passphrase: PASSPHRASE, backend: 'vault', existing: 'skip' });
    assert.deepEqual(r.imported.sort(), ['bearer:local', 'team:shared']);
    const list = await tokens();
    assert.equal(list.find((t) => t.name === 'shared')?.backend, 'vault');
    const local = list.find((t) => t.name === 'local');
    assert.equal(local?.backend, 'vault');
    assert.equal(local?.hasPrevious, true);
    assert.equal(latest('mcp-tokens/team/shared'), SHARED);
    assert.deepEqual(vault.versions('secret', 'mcp-tokens/bearer/local').map((v) => v?.value), [LOCAL_OLD, LOCAL]);
  });

  test('Vault sealed: Check Backends and the view report it', async () => {
    vault.sealed = true;
    try {
      const v = (await health()).find((x) => x.backend === 'vault')!;
      assert.equal(v.healthy, false);
      assert.match(v.cause ?? '', /sealed/);
      await vs.runCommand('mcpTokens.refreshBackends');
      await vs.runCommand('mcpTokens.backends.focus');
      await waitUntil('Vault unhealthy in the view', async () => (await vs.sideBarRows('Backends')).some((r) => r.label === 'HashiCorp Vault' && /^unhealthy, in use$/.test(r.description))).catch(async (e) => {
        await vs.screenshot('backends-view-sealed-failure');
        throw new Error(`${e instanceof Error ? e.message : e}: rows ${JSON.stringify(await vs.sideBarRows('Backends'))}`);
      });
      await vs.screenshot('backends-view-sealed');
    } finally {
      vault.sealed = false;
    }
  });

  test('the log names backends and causes but never a value', async () => {
    const log = vs.readLog();
    assert.match(log, /HashiCorp Vault/);
    for (const s of secrets) assert.ok(!log.includes(s), 'no secret in the log');
  });
});
