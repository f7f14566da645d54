/**
 * The trash in Vault (test/fixtures/vault/server.ts, a fake KV v2 API): a deleted value is copied
 * under the internal `trash` namespace of the same mount, and restored from there. The version
 * history is the secret's own KV v2 versions (no copies): restores read them with `?version=`,
 * pruning destroys them, and the History lists exactly what Vault holds.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { TokenStore } from '../../extension/store/tokenStore';
import { DEFAULT_VAULT_SETTINGS, VaultBackend, type VaultBackendOptions, type VaultSettings } from '../../extension/backends/vault';
import { FakeVault, ROOT_TOKEN } from '../fixtures/vault/server';
import { MemoryBackend, MemoryIndex } from '../unit/support/memoryBackend';

let vault: FakeVault;
const backends: VaultBackend[] = [];

function make(settings: Partial<VaultSettings> = {}, options: Partial<VaultBackendOptions> = {}) {
  const backend = new VaultBackend({
    settings: () => ({ ...DEFAULT_VAULT_SETTINGS, address: vault.url, timeoutMs: 2000, ...settings }),
    credentials: { getToken: async () => ROOT_TOKEN, getSecretId: async () => undefined },
    env: {},
    isActive: () => true,
    retryDelayMs: 20,
    ...options,
  });
  backends.push(backend);
  const index = new MemoryIndex();
  const store = new TokenStore({ backends: [new MemoryBackend('secretStorage'), backend], index, backendFor: () => 'vault' });
  return { backend, store, index };
}

let limits: { maxVersions?: number; maxAgeDays?: number } = {};

/** A store with a SecretStorage stand-in for `local` and Vault for the rest, with history limits. */
function makeHistory(options: Partial<VaultBackendOptions> = {}) {
  const { backend } = make({}, options);
  const local = new MemoryBackend('secretStorage');
  const store = new TokenStore({ backends: [local, backend], index: new MemoryIndex(), backendFor: (ns) => (ns === 'local' ? 'secretStorage' : 'vault'), historyLimits: () => limits });
  return { backend, store, local };
}

/** The KV versions Vault still holds (undestroyed), oldest first. */
async function kvVersions(backend: VaultBackend, key: { namespace: string; name: string }): Promise<number[]> {
  return (await backend.versions.list(key)).map((v) => v.version);
}

const trashPaths = (prefix: string) => vault.paths('secret').filter((p) => p.startsWith(prefix));

describe('Trash in Vault (fake Vault, KV v2)', () => {
  before(async () => {
    vault = new FakeVault({ mounts: ['secret'] });
    await vault.start();
  });
  after(async () => {
    for (const b of backends) b.dispose();
    await vault.stop();
  });

  it('delete then restore brings back the value and the previous value (mcpTokens layout)', async () => {
    const { store } = make();
    await store.ready();
    const key = { namespace: 'team', name: 'ci' };
    await store.set({ ...key, type: 'api-key', value: 'ci-v1', provider: 'openai' });
    const meta = await store.rotate(key, 'ci-v2');
    await store.delete(key);
    assert.deepEqual(vault.versions('secret', 'mcp-tokens/team/ci'), []);
    const [d] = store.listDeleted();
    assert.equal(d.backend, 'vault');
    const [path] = trashPaths('mcp-tokens/trash/');
    assert.ok(path, 'the kept copy is in the same mount, under the trash namespace');
    assert.deepEqual(vault.versions('secret', path).map((v) => v?.value), ['ci-v1', 'ci-v2']);
    await store.refresh();
    assert.equal(store.listAll().length, 0, 'a refresh does not adopt the trash as tokens');

    // (The refresh reloaded the index from JSON, which has no `undefined` members.) The KV versions
    // went with the removed secret, so the trash keeps the token without them (its previous value is
    // the kept copy's first version).
    const { history: _h, ...withoutHistory } = meta;
    assert.equal(meta.history?.[0].kv, 1, 'the rotation recorded KV version 1');
    assert.deepEqual(await store.restoreDeleted(d.id), JSON.parse(JSON.stringify(withoutHistory)));
    assert.equal(await store.getValue(key), 'ci-v2');
    assert.equal(await store.getPreviousValue(key), 'ci-v1');
    assert.deepEqual(trashPaths('mcp-tokens/trash/'), [], 'the kept copy is removed after the restore');
    assert.equal(store.listDeleted().length, 0);
  });

  it('an overwrite is kept as a KV version and restorable in mcp-cli\'s layout too; a deleted token is kept and restored', async () => {
    const { store } = make({ layout: 'mcpCli' });
    await store.ready();
    const key = { namespace: 'team', name: 'cli' };
    await store.set({ ...key, type: 'bearer', value: 'cli-v1' });
    await store.set({ ...key, type: 'bearer', value: 'cli-v2' });
    assert.equal(store.listDeleted().length, 0, 'an overwrite is history, not Recently Deleted');
    assert.deepEqual(store.listHistory(key).map((v) => v.kv), [1]);
    await store.restorePrevious(key);
    assert.equal(await store.getValue(key), 'cli-v1');
    await store.delete(key);
    const [d] = store.listDeleted();
    assert.equal(d.reason, 'delete');
    assert.equal(trashPaths('mcp-cli/oauth/trash:').length, 1);
    await store.set({ ...key, type: 'bearer', value: 'cli-v3' });
    await store.restoreDeleted(d.id);
    assert.equal(await store.getValue(key), 'cli-v1');
    const [r] = store.listDeleted();
    assert.equal(r.reason, 'restore');
    await store.purgeDeleted(r.id);
    assert.deepEqual(trashPaths('mcp-cli/oauth/trash:'), []);
  });

  // ---- version history: the secret's own KV v2 versions ---------------------------------------

  it('rotate 15 times: the History lists exactly the KV versions Vault holds; restoring the 3rd reads its version', async () => {
    limits = {};
    const { store, backend } = makeHistory();
    await store.ready();
    const key = { namespace: 'team', name: 'rot' };
    await store.set({ ...key, type: 'api-key', value: 'v-0' });
    for (let i = 1; i <= 15; i++) await store.rotate(key, `v-${i}`);
    const alive = await kvVersions(backend, key);
    const current = alive.at(-1)!;
    assert.equal(current, 16);
    const history = store.listHistory(key);
    // Vault keeps 10 versions (max_versions default): the current one and 9 earlier values.
    assert.deepEqual(history.map((v) => v.kv), alive.filter((n) => n !== current).reverse(), 'the KV versions match the History');
    assert.equal(history.length, 9);
    assert.equal(vault.paths('secret').filter((p) => p.includes('/history/')).length, 0, 'no copies: Vault keeps the versions');
    const third = history[2];
    assert.equal(third.kv, 13);
    await store.restoreVersion(key, third.id);
    assert.equal(await store.getValue(key), 'v-12');
    const after = store.listHistory(key);
    assert.equal(after[0].kv, 16, 'the replaced value (version 16) is the newest version');
    const alive2 = await kvVersions(backend, key);
    assert.deepEqual(after.map((v) => v.kv), alive2.filter((n) => n !== alive2.at(-1)).reverse(), 'still matching after the restore');
  });

  it("with the extension's keepVersions (History limit + 1), Vault keeps every version the History lists, also above its default of 10", async () => {
    for (const maxVersions of [10, 20]) {
      limits = { maxVersions };
      const { store, backend } = makeHistory({ keepVersions: () => maxVersions + 1 });
      await store.ready();
      const key = { namespace: 'team', name: `keep-${maxVersions}` };
      await store.set({ ...key, type: 'api-key', value: 'v-0' });
      for (let i = 1; i <= 25; i++) await store.rotate(key, `v-${i}`);
      const alive = await kvVersions(backend, key);
      const history = store.listHistory(key);
      assert.equal(history.length, maxVersions, `the History holds ${maxVersions} earlier values`);
      assert.deepEqual(history.map((v) => v.kv), alive.filter((n) => n !== alive.at(-1)).reverse(), 'and Vault holds exactly those');
      // The oldest listed version is readable (Vault did not destroy it under its default of 10).
      const oldest = history.at(-1)!;
      await store.restoreVersion(key, oldest.id);
      assert.equal(await store.getValue(key), `v-${25 - maxVersions}`);
      // max_versions is set once per secret and session, not at every write.
      const metadataWrites = vault.requests.filter((r) => r.method !== 'GET' && r.method !== 'DELETE' && r.method !== 'LIST' && r.path.includes('/secret/metadata/') && r.path.endsWith(`/team/keep-${maxVersions}`));
      assert.equal(metadataWrites.length, 1, JSON.stringify(metadataWrites.map((r) => r.method)));
    }
  });

  it('max_versions is only ever raised: a mount or a secret that keeps more is left as it is', async () => {
    limits = { maxVersions: 10 };
    vault.mountMaxVersions = 50;
    try {
      const { store, backend } = makeHistory({ keepVersions: () => 11 });
      await store.ready();
      const key = { namespace: 'team', name: 'mount-keeps-50' };
      await store.set({ ...key, type: 'api-key', value: 'm-0' });
      for (let i = 1; i <= 3; i++) await store.rotate(key, `m-${i}`);
      const posts = vault.requests.filter((r) => r.method === 'POST' && r.path.includes('/secret/metadata/') && r.path.endsWith('/team/mount-keeps-50'));
      assert.equal(posts.length, 0, 'the mount keeps 50: nothing lowered');
      assert.equal((await kvVersions(backend, key)).length, 4);
    } finally {
      vault.mountMaxVersions = 0;
    }
    // A secret another client set to keep 30 versions: not lowered to 11.
    const other = makeHistory({ keepVersions: () => 11 });
    await other.store.ready();
    const key = { namespace: 'team', name: 'own-30' };
    await other.store.set({ ...key, type: 'api-key', value: 'o-0' });
    const path = vault.paths('secret').find((p) => p.endsWith('team/own-30'))!;
    await fetch(`${vault.url}/v1/secret/metadata/${path}`, { method: 'POST', headers: { 'X-Vault-Token': ROOT_TOKEN }, body: JSON.stringify({ max_versions: 30 }) });
    const fresh = makeHistory({ keepVersions: () => 11 });
    await fresh.store.ready();
    const before = vault.requests.length;
    await fresh.store.rotate(key, 'o-1');
    const posts = vault.requests.slice(before).filter((r) => r.method === 'POST' && r.path.includes('/secret/metadata/'));
    assert.equal(posts.length, 0, 'the secret keeps 30: nothing lowered');
  });

  it('a policy without update on metadata: the value is stored, one warning names the path, Vault keeps its default', async () => {
    const token = 'hvs.no-metadata-update';
    vault.addToken(token, { paths: { 'secret/data/*': ['create', 'read', 'update', 'delete'], 'secret/metadata/*': ['read', 'list', 'delete'], 'secret/destroy/*': ['update'] } });
    const warnings: string[] = [];
    limits = { maxVersions: 20 };
    const { store, backend } = makeHistory({
      keepVersions: () => 21,
      credentials: { getToken: async () => token, getSecretId: async () => undefined },
      log: (level, m) => (level === 'warn' ? warnings.push(m) : undefined),
    });
    await store.ready();
    const key = { namespace: 'team', name: 'denied-meta' };
    await store.set({ ...key, type: 'api-key', value: 'w-0' });
    for (let i = 1; i <= 12; i++) await store.rotate(key, `w-${i}`);
    assert.equal(await store.getValue(key), 'w-12');
    assert.equal(warnings.length, 1, JSON.stringify(warnings));
    assert.match(warnings[0]!, /Could not set max_versions 21 on secret\/metadata\/\S*team\/denied-meta .*403/);
    assert.ok(!warnings[0]!.includes('w-'), 'no value in the warning');
    assert.equal((await kvVersions(backend, key)).length, 10, "Vault's default");
  });

  it('pruning destroys the KV versions it drops, so Vault and the History agree', async () => {
    const { store, backend } = makeHistory();
    await store.ready();
    const key = { namespace: 'team', name: 'prune' };
    limits = {};
    await store.set({ ...key, type: 'api-key', value: 'p-0' });
    for (let i = 1; i <= 5; i++) await store.rotate(key, `p-${i}`);
    assert.equal(store.listHistory(key).length, 5);
    limits = { maxVersions: 2 };
    assert.equal(await store.pruneHistory(), 3);
    assert.deepEqual(store.listHistory(key).map((v) => v.kv), [5, 4]);
    assert.deepEqual(await kvVersions(backend, key), [4, 5, 6], 'versions 1–3 are destroyed');
    assert.equal(await store.getPreviousValue(key), 'p-4');
    limits = {};
  });

  it('a token moved into Vault brings its history as KV versions', async () => {
    const { store, backend } = makeHistory();
    await store.ready();
    const key = { namespace: 'local', name: 'mv' };
    await store.set({ ...key, type: 'api-key', value: 'm-1' });
    await store.rotate(key, 'm-2');
    await store.rotate(key, 'm-3');
    await store.moveToBackend(key, 'vault');
    assert.deepEqual(await kvVersions(backend, key), [1, 2, 3]);
    assert.deepEqual(store.listHistory(key).map((v) => v.kv), [2, 1]);
    assert.equal(await store.getPreviousValue(key), 'm-2');
    await store.restoreVersion(key, store.listHistory(key)[1].id);
    assert.equal(await store.getValue(key), 'm-1');
  });
});
