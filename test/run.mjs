// The one test entry point. `node test/run.mjs <suite>` where suite is one of the names below or
// `all`. Each suite is a list of node:test files run through tsx; suites with a `setup` run it first.
// Exits non-zero when any suite fails, and ends with one line counting every test of the run.
import { spawn } from 'node:child_process';
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

/** Tests counted from the runners' own summaries (node's `ℹ pass N`, the conformance suite's scenario lines). */
const counts = { passed: 0, failed: 0 };
function count(line) {
  const node = /^ℹ (pass|fail) (\d+)$/.exec(line);
  if (node) counts[node[1] === 'pass' ? 'passed' : 'failed'] += Number(node[2]);
  else if (/^✓ auth\/\S+: \d+ passed/.test(line)) counts.passed++;
  else if (/^[✗✖] auth\/\S+:/.test(line)) counts.failed++;
}

/** Runs a command, streaming its output through (and counting test summaries); resolves true on exit 0. */
function run(cmd, args, env = {}) {
  console.log(`\n$ ${[cmd, ...args].join(' ')}`);
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { stdio: ['inherit', 'pipe', 'inherit'], env: { ...process.env, ...env } });
    let pending = '';
    child.stdout.on('data', (chunk) => {
      process.stdout.write(chunk);
      const lines = (pending + chunk.toString()).split('\n');
      pending = lines.pop();
      for (const line of lines) count(line.trimEnd());
    });
    child.on('error', (e) => {
      console.error(`Could not start ${cmd}: ${e.message}`);
      resolve(false);
    });
    child.on('close', (code) => {
      if (pending) count(pending.trimEnd());
      resolve(code === 0);
    });
  });
}

/** Runs steps in order, stopping at the first that fails. */
async function all(...steps) {
  for (const step of steps) if (!(await step())) return false;
  return true;
}

/** Runs every step; true when all passed. */
async function every(...steps) {
  let ok = true;
  for (const step of steps) if (!(await step())) ok = false;
  return ok;
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

/**
 * The TypeScript projects the typecheck suite compiles: everything (tests included), then the three
 * boundary projects, in which a crossing import fails to compile (README, Development).
 */
const PROJECTS = ['tsconfig.json', 'server/tsconfig.json', 'extension/tsconfig.json', 'tsconfig.core.json'];

/** Suites in the order `all` runs them: fast and pure first, the real VS Code last. */
const suites = {
  typecheck: () => all(...PROJECTS.map((p) => () => run(process.execPath, ['node_modules/typescript/bin/tsc', '-p', p, '--noEmit']))),
  unit: () => nodeTest(files('test/unit', '.test.ts')),
  lsp: () => all(() => run(process.execPath, ['esbuild.mjs']), () => nodeTest(files('test/lsp', '.test.ts'))),
  // Builds every platform's .vsix (npm run package -- --all-targets) and checks each.
  package: () => nodeTest(files('test/package', '.test.ts')),
  fuzz: () => nodeTest(files('test/fuzz', '.test.ts')),
  keyring: () => !existsSync('test/keyring/run.sh') || run('bash', ['test/keyring/run.sh']),
  vault: () => nodeTest(files('test/vault', '.test.ts')),
  launcher: () => nodeTest(files('test/launcher', '.test.ts')),
  oauth: () => nodeTest(files('test/oauth', '.test.ts')),
  verify: () => nodeTest(files('test/verify', '.test.ts')),
  conformance: () => !existsSync('test/conformance/run.sh') || run('bash', ['test/conformance/run.sh']),
  e2e: () =>
    all(
      () => run('bash', ['test/e2e/setup.sh']),
      () => run('npm', ['run', '--silent', 'package']),
      async () => copyVsix(),
      () => nodeTest(files('test/e2e', '.e2e.ts'), ['--test-concurrency=1', '--test-timeout=900000'], { MCP_TOKENS_E2E_VSIX: E2E_VSIX }),
    ),
  // Every benchmark runs (a FAIL does not stop the others); the real-VS-Code one needs the .vsix.
  bench: () =>
    every(
      ...files('test/bench', '.bench.ts')
        .filter((f) => !f.endsWith('vscode.bench.ts'))
        .map((f) => () => run(process.execPath, ['--import', 'tsx', '--expose-gc', f])),
      () =>
        all(
          () => run('bash', ['test/e2e/setup.sh']),
          () => run('npm', ['run', '--silent', 'package']),
          async () => copyVsix(),
          () => run(process.execPath, ['--import', 'tsx', 'test/bench/vscode.bench.ts'], { MCP_TOKENS_E2E_VSIX: E2E_VSIX }),
        ),
    ),
};

const order = ['typecheck', 'unit', 'lsp', 'package', 'fuzz', 'keyring', 'vault', 'launcher', 'oauth', 'verify', 'conformance', 'e2e'];
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
  const ok = await suite();
  console.log(`\n[suite ${name}] ${ok ? 'passed' : 'FAILED'} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  if (!ok) failed.push(name);
}
if (failed.length) console.error(`\nFailed suites: ${failed.join(', ')}`);
else console.log(`\nAll suites passed: ${names.join(', ')}`);
if (names.some((n) => n !== 'typecheck' && n !== 'bench')) console.log(`Tests: ${counts.passed} passed, ${counts.failed} failed`);
process.exit(failed.length ? 1 : 0);
