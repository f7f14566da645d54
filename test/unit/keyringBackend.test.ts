/** The keyring backend with an injected keyring module (the real Secret Service runs in test/keyring). */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { classifyKeyringError, KeyringBackend, type AsyncEntryLike, type KeyringModule } from '../../extension/backends/keyring';
import { McpCliRegistry } from '../../extension/backends/mcpCliRegistry';
import { withRetry } from '../../extension/backends/retry';
import { TokenStore } from '../../extension/store/tokenStore';
import { MemoryBackend, MemoryIndex } from './support/memoryBackend';

const tmp = mkdtempSync(join(tmpdir(), 'mcp-keyring-unit-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

/** A keyring module keeping entries in a map; `fail` makes every call throw that error. */
function fakeKeyring() {
  const entries = new Map<string, string>();
  const calls: string[] = [];
  let fail: Error | undefined;
  const mod: KeyringModule = {
    AsyncEntry: class implements AsyncEntryLike {
      constructor(
        private readonly service: string,
        private readonly account: string,
      ) {}
      async getPassword() {
        calls.push(`get ${this.service} ${this.account}`);
        if (fail) throw fail;
        return entries.get(`${this.service}|${this.account}`) ?? null;
      }
      async setPassword(p: string) {
        calls.push(`set ${this.service} ${this.account}`);
        if (fail) throw fail;
        entries.set(`${this.service}|${this.account}`, p);
      }
      async deletePassword() {
        calls.push(`delete ${this.service} ${this.account}`);
        if (fail) throw fail;
        return entries.delete(`${this.service}|${this.account}`);
      }
    },
  };
  return { mod, entries, calls, setFail: (e: Error | undefined) => (fail = e) };
}

function make(load: () => KeyringModule, name: string) {
  const registry = new McpCliRegistry(join(tmp, name, '.chuk_oauth', 'token_registry.json'));
  const logs: string[] = [];
  const keyring = new KeyringBackend({ load, registry, platform: 'linux', retryDelayMs: 1, log: (_l, m) => logs.push(m) });
  const store = new TokenStore({ backends: [new MemoryBackend('secretStorage'), keyring], index: new MemoryIndex(), backendFor: () => 'keyring' });
  return { keyring, store, registry, logs };
}

describe('KeyringBackend (injected module)', () => {
  it('stores mcp-cli StoredToken JSON under service mcp-cli, account <namespace>:<name>, and registers it', async () => {
    const fake = fakeKeyring();
    const { store, registry } = make(() => fake.mod, 'a');
    await store.ready();
    await store.set({ namespace: 'bearer', name: 'gh', type: 'bearer', value: 'ghp_x' });
    assert.deepEqual(JSON.parse(fake.entries.get('mcp-cli|bearer:gh')!), { token_type: 'bearer', name: 'gh', data: { token: 'ghp_x' }, metadata: { namespace: 'bearer' } });
    assert.equal(JSON.parse(readFileSync(registry.path, 'utf8'))['bearer:gh'].type, 'bearer');
    await store.rotate({ namespace: 'bearer', name: 'gh' }, 'ghp_y');
    // The replaced value is a version of the history, kept under an internal account mcp-cli does not list.
    const kept = [...fake.entries.entries()].filter(([k]) => k.startsWith('mcp-cli|history:'));
    assert.deepEqual(kept.map(([, v]) => JSON.parse(v).data.token), ['ghp_x']);
    assert.equal(await store.getPreviousValue({ namespace: 'bearer', name: 'gh' }), 'ghp_x');
    // A plain password (not mcp-cli JSON) set by another tool is read as it is.
    fake.entries.set('mcp-cli|bearer:gh', 'plain-password');
    assert.equal(await store.getValue({ namespace: 'bearer', name: 'gh' }), 'plain-password');
    await store.delete({ namespace: 'bearer', name: 'gh' });
    assert.deepEqual([...fake.entries.keys()].filter((k) => !k.includes('|trash:') && !k.includes('|history:')), [], 'only the trash (and the history it holds) keeps a copy');
    assert.deepEqual(JSON.parse(readFileSync(registry.path, 'utf8')), {});
  });

  it('a missing native module makes only this backend unavailable, with a clear message', async () => {
    let attempts = 0;
    const { keyring, store } = make(() => {
      attempts++;
      throw new Error("Cannot find module '@napi-rs/keyring-linux-x64-gnu'\nRequire stack: ...");
    }, 'b');
    const h = await keyring.health();
    assert.equal(h.available, false);
    assert.equal(h.healthy, false);
    assert.match(h.cause ?? '', /native keyring module \(@napi-rs\/keyring\) could not be loaded: Cannot find module/);
    assert.ok(!(h.cause ?? '').includes('Require stack'));
    await store.ready();
    await assert.rejects(store.set({ namespace: 'bearer', name: 'x', type: 'bearer', value: 'v-secret' }), /OS keyring is unavailable: the native module could not be loaded/);
    assert.equal(store.list().length, 0);
    // Other backends still work.
    await store.set({ namespace: 'bearer', name: 'y', type: 'bearer', value: 'v2', backend: 'secretStorage' });
    assert.equal(await store.getValue({ namespace: 'bearer', name: 'y' }), 'v2');
    assert.equal(attempts, 1, 'the failed load is remembered');
  });

  it('errors name the backend and the cause, never the value; reads of transient failures are retried', async () => {
    const fake = fakeKeyring();
    const { store, logs } = make(() => fake.mod, 'c');
    await store.ready();
    await store.set({ namespace: 'bearer', name: 'x', type: 'bearer', value: 'v-secret' });
    fake.setFail(new Error("Couldn't access platform storage: Secret Service: unlock prompt was dismissed"));
    await assert.rejects(store.set({ namespace: 'bearer', name: 'x', type: 'bearer', value: 'new-secret' }), (e: Error) => {
      assert.equal(e.name, 'BackendError');
      assert.match(e.message, /^OS keyring could not (read|write) bearer:x: The keyring is locked/);
      assert.ok(!e.message.includes('secret'));
      return true;
    });
    const before = fake.calls.length;
    fake.setFail(new Error('Platform failure: something odd'));
    await assert.rejects(store.getValue({ namespace: 'bearer', name: 'x' }), /OS keyring could not read bearer:x/);
    assert.equal(fake.calls.length - before, 3, 'read tried three times');
    assert.equal(logs.filter((l) => /retrying a read/.test(l)).length, 2);
    fake.setFail(undefined);
    assert.equal(await store.getValue({ namespace: 'bearer', name: 'x' }), 'v-secret');
  });

  it('discovers registry tokens that exist in the keyring', async () => {
    const fake = fakeKeyring();
    const { keyring, registry, store } = make(() => fake.mod, 'd');
    await registry.register({ namespace: 'provider', name: 'openai' }, { type: 'api-key', provider: 'openai' });
    await registry.register({ namespace: 'bearer', name: 'elsewhere' }, { type: 'bearer' });
    fake.entries.set('mcp-cli|provider:openai', JSON.stringify({ token_type: 'api_key', name: 'openai', data: { provider: 'openai', key: 'sk-1' } }));
    assert.deepEqual((await keyring.discover()).map((d) => [d.namespace, d.name, d.type, d.provider]), [['provider', 'openai', 'api-key', 'openai']]);
    await store.refresh();
    assert.equal(await store.getValue({ namespace: 'provider', name: 'openai' }), 'sk-1');
  });

  it('health is a write/read/delete round trip that leaves nothing behind', async () => {
    const fake = fakeKeyring();
    const { keyring } = make(() => fake.mod, 'e');
    const h = await keyring.health();
    assert.equal(h.healthy, true);
    assert.equal(fake.entries.size, 0);
    assert.ok(fake.calls.some((c) => c.startsWith('set mcp-cli/health ')));
  });
});

describe('classifyKeyringError', () => {
  const cases: Array<[string, string]> = [
    ["Couldn't access platform storage: Secret Service: unlock prompt was dismissed", 'locked'],
    ['Platform failure: DBus error: Using X11 for dbus-daemon autolaunch was disabled at compile time, set your DBUS_SESSION_BUS_ADDRESS instead', 'noService'],
    ['org.freedesktop.DBus.Error.ServiceUnknown: The name org.freedesktop.secrets was not provided by any .service files', 'noService'],
    ["Couldn't access platform storage: Secret Service: no result found", 'noCollection'],
    ["Couldn't access platform storage: AccessDenied", 'denied'],
    ['something else entirely', 'other'],
  ];
  for (const [text, kind] of cases) {
    it(`${kind}: ${text.slice(0, 60)}`, () => {
      const f = classifyKeyringError(new Error(text), 'linux');
      assert.equal(f.kind, kind);
      assert.ok(f.cause.length > 10 && f.fix.length > 10);
    });
  }
  it('timeouts (AbortSignal.timeout) are reported as an unanswered keyring', () => {
    const e = new DOMException('The operation was aborted due to timeout', 'TimeoutError');
    assert.equal(classifyKeyringError(e, 'darwin').kind, 'timeout');
    assert.match(classifyKeyringError(e, 'darwin').cause, /macOS Keychain/);
  });
});

describe('withRetry', () => {
  it('retries retryable errors with growing delays, then gives up', async () => {
    const delays: number[] = [];
    let n = 0;
    await assert.rejects(
      withRetry(async () => {
        n++;
        throw new Error('flaky');
      }, { attempts: 4, baseDelayMs: 100, retryable: () => true, sleep: async (ms) => void delays.push(ms) }),
      /flaky/,
    );
    assert.equal(n, 4);
    assert.equal(delays.length, 3);
    assert.ok(delays[0] >= 80 && delays[0] <= 120 && delays[2] >= 320 && delays[2] <= 480);
    let m = 0;
    await assert.rejects(withRetry(async () => (m++, Promise.reject(new Error('fatal'))), { retryable: () => false }), /fatal/);
    assert.equal(m, 1);
    assert.equal(await withRetry(async (a) => (a < 2 ? Promise.reject(new Error('x')) : 'ok'), { retryable: () => true, sleep: async () => undefined }), 'ok');
  });
});

describe('KeyringBackend: mcp-cli OAuth entries (finding 7)', () => {
  it('an mcp-cli OAuth entry resolves to its access token; its refresh token is a hidden companion kept inside the entry', async () => {
    const fake = fakeKeyring();
    const { store, registry } = make(() => fake.mod, 'oauth-entry');
    await store.ready();
    const stored = {
      token_type: 'oauth',
      name: 'srv',
      data: { access_token: 'at-cli', refresh_token: 'rt-cli-secret', token_type: 'Bearer', expires_in: 3600, issued_at: Date.now() / 1000, scope: 'mcp:read' },
      metadata: { namespace: 'oauth' },
    };
    fake.entries.set('mcp-cli|oauth:srv', JSON.stringify(stored));
    await registry.register({ namespace: 'oauth', name: 'srv' }, { type: 'oauth' } as never);
    await store.refresh();
    assert.equal(store.get({ namespace: 'oauth', name: 'srv' })?.type, 'oauth');
    assert.equal(await store.getValue({ namespace: 'oauth', name: 'srv' }), 'at-cli');
    assert.ok(!store.list().some((t) => t.namespace === 'oauth-refresh'), 'the companion is not listed');
    assert.equal(await store.getValue({ namespace: 'oauth-refresh', name: 'srv' }), 'rt-cli-secret');

    // A refresh as the OAuth feature writes it: refresh token first, then the access token.
    await store.set({ namespace: 'oauth-refresh', name: 'srv', type: 'generic', value: 'rt-cli-rotated' });
    await store.set({ namespace: 'oauth', name: 'srv', type: 'oauth', value: 'at-cli-2', expiresAt: new Date(Date.now() + 3600_000).toISOString() });
    const back = JSON.parse(fake.entries.get('mcp-cli|oauth:srv')!);
    assert.equal(back.data.access_token, 'at-cli-2');
    assert.equal(back.data.refresh_token, 'rt-cli-rotated');
    assert.equal(back.data.scope, 'mcp:read', "mcp-cli's other fields are kept");
    assert.ok(!fake.entries.has('mcp-cli|oauth-refresh:srv'), 'no separate entry for the refresh token');
    assert.ok(!Object.keys(JSON.parse(readFileSync(registry.path, 'utf8'))).includes('oauth-refresh:srv'));

    await store.delete({ namespace: 'oauth-refresh', name: 'srv' });
    assert.equal(JSON.parse(fake.entries.get('mcp-cli|oauth:srv')!).data.refresh_token, undefined);
    assert.equal(await store.getValue({ namespace: 'oauth', name: 'srv' }), 'at-cli-2');
  });
});
