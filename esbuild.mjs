// Bundles the extension host, the language server and the mcp-tokens launcher into dist/.
// `--production` minifies and drops source maps; `--watch` rebuilds on change. `--launcher-only
// --outdir=DIR` builds only the launcher, into DIR/cli/ with its native module in DIR/node_modules
// (the launcher tests build their own copy this way, the same config as dist/).
import * as esbuild from 'esbuild';
import { chmodSync, cpSync, existsSync, mkdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createRequire } from 'node:module';

const production = process.argv.includes('--production');
const watch = process.argv.includes('--watch');
const require = createRequire(import.meta.url);
const launcherOnly = process.argv.includes('--launcher-only');
const out = process.argv.find((a) => a.startsWith('--outdir='))?.slice('--outdir='.length) || 'dist';

/** Native modules cannot be bundled: they stay external and are copied beside the bundle. */
const NATIVE = ['@napi-rs/keyring'];

function copyNative() {
  for (const pkg of NATIVE) {
    const pkgJson = require.resolve(`${pkg}/package.json`);
    const from = dirname(pkgJson);
    const to = join(out, 'node_modules', pkg);
    rmSync(to, { recursive: true, force: true });
    mkdirSync(dirname(to), { recursive: true });
    cpSync(from, to, { recursive: true });
    // The platform package holding the .node binary (e.g. @napi-rs/keyring-linux-x64-gnu).
    for (const dep of Object.keys(require(pkgJson).optionalDependencies ?? {})) {
      const depDir = join('node_modules', dep);
      if (existsSync(depDir)) cpSync(depDir, join(out, 'node_modules', dep), { recursive: true });
    }
  }
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

const all = [
  { ...common, entryPoints: { extension: 'extension/extension.ts' }, outdir: out, external: ['vscode', ...NATIVE] },
  { ...common, entryPoints: { server: 'server/server.ts' }, outdir: out, external: [] },
  // The mcp-tokens launcher (docs/launcher.md): shipped in the .vsix and as the package's `bin`. The
  // keyring's native module stays external and loads from dist/node_modules, like the extension's.
  // ESM, split per command: `run` loads a small part of the code, `proxy` the MCP SDK, Vault its client
  // only when configured. `require` is given to the chunks for the CommonJS dependencies and the
  // native module.
  {
    ...common,
    entryPoints: { 'mcp-tokens': 'extension/cli.ts' },
    outdir: join(out, 'cli'),
    external: ['vscode', ...NATIVE],
    format: 'esm',
    splitting: true,
    outExtension: { '.js': '.mjs' },
    chunkNames: 'chunks/[name]-[hash]',
    banner: { js: "import { createRequire as __mcpTokensCreateRequire } from 'node:module'; const require = __mcpTokensCreateRequire(import.meta.url);" },
  },
  // The OAuth command-line client (conformance suite, debugging); in dist/cli/, not shipped in the .vsix.
  { ...common, entryPoints: { 'mcp-tokens-oauth-cli': 'extension/oauth/cli.ts' }, outdir: join(out, 'cli'), external: [] },
].filter((b) => Object.values(b.entryPoints).every((p) => existsSync(p)));
const builds = launcherOnly ? all.filter((b) => 'mcp-tokens' in b.entryPoints) : all;

if (watch) {
  copyNative();
  for (const b of builds) await (await esbuild.context(b)).watch();
} else {
  rmSync(launcherOnly ? join(out, 'cli') : out, { recursive: true, force: true });
  await Promise.all(builds.map((b) => esbuild.build(b)));
  copyNative();
  if (existsSync(join(out, 'cli', 'mcp-tokens.mjs'))) chmodSync(join(out, 'cli', 'mcp-tokens.mjs'), 0o755);
}
