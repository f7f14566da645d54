/** Pure pieces of the OAuth feature: storage naming, scope selection, issuer comparison, `iss`, messages. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { nameSchema, namespaceSchema } from '../../server/core/model';
import { OAuthFlowError, safeMessage } from '../../extension/oauth/errors';
import { checkIss, requireConfiguredTokenEndpoint, sameIssuer, selectScopes, unionScopes, type ServerAuthInfo } from '../../extension/oauth/flow';
import { CLIENT_NAMESPACE, REFRESH_NAMESPACE, clientKey, isOAuthInternal, refreshKey } from '../../extension/oauth/session';

const info = (scopes?: string[]): ServerAuthInfo => ({
  serverUrl: 'https://mcp.example.com/mcp',
  authorizationServerUrl: 'https://auth.example.com',
  resourceMetadata: { resource: 'https://mcp.example.com/mcp', scopes_supported: scopes },
  metadata: { issuer: 'https://auth.example.com', authorization_endpoint: 'https://auth.example.com/a', token_endpoint: 'https://auth.example.com/t', response_types_supported: ['code'] },
});

describe('storage naming', () => {
  test('client registrations are keyed by issuer with valid, distinct names', () => {
    const a = clientKey('https://auth.example.com/tenant1');
    const b = clientKey('https://auth.example.com/tenant2');
    assert.equal(a.namespace, CLIENT_NAMESPACE);
    assert.match(a.name, /^auth\.example\.com-tenant1-[0-9a-f]{12}$/);
    assert.notEqual(a.name, b.name);
    assert.deepEqual(clientKey('https://auth.example.com/'), clientKey('https://auth.example.com'), 'a trailing slash is the same issuer');
    for (const k of [a, b, clientKey('not a url at all!'), clientKey(`https://x.example/${'p'.repeat(500)}`)]) {
      assert.ok(namespaceSchema.safeParse(k.namespace).success);
      assert.ok(nameSchema.safeParse(k.name).success, k.name);
    }
  });

  test('refresh tokens live beside their access token', () => {
    assert.deepEqual(refreshKey({ namespace: 'oauth', name: 'notion' }), { namespace: REFRESH_NAMESPACE, name: 'notion' });
    assert.deepEqual(refreshKey({ namespace: 'team', name: 'notion' }), { namespace: REFRESH_NAMESPACE, name: 'team.notion' });
    const long = refreshKey({ namespace: 'n'.repeat(64), name: 'x'.repeat(128) });
    assert.ok(nameSchema.safeParse(long.name).success);
    assert.ok(isOAuthInternal(long));
    assert.ok(!isOAuthInternal({ namespace: 'oauth', name: 'notion' }));
  });
});

describe('scopes', () => {
  test("the challenge's scope first, else scopes_supported, else none", () => {
    assert.deepEqual(selectScopes(info(['a', 'b']), { scope: 'x y' }), ['x', 'y']);
    assert.deepEqual(selectScopes(info(['a', 'b']), {}), ['a', 'b']);
    assert.deepEqual(selectScopes(info(undefined), undefined), []);
  });
  test('step-up asks for the union of granted and challenged scopes', () => {
    assert.deepEqual(selectScopes(info(), { scope: 'mcp:basic mcp:write' }, ['mcp:basic', 'mcp:read']), ['mcp:basic', 'mcp:write', 'mcp:read']);
    assert.deepEqual(unionScopes(['a'], undefined, ['a', 'b', '']), ['a', 'b']);
  });
});

describe('issuer checks', () => {
  test('issuers compare as URLs, a bare origin with or without a slash', () => {
    assert.ok(sameIssuer('https://auth.example.com', 'https://auth.example.com/'));
    assert.ok(sameIssuer('https://AUTH.example.com:443/', 'https://auth.example.com'));
    assert.ok(!sameIssuer('https://auth.example.com/t1', 'https://auth.example.com/t2'));
    assert.ok(!sameIssuer('https://auth.example.com', 'https://evil.example.com'));
  });
  test('RFC 9207 iss: equal passes, different fails, missing fails only where advertised', () => {
    const m = info().metadata;
    assert.doesNotThrow(() => checkIss(m, 'https://auth.example.com'));
    assert.doesNotThrow(() => checkIss(m, undefined));
    assert.throws(() => checkIss(m, 'https://evil.example'), (e: unknown) => e instanceof OAuthFlowError && e.failure === 'iss_mismatch');
    assert.throws(
      () => checkIss({ ...m, authorization_response_iss_parameter_supported: true } as typeof m, undefined),
      (e: unknown) => e instanceof OAuthFlowError && e.failure === 'iss_missing',
    );
  });
});

describe('messages', () => {
  test('safeMessage removes secrets and bounds the length', () => {
    const secret = 'rt-0123456789abcdef';
    assert.equal(safeMessage(new Error(`refused ${secret} twice ${secret}`), [secret]), 'refused *** twice ***');
    assert.equal(safeMessage(new Error('x'.repeat(2000))).length, 500);
  });
});

describe('a server entry that names its token endpoint (security review)', () => {
  test('the client secret goes to that endpoint or nowhere', () => {
    const pre = { clientId: 'acme', clientSecret: 'not-a-real-secret', tokenEndpoint: 'https://auth.acme.example/token' };
    assert.doesNotThrow(() => requireConfiguredTokenEndpoint({ issuer: 'https://auth.acme.example', token_endpoint: 'https://auth.acme.example/token' }, pre));
    assert.throws(
      () => requireConfiguredTokenEndpoint({ issuer: 'https://as.evil.example', token_endpoint: 'https://as.evil.example/token' }, pre),
      (e: unknown) => e instanceof OAuthFlowError && /configured for the token endpoint https:\/\/auth\.acme\.example\/token.*names https:\/\/as\.evil\.example\/token; nothing was sent/.test(e.message) && !e.message.includes('not-a-real-secret'),
    );
    // Without a configured endpoint, discovery decides (the consent named no endpoint then).
    assert.doesNotThrow(() => requireConfiguredTokenEndpoint({ issuer: 'https://x.example', token_endpoint: 'https://x.example/t' }, { clientId: 'c' }));
  });
});
