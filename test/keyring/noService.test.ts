/** No D-Bus session, so no Secret Service: the keyring backend says so, and nothing is written. Run by test/keyring/run.sh. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { makeKeyringStore, readRegistryFile } from './support';

describe('OS keyring backend without a Secret Service', () => {
  it('health names the cause and the fix', async () => {
    assert.equal(process.env.DBUS_SESSION_BUS_ADDRESS, undefined);
    const { keyring } = makeKeyringStore();
    const h = await keyring.health();
    assert.equal(h.healthy, false);
    assert.equal(h.available, false);
    assert.match(h.cause ?? '', /No Secret Service is running/);
    assert.match(h.fix ?? '', /gnome-keyring-daemon|another backend/);
  });

  it('a write fails with a clear message; the index, the values and the registry stay empty', async () => {
    const { store, local } = makeKeyringStore();
    await store.ready();
    await assert.rejects(store.set({ namespace: 'bearer', name: 'x', type: 'bearer', value: 'no-service-value' }), (e: Error) => {
      assert.match(e.message, /^OS keyring could not write bearer:x: No Secret Service is running/);
      assert.ok(!e.message.includes('no-service-value'));
      return true;
    });
    assert.equal(store.list().length, 0);
    assert.equal(local.values.size, 0);
    assert.deepEqual(readRegistryFile(), {});
    await store.refresh();
    assert.equal(store.list().length, 0);
  });
});
