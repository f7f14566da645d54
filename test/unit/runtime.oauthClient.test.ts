/**
 * The seam between the MCP provider and the OAuth feature: the `oauth` object of an HTTP server
 * entry (parsing, JSON schema, consent identity), and the provider's per-token decision (planToken):
 * a missing `oauth:` token of an HTTP server leads to the sign-in, not to "Set Token".
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Ajv from 'ajv';
import { entryStrings, parseMcpConfig, type ServerEntry } from '../../server/core/mcpConfig';
import type { TokenMetadata } from '../../server/core/model';
import { fingerprint, identityOf as identityOfPlan } from '../../extension/runtime/consent';
import { needsOf, planLaunch } from '../../extension/runtime/resolve';
import { planToken, preRegisteredClient } from '../../extension/runtime/tokenPlan';

const SECRET = 'cs-VERY-SECRET-client-secret-0123456789';

function parse(server: object) {
  return parseMcpConfig(JSON.stringify({ servers: { acme: server } }));
}
function entry(server: object): ServerEntry {
  const parsed = parse(server);
  assert.equal(parsed.servers.length, 1, JSON.stringify(parsed.problems));
  return parsed.servers[0];
}
const HTTP = { type: 'http', url: 'https://mcp.acme.test/mcp', headers: { Authorization: 'Bearer $<TOKEN:oauth:acme>' } };

test('an HTTP entry takes a pre-registered OAuth client; the secret is kept as its reference', () => {
  const e = entry({
    ...HTTP,
    oauth: {
      clientId: 'acme-app',
      clientSecret: '${TOKEN:api-key:acme-client-secret}',
      authorizationUrl: 'https://auth.acme.test/authorize',
      tokenUrl: 'https://auth.acme.test/token',
      scopes: ['mcp:read', 'offline_access'],
    },
  });
  assert.equal(e.kind, 'http');
  if (e.kind !== 'http') return;
  assert.deepEqual(e.oauth, {
    clientId: 'acme-app',
    clientSecret: '${TOKEN:api-key:acme-client-secret}',
    clientSecretKey: { namespace: 'api-key', name: 'acme-client-secret' },
    authorizationUrl: 'https://auth.acme.test/authorize',
    tokenUrl: 'https://auth.acme.test/token',
    scopes: ['mcp:read', 'offline_access'],
  });
  // The client secret is a reference the server needs (consent, audit), first: before the sign-in.
  assert.deepEqual(entryStrings(e).map((x) => x.field), ['oauth.clientSecret', 'url', 'headers.Authorization']);
  assert.deepEqual(needsOf(e).tokens, [
    { namespace: 'api-key', name: 'acme-client-secret' },
    { namespace: 'oauth', name: 'acme' },
  ]);
  // A public client: the id alone.
  const pub = entry({ ...HTTP, oauth: { clientId: 'public-app' } });
  assert.deepEqual(pub.kind === 'http' && pub.oauth, { clientId: 'public-app' });
  assert.deepEqual(needsOf(pub).tokens, [{ namespace: 'oauth', name: 'acme' }]);
  // Without `oauth`, nothing changes.
  assert.equal((entry(HTTP) as { oauth?: unknown }).oauth, undefined);
});

test('invalid oauth objects are reported on the entry, never echoing a literal secret', () => {
  const cases: [object, RegExp][] = [
    [{ clientId: 'x', clientSecret: SECRET }, /oauth\.clientSecret: must be one token reference/],
    [{ clientId: 'x', clientSecret: `Basic $<TOKEN:api-key:s>` }, /must be one token reference/],
    [{ clientId: 'x', clientSecret: '$<TOKEN:oauth:s>' }, /not "oauth"/],
    [{ clientId: 'x', clientSecret: '$<TOKEN:oauth-client:s>' }, /not "oauth-client"/],
    [{ clientId: 'x', clientSecret: '$<TOKEN:oauth-refresh:s>' }, /not "oauth-refresh"/],
    [{ clientId: '' }, /client id is empty/],
    [{ clientSecret: '$<TOKEN:api-key:s>' }, /oauth\.clientId/],
    [{ clientId: 'x', tokenUrl: 'https://auth.test/token' }, /both or neither/],
    [{ clientId: 'x', authorizationUrl: 'ftp://auth.test/a', tokenUrl: 'https://auth.test/t' }, /http\(s\) URL/],
    [{ clientId: 'x', client_secret: '$<TOKEN:api-key:s>' }, /client_secret/],
    [{ clientId: 'x', scopes: ['a b'] }, /no spaces/],
  ];
  for (const [oauth, expected] of cases) {
    const parsed = parse({ ...HTTP, oauth });
    assert.equal(parsed.servers.length, 0, JSON.stringify(oauth));
    const text = parsed.problems.map((p) => p.message).join('\n');
    assert.match(text, expected);
    assert.ok(!text.includes(SECRET), 'the literal secret is not echoed');
  }
});

test('schemas/mcp.tokens.schema.json accepts the oauth object and rejects the same mistakes', () => {
  const schema = JSON.parse(readFileSync(join(__dirname, '../../schemas/mcp.tokens.schema.json'), 'utf8')) as object;
  const ajv = new Ajv({ allErrors: true, strict: false, validateFormats: false });
  const validate = ajv.compile(schema);
  const file = (oauth: object) => ({ servers: { acme: { ...HTTP, oauth } } });
  assert.ok(validate(file({ clientId: 'a', clientSecret: '$<TOKEN:api-key:s>', authorizationUrl: 'https://a.test/authorize', tokenUrl: 'https://a.test/token', scopes: ['x'] })), JSON.stringify(validate.errors));
  assert.ok(validate(file({ clientId: 'a' })));
  assert.equal(validate(file({ clientId: 'a', clientSecret: SECRET })), false);
  assert.equal(validate(file({ clientId: 'a', tokenUrl: 'https://a.test/token' })), false);
  assert.equal(validate(file({ clientSecret: '$<TOKEN:api-key:s>' })), false);
  assert.equal(validate(file({ clientId: 'a', extra: 1 })), false);
});

test('consent: the token endpoint of a pre-registered client is part of the server identity', () => {
  const FILE = '/w/.vscode/mcp.tokens.json';
  const ctx = { workspaceFolder: '/w', userHome: '/home/u', pathSeparator: '/', env: {} };
  const identityOf = (e: ServerEntry) => identityOfPlan({ file: FILE, server: e.name }, planLaunch(e, ctx, { input: () => undefined }, '/w'));
  const plain = identityOf(entry(HTTP));
  assert.equal(plain.target, 'Sends requests to: https://mcp.acme.test/mcp (host mcp.acme.test)\nHeaders: Authorization', 'no token endpoint without oauth.tokenUrl');
  assert.equal(fingerprint(identityOf(entry({ ...HTTP, oauth: { clientId: 'a', clientSecret: '$<TOKEN:api-key:s>' } }))), fingerprint(plain));
  const withUrls = (tokenUrl: string) => identityOf(entry({ ...HTTP, oauth: { clientId: 'a', authorizationUrl: 'https://auth.acme.test/a', tokenUrl } }));
  assert.match(withUrls('https://mcp.acme.test/token').target, /token endpoint https:\/\/mcp\.acme\.test\/token$/);
  assert.notEqual(fingerprint(withUrls('https://mcp.acme.test/token')), fingerprint(plain), 'a token endpoint on the same origin counts too');
  const other = withUrls('https://auth.acme.test/token');
  assert.equal(other.target, 'Sends requests to: https://mcp.acme.test/mcp (host mcp.acme.test)\nHeaders: Authorization\nOAuth client secret sent to the token endpoint https://auth.acme.test/token');
  assert.notEqual(fingerprint(other), fingerprint(plain));
  assert.notEqual(fingerprint(withUrls('https://evil.test/token')), fingerprint(other));
});

const NOW = new Date('2026-11-23T12:00:00Z');
function meta(over: Partial<TokenMetadata> & Pick<TokenMetadata, 'namespace' | 'name' | 'type'>): TokenMetadata {
  return { createdAt: '2026-11-01T00:00:00Z', updatedAt: '2026-11-01T00:00:00Z', ...over } as TokenMetadata;
}
const OAUTH = { namespace: 'oauth', name: 'acme' };
const URL_ = 'https://mcp.acme.test/mcp';

test('planToken: a missing oauth token of an HTTP server signs in with the server URL (not "Set Token")', () => {
  assert.deepEqual(planToken({ key: OAUTH, meta: undefined, serverUrl: URL_, oauthAvailable: true, now: NOW }), { kind: 'oauth', url: URL_, signIn: true });
  // Type oauth in another namespace, marked "sign-in required".
  const custom = { namespace: 'team', name: 'acme' };
  const required = meta({ ...custom, type: 'oauth', oauth: { signInRequired: true, serverUrl: 'https://old.test/mcp' } } as never);
  assert.deepEqual(planToken({ key: custom, meta: required, serverUrl: URL_, oauthAvailable: true, now: NOW }), { kind: 'oauth', url: URL_, signIn: true });
  // A stored, signed-in token: refresh check, with the server URL.
  const fine = meta({ ...OAUTH, type: 'oauth', oauth: { serverUrl: URL_ } } as never);
  assert.deepEqual(planToken({ key: OAUTH, meta: fine, serverUrl: URL_, oauthAvailable: true, now: NOW }), { kind: 'oauth', url: URL_, signIn: false });
});

test('planToken: a stdio server (no URL) falls back to the stored token\'s URL, else "Set Token"', () => {
  assert.deepEqual(planToken({ key: OAUTH, meta: undefined, serverUrl: undefined, oauthAvailable: true, now: NOW }), { kind: 'offer-set' });
  const required = meta({ ...OAUTH, type: 'oauth', oauth: { signInRequired: true, serverUrl: URL_ } } as never);
  assert.deepEqual(planToken({ key: OAUTH, meta: required, serverUrl: undefined, oauthAvailable: true, now: NOW }), { kind: 'oauth', url: URL_, signIn: true });
  const requiredNoUrl = meta({ ...OAUTH, type: 'oauth', oauth: { signInRequired: true } } as never);
  assert.deepEqual(planToken({ key: OAUTH, meta: requiredNoUrl, serverUrl: undefined, oauthAvailable: true, now: NOW }), { kind: 'fail', reason: 'no-url' });
  // Set by hand (no OAuth facts): used through ensureFresh, which leaves a fresh token alone.
  const manual = meta({ ...OAUTH, type: 'oauth' });
  assert.deepEqual(planToken({ key: OAUTH, meta: manual, serverUrl: undefined, oauthAvailable: true, now: NOW }), { kind: 'oauth', url: undefined, signIn: false });
});

test('planToken: other tokens and a missing OAuth feature', () => {
  const bearer = { namespace: 'bearer', name: 'gh' };
  assert.deepEqual(planToken({ key: bearer, meta: undefined, serverUrl: URL_, oauthAvailable: true, now: NOW }), { kind: 'offer-set' });
  assert.deepEqual(planToken({ key: bearer, meta: meta({ ...bearer, type: 'bearer' }), serverUrl: URL_, oauthAvailable: true, now: NOW }), { kind: 'use', expired: false });
  assert.deepEqual(planToken({ key: bearer, meta: meta({ ...bearer, type: 'bearer', expiresAt: '2026-11-22T00:00:00Z' }), serverUrl: URL_, oauthAvailable: true, now: NOW }), { kind: 'use', expired: true });
  assert.deepEqual(planToken({ key: OAUTH, meta: undefined, serverUrl: URL_, oauthAvailable: false, now: NOW }), { kind: 'offer-set' });
  const required = meta({ ...OAUTH, type: 'oauth', oauth: { signInRequired: true } } as never);
  assert.deepEqual(planToken({ key: OAUTH, meta: required, serverUrl: URL_, oauthAvailable: false, now: NOW }), { kind: 'fail', reason: 'sign-in-required' });
  assert.deepEqual(planToken({ key: OAUTH, meta: meta({ ...OAUTH, type: 'oauth' }), serverUrl: URL_, oauthAvailable: false, now: NOW }), { kind: 'use', expired: false });
});

test('preRegisteredClient: the entry\'s client with the secret value looked up; a missing secret names the reference only', () => {
  const e = entry({ ...HTTP, oauth: { clientId: 'acme-app', clientSecret: '$<TOKEN:api-key:acme-secret>', authorizationUrl: 'https://a.test/authorize', tokenUrl: 'https://a.test/token', scopes: ['s1'] } });
  const lookups: string[] = [];
  const client = preRegisteredClient(e, (k) => {
    lookups.push(`${k.namespace}:${k.name}`);
    return SECRET;
  });
  assert.deepEqual(client, { clientId: 'acme-app', clientSecret: SECRET, clientSecretRef: '$<TOKEN:api-key:acme-secret>', authorizationEndpoint: 'https://a.test/authorize', tokenEndpoint: 'https://a.test/token', scopes: ['s1'] });
  assert.deepEqual(lookups, ['api-key:acme-secret']);
  assert.deepEqual(preRegisteredClient(entry({ ...HTTP, oauth: { clientId: 'pub' } }), () => assert.fail('no lookup')), { clientId: 'pub' });
  assert.equal(preRegisteredClient(entry(HTTP), () => SECRET), undefined);
  assert.equal(preRegisteredClient(entry({ command: 'node' }), () => SECRET), undefined);
  assert.throws(() => preRegisteredClient(e, () => undefined), (err: Error) => /\$<TOKEN:api-key:acme-secret> of the MCP server "acme" is not stored/.test(err.message));
});
