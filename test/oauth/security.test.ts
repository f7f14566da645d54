/**
 * Security finding 6 and the MUSTs of the MCP authorization spec 2026-07-28 around it, against the
 * local OAuth servers of fixtures/oauthServer.ts (the SDK's mcpAuthRouter on 127.0.0.1):
 *  - HTTPS for every endpoint and metadata document except on loopback (the URL policy is tested on
 *    host names without any network; the flow refuses before sending anything);
 *  - metadata only from the MCP server's origin and the authorization servers its PRM lists;
 *  - the loopback receiver ignores stray requests and still completes;
 *  - RFC 9207 before acting on an error response;
 *  - an authorization server change in the PRM: a new registration, old credentials never sent.
 * Every request goes to 127.0.0.1: the manager's fetch refuses (and counts) any other host.
 */
import { after, afterEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { OAuthFlowError } from '../../extension/oauth/errors';
import { headlessBrowser } from '../../extension/oauth/headless';
import { OAuthManager, type OAuthUi } from '../../extension/oauth/manager';
import { isLoopbackHost, requireSecureUrl } from '../../extension/oauth/policy';
import { createMemoryTokenStore } from '../../extension/store/memoryStore';
import { startTestOAuthServer, type TestOAuthServer, type TestServerOptions } from './fixtures/oauthServer';

const KEY = { namespace: 'oauth', name: 'sec' };
const open: { close(): Promise<void> }[] = [];
const managers: OAuthManager[] = [];
/** Requests the tests' fetch refused because they were not for a loopback address. */
const offLoopback: string[] = [];

after(async () => {
  for (const s of open.splice(0)) await s.close();
  assert.deepEqual(offLoopback, [], 'no request left the loopback interface');
});
afterEach(() => {
  for (const m of managers.splice(0)) m.dispose();
});

async function server(options: TestServerOptions = {}): Promise<TestOAuthServer> {
  const s = await startTestOAuthServer(options);
  open.push(s);
  return s;
}

/** fetch that only ever talks to loopback (a safety net for the tests, whatever the code under test does). */
const loopbackFetch = (url: string | URL, init?: RequestInit): Promise<Response> => {
  const u = new URL(url);
  if (!['127.0.0.1', 'localhost', '[::1]'].includes(u.hostname)) {
    offLoopback.push(u.origin);
    return Promise.reject(new TypeError(`test: refused to contact ${u.origin}`));
  }
  return fetch(u, init);
};

function setup(browser: (url: URL) => Promise<void> = headlessBrowser) {
  const { store } = createMemoryTokenStore();
  const logs: string[] = [];
  const ui: OAuthUi = {
    openBrowser: browser,
    withProgress: (_title, task) => task(() => undefined, new AbortController().signal),
    confirmSignIn: async () => true,
  };
  const manager = new OAuthManager(store, ui, { fetch: loopbackFetch, log: (level, m) => logs.push(`${level}: ${m}`), signInTimeoutMs: 10_000 });
  managers.push(manager);
  return { store, manager, logs };
}

/** A plain server on another port (another origin) that counts every request it gets. */
async function counter(respond: (req: IncomingMessage, base: string) => unknown = () => ({})): Promise<{ base: string; hits: string[]; close(): Promise<void> }> {
  const hits: string[] = [];
  let base = '';
  const http: Server = createServer((req, res) => {
    hits.push(`${req.method} ${req.url}`);
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(respond(req, base)));
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
  const handle = {
    base,
    hits,
    close: () =>
      new Promise<void>((resolve) => {
        http.closeAllConnections();
        http.close(() => resolve());
      }),
  };
  open.push(handle);
  return handle;
}

function failure(name: string, message?: RegExp) {
  return (e: unknown) => {
    assert.ok(e instanceof OAuthFlowError, `expected an OAuthFlowError, got ${String(e)}`);
    assert.equal(e.failure, name, e.message);
    if (message) assert.match(e.message, message);
    return true;
  };
}

describe('URL policy (no network)', () => {
  test('loopback hosts: 127.0.0.0/8, ::1, localhost; nothing else', () => {
    for (const h of ['127.0.0.1', '127.1.2.3', '127.255.255.254', 'localhost', 'LOCALHOST', 'app.localhost', '[::1]', '::1']) assert.ok(isLoopbackHost(h), h);
    for (const h of ['10.0.0.1', '192.168.1.1', '128.0.0.1', '0.0.0.0', 'localhost.example.com', '127.0.0.1.nip.io', 'example.com', '[::2]', '256.0.0.1'])
      assert.ok(!isLoopbackHost(h), h);
  });

  test('http:// on a non-loopback host is refused, naming the endpoint and not the path or query', () => {
    assert.throws(() => requireSecureUrl('http://auth.example.com/token?secret=abc', 'token endpoint'), (e: unknown) => {
      assert.ok(e instanceof OAuthFlowError);
      assert.equal(e.failure, 'insecure_endpoint');
      assert.match(e.message, /token endpoint/);
      assert.match(e.message, /auth\.example\.com/);
      assert.ok(!e.message.includes('secret=abc') && !e.message.includes('/token'), e.message);
      return true;
    });
    for (const u of ['http://10.1.2.3/token', 'http://localhost.example.com/t', 'ftp://auth.example.com/t', 'not a url'])
      assert.throws(() => requireSecureUrl(u, 'token endpoint'), failure('insecure_endpoint'));
  });

  test('https:// anywhere and http:// on loopback are allowed', () => {
    for (const u of ['https://auth.example.com/token', 'http://127.0.0.1:8080/token', 'http://localhost:3000/t', 'http://[::1]:9/t'])
      assert.doesNotThrow(() => requireSecureUrl(u, 'token endpoint'));
  });
});

describe('endpoints over http:// on a non-loopback host', () => {
  for (const field of ['token_endpoint', 'authorization_endpoint', 'registration_endpoint', 'revocation_endpoint'] as const) {
    test(`${field} is refused before anything is sent`, async () => {
      const s = await server({ metadata: (m) => ({ ...m, [field]: `http://auth.example.com/${field}` }) });
      const { manager, store } = setup();
      await assert.rejects(manager.signIn(KEY, { url: s.mcpUrl }), failure('insecure_endpoint', new RegExp(field.replace('_endpoint', ' endpoint'))));
      assert.equal(s.grants.authorization_code, 0);
      assert.ok(!s.requests.some((r) => r.path === '/register' || r.path === '/authorize'), 'no registration or authorization was started');
      assert.equal(store.list().length, 0);
    });
  }

  test('an authorization server listed with http:// on a non-loopback host is refused', async () => {
    const s = await server({ authorizationServers: () => ['http://auth.example.com/'] });
    const { manager } = setup();
    await assert.rejects(manager.signIn(KEY, { url: s.mcpUrl }), failure('insecure_endpoint', /authorization server/));
  });
});

describe('where metadata comes from', () => {
  test("a resource_metadata URL on another origin is not fetched; the server's well-known PRM is used", async () => {
    const foreign = await counter((req, base) =>
      req.url?.includes('oauth-protected-resource')
        ? { resource: `${base}/mcp`, authorization_servers: [`${base}/`] }
        : { issuer: `${base}/`, authorization_endpoint: `${base}/authorize`, token_endpoint: `${base}/token`, response_types_supported: ['code'], code_challenge_methods_supported: ['S256'] },
    );
    const s = await server({ challengeResourceMetadata: () => `${foreign.base}/.well-known/oauth-protected-resource/mcp` });
    const { manager, store, logs } = setup();
    const meta = await manager.signIn(KEY, { url: s.mcpUrl });
    assert.deepEqual(foreign.hits, [], 'the other origin (and the authorization server it names) received no request');
    assert.equal(meta.oauth?.issuer, s.issuer, "signed in at the authorization server of the MCP server's own PRM");
    assert.ok(await store.getValue(KEY));
    assert.ok(s.requests.some((r) => r.path === '/.well-known/oauth-protected-resource/mcp'), 'the well-known PRM of the MCP server was read');
    assert.ok(logs.some((l) => /another origin .* ignored/.test(l)), logs.join('\n'));
  });

  test('an authorization server that the PRM does not list is never contacted', async () => {
    // The PRM lists the fixture's own AS; the stray AS on another port only appears in the foreign PRM.
    const stray = await counter();
    const foreign = await counter(() => ({ resource: 'ignored', authorization_servers: [`${stray.base}/`] }));
    const s = await server({ challengeResourceMetadata: () => `${foreign.base}/prm` });
    const { manager } = setup();
    await manager.signIn(KEY, { url: s.mcpUrl });
    assert.deepEqual(stray.hits, []);
    assert.deepEqual(foreign.hits, []);
  });
});

describe('loopback callback', () => {
  test('stray requests (other path; right path with a wrong or no state) are answered and ignored; the sign-in completes', async () => {
    const s = await server();
    const statuses: number[] = [];
    const browser = async (url: URL) => {
      const r = await fetch(url, { redirect: 'manual' });
      const callback = new URL(r.headers.get('location')!);
      const stray = async (u: URL) => {
        const answer = await fetch(u);
        await answer.body?.cancel();
        statuses.push(answer.status);
      };
      await stray(new URL('/favicon.ico', callback));
      await stray(new URL('/other?code=x&state=y', callback));
      const wrong = new URL(callback);
      wrong.searchParams.set('state', 'forged-state');
      await stray(wrong);
      const none = new URL(callback);
      none.searchParams.delete('state');
      await stray(none);
      const denied = new URL(callback.origin + callback.pathname);
      denied.search = '?error=access_denied&state=forged';
      await stray(denied);
      await stray(callback); // the real answer
    };
    const { manager, store } = setup(browser);
    const meta = await manager.signIn(KEY, { url: s.mcpUrl });
    assert.deepEqual(statuses, [404, 404, 400, 400, 400, 200]);
    assert.equal(meta.oauth?.issuer, s.issuer);
    assert.ok(await store.getValue(KEY));
    assert.equal(s.grants.authorization_code, 1);
  });
});

describe('RFC 9207 on error responses', () => {
  test('an error response with a wrong iss is refused as a mix-up, its error text not acted on or shown', async () => {
    const s = await server({ deny: true, iss: 'wrong' });
    const { manager } = setup();
    await assert.rejects(manager.signIn(KEY, { url: s.mcpUrl }), (e: unknown) => {
      failure('iss_mismatch')(e);
      assert.ok(!(e as Error).message.includes('attacker-controlled text'));
      assert.ok(!(e as Error).message.includes('access_denied'));
      return true;
    });
  });

  test('an error response with the right iss is reported', async () => {
    const s = await server({ deny: true, iss: 'correct' });
    const { manager } = setup();
    await assert.rejects(manager.signIn(KEY, { url: s.mcpUrl }), failure('authorization_denied', /access_denied/));
  });
});

describe('authorization server binding', () => {
  test('the PRM names another authorization server: a new registration there; the old client id is never sent to it', async () => {
    let servers: string[] | undefined;
    const s1 = await server({ authorizationServers: () => servers ?? [s1.issuer] });
    const s2 = await server();
    const { manager, store } = setup();
    const first = await manager.signIn(KEY, { url: s1.mcpUrl });
    const oldClient = first.oauth!.clientId!;
    assert.ok(s1.clients.has(oldClient));

    servers = [s2.issuer];
    const second = await manager.signIn(KEY, { url: s1.mcpUrl });
    assert.equal(second.oauth?.issuer, s2.issuer);
    assert.notEqual(second.oauth?.clientId, oldClient);
    assert.ok(s2.clients.has(second.oauth!.clientId!), 'registered at the new authorization server');
    assert.equal(s2.grants.authorization_code, 1);
    assert.ok(s2.requests.some((r) => r.path === '/register'));
    for (const r of s2.requests) {
      assert.ok(!JSON.stringify(r).includes(oldClient), `the old client id reached the new issuer: ${r.method} ${r.path}`);
    }
    // Both registrations are kept, each under its issuer.
    assert.equal(store.listAll().filter((t) => t.namespace === 'oauth-client').length, 2);
  });

  test('a pre-registered client bound to one issuer is not sent to another: sign-in refused', async () => {
    const secret = 'cs-bound-secret-5d1e9a7c';
    const client = {
      client_id: 'bound-app',
      client_secret: secret,
      redirect_uris: ['http://127.0.0.1/callback'],
      token_endpoint_auth_method: 'client_secret_post',
      grant_types: ['authorization_code', 'refresh_token'],
    };
    let servers: string[] | undefined;
    const s1 = await server({ clients: [client], authorizationServers: () => servers ?? [s1.issuer] });
    const s2 = await server({ clients: [client] });
    const { manager } = setup();
    const pre = { clientId: 'bound-app', clientSecret: secret };
    const first = await manager.signIn(KEY, { url: s1.mcpUrl, preRegistered: pre });
    assert.equal(first.oauth?.issuer, s1.issuer);

    servers = [s2.issuer];
    await assert.rejects(manager.signIn(KEY, { url: s1.mcpUrl, preRegistered: pre }), failure('issuer_changed', /bound-app/));
    for (const r of s2.requests) {
      const text = JSON.stringify(r);
      assert.ok(!text.includes('bound-app') && !text.includes(secret), `the client reached the other issuer: ${r.method} ${r.path}`);
    }
    assert.equal(s2.grants.authorization_code, 0);
  });
});
