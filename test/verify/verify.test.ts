/**
 * Verify Token against local stand-ins that answer like each service (test/fixtures/verify/standIn.ts):
 * 200 with an identity, 401, 403 with missing scopes, 5xx, a timeout, an oversized answer, under the
 * public path layout and under an enterprise base URL. Every request any test makes is recorded (by
 * the stand-in and by the fetch wrapper), and no request ever goes to an origin other than the
 * configured one: insecure URLs are refused before anything is sent, and a redirect to another
 * origin is not followed.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { lastVerifiedSchema, type VerifyServiceId, type VerifySettings } from '../../server/core/model';
import { VerifyTargetError, targetOrigin, verify, type FetchFn } from '../../extension/verify/client';
import { startStandIn, type StandIn } from '../fixtures/verify/standIn';

let api: StandIn;
let other: StandIn;
/** Every URL the client asked fetch for, in every test. */
const fetched: string[] = [];
const recordingFetch: FetchFn = (url, init) => {
  fetched.push(url);
  return fetch(url, init);
};

before(async () => {
  api = await startStandIn();
  other = await startStandIn();
});
after(async () => {
  await api.close();
  await other.close();
  // Nothing ever reached the second stand-in except where a test pointed there on purpose (none do).
  assert.deepEqual(other.requests, []);
  assert.ok(fetched.length > 20);
  assert.deepEqual(
    fetched.filter((u) => new URL(u).origin !== api.origin),
    [],
    'every request went to the configured origin',
  );
});

const run = (settings: VerifySettings, value: string, timeoutMs = 2000) => verify(settings, value, { fetch: recordingFetch, timeoutMs, maxBytes: 1024 * 1024 });

/** The settings of `service` at the stand-in, under `prefix` (an enterprise layout). */
function at(service: VerifyServiceId, prefix = ''): VerifySettings {
  if (service === 'generic') return { service, url: `${api.origin}${prefix}/generic/me`, header: 'X-Custom-Key: {{value}}' };
  return { service, baseUrl: `${api.origin}${prefix}` };
}

interface Row {
  service: VerifyServiceId;
  identity: string | undefined;
  scopes?: string[];
  missing?: string[];
  /** The path the identity request goes to (under the base). */
  path: string;
}

const TABLE: Row[] = [
  { service: 'github', identity: 'octo-standin', scopes: ['repo', 'read:org'], missing: ['read:user', 'user'], path: '/user' },
  { service: 'openai', identity: 'organization org-openai-standin', missing: ['api.model.read'], path: '/v1/models' },
  { service: 'anthropic', identity: 'organization org-anthropic-standin', path: '/v1/models' },
  { service: 'slack', identity: 'slackbot-standin @ Stand-in Team', scopes: ['chat:write', 'channels:read'], missing: ['users:read'], path: '/auth.test' },
  { service: 'gitlab', identity: 'gitlab-standin', scopes: ['read_user', 'read_api'], missing: ['read_user', 'api'], path: '/api/v4/user' },
  { service: 'huggingface', identity: 'hf-standin', scopes: ['read'], path: '/api/whoami-v2' },
  { service: 'generic', identity: 'generic-standin', path: '/generic/me' },
];

for (const row of TABLE) {
  describe(`${row.service}`, () => {
    for (const prefix of ['', '/enterprise/api/v3']) {
      const where = prefix ? 'at an enterprise base URL' : 'at the base URL';
      test(`a good token reports its identity${row.scopes ? ' and scopes' : ''} (${where})`, async () => {
        const before = api.requests.length;
        const value = `good-${row.service}-${prefix.length}`;
        const r = await run(at(row.service, prefix), value);
        assert.equal(r.ok, true, r.reason);
        assert.equal(r.identity, row.identity);
        assert.deepEqual(r.scopes, row.scopes);
        assert.equal(r.origin, api.origin);
        assert.equal(r.service, row.service);
        assert.ok(lastVerifiedSchema.safeParse(r).success);
        const sent = api.requests.slice(before);
        assert.equal(sent[0].path, `${prefix}${row.path}`);
        assert.equal(sent[0].method, row.service === 'slack' ? 'POST' : 'GET');
        // The value travelled in the service's header, nowhere else.
        for (const req of sent) {
          assert.ok(!req.path.includes(value));
          const carried = Object.entries(req.headers).filter(([, v]) => String(v).includes(value));
          const expected = row.service === 'anthropic' ? 'x-api-key' : row.service === 'generic' ? 'x-custom-key' : 'authorization';
          assert.deepEqual(
            carried.map(([k]) => k),
            [expected],
          );
        }
        if (row.service === 'anthropic') assert.equal(sent[0].headers['anthropic-version'], '2023-06-01');
      });
    }

    test('a revoked token fails with 401 and the reason', async () => {
      const r = await run(at(row.service), `revoked-${row.service}`);
      assert.equal(r.ok, false);
      if (row.service === 'slack') assert.match(r.reason ?? '', /rejected: invalid_auth/);
      else {
        assert.equal(r.status, 401);
        assert.match(r.reason ?? '', /^rejected: the token is invalid, expired or revoked \(HTTP 401\)/);
      }
      assert.equal(r.identity, undefined);
    });

    test('a token lacking scopes fails with 403 and names the missing scopes', async () => {
      const r = await run(at(row.service), `noscope-${row.service}`);
      assert.equal(r.ok, false);
      assert.deepEqual(r.missingScopes, row.missing);
      if (row.service !== 'slack') assert.equal(r.status, 403);
      assert.match(r.reason ?? '', row.service === 'slack' ? /missing_scope/ : /forbidden/);
      if (row.missing) assert.match(r.reason ?? '', new RegExp(`missing scopes: ${row.missing.join(', ')}`));
    });

    test('a failing service (503) is a failure, not a crash', async () => {
      const r = await run(at(row.service), `broken-${row.service}`);
      assert.equal(r.ok, false);
      assert.equal(r.status, 503);
      assert.match(r.reason ?? '', /the service failed \(HTTP 503\)/);
    });
  });
}

test('a service that does not answer times out', async () => {
  const t0 = Date.now();
  const r = await run(at('github'), 'slow-github', 300);
  assert.equal(r.ok, false);
  assert.equal(r.reason, 'no answer within 300 ms');
  assert.ok(Date.now() - t0 < 2000);
  const r2 = await verify(at('openai'), 'slow-openai', { fetch: recordingFetch, timeoutMs: 1000 });
  assert.equal(r2.reason, 'no answer within 1 s');
});

test('an answer larger than the cap is not read to the end', async () => {
  const r = await run(at('github'), 'huge-github');
  assert.equal(r.ok, false);
  assert.equal(r.reason, 'the answer is larger than 1024 KiB');
});

test('a cross-origin redirect is not followed, and the value does not reach the other origin', async () => {
  api.redirectTo = other.origin;
  try {
    const r = await run(at('github'), 'good-redirected');
    assert.equal(r.ok, false);
    assert.equal(r.status, 302);
    assert.equal(r.reason, `redirected to ${other.origin}; the value was not sent there`);
  } finally {
    api.redirectTo = undefined;
  }
  assert.deepEqual(other.requests, []);
});

test('a same-origin redirect is followed (at most 3 times)', async () => {
  api.redirectTo = `${api.origin}/moved`;
  try {
    const before = api.requests.length;
    const r = await run(at('github'), 'good-moved');
    assert.equal(r.ok, false);
    assert.equal(r.reason, 'more than 3 redirects');
    assert.equal(api.requests.length - before, 4);
  } finally {
    api.redirectTo = undefined;
  }
});

test('insecure and malformed targets are refused before anything is sent', async () => {
  const count = fetched.length;
  const refused: VerifySettings[] = [
    { service: 'github', baseUrl: 'http://api.github.example' },
    { service: 'generic', url: 'http://10.0.0.1/me' },
    { service: 'gitlab', baseUrl: 'https://user:pw@gitlab.example' },
    { service: 'openai', baseUrl: 'https://api.openai.example/?x=1' },
    { service: 'slack', baseUrl: 'ftp://slack.example' },
  ];
  for (const s of refused) await assert.rejects(run(s, 'good-x'), VerifyTargetError, JSON.stringify(s));
  assert.equal(fetched.length, count);
  assert.equal(targetOrigin({ service: 'github' }), 'https://api.github.com');
  assert.equal(targetOrigin({ service: 'slack' }), 'https://slack.com');
  assert.equal(targetOrigin({ service: 'github', baseUrl: 'http://localhost:8080/api/v3' }), 'http://localhost:8080');
  assert.equal(targetOrigin({ service: 'github', baseUrl: 'https://ghe.example.com/api/v3' }), 'https://ghe.example.com');
});

test('a value a header cannot carry is refused, and no result carries the value', async () => {
  const count = fetched.length;
  const r = await run(at('github'), 'good-line\r\nX-Injected: 1');
  assert.equal(r.ok, false);
  assert.match(r.reason ?? '', /not sent/);
  assert.equal(fetched.length, count);
  // A service that echoes the value back (here: the unknown-path 404 of the generic URL) has it scrubbed.
  const echo = await verify({ service: 'generic', url: `${api.origin}/generic/me` }, 'good-echo', {
    fetch: async (url, init) => (fetched.push(url), new Response(JSON.stringify({ message: `bad token good-echo` }), { status: 401, headers: { 'Content-Type': 'application/json' } })),
  });
  assert.equal(echo.ok, false);
  assert.ok(!JSON.stringify(echo).includes('good-echo'), JSON.stringify(echo));
  assert.match(echo.reason ?? '', /bad token …/);
});

test('an unreachable service is a failure naming the origin, not the value', async () => {
  const dead = await startStandIn();
  const origin = dead.origin;
  await dead.close();
  const r = await verify({ service: 'github', baseUrl: origin }, 'good-unreachable', { timeoutMs: 2000 });
  assert.equal(r.ok, false);
  assert.equal(r.reason, `could not reach ${origin} (ECONNREFUSED)`);
});

test('a 2xx answer of the wrong shape (a wrong base URL) fails', async () => {
  const r = await verify({ service: 'github', baseUrl: api.origin }, 'good-shape', {
    fetch: async (url) => (fetched.push(url), new Response('<html>login page</html>', { status: 200, headers: { 'Content-Type': 'text/html' } })),
  });
  assert.equal(r.ok, false);
  assert.match(r.reason ?? '', /not what this service sends/);
});
