/**
 * Verify Token in the real VS Code, against the local stand-in of the services
 * (test/fixtures/verify/standIn.ts, on 127.0.0.1) at an enterprise base URL:
 *  - Verify from the Tokens view's context menu asks in the real modal naming the host, then the
 *    tree shows the identity the stand-in reported; the hover over a reference shows it too;
 *  - a second Verify of the same token at the same host does not ask; a Verify to another host asks
 *    again, and cancelled, sends nothing there and changes nothing;
 *  - Verify All verifies what has a service (one modal for the hosts not confirmed yet) and reports
 *    "n ok, n failed, n skipped (no service)".
 * Every request either stand-in received is recorded: the values went to the configured one only.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { launch, testSecret, type VSCode } from './harness';
import { startStandIn, type StandIn } from '../fixtures/verify/standIn';

const GITHUB = `good-${testSecret('verify-github')}`;
const OPENAI = `revoked-${testSecret('verify-openai')}`;
const DEPLOY = testSecret('verify-deploy');
const github = { namespace: 'bearer', name: 'github' };
const FILE = '.vscode/mcp.json';
const TEXT = `{
  "servers": {
    "github": {
      "type": "http",
      "url": "https://mcp.example.invalid/mcp",
      "headers": { "Authorization": "Bearer $<TOKEN:bearer:github>" }
    }
  }
}
`;

let vs: VSCode;
let api: StandIn;
let elsewhere: StandIn;
const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

async function waitUntil<T>(what: string, probe: () => Promise<T | undefined | false>, timeoutMs = 20_000): Promise<T> {
  const started = Date.now();
  let last: unknown;
  while (Date.now() - started < timeoutMs) {
    const v = await probe().catch((e) => ((last = e), undefined));
    if (v) return v;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`Timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
}

const tokenRow = async (name: string) => (await vs.sideBarRows('Tokens')).find((r) => r.label === name);

before(async () => {
  api = await startStandIn();
  elsewhere = await startStandIn();
  vs = await launch({ name: 'verify' });
  await vs.runCommand('mcpTokens.setToken', { ...github, type: 'bearer', value: GITHUB, provider: 'github' });
  await vs.runCommand('mcpTokens.setToken', { namespace: 'api-key', name: 'openai', type: 'api-key', value: OPENAI, provider: 'openai' });
  await vs.runCommand('mcpTokens.setToken', { namespace: 'generic', name: 'deploy', type: 'generic', value: DEPLOY });
  // The enterprise host: the stand-in under /api/v3, as GitHub Enterprise Server serves its API.
  await vs.runCommand('mcpTokens.configureVerify', { ...github, service: 'github', baseUrl: `${api.origin}/api/v3` });
  await vs.runCommand('mcpTokens.configureVerify', { namespace: 'api-key', name: 'openai', service: 'openai', baseUrl: api.origin });
});

after(async () => {
  await vs?.dispose();
  await vs?.assertNoPlaintext([GITHUB, OPENAI, DEPLOY]);
  await api?.close();
  await elsewhere?.close();
});

test('Verify Token from the tree asks naming the host, then the tree shows the identity the service reported', async () => {
  await vs.runCommand('workbench.view.extension.mcpTokens');
  await waitUntil('the github row', () => tokenRow('github'));
  const row = vs.page.locator('#workbench\\.parts\\.sidebar .monaco-list-row').filter({ hasText: 'github' }).first();
  await vs.contextMenu(row, /^Verify Token/, () => vs.screenshot('context-menu'));
  const d = await vs.dialogs.waitFor(15_000, new RegExp(`Send the value of bearer:github to ${escape(api.origin)} \\(GitHub\\)\\?`));
  assert.match(d.detail, new RegExp(`Later verifications of this token at ${escape(api.origin)} will not ask again`));
  assert.deepEqual(d.buttons.filter((b) => b === 'Verify'), ['Verify']);
  assert.ok(!JSON.stringify(d).includes(GITHUB));
  await vs.screenshot('confirmation');
  await vs.dialogs.click('Verify');

  const shown = await waitUntil('the identity in the tree', async () => {
    const r = await tokenRow('github');
    return r && /✓ octo-standin/.test(r.description) ? r : undefined;
  });
  assert.match(shown.description, /Bearer token · ✓ octo-standin/);
  await vs.screenshot('verified-in-tree');
  const sent = api.requests.filter((r) => r.path === '/api/v3/user');
  assert.equal(sent.length, 1);
  assert.equal(sent[0].headers.authorization, `Bearer ${GITHUB}`);
  const meta = await vs.runCommand<{ lastVerified?: { ok: boolean; identity?: string; scopes?: string[]; origin: string } }>('mcpTokens.showToken', github);
  assert.equal(meta.lastVerified?.ok, true);
  assert.equal(meta.lastVerified?.identity, 'octo-standin');
  assert.deepEqual(meta.lastVerified?.scopes, ['repo', 'read:org']);
  assert.equal(meta.lastVerified?.origin, api.origin);
});

test('the hover over a reference shows the last verification', async () => {
  await vs.driver.write(FILE, TEXT);
  await vs.driver.open(FILE);
  const line = TEXT.split('\n').findIndex((l) => l.includes('$<TOKEN:bearer:github>'));
  const character = TEXT.split('\n')[line].indexOf('$<TOKEN:bearer:github>') + 10;
  const text = await waitUntil('a hover with the identity', async () => {
    const t = (await vs.driver.hover(FILE, line, character)).flatMap((h) => h.contents).join('\n');
    return /octo\\?-standin/.test(t) ? t : undefined; // Markdown-escaped: octo\-standin
  });
  assert.match(text, /Verified \| ok, /);
  assert.match(text, /Token scopes \| repo read:org/);
  assert.ok(!text.includes(GITHUB));
});

test('a second Verify of the same token at the same host does not ask again', async () => {
  const before = api.requests.length;
  const r = await vs.runCommand<{ ok: boolean; identity?: string }>('mcpTokens.verifyToken', github);
  assert.equal(r.ok, true);
  assert.equal(r.identity, 'octo-standin');
  assert.equal(await vs.dialogs.isOpen(), false);
  assert.equal(api.requests.length - before, 1);
});

test('a Verify to another host asks again, naming it; cancelled, nothing is sent there and nothing changes', async () => {
  const p = vs.runCommand('mcpTokens.verifyToken', { ...github, service: 'github', baseUrl: elsewhere.origin });
  const d = await vs.dialogs.waitFor(15_000, new RegExp(`Send the value of bearer:github to ${escape(elsewhere.origin)} \\(GitHub\\)\\?`));
  assert.match(d.detail, /another extension may have asked for it/);
  await vs.dialogs.cancel();
  await assert.rejects(p, /cancelled/);
  assert.deepEqual(elsewhere.requests, []);
  const meta = await vs.runCommand<{ verify?: { baseUrl?: string } }>('mcpTokens.showToken', github);
  assert.equal(meta.verify?.baseUrl, `${api.origin}/api/v3`, 'the settings another caller passed were not saved');
});

test('Verify All verifies what has a service, asks once for the new host, and reports the counts', async () => {
  await vs.clearNotifications();
  const p = vs.runCommand<{ ok: number; failed: number; skipped: number; declined: number }>('mcpTokens.verifyAllTokens');
  // Only api-key:openai was never confirmed; bearer:github was, at this host.
  const counts = await vs.dialogs.answer(p, new RegExp(`Send the value of api-key:openai to ${escape(api.origin)} \\(OpenAI\\)\\?`), 'Verify');
  assert.deepEqual(counts, { ok: 1, failed: 1, skipped: 1, declined: 0 });
  await vs.notifications.waitFor(/Verify All: 1 ok, 1 failed, 1 skipped \(no service\)/);
  const failed = await waitUntil('the failure in the tree', async () => {
    const r = await tokenRow('openai');
    return r && /✗ verify failed/.test(r.description) ? r : undefined;
  });
  assert.ok(failed);
  await vs.screenshot('verify-all');
  const meta = await vs.runCommand<{ lastVerified?: { ok: boolean; status?: number; reason?: string } }>('mcpTokens.showToken', { namespace: 'api-key', name: 'openai' });
  assert.equal(meta.lastVerified?.ok, false);
  assert.equal(meta.lastVerified?.status, 401);
  assert.match(meta.lastVerified?.reason ?? '', /Incorrect API key provided/);
  // Every request the stand-ins saw went to the configured host, with the value of the token configured for it.
  assert.deepEqual(elsewhere.requests, []);
  assert.ok(api.requests.every((r) => r.host === new URL(api.origin).host));
  assert.ok(api.requests.every((r) => (r.path.startsWith('/api/v3/') ? r.headers.authorization === `Bearer ${GITHUB}` : r.headers.authorization === `Bearer ${OPENAI}`)));
  assert.ok(!api.requests.some((r) => JSON.stringify(r.headers).includes(DEPLOY)));
});

test('a token set anew is another secret: Verify asks again, at the host its settings kept', async () => {
  await vs.runCommand('mcpTokens.setToken', { ...github, type: 'bearer', value: GITHUB, overwrite: true });
  const meta = await vs.runCommand<{ verify?: { baseUrl?: string }; lastVerified?: unknown }>('mcpTokens.showToken', github);
  assert.equal(meta.verify?.baseUrl, `${api.origin}/api/v3`);
  assert.equal(meta.lastVerified, undefined, 'the result described the replaced value');
  const r = await vs.dialogs.answer(vs.runCommand<{ ok: boolean }>('mcpTokens.verifyToken', github), new RegExp(`Send the value of bearer:github to ${escape(api.origin)} \\(GitHub\\)\\?`), 'Verify');
  assert.equal(r.ok, true);
});

test('Verify Token on a token without a service asks for it (here the generic URL and header), then sends only there', async () => {
  await vs.clearNotifications();
  const before = api.requests.length;
  // A `namespace:name` string runs the interactive flow, as the palette or a hover link would.
  const p = vs.runCommand('mcpTokens.verifyToken', 'generic:deploy');
  await vs.quickInput.waitOpen(/service of generic:deploy/);
  await vs.quickInput.pick(/^Another service/);
  await vs.quickInput.waitOpen(/URL/);
  await vs.quickInput.type(`${api.origin}/generic/me`);
  await vs.quickInput.waitOpen(/header/);
  await vs.quickInput.type('X-Custom-Key: {{value}}');
  await vs.dialogs.answer(p, new RegExp(`Send the value of generic:deploy to ${escape(api.origin)}\\?`), 'Verify');
  await vs.notifications.waitFor(/generic:deploy verify failed: rejected: the token is invalid, expired or revoked \(HTTP 401\)/);
  const sent = api.requests.slice(before);
  assert.deepEqual(
    sent.map((r) => [r.method, r.path, r.headers['x-custom-key']]),
    [['GET', '/generic/me', DEPLOY]],
  );
  const meta = await vs.runCommand<{ verify?: unknown; lastVerified?: { ok: boolean; status?: number } }>('mcpTokens.showToken', { namespace: 'generic', name: 'deploy' });
  assert.deepEqual(meta.verify, { service: 'generic', url: `${api.origin}/generic/me`, header: 'X-Custom-Key: {{value}}' });
  assert.equal(meta.lastVerified?.ok, false);
  assert.equal(meta.lastVerified?.status, 401);
  await vs.screenshot('generic-failed');
});
