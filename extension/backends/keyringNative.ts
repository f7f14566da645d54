/**
 * Loads the OS keyring's native module (the prebuilt binary of `@napi-rs/keyring`) the way a package
 * of MCP Token Manager carries it (see scripts/package.ts):
 * - a platform package has `dist/native/keyring.json` naming its target and one binary, stored
 *   brotli-compressed (`keyring.<triple>.node.br`: the Linux binaries are 3 MB, which a 1.5 MB package
 *   cannot hold as they are). On first use it is unpacked into `cacheDir`, checked against the
 *   SHA-256 the manifest records, and loaded from there; later windows load the unpacked copy after
 *   checking it again;
 * - the universal package's manifest says `"target": "universal"` and has no binary: loading throws a
 *   KeyringUnavailableError that says so, and SecretStorage and Vault work as usual;
 * - a build without `dist/native/` (`npm run build`, the tests) loads `@napi-rs/keyring` from
 *   node_modules (`fallback`).
 * No `vscode` import.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { brotliDecompressSync } from 'node:zlib';
import { z } from 'zod';
import { errorText } from '../../server/core/errors';
import type { KeyringModule } from './keyring';

/** The package's `dist/native/keyring.json`, written by scripts/package.ts. */
export const nativeManifestSchema = z
  .object({
    target: z.string().regex(/^(universal|(win32|darwin|linux|alpine)-(x64|arm64|armhf))$/),
    binary: z
      .object({
        file: z.string().regex(/^keyring\.[\w-]+\.node\.br$/),
        triple: z.string().regex(/^[\w-]+$/),
        version: z.string().max(64),
        sha256: z.string().regex(/^[0-9a-f]{64}$/),
        size: z.number().int().positive(),
      })
      .strict()
      .optional(),
  })
  .strict();
export type NativeManifest = z.infer<typeof nativeManifestSchema>;

/** The keyring cannot be used by this package on this machine: `message` says why, `fix` what to do. */
export class KeyringUnavailableError extends Error {
  readonly fix: string;
  constructor(
    message: string,
    readonly reason: 'universal' | 'wrongPlatform' | 'damaged',
    host: string = hostTarget(),
  ) {
    super(message);
    this.name = 'KeyringUnavailableError';
    this.fix =
      reason === 'damaged'
        ? 'Reinstall MCP Token Manager; until then, use SecretStorage or Vault.'
        : `Install the package built for ${host} (mcp-token-manager-${host}.vsix); until then, use SecretStorage or Vault.`;
  }
}

/** The VS Code target platform of a machine (`alpine-*` where Node runs on musl). Pure. */
export function hostTarget(platform: string = process.platform, arch: string = process.arch, musl: boolean = isMusl()): string {
  const a = arch === 'arm' ? 'armhf' : arch;
  return platform === 'linux' && musl ? `alpine-${a}` : `${platform}-${a}`;
}

function isMusl(): boolean {
  if (process.platform !== 'linux') return false;
  const header = (process.report?.getReport() as { header?: { glibcVersionRuntime?: string } } | undefined)?.header;
  return !header?.glibcVersionRuntime;
}

export interface LoadKeyringOptions {
  /** `dist/native` of the installed extension. */
  readonly nativeDir: string;
  /** Where the binary is unpacked (the extension's global storage). */
  readonly cacheDir: string;
  /** Used when there is no manifest (a development build). */
  readonly fallback: () => KeyringModule;
  /** This machine's target (default: hostTarget()). */
  readonly host?: string;
  /** Loads a native module file (default: process.dlopen). */
  readonly dlopen?: (file: string) => KeyringModule;
}

export function readNativeManifest(nativeDir: string): NativeManifest | undefined {
  const file = join(nativeDir, 'keyring.json');
  if (!existsSync(file)) return undefined;
  const parsed = nativeManifestSchema.safeParse(JSON.parse(readFileSync(file, 'utf8')));
  if (!parsed.success) throw new KeyringUnavailableError(`The package's native module manifest (${file}) is not valid; reinstall MCP Token Manager.`, 'damaged');
  return parsed.data;
}

/** The keyring module for this package; throws KeyringUnavailableError (or the loader's error). */
export function loadPackagedKeyring(options: LoadKeyringOptions): KeyringModule {
  const manifest = readNativeManifest(options.nativeDir);
  if (!manifest) return options.fallback();
  const host = options.host ?? hostTarget();
  const binary = manifest.binary;
  if (manifest.target === 'universal' || !binary) {
    throw new KeyringUnavailableError(
      `This is the universal package of MCP Token Manager: it carries no native keyring module, so the OS keyring cannot be used. ` +
        `SecretStorage and Vault work in it. To use the OS keyring, install the package built for ${host} (mcp-token-manager-${host}.vsix).`,
      'universal',
      host,
    );
  }
  if (manifest.target !== host) {
    throw new KeyringUnavailableError(
      `This package of MCP Token Manager is built for ${manifest.target}, but this machine is ${host}: its keyring module cannot load here. ` +
        `Install the package built for ${host} (mcp-token-manager-${host}.vsix); SecretStorage and Vault work meanwhile.`,
      'wrongPlatform',
      host,
    );
  }
  const target = join(options.cacheDir, `keyring-${binary.version}-${binary.triple}-${binary.sha256.slice(0, 16)}.node`);
  if (!existsSync(target) || sha256(readFileSync(target)) !== binary.sha256) unpack(join(options.nativeDir, binary.file), target, binary);
  return (options.dlopen ?? dlopen)(target);
}

function unpack(from: string, to: string, binary: NonNullable<NativeManifest['binary']>): void {
  let bytes: Buffer;
  try {
    bytes = brotliDecompressSync(readFileSync(from));
  } catch (e) {
    throw new KeyringUnavailableError(`The package's keyring module (${from}) cannot be unpacked (${errorText(e)}); reinstall MCP Token Manager.`, 'damaged');
  }
  if (bytes.length !== binary.size || sha256(bytes) !== binary.sha256) {
    throw new KeyringUnavailableError(`The package's keyring module (${from}) does not match its recorded SHA-256; reinstall MCP Token Manager.`, 'damaged');
  }
  mkdirSync(join(to, '..'), { recursive: true });
  const temp = `${to}.${process.pid}.tmp`;
  writeFileSync(temp, bytes, { mode: 0o755 });
  try {
    renameSync(temp, to);
  } catch (e) {
    rmSync(temp, { force: true });
    // Another window unpacked it first (Windows refuses to replace a loaded file): keep theirs if it is right.
    if (!existsSync(to) || sha256(readFileSync(to)) !== binary.sha256) throw e;
  }
}

function sha256(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}

function dlopen(file: string): KeyringModule {
  const module = { exports: {} as KeyringModule };
  process.dlopen(module, file);
  return module.exports;
}
