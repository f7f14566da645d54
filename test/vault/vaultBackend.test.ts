/**
 * The Vault backend against test/fixtures/vault/server.ts, a fake Vault speaking Vault's documented
 * KV v2 HTTP API on 127.0.0.1. No real Vault server runs in these tests.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { after, afterEach, before, describe, it } from 'node:test';
import { BackendError } from '../../extension/store/backend';
import { startMigration, resumeMigration, type MigrationJournal, type MigrationState } from '../../extension/backends/migration';
import { TokenStore } from '../../extension/store/tokenStore';
import { DEFAULT_VAULT_SETTINGS, VaultBackend, type VaultSettings } from '../../extension/backends/vault';
import { FakeVault, ROOT_TOKEN } from '../fixtures/vault/server';
import { MemoryBackend, MemoryIndex } from '../unit/support/memoryBackend';

const SECRET = 'hvs-VALUE-never-logged-123';
let vault: FakeVault;
const backends: VaultBackend[] = [];
const tmp = mkdtempSync(join(tmpdir(), 'mcp-vault-test-'));

function make(settings: Partial<VaultSettings> = {}, creds: { token?: string; secretId?: string } = { token: ROOT_TOKEN }, env: NodeJS.ProcessEnv = {}) {
  const logs: string[] = [];
  const backend = new VaultBackend({
    settings: () => ({ ...DEFAULT_VAULT_SETTINGS, address: vault.url, timeoutMs: 2000, ...settings }),
    credentials: { getToken: async () => creds.token, getSecretId: async () => creds.secretId },
    env,
    isActive: () => true,
    log: (_l, m) => logs.push(m),
    retryDelayMs: 20,
    renewFraction: 0.5,
  });
  backends.push(backend);
  const local = new MemoryBackend('secretStorage');
  const index = new MemoryIndex();
  const store = new TokenStore({ backends: [local, backend], index, backendFor: (ns) => (ns === 'team' ? 'vault' : 'secretStorage'), log: (_l, m) => logs.push(m) });
  return { backend, store, index, local, logs };
}

/** The index and the values agree for `names` (namespace `team` unless given): indexed ⇔ a value exists. */
async function assertConsistent(store: TokenStore, backend: VaultBackend, names: string[]) {
  vault.sealed = false;
  vault.delayMs = 0;
  vault.failNext(200, 0);
  for (const id of names) {
    const [namespace, name] = id.includes(':') ? id.split(':') : ['team', id];
    const key = { namespace, name };
    const value = await backend.read(key);
    assert.equal(store.has(key) && store.get(key)?.backend === 'vault', value !== undefined, `${namespace}:${name}: index and value agree`);
  }
}

describe('Vault backend (fake Vault, KV v2)', () => {
  before(async () => {
    vault = new FakeVault({ mounts: ['secret', 'kv'] });
    await vault.start();
  });
  after(async () => {
    for (const b of backends) b.dispose();
    await vault.stop();
    rmSync(tmp, { recursive: true, force: true });
  });
  afterEach(() => {
    vault.sealed = false;
    vault.delayMs = 0;
    vault.failNext(200, 0);
  });

  it('stores a value in KV v2 with X-Vault-Token, and reads it back', async () => {
    const { store } = make();
    await store.ready();
    await store.set({ namespace: 'team', name: 'github', type: 'bearer', value: SECRET, provider: 'github', description: 'shared' });
    assert.equal(await store.getValue({ namespace: 'team', name: 'github' }), SECRET);
    assert.deepEqual(vault.versions('secret', 'mcp-tokens/team/github'), [{ value: SECRET, type: 'bearer', provider: 'github', description: 'shared' }]);
    const writes = vault.requests.filter((r) => r.path === '/v1/secret/data/mcp-tokens/team/github');
    assert.ok(writes.length >= 2 && writes.every((r) => r.hadToken));
  });

  it('rotation writes a new version; restore previous reads version n-1', async () => {
    const { store } = make();
    await store.ready();
    const key = { namespace: 'team', name: 'rotating' };
    await store.set({ ...key, type: 'api-key', value: 'v1-value' });
    await store.rotate(key, 'v2-value');
    assert.equal(vault.versions('secret', 'mcp-tokens/team/rotating').length, 2);
    assert.equal(await store.getValue(key), 'v2-value');
    assert.equal(await store.getPreviousValue(key), 'v1-value');
    await store.restorePrevious(key);
    assert.equal(await store.getValue(key), 'v1-value');
    assert.equal(await store.getPreviousValue(key), 'v2-value');
    assert.deepEqual(
      vault.versions('secret', 'mcp-tokens/team/rotating').map((v) => v?.value),
      ['v1-value', 'v2-value', 'v1-value'],
    );
    assert.ok(vault.requests.some((r) => r.path === '/v1/secret/metadata/mcp-tokens/team/rotating' && r.method === 'GET'));
  });

  it('overwriting with Set Token keeps the old value as version n-1, and it can be restored', async () => {
    const { store } = make();
    await store.ready();
    const key = { namespace: 'team', name: 'overwritten' };
    const first = await store.set({ ...key, type: 'api-key', value: 'first-value' });
    assert.equal(first.hasPrevious, undefined, 'a new token has no previous value');
    const second = await store.set({ ...key, type: 'api-key', value: 'second-value' });
    assert.equal(second.hasPrevious, true);
    assert.equal(await store.getPreviousValue(key), 'first-value');
    await store.restorePrevious(key);
    assert.equal(await store.getValue(key), 'first-value');
  });

  it('lists with LIST and shows a teammate\'s token after a refresh', async () => {
    const { store } = make();
    await store.ready();
    vault.put('secret', 'mcp-tokens/team/from-teammate', { value: 'teammate-value', type: 'api-key', provider: 'openai' });
    await store.refresh();
    const t = store.get({ namespace: 'team', name: 'from-teammate' });
    assert.equal(t?.backend, 'vault');
    assert.equal(t?.type, 'api-key');
    assert.equal(t?.provider, 'openai');
    assert.equal(await store.getValue({ namespace: 'team', name: 'from-teammate' }), 'teammate-value');
    assert.ok(vault.requests.some((r) => r.method === 'LIST' && r.path === '/v1/secret/metadata/mcp-tokens'));
    assert.ok(vault.requests.some((r) => r.method === 'LIST' && r.path === '/v1/secret/metadata/mcp-tokens/team'));
  });

  it('deletes all versions through the metadata path', async () => {
    const { store } = make();
    await store.ready();
    const key = { namespace: 'team', name: 'gone' };
    await store.set({ ...key, type: 'bearer', value: 'x-value' });
    await store.delete(key);
    assert.deepEqual(vault.versions('secret', 'mcp-tokens/team/gone'), []);
    assert.ok(vault.requests.some((r) => r.method === 'DELETE' && r.path === '/v1/secret/metadata/mcp-tokens/team/gone'));
  });

  it('sends X-Vault-Namespace and keeps namespaces apart', async () => {
    vault.addToken('ns-token', { paths: { '*': ['create', 'read', 'update', 'delete', 'list'] }, namespace: 'eng' });
    const { store } = make({ namespace: 'eng' }, { token: 'ns-token' });
    await store.ready();
    await store.set({ namespace: 'team', name: 'nsd', type: 'bearer', value: 'ns-value' });
    assert.deepEqual(vault.versions('secret', 'mcp-tokens/team/nsd', 'eng'), [{ value: 'ns-value', type: 'bearer' }]);
    assert.deepEqual(vault.versions('secret', 'mcp-tokens/team/nsd'), []);
    assert.ok(vault.requests.filter((r) => r.path.includes('/nsd')).every((r) => r.namespace === 'eng'));
  });

  it('honours VAULT_ADDR, VAULT_TOKEN and VAULT_NAMESPACE', async () => {
    vault.addToken('env-token', { paths: { '*': ['create', 'read', 'update', 'delete', 'list'] }, namespace: 'envns' });
    const { backend } = make({ address: '' }, {}, { VAULT_ADDR: vault.url, VAULT_TOKEN: 'env-token', VAULT_NAMESPACE: 'envns' });
    const meta = { namespace: 'team', name: 'env', type: 'bearer' as const, createdAt: new Date().toISOString(), updatedAt: new Date().toISOString(), backend: 'vault' as const };
    await backend.write(meta, 'env-value', meta);
    assert.equal(await backend.read(meta), 'env-value');
    assert.equal(vault.versions('secret', 'mcp-tokens/team/env', 'envns').length, 1);
    const h = await backend.health();
    assert.equal(h.healthy, true, h.cause);
    assert.match(h.detail ?? '', /token from env/);
  });

  it('offers mcp-cli\'s layout: mcp-cli/oauth/<namespace>:<name>, field value = StoredToken JSON', async () => {
    const { store, backend } = make({ layout: 'mcpCli' });
    await store.ready();
    await store.set({ namespace: 'team', name: 'cli', type: 'bearer', value: 'cli-value' });
    const [v] = vault.versions('secret', 'mcp-cli/oauth/team:cli');
    assert.deepEqual(JSON.parse(String(v?.value)), { token_type: 'bearer', name: 'cli', data: { token: 'cli-value' }, metadata: { namespace: 'team' } });
    // A token mcp-cli wrote (its TokenManager with the Vault backend) resolves too.
    vault.put('secret', 'mcp-cli/oauth/team:from-cli', {
      value: JSON.stringify({ token_type: 'api_key', name: 'from-cli', data: { provider: 'anthropic', key: 'sk-from-cli' }, metadata: { namespace: 'team' } }),
    });
    await store.refresh();
    const t = store.get({ namespace: 'team', name: 'from-cli' });
    assert.equal(t?.type, 'api-key');
    assert.equal(t?.provider, 'anthropic');
    assert.equal(await store.getValue({ namespace: 'team', name: 'from-cli' }), 'sk-from-cli');
    assert.equal(backend.secretPath({ namespace: 'team', name: 'x.y' }), 'mcp-cli/oauth/team:x_y');
  });

  it('403 permission denied: a clear error naming Vault, nothing written, index and values agree', async () => {
    vault.addToken('read-only', { paths: { 'secret/data/*': ['read'], 'secret/metadata/*': ['read', 'list'] } });
    const { store, backend } = make({}, { token: 'read-only' });
    await store.ready();
    const err = await store.set({ namespace: 'team', name: 'denied', type: 'bearer', value: SECRET }).then(
      () => undefined,
      (e: unknown) => e,
    );
    assert.ok(err instanceof BackendError);
    assert.equal(err.backend, 'vault');
    assert.match(err.message, /HashiCorp Vault could not write: Vault answered 403 permission denied/);
    assert.ok(!err.message.includes(SECRET));
    assert.equal(store.has({ namespace: 'team', name: 'denied' }), false);
    await assertConsistent(store, backend, ['denied']);
  });

  it('health: healthy, 403 on the path, missing mount, sealed, unreachable, no token', async () => {
    const ok = await make().backend.health();
    assert.equal(ok.healthy, true, ok.cause);
    assert.equal(ok.available, true);

    vault.addToken('no-list', { paths: { 'secret/data/*': ['read'] } });
    const denied = await make({}, { token: 'no-list' }).backend.health();
    assert.equal(denied.healthy, false);
    assert.match(denied.cause ?? '', /403 permission denied/);
    assert.match(denied.fix ?? '', /policy/);

    const noMount = await make({ mount: 'nosuchmount' }).backend.health();
    assert.equal(noMount.healthy, false);
    assert.match(noMount.cause ?? '', /mount .*does not exist/);

    vault.sealed = true;
    const sealed = await make().backend.health();
    assert.equal(sealed.healthy, false);
    assert.match(sealed.cause ?? '', /sealed/);
    vault.sealed = false;

    const down = await make({ address: 'http://127.0.0.1:1' }).backend.health();
    assert.equal(down.healthy, false);
    assert.match(down.cause ?? '', /unreachable/);
    assert.match(down.fix ?? '', /vault\.address/);

    const noToken = await make({}, {}).backend.health();
    assert.equal(noToken.healthy, false);
    assert.match(noToken.cause ?? '', /No Vault token/);
    assert.match(noToken.fix ?? '', /Set Vault Token/);

    const unset = await make({ address: '' }).backend.health();
    assert.equal(unset.available, false);
    assert.match(unset.cause ?? '', /not configured/);
  });

  it('sealed Vault: writes fail with "sealed", the index is unchanged', async () => {
    const { store, backend } = make();
    await store.ready();
    await store.set({ namespace: 'team', name: 'before-seal', type: 'bearer', value: 'a-value' });
    vault.sealed = true;
    await assert.rejects(store.rotate({ namespace: 'team', name: 'before-seal' }, 'b-value'), /Vault is sealed/);
    await assert.rejects(store.set({ namespace: 'team', name: 'while-sealed', type: 'bearer', value: 'c-value' }), /sealed/);
    assert.equal(store.has({ namespace: 'team', name: 'while-sealed' }), false);
    await assertConsistent(store, backend, ['before-seal', 'while-sealed']);
    assert.equal(await store.getValue({ namespace: 'team', name: 'before-seal' }), 'a-value');
  });

  it('500: reads are retried with backoff; a persistent 500 is reported', async () => {
    const { store, backend, logs } = make();
    await store.ready();
    await store.set({ namespace: 'team', name: 'flaky', type: 'bearer', value: 'flaky-value' });
    vault.failNext(500, 2);
    assert.equal(await store.getValue({ namespace: 'team', name: 'flaky' }), 'flaky-value');
    assert.equal(logs.filter((l) => l.includes('retrying')).length, 2);
    vault.failNext(500, 10);
    await assert.rejects(store.getValue({ namespace: 'team', name: 'flaky' }), /Vault failed with 500/);
    vault.failNext(500, 1);
    await assert.rejects(store.set({ namespace: 'team', name: 'flaky2', type: 'bearer', value: 'x-value' }), /500/);
    await assertConsistent(store, backend, ['flaky', 'flaky2']);
  });

  it('slow Vault: a request over the time limit fails with a timeout, index unchanged', async () => {
    const { store, backend } = make({ timeoutMs: 150 });
    await store.ready();
    await store.set({ namespace: 'team', name: 'slowpoke', type: 'bearer', value: 'slow-value' });
    vault.delayMs = 400;
    const started = Date.now();
    await assert.rejects(store.getValue({ namespace: 'team', name: 'slowpoke' }), /did not answer in time/);
    assert.ok(Date.now() - started < 3000);
    await assert.rejects(store.set({ namespace: 'team', name: 'slow-new', type: 'bearer', value: 'x-value' }), /did not answer in time/);
    vault.delayMs = 0;
    await new Promise((r) => setTimeout(r, 500)); // let the late writes land, as a slow Vault would
    assert.equal(store.has({ namespace: 'team', name: 'slow-new' }), false);
    // A late write may have landed; the store did not index it, and a refresh adopts it (value and index agree again).
    await store.refresh();
    await assertConsistent(store, backend, ['slowpoke', 'slow-new']);
  });

  it('Vault down: reads and writes fail with "unreachable" and nothing is indexed', async () => {
    const { store } = make({ address: 'http://127.0.0.1:1' });
    await store.ready();
    await assert.rejects(store.set({ namespace: 'team', name: 'down', type: 'bearer', value: SECRET }), (e: Error) => {
      assert.match(e.message, /Vault is unreachable/);
      assert.ok(!e.message.includes(SECRET));
      return true;
    });
    assert.equal(store.list().length, 0);
  });

  it('AppRole login with the secret_id from SecretStorage, then renewal before the TTL ends', async () => {
    vault.addAppRole('role-1', { secretId: 'secret-id-1', token: { ttl: 2, paths: { '*': ['create', 'read', 'update', 'delete', 'list'] } } });
    const { store, backend, logs } = make({ authMethod: 'approle', appRoleId: 'role-1' }, { secretId: 'secret-id-1' });
    await store.ready();
    await store.set({ namespace: 'team', name: 'approled', type: 'bearer', value: 'ar-value' });
    assert.ok(vault.requests.some((r) => r.path === '/v1/auth/approle/login' && r.method === 'POST'));
    await new Promise((r) => setTimeout(r, 2600));
    assert.ok(vault.requests.some((r) => r.path === '/v1/auth/token/renew-self'), 'renewed');
    assert.ok(logs.some((l) => /token renewed/.test(l)));
    // Past the original 2 s TTL, the renewed token still works.
    assert.equal(await store.getValue({ namespace: 'team', name: 'approled' }), 'ar-value');
    const h = await backend.health();
    assert.equal(h.healthy, true, h.cause);
    assert.match(h.detail ?? '', /approle/);

    const bad = await make({ authMethod: 'approle', appRoleId: 'role-1' }, { secretId: 'wrong' }).backend.health();
    assert.equal(bad.healthy, false);
    assert.match(bad.cause ?? '', /400: invalid role or secret ID/);
  });

  it('renews a token with a TTL from lookup-self', async () => {
    vault.addToken('short-lived', { ttl: 2, paths: { '*': ['create', 'read', 'update', 'delete', 'list'] } });
    const { backend } = make({}, { token: 'short-lived' });
    const before = vault.requests.filter((r) => r.path === '/v1/auth/token/renew-self').length;
    assert.equal((await backend.health()).healthy, true);
    await new Promise((r) => setTimeout(r, 1500));
    assert.ok(vault.requests.filter((r) => r.path === '/v1/auth/token/renew-self').length > before);
  });

  it('moves tokens from SecretStorage into Vault with their previous value, resumable after a failure', async () => {
    const { store, local, backend } = make();
    await store.ready();
    await store.set({ namespace: 'api-key', name: 'm1', type: 'api-key', value: 'm1-old' });
    await store.rotate({ namespace: 'api-key', name: 'm1' }, 'm1-new');
    await store.set({ namespace: 'api-key', name: 'm2', type: 'api-key', value: 'm2-value' });
    let saved: MigrationState | undefined;
    const journal: MigrationJournal = { load: async () => saved, save: async (s) => void (saved = s ? structuredClone(s) : undefined) };
    vault.sealed = true;
    const r1 = await startMigration(store, journal, store.list(), 'vault');
    assert.equal(r1.moved.length, 0);
    assert.equal(r1.failed.length, 2);
    assert.match(r1.failed[0].reason, /sealed/);
    assert.ok(r1.resumable && saved);
    assert.equal(await store.getValue({ namespace: 'api-key', name: 'm1' }), 'm1-new');
    vault.sealed = false;
    const r2 = await resumeMigration(store, journal);
    assert.equal(r2?.moved.length, 2);
    assert.equal(saved, undefined);
    assert.equal(local.values.size, 0);
    assert.deepEqual(vault.versions('secret', 'mcp-tokens/api-key/m1').map((v) => v?.value), ['m1-old', 'm1-new']);
    assert.equal(await store.getValue({ namespace: 'api-key', name: 'm1' }), 'm1-new');
    assert.equal(await store.getPreviousValue({ namespace: 'api-key', name: 'm1' }), 'm1-old');
    assert.equal(store.get({ namespace: 'api-key', name: 'm2' })?.backend, 'vault');
    await assertConsistent(store, backend, ['api-key:m1', 'api-key:m2']);
  });

  it('reports an unreadable CA file clearly; TLS verification stays on unless set', async () => {
    const { backend } = make({ caFile: join(tmp, 'missing-ca.pem') });
    const h = await backend.health();
    assert.equal(h.healthy, false);
    assert.match(h.cause ?? '', /CA file .* cannot be read \(ENOENT\)/);
    writeFileSync(join(tmp, 'ca.pem'), '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n');
    // An http:// address does not use the CA; the file is still read and accepted.
    const withCa = await make({ caFile: join(tmp, 'ca.pem') }).backend.health();
    assert.equal(withCa.healthy, true, withCa.cause);
  });

  it('TLS: an unknown CA is refused with the fix; caFile trusts it; verification is off only when set', async (t) => {
    // A throw-away CA and server certificate for 127.0.0.1, made with the system's openssl
    // (installed by test/e2e/setup.sh).
    try {
      execFileSync('openssl', ['version'], { stdio: 'ignore' });
    } catch {
      t.skip('openssl is not installed (run test/e2e/setup.sh)');
      return;
    }
    const dir = mkdtempSync(join(tmp, 'tls-'));
    const sh = (args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'ignore' });
    sh(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '2', '-subj', '/CN=Test Vault CA']);
    sh(['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=127.0.0.1']);
    writeFileSync(join(dir, 'ext.cnf'), 'subjectAltName=IP:127.0.0.1\n');
    sh(['x509', '-req', '-in', 'server.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'server.pem', '-days', '2', '-extfile', 'ext.cnf']);
    const secure = new FakeVault();
    const { readFileSync } = await import('node:fs');
    const url = await secure.start({ tls: { key: readFileSync(join(dir, 'server.key')), cert: readFileSync(join(dir, 'server.pem')) } });
    t.after(() => secure.stop());
    const healthOf = (s: Partial<VaultSettings>) => make({ address: url, ...s }).backend.health();
    const untrusted = await healthOf({});
    assert.equal(untrusted.healthy, false);
    assert.match(untrusted.cause ?? '', /TLS certificate could not be verified/);
    assert.match(untrusted.fix ?? '', /vault\.caFile/);
    const trusted = await healthOf({ caFile: join(dir, 'ca.pem') });
    assert.equal(trusted.healthy, true, trusted.cause);
    const skipped = await healthOf({ tlsSkipVerify: true });
    assert.equal(skipped.healthy, true, skipped.cause);
    assert.ok(secure.requests.some((r) => r.method === 'LIST'), 'LIST works through the TLS front end');
  });
});
