import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decryptExport, encryptExport, importProblems, readExportHeader, SCRYPT_DEFAULTS, type ExportedToken } from '../../extension/backends/exportFormat';
import { clientKey, refreshKey } from '../../server/core/oauthKeys';

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

describe('hostile export files (security review findings 5 and 8)', () => {
  it('refuses key-derivation parameters that would cost minutes or GiB, before deriving anything', async () => {
    const text = await encryptExport(tokens, PASS, { kdf: { N: 2 ** 14, r: 8, p: 1 } });
    for (const kdf of [
      { N: 2 ** 20, r: 32, p: 16 },
      { N: 2 ** 20, r: 8, p: 1 },
      { N: 2 ** 18, r: 16, p: 1 },
      { N: 2 ** 17, r: 8, p: 8 },
    ]) {
      const crafted = JSON.stringify({ ...JSON.parse(text), kdf: { ...JSON.parse(text).kdf, ...kdf } });
      const started = Date.now();
      await assert.rejects(decryptExport(crafted, PASS), /key derivation|too big|less than or equal|expected number to be <=|N must/i, JSON.stringify(kdf));
      assert.ok(Date.now() - started < 1000, `refused at once (${Date.now() - started} ms)`);
    }
    // The default cost and twice its memory are still accepted.
    assert.doesNotThrow(() => readExportHeader(JSON.stringify({ ...JSON.parse(text), kdf: { ...JSON.parse(text).kdf, N: 2 ** 18, r: 8, p: 1 } })));
  });

  it('refuses metadata that points at a token the file does not contain', () => {
    const evil: ExportedToken = { namespace: 'oauth', name: 'evil', type: 'oauth', value: 'x', oauth: { issuer: 'https://evil.example', clientId: 'c', clientSecretRef: '$<TOKEN:bearer:github>' } };
    assert.deepEqual(importProblems([evil]), ['oauth:evil: its client secret refers to bearer:github, which the file does not contain']);
    assert.match(importProblems([{ ...evil, oauth: { ...evil.oauth, clientSecretRef: 'plain text' } }])[0], /not a token reference/);
    // Self-contained: the secret travels in the same file.
    const secret: ExportedToken = { namespace: 'bearer', name: 'github', type: 'bearer', value: 'y' };
    assert.deepEqual(importProblems([evil, secret]), []);
  });

  it('accepts OAuth companions only beside their token', () => {
    const token: ExportedToken = { namespace: 'oauth', name: 'acme', type: 'oauth', value: 'access', oauth: { issuer: 'https://auth.acme.example' } };
    const refresh: ExportedToken = { ...refreshKey(token), type: 'generic', value: 'refresh' };
    const client: ExportedToken = { ...clientKey('https://auth.acme.example'), type: 'generic', value: '{}' };
    assert.deepEqual(importProblems([token, refresh, client]), []);
    assert.match(importProblems([refresh])[0], /oauth-refresh:acme: an internal entry that belongs to no OAuth token of the file/);
    assert.match(importProblems([token, { ...clientKey('https://other.example'), type: 'generic', value: '{}' }])[0], /belongs to no OAuth token/);
  });
});
