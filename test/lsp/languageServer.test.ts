/**
 * The bundled language server (dist/server.js) over real LSP (stdio), driven by a test client:
 * metadata push, diagnostics with exact ranges, completion, hover, code actions and the commands
 * they run (answered by the client as the extension would), links, references and rename.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { CodeAction, CompletionItem, CompletionList, Diagnostic, DocumentLink, Hover, Location, MarkupContent, Range, WorkspaceEdit } from 'vscode-languageserver-protocol/node';
import { TestClient } from './client';
import { SERVER_ENV, serverExecArgv } from '../../server/core/launch';
import {
  CreateTokenCommand,
  CreateTokenRequest,
  DIAGNOSTIC_CODES,
  MoveSecretCommand,
  MoveSecretRequest,
  RenameTokenRequest,
  type MoveSecretParams,
  type RenameTokenParams,
} from '../../server/core/protocol';
import type { TokenMetadata } from '../../server/core/model';
import { VALID } from '../unit/support/formatSamples';

const DAY = 86_400_000;
const iso = (ms: number) => new Date(ms).toISOString();
const now = Date.now();

function token(namespace: string, name: string, extra: Partial<TokenMetadata> = {}): TokenMetadata {
  return { namespace, name, type: 'bearer', createdAt: '2026-01-02T03:04:05.000Z', updatedAt: '2026-02-03T04:05:06.000Z', backend: 'secretStorage', ...extra };
}

const TOKENS: TokenMetadata[] = [
  token('bearer', 'github', { provider: 'github', description: 'GitHub PAT for *MCP*' }),
  token('bearer', 'gitlab', { expiresAt: iso(now + 3 * DAY + 3_600_000) }),
  token('bearer', 'old', { expiresAt: iso(now - 2 * DAY - 3_600_000) }),
  token('api-key', 'openai', { type: 'api-key', provider: 'openai' }),
];

/** Offsets → LSP range, computed from the text so the expected ranges are exact. */
function rangeOf(text: string, needle: string, from = 0, occurrence = 0): Range {
  let start = text.indexOf(needle, from);
  for (let i = 0; i < occurrence; i++) start = text.indexOf(needle, start + 1);
  assert.ok(start >= 0, `"${needle}" not in text`);
  return { start: pos(text, start), end: pos(text, start + needle.length) };
}
function pos(text: string, offset: number) {
  const before = text.slice(0, offset);
  const line = before.split('\n').length - 1;
  return { line, character: offset - (before.lastIndexOf('\n') + 1) };
}
const byCode = (ds: Diagnostic[], code: string) => ds.filter((d) => d.code === code);
const msg = (d: Diagnostic): string => (typeof d.message === 'string' ? d.message : d.message.value);

const GHP = 'ghp_' + 'a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8';
const VSCODE_JSON = `{
  // VS Code's own file
  "servers": {
    "github": {
      "type": "stdio",
      "command": "npx",
      "args": ["-y", "@modelcontextprotocol/server-github"],
      "env": {
        "GITHUB_PERSONAL_ACCESS_TOKEN": "${GHP}",
        "GITLAB": "$<TOKEN:bearer:gitlab>",
        "OLD": "$<TOKEN:bearer:old>",
        "TYPO": "$<TOKEN:bearer:githb>",
        "NS": "$<TOKEN:baerer:github>",
        "BROKEN": "$<TOKEN:bearer>",
        "BRACE": "\${TOKEN:api-key:openai}"
      }
    }
  }
}`;

const TOKENS_JSON = `{
  "servers": {
    "remote": {
      "type": "http",
      "url": "https://api.example.com/mcp",
      "headers": { "Authorization": "Bearer $<TOKEN:bearer:github>", "X-Api-Key": "$<TOKEN:api-key:openai>" }
    }
  }
}`;

const MCP_CLI_JSON = `{
  "mcpServers": {
    "cli": {
      "command": "uvx",
      "env": { "WHOLE": "\${TOKEN:bearer:github}", "PART": "token \${TOKEN:bearer:github}", "ANGLE": "$<TOKEN:bearer:github>" }
    }
  }
}`;

describe('language server over LSP (bundled dist/server.js)', () => {
  let c: TestClient;
  let dir: string;
  const moved: MoveSecretParams[] = [];
  const renamed: RenameTokenParams[] = [];
  let renameAnswer = { renamed: true } as { renamed: boolean; message?: string };
  let vscodeUri: string;
  let tokensUri: string;
  let diskUri: string;
  const cliUri = 'file:///project/server_config.json';

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'mcp-lsp-'));
    mkdirSync(join(dir, '.vscode'));
    vscodeUri = pathToFileURL(join(dir, '.vscode', 'mcp.json')).toString();
    tokensUri = pathToFileURL(join(dir, '.vscode', 'mcp.tokens.json')).toString();
    const diskPath = join(dir, '.mcp.json');
    writeFileSync(diskPath, '{ "mcpServers": { "claude": { "command": "x", "env": { "T": "$<TOKEN:bearer:github>" } } } }\n');
    diskUri = pathToFileURL(diskPath).toString();
    c = await TestClient.start({
      [MoveSecretRequest.method]: (p) => {
        moved.push(p as MoveSecretParams);
        return { moved: true };
      },
      [RenameTokenRequest.method]: (p) => {
        renamed.push(p as RenameTokenParams);
        return renameAnswer;
      },
      [CreateTokenRequest.method]: () => ({ created: true }),
    });
    await c.initialize();
    await c.settings();
    await c.metadata({ tokens: TOKENS, expiryWarningDays: 7 });
  });

  after(async () => {
    await c?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('announces its capabilities', async () => {
    // initialize already ran; a second client checks the result shape without disturbing the first
    const other = await TestClient.start();
    try {
      const r = await other.initialize();
      assert.deepEqual(r.capabilities.completionProvider?.triggerCharacters, ['$', '<', '{', ':']);
      assert.equal(r.capabilities.textDocumentSync && typeof r.capabilities.textDocumentSync === 'object' && r.capabilities.textDocumentSync.change, 2);
      assert.deepEqual(r.capabilities.executeCommandProvider?.commands, [CreateTokenCommand.id, MoveSecretCommand.id]);
      assert.deepEqual(r.capabilities.renameProvider, { prepareProvider: true });
    } finally {
      await other.stop();
    }
  });

  it('publishes diagnostics with exact ranges for .vscode/mcp.json', async () => {
    await c.open(vscodeUri, VSCODE_JSON);
    const { diagnostics: ds, version } = await c.waitForDiagnostics(vscodeUri, 1);
    assert.equal(version, 1);
    const t = VSCODE_JSON;

    const secret = byCode(ds, DIAGNOSTIC_CODES.hardCodedSecret);
    assert.equal(secret.length, 1);
    assert.deepEqual(secret[0].range, rangeOf(t, GHP));
    assert.match(msg(secret[0]), /GitHub token in env GITHUB_PERSONAL_ACCESS_TOKEN of server "github".*\$<TOKEN:bearer:github-2>/);
    assert.ok(!msg(secret[0]).includes(GHP), 'the message never holds the secret');

    const malformed = byCode(ds, DIAGNOSTIC_CODES.malformed);
    assert.equal(malformed.length, 1);
    assert.deepEqual(malformed[0].range, rangeOf(t, '$<TOKEN:bearer>'));
    assert.equal(malformed[0].severity, 1);

    const unknown = byCode(ds, DIAGNOSTIC_CODES.unknownToken);
    assert.equal(unknown.length, 1);
    assert.deepEqual(unknown[0].range, rangeOf(t, 'githb'));
    assert.match(msg(unknown[0]), /No token bearer:githb is stored\. Did you mean "bearer:github"\?/);

    const ns = byCode(ds, DIAGNOSTIC_CODES.unknownNamespace);
    assert.equal(ns.length, 1);
    assert.deepEqual(ns[0].range, rangeOf(t, 'baerer'));
    assert.match(msg(ns[0]), /Did you mean "bearer"\?/);

    const expired = byCode(ds, DIAGNOSTIC_CODES.expired);
    assert.equal(expired.length, 1);
    assert.deepEqual(expired[0].range, rangeOf(t, '$<TOKEN:bearer:old>'));
    assert.match(msg(expired[0]), /expired 2 days ago/);

    const soon = byCode(ds, DIAGNOSTIC_CODES.expiringSoon);
    assert.equal(soon.length, 1);
    assert.deepEqual(soon[0].range, rangeOf(t, '$<TOKEN:bearer:gitlab>'));
    assert.equal(soon[0].severity, 3);
    assert.match(msg(soon[0]), /expires in 3 days/);

    const brace = byCode(ds, DIAGNOSTIC_CODES.braceInVsCodeFile);
    assert.equal(brace.length, 1);
    assert.deepEqual(brace[0].range, rangeOf(t, '${TOKEN:api-key:openai}'));
    assert.match(msg(brace[0]), /unknown variable/);

    // Every angle reference gets the "VS Code passes the literal text" warning.
    const literal = byCode(ds, DIAGNOSTIC_CODES.unresolvedByClient);
    assert.deepEqual(
      literal.map((d) => d.range),
      ['$<TOKEN:bearer:gitlab>', '$<TOKEN:bearer:old>', '$<TOKEN:bearer:githb>', '$<TOKEN:baerer:github>'].map((r) => rangeOf(t, r)),
    );
    assert.match(msg(literal[0]), /receives the literal text \$<TOKEN:bearer:gitlab>.*\.vscode\/mcp\.tokens\.json/);
    assert.equal(ds.length, 11);
  });

  it('updates diagnostics on incremental changes and on metadata pushes', async () => {
    const t = VSCODE_JSON;
    // Fix the typo: githb -> github (incremental change of one range).
    await c.change(vscodeUri, 2, [{ range: rangeOf(t, 'githb'), text: 'github' }]);
    const v2 = await c.waitForDiagnostics(vscodeUri, 2);
    assert.equal(byCode(v2.diagnostics, DIAGNOSTIC_CODES.unknownToken).length, 0);
    // A token in a new namespace "baerer" is pushed: the unknown-namespace warning goes away.
    await c.metadata({ tokens: [...TOKENS, token('baerer', 'github')], expiryWarningDays: 7 });
    const v2b = await c.waitFor(() => {
      const list = c.diagnostics.get(vscodeUri)!;
      const last = list[list.length - 1];
      return list.length > 2 && byCode(last.diagnostics, DIAGNOSTIC_CODES.unknownNamespace).length === 0 ? last : undefined;
    });
    assert.equal(v2b.version, 2);
    await c.metadata({ tokens: TOKENS, expiryWarningDays: 7 });
    // Undo the change so later tests see the original text.
    await c.change(vscodeUri, 3, [{ text: VSCODE_JSON }]);
    const v3 = await c.waitForDiagnostics(vscodeUri, 3);
    assert.equal(byCode(v3.diagnostics, DIAGNOSTIC_CODES.unknownToken).length, 1);
  });

  it('completes namespaces, keys and names, replacing exactly the reference being typed', async () => {
    const uri = tokensUri;
    const text = '{ "servers": { "s": { "env": { "A": "$<TOKEN:", "B": "$<TOKEN:bearer:gi>" , "C": "$<" } } } }';
    await c.open(uri, text);
    const at = (needle: string, delta = needle.length) => pos(text, text.indexOf(needle) + delta);

    const ns = await c.request<CompletionList>('textDocument/completion', { textDocument: { uri }, position: at('"$<TOKEN:', 9) });
    const labels = ns.items.map((i) => i.label);
    assert.deepEqual(labels.slice(0, 2), ['api-key', 'bearer']);
    assert.equal(ns.items[1].detail, '3 tokens');
    assert.ok(labels.includes('bearer:github') && labels.includes('api-key:openai'), 'stored keys are offered too');
    const nsEdit = ns.items[1].textEdit as { range: Range; newText: string };
    assert.equal(nsEdit.newText, 'bearer:');
    const nsStart = text.indexOf('"$<TOKEN:') + 9;
    assert.deepEqual(nsEdit.range, { start: pos(text, nsStart), end: pos(text, nsStart) });
    const keyItem = ns.items.find((i) => i.label === 'bearer:github')!;
    assert.deepEqual(keyItem.textEdit, { range: { start: pos(text, nsStart), end: pos(text, nsStart) }, newText: 'bearer:github>' });

    // Names, cursor after "gi" inside a closed reference: the edit covers "gi>" exactly.
    const names = await c.request<CompletionList>('textDocument/completion', { textDocument: { uri }, position: at('bearer:gi', 9) });
    assert.deepEqual(
      names.items.map((i) => i.label),
      ['github', 'gitlab', 'old'],
    );
    const gh = names.items[0];
    const giStart = text.indexOf('bearer:gi') + 7;
    assert.deepEqual(gh.textEdit, { range: { start: pos(text, giStart), end: pos(text, giStart + 3) }, newText: 'github>' });
    assert.match(gh.detail!, /^Bearer token · no expiry · github$/);
    assert.equal(gh.documentation, undefined, 'documentation comes with completionItem/resolve');
    const resolved = await c.request<CompletionItem>('completionItem/resolve', gh);
    assert.match((resolved.documentation as MarkupContent).value, /\*\*\$\\<TOKEN:bearer:github\\>\*\*[\s\S]*GitHub PAT for \\\*MCP\\\*/);

    // "$<" offers the reference snippet.
    const snip = await c.request<CompletionList>('textDocument/completion', { textDocument: { uri }, position: at('"$<"', 3) });
    assert.equal(snip.items.length, 2);
    assert.deepEqual((snip.items[1].textEdit as { newText: string }).newText, '\\$<TOKEN:${1:namespace}:${2:name}>$0');
    assert.equal(snip.items[1].insertTextFormat, 2);

    // Not in a property name, not outside strings.
    assert.equal(await c.request('textDocument/completion', { textDocument: { uri }, position: at('"env"', 2) }), null);
    await c.close(uri);
  });

  it('uses itemDefaults.editRange when the client supports it (as VS Code does)', async () => {
    const other = await TestClient.start();
    try {
      await other.initialize(['editRange']);
      await other.settings();
      await other.metadata({ tokens: TOKENS, expiryWarningDays: 7 });
      const uri = 'file:///d/.vscode/mcp.tokens.json';
      const text = '{ "servers": { "s": { "env": { "B": "$<TOKEN:bearer:gi>" } } } }';
      await other.open(uri, text);
      const at = text.indexOf('bearer:gi') + 9;
      const list = await other.request<CompletionList>('textDocument/completion', { textDocument: { uri }, position: pos(text, at) });
      assert.deepEqual(list.itemDefaults, { editRange: { start: pos(text, at - 2), end: pos(text, at + 1) } });
      assert.deepEqual(list.items.map((i) => [i.label, i.textEditText, i.textEdit]), [['github', 'github>', undefined], ['gitlab', 'gitlab>', undefined], ['old', 'old>', undefined]]);
    } finally {
      await other.stop();
    }
  });

  it('completes the ${TOKEN:...} form in mcp-cli files', async () => {
    const uri = 'file:///p/server_config.json';
    const text = '{ "mcpServers": { "s": { "env": { "A": "$" } } } }';
    await c.open(uri, text);
    const r = await c.request<CompletionList>('textDocument/completion', { textDocument: { uri }, position: pos(text, text.indexOf('"$"') + 2) });
    assert.equal((r.items[0].textEdit as { newText: string }).newText, '${TOKEN:');
    assert.equal((r.items[1].textEdit as { newText: string }).newText, '\\${TOKEN:${1:namespace}:${2:name}\\}$0');
    await c.close(uri);
  });

  it('hovers with metadata, the servers that use the token and command links, never a value', async () => {
    await c.open(tokensUri, TOKENS_JSON);
    await c.waitForDiagnostics(tokensUri, 1);
    const h = await c.request<Hover>('textDocument/hover', { textDocument: { uri: tokensUri }, position: pos(TOKENS_JSON, TOKENS_JSON.indexOf('bearer:github')) });
    const md = (h.contents as MarkupContent).value;
    assert.deepEqual(h.range, rangeOf(TOKENS_JSON, '$<TOKEN:bearer:github>'));
    for (const expected of ['| Type | Bearer token |', '| Namespace | `bearer` |', '| Backend | VS Code SecretStorage |', '| Provider | github |', '| Created | 2026-01-02 03:04 UTC |', '| Updated | 2026-02-03 04:05 UTC |', '| Expires | no expiry |', '| Last used | never |', 'GitHub PAT for \\*MCP\\*']) {
      assert.ok(md.includes(expected), `hover has ${expected}:\n${md}`);
    }
    // The path is escaped Markdown (server/core/markdown.ts): it renders as `.vscode/mcp.tokens.json`.
    assert.match(md, /Used by `remote` \(\\\.vscode\/mcp\\\.tokens\\\.json\)\./);
    assert.ok(md.includes('command:mcpTokens.revealToken?' + encodeURIComponent(JSON.stringify([{ namespace: 'bearer', name: 'github' }]))));
    assert.ok(md.includes('command:mcpTokens.rotateToken?'));
    assert.ok(md.includes('command:mcpTokens.copyReference?'));
    const unknown = await c.request<Hover>('textDocument/hover', { textDocument: { uri: vscodeUri }, position: pos(VSCODE_JSON, VSCODE_JSON.indexOf('githb')) });
    assert.match((unknown.contents as MarkupContent).value, /No token `bearer:githb` is stored\.[\s\S]*command:mcpTokens\.setToken/);
    assert.equal(await c.request('textDocument/hover', { textDocument: { uri: tokensUri }, position: { line: 0, character: 0 } }), null);
  });

  it('offers "Move to MCP Tokens" and sends only URI, version and range to the extension', async () => {
    const { diagnostics } = await c.waitForDiagnostics(vscodeUri, 3);
    const secret = byCode(diagnostics, DIAGNOSTIC_CODES.hardCodedSecret)[0];
    const actions = await c.request<CodeAction[]>('textDocument/codeAction', { textDocument: { uri: vscodeUri }, range: secret.range, context: { diagnostics: [secret] } });
    const move = actions.find((a) => a.title.startsWith('Move to MCP Tokens'))!;
    assert.equal(move.title, 'Move to MCP Tokens as bearer:github-2');
    assert.equal(move.isPreferred, true);
    assert.equal(move.command!.command, MoveSecretCommand.id);
    const result = await c.request<{ moved: boolean }>('workspace/executeCommand', { command: move.command!.command, arguments: move.command!.arguments });
    assert.deepEqual(result, { moved: true });
    assert.equal(moved.length, 1);
    assert.deepEqual(moved[0], {
      uri: vscodeUri,
      version: 3,
      range: rangeOf(VSCODE_JSON, GHP),
      key: { namespace: 'bearer', name: 'github-2' },
      type: 'bearer',
      provider: 'github',
      replacement: '$<TOKEN:bearer:github-2>',
      description: 'Moved from .vscode/mcp.json (server github)',
    });
    assert.ok(!JSON.stringify(moved[0]).includes(GHP), 'the literal does not travel in the request');
    // A stale version is refused by the server without bothering the extension.
    const stale = await c.request<{ moved: boolean; message?: string }>('workspace/executeCommand', { command: MoveSecretCommand.id, arguments: [{ ...(move.command!.arguments![0] as object), version: 1 }] });
    assert.equal(stale.moved, false);
    assert.equal(moved.length, 1);
  });

  it('offers create-token, did-you-mean and conversion fixes', async () => {
    const { diagnostics } = await c.waitForDiagnostics(vscodeUri, 3);
    const unknown = byCode(diagnostics, DIAGNOSTIC_CODES.unknownToken)[0];
    const actions = await c.request<CodeAction[]>('textDocument/codeAction', { textDocument: { uri: vscodeUri }, range: unknown.range, context: { diagnostics: [unknown] } });
    const change = actions.find((a) => a.title === 'Change to $<TOKEN:bearer:github>')!;
    assert.deepEqual(change.edit, { changes: { [vscodeUri]: [{ range: rangeOf(VSCODE_JSON, '$<TOKEN:bearer:githb>'), newText: '$<TOKEN:bearer:github>' }] } });
    const create = actions.find((a) => a.title === 'Create token bearer:githb…')!;
    const created = await c.request('workspace/executeCommand', { command: create.command!.command, arguments: create.command!.arguments });
    assert.deepEqual(created, { created: true });
    assert.deepEqual(c.requests.find((r) => r.method === CreateTokenRequest.method)?.params, { key: { namespace: 'bearer', name: 'githb' } });

    const brace = byCode(diagnostics, DIAGNOSTIC_CODES.braceInVsCodeFile)[0];
    const conv = await c.request<CodeAction[]>('textDocument/codeAction', { textDocument: { uri: vscodeUri }, range: brace.range, context: { diagnostics: [brace] } });
    assert.deepEqual(conv[0].edit, { changes: { [vscodeUri]: [{ range: brace.range, newText: '$<TOKEN:api-key:openai>' }] } });
    assert.equal(conv[0].kind, 'quickfix');

    // Refactoring on any reference: convert to the other form.
    const r = rangeOf(VSCODE_JSON, '$<TOKEN:bearer:gitlab>');
    const refactor = await c.request<CodeAction[]>('textDocument/codeAction', { textDocument: { uri: vscodeUri }, range: r, context: { diagnostics: [], only: ['refactor'] } });
    assert.deepEqual(refactor.map((a) => [a.title, a.kind]), [['Convert to ${TOKEN:bearer:gitlab}', 'refactor.rewrite']]);
  });

  it('checks mcp-cli rules: the ${TOKEN:...} form as a whole value', async () => {
    await c.open(cliUri, MCP_CLI_JSON);
    const { diagnostics } = await c.waitForDiagnostics(cliUri, 1);
    assert.deepEqual(
      diagnostics.map((d) => [d.code, d.range]),
      [
        [DIAGNOSTIC_CODES.notWholeValue, rangeOf(MCP_CLI_JSON, '${TOKEN:bearer:github}', 0, 1)],
        [DIAGNOSTIC_CODES.wrongForm, rangeOf(MCP_CLI_JSON, '$<TOKEN:bearer:github>')],
      ],
    );
    assert.match(msg(diagnostics[1]), /mcp-cli only resolves \$\{TOKEN:bearer:github\}/);
  });

  it('links references to the tokens view', async () => {
    const links = await c.request<DocumentLink[]>('textDocument/documentLink', { textDocument: { uri: tokensUri } });
    assert.deepEqual(links.map((l) => l.range), [rangeOf(TOKENS_JSON, '$<TOKEN:bearer:github>'), rangeOf(TOKENS_JSON, '$<TOKEN:api-key:openai>')]);
    assert.equal(links[0].target, 'command:mcpTokens.revealToken?' + encodeURIComponent(JSON.stringify([{ namespace: 'bearer', name: 'github' }])));
  });

  it('finds references across open documents and files on disk', async () => {
    await c.workspaceFiles([diskUri, vscodeUri, 'file:///nonexistent/.mcp.json', pathToFileURL(join(dir, 'package.json')).toString()]);
    const diskText = '{ "mcpServers": { "claude": { "command": "x", "env": { "T": "$<TOKEN:bearer:github>" } } } }\n';
    // The server reads the listed files asynchronously: poll until the file on disk shows up.
    const request = () => c.request<Location[]>('textDocument/references', { textDocument: { uri: tokensUri }, position: pos(TOKENS_JSON, TOKENS_JSON.indexOf('bearer:github')), context: { includeDeclaration: true } });
    let refs: Location[] = [];
    for (let i = 0; i < 50 && !refs.some((l) => l.uri === diskUri); i++) {
      refs = await request();
      if (!refs.some((l) => l.uri === diskUri)) await new Promise((r) => setTimeout(r, 50));
    }
    const ref = '$<TOKEN:bearer:github>';
    const brace = '${TOKEN:bearer:github}';
    assert.deepEqual(
      refs,
      [
        { uri: tokensUri, range: rangeOf(TOKENS_JSON, ref) },
        { uri: cliUri, range: rangeOf(MCP_CLI_JSON, brace) },
        { uri: cliUri, range: rangeOf(MCP_CLI_JSON, brace, 0, 1) },
        { uri: cliUri, range: rangeOf(MCP_CLI_JSON, ref) },
        { uri: diskUri, range: rangeOf(diskText, ref) },
      ],
    );
  });

  it('renames a token in the store and every reference in one workspace edit', async () => {
    const p = { textDocument: { uri: tokensUri }, position: pos(TOKENS_JSON, TOKENS_JSON.indexOf('bearer:github') + 3) };
    const prep = await c.request<{ range: Range; placeholder: string }>('textDocument/prepareRename', p);
    assert.deepEqual(prep, { range: rangeOf(TOKENS_JSON, 'bearer:github'), placeholder: 'bearer:github' });
    const edit = await c.request<WorkspaceEdit>('textDocument/rename', { ...p, newName: 'gh' });
    assert.deepEqual(renamed, [{ from: { namespace: 'bearer', name: 'github' }, to: { namespace: 'bearer', name: 'gh' } }]);
    assert.deepEqual(Object.keys(edit.changes!).sort(), [cliUri, diskUri, tokensUri].sort());
    assert.deepEqual(edit.changes![tokensUri], [{ range: rangeOf(TOKENS_JSON, 'bearer:github'), newText: 'bearer:gh' }]);
    assert.equal(edit.changes![cliUri].length, 3);

    renameAnswer = { renamed: false, message: 'The keyring is locked.' };
    await assert.rejects(c.request('textDocument/rename', { ...p, newName: 'api-key:gh' }), /The keyring is locked\./);
    await assert.rejects(c.request('textDocument/rename', { ...p, newName: 'bad name' }), /may only contain/);
    await assert.rejects(c.request('textDocument/rename', { ...p, newName: 'bearer:gitlab' }), /already exists/);
  });

  it('ignores files that are not MCP configs and survives broken documents', async () => {
    const other = 'file:///p/package.json';
    await c.open(other, '{ "x": "$<TOKEN:" }');
    assert.equal(await c.request('textDocument/completion', { textDocument: { uri: other }, position: { line: 0, character: 16 } }), null);
    const broken = 'file:///p/.cursor/mcp.json';
    const text = '{ "mcpServers": { "a": { "env": { "K": "$<TOKEN:bearer:\uD83D' + '\u0000"\n [[[[ "\\u12';
    await c.open(broken, text);
    const d = await c.waitForDiagnostics(broken, 1);
    assert.ok(d.diagnostics.some((x) => x.code === DIAGNOSTIC_CODES.malformed));
    for (let line = 0; line < 2; line++) {
      for (let ch = 0; ch < 60; ch += 7) {
        const position = { line, character: ch };
        await c.request('textDocument/completion', { textDocument: { uri: broken }, position });
        await c.request('textDocument/hover', { textDocument: { uri: broken }, position });
      }
    }
    const links = await c.request<DocumentLink[]>('textDocument/documentLink', { textDocument: { uri: broken } });
    assert.deepEqual(links, []);
  });

  it('flags a hard-coded Proxmox API token and hovers with a JWT token\'s claims (from the format rules)', async () => {
    const pve = `PVEAPIToken=automation@pve!mcp=${VALID.proxmox[0].split('=').pop()}`;
    const uri = pathToFileURL(join(dir, 'pve', '.vscode', 'mcp.json')).toString();
    const text = `{\n  "servers": {\n    "proxmox": {\n      "type": "http",\n      "url": "https://pve.lan:8006/mcp",\n      "headers": { "Authorization": "${pve}", "X-Idp": "$<TOKEN:bearer:idp>" }\n    }\n  }\n}\n`;
    await c.metadata({ tokens: [...TOKENS, token('bearer', 'idp', { provider: 'jwt', jwt: { alg: 'RS256', iss: 'https://id.example', sub: 'svc-42', aud: ['mcp'] } })], expiryWarningDays: 7 });
    try {
      await c.open(uri, text);
      const { diagnostics } = await c.waitForDiagnostics(uri, 1);
      const secret = byCode(diagnostics, DIAGNOSTIC_CODES.hardCodedSecret);
      assert.equal(secret.length, 1);
      assert.deepEqual(secret[0].range, rangeOf(text, pve));
      assert.match(msg(secret[0]), /Hard-coded Proxmox VE API token in headers Authorization of server "proxmox".*\$<TOKEN:api-key:proxmox>/);
      assert.ok(!msg(secret[0]).includes(pve.slice(-12)), 'the message never holds the secret');
      const h = await c.request<Hover>('textDocument/hover', { textDocument: { uri }, position: pos(text, text.indexOf('bearer:idp')) });
      const md = (h.contents as MarkupContent).value;
      for (const expected of ['| JWT algorithm | RS256 |', '| JWT issuer | https://id\\.example |', '| JWT subject | svc\\-42 |', '| JWT audience | mcp |']) assert.ok(md.includes(expected), `hover has ${expected}:\n${md}`);
    } finally {
      await c.metadata({ tokens: TOKENS, expiryWarningDays: 7 });
    }
  });
});

describe('language server started as the extension starts it (fork, IPC, launch flags)', () => {
  let c: TestClient | undefined;
  after(async () => {
    await c?.stop();
  });

  it('runs with server/core/launch.ts\'s V8 flags and environment on a large document, and answers after the idle collection', async () => {
    c = await TestClient.startLikeExtension({ execArgv: serverExecArgv(), env: SERVER_ENV });
    await c.initialize(['editRange']);
    await c.settings({ diagnosticsDelay: 0 });
    await c.metadata({ tokens: TOKENS, expiryWarningDays: 7 });
    // A document above the 512 KB threshold of server/memory.ts: many servers with one secret each.
    const servers: Record<string, unknown> = {};
    for (let i = 0; i < 4000; i++) servers[`s${i}`] = { command: 'npx', env: { GITHUB_TOKEN: i === 1234 ? GHP : '$<TOKEN:bearer:github>', LEVEL: 'info-level-value' } };
    const text = JSON.stringify({ servers }, null, 2);
    assert.ok(text.length > 512 * 1024);
    const uri = 'file:///ipc/.vscode/mcp.tokens.json';
    await c.open(uri, text);
    const published = await c.waitForDiagnostics(uri, 1, 30_000);
    const secrets = byCode(published.diagnostics, DIAGNOSTIC_CODES.hardCodedSecret);
    assert.equal(secrets.length, 1);
    assert.deepEqual(secrets[0].range, rangeOf(text, GHP));
    const list = await c.request<CompletionList>('textDocument/completion', { textDocument: { uri }, position: pos(text, text.indexOf('$<TOKEN:bearer:') + 15) });
    assert.deepEqual(list.items.map((i) => i.label).sort(), ['github', 'gitlab', 'old']);
    // The idle collection (server/memory.ts) runs a second after the pass; the server answers on.
    await new Promise((r) => setTimeout(r, 1300));
    const hover = await c.request<Hover>('textDocument/hover', { textDocument: { uri }, position: pos(text, text.indexOf('$<TOKEN:bearer:github>') + 3) });
    assert.match((hover.contents as MarkupContent).value, /bearer:github/);
    assert.equal(c.proc.exitCode, null, 'the flags are accepted: the process is still running');
  });
});
