import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, statSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AuditLog, formatAudit, type AuditEvent } from '../../extension/platform/audit';

const dir = mkdtempSync(join(tmpdir(), 'mcp-audit-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const entry = (i: number, outcome: AuditEvent['outcome'] = 'ok'): AuditEvent => ({
  time: new Date(Date.UTC(2026, 0, 1, 0, 0, i)).toISOString(),
  kind: 'launch',
  tokens: [`bearer:t${i}`],
  actor: { server: 'srv', file: '.vscode/mcp.tokens.json' },
  outcome,
});
const ref = (e: AuditEvent) => e.tokens?.[0] ?? '';

test('keeps the last N entries, on disk and after a reload', async () => {
  const path = join(dir, 'sub', 'audit.jsonl');
  const log = new AuditLog(path, 10);
  let changes = 0;
  log.onDidChange(() => changes++);
  for (let i = 0; i < 25; i++) await log.append(entry(i));
  const list = await log.list();
  assert.equal(list.length, 10);
  assert.equal(ref(list[0]), 'bearer:t15');
  assert.equal(ref(list[9]), 'bearer:t24');
  // Append-only since issue 10 (several windows share the file): every line stays on disk until the
  // file is rotated by size; the list is bounded to the last N.
  assert.equal(readFileSync(path, 'utf8').trim().split('\n').length, 25);
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
  assert.deepEqual((await log.list()).map(ref), ['bearer:t1', 'bearer:t2']);
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
  assert.match(text, /launch\s+denied\s+bearer:t2/);
  assert.match(formatAudit([]), /no events/);
});

// ---- several windows (issue 10) ------------------------------------------------------------------

const WRITER = join(__dirname, 'support', 'auditWriter.ts');

function child(args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, ['--import', 'tsx', WRITER, ...args], { stdio: ['ignore', 'inherit', 'pipe'] });
    let err = '';
    p.stderr.on('data', (c) => (err += c));
    p.on('error', reject);
    p.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`writer exited ${code}: ${err}`))));
  });
}

const refs = (list: AuditEvent[], prefix: string) => new Set(list.map(ref).filter((r) => r.startsWith(`bearer:${prefix}-`)));

test('two AuditLog instances over one file (two windows), 1,000 entries each appended concurrently, lose none', async () => {
  const path = join(dir, 'two-instances', 'audit.jsonl');
  const a = new AuditLog(path, 10_000);
  const b = new AuditLog(path, 10_000);
  const entryOf = (p: string, i: number): AuditEvent => ({ ...entry(i), tokens: [`bearer:${p}-${i}`] });
  await Promise.all([...Array.from({ length: 1000 }, (_, i) => a.append(entryOf('a', i))), ...Array.from({ length: 1000 }, (_, i) => b.append(entryOf('b', i)))]);
  for (const log of [a, b, new AuditLog(path, 10_000)]) {
    const list = await log.list();
    assert.equal(refs(list, 'a').size, 1000);
    assert.equal(refs(list, 'b').size, 1000);
    assert.equal(list.length, 2000);
  }
});

test('two processes (two windows) appending 1,000 entries each concurrently lose none', { timeout: 120_000 }, async () => {
  const path = join(dir, 'two-processes', 'audit.jsonl');
  await Promise.all([child([path, 'p1', '1000']), child([path, 'p2', '1000'])]);
  const list = await new AuditLog(path, 10_000).list();
  assert.equal(refs(list, 'p1').size, 1000);
  assert.equal(refs(list, 'p2').size, 1000);
});

test('a torn last line (a window killed mid-write) is skipped, and the next entry is not glued to it', async () => {
  const path = join(dir, 'torn-last.jsonl');
  writeFileSync(path, `${JSON.stringify(entry(1))}\n${JSON.stringify(entry(2)).slice(0, 40)}`);
  const log = new AuditLog(path);
  assert.deepEqual((await log.list()).map(ref), ['bearer:t1']);
  await log.append(entry(3));
  assert.deepEqual((await new AuditLog(path).list()).map(ref), ['bearer:t1', 'bearer:t3']);
});

test('rotation by size keeps the entries readable (current file and .1), across processes', { timeout: 120_000 }, async () => {
  const path = join(dir, 'rotate', 'audit.jsonl');
  const maxBytes = 64 * 1024;
  const log = new AuditLog(path, 100_000, { maxBytes });
  // ~130 bytes per line: 600 entries are ~78 KB, one rotation at 64 KiB.
  for (let i = 0; i < 600; i++) await log.append({ ...entry(i), tokens: [`bearer:r-${i}`] });
  assert.ok(existsSync(`${path}.1`), 'rotated to .1');
  assert.ok(statSync(path).size <= maxBytes + 4096);
  let list = await log.list();
  assert.equal(list.length, 600, 'every entry is still listed after a rotation of 64 KiB');
  assert.equal(ref(list[0]), 'bearer:r-0');
  assert.equal(ref(list[599]), 'bearer:r-599');
  // Two processes rotating the same log: the newest entries stay readable, none is torn.
  await Promise.all([child([path, 'q1', '1000', String(maxBytes)]), child([path, 'q2', '1000', String(maxBytes)])]);
  list = await new AuditLog(path, 100_000, { maxBytes }).list();
  const kept = refs(list, 'q1').size + refs(list, 'q2').size;
  const onDisk = [path, `${path}.1`].map((p) => readFileSync(p, 'utf8')).join('');
  assert.equal(onDisk.split('\n').filter((l) => l.trim()).length, list.length, 'every line on disk parses');
  // 64 KiB per file, ~140 bytes per entry: the two files hold at least the last ~460 entries.
  assert.ok(kept >= 450, `kept ${kept} of the newest entries`);
  assert.ok(['bearer:q1-999', 'bearer:q2-999'].includes(ref(list[list.length - 1])), 'the newest entry is the last one written');
  assert.ok(statSync(path).size <= maxBytes + 4096 && statSync(`${path}.1`).size <= maxBytes + 64 * 1024);
});

test('an audit.jsonl of the previous version (the same JSON lines, bounded by count) is read and kept', async () => {
  const path = join(dir, 'old', 'audit.jsonl');
  mkdirSync(join(dir, 'old'), { recursive: true });
  writeFileSync(path, Array.from({ length: 10 }, (_, i) => JSON.stringify(entry(i))).join('\n') + '\n', { mode: 0o600 });
  const log = new AuditLog(path);
  await log.append(entry(10));
  assert.deepEqual((await log.list()).map(ref), Array.from({ length: 11 }, (_, i) => `bearer:t${i}`));
});
