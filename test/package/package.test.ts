/**
 * The packages: `npm run package -- --all-targets` builds one .vsix per platform VS Code publishes for
 * and the universal one; each is opened here and checked: within the size budget (LIMIT); exactly one keyring binary
 * (universal: none), whose header (ELF / Mach-O / PE, architecture, C library, float ABI) fits the
 * package's target and whose SHA-256 is the one its manifest records; every chunk a bundle requires
 * is in the package; no source maps, sources or node_modules. The package of this machine's platform
 * really loads its keyring module the way the extension does (unpacked from the package into a
 * cache dir), and the universal package says why it has none.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { brotliDecompressSync } from 'node:zlib';
import { after, before, test } from 'node:test';
import { binaryFacts, mismatches, TARGETS } from '../../scripts/binaryFormat';
import { readZip } from '../../scripts/zip';
import { hostTarget, KeyringUnavailableError, loadPackagedKeyring, nativeManifestSchema } from '../../extension/backends/keyringNative';

const root = join(__dirname, '..', '..');
/**
 * Issue 14's target: at most 1.5 MB per package, as vsce reports sizes (MB = 2^20 bytes). The launcher
 * (dist/cli/) requires the extension's chunks (zod, node-vault, the MCP SDK, jsonc-parser, dist/core.js)
 * instead of carrying copies of its own; the largest packages (linux-x64, alpine-x64) hold the 1 MB of
 * the brotli-compressed keyring binary.
 */
const LIMIT = 1.5 * 1024 * 1024;
const ALL = [...Object.keys(TARGETS), 'universal'];
const vsixOf = (t: string) => join(root, 'dist', `mcp-token-manager-${t}.vsix`);
const packages = new Map<string, ReturnType<typeof readZip>>();
const sizes = new Map<string, number>();
const work = mkdtempSync(join(tmpdir(), 'mcp-tokens-package-'));

before(() => {
  if (process.env.MCP_TOKENS_PACKAGE_PREBUILT !== '1') {
    const started = Date.now();
    const r = spawnSync(process.execPath, ['--import', 'tsx', 'scripts/package.ts', '--all-targets'], { cwd: root, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
    assert.equal(r.status, 0, `npm run package -- --all-targets failed:\n${r.stdout}\n${r.stderr}`);
    console.log(`[package] all ${ALL.length} packages built in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  }
  for (const t of ALL) {
    const bytes = readFileSync(vsixOf(t));
    sizes.set(t, bytes.length);
    packages.set(t, readZip(bytes));
  }
});
after(() => rmSync(work, { recursive: true, force: true }));

const nativeFiles = (t: string) => [...packages.get(t)!.keys()].filter((n) => /\.node(\.br)?$/.test(n) || /(^|\/)keyring[^/]*\.(node|dll|dylib|so)/.test(n));
const manifestOf = (t: string) => nativeManifestSchema.parse(JSON.parse(packages.get(t)!.get('extension/dist/native/keyring.json')!.bytes.toString('utf8')));

for (const target of ALL) {
  test(`${target}: at most 1.5 MB, one keyring binary of its platform (universal: none)`, () => {
    const entries = packages.get(target)!;
    const size = sizes.get(target)!;
    console.log(`[package] ${target}: ${size} bytes (${(size / 2 ** 20).toFixed(2)} MB)`);
    assert.ok(size <= LIMIT, `${target}: ${size} bytes > ${LIMIT}`);
    const vsixManifest = entries.get('extension.vsixmanifest')!.bytes.toString('utf8');
    const manifest = manifestOf(target);
    assert.equal(manifest.target, target);
    if (target === 'universal') {
      assert.deepEqual(nativeFiles(target), []);
      assert.equal(manifest.binary, undefined);
      assert.doesNotMatch(vsixManifest, /TargetPlatform=/);
      return;
    }
    assert.match(vsixManifest, new RegExp(`TargetPlatform="${target}"`));
    const binary = manifest.binary!;
    assert.equal(binary.triple, TARGETS[target].triple);
    assert.deepEqual(nativeFiles(target), [`extension/dist/native/${binary.file}`]);
    const bytes = brotliDecompressSync(entries.get(`extension/dist/native/${binary.file}`)!.bytes);
    assert.equal(bytes.length, binary.size);
    assert.equal(createHash('sha256').update(bytes).digest('hex'), binary.sha256);
    const facts = binaryFacts(bytes);
    assert.deepEqual(mismatches(facts, target), [], `${target}: ${JSON.stringify(facts)}`);
    assert.ok(entries.has('extension/dist/native/LICENSE.third-party.md'), 'the binary ships with its licenses');
    // Each license text once (scripts/licenses.ts), and every crate of the table still names its text.
    const licenses = entries.get('extension/dist/native/LICENSE.third-party.md')!.bytes.toString('utf8');
    const crates = [...licenses.matchAll(/^\| ([\w-]+) \| (\d[\w.+-]*) \| /gm)].map((m) => `${m[1]} ${m[2]}`);
    const usedBy = new Set([...licenses.matchAll(/^Used by: (.+)$/gm)].flatMap((m) => m[1].split(', ').map((c) => c.replace(/`/g, ''))));
    assert.ok(crates.length > 30, `${target}: the crate table`);
    assert.deepEqual(crates.filter((c) => !usedBy.has(c)), [], `${target}: crates without a license text`);
  });
}

test('every package holds the same bundles, every chunk they require, and nothing else of the build', () => {
  const bundles = (t: string) => [...packages.get(t)!.keys()].filter((n) => n.startsWith('extension/dist/') && !n.startsWith('extension/dist/native/')).sort();
  const universal = bundles('universal');
  for (const t of ALL) assert.deepEqual(bundles(t), universal, t);
  const entries = packages.get('universal')!;
  const launcherRequires = new Set<string>();
  for (const name of universal) {
    const text = entries.get(name)!.bytes.toString('utf8');
    if (name.startsWith('extension/dist/cli/')) {
      // The launcher: ESM, split per command, all in dist/cli/; every chunk it imports is in the
      // package, and so is every chunk of the extension's (dist/*.js) it requires.
      assert.match(name, /^extension\/dist\/cli\/[\w-]+\.mjs$/);
      for (const m of text.matchAll(/(?:from|import\()\s*"(\.\/[\w-]+\.mjs)"/g)) assert.ok(entries.has(`extension/dist/cli/${m[1].slice(2)}`), `${name} imports ${m[1]}, which is not in the package`);
      for (const m of text.matchAll(/\("\.\.\/([\w-]+\.js)"\)/g)) {
        assert.ok(entries.has(`extension/dist/${m[1]}`), `${name} requires ../${m[1]}, which is not in the package`);
        launcherRequires.add(m[1]);
      }
      continue;
    }
    assert.match(name, /^extension\/dist\/[\w-]+\.js$/);
    for (const m of text.matchAll(/require\("\.\/([\w-]+\.js)"\)/g)) assert.ok(entries.has(`extension/dist/${m[1]}`), `${name} requires ./${m[1]}, which is not in the package`);
  }
  // One copy of each library and of the extension's modules in the package: the launcher requires the
  // extension's (core.js brings zod and, on first use, node-vault) and holds only its own code.
  for (const shared of ['core.js', 'mcp-sdk.js', 'jsonc.js']) assert.ok(launcherRequires.has(shared), `the launcher requires ../${shared}`);
  const launcherBytes = universal.filter((n) => n.startsWith('extension/dist/cli/')).reduce((sum, n) => sum + entries.get(n)!.bytes.length, 0);
  assert.ok(launcherBytes < 64 * 1024, `the launcher's own files hold ${launcherBytes} bytes: a library bundled again?`);
  for (const must of ['extension/dist/extension.js', 'extension/dist/server.js', 'extension/dist/cli/mcp-tokens.mjs', 'extension/package.json', 'extension/package.nls.json', 'extension/l10n/bundle.l10n.json']) assert.ok(entries.has(must), must);
  for (const name of entries.keys()) assert.doesNotMatch(name, /\.map$|\.ts$|node_modules\/|^extension\/(test|extension|server|scripts)\//, name);
});

test('loading the extension bundle loads the shared chunks, and the lazy ones only on first use', () => {
  const dir = join(work, 'bundles');
  mkdirSync(dir, { recursive: true });
  for (const [name, { bytes }] of packages.get('universal')!) if (/^extension\/dist\/[\w-]+\.js$/.test(name)) writeFileSync(join(dir, name.slice('extension/dist/'.length)), bytes);
  // In a child process: `vscode` is a stub that answers everything; nothing is activated.
  const script = `
    const Module = require('node:module');
    const any = new Proxy(function () {}, { get: (_, k) => (k === Symbol.toPrimitive ? () => '' : any), apply: () => any, construct: () => any });
    // esbuild's interop copies a module's own keys onto an object inheriting from its prototype: answer through that.
    const stub = new Proxy({}, { get: () => any, getPrototypeOf: () => any });
    const load = Module._load;
    Module._load = function (request, ...rest) { return request === 'vscode' ? stub : load.call(this, request, ...rest); };
    const loaded = () => Object.keys(require.cache).map((p) => require('node:path').basename(p)).sort();
    const ext = require('./extension.js');
    const atLoad = loaded();
    // First use of node-vault's client factory (through the facade): its chunk loads then.
    const vault = require('./vault-client.js')['node-vault'];
    console.log(JSON.stringify({ activate: typeof ext.activate, atLoad, vaultFactory: typeof vault.default }));`;
  const r = spawnSync(process.execPath, ['-e', script], { cwd: dir, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout.trim().split('\n').pop()!) as { activate: string; atLoad: string[]; vaultFactory: string };
  assert.equal(out.activate, 'function');
  assert.deepEqual(out.atLoad, ['core.js', 'extension.js', 'jsonc.js', 'lsp.js', 'minimatch.js', 'zod.js']);
  assert.equal(out.vaultFactory, 'function');
});

test(`the package of this machine (${hostTarget()}) loads its keyring module as the extension does`, { skip: !TARGETS[hostTarget()] && 'not a published platform' }, () => {
  const host = hostTarget();
  const nativeDir = join(work, host, 'native');
  for (const [name, { bytes }] of packages.get(host)!) {
    if (!name.startsWith('extension/dist/native/')) continue;
    const file = join(nativeDir, name.slice('extension/dist/native/'.length));
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, bytes);
  }
  const cacheDir = join(work, host, 'cache');
  const fallback = () => assert.fail('the package has a manifest: no fallback');
  const mod = loadPackagedKeyring({ nativeDir, cacheDir, fallback });
  assert.equal(typeof mod.AsyncEntry, 'function');
  assert.ok(new mod.AsyncEntry('mcp-tokens-package-test', 'bearer:none'), 'an entry is made (no keyring call yet)');
  const [unpacked] = readdirSync(cacheDir);
  assert.match(unpacked, /^keyring-[\d.]+-[\w-]+-[0-9a-f]{16}\.node$/);
  const before = statSync(join(cacheDir, unpacked)).mtimeMs;
  // A second window loads the unpacked copy (checked again) rather than unpacking it anew.
  assert.equal(typeof loadPackagedKeyring({ nativeDir, cacheDir, fallback }).AsyncEntry, 'function');
  assert.deepEqual(readdirSync(cacheDir), [unpacked]);
  assert.equal(statSync(join(cacheDir, unpacked)).mtimeMs, before);
});

test('the universal package and a package of another platform say why the keyring cannot load', () => {
  const nativeDir = join(work, 'universal-native');
  mkdirSync(nativeDir, { recursive: true });
  writeFileSync(join(nativeDir, 'keyring.json'), packages.get('universal')!.get('extension/dist/native/keyring.json')!.bytes);
  const opts = { nativeDir, cacheDir: join(work, 'u-cache'), fallback: () => assert.fail('no fallback'), host: 'linux-x64' };
  assert.throws(() => loadPackagedKeyring(opts), (e: unknown) => e instanceof KeyringUnavailableError && e.reason === 'universal' && /universal package.*SecretStorage and Vault work.*linux-x64/s.test(e.message));
  const other = hostTarget() === 'win32-arm64' ? 'linux-x64' : 'win32-arm64';
  const otherDir = join(work, 'other-native');
  mkdirSync(otherDir, { recursive: true });
  writeFileSync(join(otherDir, 'keyring.json'), packages.get(other)!.get('extension/dist/native/keyring.json')!.bytes);
  assert.throws(
    () => loadPackagedKeyring({ ...opts, nativeDir: otherDir, host: hostTarget() }),
    (e: unknown) => e instanceof KeyringUnavailableError && e.reason === 'wrongPlatform' && e.message.includes(`built for ${other}`),
  );
});
