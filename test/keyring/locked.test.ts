/** A locked keyring: every operation fails with the "locked" cause and fix; nothing goes out of step. Run by test/keyring/run.sh. */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { makeKeyringStore, python, readRegistryFile } from './support';

describe('OS keyring backend (gnome-keyring, locked)', () => {
  it('reports the locked keyring with its fix, and index and values agree afterwards', async () => {
    const { store, keyring } = makeKeyringStore();
    await store.ready();
    await store.set({ namespace: 'bearer', name: 'kept', type: 'bearer', value: 'kept-value' });

    python('import secretstorage; c = secretstorage.dbus_init(); col = secretstorage.get_default_collection(c); col.lock(); assert col.is_locked()');

    const h = await keyring.health();
    assert.equal(h.healthy, false);
    assert.match(h.cause ?? '', /keyring is locked/);
    assert.match(h.fix ?? '', /Unlock the login keyring/);

    await assert.rejects(store.getValue({ namespace: 'bearer', name: 'kept' }), /OS keyring could not read bearer:kept: The keyring is locked/);
    await assert.rejects(store.set({ namespace: 'bearer', name: 'new-one', type: 'bearer', value: 'new-value' }), (e: Error) => {
      assert.match(e.message, /OS keyring could not write bearer:new-one: The keyring is locked/);
      assert.ok(!e.message.includes('new-value'));
      return true;
    });
    await assert.rejects(store.delete({ namespace: 'bearer', name: 'kept' }), /locked/);
    assert.equal(store.has({ namespace: 'bearer', name: 'new-one' }), false);

    // Unlock again (a replacement daemon opens the same keyring file with the password).
    execFileSync('bash', ['-c', 'echo -n "$MCP_TOKENS_KEYRING_PASSWORD" | gnome-keyring-daemon --replace --unlock --components=secrets >/dev/null 2>&1'], { env: process.env, timeout: 20_000 });
    await new Promise((r) => setTimeout(r, 500));
    assert.equal((await keyring.health()).healthy, true);
    assert.equal(python("import keyring; print(keyring.get_password('mcp-cli', 'bearer:new-one'))"), 'None');
    assert.equal(readRegistryFile()['bearer:new-one'], undefined);
    // TokenStore.delete removes the value first; the keyring refused, so the token stays listed
    // with its value and mcp-cli's registry line: index and values agree.
    assert.equal(store.has({ namespace: 'bearer', name: 'kept' }), true);
    assert.ok(readRegistryFile()['bearer:kept']);
    await store.refresh();
    assert.equal(store.get({ namespace: 'bearer', name: 'kept' })?.backend, 'keyring');
    assert.equal(await store.getValue({ namespace: 'bearer', name: 'kept' }), 'kept-value');
  });
});
