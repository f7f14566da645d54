/**
 * OAuth sign-in in a real VS Code (code-server + Chromium) against a local OAuth-protected MCP server
 * on 127.0.0.1 (test/oauth/fixtures/oauthServer.ts: the SDK's mcpAuthRouter + requireBearerAuth):
 *  - "Sign In to Server" opens the authorization URL in the real browser (vscode.env.openExternal opens
 *    a browser tab, which follows the authorization server's redirect to the extension's loopback
 *    receiver); the access token lands in the store with its OAuth facts;
 *  - the served MCP server (from .vscode/mcp.tokens.json) receives `Authorization: Bearer <access token>`
 *    and accepts it; after a refresh, the restarted server receives the new token;
 *  - an access token that expired is refreshed before the server starts (no expired token reaches it);
 *  - a revoked refresh token leads to "sign-in required";
 *  - sign-out revokes the tokens at the server;
 *  - starting a served server whose `Authorization` header references a MISSING `oauth:` token leads
 *    to the sign-in in the browser (not to "Set Token"), and the server receives the new token;
 *  - the same with a pre-registered client from the server entry (`oauth.clientId`, the secret as a
 *    reference to a stored token): the tokens are issued to that client, no dynamic registration;
 *  - afterwards no token value (nor the client secret) is in plain text in any file of the run.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { EXTENSION_ID, launch, type VSCode } from './harness';
import { startTestOAuthServer, type TestOAuthServer } from '../oauth/fixtures/oauthServer';

const scratch = mkdtempSync(join(tmpdir(), 'mcp-tokens-oauth-e2e-'));
process.on('exit', () => {
  if (!process.env.MCP_TOKENS_E2E_KEEP) rmSync(scratch, { recursive: true, force: true });
});
const KEY = { namespace: 'oauth', name: 'e2e' };

async function waitFor<T>(what: string, probe: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs = 30_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v) return v;
    if (Date.now() > end) throw new Error(`Timed out waiting for ${what}.`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** A client the `pre` fixture knows out of band; its secret is stored as `api-key:e2e-client-secret`. */
const PRE_CLIENT_ID = 'e2e-pre-registered';
const PRE_CLIENT_SECRET = `cs-e2e-${randomUUID()}`;

function workspace(mcpUrl: string, shortUrl: string, missingUrl: string, preUrl: string): string {
  const dir = join(scratch, 'ws');
  mkdirSync(join(dir, '.vscode'), { recursive: true });
  const tokens = {
    servers: {
      'oauth-fixture': { type: 'http', url: mcpUrl, headers: { Authorization: 'Bearer $<TOKEN:oauth:e2e>' } },
      'short-fixture': { type: 'http', url: shortUrl, headers: { Authorization: 'Bearer $<TOKEN:oauth:e2e-short>' } },
      // Nobody signs in for these beforehand: starting them must lead to the sign-in.
      'missing-fixture': { type: 'http', url: missingUrl, headers: { Authorization: 'Bearer $<TOKEN:oauth:e2e-missing>' } },
      'prereg-fixture': {
        type: 'http',
        url: preUrl,
        headers: { Authorization: 'Bearer $<TOKEN:oauth:e2e-prereg>' },
        oauth: { clientId: PRE_CLIENT_ID, clientSecret: '$<TOKEN:api-key:e2e-client-secret>' },
      },
    },
  };
  writeFileSync(join(dir, '.vscode', 'mcp.tokens.json'), `${JSON.stringify(tokens, null, 2)}\n`);
  return dir;
}

/** Every token the fixture ever issued (access and refresh), for the plaintext scan. */
const issued = new Set<string>();
function remember(s: TestOAuthServer): void {
  for (const t of s.accessTokens.keys()) issued.add(t);
  for (const t of s.refreshTokens.keys()) issued.add(t);
}
const latestAccess = (s: TestOAuthServer) => [...s.accessTokens.keys()].at(-1);

describe('OAuth sign-in in VS Code', () => {
  let vs: VSCode;
  let s: TestOAuthServer;
  let short: TestOAuthServer;
  let missing: TestOAuthServer;
  let pre: TestOAuthServer;

  before(async () => {
    s = await startTestOAuthServer();
    short = await startTestOAuthServer({ accessTtl: 3 });
    missing = await startTestOAuthServer();
    pre = await startTestOAuthServer({
      clients: [
        {
          client_id: PRE_CLIENT_ID,
          client_secret: PRE_CLIENT_SECRET,
          redirect_uris: ['http://127.0.0.1/callback'],
          token_endpoint_auth_method: 'client_secret_post',
          grant_types: ['authorization_code', 'refresh_token'],
        },
      ],
    });
    vs = await launch({
      name: 'oauth',
      workspace: workspace(s.mcpUrl, short.mcpUrl, missing.mcpUrl, pre.mcpUrl),
      settings: { 'mcpTokens.servers.restartOnTokenChange': 'always', 'chat.mcp.autostart': 'never' },
    });
  });

  after(async () => {
    for (const x of [s, short, missing, pre]) if (x) remember(x);
    await vs?.dispose();
    for (const x of [s, short, missing, pre]) await x?.close();
    if (vs) await vs.assertNoPlaintext([...issued, PRE_CLIENT_SECRET]);
  });

  test('sign-in through the browser stores the access token', async () => {
    const pagePromise = vs.context.waitForEvent('page', { timeout: 60_000 });
    const result = vs.runCommand('mcpTokens.signIn', { url: s.mcpUrl, name: 'e2e' });
    result.catch(() => undefined);
    // VS Code may ask before opening an external site; localhost is usually trusted.
    const dialog = await vs.dialogs.waitFor(3000, /open the external website/i).catch(() => undefined);
    if (dialog) await vs.dialogs.click('Open');
    const page = await pagePromise;
    await page.waitForLoadState('domcontentloaded');
    await waitFor('the callback page', async () => /Signed in/.test(await page.content().catch(() => '')), 30_000);
    await vs.screenshot('browser-signed-in', page.locator('body'));
    const out = (await result) as { namespace: string; name: string; issuer: string; scopes: string[]; expiresAt: string };
    assert.deepEqual({ namespace: out.namespace, name: out.name, issuer: out.issuer }, { ...KEY, issuer: s.issuer });
    assert.deepEqual(out.scopes, ['mcp:read', 'mcp:write']);
    assert.ok(Date.parse(out.expiresAt) > Date.now());
    await page.close().catch(() => undefined);

    const list = (await vs.runCommand('mcpTokens.listTokens', { noUi: true, type: 'oauth' })) as { namespace: string; name: string; oauth?: Record<string, unknown> }[];
    const meta = list.find((t) => t.namespace === 'oauth' && t.name === 'e2e');
    assert.ok(meta, 'oauth:e2e is in the store');
    assert.equal(meta.oauth?.issuer, s.issuer);
    assert.equal(meta.oauth?.resource, s.mcpUrl);
    assert.equal(meta.oauth?.hasRefreshToken, true);
    assert.equal(s.grants.authorization_code, 1);
    remember(s);
  });

  test('the served server receives Authorization: Bearer <access token>', async () => {
    const p = vs.runCommand('workbench.mcp.startServer', `${EXTENSION_ID}/oauth-fixture`).catch((e: unknown) => e);
    const consent = await vs.dialogs.waitFor(30_000, /Allow the MCP server "oauth-fixture"/).catch(() => undefined);
    if (consent) await vs.dialogs.click('Always Allow');
    await p;
    const token = latestAccess(s)!;
    await waitFor('the access token at the server', () => s.accepted.includes(token));
  });

  test('after a refresh the restarted server receives the new access token', async () => {
    const before = latestAccess(s);
    assert.equal(await vs.runCommand('mcpTokens.refreshToken', KEY), 'refreshed');
    const after = latestAccess(s)!;
    assert.notEqual(after, before);
    remember(s);
    await waitFor('the refreshed token at the server', () => s.accepted.includes(after), 60_000);
  });

  test('an expired access token is refreshed before the server starts', async () => {
    const signIn = vs.runCommand('mcpTokens.signIn', { url: short.mcpUrl, name: 'e2e-short' });
    const page = await vs.context.waitForEvent('page', { timeout: 60_000 });
    await signIn;
    await page.close().catch(() => undefined);
    const first = latestAccess(short)!;
    await new Promise((r) => setTimeout(r, 3500)); // the first access token has expired
    assert.ok(short.accessTokens.get(first)!.expiresAt < Date.now());
    const p = vs.runCommand('workbench.mcp.startServer', `${EXTENSION_ID}/short-fixture`).catch((e: unknown) => e);
    const consent = await vs.dialogs.waitFor(30_000, /Allow the MCP server "short-fixture"/).catch(() => undefined);
    if (consent) await vs.dialogs.click('Always Allow');
    await p;
    await waitFor('a request at the short-lived server', () => short.accepted.length > 0);
    remember(short);
    assert.ok(short.grants.refresh_token >= 1, 'the token was refreshed');
    assert.ok(!short.accepted.includes(first), 'the expired access token never reached the server');
    const out = vs.runCommand<{ revoked: boolean }>('mcpTokens.signOut', { namespace: 'oauth', name: 'e2e-short' });
    assert.equal((await vs.dialogs.answer(out, /Sign Out of oauth:e2e-short\?/, 'Sign Out')).revoked, true);
  });

  test('a revoked refresh token leads to "sign-in required"', async () => {
    remember(s);
    s.revokeAllRefreshTokens();
    assert.equal(await vs.runCommand('mcpTokens.refreshToken', KEY), 'sign-in-required');
    await vs.notifications.waitFor(/sign in again/);
    await vs.screenshot('sign-in-required');
    const list = (await vs.runCommand('mcpTokens.listTokens', { noUi: true, type: 'oauth' })) as { name: string; oauth?: { signInRequired?: boolean } }[];
    assert.equal(list.find((t) => t.name === 'e2e')?.oauth?.signInRequired, true);
  });

  test('sign-out revokes and deletes the tokens', async () => {
    const access = latestAccess(s)!;
    // Revocation cannot be undone: asked even when another extension passes the key.
    const result = await vs.dialogs.answer(vs.runCommand<{ revoked: boolean }>('mcpTokens.signOut', KEY), /Sign Out of oauth:e2e\?/, 'Sign Out');
    assert.equal(result.revoked, true);
    assert.ok(s.revoked.includes(access));
    const list = (await vs.runCommand('mcpTokens.listTokens', { noUi: true })) as { namespace: string; name: string }[];
    assert.ok(!list.some((t) => t.namespace === 'oauth' && t.name === 'e2e'));
    assert.ok(!list.some((t) => t.namespace === 'oauth-refresh'));
  });

  /**
   * Starts a served server whose oauth token is not stored, answers the consent modal, and follows
   * the sign-in: the question is the OAuth one ("Sign In"), never the "Set Token" modal; the browser
   * tab is redirected to the extension's loopback receiver.
   */
  async function startAndSignIn(label: string): Promise<void> {
    await vs.clearNotifications();
    const pagePromise = vs.context.waitForEvent('page', { timeout: 90_000 });
    const started = vs.runCommand('workbench.mcp.startServer', `${EXTENSION_ID}/${label}`).catch((e: unknown) => e);
    await vs.dialogs.waitFor(30_000, new RegExp(`Allow the MCP server "${label}"`));
    await vs.dialogs.click('Always Allow');
    // The OAuth question (a "Set Token…" modal instead would block this and fail the test).
    await vs.notifications.click(/is not signed in yet/, 'Sign In', 30_000);
    const dialog = await vs.dialogs.waitFor(3000, /open the external website/i).catch(() => undefined);
    if (dialog) await vs.dialogs.click('Open');
    const page = await pagePromise;
    await page.waitForLoadState('domcontentloaded');
    await waitFor('the callback page', async () => /Signed in/.test(await page.content().catch(() => '')), 30_000);
    await vs.screenshot(`${label}-signed-in`, page.locator('body'));
    await page.close().catch(() => undefined);
    const result = await started;
    assert.ok(!(result instanceof Error), `the server started: ${result instanceof Error ? result.message : ''}`);
  }

  test('a served server whose Authorization references a missing oauth: token leads to the browser sign-in', async () => {
    const before = (await vs.runCommand('mcpTokens.listTokens', { noUi: true, type: 'oauth' })) as { name: string }[];
    assert.ok(!before.some((t) => t.name === 'e2e-missing'), 'oauth:e2e-missing is not stored before the start');
    await startAndSignIn('missing-fixture');
    const list = (await vs.runCommand('mcpTokens.listTokens', { noUi: true, type: 'oauth' })) as { namespace: string; name: string; oauth?: Record<string, unknown> }[];
    const meta = list.find((t) => t.namespace === 'oauth' && t.name === 'e2e-missing');
    assert.ok(meta, 'oauth:e2e-missing landed in the store');
    assert.equal(meta.oauth?.issuer, missing.issuer);
    assert.equal(meta.oauth?.resource, missing.mcpUrl, 'the server URL is the MCP resource');
    assert.equal(missing.grants.authorization_code, 1);
    const token = latestAccess(missing)!;
    await waitFor('the new access token at the server', () => missing.accepted.includes(token));
    assert.deepEqual(new Set(missing.accepted), new Set([token]), 'the server received only that Bearer token');
    remember(missing);
    const audit = (await vs.runCommand('mcpTokens.showAuditLog', { kind: 'launch' })) as { tokens?: string[]; actor: { server?: string }; outcome: string }[];
    assert.ok(audit.some((e) => e.actor.server === 'missing-fixture' && e.tokens?.includes('oauth:e2e-missing') && e.outcome === 'ok'));
  });

  test('a pre-registered client from the server entry signs in with its id and stored secret', async () => {
    await vs.runCommand('mcpTokens.setToken', { namespace: 'api-key', name: 'e2e-client-secret', type: 'api-key', value: PRE_CLIENT_SECRET });
    await startAndSignIn('prereg-fixture');
    const list = (await vs.runCommand('mcpTokens.listTokens', { noUi: true, type: 'oauth' })) as { namespace: string; name: string; oauth?: Record<string, unknown> }[];
    const meta = list.find((t) => t.namespace === 'oauth' && t.name === 'e2e-prereg');
    assert.ok(meta, 'oauth:e2e-prereg landed in the store');
    assert.equal(meta.oauth?.clientId, PRE_CLIENT_ID);
    const token = latestAccess(pre)!;
    assert.equal(pre.accessTokens.get(token)?.clientId, PRE_CLIENT_ID, 'the token was issued to the pre-registered client');
    assert.deepEqual([...pre.clients.keys()], [PRE_CLIENT_ID], 'no client was registered dynamically');
    await waitFor('the access token at the server', () => pre.accepted.includes(token));
    // A refresh outside a server start finds the secret through the reference kept in the metadata.
    assert.equal(await vs.runCommand('mcpTokens.refreshToken', { namespace: 'oauth', name: 'e2e-prereg' }), 'refreshed');
    assert.equal(pre.accessTokens.get(latestAccess(pre)!)?.clientId, PRE_CLIENT_ID);
    remember(pre);
    assert.ok(!vs.readLog().includes(PRE_CLIENT_SECRET), 'the client secret is not in the log');
  });
});
