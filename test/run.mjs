// The one test entry point. `node test/run.mjs <suite>` where suite is one of the names below or
// `all`. Each suite is a list of node:test files run through tsx; suites with a `setup` run it first.
// Exits non-zero when any suite fails.
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
process.chdir(root);

function files(dir, suffix) {
  if (!existsSync(dir)) return [];
  const out = [];
  for (const entry of readdirSync(dir)) {
    const p = join(dir, entry);
    if (statSync(p).isDirectory()) out.push(...files(p, suffix));
    else if (p.endsWith(suffix)) out.push(relative(root, p));
  }
  return out.sort();
}

function run(cmd, args, env = {}) {
  console.log(`\n$ ${[cmd, ...args].join(' ')}`);
  const r = spawnSync(cmd, args, { stdio: 'inherit', env: { ...process.env, ...env } });
  return r.status === 0;
}

const nodeTest = (list, extra = [], env = {}) =>
  list.length === 0 ? true : run(process.execPath, ['--import', 'tsx', '--test', '--test-reporter=spec', ...extra, ...list], env);

/** The e2e tests install this private copy of the vsix: any build started meanwhile (npm run build, the lsp suite, the demo test) empties dist/. */
const E2E_VSIX = join(root, 'test-results', 'e2e', 'mcp-token-manager.vsix');
function copyVsix() {
  mkdirSync(dirname(E2E_VSIX), { recursive: true });
  copyFileSync('dist/mcp-token-manager.vsix', E2E_VSIX);
  return true;
}

/** Suites in the order `all` runs them: fast and pure first, the real VS Code last. */
const suites = {
  typecheck: () => run(process.execPath, ['node_modules/typescript/bin/tsc', '-p', '.', '--noEmit']),
  unit: () => nodeTest(files('test/unit', '.test.ts')),
  lsp: () => run(process.execPath, ['esbuild.mjs']) && nodeTest(files('test/lsp', '.test.ts')),
  fuzz: () => nodeTest(files('test/fuzz', '.test.ts')),
  keyring: () => !existsSync('test/keyring/run.sh') || run('bash', ['test/keyring/run.sh']),
  vault: () => nodeTest(files('test/vault', '.test.ts')),
  oauth: () => nodeTest(files('test/oauth', '.test.ts')),
  conformance: () => !existsSync('test/conformance/run.sh') || run('bash', ['test/conformance/run.sh']),
  e2e: () =>
    run('bash', ['test/e2e/setup.sh']) &&
    run('npm', ['run', '--silent', 'package']) &&
    copyVsix() &&
    nodeTest(files('test/e2e', '.e2e.ts'), ['--test-concurrency=1', '--test-timeout=900000'], { MCP_TOKENS_E2E_VSIX: E2E_VSIX }),
  bench: () => files('test/bench', '.bench.ts').every((f) => run(process.execPath, ['--import', 'tsx', '--expose-gc', f])),
};

const order = ['typecheck', 'unit', 'lsp', 'fuzz', 'keyring', 'vault', 'oauth', 'conformance', 'e2e'];
const wanted = process.argv.slice(2);
const names = wanted.length === 0 || wanted.includes('all') ? order : wanted;
const failed = [];
for (const name of names) {
  const suite = suites[name];
  if (!suite) {
    console.error(`Unknown suite "${name}". Suites: ${Object.keys(suites).join(', ')}, all.`);
    process.exit(2);
  }
  const started = Date.now();
  const ok = suite();
  console.log(`\n[suite ${name}] ${ok ? 'passed' : 'FAILED'} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  if (!ok) failed.push(name);
}
if (failed.length) {
  console.error(`\nFailed suites: ${failed.join(', ')}`);
  process.exit(1);
}
console.log(`\nAll suites passed: ${names.join(', ')}`);
