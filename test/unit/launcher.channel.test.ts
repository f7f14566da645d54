/**
 * The channel server against real local clients (issue 12, attacker tests): the real ChannelServer
 * and the runtime's real LauncherGate (consent state, audit log, in-memory store), with a fake
 * consent prompt. A process without the secret, with a wrong one, with it but denied, or sending
 * garbage or an oversized request gets nothing; values go only where asked, never to the log or
 * the audit file.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import * as net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { ChannelServer } from '../../extension/launcher/channelServer';
import { MAX_REQUEST_BYTES, type ChannelAnswer } from '../../extension/launcher/channelProtocol';
import { LauncherGate, type ConsentChoice } from '../../extension/runtime/launcherAccess';
import { ConsentStore, type StateLike } from '../../extension/runtime/consent';
import { AuditLog, AuditTrail } from '../../extension/platform/audit';
import { createMemoryTokenStore } from '../../extension/store/memoryStore';
import { assertNoPlaintext } from '../e2e/harness/plaintext';

const root = mkdtempSync(join(tmpdir(), 'mcpt-ch-'));
const dir = join(root, 'run');
const VALUE = 'ghp_CHANNELsecretVALUE_0123456789abcdef';
const OTHER = 'sk-OTHERsecretVALUE-never-asked-9876';
const logLines: string[] = [];
const log = { info: (m: string) => logLines.push(m), warn: (m: string) => logLines.push(m) };

class MemoryState implements StateLike {
  private readonly m = new Map<string, unknown>();
  get<T>(k: string) {
    return this.m.get(k) as T | undefined;
  }
  async update(k: string, v: unknown) {
    this.m.set(k, v);
  }
}

let answers: ConsentChoice[] = [];
const asked: string[] = [];
const { store } = createMemoryTokenStore();
const audit = new AuditTrail(new AuditLog(join(root, 'audit.jsonl')));
const gate = new LauncherGate({
  store,
  consent: new ConsentStore(new MemoryState()),
  audit,
  prompt: async (identity) => {
    asked.push(identity.target);
    return answers.shift();
  },
  log,
});
const server = new ChannelServer({ dir, platform: process.platform, resolve: (l, k) => gate.resolve(l, k), log, pollMs: 100 });

before(async () => {
  await store.set({ namespace: 'github', name: 'pat', value: VALUE, type: 'bearer' });
  await store.set({ namespace: 'openai', name: 'key', value: OTHER, type: 'api-key' });
  assert.equal(await server.start(), 'serving');
});
after(async () => {
  await server.dispose();
  rmSync(root, { recursive: true, force: true });
});

const secret = () => readFileSync(join(dir, 'channel.secret'), 'utf8');
const launch = (over: object = {}) => ({ command: 'npx', args: ['-y', '@modelcontextprotocol/server-github'], cwd: '/work/p', client: 'Claude', kind: 'run', ...over });
const request = (over: object = {}) => ({ v: 1, secret: secret(), refs: [{ namespace: 'github', name: 'pat' }], launch: launch(), ...over });

/** Sends raw bytes, returns the parsed answer line (or undefined when the server sent none). */
function send(bytes: string | Buffer, socket = server.socket): Promise<ChannelAnswer | undefined> {
  return new Promise((resolve, reject) => {
    const c = net.connect(socket);
    let data = '';
    c.on('data', (d) => (data += d.toString()));
    c.on('error', (e: NodeJS.ErrnoException) => (e.code === 'EPIPE' || e.code === 'ECONNRESET' ? undefined : reject(e)));
    c.on('close', () => resolve(data ? (JSON.parse(data.split('\n')[0]) as ChannelAnswer) : undefined));
    if (bytes.length === 0) c.end(); // a probe: connect and hang up
    else c.write(bytes);
  });
}
const ask = (req: object) => send(`${JSON.stringify(req)}\n`);

test('the directory is 0700 and the secret file 0600, 32 random bytes base64url', () => {
  assert.equal(statSync(dir).mode & 0o777, 0o700);
  assert.equal(statSync(join(dir, 'channel.secret')).mode & 0o777, 0o600);
  assert.match(secret(), /^[A-Za-z0-9_-]{43}$/);
});

test('no secret, a wrong secret, a secret of another length: unauthorized, nobody asked', async () => {
  const before = asked.length;
  const { secret: _drop, ...noSecret } = request();
  const wrong = secret().replace(/^./, (c) => (c === 'A' ? 'B' : 'A'));
  for (const req of [noSecret, request({ secret: wrong }), request({ secret: 'short' }), request({ secret: 42 })]) {
    const a = await ask(req);
    assert.equal(a?.ok, false);
    assert.equal(a?.ok === false && a.code, 'unauthorized');
  }
  assert.equal(asked.length, before);
});

test('garbage, the wrong version, extra fields, an oversized request: invalid, nobody asked', async () => {
  const before = asked.length;
  const garbage = await send('this is not json\n');
  assert.equal(garbage?.ok === false && garbage.code, 'invalid');
  for (const req of [request({ v: 2 }), request({ extra: true }), request({ refs: [{ namespace: 'github', name: 'pat', value: 'x' }] })]) {
    const a = await ask(req);
    assert.equal(a?.ok === false && a.code, 'invalid', JSON.stringify(a));
  }
  const huge = await send(Buffer.alloc(MAX_REQUEST_BYTES + 10, 0x61));
  assert.equal(huge?.ok === false && huge.code, 'invalid');
  // Oversized but well-formed, with the right secret: still refused before parsing.
  const big = await ask(request({ launch: launch({ args: Array.from({ length: 100 }, () => 'x'.repeat(1000)) }) }));
  assert.equal(big?.ok === false && big.code, 'invalid');
  assert.equal(asked.length, before);
});

test('a probe (connect, send nothing, close) gets nothing and the server keeps serving', async () => {
  assert.equal(await send(''), undefined);
  assert.equal(server.state, 'serving');
});

test('with the secret but denied: nothing, the denial is remembered, audited', async () => {
  answers = ['deny'];
  const denied = launch({ command: '/tmp/evil', args: [] });
  const a = await ask(request({ launch: denied }));
  assert.equal(a?.ok === false && a.code, 'denied');
  assert.equal(JSON.stringify(a).includes(VALUE), false);
  const before = asked.length;
  const again = await ask(request({ launch: denied }));
  assert.equal(again?.ok === false && again.code, 'denied');
  assert.equal(asked.length, before, 'a remembered denial asks nothing');
  const dismissed = launch({ command: '/tmp/evil2' });
  answers = [undefined];
  assert.equal((await ask(request({ launch: dismissed })))?.ok, false);
  const entries = await audit.list();
  assert.ok(entries.some((e) => e.kind === 'launcher' && e.outcome === 'denied' && e.actor.server?.includes('/tmp/evil') && e.actor.launcher === 'Claude'));
});

test('allowed once: the value of the ref asked only; asked again next time', async () => {
  answers = ['once'];
  const a = await ask(request());
  assert.deepEqual(a, { ok: true, values: { 'github:pat': VALUE } });
  assert.match(asked.at(-1)!, /Runs: npx -y @modelcontextprotocol\/server-github\nIn: \/work\/p\nStarted by: Claude/);
  answers = ['once'];
  const before = asked.length;
  assert.equal((await ask(request()))?.ok, true);
  assert.equal(asked.length, before + 1);
  assert.ok(store.get({ namespace: 'github', name: 'pat' })?.lastUsedAt, 'last used recorded');
});

test('always: not asked again for the same launch; a changed command, cwd or client asks again', async () => {
  answers = ['always'];
  const l = launch({ args: ['-y', 'server-always'] });
  assert.equal((await ask(request({ launch: l })))?.ok, true);
  const before = asked.length;
  assert.equal((await ask(request({ launch: l })))?.ok, true);
  assert.equal(asked.length, before);
  for (const changed of [{ args: ['-y', 'server-always', '--extra'] }, { cwd: '/elsewhere' }, { client: 'Cursor' }, { client: null }, { kind: 'proxy' }]) {
    answers = ['deny'];
    const a = await ask(request({ launch: { ...l, ...changed } }));
    assert.equal(a?.ok === false && a.code, 'denied', JSON.stringify(changed));
  }
  assert.equal(asked.length, before + 5);
});

test('a missing token: answered missing with its name, nobody asked, no value', async () => {
  const before = asked.length;
  const a = await ask(request({ refs: [{ namespace: 'github', name: 'pat' }, { namespace: 'nope', name: 'absent' }] }));
  assert.equal(a?.ok === false && a.code, 'missing');
  assert.deepEqual(a?.ok === false && a.missing, ['nope:absent']);
  assert.equal(JSON.stringify(a).includes(VALUE), false);
  assert.equal(asked.length, before);
});

test('a second window stands by, and takes over (new secret) when the first stops', async () => {
  const other = join(root, 'run2');
  const logs: string[] = [];
  const l2 = { info: (m: string) => logs.push(m), warn: (m: string) => logs.push(m) };
  const resolve = () => Promise.resolve({ ok: true as const, values: {} });
  const first = new ChannelServer({ dir: other, platform: process.platform, resolve, log: l2, pollMs: 50 });
  const second = new ChannelServer({ dir: other, platform: process.platform, resolve, log: l2, pollMs: 50 });
  try {
    assert.equal(await first.start(), 'serving');
    const firstSecret = readFileSync(join(other, 'channel.secret'), 'utf8');
    assert.equal(await second.start(), 'standby');
    assert.equal(readFileSync(join(other, 'channel.secret'), 'utf8'), firstSecret, 'a standby window does not touch the secret');
    await first.dispose();
    for (let i = 0; i < 100 && second.state !== 'serving'; i++) await new Promise((r) => setTimeout(r, 20));
    assert.equal(second.state, 'serving');
    assert.notEqual(readFileSync(join(other, 'channel.secret'), 'utf8'), firstSecret);
    const stale = await send(`${JSON.stringify({ ...request(), secret: firstSecret })}\n`, second.socket);
    assert.equal(stale?.ok === false && stale.code, 'unauthorized');
  } finally {
    await first.dispose();
    await second.dispose();
  }
});

test('a stale socket file (a crashed window) is taken over', async () => {
  const other = join(root, 'run3');
  const { mkdirSync } = await import('node:fs');
  mkdirSync(other, { mode: 0o700 });
  writeFileSync(join(other, 'channel.sock'), 'left over');
  const s = new ChannelServer({ dir: other, platform: process.platform, resolve: () => Promise.resolve({ ok: true as const, values: {} }), log });
  try {
    assert.equal(await s.start(), 'serving');
  } finally {
    await s.dispose();
  }
});

test('a client that sends half a line and waits gets `invalid` after the read timeout, and the connection closes', async () => {
  const other = join(root, 'run4');
  const s = new ChannelServer({ dir: other, platform: process.platform, resolve: () => Promise.resolve({ ok: true as const, values: { 'a:b': 'x' } }), log, requestTimeoutMs: 200 });
  try {
    assert.equal(await s.start(), 'serving');
    const answer = await new Promise<string>((resolve) => {
      const c = net.connect(s.socket);
      let data = '';
      c.on('data', (d) => (data += d.toString()));
      c.on('close', () => resolve(data));
      c.write('{"v":1,"secret":"');
    });
    assert.equal((JSON.parse(answer) as ChannelAnswer).ok, false);
    assert.match(answer, /"code":"invalid"/);
  } finally {
    await s.dispose();
  }
});

test('no value in the log lines or in any file the channel and audit wrote', async () => {
  const text = logLines.join('\n');
  assert.equal(text.includes(VALUE) || text.includes(OTHER), false);
  await assertNoPlaintext([root], [VALUE, OTHER]);
});
