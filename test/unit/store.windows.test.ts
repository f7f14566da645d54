/**
 * Several windows, one SecretStorage: two and four TokenStores over one shared SecretStorage stand-in
 * (change events delivered to every window asynchronously, like VS Code) doing 1,000 interleaved
 * set/rotate/delete operations with random small delays. Afterwards every value any operation wrote
 * is still somewhere (current, previous or Recently Deleted), every window lists what a fresh window
 * lists, and no value is orphaned (every value has its metadata).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { HISTORY_NAMESPACE, TRASH_NAMESPACE } from '../../server/core/model';
import { TokenNotFoundError } from '../../extension/store/tokenStore';
import { SharedSecretStorage } from './support/sharedSecretStorage';
import { openWindow, persistedHistoryIds, persistedTokenKeys, persistedTrashNames, sleep, storedValues, type StoreWindow } from './support/windows';

const NAMES = Array.from({ length: 12 }, (_, i) => `t${i}`);
const pick = <T>(list: readonly T[]): T => list[Math.floor(Math.random() * list.length)];
/** As stored (members that are undefined are not stored). */
const plain = (v: unknown) => JSON.parse(JSON.stringify(v));
const ids = (w: StoreWindow) => w.store.list().map((t) => `${t.namespace}:${t.name}`).sort();

async function settle(windows: readonly StoreWindow[]): Promise<void> {
  // Events arrive within the stand-in's delay; each window re-reads what they name.
  await sleep(60);
  for (const w of windows) await w.store.ready();
}

async function stress(windowCount: number, operations: number) {
  const shared = new SharedSecretStorage({ eventDelayMs: [0, 8], latencyMs: [0, 1] });
  // Limits high enough that no version is pruned: every value written must be found again.
  const historyLimits = () => ({ maxVersions: 100, maxAgeDays: 3650 });
  const windows = Array.from({ length: windowCount }, () => openWindow(shared, { historyLimits }));
  await Promise.all(windows.map((w) => w.store.ready()));
  const written: string[] = [];
  const unexpected: string[] = [];
  const counts = { set: 0, rotate: 0, delete: 0, notFound: 0 };
  const started = Date.now();
  await Promise.all(
    windows.map(async (w, wi) => {
      for (let i = 0; i < operations / windowCount; i++) {
        await sleep(Math.random() * 3);
        const key = { namespace: 'bearer', name: pick(NAMES) };
        const value = `w${wi}-op${i}-${Math.random().toString(36).slice(2, 8)}`;
        const kind = pick(['set', 'set', 'set', 'rotate', 'rotate', 'delete'] as const);
        try {
          if (kind === 'set') await w.store.set({ ...key, type: 'bearer', value });
          else if (kind === 'rotate') await w.store.rotate(key, value);
          else await w.store.delete(key);
          counts[kind]++;
          if (kind !== 'delete') written.push(value);
        } catch (e) {
          if (e instanceof TokenNotFoundError) counts.notFound++;
          else unexpected.push(`${kind} ${key.name}: ${e instanceof Error ? e.message : String(e)}`);
        }
      }
    }),
  );
  const elapsedMs = Date.now() - started;
  await settle(windows);

  const { current, previous } = storedValues(shared);
  const everywhere = new Set([...current.values(), ...previous.values()]);
  const lost = written.filter((v) => !everywhere.has(v));
  const liveValueKeys = [...current.keys()].filter((k) => !k.startsWith(`${TRASH_NAMESPACE}:`) && !k.startsWith(`${HISTORY_NAMESPACE}:`)).sort();
  const versionIds = [...current.keys()].filter((k) => k.startsWith(`${HISTORY_NAMESPACE}:`)).map((k) => k.slice(HISTORY_NAMESPACE.length + 1));
  const listedVersions = persistedHistoryIds(shared);
  const orphanVersions = versionIds.filter((id) => !listedVersions.has(id));
  const keptNames = [...current.keys()].filter((k) => k.startsWith(`${TRASH_NAMESPACE}:`)).map((k) => k.slice(TRASH_NAMESPACE.length + 1));
  const persisted = persistedTokenKeys(shared);
  const orphanValues = liveValueKeys.filter((k) => !persisted.has(k));
  const trashNames = persistedTrashNames(shared);
  const orphanCopies = keptNames.filter((n) => !trashNames.has(n));

  const fresh = openWindow(shared, { historyLimits });
  await fresh.store.ready();
  console.log(
    `[stress] ${operations} operations (${counts.set} set, ${counts.rotate} rotate, ${counts.delete} delete, ${counts.notFound} on absent tokens) ` +
      `in ${windowCount} windows: ${elapsedMs} ms; lost updates ${lost.length}; orphaned values ${orphanValues.length}, orphaned kept copies ${orphanCopies.length}; ` +
      `${liveValueKeys.length} tokens, ${keptNames.length} kept copies`,
  );
  assert.deepEqual(unexpected, [], 'no operation fails for another reason than an absent token');
  assert.deepEqual(lost, [], 'every value written is current, previous or in Recently Deleted');
  assert.deepEqual(orphanValues, [], 'every value has its metadata');
  assert.deepEqual(orphanCopies, [], 'every kept copy has its Recently Deleted entry');
  assert.deepEqual(orphanVersions, [], 'every version copy is listed in a history');
  assert.ok([...listedVersions].every((id) => versionIds.includes(id)), 'every listed version has its copy');
  assert.deepEqual(ids(fresh), liveValueKeys, 'a window opened afterwards lists exactly the stored tokens');
  for (const [i, w] of windows.entries()) {
    assert.deepEqual(ids(w), liveValueKeys, `window ${i} converged`);
    assert.deepEqual(plain(w.store.list()), plain(fresh.store.list()), `window ${i} has the same metadata`);
    assert.deepEqual(w.store.listDeleted().map((d) => d.id), fresh.store.listDeleted().map((d) => d.id), `window ${i} has the same Recently Deleted`);
  }
  for (const w of [...windows, fresh]) w.close();
}

describe('several windows over one SecretStorage', () => {
  it('two windows, 1,000 interleaved operations: nothing lost, nothing hidden', { timeout: 120_000 }, () => stress(2, 1000));

  it('four windows, 1,000 interleaved operations: nothing lost, nothing hidden', { timeout: 120_000 }, () => stress(4, 1000));

  it('two windows each setting 50 tokens at once: every window lists all 100', async () => {
    const shared = new SharedSecretStorage();
    const [a, b] = [openWindow(shared), openWindow(shared)];
    await Promise.all([a.store.ready(), b.store.ready()]);
    await Promise.all(
      [a, b].flatMap((w, wi) => Array.from({ length: 50 }, (_, i) => w.store.set({ namespace: 'generic', name: `w${wi}-${i}`, type: 'generic', value: `v-${wi}-${i}` }))),
    );
    await settle([a, b]);
    const fresh = openWindow(shared);
    await fresh.store.ready();
    for (const w of [a, b, fresh]) assert.equal(w.store.list().length, 100);
    for (const w of [a, b, fresh]) w.close();
  });

  it('one Set Token in each window a moment apart: both kept', async () => {
    for (let gap = 0; gap <= 4; gap++) {
      const shared = new SharedSecretStorage({ latencyMs: [0, 2] });
      const [a, b] = [openWindow(shared), openWindow(shared)];
      await Promise.all([a.store.ready(), b.store.ready()]);
      await Promise.all([a.store.set({ namespace: 'bearer', name: 'a', type: 'bearer', value: 'value-a' }), sleep(gap).then(() => b.store.set({ namespace: 'bearer', name: 'b', type: 'bearer', value: 'value-b' }))]);
      await settle([a, b]);
      const fresh = openWindow(shared);
      await fresh.store.ready();
      for (const w of [a, b, fresh]) assert.deepEqual(ids(w), ['bearer:a', 'bearer:b'], `${gap} ms apart`);
      for (const w of [a, b, fresh]) w.close();
    }
  });

  it('two windows rotating the same token: neither rotation is lost', async () => {
    const shared = new SharedSecretStorage({ latencyMs: [0, 2] });
    const [a, b] = [openWindow(shared), openWindow(shared)];
    const key = { namespace: 'bearer', name: 'shared' };
    await a.store.set({ ...key, type: 'bearer', value: 'v0' });
    await settle([a, b]);
    await Promise.all([a.store.rotate(key, 'vA'), b.store.rotate(key, 'vB')]);
    await settle([a, b]);
    const current = await a.store.getValue(key);
    const previous = await a.store.getPreviousValue(key);
    const kept = storedValues(shared).current;
    const all = new Set([current, previous, ...kept.values()]);
    assert.ok(all.has('vA') && all.has('vB') && all.has('v0'), `current=${current} previous=${previous}`);
    assert.ok([current, previous].includes('vA') && [current, previous].includes('vB'), 'the two rotations follow each other');
    for (const w of [a, b]) w.close();
  });

  it('a window rotating a token it has not heard of yet re-reads the store before it fails', async () => {
    // Events never arrive in time: the second window only knows what it reads.
    const shared = new SharedSecretStorage({ eventDelayMs: [1000, 1000] });
    const [a, b] = [openWindow(shared), openWindow(shared)];
    await Promise.all([a.store.ready(), b.store.ready()]);
    const key = { namespace: 'bearer', name: 'fresh' };
    await a.store.set({ ...key, type: 'bearer', value: 'from-a' });
    const meta = await b.store.rotate(key, 'from-b');
    assert.equal(meta.hasPrevious, true);
    assert.equal(await b.store.getPreviousValue(key), 'from-a');
    await b.store.delete(key);
    await assert.rejects(a.store.rotate(key, 'again'), TokenNotFoundError, 'a token deleted elsewhere is not there');
    for (const w of [a, b]) w.close();
  });
});
