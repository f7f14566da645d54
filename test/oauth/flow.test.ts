/**
 * The OAuth flow against a local OAuth-protected MCP server (SDK mcpAuthRouter + requireBearerAuth):
 * sign-in (the browser step simulated by following the authorization redirect), storage, use of the
 * Bearer token, refresh before expiry (on demand and on the timer), rotated refresh tokens,
 * invalid_grant → sign-in required, revocation on sign-out, and the refusals.
 */
import { after, afterEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { createAuthFetch } from '../../extension/oauth/authFetch';
import { OAuthFlowError } from '../../extension/oauth/errors';
import { headlessBrowser } from '../../extension/oauth/headless';
import { startLoopback } from '../../extension/oauth/loopback';
import { OAuthManager, type OAuthManagerOptions, type OAuthUi } from '../../extension/oauth/manager';
import { createMemoryTokenStore } from '../../extension/store/memoryStore';
import { clientKey, refreshKey } from '../../extension/oauth/session';
import { startTestOAuthServer, type TestOAuthServer, type TestServerOptions } from './fixtures/oauthServer';

const KEY = { namespace: 'oauth', name: 'test' };
const open: { close(): Promise<void> }[] = [];
const managers: OAuthManager[] = [];

after(async () => {
  for (const s of open.splice(0)) await s.close();
});
afterEach(() => {
  for (const m of managers.splice(0)) m.dispose();
});

async function server(options: TestServerOptions = {}): Promise<TestOAuthServer> {
  const s = await startTestOAuthServer(options);
  open.push(s);
  return s;
}

function ui(confirm = true, browser: (url: URL) => Promise<void> = headlessBrowser) {
  const asked: string[] = [];
  const notified: string[] = [];
  const value: OAuthUi = {
    openBrowser: browser,
    withProgress: (_title, task) => task(() => undefined, new AbortController().signal),
    confirmSignIn: async (_key, _server, reason) => {
      asked.push(reason);
      return confirm;
    },
    notifySignInRequired: (_key, message) => void notified.push(message),
  };
  return { ui: value, asked, notified };
}

type AuditEvent = Parameters<NonNullable<OAuthManagerOptions["audit"]>>[0];

function setup(options: { confirm?: boolean; now?: () => number; browser?: (url: URL) => Promise<void> } = {}) {
  const { store, backend } = createMemoryTokenStore();
  const logs: string[] = [];
  const audit: AuditEvent[] = [];
  const u = ui(options.confirm, options.browser);
  const manager = new OAuthManager(store, u.ui, { now: options.now, log: (level, m) => logs.push(`${level}: ${m}`), signInTimeoutMs: 10_000, audit: (e) => audit.push(e) });
  managers.push(manager);
  return { store, backend, manager, logs, audit, ...u };
}

/** Asserts no stored secret value appears in any of the texts. */
function assertNoSecrets(texts: readonly string[], secrets: Iterable<string>): void {
  for (const s of secrets) for (const t of texts) assert.ok(!t.includes(s), `a secret leaked into: ${t}`);
}

async function listToolsWith(url: string, manager: OAuthManager): Promise<string[]> {
  const client = new Client({ name: 'test', version: '1.0.0' });
  const transport = new StreamableHTTPClientTransport(new URL(url), { fetch: createAuthFetch(manager, KEY, { name: 'test', url }) });
  await client.connect(transport);
  try {
    return (await client.listTools()).tools.map((t) => t.name);
  } finally {
    await transport.close();
  }
}

describe('audit trail', () => {
  test('sign-in, a refresh and a refused refresh each leave one event (kind, token, outcome, server), never a value', async () => {
    const s = await server({ accessTtl: 120 });
    let offset = 0;
    const { manager, audit, backend } = setup({ now: () => Date.now() + offset, confirm: false });
    await manager.signIn(KEY, { name: 'test', url: s.mcpUrl });
    assert.deepEqual(audit.map((e) => [e.kind, e.outcome]), [['sign-in', 'ok']]);
    assert.deepEqual(audit[0]!.tokens, [KEY]);
    assert.equal(audit[0]!.actor?.server, 'test');

    assert.equal(await manager.ensureFresh(KEY, { url: s.mcpUrl }), true);
    assert.equal(audit.length, 1, 'a token still fresh is not refreshed, and nothing is recorded');
    offset = 100_000;
    assert.equal(await manager.ensureFresh(KEY, { url: s.mcpUrl }), true);
    assert.deepEqual(audit.map((e) => [e.kind, e.outcome]), [['sign-in', 'ok'], ['refresh', 'ok']]);

    const secrets = [...backend.values.values()];
    s.revokeAllRefreshTokens();
    assert.equal(await manager.refresh(KEY, { force: true }), 'sign-in-required');
    const last = audit.at(-1)!;
    assert.deepEqual([last.kind, last.outcome, last.reason], ['refresh', 'failed', 'sign-in-required']);
    assert.equal(audit.length, 3);
    assertNoSecrets(audit.map((e) => JSON.stringify(e)), secrets);
  });

  test('a sign-in refused by the authorization server is recorded as failed, with the reason', async () => {
    const s = await server({ iss: 'wrong' });
    const { manager, audit } = setup();
    await assert.rejects(manager.signIn(KEY, { url: s.mcpUrl }));
    assert.equal(audit.length, 1);
    assert.deepEqual([audit[0]!.kind, audit[0]!.outcome], ['sign-in', 'failed']);
    assert.match(audit[0]!.reason ?? '', /RFC 9207|iss/);
  });
});

describe('sign-in', () => {
  test('full flow: discovery, DCR, PKCE, resource, loopback, token exchange; the token lands in the store and is accepted', async () => {
    const s = await server();
    const { store, backend, manager, logs } = setup();
    const meta = await manager.signIn(KEY, { name: 'test', url: s.mcpUrl });

    assert.equal(meta.type, 'oauth');
    assert.equal(meta.oauth?.issuer, s.issuer);
    assert.equal(meta.oauth?.resource, s.mcpUrl);
    assert.equal(meta.oauth?.serverUrl, s.mcpUrl);
    assert.deepEqual(meta.oauth?.scopes, ['mcp:read', 'mcp:write']);
    assert.equal(meta.oauth?.hasRefreshToken, true);
    assert.ok(meta.oauth?.clientId);
    assert.ok(meta.expiresAt && Date.parse(meta.expiresAt) > Date.now() + 3500_000);

    const access = await store.getValue(KEY);
    assert.ok(access && s.accessTokens.has(access), 'the stored value is the access token the server issued');
    const refresh = await store.getValue(refreshKey(KEY));
    assert.ok(refresh && s.refreshTokens.has(refresh), 'the refresh token is stored as a companion secret');
    const client = JSON.parse((await store.getValue(clientKey(s.issuer)))!);
    assert.equal(client.client_id, meta.oauth?.clientId);
    assert.equal(client.issuer, s.issuer);
    assert.equal(s.authorizationResources[0], s.mcpUrl, 'resource (RFC 8707) sent in the authorization request');

    assert.deepEqual(await listToolsWith(s.mcpUrl, manager), ['whoami']);
    assert.ok(s.accepted.includes(access!), 'the server received Authorization: Bearer <access token>');
    assert.equal(s.grants.authorization_code, 1, 'no second sign-in was needed');
    assertNoSecrets([...logs, store.list().map((t) => JSON.stringify(t)).join()], backend.values.values());
  });

  test('the client registration is reused (keyed by issuer) for a second server name', async () => {
    const s = await server();
    const { manager, store } = setup();
    const first = await manager.signIn(KEY, { url: s.mcpUrl });
    const second = await manager.signIn({ namespace: 'oauth', name: 'other' }, { url: s.mcpUrl });
    assert.equal(second.oauth?.clientId, first.oauth?.clientId);
    assert.equal(store.listAll().filter((t) => t.namespace === 'oauth-client').length, 1);
  });

  test('RFC 9207: a correct iss is accepted', async () => {
    const s = await server({ iss: 'correct', advertiseIss: true });
    const { manager } = setup();
    const meta = await manager.signIn(KEY, { url: s.mcpUrl });
    assert.equal(meta.oauth?.issuer, s.issuer);
  });

  test('ensureFresh signs in (after asking) when the token is missing', async () => {
    const s = await server();
    const { manager, asked, store } = setup();
    assert.equal(await manager.ensureFresh(KEY, { name: 'test', url: s.mcpUrl }), true);
    assert.match(asked[0], /not signed in/);
    assert.ok(await store.getValue(KEY));
  });

  test('ensureFresh returns false when the user declines', async () => {
    const s = await server();
    const { manager, asked } = setup({ confirm: false });
    assert.equal(await manager.ensureFresh(KEY, { name: 'test', url: s.mcpUrl }), false);
    assert.equal(asked.length, 1);
    assert.equal(s.grants.authorization_code, 0);
  });
});

describe('refresh', () => {
  test('before expiry at server start: new access token, rotated refresh token stored, old one dead', async () => {
    const s = await server({ accessTtl: 120 });
    let offset = 0;
    const { manager, store } = setup({ now: () => Date.now() + offset });
    await manager.signIn(KEY, { url: s.mcpUrl });
    const access1 = await store.getValue(KEY);
    const refresh1 = await store.getValue(refreshKey(KEY));

    assert.equal(await manager.ensureFresh(KEY, { url: s.mcpUrl }), true);
    assert.equal(s.grants.refresh_token, 0, 'a token valid for 2 minutes is not refreshed yet');

    offset = 100_000; // 20 s left: within the margin (half the lifetime)
    assert.equal(await manager.ensureFresh(KEY, { url: s.mcpUrl }), true);
    assert.equal(s.grants.refresh_token, 1);
    const access2 = await store.getValue(KEY);
    const refresh2 = await store.getValue(refreshKey(KEY));
    assert.notEqual(access2, access1);
    assert.notEqual(refresh2, refresh1);
    assert.ok(s.refreshTokens.has(refresh2!), 'the rotated refresh token is the stored one');
    assert.ok(!s.refreshTokens.has(refresh1!), 'the old refresh token no longer works');
    assert.ok(Date.parse(store.get(KEY)!.expiresAt!) > Date.now() + 100_000);
  });

  test('a rotated refresh token is kept even when storing the access token fails', async () => {
    const s = await server();
    const { manager, store, backend } = setup();
    await manager.signIn(KEY, { url: s.mcpUrl });
    const write = backend.write.bind(backend);
    backend.write = async (key, value) => {
      if (key.namespace === 'oauth') throw new Error('backend unavailable');
      return write(key, value);
    };
    assert.equal(await manager.refresh(KEY, { force: true }), 'failed');
    const kept = await store.getValue(refreshKey(KEY));
    assert.ok(kept && s.refreshTokens.has(kept), 'the stored refresh token is the rotated one the server accepts');
    backend.write = write;
    assert.equal(await manager.refresh(KEY, { force: true }), 'refreshed', 'the next refresh works');
  });

    test('concurrent refreshes share one token request (a rotated refresh token is used once)', async () => {
    const s = await server();
    const { manager } = setup();
    await manager.signIn(KEY, { url: s.mcpUrl });
    const outcomes = await Promise.all([manager.refresh(KEY, { force: true }), manager.refresh(KEY, { force: true })]);
    assert.deepEqual(outcomes, ['refreshed', 'refreshed']);
    assert.equal(s.grants.refresh_token, 1);
  });

  test('the timer refreshes before expiry', async () => {
    const s = await server({ accessTtl: 2 });
    const { manager, store } = setup();
    await manager.signIn(KEY, { url: s.mcpUrl });
    const access1 = await store.getValue(KEY);
    manager.schedule();
    const refreshed = await new Promise<boolean>((resolve) => {
      const timeout = setTimeout(() => resolve(false), 5000);
      const sub = store.onDidChange(async (e) => {
        if (e.keys.some((k) => k.namespace === 'oauth' && k.name === 'test') && (await store.getValue(KEY)) !== access1) {
          clearTimeout(timeout);
          sub.dispose();
          resolve(true);
        }
      });
    });
    assert.ok(refreshed, 'the access token was replaced by the timer');
    assert.ok(s.grants.refresh_token >= 1);
    assert.ok(Date.parse(store.get(KEY)!.expiresAt!) > Date.now(), 'the new token has not expired');
  });

  test('invalid_grant marks the token "sign-in required" and asks the user', async () => {
    const s = await server();
    const { manager, store, asked, logs, backend } = setup({ confirm: false });
    await manager.signIn(KEY, { url: s.mcpUrl });
    const secrets = [...backend.values.values()];
    s.revokeAllRefreshTokens();
    assert.equal(await manager.refresh(KEY, { force: true }), 'sign-in-required');
    assert.equal(store.get(KEY)?.oauth?.signInRequired, true);
    assert.equal(await manager.ensureFresh(KEY, { url: s.mcpUrl }), false, 'declined: the server must not start');
    assert.match(asked.at(-1)!, /expired or was revoked/);
    assert.ok(logs.some((l) => /refresh token was refused/.test(l)));
    assertNoSecrets(logs, secrets);
  });

  test('a new sign-in clears "sign-in required"', async () => {
    const s = await server();
    const { manager, store } = setup();
    await manager.signIn(KEY, { url: s.mcpUrl });
    s.revokeAllRefreshTokens();
    await manager.refresh(KEY, { force: true });
    assert.equal(await manager.ensureFresh(KEY, { url: s.mcpUrl }), true);
    assert.equal(store.get(KEY)?.oauth?.signInRequired, undefined);
    assert.equal(s.grants.authorization_code, 2);
  });

  test('a 401 with a stored token refreshes once and retries', async () => {
    const s = await server();
    const { manager, store } = setup();
    await manager.signIn(KEY, { url: s.mcpUrl });
    s.accessTokens.clear(); // the server forgot the access token
    assert.deepEqual(await listToolsWith(s.mcpUrl, manager), ['whoami']);
    assert.equal(s.grants.refresh_token, 1);
    assert.equal(s.grants.authorization_code, 1);
    assert.ok(s.accepted.includes((await store.getValue(KEY))!));
  });
});

describe('step-up', () => {
  async function callWith(url: string, manager: OAuthManager) {
    const client = new Client({ name: 'test', version: '1.0.0' });
    const transport = new StreamableHTTPClientTransport(new URL(url), { fetch: createAuthFetch(manager, KEY, { name: 'test', url }) });
    await client.connect(transport);
    try {
      return await client.callTool({ name: 'whoami', arguments: {} });
    } finally {
      await transport.close();
    }
  }

  test('403 insufficient_scope: a new sign-in with the union of the scopes', async () => {
    const s = await server({ callScope: 'mcp:admin' });
    const { manager, store } = setup();
    await manager.signIn(KEY, { url: s.mcpUrl });
    const result = await callWith(s.mcpUrl, manager);
    assert.equal(result.isError, undefined);
    assert.equal(s.grants.authorization_code, 2);
    assert.deepEqual(store.get(KEY)?.oauth?.scopes, ['mcp:read', 'mcp:write', 'mcp:admin']);
  });

  test('a step-up that never succeeds stops after a bounded number of authorizations', async () => {
    const s = await server({ callNeverAllowed: true });
    const { manager } = setup();
    await assert.rejects(callWith(s.mcpUrl, manager), /after 3 authorizations.*insufficient scope/);
    // One sign-in for `initialize`, then at most three for the refused `tools/call`.
    assert.equal(s.grants.authorization_code, 1 + 3);
  });
});

describe('sign-out', () => {
  test('revokes the refresh and access tokens (RFC 7009) and deletes them', async () => {
    const s = await server();
    const { manager, store } = setup();
    await manager.signIn(KEY, { url: s.mcpUrl });
    const access = await store.getValue(KEY);
    const refresh = await store.getValue(refreshKey(KEY));
    const result = await manager.signOut(KEY);
    assert.deepEqual(result, { revoked: true, error: undefined });
    assert.deepEqual(s.revoked.sort(), [access, refresh].sort());
    assert.ok(!store.has(KEY));
    assert.ok(!store.has(refreshKey(KEY)));
    assert.ok(store.has(clientKey(s.issuer)), 'the client registration (per issuer) stays');
  });

  test('without a revocation endpoint the tokens are deleted only', async () => {
    const s = await server({ noRevocation: true, metadata: (m) => ({ ...m, revocation_endpoint: undefined }) });
    const { manager, store } = setup();
    await manager.signIn(KEY, { url: s.mcpUrl });
    assert.deepEqual(await manager.signOut(KEY), { revoked: false, error: undefined });
    assert.ok(!store.has(KEY));
  });
});

describe('refusals', () => {
  async function refused(options: TestServerOptions, failure: string, message: RegExp, browser = headlessBrowser): Promise<void> {
    const s = await server(options);
    const { store, manager } = setup({ browser });
    await assert.rejects(
      manager.signIn(KEY, { url: s.mcpUrl }),
      (e: unknown) => {
        assert.ok(e instanceof OAuthFlowError, `expected an OAuthFlowError, got ${String(e)}`);
        assert.equal(e.failure, failure);
        assert.match(e.message, message);
        assert.ok(!/at-|rt-|code=/.test(e.message), 'no token or code in the message');
        return true;
      },
    );
    assert.equal(s.grants.authorization_code, 0, 'no token was issued');
    assert.deepEqual(
      store.list().filter((t) => t.namespace !== 'oauth-client').map((t) => t.namespace),
      [],
      'no access or refresh token was stored (a client registration may be)',
    );
  }

  test('wrong state: the forged answer is refused (400) and ignored; without the real one the sign-in times out', async () => {
    const s = await server();
    const { store, backend } = createMemoryTokenStore();
    const manager = new OAuthManager(store, ui(true, async (url: URL) => {
      const r = await fetch(url, { redirect: 'manual' });
      const location = new URL(r.headers.get('location')!);
      location.searchParams.set('state', 'forged-state');
      const answer = await fetch(location);
      await answer.body?.cancel();
      assert.equal(answer.status, 400);
    }).ui, { signInTimeoutMs: 1500 });
    managers.push(manager);
    await assert.rejects(manager.signIn(KEY, { url: s.mcpUrl }), (e: unknown) => e instanceof OAuthFlowError && e.failure === 'timeout');
    assert.equal(s.grants.authorization_code, 0, 'no token was issued');
    assert.deepEqual([...backend.values.keys()].filter((k) => !k.startsWith('oauth-client')), []);
  });

  test('loopback: a callback without state is refused (400) and the receiver keeps waiting for the right one', async () => {
    const receiver = await startLoopback({ timeoutMs: 5000 });
    const waiting = receiver.wait('expected');
    waiting.catch(() => undefined);
    const r = await fetch(`${receiver.redirectUri}?code=abc`);
    assert.equal(r.status, 400);
    const ok = await fetch(`${receiver.redirectUri}?code=real&state=expected`);
    assert.equal(ok.status, 200);
    assert.deepEqual(await waiting, { code: 'real', iss: undefined });
  });

  test('loopback: times out and cancels', async () => {
    const a = await startLoopback({ timeoutMs: 50 });
    await assert.rejects(a.wait('s'), (e: unknown) => e instanceof OAuthFlowError && e.failure === 'timeout');
    const ctrl = new AbortController();
    const b = await startLoopback({ timeoutMs: 5000, signal: ctrl.signal });
    const w = b.wait('s');
    w.catch(() => undefined);
    ctrl.abort();
    await assert.rejects(w, (e: unknown) => e instanceof OAuthFlowError && e.failure === 'cancelled');
  });

  test('wrong iss (RFC 9207)', () => refused({ iss: 'wrong' }, 'iss_mismatch', /RFC 9207/));
  test('missing iss where the server advertises it', () => refused({ iss: 'none', advertiseIss: true }, 'iss_missing', /iss/));
  test('issuer mismatch in the authorization server metadata', () =>
    refused({ metadata: (m) => ({ ...m, issuer: 'https://evil.example/' }) }, 'issuer_mismatch', /names the issuer https:\/\/evil\.example\//));
  test('PKCE not advertised', () =>
    refused({ metadata: ({ code_challenge_methods_supported: _omit, ...m }) => m }, 'pkce_unsupported', /PKCE/));
  test('PKCE advertised without S256', () => refused({ metadata: (m) => ({ ...m, code_challenge_methods_supported: ['plain'] }) }, 'pkce_unsupported', /S256/));
  test('resource mismatch in the Protected Resource Metadata', () =>
    refused({ prmResource: () => 'https://other.example/mcp' }, 'resource_mismatch', /other\.example.*does not cover/));
});
