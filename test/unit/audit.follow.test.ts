/**
 * Following the shared audit log (`AuditLog.follow`): events another writer appends (another window,
 * the mcp-tokens launcher, here a second AuditLog on the same file or a raw append) reach the follower
 * once each, whole lines only, also across a rotation; and "last used" learns the launcher's uses from
 * them (`launcherUses` + `TokenStore.markUsed`).
 */
import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { AuditLog, FOLLOW_MAX_BYTES, type AuditEvent } from '../../extension/platform/audit';
import { launcherUses } from '../../extension/launcher/audit';
import { createMemoryTokenStore } from '../../extension/store/memoryStore';

const dir = mkdtempSync(join(tmpdir(), 'mcp-audit-follow-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const launcherEvent = (token: string, time: string, outcome: AuditEvent['outcome'] = 'ok'): AuditEvent => ({
  time,
  kind: 'launcher',
  tokens: [token],
  actor: { server: 'mcp-tokens run: node server.js', launcher: 'claude' },
  outcome,
  reason: `$<TOKEN:${token}> from keyring`,
});

async function until(what: string, probe: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!probe()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

test('appends by another writer reach the follower once each; what was there before does not; a torn line waits for its end', async () => {
  const path = join(dir, 'a', 'audit.jsonl');
  const before = new AuditLog(path);
  await before.append(launcherEvent('bearer:old', '2026-01-01T00:00:00.000Z'));
  const seen: AuditEvent[] = [];
  const following = new AuditLog(path).follow((events) => seen.push(...events), { debounceMs: 10 });
  try {
    await new Promise((r) => setTimeout(r, 200)); // the follower has looked at the file
    const other = new AuditLog(path);
    await other.append(launcherEvent('bearer:one', '2026-01-02T00:00:00.000Z'));
    await until('the first event', () => seen.length === 1);
    // A writer that crashed mid-line: nothing until the line is complete.
    const line = JSON.stringify(launcherEvent('bearer:two', '2026-01-03T00:00:00.000Z'));
    appendFileSync(path, line.slice(0, 20));
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(seen.length, 1, 'half a line is not an event');
    appendFileSync(path, `${line.slice(20)}\n`);
    await until('the second event', () => seen.length === 2);
    assert.deepEqual(seen.map((e) => e.tokens), [['bearer:one'], ['bearer:two']]);
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(seen.length, 2, 'each event once');
  } finally {
    following.dispose();
  }
});

test('after a rotation (a new, smaller file) the follower reads the new file from its start', async () => {
  const path = join(dir, 'b', 'audit.jsonl');
  const writer = new AuditLog(path, 1000, { maxBytes: 600 });
  await writer.append(launcherEvent('bearer:seed', '2026-01-01T00:00:00.000Z'));
  const seen: string[] = [];
  const following = new AuditLog(path).follow((events) => seen.push(...events.flatMap((e) => e.tokens ?? [])), { debounceMs: 10 });
  try {
    await new Promise((r) => setTimeout(r, 200));
    for (let i = 0; i < 8; i++) {
      await writer.append(launcherEvent(`bearer:r${i}`, `2026-01-0${1 + (i % 8)}T00:00:00.000Z`));
      await new Promise((r) => setTimeout(r, 60));
    }
    await until('the last event', () => seen.includes('bearer:r7'));
    assert.ok(!seen.includes('bearer:seed'));
    assert.equal(new Set(seen).size, seen.length, 'no event twice');
  } finally {
    following.dispose();
  }
});

test('launcherUses: the latest successful use per token; refusals, other kinds and bad ids are not uses', () => {
  const uses = launcherUses([
    launcherEvent('bearer:a', '2026-02-01T00:00:00.000Z'),
    launcherEvent('bearer:a', '2026-02-03T00:00:00.000Z'),
    launcherEvent('bearer:a', '2026-02-02T00:00:00.000Z'),
    launcherEvent('bearer:b', '2026-02-04T00:00:00.000Z', 'denied'),
    launcherEvent('no-colon', '2026-02-04T00:00:00.000Z'),
    { ...launcherEvent('bearer:c', '2026-02-05T00:00:00.000Z'), kind: 'copy' },
  ]);
  assert.deepEqual(
    uses.map((u) => [u.key, u.at.toISOString()]),
    [[{ namespace: 'bearer', name: 'a' }, '2026-02-03T00:00:00.000Z']],
  );
});

test('markUsed(key, at): a later use is recorded; the same or an earlier one changes nothing', async () => {
  const { store } = createMemoryTokenStore();
  await store.ready();
  const key = { namespace: 'api-key', name: 'used' };
  await store.set({ ...key, type: 'api-key', value: 'v' });
  await store.markUsed(key, new Date('2026-03-02T00:00:00Z'));
  assert.equal(store.get(key)?.lastUsedAt, '2026-03-02T00:00:00.000Z');
  let changes = 0;
  store.onDidChange(() => changes++);
  await store.markUsed(key, new Date('2026-03-01T00:00:00Z'));
  await store.markUsed(key, new Date('2026-03-02T00:00:00Z'));
  assert.equal(changes, 0, 'an earlier or equal use writes nothing');
  await store.markUsed(key, new Date('2026-03-03T00:00:00Z'));
  assert.equal(store.get(key)?.lastUsedAt, '2026-03-03T00:00:00.000Z');
  assert.equal(changes, 1);
  // A forged or skewed line from the future does not pin "last used".
  await store.markUsed(key, new Date(Date.now() + 3600_000));
  assert.equal(store.get(key)?.lastUsedAt, '2026-03-03T00:00:00.000Z');
});

test('a burst larger than the follower reads at once: only its last whole lines, no crash, then on as usual', async () => {
  const path = join(dir, 'c', 'audit.jsonl');
  await new AuditLog(path).append(launcherEvent('bearer:seed', '2026-01-01T00:00:00.000Z'));
  const seen: string[] = [];
  const following = new AuditLog(path).follow((events) => seen.push(...events.flatMap((e) => e.tokens ?? [])), { debounceMs: 10 });
  try {
    await new Promise((r) => setTimeout(r, 200));
    const lines = Array.from({ length: 12_000 }, (_, i) => JSON.stringify(launcherEvent(`bearer:burst${i}`, '2026-01-02T00:00:00.000Z'))).join('\n') + '\n';
    assert.ok(Buffer.byteLength(lines) > FOLLOW_MAX_BYTES);
    appendFileSync(path, lines);
    await until('the burst', () => seen.includes('bearer:burst11999'));
    assert.ok(seen.length < 12_000, `only the last part is read (${seen.length} events)`);
    assert.ok(seen.every((t) => /^bearer:burst\d+$/.test(t)), 'whole lines only');
    appendFileSync(path, `${JSON.stringify(launcherEvent('bearer:after', '2026-01-03T00:00:00.000Z'))}\n`);
    await until('the next event', () => seen.includes('bearer:after'));
  } finally {
    following.dispose();
  }
});
