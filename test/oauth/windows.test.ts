/**
 * Several VS Code windows, one machine: each window has its own TokenStore (SecretStorage backend and
 * index, as extension/backends/index.ts builds them) and its own OAuthManager, over one shared
 * SecretStorage (test/oauth/fixtures/sharedSecrets.ts: per-window caches, changes propagated to every
 * window after a delay). The authorization server rotates refresh tokens and revokes the whole grant
 * when a rotated-away refresh token is presented again (reuse detection). Whatever the number of
 * windows, the token endpoint must see exactly one refresh per expiry, never `invalid_grant`, and
 * every window must end with the same new access token.
 */
import { after, afterEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { headlessBrowser } from '../../extension/oauth/headless';
import { Leases, secretStorageLeaseStorage, type LeaseStorage } from '../../extension/store/lease';
import { OAuthManager, type OAuthUi } from '../../extension/oauth/manager';
import { refreshKey } from '../../extension/oauth/session';
import { SecretStorageBackend, SecretStorageIndex } from '../../extension/backends/secretStorage';
import { TokenStore } from '../../extension/store/tokenStore';
import { startTestOAuthServer, type TestOAuthServer, type TestServerOptions } from './fixtures/oauthServer';
import { SharedSecrets, type WindowSecrets } from './fixtures/sharedSecrets';

const KEY = { namespace: 'oauth', name: 'test' };
/** Short lease times for the tests: propagation 20 ms, settle 120 ms, lease 1.5 s. */
const PROPAGATION_MS = 20;
const SETTLE_MS = 120;
const TTL_MS = 1500;

const servers: TestOAuthServer[] = [];
const disposables: { dispose(): void }[] = [];
after(async () => {
  for (const s of servers.splice(0)) await s.close();
});
afterEach(() => {
  for (const d of disposables.splice(0).reverse()) d.dispose();
});

async function server(options: TestServerOptions = {}): Promise<TestOAuthServer> {
  const s = await startTestOAuthServer({ rotateRefresh: true, reuseDetection: true, ...options });
  servers.push(s);
  return s;
}

function ui(): OAuthUi & { notified: string[]; asked: string[] } {
  const notified: string[] = [];
  const asked: string[] = [];
  return {
    notified,
    asked,
    openBrowser: headlessBrowser,
    withProgress: (_title, task) => task(() => undefined, new AbortController().signal),
    confirmSignIn: async (_k, _s, reason) => {
      asked.push(reason);
      return false;
    },
    notifySignInRequired: (_k, message) => void notified.push(message),
  };
}

interface Window {
  readonly id: number;
  readonly secrets: WindowSecrets;
  readonly store: TokenStore;
  readonly leaseStorage: LeaseStorage;
  readonly manager: OAuthManager;
  readonly ui: ReturnType<typeof ui>;
  readonly logs: string[];
}

function storeFor(secrets: WindowSecrets): TokenStore {
  const backend = new SecretStorageBackend(secrets);
  const index = new SecretStorageIndex(secrets);
  const store = new TokenStore({
    backends: [backend],
    index,
    backendFor: () => 'secretStorage',
    companionsOf: (meta) => (meta.type === 'oauth' ? [refreshKey(meta)] : []),
  });
  disposables.push(backend, index, store);
  return store;
}

function openWindow(shared: SharedSecrets, id: number): Window {
  const secrets = shared.window();
  const store = storeFor(secrets);
  const leaseStorage = secretStorageLeaseStorage(secrets);
  const logs: string[] = [];
  const u = ui();
  const manager = new OAuthManager(store, u, {
    log: (level, m) => logs.push(`${level}: ${m}`),
    leases: new Leases(leaseStorage, { ttlMs: TTL_MS, settleMs: SETTLE_MS }),
  });
  disposables.push(leaseStorage, manager, { dispose: () => shared.close(secrets) });
  return { id, secrets, store, leaseStorage, manager, ui: u, logs };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Signs in once (as a window that then closes), waits until the shared store has every write. */
async function signedIn(shared: SharedSecrets, s: TestOAuthServer): Promise<{ access: string; expiresAt: string }> {
  const secrets = shared.window();
  const store = storeFor(secrets);
  const manager = new OAuthManager(store, ui());
  const meta = await manager.signIn(KEY, { name: 'test', url: s.mcpUrl });
  const access = (await store.getValue(KEY))!;
  manager.dispose();
  shared.close(secrets);
  await sleep(PROPAGATION_MS * 3);
  return { access, expiresAt: meta.expiresAt! };
}

/** Waits until every window holds the same access token other than `old`, with its new expiry. Returns the ms it took. */
async function converged(windows: readonly Window[], old: string, since: number, timeoutMs = 15_000): Promise<{ ms: number; access: string }> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const values = await Promise.all(windows.map((w) => w.store.getValue(KEY)));
    const expiries = windows.map((w) => w.store.get(KEY)?.expiresAt);
    if (values.every((v) => v && v !== old && v === values[0]) && expiries.every((e) => e === expiries[0])) {
      return { ms: Date.now() - since, access: values[0]! };
    }
    if (Date.now() > deadline) {
      assert.fail(`windows did not converge: ${values.map((v) => (v === old ? 'old' : v ? 'new' : 'none')).join(', ')}`);
    }
    await sleep(10);
  }
}

function figures(label: string, windows: number, s: TestOAuthServer, ms: number[]): void {
  const ok = s.refreshLog.filter((r) => r.outcome === 'ok').length;
  const bad = s.refreshLog.length - ok;
  console.log(
    `[figures] ${label}: windows=${windows} refresh requests at the token endpoint=${s.refreshLog.length} (ok=${ok}, refused=${bad}) grants revoked=${s.revokedFamilies.length} converged in ${ms.map((m) => `${m} ms`).join(', ')}`,
  );
}

function assertOneRefreshPerExpiry(s: TestOAuthServer, expiries: number): void {
  assert.deepEqual(
    s.refreshLog.map((r) => r.outcome),
    Array(expiries).fill('ok'),
    `exactly ${expiries} refresh request(s), none refused (refused ones mean a rotated refresh token was reused)`,
  );
  assert.deepEqual(s.revokedFamilies, [], 'the grant was not revoked');
}

async function assertSameValidToken(windows: readonly Window[], s: TestOAuthServer): Promise<void> {
  const values = new Set(await Promise.all(windows.map((w) => w.store.getValue(KEY))));
  assert.equal(values.size, 1, 'every window has the same access token');
  const [access] = values;
  assert.ok(access && s.accessTokens.has(access), 'the server accepts it');
  const refresh = new Set(await Promise.all(windows.map((w) => w.store.getValue(refreshKey(KEY)))));
  assert.equal(refresh.size, 1, 'every window has the same refresh token');
  assert.ok(s.refreshTokens.has([...refresh][0]!), 'the stored refresh token is the live one');
  for (const w of windows) {
    assert.equal(w.store.get(KEY)?.oauth?.signInRequired, undefined, `window ${w.id} is not "sign-in required"`);
    assert.deepEqual(w.ui.notified, [], `window ${w.id} did not tell its user to sign in again`);
    assert.ok(!w.logs.some((l) => /invalid_grant|refused/.test(l)), `window ${w.id} saw no refusal`);
    assert.ok(!w.logs.some((l) => /\b(at|rt)-[0-9a-f-]{36}\b/.test(l)), `window ${w.id} logged no token value`);
  }
}

describe('one refresher per token across windows', () => {
  for (const n of [2, 4]) {
    test(`${n} windows, every timer fires at once, two expiries: one refresh per expiry`, async () => {
      const s = await server({ accessTtl: 4 });
      const shared = new SharedSecrets(PROPAGATION_MS);
      const first = await signedIn(shared, s);
      const windows = Array.from({ length: n }, (_, i) => openWindow(shared, i));
      await Promise.all(windows.map((w) => w.store.ready()));
      // Each window arms its timer from the same metadata (half the 4 s lifetime before expiry).
      for (const w of windows) w.manager.schedule();
      const due = Date.parse(first.expiresAt) - 2000;
      const one = await converged(windows, first.access, due);
      assertOneRefreshPerExpiry(s, 1);
      const two = await converged(windows, one.access, Date.parse(windows[0].store.get(KEY)!.expiresAt!) - 2000);
      for (const w of windows) w.manager.dispose();
      await sleep(SETTLE_MS + PROPAGATION_MS * 3);
      figures(`timers, ${n} windows, 2 expiries`, n, s, [one.ms, two.ms]);
      assertOneRefreshPerExpiry(s, 2);
      await assertSameValidToken(windows, s);
    });

    test(`${n} windows start their servers at once with an expiring token: one refresh`, async () => {
      const s = await server({ accessTtl: 3600 });
      const shared = new SharedSecrets(PROPAGATION_MS);
      const first = await signedIn(shared, s);
      // The token expires in 60 s (and was issued an hour ago): every start refreshes it first.
      {
        const secrets = shared.window();
        const store = storeFor(secrets);
        await store.ready();
        await store.updateMetadata(KEY, { expiresAt: new Date(Date.now() + 60_000).toISOString(), updatedAt: new Date(Date.now() - 3600_000).toISOString() });
        shared.close(secrets);
        await sleep(PROPAGATION_MS * 3);
      }
      const windows = Array.from({ length: n }, (_, i) => openWindow(shared, i));
      await Promise.all(windows.map((w) => w.store.ready()));
      const started = Date.now();
      const results = await Promise.all(windows.map((w) => w.manager.ensureFresh(KEY, { name: 'test', url: s.mcpUrl })));
      const startedAll = Date.now() - started;
      assert.deepEqual(results, Array(n).fill(true), 'every server may start');
      const c = await converged(windows, first.access, started);
      await sleep(SETTLE_MS + PROPAGATION_MS * 3);
      figures(`server starts, ${n} windows (all ensureFresh resolved in ${startedAll} ms)`, n, s, [c.ms]);
      assertOneRefreshPerExpiry(s, 1);
      await assertSameValidToken(windows, s);
      for (const w of windows) assert.deepEqual(w.ui.asked, [], `window ${w.id} did not ask for a sign-in`);
      // Every window now starts with the token the server accepts.
      for (const w of windows) assert.ok(s.accessTokens.has((await w.store.getValue(KEY))!));
    });
  }

  test('the lease holder crashes (never releases): another window takes over after the lease expiry and refreshes once', async () => {
    const s = await server({ accessTtl: 3600 });
    const shared = new SharedSecrets(PROPAGATION_MS);
    const first = await signedIn(shared, s);
    const windows = Array.from({ length: 3 }, (_, i) => openWindow(shared, i));
    await Promise.all(windows.map((w) => w.store.ready()));
    // A fourth window took the lease, then its extension host died: no renewal, no release.
    const crashed = shared.window();
    const crashedLeases = new Leases(secretStorageLeaseStorage(crashed), { owner: 'crashed-window', ttlMs: TTL_MS, settleMs: SETTLE_MS });
    const lease = await crashedLeases.acquire('oauth-refresh/oauth:test');
    assert.ok(lease, 'the crashed window held the lease');
    const takenAt = Date.now();
    shared.close(crashed);
    await sleep(PROPAGATION_MS * 3);
    const outcomes = await Promise.all(windows.map((w) => w.manager.refresh(KEY, { force: true })));
    const waited = Date.now() - takenAt;
    assert.deepEqual(outcomes, ['refreshed', 'refreshed', 'refreshed']);
    assert.ok(waited >= TTL_MS - 50, `the others waited for the lease to expire (${waited} ms)`);
    const c = await converged(windows, first.access, takenAt);
    await sleep(SETTLE_MS + PROPAGATION_MS * 3);
    figures(`crashed holder, 3 windows (lease ${TTL_MS} ms; refreshed after ${waited} ms)`, 3, s, [c.ms]);
    assertOneRefreshPerExpiry(s, 1);
    await assertSameValidToken(windows, s);
  });

  test('a refresh slower than the lease keeps it by renewal: nobody takes over', async () => {
    const s = await server({ accessTtl: 3600, refreshDelayMs: Math.round(TTL_MS * 1.6) });
    const shared = new SharedSecrets(PROPAGATION_MS);
    const first = await signedIn(shared, s);
    const windows = Array.from({ length: 2 }, (_, i) => openWindow(shared, i));
    await Promise.all(windows.map((w) => w.store.ready()));
    const started = Date.now();
    const outcomes = await Promise.all(windows.map((w) => w.manager.refresh(KEY, { force: true })));
    assert.deepEqual(outcomes, ['refreshed', 'refreshed']);
    const c = await converged(windows, first.access, started);
    await sleep(SETTLE_MS + PROPAGATION_MS * 3);
    figures(`slow token endpoint (${Math.round(TTL_MS * 1.6)} ms > lease ${TTL_MS} ms), 2 windows`, 2, s, [c.ms]);
    assertOneRefreshPerExpiry(s, 1);
    await assertSameValidToken(windows, s);
  });

  test('the fixture: reusing a rotated refresh token revokes the whole grant', async () => {
    const s = await server();
    const shared = new SharedSecrets(PROPAGATION_MS);
    await signedIn(shared, s);
    const [w] = [openWindow(shared, 0)];
    await w.store.ready();
    const old = (await w.store.getValue(refreshKey(KEY)))!;
    assert.equal(await w.manager.refresh(KEY, { force: true }), 'refreshed');
    const access = (await w.store.getValue(KEY))!;
    assert.ok(s.accessTokens.has(access));
    // Another client presents the rotated-away refresh token.
    const { client_id } = [...s.clients.values()][0];
    const r = await fetch(`${s.base}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: old, client_id }),
    });
    assert.equal(r.status, 400);
    assert.equal(((await r.json()) as { error: string }).error, 'invalid_grant');
    assert.equal(s.revokedFamilies.length, 1);
    assert.ok(!s.accessTokens.has(access), 'the new access token is revoked with the grant');
    assert.equal(await w.manager.refresh(KEY, { force: true }), 'sign-in-required', 'and so is the new refresh token');
  });
});
