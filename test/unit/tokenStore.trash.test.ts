/**
 * "Nothing destroyed is lost": every path that replaces or removes a value keeps the old one in the
 * trash (same backend, internal `trash` namespace), from which it can be restored or purged.
 */
import assert from 'node:assert/strict';
import { beforeEach, describe, it } from 'node:test';
import { HISTORY_NAMESPACE, TRASH_NAMESPACE, type TokenMetadata } from '../../server/core/model';
import type { TokenKey } from '../../server/core/reference';
import { TokenStore, type DeletedToken, type TokenChange } from '../../extension/store/tokenStore';
import { MemoryBackend, MemoryIndex } from './support/memoryBackend';

const key = { namespace: 'bearer', name: 'github' };
const DAY = 24 * 60 * 60 * 1000;
let clock = new Date('2026-11-23T12:00:00Z');

/** The OAuth naming (extension/oauth/session.ts) for a token in the `oauth` namespace. */
const companionsOf = (meta: TokenMetadata): TokenKey[] => (meta.type === 'oauth' && meta.namespace === 'oauth' ? [{ namespace: 'oauth-refresh', name: meta.name }] : []);

function make(shared?: { backend: MemoryBackend; vault: MemoryBackend; index: MemoryIndex }) {
  const backend = shared?.backend ?? new MemoryBackend();
  const vault = shared?.vault ?? new MemoryBackend('vault');
  const index = shared?.index ?? new MemoryIndex();
  const logs: string[] = [];
  const store = new TokenStore({
    backends: [backend, vault],
    index,
    backendFor: (ns) => (ns === 'team' ? 'vault' : 'secretStorage'),
    now: () => clock,
    log: (_l, m) => logs.push(m),
    companionsOf,
  });
  const changes: TokenChange[] = [];
  store.onDidChange((c) => changes.push(c));
  return { store, backend, vault, index, changes, logs };
}

/** Values the backend holds outside the trash namespace. */
function liveValues(b: MemoryBackend): string[] {
  return [...b.values.keys()].filter((k) => !k.startsWith(`${TRASH_NAMESPACE}:`) && !k.startsWith(`${HISTORY_NAMESPACE}:`)).sort();
}
function trashValues(b: MemoryBackend): string[] {
  return [...b.values.entries()].filter(([k]) => k.startsWith(`${TRASH_NAMESPACE}:`)).map(([, v]) => v).sort();
}

function only(list: DeletedToken[]): DeletedToken {
  assert.equal(list.length, 1, `one trash entry expected, got ${list.map((d) => `${d.reason} ${d.namespace}:${d.name}`).join(', ')}`);
  return list[0];
}

describe('TokenStore trash (Recently Deleted)', () => {
  beforeEach(() => {
    clock = new Date('2026-11-23T12:00:00Z');
  });

  it('an overwrite with set keeps the old value as a version, not in the trash; restoring a deleted token over a new one trashes the new one first', async () => {
    const { store, backend, changes } = make();
    await store.set({ ...key, type: 'bearer', value: 'v1', provider: 'github', description: 'first' });
    clock = new Date('2026-11-24T12:00:00Z');
    const overwritten = await store.set({ ...key, type: 'bearer', value: 'v2' });
    assert.equal(store.listDeleted().length, 0, 'an overwrite is history, not Recently Deleted');
    assert.deepEqual(store.listHistory(key).map((v) => v.replacedAt), ['2026-11-24T12:00:00.000Z']);
    assert.equal(await store.getPreviousValue(key), 'v1');
    assert.deepEqual(trashValues(backend), []);

    clock = new Date('2026-11-25T12:00:00Z');
    await store.delete(key);
    const d = only(store.listDeleted());
    assert.equal(d.reason, 'delete');
    assert.deepEqual(d.meta, overwritten, 'the history goes with the deleted token');
    await store.set({ ...key, type: 'bearer', value: 'v3' });
    const restored = await store.restoreDeleted(d.id);
    assert.deepEqual(restored, overwritten);
    assert.equal(await store.getValue(key), 'v2');
    assert.equal(await store.getPreviousValue(key), 'v1', 'its history is back with it');
    const replaced = only(store.listDeleted());
    assert.equal(replaced.reason, 'restore');
    assert.deepEqual(trashValues(backend), ['v3']);
    assert.ok(changes.some((c) => c.kind === 'trash'));
    await store.restoreDeleted(replaced.id);
    assert.equal(await store.getValue(key), 'v3');
  });

  it('an import over an existing token keeps the replaced value as a version', async () => {
    const { store } = make();
    await store.set({ ...key, type: 'bearer', value: 'mine' });
    await store.set({ ...key, type: 'bearer', value: 'from-env' }, { reason: 'import' });
    assert.equal(store.listDeleted().length, 0);
    await store.restorePrevious(key);
    assert.equal(await store.getValue(key), 'mine');
  });

  it('rotations keep every replaced value in the history, nothing in the trash', async () => {
    const { store } = make();
    await store.set({ ...key, type: 'bearer', value: 'v1' });
    await store.rotate(key, 'v2');
    await store.rotate(key, 'v3');
    assert.equal(await store.getPreviousValue(key), 'v2', 'the previous value works as before');
    assert.equal(store.listHistory(key).length, 2);
    assert.equal(store.listDeleted().length, 0);
    await store.restoreVersion(key, store.listHistory(key)[1].id);
    assert.equal(await store.getValue(key), 'v1');
  });

  it('restorePrevious keeps the value it replaces as a version', async () => {
    const { store } = make();
    await store.set({ ...key, type: 'bearer', value: 'old' });
    await store.rotate(key, 'new');
    await store.restorePrevious(key);
    assert.equal(await store.getValue(key), 'old');
    assert.equal(store.listDeleted().length, 0);
    assert.equal(await store.getPreviousValue(key), 'new');
    await store.restorePrevious(key);
    assert.equal(await store.getValue(key), 'new');
  });

  it('delete keeps value, previous value and metadata; restore brings them back exactly', async () => {
    const { store, backend } = make();
    await store.set({ ...key, type: 'bearer', value: 'a', expiresAt: '2027-01-01T00:00:00Z', description: 'd' });
    const meta = await store.rotate(key, 'b');
    clock = new Date('2026-11-26T00:00:00Z');
    await store.delete(key);
    assert.equal(store.has(key), false);
    assert.deepEqual(liveValues(backend), []);
    const d = only(store.listDeleted());
    assert.deepEqual([d.reason, d.namespace, d.name], ['delete', 'bearer', 'github']);
    assert.deepEqual(d.meta, meta);
    assert.deepEqual(d.companions, []);
    const restored = await store.restoreDeleted(d.id);
    assert.deepEqual(restored, meta);
    assert.equal(await store.getValue(key), 'b');
    assert.equal(await store.getPreviousValue(key), 'a');
    assert.equal(store.listDeleted().length, 0);
    assert.deepEqual(trashValues(backend), [], 'the trash copy is removed after a restore');
    assert.equal(backend.previous.size, 0, 'the previous value is version 1 of the history, not a backend slot');
    assert.equal([...backend.values.keys()].filter((k) => k.startsWith(`${HISTORY_NAMESPACE}:`)).length, 1);
  });

  it('clear keeps every cleared token, one entry each', async () => {
    const { store, backend } = make();
    await store.set({ namespace: 'bearer', name: 'a', type: 'bearer', value: '1' });
    await store.set({ namespace: 'api-key', name: 'c', type: 'api-key', value: '3' });
    await store.clear({});
    assert.equal(store.list().length, 0);
    const deleted = store.listDeleted();
    assert.deepEqual(deleted.map((d) => [d.reason, `${d.namespace}:${d.name}`]).sort(), [['clear', 'api-key:c'], ['clear', 'bearer:a']]);
    assert.deepEqual(trashValues(backend), ['1', '3']);
    for (const d of deleted) await store.restoreDeleted(d.id);
    assert.equal(await store.getValue({ namespace: 'api-key', name: 'c' }), '3');
    assert.equal(await store.getValue({ namespace: 'bearer', name: 'a' }), '1');
  });

  it('deleting an OAuth token (sign-out) keeps it with its refresh token as one entry, restored together', async () => {
    const { store, backend } = make();
    const access = { namespace: 'oauth', name: 'notion' };
    const refresh = { namespace: 'oauth-refresh', name: 'notion' };
    await store.set({ ...access, type: 'oauth', value: 'access-1' });
    const accessMeta = await store.updateMetadata(access, { oauth: { issuer: 'https://auth.example', hasRefreshToken: true } });
    const refreshMeta = await store.set({ ...refresh, type: 'generic', value: 'refresh-1' });
    await store.delete(access, { reason: 'sign-out' });
    assert.equal(store.has(access), false);
    assert.equal(store.has(refresh), false, 'the companion goes with its token');
    assert.deepEqual(liveValues(backend), []);
    const d = only(store.listDeleted());
    assert.deepEqual([d.reason, d.namespace, d.name, d.internal], ['sign-out', 'oauth', 'notion', false]);
    assert.deepEqual(d.companions, [refresh]);
    assert.deepEqual(await store.restoreDeleted(d.id), accessMeta);
    assert.deepEqual(store.get(refresh), refreshMeta);
    assert.equal(await store.getValue(access), 'access-1');
    assert.equal(await store.getValue(refresh), 'refresh-1');
    assert.equal(store.listDeleted().length, 0);
  });

  it('a companion deleted on its own is listed, flagged internal', async () => {
    const { store } = make();
    await store.set({ namespace: 'oauth-refresh', name: 'notion', type: 'generic', value: 'r' });
    await store.delete({ namespace: 'oauth-refresh', name: 'notion' });
    const d = only(store.listDeleted());
    assert.equal(d.internal, true);
  });

  it('purgeDeleted removes the kept value from the backend for good', async () => {
    const { store, backend, changes } = make();
    await store.set({ ...key, type: 'bearer', value: 'a' });
    await store.rotate(key, 'b');
    await store.delete(key);
    const d = only(store.listDeleted());
    changes.length = 0;
    await store.purgeDeleted(d.id);
    assert.equal(store.listDeleted().length, 0);
    assert.equal(backend.values.size + backend.previous.size, 0);
    assert.deepEqual(changes.map((c) => c.kind), ['trash']);
    await assert.rejects(store.purgeDeleted(d.id), /No deleted token/);
    await assert.rejects(store.restoreDeleted(d.id), /No deleted token/);
  });

  it('purgeExpired removes only entries older than the retention, clamped to at least one day', async () => {
    const { store, backend } = make();
    await store.set({ namespace: 'bearer', name: 'old', type: 'bearer', value: 'o' });
    await store.delete({ namespace: 'bearer', name: 'old' });
    clock = new Date(clock.getTime() + 20 * DAY);
    await store.set({ namespace: 'bearer', name: 'recent', type: 'bearer', value: 'r' });
    await store.delete({ namespace: 'bearer', name: 'recent' });
    clock = new Date(clock.getTime() + 11 * DAY); // "old" is 31 days old, "recent" 11
    assert.equal(await store.purgeExpired(30), 1);
    assert.deepEqual(store.listDeleted().map((d) => d.name), ['recent']);
    assert.deepEqual(trashValues(backend), ['r']);
    await store.set({ namespace: 'bearer', name: 'fresh', type: 'bearer', value: 'f' });
    clock = new Date(clock.getTime() + 60 * 60 * 1000);
    await store.delete({ namespace: 'bearer', name: 'fresh' }); // an hour old when purged below
    clock = new Date(clock.getTime() + 60 * 60 * 1000);
    assert.equal(await store.purgeExpired(0), 1, 'retention 0 means 1 day: only the 11-day-old entry goes');
    assert.deepEqual(store.listDeleted().map((d) => d.name), ['fresh']);
    assert.equal(await store.purgeExpired(-5), 0);
  });

  it('lists newest first', async () => {
    const { store } = make();
    for (const name of ['a', 'b', 'c']) {
      await store.set({ namespace: 'bearer', name, type: 'bearer', value: name });
      clock = new Date(clock.getTime() + 1000);
      await store.delete({ namespace: 'bearer', name });
    }
    assert.deepEqual(store.listDeleted().map((d) => d.name), ['c', 'b', 'a']);
  });

  it('a backend failure while trashing aborts the operation and loses nothing', async () => {
    const { store, backend } = make();
    await store.set({ ...key, type: 'bearer', value: 'keep' });
    await store.rotate(key, 'keep2');
    const snapshot = () => ({ values: [...backend.values], previous: [...backend.previous], meta: store.get(key), trash: store.listDeleted() });
    const before = snapshot();
    backend.failNext.add('write');
    await assert.rejects(store.delete(key), /injected write/);
    assert.deepEqual(snapshot(), before);
    backend.failNext.add('write');
    await assert.rejects(store.set({ ...key, type: 'bearer', value: 'new' }), /injected write/);
    assert.deepEqual(snapshot(), before);
    backend.failNext.add('write');
    await assert.rejects(store.rotate(key, 'new'), /injected write/);
    assert.deepEqual(snapshot(), before);
    backend.failNext.add('write');
    await assert.rejects(store.clear({}), /injected write/);
    assert.deepEqual(snapshot(), before);
    await store.delete(key);
    assert.equal(store.listDeleted().length, 1, 'works once the backend does');
  });

  it('an index failure while deleting puts the value back and keeps no trash entry', async () => {
    const { store, backend, index } = make();
    await store.set({ ...key, type: 'bearer', value: 'keep' });
    index.failNextSave = true;
    await assert.rejects(store.delete(key), /injected index/);
    assert.equal(await store.getValue(key), 'keep');
    assert.equal(store.listDeleted().length, 0);
    assert.deepEqual(trashValues(backend), []);
    const d = (await store.delete(key), only(store.listDeleted()));
    index.failNextSave = true;
    await assert.rejects(store.restoreDeleted(d.id), /injected index/);
    assert.equal(store.has(key), false);
    assert.deepEqual(liveValues(backend), []);
    assert.deepEqual(store.listDeleted().map((x) => x.id), [d.id]);
    await store.restoreDeleted(d.id);
    assert.equal(await store.getValue(key), 'keep');
  });

  it('an index failure while overwriting, rotating or restoring the previous value keeps both slots and no trash entry', async () => {
    const { store, backend, index } = make();
    await store.set({ ...key, type: 'bearer', value: 'v1' });
    await store.rotate(key, 'v2');
    const snapshot = () => ({ values: [...backend.values], previous: [...backend.previous], meta: store.get(key), trash: store.listDeleted() });
    const before = snapshot();
    for (const attempt of [() => store.set({ ...key, type: 'bearer', value: 'x' }), () => store.rotate(key, 'x'), () => store.restorePrevious(key)]) {
      index.failNextSave = true;
      await assert.rejects(attempt(), /injected index/);
      assert.deepEqual(snapshot(), before);
    }
  });

  it('clearing an OAuth token keeps its refresh token in the same entry', async () => {
    const { store } = make();
    await store.set({ namespace: 'oauth', name: 'linear', type: 'oauth', value: 'a' });
    await store.set({ namespace: 'oauth-refresh', name: 'linear', type: 'generic', value: 'r' });
    assert.deepEqual((await store.clear({ namespace: 'oauth' })).map((k) => k.name), ['linear']);
    assert.equal(store.listAll().length, 0);
    const d = only(store.listDeleted());
    assert.deepEqual([d.reason, d.companions], ['clear', [{ namespace: 'oauth-refresh', name: 'linear' }]]);
    await store.restoreDeleted(d.id);
    assert.equal(await store.getValue({ namespace: 'oauth-refresh', name: 'linear' }), 'r');
  });

  it('a reloaded store (same index and backends) still lists and restores the trash', async () => {
    const first = make();
    await first.store.set({ ...key, type: 'bearer', value: 'persisted' });
    await first.store.delete(key);
    const second = make({ backend: first.backend, vault: first.vault, index: first.index });
    await second.store.ready();
    const d = only(second.store.listDeleted());
    assert.deepEqual([d.namespace, d.name, d.reason], ['bearer', 'github', 'delete']);
    await second.store.restoreDeleted(d.id);
    assert.equal(await second.store.getValue(key), 'persisted');
    assert.ok(first.index.text() && !first.index.text().includes('persisted'), 'the index holds no value');
  });

  it('keeps the old value in the backend the token was in, also when set moves it to another one', async () => {
    const { store, backend, vault } = make();
    await store.set({ namespace: 'team', name: 'ci', type: 'generic', value: 'in-vault' });
    await store.set({ namespace: 'team', name: 'ci', type: 'generic', value: 'local', backend: 'secretStorage' });
    const d = only(store.listDeleted());
    assert.equal(d.backend, 'vault');
    assert.deepEqual(trashValues(vault), ['in-vault']);
    assert.deepEqual(trashValues(backend), []);
    await store.restoreDeleted(d.id);
    assert.equal(store.get({ namespace: 'team', name: 'ci' })?.backend, 'vault');
    assert.equal(await store.getValue({ namespace: 'team', name: 'ci' }), 'in-vault');
    assert.deepEqual(liveValues(backend), [], 'the replaced local copy went to the trash');
    assert.equal(only(store.listDeleted()).backend, 'secretStorage');
  });

  it('trash entries are not tokens: not listed, not resolvable, not writable', async () => {
    const { store, backend } = make();
    await store.set({ ...key, type: 'bearer', value: 'secret' });
    await store.delete(key);
    const d = only(store.listDeleted());
    const trashKey = [...backend.values.keys()].find((k) => k.startsWith(`${TRASH_NAMESPACE}:`))!.split(':');
    const asReference = { namespace: trashKey[0], name: trashKey[1] };
    assert.equal(store.list().length, 0);
    assert.equal(store.listAll().length, 0);
    assert.equal(store.get(asReference), undefined);
    assert.equal(await store.getValue(asReference), undefined);
    assert.equal(await store.getValue({ namespace: TRASH_NAMESPACE, name: d.id }), undefined);
    await assert.rejects(store.set({ ...asReference, type: 'bearer', value: 'x' }), /reserved/);
    await store.set({ namespace: 'bearer', name: 'other', type: 'bearer', value: 'o' });
    await assert.rejects(store.rename({ namespace: 'bearer', name: 'other' }, asReference), /reserved/);
  });

  it('does not adopt trash entries a backend discovers', async () => {
    const { store, vault } = make();
    (vault as unknown as { discover: () => Promise<unknown[]> }).discover = async () => [{ namespace: 'trash', name: '20261123T120000000Z-0a1b2c3d' }];
    await store.refresh();
    assert.equal(store.listAll().length, 0);
  });

  it('a verified move to another backend and a refused rename destroy nothing', async () => {
    const { store } = make();
    await store.set({ ...key, type: 'bearer', value: 'v' });
    await store.moveToBackend(key, 'vault');
    await store.set({ namespace: 'bearer', name: 'x', type: 'bearer', value: 'x' });
    await assert.rejects(store.rename(key, { namespace: 'bearer', name: 'x' }), /already exists/);
    await store.rename(key, { namespace: 'bearer', name: 'gh' });
    assert.equal(store.listDeleted().length, 0);
  });

  it('restores over a token that lives in another backend now', async () => {
    const { store, backend, vault } = make();
    await store.set({ ...key, type: 'bearer', value: 'local-1' });
    await store.delete(key);
    const d = only(store.listDeleted());
    await store.set({ ...key, type: 'bearer', value: 'vault-1', backend: 'vault' });
    await store.restoreDeleted(d.id);
    assert.equal(store.get(key)?.backend, 'secretStorage');
    assert.equal(await store.getValue(key), 'local-1');
    assert.deepEqual(liveValues(vault), []);
    const r = only(store.listDeleted());
    assert.deepEqual([r.reason, r.backend], ['restore', 'vault']);
    assert.deepEqual(trashValues(vault), ['vault-1']);
    assert.deepEqual(trashValues(backend), []);
  });
});
