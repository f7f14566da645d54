import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AuditLog, formatAudit, type AuditEntry } from '../../extension/runtime/audit';

const dir = mkdtempSync(join(tmpdir(), 'mcp-audit-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const entry = (i: number, outcome: AuditEntry['outcome'] = 'used'): AuditEntry => ({
  time: new Date(Date.UTC(2026, 0, 1, 0, 0, i)).toISOString(),
  reference: `$<TOKEN:bearer:t${i}>`,
  server: 'srv',
  file: '.vscode/mcp.tokens.json',
  outcome,
});

test('keeps the last N entries, on disk and after a reload', async () => {
  const path = join(dir, 'sub', 'audit.jsonl');
  const log = new AuditLog(path, 10);
  let changes = 0;
  log.onDidChange(() => changes++);
  for (let i = 0; i < 25; i++) await log.append(entry(i));
  const list = await log.list();
  assert.equal(list.length, 10);
  assert.equal(list[0].reference, '$<TOKEN:bearer:t15>');
  assert.equal(list[9].reference, '$<TOKEN:bearer:t24>');
  assert.equal(readFileSync(path, 'utf8').trim().split('\n').length, 10);
  assert.equal(changes, 25);
  if (process.platform !== 'win32') assert.equal(statSync(path).mode & 0o777, 0o600);
  const reloaded = new AuditLog(path, 10);
  assert.deepEqual(await reloaded.list(), list);
  await reloaded.append(entry(99, 'denied'));
  assert.equal((await reloaded.list()).length, 10);
});

test('skips torn or invalid lines', async () => {
  const path = join(dir, 'torn.jsonl');
  writeFileSync(path, `${JSON.stringify(entry(1))}\n{"time": "x", "refer\n${JSON.stringify({ nope: true })}\n${JSON.stringify(entry(2))}\n`);
  const log = new AuditLog(path);
  assert.deepEqual((await log.list()).map((e) => e.reference), ['$<TOKEN:bearer:t1>', '$<TOKEN:bearer:t2>']);
  await log.clear();
  assert.deepEqual(await log.list(), []);
});

test('concurrent appends are all kept', async () => {
  const log = new AuditLog(join(dir, 'concurrent.jsonl'), 1000);
  await Promise.all(Array.from({ length: 50 }, (_, i) => log.append(entry(i))));
  assert.equal((await new AuditLog(join(dir, 'concurrent.jsonl')).list()).length, 50);
});

test('formats newest first', () => {
  const text = formatAudit([entry(1), entry(2, 'denied')]);
  assert.ok(text.indexOf('t2') < text.indexOf('t1'));
  assert.match(text, /denied\s+\$<TOKEN:bearer:t2>/);
  assert.match(formatAudit([]), /No token has been used/);
});
