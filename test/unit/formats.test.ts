/**
 * The format rules (server/core/formats.ts) and the JWT reader (server/core/jwt.ts), table-driven:
 * for every rule a valid sample, a truncated one, one with a wrong prefix, and the same value checked
 * under another provider; the language server's scan finds exactly the valid samples; secretlint's
 * preset reports the samples of every rule whose pattern is taken from it.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { lintSource } from '@secretlint/core';
import { creator as recommendedPreset } from '@secretlint/secretlint-rule-preset-recommend';
import { FORMAT_RULES, PROVIDERS, assessValue, assessmentProblems, checkFormat, identify, rulesOf, suggestProvider } from '../../server/core/formats';
import { isUnsigned, jwtExpired, jwtExpiry, jwtMetadata, jwtRows, readJwt } from '../../server/core/jwt';
import { detectSecrets } from '../../server/core/secrets';
import { jwtInfoSchema, tokenMetadataSchema } from '../../server/core/model';
import { VALID, chars, jwt, truncated, uuid } from './support/formatSamples';

const rule = (id: string) => {
  const r = FORMAT_RULES.find((x) => x.id === id);
  assert.ok(r, id);
  return r;
};

describe('format rules', () => {
  it('has a valid sample for every rule, and every provider Set Token offers has rules', () => {
    assert.deepEqual(FORMAT_RULES.map((r) => r.id).filter((id) => !VALID[id]), []);
    for (const p of PROVIDERS) assert.ok(rulesOf(p.id).length > 0, p.id);
    assert.equal(new Set(FORMAT_RULES.map((r) => r.id)).size, FORMAT_RULES.length, 'ids are unique');
  });

  for (const r of FORMAT_RULES) {
    describe(r.id, () => {
      it('accepts its valid samples and names them', () => {
        for (const v of VALID[r.id]) {
          assert.equal(r.check(v), undefined, `${r.id}: ${r.check(v)}`);
          if (r.provider) assert.equal(checkFormat(v, { provider: r.provider }).fits?.provider, r.provider);
          if (r.provider && !r.generic) assert.equal(identify(v)[0]?.id, r.id, `${r.id} is the first rule its sample fits`);
        }
      });
      it('refuses a truncated value and a wrong prefix, saying what was expected', () => {
        const v = VALID[r.id][0];
        // A cut-off URL or host is still one: those kinds get a broken value instead.
        const short = ({ basic: 'alice', url: 'mcp.example.com/x', host: 'pve..lan' } as Record<string, string>)[r.id] ?? truncated(v, 12);
        const err = r.check(short);
        assert.ok(err, `${r.id} refuses ${short.length} characters`);
        assert.ok(!err.includes(v.slice(-10)) || r.expected.includes(v.slice(-10)), 'the message does not repeat the value');
        if (r.prefixes?.length) {
          const wrong = `Q${v.slice(1)}`;
          assert.match(r.check(wrong) ?? '', /does not start with|no "|not /, `${r.id}: ${r.check(wrong)}`);
        }
        if (r.provider) {
          const c = checkFormat(short, { provider: r.provider });
          if (rulesOf(r.provider).every((x) => x.check(short) !== undefined)) assert.match(c.problem ?? '', /^expected .+; .+/);
        }
      });
      if (r.scan) {
        it('is found by the language server scan, exactly', () => {
          for (const v of VALID[r.id]) {
            const text = `value ${v} end`;
            const hits = detectSecrets(text).filter((f) => f.ruleId === r.id);
            assert.equal(hits.length, 1, `${r.id} found once`);
            const found = text.slice(hits[0].start, hits[0].end);
            assert.ok(v.includes(found) && found.length >= 8, `${r.id}: the finding is the secret`);
          }
        });
      }
    });
  }

  it('says what was expected, with the length it got', () => {
    const gh = VALID.github[0];
    assert.equal(rule('github').check(gh.slice(0, 24)), 'this value has 20 characters after ghp_');
    assert.equal(
      checkFormat(gh.slice(0, 24), { provider: 'github' }).problem,
      'expected ghp_, gho_, ghu_, ghs_ or ghr_ followed by 36 letters and digits; this value has 20 characters after ghp_',
    );
    assert.equal(rule('github').check(`${gh.slice(0, 10)}!${gh.slice(11)}`), 'this value has characters other than letters and digits after ghp_');
    assert.equal(rule('aws-access-key').check(VALID['aws-access-key'][0].slice(0, 16)), 'this value has 12 characters after AKIA');
    assert.match(rule('proxmox').check(`PVEAPIToken=root@pam!ci=${chars(36, 'abcdef0123456789', 1)}`) ?? '', /not a UUID/);
    assert.match(rule('proxmox').check(`PVEAPIToken=root@pam=${uuid(1)}`) ?? '', /no "!"/);
    assert.match(rule('proxmox').check(`PVEAPIToken=root!ci=${uuid(1)}`) ?? '', /no "@"/);
    assert.match(rule('basic').check('alice') ?? '', /no ":"/);
    assert.match(rule('basic').check(':pw') ?? '', /user name .* empty/);
    assert.match(rule('url').check('mcp.example.com/x') ?? '', /not an absolute URL/);
    assert.match(rule('host').check('https://example.com') ?? '', /has a scheme/);
    assert.match(rule('host').check('example.com/path') ?? '', /path/);
    assert.match(rule('host').check('300.1.1.1') ?? '', /IPv4/);
    assert.match(rule('host').check('example.com:70000') ?? '', /above 65535/);
    assert.match(rule('anthropic').check(`sk-ant-api03-${chars(95, 'abc', 2)}`) ?? '', /does not end in AA/);
    assert.match(rule('openai').check(`sk-proj-${chars(156, 'abc', 2)}`) ?? '', /no T3BlbkFJ/);
  });

  it('names the provider a value of another provider looks like', () => {
    const gh = VALID.github[0];
    const c = checkFormat(gh, { provider: 'openai' });
    assert.equal(c.fits, undefined);
    assert.equal(c.meant?.id, 'openai');
    assert.deepEqual(c.looksLike.map((r) => r.id), ['github']);
    const a = assessValue(gh, { provider: 'openai', type: 'api-key' }, new Date());
    assert.match(a.formatProblem ?? '', /^This does not look like an OpenAI API key: expected sk-proj-.*; this value does not start with sk-proj-, sk-svcacct-, sk-admin- or sk-\. It looks like a GitHub token \(provider github\)\.$/);
    // An Anthropic key under OpenAI (both start with sk-): the closer prefix explains, the other names it.
    const ant = checkFormat(VALID.anthropic[0], { provider: 'openai' });
    assert.ok(ant.problem);
    assert.deepEqual(ant.looksLike.map((r) => r.provider), ['anthropic']);
    assert.match(assessValue(VALID.anthropic[0], { provider: 'openai' }, new Date()).formatProblem ?? '', /looks like an Anthropic API key/);
    // A provider without rules (free text): nothing to check, but another provider's format is named.
    assert.deepEqual(checkFormat(gh, { provider: 'notion' }).looksLike.map((r) => r.id), ['github']);
    assert.equal(checkFormat(chars(30), { provider: 'notion' }).problem, undefined);
    // A JWT is many providers' format: not "another provider" when one was chosen.
    assert.deepEqual(checkFormat(VALID.jwt[0], { provider: 'keycloak' }).looksLike, []);
    // Type basic without a provider checks user:password.
    assert.match(checkFormat('no-colon-here', { type: 'basic' }).problem ?? '', /no ":"/);
    assert.equal(checkFormat(VALID.basic[0], { type: 'basic' }).problem, undefined);
  });

  it('suggests a provider from the format', () => {
    const expected: Record<string, string> = { github: 'github', 'github-fine-grained': 'github', anthropic: 'anthropic', openai: 'openai', slack: 'slack', stripe: 'stripe', 'aws-access-key': 'aws', 'google-api-key': 'google', gitlab: 'gitlab', huggingface: 'huggingface', proxmox: 'proxmox', jwt: 'jwt' };
    for (const [id, provider] of Object.entries(expected)) for (const v of VALID[id]) assert.equal(suggestProvider(v), provider, id);
    assert.equal(suggestProvider(chars(30)), undefined);
    assert.equal(suggestProvider('example.com'), undefined, 'generic kinds are never suggested');
  });

  it('agrees with secretlint\'s preset on the rules taken from it', async () => {
    const taken = FORMAT_RULES.filter((r) => r.secretlint);
    assert.ok(taken.length >= 6);
    for (const r of taken) {
      // secretlint's basicauth rule reads http(s) and ftp URLs only.
      for (const v of VALID[r.id].filter((x) => r.id !== 'url-password' || /^(?:https?|ftps?):/.test(x))) {
        const result = await lintSource({
          source: { filePath: 'sample.txt', content: `x ${v} y\n`, contentType: 'text' },
          options: { config: { rules: [{ id: recommendedPreset.meta.id, rule: recommendedPreset }] }, maskSecrets: true },
        });
        assert.ok(
          result.messages.some((m) => String(m.ruleId).endsWith(`secretlint-rule-${r.secretlint}`)),
          `secretlint's ${r.secretlint} rule reports the ${r.id} sample (got ${result.messages.map((m) => m.ruleId).join(', ') || 'nothing'})`,
        );
      }
    }
  });

  it('flags a Proxmox API token literal in an MCP config value', () => {
    const token = VALID.proxmox[0];
    const f = detectSecrets(token, { section: 'headers', key: 'Authorization' });
    assert.equal(f.length, 1);
    assert.deepEqual([f[0].ruleId, f[0].provider, f[0].label, f[0].start, f[0].end], ['proxmox', 'proxmox', 'Proxmox VE API token', 0, token.length]);
  });
});

describe('the JWT reader', () => {
  const now = new Date('2026-06-01T00:00:00Z');
  const sec = (iso: string) => Date.parse(iso) / 1000;

  it('reads the registered claims and keeps only iss, sub, aud, iat, alg', () => {
    const v = jwt({ iss: 'https://id.example', sub: 'svc-42', aud: ['mcp', 'api'], iat: sec('2026-05-01T00:00:00Z'), exp: sec('2026-07-01T00:00:00Z'), email: 'private@example.com', scope: 'admin' });
    const r = readJwt(v);
    assert.ok(r.ok);
    assert.equal(jwtExpiry(r.jwt), '2026-07-01T00:00:00.000Z');
    assert.equal(jwtExpired(r.jwt, now), false);
    const kept = jwtMetadata(r.jwt);
    assert.deepEqual(kept, { alg: 'HS256', iss: 'https://id.example', sub: 'svc-42', aud: ['mcp', 'api'], iat: '2026-05-01T00:00:00.000Z' });
    assert.ok(jwtInfoSchema.safeParse(kept).success);
    assert.ok(!JSON.stringify(kept).includes('private@'), 'other claims are not kept');
    const meta = tokenMetadataSchema.parse({ namespace: 'bearer', name: 'x', type: 'bearer', createdAt: now.toISOString(), updatedAt: now.toISOString(), backend: 'secretStorage', jwt: kept });
    assert.deepEqual(meta.jwt, kept);
    assert.deepEqual(jwtRows(kept).map(([k]) => k), ['JWT algorithm', 'JWT issuer', 'JWT subject', 'JWT audience', 'JWT issued']);
  });

  it('an expired JWT: expired, and said so', () => {
    const v = jwt({ sub: 'x', exp: sec('2026-05-29T00:00:00Z') });
    const a = assessValue(v, {}, now);
    assert.equal(a.jwtExpired, true);
    assert.equal(a.jwtExpiresAt, '2026-05-29T00:00:00.000Z');
    assert.equal(a.provider, 'jwt');
    assert.deepEqual(assessmentProblems(a, now), ['The JWT expired on 2026-05-29T00:00:00.000Z (3 days ago).']);
  });

  it('a JWT without exp has no expiry', () => {
    const r = readJwt(jwt({ sub: 'x' }));
    assert.ok(r.ok);
    assert.equal(jwtExpiry(r.jwt), undefined);
    assert.equal(jwtExpired(r.jwt, now), false);
    const a = assessValue(jwt({ sub: 'x' }), { provider: 'jwt' }, now);
    assert.deepEqual([a.jwtExpiresAt, a.jwtExpired, a.formatProblem], [undefined, false, undefined]);
  });

  it('alg: none is noted', () => {
    const v = jwt({ sub: 'x' }, { alg: 'none' }, '');
    const r = readJwt(v);
    assert.ok(r.ok);
    assert.equal(isUnsigned(r.jwt), true);
    const a = assessValue(v, {}, now);
    assert.equal(a.jwtUnsigned, true);
    assert.match(assessmentProblems(a, now).join(' '), /unsigned \(alg: none\)/);
    assert.match(jwtRows(a.jwt)[0][1], /^none \(unsigned/);
  });

  it('malformed JWTs: a clear reason, never the value', () => {
    const header = Buffer.from('{"alg":"HS256"}').toString('base64url');
    const payload = Buffer.from('{"sub":"x"}').toString('base64url');
    const cases: [string, RegExp][] = [
      [`${header}.${payload}`, /has 2 parts.*a JWT has 3/],
      [`${header}.${payload}.sig.a.b`, /5 parts: an encrypted JWT/],
      [`${header}.${Buffer.from('not json').toString('base64url')}.sig`, /payload is not JSON/],
      [`${Buffer.from('{"typ":"JWT"}').toString('base64url')}.${payload}.sig`, /header's "alg" has the wrong type/],
      [`${header}.${Buffer.from('{"exp":"tomorrow"}').toString('base64url')}.sig`, /payload's "exp" has the wrong type/],
      [`${header}.${Buffer.from('[1,2]').toString('base64url')}.sig`, /payload is not a JSON object/],
      [`${header}.pay$load.sig`, /payload is not base64url/],
      [`${header}.${payload}.`, /signature is empty but its header says it is signed/],
      [`${header}..sig`, /payload is empty/],
    ];
    for (const [v, re] of cases) {
      const r = readJwt(v);
      assert.equal(r.ok, false, v);
      if (!r.ok) {
        assert.match(r.error, re);
        assert.ok(!r.error.includes(payload), 'no part of the value in the message');
      }
    }
    const a = assessValue(`${header}.${Buffer.from('{"exp":"x"}').toString('base64url')}.${chars(20)}`, {}, now);
    assert.match(a.jwtError ?? '', /exp/);
    assert.match(assessmentProblems(a, now)[0], /^It starts like a JWT but/);
  });
});
