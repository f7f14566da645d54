/**
 * The trash in the OS keyring (injected keyring module): kept values live under mcp-cli's service with
 * an account in the internal `trash` namespace, and mcp-cli's registry never lists them.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { KeyringBackend, type AsyncEntryLike, type KeyringModule } from '../../extension/backends/keyring';
import { McpCliRegistry } from '../../extension/backends/mcpCliRegistry';
import { TokenStore } from '../../extension/store/tokenStore';
import { MemoryBackend, MemoryIndex } from './support/memoryBackend';

const tmp = mkdtempSync(join(tmpdir(), 'mcp-keyring-trash-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

function fakeKeyring() {
  const entries = new Map<string, string>();
  const mod: KeyringModule = {
    AsyncEntry: class implements AsyncEntryLike {
      constructor(
        private readonly service: string,
        private readonly account: string,
      ) {}
      async getPassword() {
        return entries.get(`${this.service}|${this.account}`) ?? null;
      }
      async setPassword(p: string) {
        entries.set(`${this.service}|${this.account}`, p);
      }
      async deletePassword() {
        return entries.delete(`${this.service}|${this.account}`);
      }
    },
  };
  return { mod, entries };
}

describe('Trash in the OS keyring', () => {
  it('keeps deleted and replaced values under trash accounts that mcp-cli\'s registry never lists', async () => {
    const fake = fakeKeyring();
    const registry = new McpCliRegistry(join(tmp, 'a', '.chuk_oauth', 'token_registry.json'));
    const keyring = new KeyringBackend({ load: () => fake.mod, registry, platform: 'linux', retryDelayMs: 1 });
    const store = new TokenStore({ backends: [new MemoryBackend('secretStorage'), keyring], index: new MemoryIndex(), backendFor: () => 'keyring' });
    const registered = () => (existsSync(registry.path) ? Object.keys(JSON.parse(readFileSync(registry.path, 'utf8'))).sort() : []);
    const key = { namespace: 'bearer', name: 'gh' };

    await store.set({ ...key, type: 'bearer', value: 'ghp_1' });
    await store.set({ ...key, type: 'bearer', value: 'ghp_2' });
    await store.rotate(key, 'ghp_3');
    await store.rotate(key, 'ghp_4');
    await store.restorePrevious(key);
    await store.delete(key);
    assert.deepEqual(registered(), []);
    const accounts = [...fake.entries.keys()];
    assert.ok(accounts.length > 0 && accounts.every((a) => /^mcp-cli(\/previous)?\|(trash|history):[A-Za-z0-9_-]+$/.test(a)), accounts.join(', '));
    assert.equal(store.listDeleted().length, 1, 'replaced values are versions of the history; the deleted token is one entry');
    assert.equal(store.listDeleted()[0].meta.history?.length, 4);

    for (const d of store.listDeleted().reverse()) await store.restoreDeleted(d.id);
    assert.deepEqual(registered(), ['bearer:gh'], 'a restored token is registered again');
    for (const d of store.listDeleted()) await store.purgeDeleted(d.id);
    assert.deepEqual(registered(), ['bearer:gh']);
    assert.deepEqual([...fake.entries.keys()].filter((a) => a.includes('trash:')), []);
  });

  it('never registers internal namespaces (OAuth companions) in mcp-cli\'s registry', async () => {
    const fake = fakeKeyring();
    const registry = new McpCliRegistry(join(tmp, 'b', '.chuk_oauth', 'token_registry.json'));
    const keyring = new KeyringBackend({ load: () => fake.mod, registry, platform: 'linux', retryDelayMs: 1 });
    const store = new TokenStore({ backends: [new MemoryBackend('secretStorage'), keyring], index: new MemoryIndex(), backendFor: () => 'keyring' });
    await store.set({ namespace: 'oauth', name: 'notion', type: 'oauth', value: 'access' });
    await store.set({ namespace: 'oauth-refresh', name: 'notion', type: 'generic', value: 'refresh' });
    assert.deepEqual(Object.keys(JSON.parse(readFileSync(registry.path, 'utf8'))), ['oauth:notion']);
  });
});
