/**
 * Vault answers that are not Vault's: a proxy's HTML page with 200, `{}`, an empty 204, a version that
 * is not a positive integer. Every write response is validated; an unexpected answer fails the write
 * with an error naming the path and the status (never the value), and the store's index is unchanged.
 * Against the fake Vault (test/fixtures/vault/server.ts, `answerNext`), through a TokenStore with the
 * real VaultBackend.
 */
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import { TokenStore } from '../../extension/store/tokenStore';
import { DEFAULT_VAULT_SETTINGS, VaultBackend } from '../../extension/backends/vault';
import { FakeVault, PROXY_HTML, ROOT_TOKEN, type CannedAnswer } from '../fixtures/vault/server';
import { MemoryBackend, MemoryIndex } from '../unit/support/memoryBackend';

const SECRET = 'hvs-PROXY-value-never-logged-789';
let vault: FakeVault;
const backends: VaultBackend[] = [];

function make(index = new MemoryIndex()) {
  const logs: string[] = [];
  const backend = new VaultBackend({
    settings: () => ({ ...DEFAULT_VAULT_SETTINGS, address: vault.url, timeoutMs: 2000 }),
    credentials: { getToken: async () => ROOT_TOKEN, getSecretId: async () => undefined },
    env: {},
    isActive: () => true,
    log: (_l, m) => logs.push(m),
    retryDelayMs: 10,
  });
  backends.push(backend);
  const store = new TokenStore({ backends: [new MemoryBackend('secretStorage'), backend], index, backendFor: (ns) => (ns === 'team' ? 'vault' : 'secretStorage'), log: (_l, m) => logs.push(m) });
  return { backend, store, index, logs };
}

const ANSWERS: Array<[string, CannedAnswer, RegExp]> = [
  ['a proxy HTML page with 200', { status: 200, body: PROXY_HTML }, /status 200.*not Vault's JSON/],
  ['an empty JSON object {} with 200', { status: 200, body: '{}', contentType: 'application/json' }, /status 200.*data\.version/],
  ['an empty 204', { status: 204 }, /status 204.*(empty|no body)/],
  ['an empty 200', { status: 200, body: '', contentType: 'application/json' }, /status 200.*(empty|no body)/],
  ['a version 0', { status: 200, body: JSON.stringify({ request_id: 'x', data: { version: 0 } }), contentType: 'application/json' }, /status 200.*data\.version/],
  ['a version as a string', { status: 200, body: JSON.stringify({ request_id: 'x', data: { version: '3' } }), contentType: 'application/json' }, /status 200.*data\.version/],
];

describe('Vault write answers are validated', () => {
  before(async () => {
    vault = new FakeVault();
    await vault.start();
  });
  after(async () => {
    for (const b of backends) b.dispose();
    await vault.stop();
  });
  afterEach(() => vault.answerNext({ status: 200 }, 0));

  for (const [label, answer, pattern] of ANSWERS) {
    it(`a set answered with ${label} fails clearly, and the token is not listed`, async () => {
      const name = `t${ANSWERS.findIndex((a) => a[0] === label)}`;
      const { store, index, backend } = make();
      await store.ready();
      vault.answerNext(answer, 1);
      await assert.rejects(store.set({ namespace: 'team', name, type: 'bearer', value: SECRET }), (e: Error) => {
        assert.match(e.message, pattern);
        assert.ok(e.message.includes(`secret/data/mcp-tokens/team/${name}`), `names the path: ${e.message}`);
        assert.ok(!e.message.includes(SECRET), 'never the value');
        assert.ok(!e.message.includes('<html'), 'never the body');
        return true;
      });
      assert.equal(store.has({ namespace: 'team', name }), false, 'not in the index');
      assert.ok(!store.list().some((t) => t.name === name), 'not listed');
      assert.ok(!index.text().includes(`"${name}"`), 'not in the saved metadata');
      // A window opened afterwards does not list it either.
      const later = make(index);
      await later.store.ready();
      assert.equal(later.store.has({ namespace: 'team', name }), false);
      assert.equal(await backend.read({ namespace: 'team', name }), undefined, 'nothing was stored');
    });
  }

  it('a rotation answered with a proxy page fails and keeps the current value and metadata', async () => {
    const { store } = make();
    await store.ready();
    const key = { namespace: 'team', name: 'rot' };
    await store.set({ ...key, type: 'bearer', value: 'first-value-123' });
    const before = store.get(key);
    vault.answerNext({ status: 200, body: PROXY_HTML }, 1);
    await assert.rejects(store.set({ ...key, type: 'bearer', value: SECRET }, { reason: 'overwrite' }), /status 200/);
    assert.deepEqual(store.get(key), before);
    assert.equal(await store.getValue(key), 'first-value-123');
  });

  it('a delete answered with a proxy page (or {}) fails; Vault\'s 204 is accepted', async () => {
    const { backend } = make();
    const key = { namespace: 'team', name: 'del' };
    await backend.write(key, 'v-123', { namespace: 'team', name: 'del', type: 'bearer', backend: 'vault', createdAt: '2026-01-01T00:00:00.000Z', updatedAt: '2026-01-01T00:00:00.000Z' });
    vault.answerNext({ status: 200, body: PROXY_HTML, methods: ['DELETE'] }, 1);
    await assert.rejects(backend.remove(key), /secret\/metadata\/mcp-tokens\/team\/del.*status 200/);
    vault.answerNext({ status: 200, body: '{}', contentType: 'application/json', methods: ['DELETE'] }, 1);
    await assert.rejects(backend.remove(key), /status 200/);
    assert.equal(await backend.read(key), 'v-123');
    await backend.remove(key);
    assert.equal(await backend.read(key), undefined);
  });

  it('a read answered with a proxy page fails clearly (not as "missing")', async () => {
    const { backend } = make();
    const key = { namespace: 'team', name: 'r' };
    await backend.write(key, 'v-123', { namespace: 'team', name: 'r', type: 'bearer', backend: 'vault', createdAt: '2026-01-01T00:00:00.000Z', updatedAt: '2026-01-01T00:00:00.000Z' });
    vault.answerNext({ status: 200, body: PROXY_HTML, methods: ['GET'], path: '/data/' }, 5);
    await assert.rejects(backend.read(key), /secret\/data\/mcp-tokens\/team\/r \(status 200, an HTML or XML page\)/);
  });
});
