/**
 * `mcp-tokens run` with SecretStorage tokens, served by a fake VS Code end of the channel (the wire
 * of channelProtocol.ts on a UNIX socket): the SDK's stdio client, standing in for Claude Desktop,
 * starts the fixture MCP server through the built launcher bundle; the server receives the values;
 * refusals (missing, denied, wrong secret, no VS Code) end the launch before the server starts, and
 * no value ever appears in the launcher's output. No D-Bus session: the keyring is unavailable, so an
 * unpinned reference falls through to VS Code.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { NOT_SERVING, requestValues, ChannelUnavailableError } from '../../extension/launcher/channelClient';
import type { ChannelAnswer, ChannelRequest } from '../../extension/launcher/channelProtocol';
import { buildLauncher, connectThroughLauncher, fakeChannel, launcherEnv, records, runLauncher, STDIO_FIXTURE, tempDir, type FakeChannel } from './support';

const sha = (s: string) => createHash('sha256').update(s).digest('hex');
const VALUES: Record<string, string> = { 'vs:api': 'vs-ARG-value-7f3a9c21', 'other:env': 'vs-ENV-value-0b5e44d8' };

let cli: string;
let removeBuild: () => void;
const tmp = tempDir('mcp-launcher-channel-');
let answer: (req: ChannelRequest) => ChannelAnswer = () => ({ ok: false, code: 'denied', message: 'not set' });
let channel: FakeChannel;
let n = 0;

function dirs() {
  n++;
  const userDir = join(tmp.path, 'User');
  mkdirSync(userDir, { recursive: true });
  // The namespace "vs" is pinned to SecretStorage: only VS Code is asked for it.
  writeFileSync(join(userDir, 'settings.json'), '{\n  // comments are fine\n  "mcpTokens.backend.namespaces": { "vs": "secretStorage" },\n}\n');
  return { channel: join(tmp.path, 'channel'), audit: join(tmp.path, `audit-${n}.jsonl`), userDir, record: join(tmp.path, `record-${n}.jsonl`) };
}

before(async () => {
  ({ cli, remove: removeBuild } = await buildLauncher());
  channel = await fakeChannel(join(tmp.path, 'channel'), (req) => answer(req));
});
after(async () => {
  await channel.close();
  removeBuild();
  tmp.remove();
});

function serveAll(req: ChannelRequest): ChannelAnswer {
  const values: Record<string, string> = {};
  const missing: string[] = [];
  for (const r of req.refs) {
    const id = `${r.namespace}:${r.name}`;
    if (VALUES[id]) values[id] = VALUES[id];
    else missing.push(id);
  }
  return missing.length ? { ok: false, code: 'missing', message: 'not stored', missing } : { ok: true, values };
}

function assertNoValue(text: string) {
  for (const v of Object.values(VALUES)) assert.ok(!text.includes(v), 'a value appeared in the output');
}

describe('mcp-tokens run with VS Code SecretStorage tokens (fake channel)', () => {
  it('the server receives the values in its arguments and environment; the client talks to it through stdio', async () => {
    answer = serveAll;
    const d = dirs();
    const before = channel.requests.length;
    const c = await connectThroughLauncher(cli, ['run', '--', process.execPath, STDIO_FIXTURE, '--token', '$<TOKEN:vs:api>'], launcherEnv(d, { FIXTURE_TOKEN: '${TOKEN:other:env}', HOME: tmp.path }));
    try {
      const result = await c.client.callTool({ name: 'fixture_info', arguments: {} });
      const info = JSON.parse((result.content as Array<{ text: string }>)[0].text);
      assert.equal(info.argTokenSha256, sha(VALUES['vs:api']));
      assert.equal(info.envTokenSha256, sha(VALUES['other:env']));
      assert.equal(info.literalReference, false);
    } finally {
      await c.close();
    }
    // One request for both, naming the launch as written (references, not values).
    const reqs = channel.requests.slice(before);
    assert.equal(reqs.length, 1);
    assert.deepEqual(reqs[0].refs.map((r) => `${r.namespace}:${r.name}`).sort(), ['other:env', 'vs:api']);
    assert.equal(reqs[0].launch.kind, 'run');
    assert.equal(reqs[0].launch.command, process.execPath);
    assert.deepEqual(reqs[0].launch.args, [STDIO_FIXTURE, '--token', '$<TOKEN:vs:api>']);
    assert.equal(reqs[0].launch.client, 'node', 'the program that started the launcher');
    assertNoValue(c.stderr());
    // SecretStorage resolutions are the extension's to record.
    assert.equal(existsSync(d.audit), false);
  });

  it('a token VS Code does not have ends the launch before the server starts, naming the reference and the fix', async () => {
    answer = serveAll;
    const d = dirs();
    const r = await runLauncher(cli, ['run', process.execPath, STDIO_FIXTURE, '--token', '$<TOKEN:vs:nope>'], launcherEnv(d, { HOME: tmp.path }));
    assert.equal(r.code, 1);
    assert.match(r.stderr, /\$<TOKEN:vs:nope> has no value: looked in VS Code's SecretStorage \(VS Code has no such token\.\)\. Fix: store it with "MCP Tokens: Set Token…" in VS Code or `mcp-tokens set vs:nope`/);
    assert.match(r.stderr, /Nothing was started\./);
    assert.deepEqual(records(d.record), [], 'the server never started');
    assert.equal(r.stdout, '');
  });

  it('a denied launch never starts, and says how to allow it', async () => {
    answer = () => ({ ok: false, code: 'denied', message: 'You chose Deny for this launch.' });
    const d = dirs();
    const r = await runLauncher(cli, ['run', '--', process.execPath, STDIO_FIXTURE, '--token', '$<TOKEN:vs:api>'], launcherEnv(d, { HOME: tmp.path }));
    assert.equal(r.code, 1);
    assert.match(r.stderr, /VS Code refused \$<TOKEN:vs:api> \(denied\): You chose Deny for this launch\. Start it again and choose "Allow"/);
    assert.deepEqual(records(d.record), []);
  });

  it('without the session secret the channel gives nothing', async () => {
    answer = serveAll;
    const d = dirs();
    const wrong = join(tmp.path, 'wrong-secret');
    mkdirSync(wrong, { recursive: true, mode: 0o700 });
    // The real socket, but a secret file that is not the session's.
    const { symlinkSync } = await import('node:fs');
    symlinkSync(join(channel.dir, 'channel.sock'), join(wrong, 'channel.sock'));
    writeFileSync(join(wrong, 'channel.secret'), 'not-the-session-secret', { mode: 0o600 });
    const r = await runLauncher(cli, ['run', '--', process.execPath, STDIO_FIXTURE, '--token', '$<TOKEN:vs:api>'], launcherEnv({ ...d, channel: wrong }, { HOME: tmp.path }));
    assert.equal(r.code, 1);
    assert.match(r.stderr, /\(unauthorized\)/);
    assertNoValue(r.stderr + r.stdout);
    assert.deepEqual(records(d.record), []);
  });

  it('with no VS Code serving, says so and offers moving the token to the keyring', async () => {
    const d = dirs();
    const r = await runLauncher(cli, ['run', '--', process.execPath, STDIO_FIXTURE, '--token', '$<TOKEN:vs:api>'], launcherEnv({ ...d, channel: join(tmp.path, 'nobody-serves') }, { HOME: tmp.path }));
    assert.equal(r.code, 1);
    assert.ok(r.stderr.includes(NOT_SERVING), r.stderr);
    assert.deepEqual(records(d.record), []);
  });

  it('a malformed reference ends it before anything is asked or started', async () => {
    const d = dirs();
    const before = channel.requests.length;
    const r = await runLauncher(cli, ['run', '--', process.execPath, STDIO_FIXTURE, '--token', '$<TOKEN:vs>'], launcherEnv(d, { HOME: tmp.path }));
    assert.equal(r.code, 1);
    assert.match(r.stderr, /argument 3: The reference needs a namespace and a name/);
    assert.equal(channel.requests.length, before);
    assert.deepEqual(records(d.record), []);
  });
});

describe('mcp-tokens run: the child process', () => {
  it('ends with the child exit code', async () => {
    const r = await runLauncher(cli, ['run', '--', process.execPath, '-e', 'process.exit(7)'], launcherEnv(dirs()));
    assert.equal(r.code, 7);
  });

  it('ends with the signal that ended the child', async () => {
    const r = await runLauncher(cli, ['run', '--', process.execPath, '-e', 'process.kill(process.pid, "SIGKILL")'], launcherEnv(dirs()));
    assert.equal(r.signal, 'SIGKILL');
  });

  it('forwards SIGTERM to the server, which stops', async () => {
    answer = serveAll;
    const d = dirs();
    const c = await connectThroughLauncher(cli, ['run', '--', process.execPath, STDIO_FIXTURE, '--token', '$<TOKEN:vs:api>'], launcherEnv(d, { HOME: tmp.path }));
    // The server answered initialize (its handlers are in place); signal the launcher only.
    process.kill(c.pid!, 'SIGTERM');
    for (let i = 0; i < 200 && !records(d.record).some((r) => r.kind === 'exit'); i++) await new Promise((r) => setTimeout(r, 50));
    const exit = records(d.record).find((r) => r.kind === 'exit');
    assert.equal(exit?.why, 'SIGTERM', 'the server got the SIGTERM');
    await c.close();
  });

  it('prints its usage, its version, and refuses unknown commands', async () => {
    const help = await runLauncher(cli, ['--help'], launcherEnv(dirs()));
    assert.equal(help.code, 0);
    assert.match(help.stdout, /mcp-tokens run \[--\] COMMAND ARGS…/);
    const version = await runLauncher(cli, ['--version'], launcherEnv(dirs()));
    assert.equal(version.stdout.trim(), JSON.parse(readFileSync('package.json', 'utf8')).version);
    const bad = await runLauncher(cli, ['frobnicate'], launcherEnv(dirs()));
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /unknown command "frobnicate"/);
  });
});

describe('channel client', () => {
  it('sends one request line with the session secret and validates the answer', async () => {
    answer = serveAll;
    const before = channel.requests.length;
    const a = await requestValues({ refs: [{ namespace: 'vs', name: 'api' }], launch: { command: 'x', args: [], cwd: '/', client: null, kind: 'proxy' } }, { dir: channel.dir });
    assert.deepEqual(a, { ok: true, values: { 'vs:api': VALUES['vs:api'] } });
    assert.equal(channel.requests[before].secret, channel.secret);
  });

  it('gives up after its timeout when VS Code does not answer', async () => {
    const slow = await fakeChannel(join(tmp.path, 'slow'), () => new Promise(() => undefined));
    try {
      await assert.rejects(
        requestValues({ refs: [{ namespace: 'vs', name: 'api' }], launch: { command: 'x', args: [], cwd: '/', client: null, kind: 'run' } }, { dir: slow.dir, timeoutMs: 300 }),
        (e: unknown) => e instanceof ChannelUnavailableError && /did not answer within/.test(e.message),
      );
    } finally {
      await slow.close();
    }
  });
});
