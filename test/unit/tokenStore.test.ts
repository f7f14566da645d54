import assert from 'node:assert/strict';
import { beforeEach, describe, it } from 'node:test';
import { TokenStore, type TokenChange } from '../../extension/store/tokenStore';
import { MemoryBackend, MemoryIndex } from './support/memoryBackend';

const key = { namespace: 'bearer', name: 'github' };
let clock = new Date('2026-11-23T12:00:00Z');

function make(json?: string) {
  const backend = new MemoryBackend();
  const vault = new MemoryBackend('vault');
  const index = new MemoryIndex();
  index.legacy = json;
  const logs: string[] = [];
  const store = new TokenStore({
    backends: [backend, vault],
    index,
    backendFor: (ns) => (ns === 'team' ? 'vault' : 'secretStorage'),
    now: () => clock,
    log: (_l, m) => logs.push(m),
  });
  const changes: TokenChange[] = [];
  store.onDidChange((c) => changes.push(c));
  return { store, backend, vault, index, changes, logs };
}

describe('TokenStore', () => {
  beforeEach(() => {
    clock = new Date('2026-11-23T12:00:00Z');
  });

  it('sets a token: value in the backend, metadata (without value) in the index', async () => {
    const { store, backend, index, changes } = make();
    const meta = await store.set({ ...key, type: 'bearer', value: 'ghp_s3cret', provider: 'github' });
    assert.equal(meta.backend, 'secretStorage');
    assert.equal(await store.getValue(key), 'ghp_s3cret');
    assert.equal(backend.values.get('bearer:github'), 'ghp_s3cret');
    assert.ok(index.text() && !index.text().includes('ghp_s3cret'));
    assert.deepEqual(index.tokens().map((t: { name: string }) => t.name), ['github']);
    assert.deepEqual(changes.map((c) => [c.kind, c.valueChanged]), [['set', true]]);
  });

  it('routes namespaces to backends and keeps createdAt on overwrite', async () => {
    const { store, vault } = make();
    const first = await store.set({ namespace: 'team', name: 'ci', type: 'generic', value: 'v1' });
    clock = new Date('2026-11-24T12:00:00Z');
    const second = await store.set({ namespace: 'team', name: 'ci', type: 'generic', value: 'v2' });
    assert.equal(second.backend, 'vault');
    assert.equal(vault.values.get('team:ci'), 'v2');
    assert.equal(second.createdAt, first.createdAt);
    assert.notEqual(second.updatedAt, first.updatedAt);
  });

  it('rotates and restores the previous value', async () => {
    const { store } = make();
    await store.set({ ...key, type: 'bearer', value: 'old' });
    const rotated = await store.rotate(key, 'new');
    assert.equal(rotated.hasPrevious, true);
    assert.equal(await store.getValue(key), 'new');
    assert.equal(await store.getPreviousValue(key), 'old');
    await store.restorePrevious(key);
    assert.equal(await store.getValue(key), 'old');
    assert.equal(await store.getPreviousValue(key), 'new');
  });

  it('refuses to restore when there is no previous value', async () => {
    const { store } = make();
    await store.set({ ...key, type: 'bearer', value: 'v' });
    await assert.rejects(store.restorePrevious(key), /no previous value/);
  });

  it('deletes value, previous value and metadata (kept only in the trash)', async () => {
    const { store, backend } = make();
    await store.set({ ...key, type: 'bearer', value: 'a' });
    await store.rotate(key, 'b');
    await store.delete(key);
    assert.equal(store.has(key), false);
    assert.deepEqual([...backend.values.keys(), ...backend.previous.keys()].filter((k) => !k.startsWith('trash:') && !k.startsWith('history:')), []);
    await assert.rejects(store.delete(key), /No token bearer:github/);
    // Its history stays with it in Recently Deleted, and goes when the entry is purged.
    assert.equal([...backend.values.keys()].filter((k) => k.startsWith('history:')).length, 1);
    await store.purgeDeleted(store.listDeleted()[0].id);
    assert.deepEqual([...backend.values.keys()], []);
  });

  it('clears by namespace and expired only', async () => {
    const { store } = make();
    await store.set({ namespace: 'bearer', name: 'a', type: 'bearer', value: '1', expiresAt: '2026-11-01T00:00:00Z' });
    await store.set({ namespace: 'bearer', name: 'b', type: 'bearer', value: '2' });
    await store.set({ namespace: 'api-key', name: 'c', type: 'api-key', value: '3', expiresAt: '2026-11-02T00:00:00Z' });
    assert.deepEqual((await store.clear({ namespace: 'bearer', expiredOnly: true })).map((k) => k.name), ['a']);
    assert.deepEqual(store.list().map((t) => t.name), ['c', 'b']);
    assert.deepEqual((await store.clear({})).length, 2);
    assert.equal(store.list().length, 0);
  });

  it('renames a token with its previous value', async () => {
    const { store, backend } = make();
    await store.set({ ...key, type: 'bearer', value: 'a' });
    await store.rotate(key, 'b');
    const to = { namespace: 'bearer', name: 'gh' };
    await store.rename(key, to);
    assert.equal(store.has(key), false);
    assert.equal(await store.getValue(to), 'b');
    assert.equal(await store.getPreviousValue(to), 'a');
    assert.equal(backend.values.has('bearer:github'), false);
    await store.set({ namespace: 'bearer', name: 'x', type: 'bearer', value: 'x' });
    await assert.rejects(store.rename(to, { namespace: 'bearer', name: 'x' }), /already exists/);
  });

  it('loses nothing when the value write fails', async () => {
    const { store, backend } = make();
    await store.set({ ...key, type: 'bearer', value: 'keep' });
    backend.failNext.add('write');
    await assert.rejects(store.set({ ...key, type: 'bearer', value: 'lost' }), /injected write/);
    assert.equal(await store.getValue(key), 'keep');
    assert.equal(store.list().length, 1);
  });

  it('puts the value back when the index cannot be saved', async () => {
    const { store, index } = make();
    await store.set({ ...key, type: 'bearer', value: 'keep' });
    index.failNextSave = true;
    await assert.rejects(store.set({ ...key, type: 'bearer', value: 'new' }), /injected index/);
    assert.equal(await store.getValue(key), 'keep');
    index.failNextSave = true;
    await assert.rejects(store.set({ namespace: 'bearer', name: 'fresh', type: 'bearer', value: 'v' }), /injected index/);
    assert.equal(await store.getValue({ namespace: 'bearer', name: 'fresh' }), undefined);
    assert.equal(store.has({ namespace: 'bearer', name: 'fresh' }), false);
    index.failNextSave = true;
    await assert.rejects(store.rotate(key, 'rotated'), /injected index/);
    assert.equal(await store.getValue(key), 'keep');
  });

  it('keeps the entry and puts the value back when the index cannot be saved on delete', async () => {
    const { store, index } = make();
    await store.set({ ...key, type: 'bearer', value: 'keep' });
    index.failNextSave = true;
    await assert.rejects(store.delete(key), /injected index/);
    assert.equal(store.has(key), true, 'the entry stays listed');
    assert.equal(await store.getValue(key), 'keep', 'the value is put back');
    await store.delete(key);
    assert.equal(store.has(key), false, 'deleting again works');
  });

  it('serialises concurrent writes', async () => {
    const { store, index } = make();
    await Promise.all(Array.from({ length: 50 }, (_, i) => store.set({ namespace: 'generic', name: `t${i}`, type: 'generic', value: `v${i}` })));
    assert.equal(store.list().length, 50);
    assert.equal(index.tokens().length, 50);
  });

  it('keeps valid index entries and drops invalid ones', async () => {
    const good = { namespace: 'bearer', name: 'ok', type: 'bearer', createdAt: clock.toISOString(), updatedAt: clock.toISOString(), backend: 'secretStorage' };
    const { store, logs } = make(JSON.stringify({ version: 1, tokens: [good, { namespace: 'bad ns', name: 'x' }] }));
    await store.ready();
    assert.deepEqual(store.list().map((t) => t.name), ['ok']);
    assert.match(logs.join('\n'), /1 invalid entry/);
  });

  it('survives a corrupt index', async () => {
    const { store, logs } = make('{not json');
    await store.ready();
    assert.equal(store.list().length, 0);
    assert.match(logs.join('\n'), /not valid JSON/);
  });

  it('records use and metadata changes without touching the value', async () => {
    const { store, changes } = make();
    await store.set({ ...key, type: 'bearer', value: 'v' });
    clock = new Date('2026-11-25T00:00:00Z');
    await store.markUsed(key);
    assert.equal(store.get(key)?.lastUsedAt, '2026-11-25T00:00:00.000Z');
    assert.deepEqual(changes.at(-1), { kind: 'metadata', keys: [key], valueChanged: false });
    await store.markUsed({ namespace: 'bearer', name: 'absent' }); // no throw
  });

  it('merges tokens a backend discovers', async () => {
    const { store, backend } = make();
    (backend as unknown as { discover: () => Promise<unknown[]> }).discover = async () => [{ namespace: 'bearer', name: 'from-cli', type: 'bearer' }, { namespace: 'bad ns', name: 'x' }];
    await store.refresh();
    assert.deepEqual(store.list().map((t) => t.name), ['from-cli']);
    assert.equal(store.get({ namespace: 'bearer', name: 'from-cli' })?.backend, 'secretStorage');
  });

  it('lists expiring tokens', async () => {
    const { store } = make();
    await store.set({ namespace: 'bearer', name: 'soon', type: 'bearer', value: '1', expiresAt: '2026-11-25T00:00:00Z' });
    await store.set({ namespace: 'bearer', name: 'late', type: 'bearer', value: '1', expiresAt: '2027-11-25T00:00:00Z' });
    assert.deepEqual(store.expiring(7).map((t) => t.name), ['soon']);
  });

  it('hides internal namespaces from list() but keeps them in the index', async () => {
    const { store, index } = make();
    await store.set({ namespace: 'oauth', name: 'notion', type: 'oauth', value: 'access' });
    await store.set({ namespace: 'oauth-refresh', name: 'notion', type: 'oauth', value: 'refresh' });
    assert.deepEqual(store.list().map((t) => t.namespace), ['oauth']);
    assert.deepEqual(store.listAll().map((t) => t.namespace).sort(), ['oauth', 'oauth-refresh']);
    assert.deepEqual(store.namespaces(), ['oauth']);
    assert.equal(index.tokens().length, 2);
    assert.equal(await store.getValue({ namespace: 'oauth-refresh', name: 'notion' }), 'refresh');
  });

  it('does not treat self-renewing OAuth tokens as expired', async () => {
    const { store } = make();
    await store.set({ namespace: 'oauth', name: 'a', type: 'oauth', value: 'x', expiresAt: '2026-11-01T00:00:00Z' });
    await store.updateMetadata({ namespace: 'oauth', name: 'a' }, { oauth: { hasRefreshToken: true } });
    await store.set({ namespace: 'oauth', name: 'b', type: 'oauth', value: 'y', expiresAt: '2026-11-01T00:00:00Z' });
    assert.deepEqual(store.expiring(7).map((t) => t.name), ['b']);
    assert.deepEqual((await store.clear({ expiredOnly: true })).map((k) => k.name), ['b']);
    assert.equal(store.has({ namespace: 'oauth', name: 'a' }), true);
  });

  it('keeps a token listed when its backend refuses to delete the value', async () => {
    const { store, backend } = make();
    await store.set({ ...key, type: 'bearer', value: 'v' });
    await store.set({ namespace: 'bearer', name: 'other', type: 'bearer', value: 'w' });
    backend.failNext.add('remove');
    await assert.rejects(store.delete(key), /injected remove/);
    assert.equal(store.has(key), true);
    assert.equal(await store.getValue(key), 'v');
    backend.failNext.add('remove');
    await assert.rejects(store.clear({}), /Deleted 1 of 2 tokens/);
    assert.equal(store.list().length, 1);
    assert.deepEqual([...backend.values.keys()].filter((k) => !k.startsWith('trash:')), ['bearer:github']);
  });
});
