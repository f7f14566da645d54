/** The pure parts of Verify: which service a token goes to, the settings schema, the result texts. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { describeVerified, tokenMetadataSchema, verifiedRows, verifySettingsSchema, type LastVerified } from '../../server/core/model';
import { SERVICES, serviceForProvider, settingsFor, splitScopes, targetUrl } from '../../extension/verify/services';
import { COMMANDS } from '../../extension/platform/commandTable';
import { metadataMarkdown } from '../../server/features/common';

/** A token's metadata without the verify fields. */
const BASE_META = { namespace: 'bearer', name: 'github', type: 'bearer', backend: 'secretStorage', createdAt: '2026-12-01T09:00:00.000Z', updatedAt: '2026-12-01T09:00:00.000Z' };

test('the provider names the service', () => {
  const table: [string | undefined, string | undefined][] = [
    ['github', 'github'],
    ['GitHub Enterprise', 'github'],
    ['github-fine-grained', 'github'],
    ['gh', 'github'],
    ['openai', 'openai'],
    ['OpenAI', 'openai'],
    ['anthropic', 'anthropic'],
    ['claude', 'anthropic'],
    ['slack', 'slack'],
    ['slack-bot', 'slack'],
    ['gitlab', 'gitlab'],
    ['huggingface', 'huggingface'],
    ['hugging-face', 'huggingface'],
    ['hf', 'huggingface'],
    ['stripe', undefined],
    ['proxmox', undefined],
    ['', undefined],
    [undefined, undefined],
  ];
  for (const [provider, service] of table) assert.equal(serviceForProvider(provider), service, String(provider));
});

test('the token’s own settings win over its provider; no provider and no settings: no service', () => {
  assert.deepEqual(settingsFor({ provider: 'github' }), { service: 'github' });
  assert.deepEqual(settingsFor({ provider: 'github', verify: { service: 'gitlab', baseUrl: 'https://gitlab.example.com' } }), { service: 'gitlab', baseUrl: 'https://gitlab.example.com' });
  assert.equal(settingsFor({ provider: 'stripe' }), undefined);
  assert.equal(settingsFor({}), undefined);
  assert.equal(targetUrl({ service: 'huggingface' }), 'https://huggingface.co');
  assert.equal(targetUrl({ service: 'github', baseUrl: 'https://ghe.example.com/api/v3' }), 'https://ghe.example.com/api/v3');
  for (const s of Object.values(SERVICES)) assert.ok(s.id === 'generic' || s.defaultBase?.startsWith('https://'), s.id);
});

test('the settings schema: known services, http(s) URLs, a header template with {{value}}, generic needs a url', () => {
  const ok = [
    { service: 'github' },
    { service: 'github', baseUrl: 'https://ghe.example.com/api/v3' },
    { service: 'generic', url: 'https://api.example.com/me' },
    { service: 'generic', url: 'https://api.example.com/me', header: 'Authorization: Bearer {{value}}' },
    { service: 'generic', url: 'https://api.example.com/me', header: 'X-Api-Key:{{value}}' },
  ];
  for (const s of ok) assert.ok(verifySettingsSchema.safeParse(s).success, JSON.stringify(s));
  const bad = [
    { service: 'stripe' },
    { service: 'generic' },
    { service: 'github', baseUrl: 'file:///etc/passwd' },
    { service: 'github', baseUrl: 'javascript:alert(1)' },
    { service: 'generic', url: 'https://x.example', header: 'Authorization: Bearer' },
    { service: 'generic', url: 'https://x.example', header: 'Authorization: Bearer {{value}}\r\nHost: evil.example' },
    { service: 'generic', url: 'https://x.example', header: 'Bad Name: {{value}}' },
    { service: 'generic', url: 'https://x.example', header: 'X: {{value}} {{value}}' },
    { service: 'github', force: true },
  ];
  for (const s of bad) assert.ok(!verifySettingsSchema.safeParse(s).success, JSON.stringify(s));
});

test('the generic header template puts the value where {{value}} is, and only there', () => {
  const [r] = SERVICES.generic.requests('', 'sk-$&-v', { service: 'generic', url: 'https://api.example.com/me', header: 'X-Api-Key: key={{value}};' });
  assert.equal(r.url, 'https://api.example.com/me');
  assert.equal(r.headers['X-Api-Key'], 'key=sk-$&-v;');
  assert.equal(r.method, 'GET');
  const [d] = SERVICES.generic.requests('', 'v', { service: 'generic', url: 'https://api.example.com/me' });
  assert.equal(d.headers.Authorization, 'Bearer v');
});

test('metadata keeps lastVerified and verify; the texts describe it without a value', () => {
  const ok: LastVerified = { at: '2026-12-01T10:00:00.000Z', ok: true, service: 'github', origin: 'https://api.github.com', identity: 'octocat', scopes: ['repo'] };
  const bad: LastVerified = { at: '2026-12-01T10:00:00.000Z', ok: false, service: 'openai', origin: 'https://api.openai.com', status: 403, reason: 'forbidden (HTTP 403)', missingScopes: ['api.model.read'] };
  const meta = tokenMetadataSchema.parse({
    ...BASE_META,
    verify: { service: 'github', baseUrl: 'https://ghe.example.com/api/v3' },
    lastVerified: ok,
  });
  assert.deepEqual(meta.lastVerified, ok);
  assert.deepEqual(meta.verify, { service: 'github', baseUrl: 'https://ghe.example.com/api/v3' });
  assert.equal(describeVerified(ok), 'verified as octocat');
  assert.equal(describeVerified(bad), 'verify failed: forbidden (HTTP 403)');
  assert.deepEqual(verifiedRows(ok, (iso) => iso.slice(0, 10)), [
    ['Verified', 'ok, 2026-12-01, at https://api.github.com'],
    ['Identity', 'octocat'],
    ['Token scopes', 'repo'],
  ]);
  assert.deepEqual(verifiedRows(bad, () => 'today'), [
    ['Verified', 'failed, today, at https://api.openai.com'],
    ['Missing scopes', 'api.model.read'],
    ['Verify failure', 'forbidden (HTTP 403)'],
  ]);
  assert.deepEqual(splitScopes('repo, read:org  gist'), ['repo', 'read:org', 'gist']);
});

test('Verify is a release command; Configure only changes metadata; neither has a skip switch', () => {
  assert.equal(COMMANDS.verifyToken.class, 'release');
  assert.equal(COMMANDS.verifyAllTokens.class, 'release');
  assert.equal(COMMANDS.configureVerify.class, 'metadata');
  assert.ok(!COMMANDS.verifyToken.args.safeParse({ namespace: 'bearer', name: 'github', confirm: false }).success);
  assert.ok(COMMANDS.verifyToken.args.safeParse({ namespace: 'bearer', name: 'github', service: 'gitlab', baseUrl: 'https://gitlab.example.com' }).success);
});

test('the store keeps the verify settings across Set and Rotate, and drops the result that described the old value', async () => {
  const { TokenStore } = await import('../../extension/store/tokenStore');
  const { MemoryBackend, MemoryIndex } = await import('../unit/support/memoryBackend');
  const store = new TokenStore({ backends: [new MemoryBackend()], index: new MemoryIndex(), backendFor: () => 'secretStorage', now: () => new Date('2026-12-01T10:00:00Z'), log: () => undefined });
  const key = { namespace: 'bearer', name: 'github' };
  const verify = { service: 'github' as const, baseUrl: 'https://ghe.example.com/api/v3' };
  const lastVerified: LastVerified = { at: '2026-12-01T10:00:00.000Z', ok: true, service: 'github', origin: 'https://ghe.example.com', identity: 'octocat' };
  await store.set({ ...key, type: 'bearer', value: 'v1' });
  await store.updateMetadata(key, { verify, lastVerified });
  assert.deepEqual(store.get(key)?.lastVerified, lastVerified);
  await store.rotate(key, 'v2');
  assert.deepEqual(store.get(key)?.verify, verify);
  assert.equal(store.get(key)?.lastVerified, undefined);
  await store.updateMetadata(key, { lastVerified });
  await store.restorePrevious(key);
  assert.equal(store.get(key)?.lastVerified, undefined);
  await store.updateMetadata(key, { lastVerified });
  await store.set({ ...key, type: 'bearer', value: 'v3' });
  assert.deepEqual(store.get(key)?.verify, verify);
  assert.equal(store.get(key)?.lastVerified, undefined);
  assert.equal(store.get(key)?.updatedAt, '2026-12-01T10:00:00.000Z');
});

test('the language server\'s hover table shows the last verification, escaped', () => {
  const md = metadataMarkdown(
    tokenMetadataSchema.parse({
      ...BASE_META,
      lastVerified: { at: '2026-12-01T10:00:00.000Z', ok: false, service: 'github', origin: 'https://api.github.com', identity: 'octo-cat', reason: 'rejected (HTTP 401)', scopes: ['repo'] },
    }),
    new Date('2026-12-01T11:00:00Z'),
  );
  for (const row of [String.raw`| Verified | failed, 2026\-12\-01 10:00 UTC, at https://api\.github\.com |`, String.raw`| Identity | octo\-cat |`, String.raw`| Token scopes | repo |`, String.raw`| Verify failure | rejected \(HTTP 401\) |`])
    assert.ok(md.includes(row), `${row} in\n${md}`);
});
