/**
 * How a package's keyring module is found (extension/backends/keyringNative.ts), with the module
 * simulated: the universal package (no binary) and a package of another platform make the keyring
 * backend unavailable with a message saying why and what to install, while the rest of the store works;
 * a development build falls back to node_modules; a damaged binary is refused before it is loaded;
 * a good one is unpacked once and loaded from the cache. The real binaries are loaded by the package suite.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { brotliCompressSync } from 'node:zlib';
import { after, describe, it } from 'node:test';
import { KeyringBackend, type KeyringModule } from '../../extension/backends/keyring';
import { hostTarget, KeyringUnavailableError, loadPackagedKeyring, type NativeManifest } from '../../extension/backends/keyringNative';
import { TokenStore } from '../../extension/store/tokenStore';
import { MemoryBackend, MemoryIndex } from './support/memoryBackend';

const tmp = mkdtempSync(join(tmpdir(), 'mcp-keyring-native-'));
after(() => rmSync(tmp, { recursive: true, force: true }));
let n = 0;

function nativeDir(manifest: NativeManifest | undefined, binary?: Buffer): string {
  const dir = join(tmp, `native-${n++}`);
  mkdirSync(dir, { recursive: true });
  if (manifest) writeFileSync(join(dir, 'keyring.json'), JSON.stringify(manifest));
  if (binary && manifest?.binary) writeFileSync(join(dir, manifest.binary.file), brotliCompressSync(binary));
  return dir;
}
const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const noFallback = () => assert.fail('a package with a manifest never falls back to node_modules');
const fakeModule = { AsyncEntry: class {} } as unknown as KeyringModule;

describe('the universal package (no keyring module)', () => {
  const dir = nativeDir({ target: 'universal' });
  const load = () => loadPackagedKeyring({ nativeDir: dir, cacheDir: join(tmp, 'cache-u'), fallback: noFallback, host: 'darwin-arm64' });

  it('says it has no keyring module, that SecretStorage and Vault work, and which package to install', () => {
    assert.throws(load, (e: unknown) => {
      assert.ok(e instanceof KeyringUnavailableError);
      assert.equal(e.reason, 'universal');
      assert.match(e.message, /universal package of MCP Token Manager: it carries no native keyring module/);
      assert.match(e.message, /SecretStorage and Vault work/);
      assert.match(e.message, /mcp-token-manager-darwin-arm64\.vsix/);
      return true;
    });
  });

  it('makes the keyring backend unavailable with that message; the other backends keep working', async () => {
    const keyring = new KeyringBackend({ load, platform: 'darwin', isActive: () => true });
    const health = await keyring.health();
    assert.equal(health.available, false);
    assert.equal(health.healthy, false);
    assert.match(health.cause ?? '', /universal package/);
    assert.match(health.fix ?? '', /mcp-token-manager-darwin-arm64\.vsix|package built for darwin-arm64/);
    const store = new TokenStore({ backends: [new MemoryBackend('secretStorage'), keyring], index: new MemoryIndex(), backendFor: (ns) => (ns === 'api-key' ? 'keyring' : 'secretStorage') });
    await store.set({ namespace: 'bearer', name: 'ok', type: 'bearer', value: 'v-in-secret-storage' });
    assert.equal(await store.getValue({ namespace: 'bearer', name: 'ok' }), 'v-in-secret-storage');
    await assert.rejects(store.set({ namespace: 'api-key', name: 'k', type: 'api-key', value: 'v-keyring' }), /universal package/);
    store.dispose();
  });
});

describe('a platform package', () => {
  const binary = Buffer.from('not really a shared library, only bytes to unpack and check');
  const manifest = (b: Buffer, target = 'linux-x64'): NativeManifest => ({
    target,
    binary: { file: 'keyring.linux-x64-gnu.node.br', triple: 'linux-x64-gnu', version: '2.1.2', sha256: sha256(b), size: b.length },
  });

  it('of another platform says which package this machine needs', () => {
    const dir = nativeDir(manifest(binary, 'win32-x64'), binary);
    assert.throws(
      () => loadPackagedKeyring({ nativeDir: dir, cacheDir: join(tmp, 'c1'), fallback: noFallback, host: 'linux-arm64' }),
      (e: unknown) => e instanceof KeyringUnavailableError && e.reason === 'wrongPlatform' && /built for win32-x64, but this machine is linux-arm64/.test(e.message),
    );
  });

  it('unpacks its binary once, checks it, and loads it from the cache', () => {
    const dir = nativeDir(manifest(binary), binary);
    const cacheDir = join(tmp, 'c2');
    const opened: string[] = [];
    const dlopen = (file: string) => (opened.push(file), fakeModule);
    assert.equal(loadPackagedKeyring({ nativeDir: dir, cacheDir, fallback: noFallback, host: 'linux-x64', dlopen }), fakeModule);
    assert.equal(loadPackagedKeyring({ nativeDir: dir, cacheDir, fallback: noFallback, host: 'linux-x64', dlopen }), fakeModule);
    assert.equal(opened.length, 2);
    assert.equal(opened[0], opened[1]);
    assert.deepEqual(readdirSync(cacheDir), [`keyring-2.1.2-linux-x64-gnu-${sha256(binary).slice(0, 16)}.node`]);
  });

  it('refuses a binary that does not match its SHA-256, before loading anything', () => {
    const dir = nativeDir(manifest(Buffer.from('the bytes the manifest describes')), binary);
    assert.throws(
      () => loadPackagedKeyring({ nativeDir: dir, cacheDir: join(tmp, 'c3'), fallback: noFallback, host: 'linux-x64', dlopen: () => assert.fail('loaded a damaged binary') }),
      (e: unknown) => e instanceof KeyringUnavailableError && e.reason === 'damaged',
    );
  });

  it('refuses a manifest that is not one the package script writes', () => {
    const dir = join(tmp, 'bad-manifest');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'keyring.json'), JSON.stringify({ target: 'linux-x64', binary: { file: '../../evil.node' } }));
    assert.throws(() => loadPackagedKeyring({ nativeDir: dir, cacheDir: join(tmp, 'c4'), fallback: noFallback, host: 'linux-x64' }), KeyringUnavailableError);
  });
});

describe('a development build (no dist/native)', () => {
  it('loads @napi-rs/keyring from node_modules, and a missing module is the backend health cause', async () => {
    const dir = nativeDir(undefined);
    assert.equal(loadPackagedKeyring({ nativeDir: dir, cacheDir: join(tmp, 'c5'), fallback: () => fakeModule }), fakeModule);
    const missing = () => {
      throw Object.assign(new Error("Cannot find module '@napi-rs/keyring'"), { code: 'MODULE_NOT_FOUND' });
    };
    const keyring = new KeyringBackend({ load: () => loadPackagedKeyring({ nativeDir: dir, cacheDir: join(tmp, 'c5'), fallback: missing }), platform: 'linux' });
    const health = await keyring.health();
    assert.equal(health.available, false);
    assert.match(health.cause ?? '', /could not be loaded: Cannot find module '@napi-rs\/keyring'/);
  });
});

describe('hostTarget', () => {
  it('names the VS Code target of a machine', () => {
    assert.equal(hostTarget('linux', 'x64', false), 'linux-x64');
    assert.equal(hostTarget('linux', 'x64', true), 'alpine-x64');
    assert.equal(hostTarget('linux', 'arm', false), 'linux-armhf');
    assert.equal(hostTarget('win32', 'arm64', false), 'win32-arm64');
    assert.equal(hostTarget('darwin', 'arm64', false), 'darwin-arm64');
  });
});
