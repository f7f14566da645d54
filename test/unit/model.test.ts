import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { describeExpiry, expiryState, humanSpan, parseExpiryInput, setTokenArgsSchema, tokenIndexSchema, tokenMetadataSchema } from '../../server/core/model';

const now = new Date('2026-11-23T12:00:00Z');
const base = { namespace: 'bearer', name: 'github', type: 'bearer', createdAt: now.toISOString(), updatedAt: now.toISOString(), backend: 'secretStorage' };

describe('token model', () => {
  it('accepts valid metadata and rejects bad fields', () => {
    assert.equal(tokenMetadataSchema.safeParse(base).success, true);
    assert.equal(tokenMetadataSchema.safeParse({ ...base, type: 'password' }).success, false);
    assert.equal(tokenMetadataSchema.safeParse({ ...base, namespace: 'a b' }).success, false);
    assert.equal(tokenMetadataSchema.safeParse({ ...base, backend: 'disk' }).success, false);
    assert.equal(tokenMetadataSchema.safeParse({ ...base, expiresAt: 'tomorrow' }).success, false);
  });

  it('strips unknown fields, so a value smuggled into metadata is never kept', () => {
    const parsed = tokenMetadataSchema.parse({ ...base, value: 'ghp_secret' });
    assert.equal('value' in parsed, false);
  });

  it('validates the index version', () => {
    assert.equal(tokenIndexSchema.safeParse({ version: 1, tokens: [base] }).success, true);
    assert.equal(tokenIndexSchema.safeParse({ version: 2, tokens: [] }).success, false);
  });

  it('requires a non-empty value in set arguments', () => {
    assert.equal(setTokenArgsSchema.safeParse({ namespace: 'bearer', name: 'x', type: 'bearer', value: '' }).success, false);
    assert.equal(setTokenArgsSchema.safeParse({ namespace: 'bearer', name: 'x', type: 'bearer', value: 'v' }).success, true);
  });

  it('classifies expiry', () => {
    const at = (ms: number) => ({ expiresAt: new Date(now.getTime() + ms).toISOString() });
    const day = 86_400_000;
    assert.equal(expiryState({}, now, 7), 'none');
    assert.equal(expiryState(at(-1), now, 7), 'expired');
    assert.equal(expiryState(at(3 * day), now, 7), 'soon');
    assert.equal(expiryState(at(8 * day), now, 7), 'ok');
    assert.equal(describeExpiry(at(3 * day + 1000), now), 'expires in 3 days');
    assert.equal(describeExpiry(at(-2 * 3_600_000), now), 'expired 2 hours ago');
    assert.equal(describeExpiry({}, now), 'no expiry');
    assert.equal(humanSpan(59_000), 'less than a minute');
    assert.equal(humanSpan(60_000), '1 minute');
    assert.equal(humanSpan(3 * 86_400_000 - 60_000), '3 days');
    assert.equal(humanSpan(23.6 * 3_600_000), '1 day');
    assert.equal(humanSpan(9.6 * 3_600_000), '10 hours');
  });

  it('parses expiry input', () => {
    assert.deepEqual(parseExpiryInput('', now), {});
    assert.equal(parseExpiryInput('30d', now).expiresAt, '2026-12-23T12:00:00.000Z');
    assert.equal(parseExpiryInput('12h', now).expiresAt, '2026-11-24T00:00:00.000Z');
    assert.equal(parseExpiryInput('2026-12-31', now).expiresAt, '2026-12-31T23:59:59.000Z');
    assert.equal(parseExpiryInput('2026-12-31T18:00Z', now).expiresAt, '2026-12-31T18:00:00.000Z');
    assert.ok(parseExpiryInput('soon', now).error);
    assert.ok(parseExpiryInput('0d', now).error);
  });
});
