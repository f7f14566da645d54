import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decryptExport, encryptExport, readExportHeader, SCRYPT_DEFAULTS, type ExportedToken } from '../../extension/store/exportFormat';

const tokens: ExportedToken[] = [
  { namespace: 'bearer', name: 'github', type: 'bearer', value: 'ghp_EXPORTED_SECRET_1', previous: 'ghp_OLD', provider: 'github', expiresAt: '2030-01-01T00:00:00.000Z' },
  { namespace: 'api-key', name: 'openai', type: 'api-key', value: 'sk-EXPORTED_SECRET_2', description: 'work' },
];
const PASS = 'correct horse battery staple';

describe('encrypted export', () => {
  it('round-trips with the default OWASP scrypt cost, and the file holds no value in clear', async () => {
    const text = await encryptExport(tokens, PASS, { now: new Date('2026-11-23T12:00:00Z') });
    assert.ok(!text.includes('EXPORTED_SECRET') && !text.includes('github'));
    const header = readExportHeader(text);
    assert.equal(header.format, 'mcp-tokens-export');
    assert.equal(header.version, 1);
    assert.equal(header.count, 2);
    assert.deepEqual({ N: header.kdf.N, r: header.kdf.r, p: header.kdf.p }, SCRYPT_DEFAULTS);
    assert.equal(header.kdf.N, 131072);
    assert.equal(header.cipher.name, 'aes-256-gcm');
    const out = await decryptExport(text, PASS);
    assert.deepEqual(out.tokens, tokens);
    // Each export uses a fresh salt and IV.
    const again = await encryptExport(tokens, PASS);
    assert.notEqual(JSON.parse(again).ciphertext, JSON.parse(text).ciphertext);
  });

  // The failure cases use a cheaper scrypt cost (still within the accepted bounds) to keep the suite fast.
  const cheap = { kdf: { N: 2 ** 14, r: 8, p: 1 } };

  it('a wrong passphrase gives a clear error and nothing', async () => {
    const text = await encryptExport(tokens, PASS, cheap);
    await assert.rejects(decryptExport(text, 'wrong passphrase!'), /passphrase is wrong, or the export file was changed.*Nothing was imported/);
  });

  it('a tampered ciphertext, tag or header is refused', async () => {
    const text = await encryptExport(tokens, PASS, cheap);
    const file = JSON.parse(text);
    const flip = (b64: string) => {
      const buf = Buffer.from(b64, 'base64');
      buf[buf.length >> 1] ^= 1;
      return buf.toString('base64');
    };
    for (const tamper of [
      (f: typeof file) => ({ ...f, ciphertext: flip(f.ciphertext) }),
      (f: typeof file) => ({ ...f, tag: flip(f.tag) }),
      (f: typeof file) => ({ ...f, createdAt: '2020-01-01T00:00:00.000Z' }),
      (f: typeof file) => ({ ...f, kdf: { ...f.kdf, salt: flip(f.kdf.salt) } }),
    ]) {
      await assert.rejects(decryptExport(JSON.stringify(tamper(file)), PASS), /export file was changed/);
    }
    // The authenticated count cannot be changed either.
    await assert.rejects(decryptExport(JSON.stringify({ ...file, count: 1 }), PASS), /changed/);
  });

  it('refuses other files, other versions, absurd KDF costs and short passphrases', async () => {
    await assert.rejects(decryptExport('hello', PASS), /not an MCP Tokens export file/);
    await assert.rejects(decryptExport(JSON.stringify({ format: 'other', version: 1 }), PASS), /not an MCP Tokens export file/);
    const file = JSON.parse(await encryptExport(tokens.slice(0, 1), PASS, { kdf: { N: 2 ** 14, r: 8, p: 1 } }));
    await assert.rejects(decryptExport(JSON.stringify({ ...file, version: 2 }), PASS), /version 2/);
    await assert.rejects(decryptExport(JSON.stringify({ ...file, kdf: { ...file.kdf, N: 2 ** 30 } }), PASS), /damaged/);
    await assert.rejects(encryptExport(tokens, 'short'), /at least 8 characters/);
    assert.equal((await decryptExport(JSON.stringify(file), PASS)).tokens[0].value, 'ghp_EXPORTED_SECRET_1');
  });
});
