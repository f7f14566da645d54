import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  answerSchema,
  channelDir,
  MAX_REFS,
  refKey,
  requestSchema,
  secretPath,
  socketPath,
} from '../../extension/launcher/channelProtocol';

const launch = { command: 'npx', args: ['-y', 'server'], cwd: '/w', client: 'claude', kind: 'run' as const };

test('channelDir: override, then XDG_RUNTIME_DIR, then ~/.mcp-tokens/run', () => {
  assert.equal(channelDir({ MCP_TOKENS_CHANNEL_DIR: '/t/c', XDG_RUNTIME_DIR: '/run/user/1' }, '/h', 'linux'), '/t/c');
  assert.equal(channelDir({ XDG_RUNTIME_DIR: '/run/user/1' }, '/h', 'linux'), '/run/user/1/mcp-tokens');
  assert.equal(channelDir({}, '/h', 'darwin'), '/h/.mcp-tokens/run');
  assert.equal(channelDir({ XDG_RUNTIME_DIR: 'X' }, 'C:\\Users\\a', 'win32'), 'C:\\Users\\a\\.mcp-tokens\\run');
});

test('socketPath: a socket in the dir on POSIX, a per-user named pipe on Windows', () => {
  assert.equal(socketPath('/run/user/1/mcp-tokens', 'linux'), '/run/user/1/mcp-tokens/channel.sock');
  assert.equal(socketPath('C:\\x', 'win32', 'ann b'), '\\\\.\\pipe\\mcp-tokens-ann_b');
  const a = socketPath('C:\\x', 'win32');
  assert.match(a, /^\\\\\.\\pipe\\mcp-tokens-[0-9a-f]{16}$/);
  assert.notEqual(a, socketPath('C:\\y', 'win32'));
  assert.equal(secretPath('/d', 'linux'), '/d/channel.secret');
});

test('requestSchema accepts the contract shape and rejects extras, bad refs, too many refs', () => {
  const ok = { v: 1, secret: 's', refs: [{ namespace: 'gh', name: 'pat' }], launch };
  assert.deepEqual(requestSchema.parse(ok), ok);
  assert.equal(requestSchema.safeParse({ ...ok, extra: 1 }).success, false);
  assert.equal(requestSchema.safeParse({ ...ok, v: 2 }).success, false);
  assert.equal(requestSchema.safeParse({ ...ok, refs: [] }).success, false);
  assert.equal(requestSchema.safeParse({ ...ok, refs: [{ namespace: 'a:b', name: 'c' }] }).success, false);
  assert.equal(requestSchema.safeParse({ ...ok, launch: { ...launch, kind: 'exec' } }).success, false);
  assert.equal(requestSchema.safeParse({ ...ok, launch: { ...launch, client: null } }).success, true);
  const many = Array.from({ length: MAX_REFS + 1 }, (_, i) => ({ namespace: 'n', name: `t${i}` }));
  assert.equal(requestSchema.safeParse({ ...ok, refs: many }).success, false);
});

test('answerSchema: values or a coded refusal', () => {
  assert.equal(answerSchema.safeParse({ ok: true, values: { 'gh:pat': 'v' } }).success, true);
  assert.equal(
    answerSchema.safeParse({ ok: false, code: 'missing', message: 'm', missing: ['gh:pat'] }).success,
    true,
  );
  assert.equal(answerSchema.safeParse({ ok: false, code: 'nope', message: 'm' }).success, false);
  assert.equal(refKey({ namespace: 'gh', name: 'pat' }), 'gh:pat');
});
