// Bundles the extension host, the language server and the mcp-tokens launcher into dist/.
// `--production` minifies and drops source maps; `--watch` rebuilds on change. `--launcher-only
// --outdir=DIR` builds only the launcher, into DIR/cli/ with the chunks it requires in DIR/ and the keyring module in DIR/node_modules
// (the launcher tests build their own copy this way, with the same options as dist/). The native keyring module is not bundled here: the
// package script (scripts/package.ts) puts the binary of each target platform into dist/native/.
//
// dist/ holds, besides extension.js and server.js, chunks that are CommonJS bundles of their own:
// - shared chunks (SHARED): one copy of a library both processes use (zod, the LSP protocol, minimatch,
//   jsonc-parser),
//   required when the bundle starts;
// - lazy chunks (LAZY): what most sessions never run (node-vault and axios, the MCP SDK's OAuth client,
//   secretlint's rule preset), required on first use: the main bundle holds a small facade per module
//   whose properties load the chunk when first read (a call, `instanceof`, a constant), not before;
// - core.js (CORE): the extension's own modules the mcp-tokens launcher uses too, so that the package
//   holds one copy; the launcher (dist/cli/) requires it and the chunks above from `../`.
import * as esbuild from 'esbuild';
import { chmodSync, cpSync, existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative, resolve, sep } from 'node:path';

const production = process.argv.includes('--production');
const watch = process.argv.includes('--watch');
const require = createRequire(import.meta.url);
const root = dirname(new URL(import.meta.url).pathname);
const launcherOnly = process.argv.includes('--launcher-only');
const out = process.argv.find((a) => a.startsWith('--outdir='))?.slice('--outdir='.length) || 'dist';

/** Chunk file (in dist/) → the module specifiers it serves. */
const SHARED = {
  'zod.js': ['zod', 'zod/v4'],
  'lsp.js': [
    'vscode-jsonrpc',
    'vscode-jsonrpc/node',
    'vscode-languageserver-protocol',
    'vscode-languageserver-protocol/node',
    'vscode-languageserver-types',
  ],
  'minimatch.js': ['minimatch'],
  'jsonc.js': ['jsonc-parser'],
};
const LAZY = {
  'vault-client.js': ['node-vault'],
  'mcp-sdk.js': [
    '@modelcontextprotocol/sdk/client/auth.js',
    '@modelcontextprotocol/sdk/shared/auth-utils.js',
    '@modelcontextprotocol/sdk/shared/auth.js',
    '@modelcontextprotocol/sdk/types.js',
    '@modelcontextprotocol/sdk/server/auth/errors.js',
    // The launcher's `proxy` (extension/launcher/proxy.ts); they import client/auth.js and types.js above.
    '@modelcontextprotocol/sdk/server/stdio.js',
    '@modelcontextprotocol/sdk/client/streamableHttp.js',
  ],
  'secretlint.js': ['@secretlint/core', '@secretlint/profiler', '@secretlint/secretlint-rule-preset-recommend'],
};
/**
 * The extension's own modules the launcher uses too (extension/cli.ts loads them: the keyring and Vault
 * backends, the TokenStore, OAuth refresh, the audit log, the channel's wire): they and every module
 * they import (`coreModules`, found by bundling them) are one CommonJS chunk, dist/core.js, required by
 * extension.js at activation and by the launcher's chunks when a command first needs a backend.
 */
const CORE = [
  'extension/backends/keyring.ts',
  'extension/backends/mcpCliRegistry.ts',
  'extension/backends/keyringNative.ts',
  'extension/backends/vault.ts',
  'extension/oauth/manager.ts',
  'extension/store/memoryStore.ts',
  'extension/store/tokenStore.ts',
  'extension/platform/audit.ts',
  'extension/launcher/channelProtocol.ts',
];
const chunkOf = new Map(Object.entries({ ...SHARED, ...LAZY }).flatMap(([file, specs]) => specs.map((s) => [s, file])));
const lazySpecs = new Set(Object.values(LAZY).flat());
const escape = (s) => s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

/**
 * Drops what the bundles carry but never run:
 * - zod's 40 message locales (≈ 260 KB minified per bundle): `zod` exports them all as `z.locales`,
 *   which defeats tree shaking; only English is used (and registered by zod itself);
 * - axios' `form-data` dependency (with mime-db, ≈ 140 KB): node-vault sends JSON only, and axios falls
 *   back to Node's own FormData where it needs one (as its browser build does);
 * - node-forge inside secretlint's preset (see below).
 */
const dropUnused = {
  name: 'drop-unused',
  setup(build) {
    build.onResolve({ filter: /\/locales\/index\.js$/ }, (args) =>
      /[\\/]node_modules[\\/]zod[\\/]/.test(args.importer) ? { path: resolve(args.resolveDir, args.path), namespace: 'zod-locales' } : undefined,
    );
    build.onLoad({ filter: /.*/, namespace: 'zod-locales' }, (args) => ({
      contents: `export { default as en } from ${JSON.stringify(join(dirname(args.path), 'en.js'))};`,
      resolveDir: dirname(args.path),
    }));
    build.onResolve({ filter: /^form-data$/ }, () => ({ path: 'form-data', namespace: 'no-form-data' }));
    build.onLoad({ filter: /.*/, namespace: 'no-form-data' }, () => ({ contents: 'module.exports = null;', loader: 'js' }));
    build.onLoad({ filter: /secretlint-rule-preset-recommend[\\/]module[\\/]index-\w+\.js$/ }, (args) => {
      const text = readFileSync(args.path, 'utf8');
      if (!text.includes('Node.js module for Forge')) return undefined;
      // node-forge (≈ 200 KB minified): secretlint's GCP rule imports it only to open `.p12` files, and the
      // language server lints one in-memory text named `mcp-config-values.txt`. The rule catches the error.
      return { contents: `export const i = { get default() { throw new Error('node-forge is not bundled'); } };`, loader: 'js' };
    });
  },
};

/**
 * Resolves the specifiers of other chunks (not those of `own`, the chunk being built) to the chunk
 * file in dist/ (`base`: the way from the bundle's folder to dist/, `./` for dist/ itself): a shared
 * chunk directly, a lazy one through a facade (`facades`, built by `buildFacades` once the lazy chunks
 * exist, for the same `base`).
 */
function chunks(own = [], facades = new Map(), base = './') {
  const specs = [...chunkOf.keys()].filter((s) => !own.includes(s));
  return {
    name: 'chunks',
    setup(build) {
      if (specs.length === 0) return;
      build.onResolve({ filter: new RegExp(`^(${specs.map(escape).join('|')})$`) }, (args) => ({ path: args.path, namespace: 'chunk' }));
      build.onResolve({ filter: /^(\.\.?\/)+[\w-]+\.js$/, namespace: 'chunk' }, (args) => ({ path: args.path, external: true }));
      build.onLoad({ filter: /.*/, namespace: 'chunk' }, (args) => {
        const file = chunkOf.get(args.path);
        // A namespace object: `__esModule` so that a default import gets the module's default export.
        if (!lazySpecs.has(args.path))
          return { contents: `module.exports = Object.defineProperty({ ...require(${JSON.stringify(`${base}${file}`)})[${JSON.stringify(args.path)}] }, '__esModule', { value: true });`, loader: 'js' };
        const facade = facades.get(args.path);
        if (!facade) throw new Error(`no facade for ${args.path} (build the lazy chunks first)`);
        return { contents: facade, loader: 'js' };
      });
    },
  };
}

/** The source files (relative to the checkout, `/`-separated) that bundling CORE takes in: dist/core.js holds each. */
async function coreModules(facades) {
  const r = await esbuild.build({ ...common, entryPoints: { core: 'core-entry' }, external: ['@napi-rs/keyring'], write: false, outdir: 'dist', metafile: true, logLevel: 'silent', plugins: [dropUnused, coreEntry(CORE), chunks([], facades)] });
  return new Set(Object.keys(r.metafile.inputs).filter((p) => !p.includes(':') && !p.startsWith('node_modules/') && /\.(ts|js|mjs|json)$/.test(p)));
}

/** dist/core.js's entry: its exports are named by source path, each the namespace of that module. */
const coreEntry = (paths) => chunkEntry([...paths], { id: 'core-entry', from: (p) => `./${p}` });

/**
 * Resolves an import of a module dist/core.js holds (`modules`) to that chunk (`base`: the way from the
 * bundle's folder to dist/), so that the bundle and the chunk share one instance of each (its classes,
 * its state) and carry one copy. For an ESM bundle (the launcher) `names` gives each module's export
 * names: the module becomes an ESM one re-exporting them (esbuild's split ESM output imports a
 * CommonJS module dynamically as its `default` only); none of them is reassigned after loading.
 * `shared(path)` narrows which of them the bundle takes from core.js.
 */
function core(modules, base = './', names = undefined, shared = () => true) {
  return {
    name: 'core',
    setup(build) {
      build.onResolve({ filter: /^\.\.?\// }, async (args) => {
        if (args.namespace !== 'file' || args.pluginData?.core) return undefined;
        const r = await build.resolve(args.path, { kind: args.kind, importer: args.importer, resolveDir: args.resolveDir, pluginData: { core: true } });
        if (r.errors.length > 0 || r.external) return undefined;
        const path = relative(root, r.path).split(sep).join('/');
        return modules.has(path) && shared(path) ? { path, namespace: 'core' } : undefined;
      });
      build.onResolve({ filter: /^(\.\.?\/)+core\.js$/, namespace: 'core' }, (args) => ({ path: args.path, external: true }));
      build.onLoad({ filter: /.*/, namespace: 'core' }, (args) => {
        const ns = `require(${JSON.stringify(`${base}core.js`)})[${JSON.stringify(args.path)}]`;
        if (names) {
          const keys = names.get(args.path) ?? [];
          return { contents: keys.length ? `const ns = ${ns};\nexport const { ${keys.join(', ')} } = ns;` : `${ns};\nexport {};`, loader: 'js' };
        }
        // The module's namespace as it is (getters: live bindings), `__esModule` so that esbuild's interop reads it as ESM.
        return { contents: `const ns = ${ns};\nif (!ns.__esModule) Object.defineProperty(ns, '__esModule', { value: true });\nmodule.exports = ns;`, loader: 'js' };
      });
    },
  };
}

/** The export names of each module of the built dist/core.js in `outdir`. */
function coreNames(outdir) {
  const path = resolve(outdir, 'core.js');
  delete require.cache[path];
  return new Map(Object.entries(require(path)).map(([p, ns]) => [p, Object.keys(ns).filter((k) => k !== '__esModule')]));
}

/** A chunk's entry (`id`): its exports are named by specifier, each the namespace of that module (imported `from(specifier)`). */
function chunkEntry(specs, { id = 'chunk-entry', from = (s) => s } = {}) {
  return {
    name: id,
    setup(build) {
      build.onResolve({ filter: new RegExp(`^${id}$`) }, () => ({ path: id, namespace: id }));
      build.onLoad({ filter: /.*/, namespace: id }, () => ({
        // ESM imports, so that esbuild shakes what no one uses out of ESM packages (zod).
        contents: specs.map((s, i) => `import * as m${i} from ${JSON.stringify(from(s))};\nexport { m${i} as ${JSON.stringify(s)} };`).join('\n'),
        resolveDir: root,
        loader: 'js',
      }));
    },
  };
}

/**
 * The facade of each lazily loaded module, from the built chunk's real exports: a getter per export
 * (`default` too, e.g. node-vault's client factory) that requires the chunk when first read.
 */
function buildFacades(outdir, base = './') {
  const facades = new Map();
  for (const [file, specs] of Object.entries(LAZY)) {
    const path = resolve(outdir, file);
    delete require.cache[path];
    const loaded = require(path);
    for (const spec of specs) {
      const mod = loaded[spec];
      const load = `let m; const load = () => (m ??= require(${JSON.stringify(`${base}${file}`)})[${JSON.stringify(spec)}]);`;
      const keys = Object.keys(mod).filter((k) => k !== '__esModule');
      facades.set(
        spec,
        `${load}\nObject.defineProperty(module.exports, '__esModule', { value: true });\n` +
          `for (const k of ${JSON.stringify(keys)}) Object.defineProperty(module.exports, k, { enumerable: true, get: () => load()[k] });`,
      );
    }
  }
  return facades;
}

/** @type {esbuild.BuildOptions} */
const common = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  sourcemap: production ? false : 'linked',
  minify: production,
  logLevel: 'info',
  legalComments: 'none',
  // One tsconfig for every file: the boundary projects (server/, extension/) map forbidden imports to a
  // stub for the type checker only.
  tsconfig: 'tsconfig.json',
  // Prefer ESM builds: UMD ones (jsonc-parser, vscode-json-languageservice) load their parts with a
  // dynamic require('./impl/…') that a bundle cannot resolve ("Cannot find module './impl/format'").
  mainFields: ['module', 'main'],
};

const chunkBuilds = (group, outdir = 'dist') =>
  Object.entries(group).map(([file, specs]) => ({
    ...common,
    entryPoints: { [file.replace(/\.js$/, '')]: 'chunk-entry' },
    outdir,
    plugins: [dropUnused, chunkEntry(specs), chunks(specs)],
  }));
const coreBuild = (outdir, modules, facades) => ({ ...common, entryPoints: { core: 'core-entry' }, outdir, external: ['@napi-rs/keyring'], plugins: [dropUnused, coreEntry(modules), chunks([], facades)] });
const mainBuilds = (facades, launcherFacades, modules) =>
  [
    { ...common, entryPoints: { extension: 'extension/extension.ts' }, outdir: 'dist', external: ['vscode', '@napi-rs/keyring'], plugins: [dropUnused, core(modules), chunks([], facades)] },
    { ...common, entryPoints: { server: 'server/server.ts' }, outdir: 'dist', plugins: [dropUnused, chunks([], facades)] },
    // The OAuth command-line client (conformance suite, debugging): one self-contained bundle in dist/cli/, not shipped in the .vsix.
    { ...common, entryPoints: { 'mcp-tokens-oauth-cli': 'extension/oauth/cli.ts' }, outdir: 'dist/cli', plugins: [dropUnused] },
    launcherBuild('dist', launcherFacades, modules),
  ].filter((b) => Object.values(b.entryPoints).every((p) => existsSync(p)));

/**
 * The mcp-tokens launcher (docs/launcher.md): shipped in the .vsix and as the package's `bin`. ESM,
 * split per command: `run` loads a small part of the code, `proxy` the MCP SDK, Vault its client only
 * when configured; `require` is given to the chunks for the CommonJS dependencies and the native
 * module. Its libraries are the extension's chunks in dist/ (zod, node-vault, the MCP SDK, …: one copy
 * in the package), required from `../` as the extension requires them from `./`, through the same
 * facades: so every file of the launcher sits in dist/cli/ (`chunkNames` without a folder). The keyring
 * module stays external: in a package the launcher unpacks dist/native/ as the extension does
 * (extension/backends/keyringNative.ts); in a checkout or an `npm install -g` it loads
 * `@napi-rs/keyring` from node_modules.
 */
const launcherBuild = (outdir, facades, modules) => ({
  ...common,
  entryPoints: { 'mcp-tokens': 'extension/cli.ts' },
  outdir: join(outdir, 'cli'),
  external: ['vscode', '@napi-rs/keyring'],
  format: 'esm',
  splitting: true,
  outExtension: { '.js': '.mjs' },
  chunkNames: '[name]-[hash]',
  // server/core/'s pure functions (reference grammar, error text, model schemas: no class, no state) stay
  // the launcher's own, so that `run` without a reference loads neither core.js nor zod.
  plugins: [dropUnused, core(modules, '../', coreNames(outdir), (p) => p.startsWith('extension/')), chunks([], facades, '../')],
  banner: { js: "import { createRequire as __mcpTokensCreateRequire } from 'node:module'; const require = __mcpTokensCreateRequire(import.meta.url);" },
});

/** For `--launcher-only` copies outside the checkout: the keyring package and its platform binary beside them. */
function copyNative(outdir) {
  const pkgJson = require.resolve('@napi-rs/keyring/package.json');
  const to = join(outdir, 'node_modules', '@napi-rs', 'keyring');
  rmSync(to, { recursive: true, force: true });
  mkdirSync(dirname(to), { recursive: true });
  cpSync(dirname(pkgJson), to, { recursive: true });
  for (const dep of Object.keys(require(pkgJson).optionalDependencies ?? {})) {
    const depDir = join('node_modules', dep);
    if (existsSync(depDir)) cpSync(depDir, join(outdir, 'node_modules', dep), { recursive: true });
  }
}

/** The chunks (shared first: the lazy chunks require them when their facades are built, then dist/core.js), into `outdir`; returns the facades (for bundles in `outdir`) and core.js's modules. */
async function buildChunks(outdir) {
  await Promise.all(chunkBuilds(SHARED, outdir).map((b) => esbuild.build(b)));
  await Promise.all(chunkBuilds(LAZY, outdir).map((b) => esbuild.build(b)));
  const facades = buildFacades(outdir);
  const modules = await coreModules(facades);
  await esbuild.build(coreBuild(outdir, modules, facades));
  return { facades, modules };
}

if (launcherOnly) {
  // The launcher with the chunks it requires (DIR/*.js), as dist/ has them.
  rmSync(join(out, 'cli'), { recursive: true, force: true });
  const { modules } = await buildChunks(out);
  await esbuild.build(launcherBuild(out, buildFacades(out, '../'), modules));
  copyNative(out);
  chmodSync(join(out, 'cli', 'mcp-tokens.mjs'), 0o755);
  process.exit(0);
}

if (!watch) rmSync('dist', { recursive: true, force: true });
// The chunks, then the bundles that use them.
const { facades, modules } = await buildChunks('dist');
const main = mainBuilds(facades, buildFacades('dist', '../'), modules);
if (watch) {
  // core.js too: extension.js takes those modules from it (a new import or export there needs a restart).
  for (const b of [coreBuild('dist', modules, facades), ...main]) await (await esbuild.context(b)).watch();
} else {
  await Promise.all(main.map((b) => esbuild.build(b)));
  chmodSync(join('dist', 'cli', 'mcp-tokens.mjs'), 0o755);
}
