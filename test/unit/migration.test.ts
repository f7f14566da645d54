import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { describeMigration, loadMigration, MigrationInProgressError, resumeMigration, startMigration, type MigrationJournal, type MigrationState } from '../../extension/backends/migration';
import { TokenStore } from '../../extension/store/tokenStore';
import { MemoryBackend, MemoryIndex } from './support/memoryBackend';

function make() {
  const local = new MemoryBackend('secretStorage');
  const keyring = new MemoryBackend('keyring');
  const index = new MemoryIndex();
  const store = new TokenStore({ backends: [local, keyring], index, backendFor: () => 'secretStorage' });
  let saved: MigrationState | undefined;
  const saves: Array<MigrationState | undefined> = [];
  const journal: MigrationJournal = {
    load: async () => saved,
    save: async (s) => {
      saved = s ? structuredClone(s) : undefined;
      saves.push(saved);
    },
  };
  return { local, keyring, index, store, journal, saves, saved: () => saved };
}

async function seed(store: TokenStore, n: number) {
  for (let i = 1; i <= n; i++) await store.set({ namespace: 'bearer', name: `t${i}`, type: 'bearer', value: `value-${i}` });
}

describe('TokenStore.moveToBackend', () => {
  it('copies value and previous value, verifies, updates the index, then removes the source', async () => {
    const { store, local, keyring, index } = make();
    await store.set({ namespace: 'bearer', name: 'a', type: 'bearer', value: 'one' });
    await store.rotate({ namespace: 'bearer', name: 'a' }, 'two');
    const r = await store.moveToBackend({ namespace: 'bearer', name: 'a' }, 'keyring');
    assert.equal(r.meta.backend, 'keyring');
    assert.equal(r.leftover, undefined);
    assert.equal(keyring.values.get('bearer:a'), 'two');
    // The previous value is version 1 of the history, which moves with the token (a copy in the target).
    assert.deepEqual([...keyring.values.entries()].filter(([k]) => k.startsWith('history:')).map(([, v]) => v), ['one']);
    assert.equal(local.values.size + local.previous.size, 0);
    assert.equal(index.tokens()[0].backend, 'keyring');
    assert.equal(await store.getValue({ namespace: 'bearer', name: 'a' }), 'two');
    assert.equal(await store.getPreviousValue({ namespace: 'bearer', name: 'a' }), 'one');
  });

  it('a failed copy, a failed read-back or a failed index save leaves the token where it was', async () => {
    const { store, local, keyring, index } = make();
    await seed(store, 1);
    const key = { namespace: 'bearer', name: 't1' };
    keyring.failNext.add('write');
    await assert.rejects(store.moveToBackend(key, 'keyring'), /injected write/);
    index.failNextSave = true;
    await assert.rejects(store.moveToBackend(key, 'keyring'), /injected index/);
    const realRead = keyring.read.bind(keyring);
    keyring.read = async (k) => ((await realRead(k)) ? 'corrupted' : undefined);
    await assert.rejects(store.moveToBackend(key, 'keyring'), /does not read back the same/);
    keyring.read = realRead;
    assert.equal(store.get(key)?.backend, 'secretStorage');
    assert.equal(local.values.get('bearer:t1'), 'value-1');
    assert.equal(keyring.values.size, 0, 'partial copies are removed');
  });

  it('reports a source that could not be removed, and removes it when called again with `from`', async () => {
    const { store, local, keyring } = make();
    await seed(store, 1);
    const key = { namespace: 'bearer', name: 't1' };
    local.failNext.add('remove');
    const r = await store.moveToBackend(key, 'keyring');
    assert.match(r.leftover ?? '', /secretStorage: injected remove/);
    assert.equal(local.values.get('bearer:t1'), 'value-1');
    assert.equal(store.get(key)?.backend, 'keyring');
    const again = await store.moveToBackend(key, 'keyring', 'secretStorage');
    assert.equal(again.leftover, undefined);
    assert.equal(local.values.size, 0);
    assert.equal(keyring.values.get('bearer:t1'), 'value-1');
  });
});

describe('migration (journaled, resumable)', () => {
  it('moves the chosen tokens and clears the journal', async () => {
    const { store, keyring, journal, saved } = make();
    await seed(store, 3);
    const progress: number[] = [];
    const r = await startMigration(store, journal, [{ namespace: 'bearer', name: 't1' }, { namespace: 'bearer', name: 't3' }], 'keyring', { onProgress: (d) => progress.push(d) });
    assert.deepEqual(r.moved.map((k) => k.name), ['t1', 't3']);
    assert.equal(r.resumable, false);
    assert.equal(saved(), undefined);
    assert.deepEqual([...keyring.values.keys()].sort(), ['bearer:t1', 'bearer:t3']);
    assert.equal(store.get({ namespace: 'bearer', name: 't2' })?.backend, 'secretStorage');
    assert.deepEqual(progress, [1, 2]);
    assert.match(describeMigration(r), /2 tokens moved to keyring/);
  });

  it('an injected failure part-way loses nothing; resuming finishes the job', async () => {
    const { store, local, keyring, journal, saved } = make();
    await seed(store, 4);
    // The third copy fails (as if the keyring went away mid-migration).
    let writes = 0;
    const realWrite = keyring.write.bind(keyring);
    keyring.write = async (k, v, m) => {
      if (++writes === 3) throw new Error('keyring went away');
      return realWrite(k, v, m);
    };
    const r1 = await startMigration(store, journal, store.list(), 'keyring');
    assert.equal(r1.moved.length, 3);
    assert.equal(r1.failed.length, 1);
    assert.match(r1.failed[0].reason, /keyring went away/);
    assert.equal(r1.resumable, true);
    const state = await loadMigration(journal);
    assert.deepEqual(state?.items.map((i) => i.status), ['moved', 'moved', 'failed', 'moved']);
    assert.ok(!JSON.stringify(saved()).includes('value-'), 'the journal holds no values');
    // Nothing is lost: every token still resolves, from wherever it is.
    for (let i = 1; i <= 4; i++) assert.equal(await store.getValue({ namespace: 'bearer', name: `t${i}` }), `value-${i}`);
    await assert.rejects(startMigration(store, journal, store.list(), 'keyring'), MigrationInProgressError);

    const r2 = await resumeMigration(store, journal);
    assert.deepEqual(r2?.moved.map((k) => k.name), ['t3']);
    assert.equal(r2?.resumable, false);
    assert.equal(saved(), undefined);
    assert.equal(local.values.size, 0);
    assert.equal(keyring.values.size, 4);
    assert.ok(store.list().every((t) => t.backend === 'keyring'));
    assert.equal(await resumeMigration(store, journal), undefined);
  });

  it('an interruption after the index was saved (source not removed) is cleaned up on resume', async () => {
    const { store, local, keyring, journal } = make();
    await seed(store, 2);
    local.failNext.add('remove');
    const r1 = await startMigration(store, journal, store.list(), 'keyring');
    assert.equal(r1.leftovers.length, 1);
    assert.equal(r1.resumable, true);
    assert.equal(local.values.size, 1);
    const r2 = await resumeMigration(store, journal);
    assert.equal(r2?.resumable, false);
    assert.equal(local.values.size, 0);
    assert.equal(keyring.values.size, 2);
  });

  it('a crash between saving the journal and the move (state reloaded from storage) resumes', async () => {
    const { store, keyring, journal } = make();
    await seed(store, 2);
    // Simulate a window that died right after writing the journal: the journal says pending.
    await journal.save({ version: 1, to: 'keyring', startedAt: new Date().toISOString(), items: store.list().map((t) => ({ namespace: t.namespace, name: t.name, from: t.backend, status: 'pending' as const })) });
    const r = await resumeMigration(store, journal);
    assert.equal(r?.moved.length, 2);
    assert.equal(keyring.values.size, 2);
  });
});
