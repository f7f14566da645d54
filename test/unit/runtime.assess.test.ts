/**
 * The one readiness check (extension/runtime/assess.ts), table-driven: each row is the facts of a
 * server (trust, what the store holds, consent, OAuth) and the verdict the Servers view shows and a
 * start acts on. Also: a start's per-token steps, and the helpers of model.ts it relies on.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { assessServer, trustAllows, type Readiness, type ServerFacts } from '../../extension/runtime/assess';
import { expiredForUser, typeFromNamespace, type TokenMetadata } from '../../server/core/model';
import { keyId, type TokenKey } from '../../server/core/reference';
import type { Decision } from '../../extension/runtime/consent';

const NOW = new Date('2026-12-01T12:00:00Z');
const PAST = '2026-11-30T00:00:00Z';
const FUTURE = '2027-01-01T00:00:00Z';
const URL_ = 'https://mcp.acme.test/mcp';

const GH: TokenKey = { namespace: 'bearer', name: 'gh' };
const KEY: TokenKey = { namespace: 'api-key', name: 'x' };
const ACME: TokenKey = { namespace: 'oauth', name: 'acme' };

function meta(key: TokenKey, over: Partial<TokenMetadata> = {}): TokenMetadata {
  const type = typeFromNamespace(key.namespace) ?? 'generic';
  return { ...key, type, createdAt: '2026-01-01T00:00:00Z', updatedAt: '2026-01-01T00:00:00Z', backend: 'secretStorage', ...over };
}

interface Row {
  readonly name: string;
  readonly scope?: 'user' | 'workspace';
  readonly trusted?: boolean;
  readonly tokens: readonly TokenKey[];
  readonly stored: readonly TokenMetadata[];
  /** Decisions by token id; `unknown`: the launch is not known (inputs not given, envFile unreadable). */
  readonly consent: Record<string, Decision> | 'unknown';
  readonly serverUrl?: string;
  readonly oauthAvailable?: boolean;
  readonly state: Readiness;
  readonly keys: readonly TokenKey[];
}

const ROWS: readonly Row[] = [
  { name: 'no token at all', tokens: [], stored: [], consent: 'unknown', state: 'ready', keys: [] },
  { name: 'every token stored and always allowed', tokens: [GH, KEY], stored: [meta(GH), meta(KEY)], consent: { 'bearer:gh': 'always', 'api-key:x': 'always' }, state: 'ready', keys: [] },
  { name: 'workspace server in an untrusted workspace: before anything else', scope: 'workspace', trusted: false, tokens: [GH], stored: [], consent: 'unknown', state: 'untrusted', keys: [] },
  { name: 'workspace server in a trusted workspace', scope: 'workspace', trusted: true, tokens: [GH], stored: [meta(GH)], consent: { 'bearer:gh': 'always' }, state: 'ready', keys: [] },
  { name: 'user server in an untrusted workspace is served', scope: 'user', trusted: false, tokens: [GH], stored: [meta(GH)], consent: { 'bearer:gh': 'always' }, state: 'ready', keys: [] },
  { name: 'a token not stored: token missing (before consent)', tokens: [GH, KEY], stored: [meta(GH)], consent: { 'bearer:gh': 'deny' }, state: 'token-missing', keys: [KEY] },
  { name: 'a missing OAuth token of an HTTP server: signed in at start', tokens: [ACME], stored: [], consent: 'unknown', serverUrl: URL_, state: 'sign-in-needed', keys: [ACME] },
  { name: 'a missing OAuth token of a stdio server: to set', tokens: [ACME], stored: [], consent: 'unknown', state: 'token-missing', keys: [ACME] },
  { name: 'missing OAuth token and missing bearer: only the bearer is to set', tokens: [ACME, GH], stored: [], consent: 'unknown', serverUrl: URL_, state: 'token-missing', keys: [GH] },
  { name: 'stored OAuth token marked sign-in required', tokens: [GH, ACME], stored: [meta(GH), meta(ACME, { oauth: { signInRequired: true } } as never)], consent: 'unknown', serverUrl: URL_, state: 'sign-in-needed', keys: [ACME] },
  { name: 'an expired bearer token', tokens: [GH, KEY], stored: [meta(GH, { expiresAt: PAST }), meta(KEY, { expiresAt: FUTURE })], consent: { 'bearer:gh': 'always', 'api-key:x': 'always' }, state: 'expired', keys: [GH] },
  { name: 'an expired OAuth access token is not "expired" (refreshed at start)', tokens: [ACME], stored: [meta(ACME, { expiresAt: PAST })], consent: { 'oauth:acme': 'always' }, serverUrl: URL_, state: 'ready', keys: [] },
  { name: 'the launch is not known yet: consent needed for every token', tokens: [GH, KEY], stored: [meta(GH), meta(KEY)], consent: 'unknown', state: 'consent-needed', keys: [GH, KEY] },
  { name: 'a token denied to this launch', tokens: [GH, KEY], stored: [meta(GH), meta(KEY)], consent: { 'bearer:gh': 'always', 'api-key:x': 'deny' }, state: 'denied', keys: [KEY] },
  { name: 'denied wins over undecided', tokens: [GH, KEY], stored: [meta(GH), meta(KEY)], consent: { 'api-key:x': 'deny' }, state: 'denied', keys: [KEY] },
  { name: 'one token not decided yet', tokens: [GH, KEY], stored: [meta(GH), meta(KEY)], consent: { 'bearer:gh': 'always' }, state: 'consent-needed', keys: [KEY] },
  { name: 'expired comes before consent', tokens: [GH], stored: [meta(GH, { expiresAt: PAST })], consent: { 'bearer:gh': 'deny' }, state: 'expired', keys: [GH] },
];

function factsOf(row: Row): ServerFacts {
  const stored = new Map(row.stored.map((m) => [keyId(m), m]));
  const consent = row.consent;
  return {
    scope: row.scope ?? 'user',
    workspaceTrusted: row.trusted ?? true,
    tokens: row.tokens,
    meta: (k) => stored.get(keyId(k)),
    consent: consent === 'unknown' ? undefined : (k) => consent[keyId(k)],
    serverUrl: row.serverUrl,
    oauthAvailable: row.oauthAvailable ?? true,
    now: NOW,
  };
}

for (const row of ROWS) {
  test(`assessServer: ${row.name} → ${row.state}`, () => {
    const a = assessServer(factsOf(row));
    assert.equal(a.state, row.state);
    assert.deepEqual(a.keys, row.keys);
    assert.deepEqual(
      a.tokens.map((t) => keyId(t.key)),
      row.tokens.map(keyId),
      'every token of the server, in order',
    );
  });
}

test('assessServer: what a start asks and refuses, and each token\'s step', () => {
  const a = assessServer(
    factsOf({
      name: 'mixed',
      tokens: [GH, KEY, ACME],
      stored: [meta(GH, { expiresAt: PAST }), meta(ACME, { oauth: { serverUrl: URL_ } } as never)],
      consent: { 'bearer:gh': 'always', 'oauth:acme': 'deny' },
      serverUrl: URL_,
      state: 'ready',
      keys: [],
    }),
  );
  assert.deepEqual(a.denied, [ACME]);
  assert.deepEqual(a.ask, [KEY]);
  assert.deepEqual(
    a.tokens.map((t) => t.step),
    [{ kind: 'use', expired: true }, { kind: 'offer-set' }, { kind: 'oauth', url: URL_, signIn: false }],
  );
  assert.equal(a.tokens[1].meta, undefined);
});

test('assessServer: an unknown launch asks every token and denies none', () => {
  const a = assessServer(factsOf({ name: 'unknown', tokens: [GH, KEY], stored: [meta(GH), meta(KEY)], consent: 'unknown', state: 'consent-needed', keys: [] }));
  assert.deepEqual(a.ask, [GH, KEY]);
  assert.deepEqual(a.denied, []);
});

test('trustAllows: a user file always, a workspace file only when trusted', () => {
  assert.deepEqual(
    [trustAllows('user', false), trustAllows('user', true), trustAllows('workspace', false), trustAllows('workspace', true)],
    [true, true, false, true],
  );
});

test('typeFromNamespace and expiredForUser', () => {
  assert.deepEqual(['oauth', 'bearer', 'api-key', 'basic', 'generic', 'custom-team'].map(typeFromNamespace), ['oauth', 'bearer', 'api-key', 'basic', 'generic', undefined]);
  assert.equal(expiredForUser({ expiresAt: PAST }, NOW), true);
  assert.equal(expiredForUser({ expiresAt: FUTURE }, NOW), false);
  assert.equal(expiredForUser({}, NOW), false);
  assert.equal(expiredForUser({ expiresAt: PAST, oauth: { hasRefreshToken: true } } as never, NOW), false, 'renews itself');
  assert.equal(expiredForUser({ expiresAt: PAST, oauth: { hasRefreshToken: true, signInRequired: true } } as never, NOW), true, 'cannot renew itself');
});
