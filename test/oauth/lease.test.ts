/**
 * The lease (extension/store/lease.ts) on its own: take, contend, expire, renew, release, with an
 * injected clock and sleep (no real time passes) and a memory storage.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Leases, LEASE_PREFIX, leaseRecordSchema, memoryLeaseStorage, secretStorageLeaseStorage, type LeaseStorage } from '../../extension/store/lease';
import { Emitter } from '../../extension/platform/event';

function clock(start = 1_000_000) {
  let t = start;
  return {
    now: () => t,
    advance: (ms: number) => void (t += ms),
  };
}

function leasesOver(storage: LeaseStorage, c: ReturnType<typeof clock>, owner: string, sleep?: (ms: number) => Promise<void>) {
  return new Leases(storage, { owner, now: c.now, ttlMs: 60_000, settleMs: 500, sleep: sleep ?? (async (ms) => c.advance(ms)) });
}

describe('lease', () => {
  test('take: a free lease is taken after the settle time; the record holds owner and expiry, no secret', async () => {
    const storage = memoryLeaseStorage();
    const c = clock();
    const a = leasesOver(storage, c, 'A');
    const start = c.now();
    const lease = await a.acquire('x');
    assert.ok(lease);
    assert.equal(c.now() - start, 500, 'waited the settle time before reading back');
    const record = leaseRecordSchema.parse(JSON.parse(storage.records.get('x')!));
    assert.deepEqual(record, { v: 1, owner: 'A', expiresAt: start + 60_000 });
    assert.equal(await lease.held(), true);
  });

  test('contend: a live lease of another owner is not taken', async () => {
    const storage = memoryLeaseStorage();
    const c = clock();
    const a = leasesOver(storage, c, 'A');
    const b = leasesOver(storage, c, 'B');
    assert.ok(await a.acquire('x'));
    assert.equal(await b.acquire('x'), undefined);
    c.advance(59_000);
    assert.equal(await b.acquire('x'), undefined, 'still live one second before expiry');
    assert.equal(leaseRecordSchema.parse(JSON.parse(storage.records.get('x')!)).owner, 'A');
  });

  test('contend: two windows writing at once: the read back decides, exactly one wins', async () => {
    const storage = memoryLeaseStorage();
    const c = clock();
    // Both read "free" and write before either reads back: the last write stands.
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let sleeping = 0;
    const sleep = async () => {
      if (++sleeping === 2) release();
      await gate;
    };
    const a = leasesOver(storage, c, 'A', sleep);
    const b = leasesOver(storage, c, 'B', sleep);
    const [la, lb] = await Promise.all([a.acquire('x'), b.acquire('x')]);
    assert.equal([la, lb].filter(Boolean).length, 1, 'one owner');
    assert.ok(lb, 'the last writer holds it');
    assert.equal(la, undefined);
  });

  test('expire: a lease not renewed is taken over after its expiry (a crashed holder)', async () => {
    const storage = memoryLeaseStorage();
    const c = clock();
    const a = leasesOver(storage, c, 'A');
    const b = leasesOver(storage, c, 'B');
    assert.ok(await a.acquire('x'));
    c.advance(60_000);
    const lb = await b.acquire('x');
    assert.ok(lb, 'taken over');
    assert.equal(leaseRecordSchema.parse(JSON.parse(storage.records.get('x')!)).owner, 'B');
  });

  test('renew: extends the expiry; refused once another owner took it', async () => {
    const storage = memoryLeaseStorage();
    const c = clock();
    const a = leasesOver(storage, c, 'A');
    const b = leasesOver(storage, c, 'B');
    const la = (await a.acquire('x'))!;
    c.advance(50_000);
    assert.equal(await la.renew(), true);
    c.advance(50_000);
    assert.equal(await b.acquire('x'), undefined, 'renewed: still live 100 s after it was taken');
    assert.equal(await la.held(), true);
    c.advance(60_000);
    assert.equal(await la.held(), false, 'expired');
    assert.ok(await b.acquire('x'));
    assert.equal(await la.renew(), false, 'B holds it now');
    assert.equal(leaseRecordSchema.parse(JSON.parse(storage.records.get('x')!)).owner, 'B', 'the renewal wrote nothing');
  });

  test('keepAlive renews on a timer and reports a lost lease', async () => {
    const storage = memoryLeaseStorage();
    const a = new Leases(storage, { owner: 'A', ttlMs: 60, settleMs: 0 });
    const b = new Leases(storage, { owner: 'B', ttlMs: 60, settleMs: 0 });
    const la = (await a.acquire('x'))!;
    let lost = 0;
    const keep = la.keepAlive(() => lost++);
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(await b.acquire('x'), undefined, 'kept alive for 200 ms with a 60 ms lease');
    keep.dispose();
    await new Promise((r) => setTimeout(r, 100));
    const lb = await b.acquire('x');
    assert.ok(lb, 'expired once renewals stopped');
    const keep2 = la.keepAlive(() => lost++);
    await new Promise((r) => setTimeout(r, 60));
    keep2.dispose();
    assert.equal(lost, 1, 'the renewal found B holding it');
  });

  test('release: frees the lease at once and records the result; a lease no longer mine is left alone', async () => {
    const storage = memoryLeaseStorage();
    const c = clock();
    const a = leasesOver(storage, c, 'A');
    const b = leasesOver(storage, c, 'B');
    const la = (await a.acquire('x'))!;
    await la.release({ outcome: 'refreshed', at: c.now(), tokenExpiresAt: c.now() + 3600_000 });
    const released = await b.read('x');
    assert.equal(released?.expiresAt, 0);
    assert.deepEqual(released?.result, { outcome: 'refreshed', at: c.now(), tokenExpiresAt: c.now() + 3600_000 });
    const lb = (await b.acquire('x'))!;
    assert.ok(lb, 'free right after the release');
    assert.deepEqual((await b.read('x'))?.result, released?.result, 'the result is kept while B holds it');
    await la.release({ outcome: 'failed', at: c.now() });
    assert.equal((await b.read('x'))?.owner, 'B', "A's late release does not touch B's lease");
    await lb.release();
    assert.deepEqual((await b.read('x'))?.result, released?.result, 'a release without result keeps the last one');
  });

  test('a record that is not valid JSON or not a lease counts as free', async () => {
    const storage = memoryLeaseStorage();
    const c = clock();
    const a = leasesOver(storage, c, 'A');
    for (const junk of ['{', '[]', JSON.stringify({ v: 2, owner: 'B', expiresAt: c.now() + 1e9 }), JSON.stringify({ v: 1, owner: '', expiresAt: 1 })]) {
      storage.records.set('x', junk);
      assert.equal(await a.read('x'), undefined);
      const l = await a.acquire('x');
      assert.ok(l, `taken over ${junk}`);
      await l.release();
    }
  });

  test('SecretStorage adapter: keys under mcpTokens/v1/lease/, change events of that prefix only', async () => {
    const values = new Map<string, string>();
    const changed = new Emitter<{ key: string }>();
    const secrets = {
      get: async (k: string) => values.get(k),
      store: async (k: string, v: string) => {
        values.set(k, v);
        changed.fire({ key: k });
      },
      delete: async (k: string) => {
        values.delete(k);
        changed.fire({ key: k });
      },
      onDidChange: changed.event,
    };
    const storage = secretStorageLeaseStorage(secrets);
    const seen: string[] = [];
    storage.onDidChange((n) => seen.push(n));
    await storage.set('oauth-refresh/oauth:a', '{}');
    await secrets.store('mcpTokens/v1/index', '{}');
    assert.deepEqual([...values.keys()], [`${LEASE_PREFIX}oauth-refresh/oauth:a`, 'mcpTokens/v1/index']);
    assert.equal(await storage.get('oauth-refresh/oauth:a'), '{}');
    await storage.delete('oauth-refresh/oauth:a');
    assert.equal(await storage.get('oauth-refresh/oauth:a'), undefined);
    assert.deepEqual(seen, ['oauth-refresh/oauth:a', 'oauth-refresh/oauth:a']);
    storage.dispose();
  });
});
