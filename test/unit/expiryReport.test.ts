/** The expiry watch's report: expired and expiring tokens, the status bar text, the notices (injected clock). */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { expiryReport } from '../../extension/tokens/expiryReport';
import type { TokenMetadata } from '../../server/core/model';

const DAY = 86_400_000;
const now = new Date('2026-12-01T12:00:00Z');
const tok = (name: string, expiresInDays?: number, extra: Partial<TokenMetadata> = {}): TokenMetadata => ({
  namespace: 'bearer',
  name,
  type: 'bearer',
  createdAt: '2026-01-01T00:00:00.000Z',
  updatedAt: '2026-01-01T00:00:00.000Z',
  backend: 'secretStorage',
  ...(expiresInDays !== undefined ? { expiresAt: new Date(now.getTime() + expiresInDays * DAY).toISOString() } : {}),
  ...extra,
});

test('expired tokens are notified as well as those about to expire; the status bar counts both', () => {
  const tokens = [tok('gone', -2), tok('soon', 3), tok('later', 30), tok('never')];
  const r = expiryReport(tokens, now, 7, new Set());
  assert.deepEqual(r.expired.map((t) => t.name), ['gone']);
  assert.deepEqual(r.soon.map((t) => t.name), ['soon']);
  assert.equal(r.statusText, '$(warning) 2 MCP tokens');
  assert.deepEqual(r.notices.map((n) => [n.token.name, n.state]), [['gone', 'expired'], ['soon', 'soon']]);
  assert.match(r.notices[0].message, /^MCP token bearer:gone expired/);
  assert.match(r.notices[1].message, /^MCP token bearer:soon expires in/);
  assert.equal(r.tooltipLines.length, 2);
});

test('each notice once per session; a token that then expires is notified again', () => {
  const notified = new Set<string>();
  const first = expiryReport([tok('soon', 1)], now, 7, notified);
  for (const n of first.notices) notified.add(n.id);
  assert.equal(expiryReport([tok('soon', 1)], now, 7, notified).notices.length, 0, 'not twice');
  const later = new Date(now.getTime() + 2 * DAY);
  // The same token (same expiresAt) two days later has expired.
  const t = tok('soon', 1);
  const again = expiryReport([t], later, 7, notified);
  assert.deepEqual(again.notices.map((n) => n.state), ['expired']);
  assert.equal(again.statusText, '$(warning) 1 MCP token');
});

test('nothing due: no status bar item; self-renewing OAuth tokens are not watched', () => {
  const oauth = tok('o', -1, { namespace: 'oauth', type: 'oauth', oauth: { hasRefreshToken: true } });
  const r = expiryReport([tok('later', 30), oauth], now, 7, new Set());
  assert.equal(r.statusText, undefined);
  assert.deepEqual(r.notices, []);
  assert.equal(expiryReport([tok('soon', 3)], now, 7, new Set()).statusText, '$(clock) 1 MCP token');
});
