/**
 * A pre-registered OAuth client from a server entry of a token-aware file (`servers.<name>.oauth`),
 * end to end below VS Code: the entry is parsed, its client secret is read from the store through its
 * reference (as the provider does at launch), and `ensureFresh` signs in with that client against a
 * local OAuth-protected MCP server that knows the client (no dynamic registration), refreshes with it,
 * and fails cleanly with a wrong secret, never showing the secret.
 */
import { after, afterEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { headlessBrowser } from '../../extension/oauth/headless';
import { OAuthManager, type OAuthUi } from '../../extension/oauth/manager';
import { createMemoryTokenStore } from '../../extension/store/memoryStore';
import { keyId } from '../../server/core/reference';
import { parseMcpConfig } from '../../server/core/mcpConfig';
import { needsOf } from '../../extension/runtime/resolve';
import { planToken, preRegisteredClient } from '../../extension/runtime/tokenPlan';
import { startTestOAuthServer, type TestOAuthServer, type TestServerOptions } from './fixtures/oauthServer';

const CLIENT_ID = 'pre-registered-app';
const SECRET = 'cs-pre-registered-secret-7f3a9c1e5b';
const open: TestOAuthServer[] = [];
const managers: OAuthManager[] = [];
after(async () => {
  for (const s of open.splice(0)) await s.close();
});
afterEach(() => {
  for (const m of managers.splice(0)) m.dispose();
});

async function server(options: TestServerOptions = {}): Promise<TestOAuthServer> {
  const s = await startTestOAuthServer({
    clients: [
      {
        client_id: CLIENT_ID,
        client_secret: SECRET,
        redirect_uris: ['http://127.0.0.1/callback'],
        token_endpoint_auth_method: 'client_secret_post',
        grant_types: ['authorization_code', 'refresh_token'],
      },
    ],
    ...options,
  });
  open.push(s);
  return s;
}

function tokensFile(url: string): string {
  return `{
    // a pre-registered client; the secret only as a reference
    "servers": {
      "acme": {
        "type": "http",
        "url": "${url}",
        "headers": { "Authorization": "Bearer $<TOKEN:oauth:acme>" },
        "oauth": { "clientId": "${CLIENT_ID}", "clientSecret": "$<TOKEN:api-key:acme-client-secret>" }
      }
    }
  }`;
}

async function setup(url: string, secretValue: string, options: { now?: () => number } = {}) {
  const { store } = createMemoryTokenStore();
  await store.set({ namespace: 'api-key', name: 'acme-client-secret', type: 'api-key', value: secretValue });
  const logs: string[] = [];
  const asked: string[] = [];
  const ui: OAuthUi = {
    openBrowser: headlessBrowser,
    withProgress: (_t, task) => task(() => undefined, new AbortController().signal),
    confirmSignIn: async (_k, _s, reason) => {
      asked.push(reason);
      return true;
    },
  };
  const manager = new OAuthManager(store, ui, { log: (level, m) => logs.push(`${level}: ${m}`), signInTimeoutMs: 10_000, now: options.now });
  managers.push(manager);
  const parsed = parseMcpConfig(tokensFile(url));
  assert.deepEqual(parsed.problems, []);
  const entry = parsed.servers[0];
  return { store, manager, logs, asked, entry };
}

/** What the provider does for the entry's tokens, in order: the client secret's value, then ensureFresh. */
async function startLikeProvider(ctx: Awaited<ReturnType<typeof setup>>, url: string) {
  const values = new Map<string, string>();
  const [secretKey, oauthKey] = needsOf(ctx.entry).tokens;
  assert.deepEqual(secretKey, { namespace: 'api-key', name: 'acme-client-secret' });
  assert.equal(planToken({ key: secretKey, meta: ctx.store.get(secretKey), serverUrl: url, oauthAvailable: true, now: new Date() }).kind, 'use');
  values.set(keyId(secretKey), (await ctx.store.getValue(secretKey))!);
  const step = planToken({ key: oauthKey, meta: ctx.store.get(oauthKey), serverUrl: url, oauthAvailable: true, now: new Date() });
  assert.equal(step.kind, 'oauth');
  const preRegistered = preRegisteredClient(ctx.entry, (k) => values.get(keyId(k)));
  return ctx.manager.ensureFresh(oauthKey, { name: 'acme', url: step.kind === 'oauth' ? step.url : undefined, preRegistered });
}

test('a missing oauth token signs in with the entry\'s pre-registered client (no dynamic registration)', async () => {
  const s = await server();
  const ctx = await setup(s.mcpUrl, SECRET);
  assert.equal(await startLikeProvider(ctx, s.mcpUrl), true);
  assert.match(ctx.asked[0], /not signed in yet/);
  const key = { namespace: 'oauth', name: 'acme' };
  const meta = ctx.store.get(key);
  assert.equal(meta?.oauth?.clientId, CLIENT_ID);
  assert.equal(meta?.oauth?.resource, s.mcpUrl);
  const access = (await ctx.store.getValue(key))!;
  assert.equal(s.accessTokens.get(access)?.clientId, CLIENT_ID, 'the tokens were issued to the pre-registered client');
  assert.deepEqual([...s.clients.keys()], [CLIENT_ID], 'no client was registered dynamically');
  assert.ok(!ctx.store.listAll().some((t) => t.namespace === 'oauth-client'), 'a pre-registered client (and its secret) is not copied into the registry');
  assert.equal(meta?.oauth?.clientSecretRef, '$<TOKEN:api-key:acme-client-secret>', 'the metadata keeps the reference');
  assert.ok(!JSON.stringify(ctx.store.listAll()).includes(SECRET), 'and never the secret');
  for (const line of ctx.logs) assert.ok(!line.includes(SECRET) && !line.includes(access), `a secret leaked into the log: ${line}`);
});

test('a refresh before the start uses the pre-registered client and its secret', async () => {
  const s = await server({ accessTtl: 2 });
  const ctx = await setup(s.mcpUrl, SECRET);
  assert.equal(await startLikeProvider(ctx, s.mcpUrl), true);
  const key = { namespace: 'oauth', name: 'acme' };
  const first = await ctx.store.getValue(key);
  await new Promise((r) => setTimeout(r, 1200)); // within the margin (half of the 2 s lifetime)
  assert.equal(await startLikeProvider(ctx, s.mcpUrl), true, 'the token expires within the margin: refreshed');
  assert.equal(s.grants.refresh_token, 1);
  const second = (await ctx.store.getValue(key))!;
  assert.notEqual(second, first);
  assert.equal(s.accessTokens.get(second)?.clientId, CLIENT_ID);
  assert.equal(ctx.asked.length, 1, 'no second sign-in');
});

test('a wrong client secret fails the sign-in with a message that shows no secret', async () => {
  const s = await server();
  const wrong = 'cs-wrong-secret-value-0000000000';
  const ctx = await setup(s.mcpUrl, wrong);
  const err = await startLikeProvider(ctx, s.mcpUrl).then(
    () => assert.fail('sign-in should fail'),
    (e: unknown) => e as Error,
  );
  assert.match(err.message, /client|secret|invalid/i);
  for (const text of [err.message, ...ctx.logs]) {
    assert.ok(!text.includes(wrong) && !text.includes(SECRET), `a secret leaked: ${text}`);
  }
  assert.equal(ctx.store.get({ namespace: 'oauth', name: 'acme' }), undefined);
  assert.equal(s.grants.authorization_code, 0);
});

test('outside a server start (timer, Refresh, Sign Out) the secret is found through the reference in the metadata', async () => {
  const s = await server();
  const ctx = await setup(s.mcpUrl, SECRET);
  // Another client of the same issuer in the registry must not be taken for the pre-registered one.
  const dcr = { namespace: 'oauth', name: 'dcr' };
  await ctx.manager.signIn(dcr, { name: 'dcr', url: s.mcpUrl });
  assert.equal(s.clients.size, 2, 'a dynamically registered client exists for this issuer too');
  assert.equal(await startLikeProvider(ctx, s.mcpUrl), true);
  const key = { namespace: 'oauth', name: 'acme' };
  const first = (await ctx.store.getValue(key))!;
  // No server given: what the background timer and the Refresh command do.
  assert.equal(await ctx.manager.refresh(key, { force: true }), 'refreshed');
  const second = (await ctx.store.getValue(key))!;
  assert.notEqual(second, first);
  assert.equal(s.accessTokens.get(second)?.clientId, CLIENT_ID, 'refreshed as the pre-registered client, with its secret');
  const out = await ctx.manager.signOut(key);
  assert.deepEqual(out, { revoked: true, error: undefined });
  assert.ok(s.revoked.includes(second));
  for (const line of ctx.logs) assert.ok(!line.includes(SECRET), `the secret leaked into the log: ${line}`);
});

test('a stored client secret that disappeared: the refresh fails without the secret, and says which reference', async () => {
  const s = await server();
  const ctx = await setup(s.mcpUrl, SECRET);
  assert.equal(await startLikeProvider(ctx, s.mcpUrl), true);
  await ctx.store.delete({ namespace: 'api-key', name: 'acme-client-secret' });
  assert.equal(await ctx.manager.refresh({ namespace: 'oauth', name: 'acme' }, { force: true }), 'failed');
  assert.ok(ctx.logs.some((l) => l.includes('$<TOKEN:api-key:acme-client-secret>') && l.includes('not stored')));
});
