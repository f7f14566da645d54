/**
 * The import boundaries, checked on the source (TypeScript's own import scanner), so a change that
 * crosses one fails the test command:
 *  - the pure core (`server/core/**`) and every extension module whose header says it is pure import
 *    neither `vscode` nor the language server/client libraries, directly or through the files they import;
 *  - the language server (`server/**`) never imports `vscode` and never reaches into `extension/`;
 *  - the extension reaches into the server only through `server/core/`.
 * The compiler enforces the same rules through the tsconfig projects (boundaries.compile.test.ts);
 * this scan also catches what a type checker lets through (`require('vscode')`, a bare `import 'vscode'`).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import * as ts from 'typescript';
import { claimsPurity, root, sources } from './support/boundaries';

/** The module specifiers a file imports (static imports, re-exports, dynamic imports, require). */
function importsOf(file: string): string[] {
  return ts.preProcessFile(readFileSync(file, 'utf8'), true, true).importedFiles.map((f) => f.fileName);
}

function resolveRelative(from: string, spec: string): string | undefined {
  const base = resolve(dirname(from), spec);
  return [`${base}.ts`, join(base, 'index.ts')].find((p) => existsSync(p));
}

const FORBIDDEN_IN_PURE = /^(vscode|vscode-languageserver|vscode-languageclient)(\/|$)/;

/** The first forbidden import reachable from `file` through relative imports, as a chain, or undefined. */
function forbiddenChain(file: string, forbidden: RegExp, seen = new Set<string>()): string[] | undefined {
  if (seen.has(file)) return undefined;
  seen.add(file);
  for (const spec of importsOf(file)) {
    if (forbidden.test(spec)) return [relative(root, file), spec];
    if (!spec.startsWith('.')) continue;
    const target = resolveRelative(file, spec);
    const chain = target && forbiddenChain(target, forbidden, seen);
    if (chain) return [relative(root, file), ...chain];
  }
  return undefined;
}

test('the pure core and every module that says it is pure reach neither vscode nor the language server libraries', () => {
  const pure = [...sources(join(root, 'server', 'core')), ...sources(join(root, 'extension')).filter(claimsPurity)];
  assert.ok(pure.length >= 30, `${pure.length} pure modules`);
  const crossings = pure.map((f) => forbiddenChain(f, FORBIDDEN_IN_PURE)).filter(Boolean).map((c) => c!.join(' → '));
  assert.deepEqual(crossings, []);
});

/** `file → specifier` for every import of a file under `dir` that `bad(specifier, resolved path relative to the repo)` flags. */
function crossings(dir: string, bad: (spec: string, target: string | undefined) => boolean): string[] {
  const out: string[] = [];
  for (const file of sources(join(root, dir))) {
    for (const spec of importsOf(file)) {
      const target = spec.startsWith('.') ? resolveRelative(file, spec) : undefined;
      if (bad(spec, target && relative(root, target))) out.push(`${relative(root, file)} → ${spec}`);
    }
  }
  return out;
}

test('the language server never imports vscode nor anything of the extension', () => {
  assert.deepEqual(crossings('server', (spec, target) => /^vscode(\/|$)/.test(spec) || (target !== undefined && !target.startsWith('server/'))), []);
});

test('the extension reaches into the server only through server/core', () => {
  assert.deepEqual(crossings('extension', (_spec, target) => target !== undefined && target.startsWith('server/') && !target.startsWith('server/core/')), []);
});

test('the check catches a crossing (a pure module that imports vscode through another file)', () => {
  const dir = join(root, 'test', 'fixtures', 'boundaries');
  assert.deepEqual(forbiddenChain(join(dir, 'pure.ts'), FORBIDDEN_IN_PURE), ['test/fixtures/boundaries/pure.ts', 'test/fixtures/boundaries/helper.ts', 'vscode']);
  assert.equal(forbiddenChain(join(dir, 'helper.ts'), /^nothing$/), undefined);
});

/**
 * The folders below the features: they import no feature folder. Every other folder of `extension/`
 * is a feature (tokens, backends, oauth, runtime, language, and the launcher, verify, audit... as they
 * arrive), which imports these, `config.ts`, `services.ts` and its own files, never another feature.
 */
const SHARED_FOLDERS = new Set(['platform', 'store']);

function featureFolders(): string[] {
  return readdirSync(join(root, 'extension')).filter((e) => statSync(join(root, 'extension', e)).isDirectory() && !SHARED_FOLDERS.has(e));
}

/** The first folder under `extension/` of a repository-relative path, or undefined. */
function extensionFolderOf(target: string | undefined): string | undefined {
  const m = target === undefined ? null : /^extension\/([^/]+)\//.exec(target);
  return m ? m[1] : undefined;
}

/** Crossings not removed yet (none: the backends branch removed the last ones). Nothing may be added here. */
const KNOWN_FEATURE_CROSSINGS: readonly string[] = [];

test('no feature folder imports another feature folder; platform/ and store/ import no feature folder', () => {
  const features = featureFolders();
  assert.ok(['tokens', 'backends', 'oauth', 'runtime', 'language'].every((f) => features.includes(f)), features.join(', '));
  const found: string[] = [];
  // services.ts and config.ts sit below the features too (every feature imports them).
  for (const file of ['services.ts', 'config.ts']) {
    const path = join(root, 'extension', file);
    for (const spec of importsOf(path)) {
      const target = spec.startsWith('.') ? resolveRelative(path, spec) : undefined;
      const to = extensionFolderOf(target && relative(root, target));
      if (to !== undefined && features.includes(to)) found.push(`extension/${file} → ${spec}`);
    }
  }
  for (const folder of [...features, ...SHARED_FOLDERS]) {
    found.push(
      ...crossings(join('extension', folder), (_spec, target) => {
        const to = extensionFolderOf(target);
        return to !== undefined && to !== folder && features.includes(to);
      }),
    );
  }
  assert.deepEqual(found.filter((c) => !KNOWN_FEATURE_CROSSINGS.includes(c)), []);
  // The allow-list holds only crossings that still exist (remove an entry once it is fixed).
  assert.deepEqual(KNOWN_FEATURE_CROSSINGS.filter((c) => !found.includes(c)), []);
});

test('the mcp-tokens launcher (its bundle entry, extension/cli.ts) reaches no vscode import, through any file', () => {
  const entry = join(root, 'extension', 'cli.ts');
  assert.ok(existsSync(entry));
  assert.equal(forbiddenChain(entry, FORBIDDEN_IN_PURE)?.join(' → '), undefined);
});

/** Shared building blocks are used, not restated: each has one home and no inline copy elsewhere. */
const ONE_HOME: readonly { readonly what: string; readonly pattern: RegExp; readonly home: string }[] = [
  { what: 'error text', pattern: /instanceof Error \? \w+\.message : String\(/, home: 'server/core/errors.ts' },
  { what: 'Markdown escaping', pattern: /function escape\w*Markdown|function \w*[eE]scapeMd\b/, home: 'server/core/markdown.ts' },
];

test('error text and Markdown escaping are written once (their home module), used everywhere else', () => {
  const files = [...sources(join(root, 'extension')), ...sources(join(root, 'server'))];
  for (const { what, pattern, home } of ONE_HOME) {
    assert.ok(pattern.test(readFileSync(join(root, home), 'utf8')), `${home} defines ${what}`);
    const copies = files.map((f) => relative(root, f)).filter((f) => f !== home && pattern.test(readFileSync(join(root, f), 'utf8')));
    assert.deepEqual(copies, [], `${what} restated outside ${home}`);
  }
});
