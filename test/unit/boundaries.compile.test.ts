/**
 * The import boundaries, enforced by the compiler: the tsconfig projects of the typecheck suite
 * (server/tsconfig.json, extension/tsconfig.json, tsconfig.core.json) must REJECT a file that crosses
 * one. Each case compiles an in-memory probe file, placed in the project, with the project's own
 * options (TypeScript's API, no file written), and asserts the error; the same probe without the
 * crossing compiles clean, so the error comes from the import and not from the harness.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import * as ts from 'typescript';
import { claimsPurity, root, sources } from './support/boundaries';

interface Project {
  readonly options: ts.CompilerOptions;
  readonly fileNames: readonly string[];
}

function loadProject(config: string): Project {
  const path = join(root, config);
  const read = ts.readConfigFile(path, ts.sys.readFile);
  assert.equal(read.error, undefined, `${config} reads`);
  const parsed = ts.parseJsonConfigFileContent(read.config, ts.sys, join(path, '..'), undefined, path);
  assert.deepEqual(parsed.errors, [], `${config} parses`);
  return { options: parsed.options, fileNames: parsed.fileNames };
}

/** Parsed files shared by every compile (the probes differ, the libraries and sources do not). */
const parsedFiles = new Map<string, ts.SourceFile | undefined>();

/** The error codes the compiler reports for `probe` (a file at `at`, relative to the repo) added to `config`'s project. */
function compileProbe(config: string, at: string, probe: string): number[] {
  const project = loadProject(config);
  const file = join(root, at);
  const host = ts.createCompilerHost(project.options);
  const { fileExists, readFile, getSourceFile } = host;
  host.fileExists = (f) => f === file || fileExists.call(host, f);
  host.readFile = (f) => (f === file ? probe : readFile.call(host, f));
  host.getSourceFile = (f, lang, onError, create) => {
    if (f === file) return ts.createSourceFile(f, probe, lang, true);
    if (!parsedFiles.has(f)) parsedFiles.set(f, getSourceFile.call(host, f, lang, onError, create));
    return parsedFiles.get(f);
  };
  const program = ts.createProgram({ rootNames: [...project.fileNames, file], options: project.options, host });
  const sourceFile = program.getSourceFile(file);
  assert.ok(sourceFile, `${at} is in the program`);
  const diagnostics = [...program.getOptionsDiagnostics(), ...program.getGlobalDiagnostics(), ...program.getSyntacticDiagnostics(sourceFile), ...program.getSemanticDiagnostics(sourceFile)];
  return [...new Set(diagnostics.map((d) => d.code))].sort();
}

const NOT_A_MODULE = 2306; // the forbidden library is mapped to tsconfig.forbidden-import.d.ts
const NOT_IN_PROJECT = 6307; // a file outside the project's list

const cases: { name: string; config: string; at: string; crossing: string; clean: string; code: number }[] = [
  {
    name: 'the language server cannot import vscode',
    config: 'server/tsconfig.json',
    at: 'server/features/boundaryProbe.ts',
    crossing: "import * as vscode from 'vscode';\nexport const probe = (u: vscode.Uri) => u.toString();\n",
    clean: "import { keyId } from '../core/reference';\nexport const probe = keyId({ namespace: 'a', name: 'b' });\n",
    code: NOT_A_MODULE,
  },
  {
    name: 'the pure core cannot import vscode, even as a type',
    config: 'server/tsconfig.json',
    at: 'server/core/boundaryProbe.ts',
    crossing: "import type { Uri } from 'vscode';\nexport type Probe = Uri;\n",
    clean: "import type { TokenKey } from './reference';\nexport type Probe = TokenKey;\n",
    code: NOT_A_MODULE,
  },
  {
    name: 'the language server cannot import the language client',
    config: 'server/tsconfig.json',
    at: 'server/boundaryProbe.ts',
    crossing: "import { LanguageClient } from 'vscode-languageclient/node';\nexport const probe = LanguageClient.name;\n",
    clean: "import { TextDocuments } from 'vscode-languageserver/node';\nexport const probe = TextDocuments.name;\n",
    code: NOT_A_MODULE,
  },
  {
    name: 'the language server cannot reach into the extension',
    config: 'server/tsconfig.json',
    at: 'server/boundaryProbe.ts',
    crossing: "import { Emitter } from '../extension/platform/event';\nexport const probe = new Emitter<number>();\n",
    clean: "import { PROTOCOL_VERSION } from './core/protocol';\nexport const probe = PROTOCOL_VERSION;\n",
    code: NOT_IN_PROJECT,
  },
  {
    name: 'the extension reaches the server only through server/core',
    config: 'extension/tsconfig.json',
    at: 'extension/language/boundaryProbe.ts',
    crossing: "import { McpTokensLanguageService } from '../../server/service';\nexport const probe = McpTokensLanguageService.name;\n",
    clean: "import { PROTOCOL_VERSION } from '../../server/core/protocol';\nexport const probe = PROTOCOL_VERSION;\n",
    code: NOT_IN_PROJECT,
  },
  {
    name: 'the extension cannot import the language server library',
    config: 'extension/tsconfig.json',
    at: 'extension/language/boundaryProbe.ts',
    crossing: "import { TextDocuments } from 'vscode-languageserver/node';\nexport const probe = TextDocuments.name;\n",
    clean: "import * as vscode from 'vscode';\nexport const probe = (u: vscode.Uri) => u.toString();\n",
    code: NOT_A_MODULE,
  },
  {
    name: 'a pure extension module cannot import vscode',
    config: 'tsconfig.core.json',
    at: 'extension/store/boundaryProbe.ts',
    crossing: "import * as vscode from 'vscode';\nexport const probe = (u: vscode.Uri) => u.toString();\n",
    clean: "import { Emitter } from '../platform/event';\nexport const probe = new Emitter<number>();\n",
    code: NOT_A_MODULE,
  },
  {
    name: 'a pure module cannot reach a module that is not pure (which may import vscode)',
    config: 'tsconfig.core.json',
    at: 'extension/store/boundaryProbe.ts',
    crossing: "import { registerCommand } from '../platform/commands';\nexport const probe = registerCommand;\n",
    clean: "import { parseCommandInput } from '../platform/commandInput';\nexport const probe = parseCommandInput;\n",
    code: NOT_IN_PROJECT,
  },
];

for (const c of cases) {
  test(`compiler: ${c.name}`, () => {
    assert.deepEqual(compileProbe(c.config, c.at, c.clean), [], `the clean probe compiles in ${c.config}`);
    assert.ok(compileProbe(c.config, c.at, c.crossing).includes(c.code), `${c.config} rejects the crossing with TS${c.code}`);
  });
}

test('tsconfig.core.json lists exactly the extension modules whose header says "Pure"', () => {
  const listed = loadProject('tsconfig.core.json').fileNames.map((f) => f.slice(root.length + 1)).filter((f) => f.startsWith('extension/'));
  const claimed = sources(join(root, 'extension')).filter(claimsPurity).map((f) => f.slice(root.length + 1));
  const missing = claimed.filter((f) => !listed.includes(f));
  const extra = listed.filter((f) => !claimed.includes(f));
  assert.deepEqual({ missing, extra }, { missing: [], extra: [] }, 'add the missing files to (remove the extra ones from) "files" of tsconfig.core.json');
});
