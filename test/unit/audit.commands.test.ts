/**
 * The audit trail of commands: every command that uses or changes a token leaves exactly one event
 * with its actor (command id, ui/automation) and outcome (ok, denied, cancelled, failed + reason),
 * and the file never holds a value, whatever the argument or the error said.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AuditLog, AuditTrail, filterAudit, type AuditEvent } from '../../extension/platform/audit';
import { COMMAND_AUDIT_KINDS, commandAuditEvent } from '../../extension/platform/commandAudit';
import { COMMANDS, type CommandName } from '../../extension/platform/commandTable';
import { ArgumentError, CancelledError, parseCommandInput, type CommandInput } from '../../extension/platform/commandInput';
import { currentActor, describeActor, withActor } from '../../extension/platform/actor';
import { TokenStore } from '../../extension/store/tokenStore';
import { MemoryBackend, MemoryIndex } from './support/memoryBackend';

const dir = mkdtempSync(join(tmpdir(), 'mcp-audit-cmd-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const SECRET = 'ghp_AUDITSECRETvalue0123456789abcdefABCDEF';
const key = { namespace: 'bearer', name: 'github' };
const meta = { ...key, type: 'bearer', createdAt: '2026-01-01T00:00:00.000Z', updatedAt: '2026-01-01T00:00:00.000Z', backend: 'secretStorage' };

const trailAt = (file: string, now = () => new Date('2026-12-01T12:00:00Z')) =>
  new AuditTrail(new AuditLog(join(dir, file)), { now, actor: () => currentActor() });

const recorded = Object.keys(COMMAND_AUDIT_KINDS).filter((n): n is CommandName => n in COMMANDS);

test('every token command kind writes one event per run, with its actor and outcome, and never the value', async () => {
  const trail = trailAt('commands.jsonl');
  const runs: Array<{ name: CommandName; outcome: AuditEvent['outcome']; via: 'ui' | 'automation' }> = [];
  for (const name of recorded) {
    const spec = COMMANDS[name];
    const ui: CommandInput<unknown> = spec.acceptsKey ? parseCommandInput(spec, 'bearer:github') : { via: 'ui' };
    const ends = [
      { outcome: 'ok' as const, input: ui, end: { result: meta } },
      { outcome: 'denied' as const, input: ui, end: { result: undefined, denied: `declined: copy the value of bearer:github to the clipboard` } },
      { outcome: 'cancelled' as const, input: ui, end: { error: new CancelledError() } },
      { outcome: 'cancelled' as const, input: ui, end: { result: undefined } },
      // A failure whose text quotes the argument: recorded as "invalid arguments" only.
      { outcome: 'failed' as const, input: ui, end: { error: new ArgumentError(`${spec.id}: "${SECRET}" is not a namespace:name key`) } },
      { outcome: 'failed' as const, input: ui, end: { error: new Error('The vault backend is sealed.') } },
    ];
    for (const { outcome, input, end } of ends) {
      const event = commandAuditEvent(name, spec, input, end);
      assert.ok(event, `${name} is recorded`);
      assert.equal(event.outcome, outcome, `${name}: ${outcome}`);
      withActor({ command: spec.id, via: 'ui' }, () => trail.record(event));
      runs.push({ name, outcome, via: 'ui' });
    }
  }
  // An automation run carrying the value in its argument (Set Token with `value`).
  const setInput = parseCommandInput(COMMANDS.setToken, { ...key, type: 'bearer', value: SECRET });
  const setEvent = commandAuditEvent('setToken', COMMANDS.setToken, setInput, { result: meta });
  assert.deepEqual(setEvent?.actor, { command: 'mcpTokens.setToken', via: 'automation' });
  trail.record(setEvent!);
  runs.push({ name: 'setToken', outcome: 'ok', via: 'automation' });

  const events = await trail.list();
  assert.equal(events.length, runs.length, 'one event per run');
  for (const [i, r] of runs.entries()) {
    const e = events[i];
    assert.equal(e.kind, COMMAND_AUDIT_KINDS[r.name], r.name);
    assert.equal(e.outcome, r.outcome);
    assert.deepEqual(e.actor, { command: COMMANDS[r.name].id, via: r.via });
    if (COMMANDS[r.name].acceptsKey || r.via === 'automation') assert.deepEqual(e.tokens, ['bearer:github'], `${r.name} names its token`);
    if (r.outcome !== 'ok') assert.ok(r.outcome === 'cancelled' || e.reason, `${r.name} ${r.outcome} has a reason`);
  }
  assert.ok(events.some((e) => e.reason === 'invalid arguments'));
  assert.ok(events.some((e) => e.reason === 'The vault backend is sealed.'));
  const file = readFileSync(join(dir, 'commands.jsonl'), 'utf8');
  assert.equal(file.trim().split('\n').length, runs.length);
  assert.ok(!file.includes(SECRET), 'no value in the audit file');
  assert.ok(!file.includes(SECRET.slice(0, 16)), 'not even a prefix of it');
});

test('read-only commands are not recorded; other changing commands are, as "command"', () => {
  assert.equal(commandAuditEvent('listTokens', COMMANDS.listTokens, { via: 'ui' }, { result: [] }), undefined);
  assert.equal(commandAuditEvent('showAuditLog', COMMANDS.showAuditLog, { via: 'ui' }, { result: [] }), undefined);
  assert.equal(commandAuditEvent('setVaultToken', COMMANDS.setVaultToken, { via: 'ui' }, { result: true })?.kind, 'command');
  // Export names the tokens of its argument and counts the result.
  const e = commandAuditEvent('exportTokens', COMMANDS.exportTokens, parseCommandInput(COMMANDS.exportTokens, { keys: ['bearer:a', { namespace: 'api-key', name: 'b' }] }), { result: [1, 2] });
  assert.deepEqual(e?.tokens, [{ namespace: 'bearer', name: 'a' }, { namespace: 'api-key', name: 'b' }]);
  assert.equal(e?.reason, '2 items');
});

test('launch events, legacy lines and filters (by token, by days, by kind)', async () => {
  let now = new Date('2026-12-01T12:00:00Z');
  const trail = trailAt('launch.jsonl', () => now);
  trail.record({ kind: 'launch', tokens: [key], actor: { server: 'gh', file: '.vscode/mcp.tokens.json' }, outcome: 'ok' });
  now = new Date('2026-12-05T12:00:00Z');
  trail.record({ kind: 'launch', tokens: [{ namespace: 'bearer', name: 'other' }], actor: { server: 'x', file: 'f' }, outcome: 'denied', reason: 'You denied it.' });
  trail.record({ kind: 'rotate', tokens: ['bearer:github'], outcome: 'ok' });
  const { appendFileSync } = await import('node:fs');
  await trail.flush();
  appendFileSync(join(dir, 'launch.jsonl'), `${JSON.stringify({ time: '2026-11-01T00:00:00.000Z', reference: '$<TOKEN:bearer:github>', server: 'old', file: 'mcp.tokens.json', outcome: 'missing' })}\n`);
  const all = await trail.list();
  assert.equal(all.length, 4);
  const legacy = all[3];
  assert.deepEqual([legacy.kind, legacy.tokens, legacy.outcome, legacy.actor.server], ['launch', ['bearer:github'], 'failed', 'old']);
  assert.match(legacy.reason ?? '', /^missing/);
  assert.equal(filterAudit(all, { token: 'bearer:github' }, now).length, 3);
  assert.equal(filterAudit(all, { token: 'bearer:github', days: 7 }, now).length, 2);
  assert.equal(filterAudit(all, { kind: 'launch', days: 2 }, now).length, 1);
  assert.equal((await trail.list({ kind: 'rotate' })).length, 1);
});

test('inside a command the store records who replaced a value; the gate’s refusal shows as denied', async () => {
  const store = new TokenStore({ backends: [new MemoryBackend()], index: new MemoryIndex(), backendFor: () => 'secretStorage' });
  await store.set({ ...key, type: 'bearer', value: 'one' });
  await withActor({ command: 'mcpTokens.rotateToken', via: 'automation' }, () => store.rotate(key, 'two'));
  assert.equal(store.listHistory(key)[0].by, 'mcpTokens.rotateToken (automation)');
  assert.equal(describeActor({ server: 'gh' }), 'server "gh"');
  assert.equal(describeActor(undefined), undefined);
});
