/**
 * Format rules and JWT awareness in a real VS Code (code-server + Chromium), through the command
 * palette, the quick picks, the password input and the modal dialogs:
 *  - a GitHub-looking value set under provider OpenAI brings up the warning that says what an OpenAI
 *    key looks like and that this looks like a GitHub token; "Store Anyway" stores it;
 *  - a JWT sets its own expiry (the Tokens tree shows "expires in 10 days", the tooltip its claims);
 *  - an expired JWT is refused with a clear message unless the user stores it anyway, and
 *    automation cannot store it at all;
 *  - Import from a .env file and Generate run the same checks (problems reported per token).
 * Values are built at run time from parts (no secret-looking literal in the repository); none may be
 * found in plaintext in any file of the run.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { launch, type VSCode } from './harness';

interface Meta {
  namespace: string;
  name: string;
  type: string;
  provider?: string;
  description?: string;
  expiresAt?: string;
  jwt?: { alg: string; iss?: string; sub?: string; aud?: string[]; iat?: string };
}

const SET_TOKEN = 'MCP Tokens: Set Token…';
const DAY = 86_400_000;
const alnum = (n: number) => {
  const abc = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
  return [...randomBytes(n)].map((b) => abc[b % abc.length]).join('');
};
const b64url = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
const makeJwt = (payload: Record<string, unknown>) => `${b64url({ alg: 'RS256', typ: 'JWT' })}.${b64url(payload)}.${randomBytes(32).toString('base64url')}`;

const GITHUB_LOOKING = ['gh', 'p_', alnum(36)].join('');
const EXP = Math.floor((Date.now() + 10 * DAY) / 1000);
const JWT = makeJwt({ iss: 'https://id.e2e.example', sub: 'svc-e2e', aud: 'mcp', iat: Math.floor(Date.now() / 1000), exp: EXP, email: 'hidden-claim@e2e.example' });
const EXPIRED_JWT = makeJwt({ iss: 'https://id.e2e.example', sub: 'old', exp: Math.floor((Date.now() - 3 * DAY) / 1000) });
const SECRETS = [GITHUB_LOOKING, JWT, EXPIRED_JWT];

let vs: VSCode;

async function tokens(): Promise<Meta[]> {
  return vs.runCommand<Meta[]>('mcpTokens.listTokens', { noUi: true });
}

async function waitUntil(what: string, probe: () => Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > until) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Palette → Set Token…: type, namespace, name, value (password input). */
async function startSet(type: string, namespace: string, name: string, value: string): Promise<void> {
  await vs.palette(SET_TOKEN);
  await vs.quickInput.waitOpen(/Set Token \(1\/4\): type/);
  await vs.quickInput.pick(type);
  await vs.quickInput.waitOpen(/Set Token \(2\/4\): namespace/);
  await vs.quickInput.pick(namespace);
  await vs.quickInput.waitOpen(/Set Token \(3\/4\): name/);
  await vs.quickInput.type(name);
  const s = await vs.quickInput.waitOpen(new RegExp(`Set Token \\(4/4\\): value of ${namespace}:${name}`));
  assert.equal(s.password, true);
  await vs.quickInput.type(value);
}

before(async () => {
  vs = await launch({ name: 'formats', settings: { 'mcpTokens.expiryWarningDays': 3 } });
});

after(async () => {
  if (!vs) return;
  await vs.dispose();
  await vs.assertNoPlaintext(SECRETS);
});

describe('format rules and JWTs in code-server', () => {
  test('a GitHub-looking value under provider OpenAI: the warning says what was expected and what it looks like; Store Anyway', async () => {
    await vs.clearNotifications();
    await startSet('API key', 'api-key', 'openai', GITHUB_LOOKING);
    const s = await vs.quickInput.waitOpen(/Provider \(optional\)/);
    assert.equal(s.items[0], 'GitHub', `the format suggests GitHub first: ${s.items.join(', ')}`);
    await vs.quickInput.pick('OpenAI');
    const d = await vs.dialogs.waitFor(15_000, /does not look like/);
    assert.match(d.message, /This does not look like an OpenAI API key: expected sk-proj-.*; this value does not start with sk-proj-, sk-svcacct-, sk-admin- or sk-\. It looks like a GitHub token \(provider github\)\./);
    assert.ok(!d.message.includes(GITHUB_LOOKING.slice(4)) && !d.detail.includes(GITHUB_LOOKING.slice(4)), 'the dialog never shows the value');
    assert.ok(d.buttons.includes('Store Anyway') && d.buttons.includes('Use GitHub'), d.buttons.join(', '));
    await vs.screenshot('format-warning');
    await vs.dialogs.click('Store Anyway');
    await vs.quickInput.waitOpen(/Description \(optional\)/);
    await vs.quickInput.type('e2e: GitHub value under OpenAI');
    await vs.quickInput.waitOpen(/Expiry/);
    await vs.quickInput.type('');
    await vs.notifications.waitFor(/Stored \$<TOKEN:api-key:openai>/);
    const meta = (await tokens()).find((t) => t.name === 'openai');
    assert.ok(meta);
    assert.deepEqual([meta.provider, meta.description, meta.expiresAt, meta.jwt], ['openai', 'e2e: GitHub value under OpenAI', undefined, undefined]);
  });

  test('cancelling the warning stores nothing; "Use GitHub" records the provider the value looks like', async () => {
    await startSet('Bearer token', 'bearer', 'cancelled', GITHUB_LOOKING);
    await vs.quickInput.waitOpen(/Provider \(optional\)/);
    await vs.quickInput.pick('OpenAI');
    await vs.dialogs.waitFor(15_000, /does not look like an OpenAI API key/);
    await vs.dialogs.cancel();
    await vs.quickInput.waitClosed();
    assert.equal((await tokens()).some((t) => t.name === 'cancelled'), false);

    await startSet('Bearer token', 'bearer', 'gh', GITHUB_LOOKING);
    await vs.quickInput.waitOpen(/Provider \(optional\)/);
    await vs.quickInput.pick('OpenAI');
    await vs.dialogs.waitFor(15_000, /does not look like an OpenAI API key/);
    await vs.dialogs.click('Use GitHub');
    await vs.quickInput.waitOpen(/Description \(optional\)/);
    await vs.quickInput.type('');
    await vs.quickInput.waitOpen(/Expiry/);
    await vs.quickInput.type('');
    await waitUntil('bearer:gh stored', async () => (await tokens()).some((t) => t.name === 'gh'));
    assert.equal((await tokens()).find((t) => t.name === 'gh')?.provider, 'github');
  });

  test('a JWT sets its own expiry and shows its claims (never the other claims) in the Tokens view', async () => {
    await vs.clearNotifications();
    await startSet('Bearer token', 'bearer', 'idp', JWT);
    const s = await vs.quickInput.waitOpen(/Provider \(optional\)/);
    assert.equal(s.items[0], 'JWT (any issuer)');
    await vs.page.keyboard.press('Enter'); // the suggestion
    await vs.quickInput.waitOpen(/Description \(optional\)/);
    await vs.quickInput.type('');
    const e = await vs.quickInput.waitOpen(/Expiry/);
    assert.match(e.message + e.placeholder, /The JWT says it expires/);
    assert.equal(e.value, new Date(EXP * 1000).toISOString(), 'the expiry input holds the JWT\'s exp');
    await vs.page.keyboard.press('Enter');
    await vs.notifications.waitFor(/Stored \$<TOKEN:bearer:idp>\. Its expiry comes from the JWT/);

    const meta = (await tokens()).find((t) => t.name === 'idp');
    assert.ok(meta);
    assert.equal(meta.expiresAt, new Date(EXP * 1000).toISOString());
    assert.equal(meta.provider, 'jwt');
    assert.deepEqual({ ...meta.jwt, iat: undefined }, { alg: 'RS256', iss: 'https://id.e2e.example', sub: 'svc-e2e', aud: ['mcp'], iat: undefined });
    assert.ok(!JSON.stringify(meta).includes('hidden-claim'), 'other claims are not kept');

    await vs.openActivity('MCP Tokens');
    await waitUntil('bearer:idp in the tree', async () => (await vs.sideBarRows('Tokens')).some((r) => r.label === 'idp'));
    const row = (await vs.sideBarRows('Tokens')).find((r) => r.label === 'idp')!;
    assert.match(row.description, /Bearer token · expires in (9|10) days/);
    // The tooltip (a Markdown table) on hover.
    await vs.view('Tokens').locator('.monaco-list-row', { hasText: 'idp' }).first().hover();
    const hover = vs.page.locator('.workbench-hover, .monaco-hover').filter({ hasText: 'JWT issuer' }).first();
    await hover.waitFor({ state: 'visible', timeout: 15_000 });
    const text = (await hover.textContent()) ?? '';
    for (const expected of ['JWT algorithm', 'RS256', 'JWT issuer', 'https://id.e2e.example', 'JWT subject', 'svc-e2e', 'JWT audience']) assert.ok(text.includes(expected), `tooltip has ${expected}: ${text}`);
    assert.ok(!text.includes('hidden-claim'));
    await vs.screenshot('jwt-tooltip');
    await vs.page.mouse.move(0, 0);
  });

  test('an expired JWT is refused with a clear message unless stored anyway; automation cannot store it', async () => {
    await startSet('Bearer token', 'bearer', 'expired', EXPIRED_JWT);
    await vs.quickInput.waitOpen(/Provider \(optional\)/);
    await vs.page.keyboard.press('Enter');
    const d = await vs.dialogs.waitFor(15_000, /This JWT expired/);
    assert.match(d.message, /This JWT expired 3 days ago \(exp \d{4}-\d\d-\d\dT/);
    assert.ok(d.buttons.includes('Store Anyway'));
    await vs.dialogs.cancel();
    await vs.quickInput.waitClosed();
    assert.equal((await tokens()).some((t) => t.name === 'expired'), false, 'refused');

    await assert.rejects(
      vs.runCommand('mcpTokens.setToken', { namespace: 'bearer', name: 'expired', type: 'bearer', value: EXPIRED_JWT }),
      /the value is a JWT that expired on .*Run Set Token interactively to store it anyway/,
    );

    await startSet('Bearer token', 'bearer', 'expired', EXPIRED_JWT);
    await vs.quickInput.waitOpen(/Provider \(optional\)/);
    await vs.page.keyboard.press('Enter');
    await vs.dialogs.waitFor(15_000, /This JWT expired/);
    await vs.dialogs.click('Store Anyway');
    await vs.quickInput.waitOpen(/Description \(optional\)/);
    await vs.quickInput.type('');
    await vs.quickInput.waitOpen(/Expiry/);
    await vs.page.keyboard.press('Enter');
    await waitUntil('bearer:expired stored', async () => (await tokens()).some((t) => t.name === 'expired'));
    await waitUntil('expired in the tree', async () => (await vs.sideBarRows('Tokens')).some((r) => r.label === 'expired' && /expired 3 days ago/.test(r.description)));
  });

  test('automation: provider and expires (a duration) are metadata; a mismatch is stored and logged, never the value', async () => {
    const meta = await vs.runCommand<Meta>('mcpTokens.setToken', { namespace: 'api-key', name: 'auto', type: 'api-key', value: GITHUB_LOOKING, provider: 'anthropic', description: 'auto', expires: '30d' });
    assert.equal(meta.provider, 'anthropic');
    assert.ok(meta.expiresAt && Math.abs(Date.parse(meta.expiresAt) - (Date.now() + 30 * DAY)) < 5 * 60_000);
    await assert.rejects(vs.runCommand('mcpTokens.setToken', { namespace: 'api-key', name: 'auto2', type: 'api-key', value: 'x'.repeat(20), expires: 'soon' }), /expires/);
    await assert.rejects(vs.runCommand('mcpTokens.setToken', { namespace: 'api-key', name: 'auto2', type: 'api-key', value: 'x'.repeat(20), skipFormatCheck: true }), /Unrecognized key/i);
    await waitUntil('the warning in the log', async () => /api-key:auto: This does not look like an Anthropic API key/.test(await vs.readLog()));
    // Generate runs the same rules: a random string is no user:password pair.
    await assert.rejects(vs.runCommand('mcpTokens.generateToken', { namespace: 'generic', name: 'gen', type: 'basic' }), /a generated value does not fit type basic\. It does not look like a user:password pair/);
    assert.equal((await tokens()).some((t) => t.name === 'gen'), false);
  });

  test('Import from a .env file: problems are reported per token, a JWT brings its expiry, an existing token is named as skipped', async () => {
    await vs.clearNotifications();
    const env = `OPENAI_API_KEY=${GITHUB_LOOKING}\nIDP_TOKEN=${JWT}\n`;
    const file = join(vs.dirs.workspace!, '.env.formats');
    writeFileSync(file, env);
    const keys = await vs.runCommand<{ namespace: string; name: string }[]>('mcpTokens.importFromEnv', { file, variables: { OPENAI_API_KEY: 'api-key:openai-imported', IDP_TOKEN: 'bearer:idp-imported' } });
    assert.deepEqual(keys.map((k) => `${k.namespace}:${k.name}`).sort(), ['api-key:openai-imported', 'bearer:idp-imported']);
    const text = await vs.notifications.waitFor(/Imported 2 tokens\. 1 problem: OPENAI_API_KEY → api-key:openai-imported: This does not look like an OpenAI API key/);
    assert.match(text, /It looks like a GitHub token/);
    const all = await tokens();
    const idp = all.find((t) => t.name === 'idp-imported')!;
    assert.equal(idp.expiresAt, new Date(EXP * 1000).toISOString());
    assert.equal(idp.jwt?.iss, 'https://id.e2e.example');
    assert.equal(all.find((t) => t.name === 'openai-imported')?.provider, 'openai');
    // Again without overwrite: nothing is replaced, and the log names what was skipped.
    assert.deepEqual(await vs.runCommand('mcpTokens.importFromEnv', { file, variables: { OPENAI_API_KEY: 'api-key:openai-imported' } }), []);
    await waitUntil('the skip in the log', async () => /Skipped: OPENAI_API_KEY \(api-key:openai-imported exists\)/.test(await vs.readLog()));
    rmSync(file); // the test's own plaintext file: the scan is about what VS Code and the extension write
  });

  test('Import Tokens from an export file runs the same checks: problems reported, a JWT\'s claims read again', async () => {
    await vs.clearNotifications();
    const file = join(vs.dirs.root, 'formats.mcptokens');
    const passphrase = `e2e-${randomBytes(12).toString('base64url')}`;
    const exporting = vs.runCommand<{ count: number }>('mcpTokens.exportTokens', { keys: ['api-key:openai-imported', 'bearer:idp-imported'], file, passphrase });
    assert.equal((await vs.dialogs.answer(exporting, /Export the values of 2 tokens/, 'Export')).count, 2);
    await vs.runCommand('mcpTokens.deleteToken', { namespace: 'bearer', name: 'idp-imported', force: true });
    await vs.runCommand('mcpTokens.deleteToken', { namespace: 'api-key', name: 'openai-imported', force: true });
    const r = await vs.runCommand<{ imported: string[] }>('mcpTokens.importTokens', { file, passphrase, existing: 'skip' });
    assert.deepEqual(r.imported.sort(), ['api-key:openai-imported', 'bearer:idp-imported']);
    await vs.notifications.waitFor(/Imported 2 tokens\. 1 problem: api-key:openai-imported: This does not look like an OpenAI API key/);
    const idp = (await tokens()).find((t) => t.name === 'idp-imported')!;
    assert.equal(idp.jwt?.sub, 'svc-e2e');
    assert.equal(idp.expiresAt, new Date(EXP * 1000).toISOString());
    rmSync(file);
  });
});
