/**
 * The encrypted export file (`*.mcptokens`): chosen tokens with their values, importable on another
 * machine or into another backend. Pure (node:crypto only, no `vscode`).
 *
 * Format (JSON, UTF-8):
 *   { "format": "mcp-tokens-export", "version": 1, "createdAt": ISO, "count": n,
 *     "kdf": { "name": "scrypt", "N": 131072, "r": 8, "p": 1, "salt": b64(16 bytes) },
 *     "cipher": { "name": "aes-256-gcm", "iv": b64(12 bytes) },
 *     "ciphertext": b64, "tag": b64(16 bytes) }
 *
 * The key is derived from the passphrase with scrypt at OWASP's recommended cost (N=2^17, r=8, p=1).
 * Every header field is authenticated as AES-GCM additional data, so changing the header, the
 * ciphertext or the tag makes decryption fail; a wrong passphrase fails the same way. Either way
 * nothing is imported.
 */
import { createCipheriv, createDecipheriv, randomBytes, scrypt as scryptCb, type ScryptOptions } from 'node:crypto';
import { z } from 'zod';
import { describeIssues, isInternalNamespace, nameSchema, namespaceSchema, oauthInfoSchema, tokenTypeSchema } from '../../server/core/model';
import { oauthCompanions } from '../../server/core/oauthKeys';
import { keyId, parseWholeReference } from '../../server/core/reference';

export const EXPORT_FORMAT = 'mcp-tokens-export';
export const EXPORT_VERSION = 1;
export const EXPORT_EXTENSION = 'mcptokens';
/** OWASP Password Storage Cheat Sheet: scrypt N=2^17 (128 MiB), r=8, p=1. */
export const SCRYPT_DEFAULTS = { N: 2 ** 17, r: 8, p: 1 } as const;
const KEY_LENGTH = 32;
/** scrypt needs 128·N·r bytes; the default needs 128 MiB. */
export const MAX_KDF_MEMORY = 256 * 2 ** 20;
/** N·r·p, the work of one derivation; the default's is 2^20. */
export const MAX_KDF_WORK = 2 ** 22;
const MIN_PASSPHRASE = 8;

const b64 = z.string().regex(/^[A-Za-z0-9+/]*={0,2}$/, 'not base64');

export const exportHeaderSchema = z.object({
  format: z.literal(EXPORT_FORMAT),
  version: z.literal(EXPORT_VERSION),
  createdAt: z.string().max(64),
  count: z.number().int().min(0).max(100_000),
  kdf: z
    .object({
      name: z.literal('scrypt'),
      // Bounds keep a crafted file from asking for absurd memory or time: at most twice the default's
      // memory (256 MiB) and four times its work.
      N: z.number().int().min(2 ** 14).max(2 ** 18).refine((n) => (n & (n - 1)) === 0, 'N must be a power of two'),
      r: z.number().int().min(1).max(16),
      p: z.number().int().min(1).max(4),
      salt: b64,
    })
    .refine((k) => 128 * k.N * k.r <= MAX_KDF_MEMORY, `the key derivation would need more than ${MAX_KDF_MEMORY / 2 ** 20} MiB`)
    .refine((k) => k.N * k.r * k.p <= MAX_KDF_WORK, 'the key derivation would take too long'),
  cipher: z.object({ name: z.literal('aes-256-gcm'), iv: b64 }),
});
export type ExportHeader = z.infer<typeof exportHeaderSchema>;

const exportFileSchema = exportHeaderSchema.extend({ ciphertext: b64, tag: b64 });

export const exportedTokenSchema = z.object({
  namespace: namespaceSchema,
  name: nameSchema,
  type: tokenTypeSchema,
  value: z.string().min(1).max(65536),
  previous: z.string().min(1).max(65536).optional(),
  createdAt: z.string().optional(),
  expiresAt: z.string().optional(),
  provider: z.string().max(64).optional(),
  description: z.string().max(1024).optional(),
  oauth: oauthInfoSchema.optional(),
});
export type ExportedToken = z.infer<typeof exportedTokenSchema>;

const payloadSchema = z.object({ tokens: z.array(exportedTokenSchema) });

export class ExportFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ExportFormatError';
  }
}

function scrypt(passphrase: string, salt: Buffer, p: { N: number; r: number; p: number }): Promise<Buffer> {
  const options: ScryptOptions = { N: p.N, r: p.r, p: p.p, maxmem: 256 * p.N * p.r * p.p + 32 * 1024 * 1024 };
  return new Promise((resolve, reject) => scryptCb(passphrase.normalize('NFC'), salt, KEY_LENGTH, options, (err, key) => (err ? reject(err) : resolve(key))));
}

/** The additional authenticated data: the header's fields in a fixed order. */
function aad(h: ExportHeader): Buffer {
  return Buffer.from(
    JSON.stringify([h.format, h.version, h.createdAt, h.count, h.kdf.name, h.kdf.N, h.kdf.r, h.kdf.p, h.kdf.salt, h.cipher.name, h.cipher.iv]),
    'utf8',
  );
}

export function passphraseProblem(passphrase: string): string | undefined {
  if (passphrase.length < MIN_PASSPHRASE) return `Use a passphrase of at least ${MIN_PASSPHRASE} characters.`;
  return undefined;
}

/** Encrypts tokens into the export file's text. */
export async function encryptExport(
  tokens: readonly ExportedToken[],
  passphrase: string,
  options: { now?: Date; kdf?: { N: number; r: number; p: number } } = {},
): Promise<string> {
  const problem = passphraseProblem(passphrase);
  if (problem) throw new ExportFormatError(problem);
  const payload = payloadSchema.safeParse({ tokens });
  if (!payload.success) throw new ExportFormatError(`A token cannot be exported: ${describeIssues(payload.error)}`);
  const salt = randomBytes(16);
  const iv = randomBytes(12);
  const params = options.kdf ?? SCRYPT_DEFAULTS;
  const header: ExportHeader = {
    format: EXPORT_FORMAT,
    version: EXPORT_VERSION,
    createdAt: (options.now ?? new Date()).toISOString(),
    count: tokens.length,
    kdf: { name: 'scrypt', N: params.N, r: params.r, p: params.p, salt: salt.toString('base64') },
    cipher: { name: 'aes-256-gcm', iv: iv.toString('base64') },
  };
  const checked = exportHeaderSchema.safeParse(header);
  if (!checked.success) throw new ExportFormatError(`Invalid export parameters: ${describeIssues(checked.error)}`);
  const key = await scrypt(passphrase, salt, params);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(aad(header));
  const ciphertext = Buffer.concat([cipher.update(JSON.stringify(payload.data), 'utf8'), cipher.final()]);
  const tag = cipher.getAuthTag();
  key.fill(0);
  return JSON.stringify({ ...header, ciphertext: ciphertext.toString('base64'), tag: tag.toString('base64') }, null, 2) + '\n';
}

/** Reads the header without the passphrase (to show what a file holds). */
export function readExportHeader(text: string): ExportHeader {
  return parseFile(text);
}

/** Decrypts an export file. Throws ExportFormatError (never with a value) when anything is wrong. */
export async function decryptExport(text: string, passphrase: string): Promise<{ header: ExportHeader; tokens: ExportedToken[] }> {
  const file = parseFile(text);
  const salt = Buffer.from(file.kdf.salt, 'base64');
  const iv = Buffer.from(file.cipher.iv, 'base64');
  const tag = Buffer.from(file.tag, 'base64');
  if (salt.length < 16 || iv.length !== 12 || tag.length !== 16) throw new ExportFormatError('The export file is damaged (bad salt, IV or tag length).');
  const key = await scrypt(passphrase, salt, file.kdf);
  let plain: Buffer;
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, iv, { authTagLength: 16 });
    decipher.setAAD(aad(file));
    decipher.setAuthTag(tag);
    plain = Buffer.concat([decipher.update(Buffer.from(file.ciphertext, 'base64')), decipher.final()]);
  } catch {
    throw new ExportFormatError('The passphrase is wrong, or the export file was changed after it was written. Nothing was imported.');
  } finally {
    key.fill(0);
  }
  let json: unknown;
  try {
    json = JSON.parse(plain.toString('utf8'));
  } catch {
    throw new ExportFormatError('The export file decrypted to something that is not a token list. Nothing was imported.');
  } finally {
    plain.fill(0);
  }
  const payload = payloadSchema.safeParse(json);
  if (!payload.success) throw new ExportFormatError(`The export file holds invalid tokens (${describeIssues(payload.error)}). Nothing was imported.`);
  if (payload.data.tokens.length !== file.count) throw new ExportFormatError('The export file is inconsistent (token count). Nothing was imported.');
  return { header: exportHeaderSchema.parse(file), tokens: payload.data.tokens };
}

function parseFile(text: string) {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new ExportFormatError('This is not an MCP Tokens export file (not JSON).');
  }
  const probe = z.object({ format: z.string(), version: z.number() }).safeParse(json);
  if (!probe.success || probe.data.format !== EXPORT_FORMAT) throw new ExportFormatError('This is not an MCP Tokens export file.');
  if (probe.data.version !== EXPORT_VERSION) {
    throw new ExportFormatError(`This export file has version ${probe.data.version}; this extension reads version ${EXPORT_VERSION}. Update the extension.`);
  }
  const parsed = exportFileSchema.safeParse(json);
  if (!parsed.success) throw new ExportFormatError(`The export file is damaged: ${describeIssues(parsed.error)}`);
  return parsed.data;
}

/**
 * The reasons an export's tokens cannot be imported as a whole, each naming a token (never a value):
 *  - metadata that refers to a token the file does not contain (`oauth.clientSecretRef`): after the
 *    import, a refresh would send that other token to the file's token endpoint;
 *  - an internal entry (refresh token, client registration) that is not the companion of an OAuth
 *    token of the same file.
 * Empty when the file is self-contained.
 */
export function importProblems(tokens: readonly ExportedToken[]): string[] {
  const inFile = new Set(tokens.map((t) => keyId(t)));
  const companions = new Set(tokens.flatMap((t) => oauthCompanions(t).map(keyId)));
  const problems: string[] = [];
  for (const t of tokens) {
    const ref = t.oauth?.clientSecretRef;
    if (ref !== undefined) {
      const target = parseWholeReference(ref.trim());
      if (!target) problems.push(`${keyId(t)}: its client secret reference is not a token reference`);
      else if (!inFile.has(keyId(target))) problems.push(`${keyId(t)}: its client secret refers to ${keyId(target)}, which the file does not contain`);
    }
    if (isInternalNamespace(t.namespace) && !companions.has(keyId(t))) problems.push(`${keyId(t)}: an internal entry that belongs to no OAuth token of the file`);
  }
  return problems;
}
