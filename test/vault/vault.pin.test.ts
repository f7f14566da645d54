/**
 * A Vault address must be confirmed before anything is sent to it (security review): another
 * extension can change the settings, so the Vault token and the values never follow a changed
 * address by themselves. Against the fake Vault on 127.0.0.1 (no real Vault server runs here).
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { TokenStore } from '../../extension/store/tokenStore';
import { DEFAULT_VAULT_SETTINGS, VaultBackend, vaultTargetOf, type VaultSettings } from '../../extension/backends/vault';
import { FakeVault, ROOT_TOKEN } from '../fixtures/vault/server';
import { MemoryBackend, MemoryIndex } from '../unit/support/memoryBackend';

let good: FakeVault;
let evil: FakeVault;
before(async () => {
  good = new FakeVault();
  evil = new FakeVault();
  await good.start();
  await evil.start();
});
after(async () => {
  await good.stop();
  await evil.stop();
});

test('nothing reaches an address the user did not confirm; the confirmed one works; a changed address stops at once', async () => {
  let settings: VaultSettings = { ...DEFAULT_VAULT_SETTINGS, address: good.url, timeoutMs: 2000 };
  const confirmed = new Set<string>();
  const vault = new VaultBackend({
    settings: () => settings,
    credentials: { getToken: async () => ROOT_TOKEN, getSecretId: async () => undefined },
    env: {},
    isConfirmed: (id) => confirmed.has(id),
    retryDelayMs: 10,
  });
  const store = new TokenStore({ backends: [new MemoryBackend('secretStorage'), vault], index: new MemoryIndex(), backendFor: () => 'vault' });
  try {
    // Not confirmed yet: health says so, and a write fails before any request.
    const h = await vault.health();
    assert.equal(h.healthy, false);
    assert.match(h.cause ?? '', /is not confirmed in this VS Code: nothing is sent to it/);
    assert.match(h.fix ?? '', /Use HashiCorp Vault at This Address/);
    await assert.rejects(store.set({ namespace: 'team', name: 'a', type: 'bearer', value: 'v-1' }), /not confirmed/);
    assert.equal(good.requests.length, 0, 'no request, not even a health check');
    assert.equal(store.has({ namespace: 'team', name: 'a' }), false);

    confirmed.add(vaultTargetOf(settings, {})!.id);
    await store.set({ namespace: 'team', name: 'a', type: 'bearer', value: 'v-1' });
    assert.equal(await store.getValue({ namespace: 'team', name: 'a' }), 'v-1');

    // Another extension points the setting elsewhere (or turns TLS verification off): nothing follows.
    for (const changed of [{ address: evil.url }, { tlsSkipVerify: true }]) {
      settings = { ...settings, ...changed };
      vault.reset();
      await assert.rejects(store.set({ namespace: 'team', name: 'b', type: 'bearer', value: 'v-2' }), /not confirmed/);
      await assert.rejects(vault.read({ namespace: 'team', name: 'a' }), /not confirmed/);
      settings = { ...DEFAULT_VAULT_SETTINGS, address: good.url, timeoutMs: 2000 };
    }
    assert.equal(evil.requests.length, 0, 'the other Vault received nothing');
  } finally {
    vault.dispose();
    store.dispose();
  }
});
