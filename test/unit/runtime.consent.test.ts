import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseMcpConfig, type ServerEntry } from '../../server/core/mcpConfig';
import { CONSENT_STATE_KEY, ConsentStore, fingerprint, identityOf as identityOfPlan, urlOrigin, type StateLike } from '../../extension/runtime/consent';
import { planLaunch } from '../../extension/runtime/resolve';

function entry(json: object, name = 's'): ServerEntry {
  return parseMcpConfig(JSON.stringify({ servers: { [name]: json } })).servers[0];
}

/** The identity of a server of `file` (its real path) with no inputs, in a workspace folder /w. */
function identityOf(file: string, e: ServerEntry) {
  const ctx = { workspaceFolder: '/w', userHome: '/home/u', pathSeparator: '/', env: {} };
  return identityOfPlan({ file, server: e.name }, planLaunch(e, ctx, { input: () => undefined }, '/w'));
}

class MemoryState implements StateLike {
  data = new Map<string, unknown>();
  get<T>(key: string): T | undefined {
    // Round-trip through JSON like VS Code's Memento does.
    const v = this.data.get(key);
    return v === undefined ? undefined : (JSON.parse(JSON.stringify(v)) as T);
  }
  async update(key: string, value: unknown): Promise<void> {
    this.data.set(key, JSON.parse(JSON.stringify(value)));
  }
}

const FILE = 'file:///w/.vscode/mcp.tokens.json';
const key = { namespace: 'bearer', name: 'gh' };

test('the fingerprint covers file, name, command, args and env; HTTP the full URL', () => {
  const base = fingerprint(identityOf(FILE, entry({ command: 'node', args: ['srv.js'] })));
  assert.match(base, /^[0-9a-f]{64}$/);
  assert.equal(fingerprint(identityOf(FILE, entry({ command: 'node', args: ['srv.js'] }))), base, 'stable');
  assert.notEqual(fingerprint(identityOf(FILE, entry({ command: 'node', args: ['srv.js'], env: { A: 'changed' } }))), base, 'env is part of it');
  assert.notEqual(fingerprint(identityOf(FILE, entry({ command: 'node', args: ['evil.js'] }))), base);
  assert.notEqual(fingerprint(identityOf(FILE, entry({ command: 'bash', args: ['srv.js'] }))), base);
  assert.notEqual(fingerprint(identityOf(FILE, entry({ command: 'node', args: ['srv.js'] }, 'other'))), base);
  assert.notEqual(fingerprint(identityOf('file:///x/.vscode/mcp.tokens.json', entry({ command: 'node', args: ['srv.js'] }))), base);
  // Argument boundaries matter: ["a b"] is not ["a", "b"].
  assert.notEqual(fingerprint(identityOf(FILE, entry({ command: 'node', args: ['a b'] }))), fingerprint(identityOf(FILE, entry({ command: 'node', args: ['a', 'b'] }))));

  const http = (url: string) => fingerprint(identityOf(FILE, entry({ type: 'http', url })));
  assert.equal(http('https://api.example.com/mcp'), http('https://api.example.com/mcp'));
  assert.notEqual(http('https://api.example.com/mcp'), http('https://api.example.com/other?x=1'), 'the full URL, not only its origin');
  assert.notEqual(http('https://api.example.com/mcp'), http('https://evil.example.com/mcp'));
  assert.notEqual(http('https://api.example.com/mcp'), http('http://api.example.com/mcp'));
  assert.notEqual(http('https://api.example.com/mcp'), http('https://api.example.com:8443/mcp'));
  assert.equal(urlOrigin('not a url ${env:X}'), 'not a url ${env:X}');
});

test('decisions are remembered per token and server, revocable, and bounded', async () => {
  const state = new MemoryState();
  const store = new ConsentStore(state, () => new Date('2026-01-02T03:04:05Z'));
  const id = identityOf(FILE, entry({ command: 'node', args: ['srv.js'] }));
  const fp = fingerprint(id);
  let events = 0;
  store.onDidChange(() => events++);
  assert.equal(store.decision(key, fp), undefined);
  await store.record(key, id, 'always');
  assert.equal(store.decision(key, fp), 'always');
  assert.equal(store.decision({ namespace: 'bearer', name: 'other' }, fp), undefined, 'per token');
  assert.equal(new ConsentStore(state).decision(key, fp), 'always', 'persisted');
  await store.record(key, id, 'deny');
  assert.deepEqual(store.listForToken(key).map((r) => [r.decision, r.server, r.decidedAt]), [['deny', 's', '2026-01-02T03:04:05.000Z']]);
  assert.deepEqual(store.tokens(), ['bearer:gh']);
  assert.equal(await store.revoke(key, 'f'.repeat(64)), false);
  assert.equal(await store.revoke(key, fp), true);
  assert.equal(store.decision(key, fp), undefined);
  assert.deepEqual(store.tokens(), []);
  assert.equal(events, 3);

  for (let i = 0; i < 120; i++) await store.record(key, identityOf(FILE, entry({ command: 'node', args: [`s${i}.js`] })), 'always');
  assert.equal(store.listForToken(key).length, 100);
  assert.equal(await store.revoke(key), true, 'revoke all');
  assert.equal(store.listForToken(key).length, 0);
});

test('tampered or foreign state is ignored, not trusted', () => {
  const state = new MemoryState();
  state.data.set(CONSENT_STATE_KEY, { 'bearer:gh': [{ fingerprint: 'short', decision: 'always' }] });
  const store = new ConsentStore(state);
  assert.deepEqual(store.listForToken(key), []);
  state.data.set(CONSENT_STATE_KEY, 'garbage');
  assert.deepEqual(store.tokens(), []);
});
