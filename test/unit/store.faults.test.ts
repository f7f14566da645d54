/**
 * Interrupted writes and bad metadata, over the SecretStorage stand-in wired as a window is: a crash
 * between the value write and the metadata write, a malformed entry, an entry from a newer version,
 * and the migration from the single v1 index document.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SharedSecretStorage } from './support/sharedSecretStorage';
import { openWindow, sleep } from './support/windows';

const at = '2026-11-23T12:00:00.000Z';
const meta = (name: string, extra: Record<string, unknown> = {}) => ({ namespace: 'bearer', name, type: 'bearer', createdAt: at, updatedAt: at, backend: 'secretStorage', ...extra });
const V1_INDEX = 'mcpTokens/v1/index';
const value = (id: string) => `mcpTokens/v1/value/${id}`;
const entry = (id: string) => `mcpTokens/v2/meta/${id}`;
const backups = (shared: SharedSecretStorage) => [...shared.data].filter(([k]) => k.startsWith('mcpTokens/v2/backup/')).map(([, v]) => v);

describe('interrupted writes', () => {
  it('a crash between the value write and the metadata write: the next window lists the token', async () => {
    const shared = new SharedSecretStorage();
    // A dead window's lease blocks the token until it expires (default 6 s; shorter here).
    const first = openWindow(shared, { leaseMs: 300 });
    await first.store.set({ namespace: 'bearer', name: 'before', type: 'bearer', value: 'v-before' });
    first.secrets.crashAfterStore(/^mcpTokens\/v1\/value\/bearer:crashed$/);
    await assert.rejects(first.store.set({ namespace: 'bearer', name: 'crashed', type: 'bearer', value: 'v-crashed' }));
    first.close();
    assert.equal(shared.data.get(value('bearer:crashed')), 'v-crashed', 'the value was written before the crash');

    const next = openWindow(shared);
    await next.store.ready();
    assert.deepEqual(next.store.list().map((t) => t.name), ['before', 'crashed']);
    assert.equal(await next.store.getValue({ namespace: 'bearer', name: 'crashed' }), 'v-crashed');
    assert.ok(shared.data.has(entry('bearer:crashed')), 'the found token gets its metadata');
    next.close();
  });

  it('a value another program put beside ours without metadata is found at startup', async () => {
    const shared = new SharedSecretStorage();
    shared.data.set(value('api-key:orphan'), 'orphan-value');
    const w = openWindow(shared);
    await w.store.ready();
    assert.equal(w.store.get({ namespace: 'api-key', name: 'orphan' })?.backend, 'secretStorage');
    w.close();
  });
});

describe('bad metadata is never overwritten', () => {
  it('a malformed entry: kept, backed up, the user told once, and a rebuild keeps everything the backend holds', async () => {
    const shared = new SharedSecretStorage();
    shared.data.set(entry('bearer:good'), JSON.stringify({ version: 2, token: meta('good', { description: 'kept as it is' }) }));
    shared.data.set(value('bearer:good'), 'v-good');
    const broken = '{"version":2,"token":{"namespace":"bearer","name":"broken","ty';
    shared.data.set(entry('bearer:broken'), broken);
    shared.data.set(value('bearer:broken'), 'v-broken');
    const w = openWindow(shared);
    const told: number[] = [];
    w.store.onDidFindDamage((d) => told.push(d.length));
    await w.store.ready();
    assert.deepEqual(w.store.list().map((t) => t.name), ['broken', 'good'], 'the damaged entry\'s token is still listed (from its backend)');
    assert.equal(await w.store.getValue({ namespace: 'bearer', name: 'broken' }), 'v-broken');
    assert.equal(shared.data.get(entry('bearer:broken')), broken, 'not overwritten');
    assert.ok(backups(shared).some((b) => b.includes(broken.replace(/"/g, '\\"'))), 'a backup entry keeps it');
    assert.deepEqual(w.store.damage().map((d) => d.key), ['bearer:broken']);

    await w.store.set({ namespace: 'bearer', name: 'other', type: 'bearer', value: 'v-other' });
    await w.store.refresh();
    await sleep(20);
    assert.equal(shared.data.get(entry('bearer:broken')), broken, 'other writes leave it alone');
    assert.deepEqual(told, [1], 'told once');

    await w.store.rebuild();
    assert.deepEqual(w.store.list().map((t) => t.name), ['broken', 'good', 'other']);
    assert.equal(w.store.get({ namespace: 'bearer', name: 'good' })?.description, 'kept as it is');
    assert.notEqual(shared.data.get(entry('bearer:broken')), broken, 'rebuilt from the backend');
    assert.ok(backups(shared).length >= 1, 'the backup stays');
    assert.deepEqual(w.store.damage(), []);
    w.close();
  });

  it('an entry written by a newer version is not downgraded', async () => {
    const shared = new SharedSecretStorage();
    const newer = JSON.stringify({ version: 3, token: meta('future', { comesFrom: 'v3' }), more: { what: 'this version does not know' } });
    shared.data.set(entry('bearer:future'), newer);
    shared.data.set(value('bearer:future'), 'v-future');
    const w = openWindow(shared);
    await w.store.ready();
    assert.equal(w.store.get({ namespace: 'bearer', name: 'future' })?.type, 'bearer', 'listed with what this version understands');
    assert.equal(await w.store.getValue({ namespace: 'bearer', name: 'future' }), 'v-future');
    await assert.rejects(w.store.rotate({ namespace: 'bearer', name: 'future' }, 'x'), /newer version/);
    await assert.rejects(w.store.set({ namespace: 'bearer', name: 'future', type: 'bearer', value: 'x' }), /newer version/);
    await assert.rejects(w.store.delete({ namespace: 'bearer', name: 'future' }), /newer version/);
    await w.store.rebuild();
    assert.equal(shared.data.get(entry('bearer:future')), newer, 'byte for byte as the newer version wrote it');
    assert.equal(shared.data.get(value('bearer:future')), 'v-future');
    w.close();
  });

  it('an old single index from a newer version is not downgraded', async () => {
    const shared = new SharedSecretStorage();
    const newer = JSON.stringify({ version: 2, tokens: [meta('a')], future: true });
    shared.data.set(V1_INDEX, newer);
    shared.data.set(value('bearer:a'), 'v-a');
    const w = openWindow(shared);
    await w.store.ready();
    await w.store.set({ namespace: 'bearer', name: 'b', type: 'bearer', value: 'v-b' });
    assert.equal(shared.data.get(V1_INDEX), newer);
    assert.deepEqual(w.store.list().map((t) => t.name), ['a', 'b']);
    w.close();
  });

  it('a truncated old single index: kept, its tokens found in the backend, and the next Set keeps it', async () => {
    const shared = new SharedSecretStorage();
    const truncated = JSON.stringify({ version: 1, tokens: [meta('a'), meta('b')] }).slice(0, 60);
    shared.data.set(V1_INDEX, truncated);
    shared.data.set(value('bearer:a'), 'v-a');
    shared.data.set(value('bearer:b'), 'v-b');
    const w = openWindow(shared);
    const told: number[] = [];
    w.store.onDidFindDamage((d) => told.push(d.length));
    await w.store.ready();
    await w.store.set({ namespace: 'bearer', name: 'c', type: 'bearer', value: 'v-c' });
    assert.equal(shared.data.get(V1_INDEX), truncated, 'not overwritten');
    assert.deepEqual(w.store.list().map((t) => t.name), ['a', 'b', 'c']);
    assert.deepEqual(told, [1]);
    w.close();
  });
});

describe('migration from the single v1 index', () => {
  it('writes one entry per token and per Recently Deleted entry, keeps the old document, and loses nothing', async () => {
    const shared = new SharedSecretStorage();
    const trash = { id: '20261120T120000000Z-0a1b2c3d', deletedAt: at, reason: 'delete', items: [{ name: '20261120T120000000Z-0a1b2c3d', meta: meta('gone') }] };
    const old = JSON.stringify({ version: 1, tokens: [meta('a', { description: 'first' }), meta('b', { hasPrevious: true })], trash: [trash] });
    shared.data.set(V1_INDEX, old);
    shared.data.set(value('bearer:a'), 'v-a');
    shared.data.set(value('bearer:b'), 'v-b');
    shared.data.set('mcpTokens/v1/previous/bearer:b', 'v-b-old');
    shared.data.set(value(`trash:${trash.id}`), 'v-gone');
    // Two windows start at once: both migrate, neither loses anything.
    const [w1, w2] = [openWindow(shared), openWindow(shared)];
    await Promise.all([w1.store.ready(), w2.store.ready()]);
    for (const w of [w1, w2]) {
      assert.deepEqual(w.store.list().map((t) => [t.name, t.description, t.hasPrevious]), [['a', 'first', undefined], ['b', undefined, true]]);
      assert.deepEqual(w.store.listDeleted().map((d) => d.name), ['gone']);
    }
    assert.ok(shared.data.has(entry('bearer:a')) && shared.data.has(entry('bearer:b')));
    assert.ok(shared.data.has(`mcpTokens/v2/trash/${trash.id}`));
    assert.equal(shared.data.get(V1_INDEX), old, 'the old document is kept as it was');
    await w1.store.delete({ namespace: 'bearer', name: 'a' });
    await sleep(20);
    const fresh = openWindow(shared);
    await fresh.store.ready();
    assert.deepEqual(fresh.store.list().map((t) => t.name), ['b'], 'a migrated token deleted later stays deleted');
    assert.equal(await fresh.store.getPreviousValue({ namespace: 'bearer', name: 'b' }), 'v-b-old');
    const restored = fresh.store.listDeleted().find((d) => d.name === 'gone')!;
    await fresh.store.restoreDeleted(restored.id);
    assert.equal(await fresh.store.getValue({ namespace: 'bearer', name: 'gone' }), 'v-gone');
    for (const w of [w1, w2, fresh]) w.close();
  });
});
