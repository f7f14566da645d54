// Bundles the extension host and the language server into dist/. `--production` minifies and drops
// source maps; `--watch` rebuilds on change.
import * as esbuild from 'esbuild';
import { cpSync, existsSync, mkdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createRequire } from 'node:module';

const production = process.argv.includes('--production');
const watch = process.argv.includes('--watch');
const require = createRequire(import.meta.url);

/** Native modules cannot be bundled: they stay external and are copied beside the bundle. */
const NATIVE = ['@napi-rs/keyring'];

function copyNative() {
  for (const pkg of NATIVE) {
    const pkgJson = require.resolve(`${pkg}/package.json`);
    const from = dirname(pkgJson);
    const to = join('dist', 'node_modules', pkg);
    rmSync(to, { recursive: true, force: true });
    mkdirSync(dirname(to), { recursive: true });
    cpSync(from, to, { recursive: true });
    // The platform package holding the .node binary (e.g. @napi-rs/keyring-linux-x64-gnu).
    for (const dep of Object.keys(require(pkgJson).optionalDependencies ?? {})) {
      const depDir = join('node_modules', dep);
      if (existsSync(depDir)) cpSync(depDir, join('dist', 'node_modules', dep), { recursive: true });
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

const builds = [
  { ...common, entryPoints: { extension: 'extension/extension.ts' }, outdir: 'dist', external: ['vscode', ...NATIVE] },
  { ...common, entryPoints: { server: 'server/server.ts' }, outdir: 'dist', external: [] },
  // The OAuth command-line client (conformance suite, debugging); in dist/cli/, not shipped in the .vsix.
  { ...common, entryPoints: { 'mcp-tokens-oauth-cli': 'extension/oauth/cli.ts' }, outdir: 'dist/cli', external: [] },
].filter((b) => Object.values(b.entryPoints).every((p) => existsSync(p)));

if (watch) {
  copyNative();
  for (const b of builds) await (await esbuild.context(b)).watch();
} else {
  rmSync('dist', { recursive: true, force: true });
  await Promise.all(builds.map((b) => esbuild.build(b)));
  copyNative();
}
