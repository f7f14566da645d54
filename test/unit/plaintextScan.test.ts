/** The e2e plaintext scan (test/e2e/harness/plaintext.ts): every encoding is found, nothing else is. */
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { assertNoPlaintext, needlesFor, scanForPlaintext } from '../e2e/harness/plaintext';

const root = mkdtempSync(join(tmpdir(), 'plaintext-scan-'));
after(() => rmSync(root, { recursive: true, force: true }));

const SECRET = 'ghp_Secr3t"value/with+odd=chars';

function dirWith(name: string, content: Buffer): string {
  const dir = join(root, name);
  mkdirSync(join(dir, 'nested'), { recursive: true });
  writeFileSync(join(dir, 'nested', 'file.bin'), content);
  return dir;
}

test('finds the raw, UTF-16, JSON-escaped, URL-encoded and hex forms', async () => {
  const forms: [string, Buffer][] = [
    ['utf8', Buffer.from(`prefix ${SECRET} suffix`)],
    ['utf16le', Buffer.concat([Buffer.from([0, 1, 2]), Buffer.from(SECRET, 'utf16le')])],
    ['json', Buffer.from(JSON.stringify({ v: SECRET }).replace(/^\{"v":/, '{ "x": '))],
    ['url', Buffer.from(`q=${encodeURIComponent(SECRET)}&`)],
    ['hex', Buffer.from(`0x${Buffer.from(SECRET).toString('hex')}`)],
  ];
  for (const [form, content] of forms) {
    const hits = await scanForPlaintext([dirWith(`form-${form}`, content)], [SECRET]);
    assert.ok(hits.some((h) => h.form === form || h.form === 'utf8'), `${form}: ${JSON.stringify(hits)}`);
    assert.ok(hits.every((h) => h.file.endsWith(join('nested', 'file.bin'))));
  }
});

test('finds base64 and base64url at every alignment inside a longer stream', async () => {
  for (let shift = 0; shift < 3; shift++) {
    for (const enc of ['base64', 'base64url'] as const) {
      const stream = Buffer.concat([Buffer.from('ab'.repeat(5)).subarray(0, 7 + shift), Buffer.from(SECRET), Buffer.from('tail-bytes')]).toString(enc);
      const hits = await scanForPlaintext([dirWith(`b64-${enc}-${shift}`, Buffer.from(`{"data":"${stream}"}`))], [SECRET]);
      assert.ok(hits.some((h) => h.form.startsWith('base64')), `${enc} shift ${shift}`);
    }
  }
});

test('finds a value split across read chunks (1 MiB boundary)', async () => {
  const content = Buffer.concat([Buffer.alloc((1 << 20) - 5, 0x41), Buffer.from(SECRET), Buffer.alloc(100, 0x42)]);
  const hits = await scanForPlaintext([dirWith('chunk-edge', content)], [SECRET]);
  assert.deepEqual(hits.map((h) => h.form), ['utf8']);
});

test('no false positive on other data; reports the index, never the value', async () => {
  const clean = dirWith('clean', Buffer.from('nothing to see: ghp_Secr3t but not the rest'));
  assert.deepEqual(await scanForPlaintext([clean], [SECRET]), []);
  await assertNoPlaintext([clean], [SECRET]);
  const dirty = dirWith('dirty', Buffer.from(`token=${SECRET}`));
  await assert.rejects(assertNoPlaintext([dirty], ['another-long-secret', SECRET]), (e: Error) => {
    assert.match(e.message, /dirty\/nested\/file\.bin \(secret #1, utf8\)/);
    assert.ok(!e.message.includes(SECRET));
    return true;
  });
});

test('refuses values too short to scan for, and missing roots are empty', async () => {
  await assert.rejects(scanForPlaintext([root], ['short']), /shorter than 8/);
  assert.deepEqual(await scanForPlaintext([join(root, 'does-not-exist')], [SECRET]), []);
  assert.ok(needlesFor(SECRET, 0).length >= 8);
});
