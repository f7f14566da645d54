/**
 * Version history: every replaced value is kept as a timestamped version (limits: count and age),
 * restorable, pruned on write and at startup (an injected clock).
 */
import assert from 'node:assert/strict';
import { beforeEach, describe, it } from 'node:test';
import { HISTORY_NAMESPACE } from '../../server/core/model';
import { TokenStore, pruneVersions, HistoryVersionNotFoundError } from '../../extension/store/tokenStore';
import { withActor } from '../../extension/platform/actor';
import { MemoryBackend, MemoryIndex } from './support/memoryBackend';

const key = { namespace: 'bearer', name: 'github' };
const DAY = 24 * 60 * 60 * 1000;
let clock = new Date('2026-11-01T00:00:00Z');
let limits: { maxVersions?: number; maxAgeDays?: number } = {};

function make(backend = new MemoryBackend(), index = new MemoryIndex()) {
  const store = new TokenStore({ backends: [backend], index, backendFor: () => 'secretStorage', now: () => clock, historyLimits: () => limits });
  return { store, backend, index };
}
const copies = (b: MemoryBackend) => [...b.values.keys()].filter((k) => k.startsWith(`${HISTORY_NAMESPACE}:`)).sort();
const tick = (ms = 60_000) => (clock = new Date(clock.getTime() + ms));

describe('TokenStore version history', () => {
  beforeEach(() => {
    clock = new Date('2026-11-01T00:00:00Z');
    limits = {};
  });

  it('rotate 15 times: 10 versions are kept (the newest), restoring the 3rd brings its value back and keeps the current one', async () => {
    const { store, backend } = make();
    await store.set({ ...key, type: 'bearer', value: 'value-0' });
    for (let i = 1; i <= 15; i++) {
      tick();
      await withActor({ command: 'mcpTokens.rotateToken', via: 'ui' }, () => store.rotate(key, `value-${i}`));
    }
    const history = store.listHistory(key);
    assert.equal(history.length, 10, 'the default limit is 10 versions');
    assert.equal(copies(backend).length, 10, 'pruned versions leave no copy behind');
    assert.deepEqual(
      history.map((v) => v.replacedAt),
      [...history.map((v) => v.replacedAt)].sort().reverse(),
      'newest first',
    );
    assert.ok(history.every((v) => v.by === 'mcpTokens.rotateToken (ui)'), 'who replaced it');
    assert.ok(!JSON.stringify(store.get(key)).includes('value-'), 'the metadata holds no value');
    // Version n (newest first) holds value-(15 - n): the 3rd is value-12.
    const third = history[2];
    assert.equal(await store.getPreviousValue(key), 'value-14');
    tick();
    await store.restoreVersion(key, third.id);
    assert.equal(await store.getValue(key), 'value-12');
    const after = store.listHistory(key);
    assert.equal(after.length, 10);
    assert.ok(after.some((v) => v.id === third.id), 'the restored version stays listed');
    assert.equal(await store.getPreviousValue(key), 'value-15', 'the replaced value became the newest version');
    // restorePrevious works on top of the history.
    await store.restorePrevious(key);
    assert.equal(await store.getValue(key), 'value-15');
  });

  it('prunes by age on write and at startup (injected clock)', async () => {
    const shared = { backend: new MemoryBackend(), index: new MemoryIndex() };
    const { store, backend } = make(shared.backend, shared.index);
    await store.set({ ...key, type: 'bearer', value: 'a' });
    await store.rotate(key, 'b'); // 'a' replaced on day 0
    clock = new Date(clock.getTime() + 50 * DAY);
    await store.rotate(key, 'c'); // 'b' replaced on day 50
    assert.equal(store.listHistory(key).length, 2);
    clock = new Date(clock.getTime() + 45 * DAY); // day 95: 'a' is 95 days old, 'b' 45
    await store.rotate(key, 'd'); // on write
    assert.deepEqual(store.listHistory(key).map((v) => v.replacedAt), [clock.toISOString(), new Date(clock.getTime() - 45 * DAY).toISOString()]);
    assert.equal(copies(backend).length, 2);

    // At startup: a window opened 60 days later prunes what has aged out without any write.
    clock = new Date(clock.getTime() + 60 * DAY);
    const later = make(shared.backend, shared.index).store;
    assert.equal(await later.pruneHistory(), 1, "'b' (105 days) goes, 'c' (60 days) stays");
    assert.equal(later.listHistory(key).length, 1);
    assert.equal(await later.getPreviousValue(key), 'c');
    assert.equal(copies(backend).length, 1);
    limits = { maxAgeDays: 30 };
    assert.equal(await later.pruneHistory(), 1);
    assert.equal(later.listHistory(key).length, 0);
    assert.deepEqual(copies(backend), []);
    assert.equal(await later.pruneHistory(), 0);
  });

  it('set over a token adds a version; limits are clamped (at least 1 version)', async () => {
    const { store } = make();
    limits = { maxVersions: 0 };
    await store.set({ ...key, type: 'bearer', value: 'one' });
    await store.set({ ...key, type: 'bearer', value: 'two' });
    await store.set({ ...key, type: 'bearer', value: 'three' });
    assert.equal(store.listHistory(key).length, 1);
    assert.equal(await store.getPreviousValue(key), 'two');
    await assert.rejects(store.restoreVersion(key, '20260101T000000000Z-00000000'), HistoryVersionNotFoundError);
  });

  it('rename and move keep the history; a history namespace token is refused', async () => {
    const a = new MemoryBackend('secretStorage');
    const b = new MemoryBackend('keyring');
    const store = new TokenStore({ backends: [a, b], index: new MemoryIndex(), backendFor: () => 'secretStorage', now: () => clock });
    await store.set({ ...key, type: 'bearer', value: 'v1' });
    await store.rotate(key, 'v2');
    const to = { namespace: 'bearer', name: 'gh2' };
    await store.rename(key, to);
    assert.equal(await store.getPreviousValue(to), 'v1');
    await store.moveToBackend(to, 'keyring');
    assert.equal(await store.getPreviousValue(to), 'v1');
    assert.deepEqual(copies(a), [], 'the copies moved with the token');
    assert.equal(copies(b).length, 1);
    await assert.rejects(store.set({ namespace: HISTORY_NAMESPACE, name: 'x', type: 'bearer', value: 'v' }), /reserved/);
  });

  it('pruneVersions keeps the newest within count and age', () => {
    const now = new Date('2026-06-01T00:00:00Z');
    const v = (days: number, i: number) => ({ id: `20260101T000000000Z-0000000${i}`, replacedAt: new Date(now.getTime() - days * DAY).toISOString() });
    const list = [v(1, 1), v(10, 2), v(89, 3), v(91, 4)];
    assert.deepEqual(pruneVersions(list, now, { maxVersions: 10, maxAgeDays: 90 }).kept.map((x) => x.id.slice(-1)), ['1', '2', '3']);
    assert.deepEqual(pruneVersions(list, now, { maxVersions: 2, maxAgeDays: 90 }).dropped.map((x) => x.id.slice(-1)), ['3', '4']);
  });
});
