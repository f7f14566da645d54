// `npm run package` (node --import tsx scripts/package.ts): builds the bundles once (esbuild.mjs --production) and packs the .vsix of this
// machine's platform as dist/mcp-token-manager.vsix.
// `npm run package -- --all-targets`: also one package per platform VS Code publishes for
// (dist/mcp-token-manager-<target>.vsix, see TARGETS) and the universal one without a native module
// (dist/mcp-token-manager-universal.vsix), all on this one machine.
// `npm run package -- --target <t>` (repeatable, `universal` allowed): just those.
//
// Each platform package carries exactly one keyring binary: the `.node` file of the
// `@napi-rs/keyring-<triple>` package of its target (the version @napi-rs/keyring asks for), brotli-
// compressed, as dist/native/keyring.<triple>.node.br, with dist/native/keyring.json (target, SHA-256)
// and the binary's licenses; extension/backends/keyringNative.ts unpacks and loads it. The binary of
// this machine comes from node_modules; the others are fetched with `npm pack` into
// ~/.cache/mcp-tokens-keyring/<version>/ (or $MCP_TOKENS_KEYRING_CACHE), checked against the integrity
// package-lock.json records, and their compressed form is cached there too.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { brotliCompress, constants, gunzipSync } from 'node:zlib';
import { hostTarget, type NativeManifest } from '../extension/backends/keyringNative';
import { binaryFacts, mismatches, TARGETS } from './binaryFormat';
import { dedupeLicenseTexts } from './licenses';

const root = join(__dirname, '..');
process.chdir(root);
const log = (m: string) => console.log(`[package] ${m}`);
const fail = (m: string): never => {
  console.error(`[package] ${m}`);
  process.exit(1);
};

function run(cmd: string, args: string[]): void {
  const r = spawnSync(cmd, args, { stdio: ['ignore', 'inherit', 'inherit'] });
  if (r.status !== 0) fail(`${cmd} ${args.join(' ')} failed (${r.status ?? r.signal})`);
}

/** Files of a .tgz (npm pack's output): path → bytes. */
function untar(tgz: Buffer): Map<string, Buffer> {
  const tar = gunzipSync(tgz);
  const files = new Map<string, Buffer>();
  for (let o = 0; o + 512 <= tar.length; ) {
    const name = tar.toString('latin1', o, o + 100).replace(/\0.*$/s, '');
    if (!name) break;
    const size = parseInt(tar.toString('latin1', o + 124, o + 136).replace(/\0.*$/s, '').trim() || '0', 8);
    const type = tar[o + 156];
    if (type === 0 || type === 0x30) files.set(name, tar.subarray(o + 512, o + 512 + size));
    o += 512 + Math.ceil(size / 512) * 512;
  }
  return files;
}

const keyringPkg = JSON.parse(readFileSync('node_modules/@napi-rs/keyring/package.json', 'utf8'));
const lock = JSON.parse(readFileSync('package-lock.json', 'utf8'));
const cacheDir = join(process.env.MCP_TOKENS_KEYRING_CACHE || join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'mcp-tokens-keyring'), keyringPkg.version);

/** The files of `@napi-rs/keyring-<triple>` at the version @napi-rs/keyring asks for: node_modules, or npm pack (cached). */
function platformPackage(triple: string): { version: string; files: Map<string, Buffer> } {
  const name = `@napi-rs/keyring-${triple}`;
  const version: string = keyringPkg.optionalDependencies?.[name] ?? fail(`@napi-rs/keyring ${keyringPkg.version} has no optional dependency ${name}`);
  const installed = join('node_modules', name);
  if (existsSync(join(installed, 'package.json')) && JSON.parse(readFileSync(join(installed, 'package.json'), 'utf8')).version === version) {
    return { version, files: new Map(readdirSync(installed).map((f) => [f, readFileSync(join(installed, f))])) };
  }
  const integrity: string | undefined = lock.packages?.[`node_modules/${name}`]?.integrity;
  if (!integrity?.startsWith('sha512-')) fail(`package-lock.json records no sha512 integrity for ${name}`);
  mkdirSync(cacheDir, { recursive: true });
  const tgz = join(cacheDir, `napi-rs-keyring-${triple}-${version}.tgz`);
  if (!existsSync(tgz)) {
    log(`npm pack ${name}@${version}`);
    run('npm', ['pack', '--silent', `${name}@${version}`, '--pack-destination', cacheDir]);
  }
  const bytes = readFileSync(tgz);
  if (`sha512-${createHash('sha512').update(bytes).digest('base64')}` !== integrity) {
    rmSync(tgz, { force: true });
    fail(`${tgz} does not match the integrity package-lock.json records for ${name}@${version}; deleted it, run again`);
  }
  const files = new Map([...untar(bytes)].map(([p, b]) => [p.replace(/^package\//, ''), b]));
  return { version, files };
}

/** The compressed binary (cached by content), its facts checked against the target. */
interface Native {
  triple: string;
  version: string;
  file: string;
  sha256: string;
  size: number;
  compressed: Buffer;
  licenses: Buffer | undefined;
}

async function nativeFor(target: string): Promise<Native> {
  const { triple } = TARGETS[target];
  const { version, files } = platformPackage(triple);
  const file = `keyring.${triple}.node`;
  const binary = files.get(file) ?? fail(`@napi-rs/keyring-${triple}@${version} has no ${file}`);
  const facts = binaryFacts(binary);
  const wrong = mismatches(facts, target);
  if (wrong.length) fail(`${file} does not fit ${target}: ${wrong.join('; ')}`);
  const sha256 = createHash('sha256').update(binary).digest('hex');
  mkdirSync(cacheDir, { recursive: true });
  const cached = join(cacheDir, `${file}.${sha256.slice(0, 16)}.br`);
  let compressed: Buffer;
  if (existsSync(cached)) compressed = readFileSync(cached);
  else {
    const started = Date.now();
    // The best brotli level only where it is needed to stay under 1.5 MB: the 3 MB Linux binaries.
    compressed = await promisify(brotliCompress)(binary, {
      params: { [constants.BROTLI_PARAM_QUALITY]: facts.format === 'elf' ? 11 : 9, [constants.BROTLI_PARAM_LGWIN]: 24, [constants.BROTLI_PARAM_SIZE_HINT]: binary.length },
    });
    writeFileSync(cached, compressed);
    log(`compressed ${file}: ${binary.length} → ${compressed.length} bytes in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  }
  return { triple, version, file, sha256, size: binary.length, compressed, licenses: files.get('LICENSE.third-party.md') };
}

/** dist/native/ for one target (or the universal package). */
function stage(native: Native | undefined, target: string): void {
  rmSync('dist/native', { recursive: true, force: true });
  mkdirSync('dist/native', { recursive: true });
  if (!native) {
    writeFileSync('dist/native/keyring.json', JSON.stringify({ target: 'universal' } satisfies NativeManifest, null, 2) + '\n');
    return;
  }
  writeFileSync(`dist/native/${native.file}.br`, native.compressed);
  const manifest: NativeManifest = { target, binary: { file: `${native.file}.br`, triple: native.triple, version: native.version, sha256: native.sha256, size: native.size } };
  writeFileSync('dist/native/keyring.json', JSON.stringify(manifest, null, 2) + '\n');
  copyFileSync('node_modules/@napi-rs/keyring/LICENSE', 'dist/native/LICENSE');
  // Every crate's license, each text once (scripts/licenses.ts): the Linux binaries' file repeats the Apache License.
  if (native.licenses) writeFileSync('dist/native/LICENSE.third-party.md', dedupeLicenseTexts(native.licenses.toString('utf8')));
}

/**
 * README-only images are not in the package (.vscodeignore): with a `repository` in package.json vsce
 * points the README's relative links and images at it (as the Marketplace shows them); without one
 * they stay relative.
 */
const hasRepository = Boolean(JSON.parse(readFileSync('package.json', 'utf8')).repository);

function vsce(target: string, out: string): void {
  const args = ['node_modules/@vscode/vsce/vsce', 'package', '--no-dependencies', ...(hasRepository ? [] : ['--no-rewrite-relative-links', '--allow-missing-repository']), '--out', out];
  if (target !== 'universal') args.push('--target', target);
  run(process.execPath, args);
}

// ---- main --------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const host = hostTarget();
  const wanted = argv.includes('--all-targets')
    ? [...Object.keys(TARGETS), 'universal']
    : argv.flatMap((a, i) => (argv[i - 1] === '--target' ? [a] : []));
  for (const t of wanted) if (t !== 'universal' && !TARGETS[t]) fail(`unknown target ${t}; targets: ${Object.keys(TARGETS).join(', ')}, universal`);
  if (!TARGETS[host]) log(`this machine (${host}) is not a target VS Code publishes for: dist/mcp-token-manager.vsix is the universal package`);
  const hostPackage = TARGETS[host] ? host : 'universal';

  run(process.execPath, ['esbuild.mjs', '--production']);
  const targets = [...new Set([hostPackage, ...wanted])];
  const natives = new Map(await Promise.all(targets.filter((t) => t !== 'universal').map(async (t) => [t, await nativeFor(t)] as const)));
  for (const target of targets) {
    stage(natives.get(target), target);
    const outs: string[] = [];
    if (target === hostPackage) outs.push('dist/mcp-token-manager.vsix');
    if (wanted.includes(target)) outs.push(`dist/mcp-token-manager-${target}.vsix`);
    vsce(target, outs[0]);
    for (const extra of outs.slice(1)) copyFileSync(outs[0], extra);
  }
  stage(natives.get(hostPackage), hostPackage); // dist/ as the host package has it, for a development host started from dist/
}

main().catch((e) => fail(e instanceof Error ? (e.stack ?? e.message) : String(e)));
