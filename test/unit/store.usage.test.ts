/**
 * Two windows, one SecretStorage: a use recorded in one window (a server launch, or a launcher use
 * read from the audit log) reaches the other as a metadata change, not as a new value, so it does
 * not ask to restart that window's servers; a rotation still does.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { TokenChange } from '../../extension/store/tokenStore';
import { SharedSecretStorage } from './support/sharedSecretStorage';
import { openWindow, sleep } from './support/windows';

test("another window's markUsed is not a value change; its rotate is", async () => {
  const shared = new SharedSecretStorage();
  const [a, b] = [openWindow(shared), openWindow(shared)];
  await Promise.all([a.store.ready(), b.store.ready()]);
  const key = { namespace: 'bearer', name: 'used-elsewhere' };
  await a.store.set({ ...key, type: 'bearer', value: 'v1' });
  await sleep(60);
  assert.ok(b.store.get(key), 'the second window lists it');
  const seen: TokenChange[] = [];
  b.store.onDidChange((c) => seen.push(c));

  await a.store.markUsed(key, new Date(Date.now() + 1000));
  await sleep(60);
  const mine = seen.filter((c) => c.keys.some((k) => k.name === key.name));
  assert.ok(mine.length > 0, 'the use reached the second window');
  assert.equal(b.store.get(key)?.lastUsedAt, a.store.get(key)?.lastUsedAt);
  assert.ok(mine.every((c) => !c.valueChanged), JSON.stringify(mine));

  seen.length = 0;
  await a.store.rotate(key, 'v2');
  await sleep(60);
  assert.ok(seen.some((c) => c.valueChanged && c.keys.some((k) => k.name === key.name)), JSON.stringify(seen));
  a.close();
  b.close();
});
