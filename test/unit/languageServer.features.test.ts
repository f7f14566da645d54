/**
 * The language server's features that talk to the extension (rename, the executed commands) and the
 * reference conversion, through the language service's facade (server/service.ts) with a recording
 * stand-in for the extension's side of the typed protocol (core/protocol.ts RequestSender).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { CodeActionKind, ResponseError, type WorkspaceEdit } from 'vscode-languageserver/node';
import { TextDocument } from 'vscode-languageserver-textdocument';
import { McpTokensLanguageService } from '../../server/service';
import {
  CreateTokenCommand,
  CreateTokenRequest,
  MoveSecretCommand,
  MoveSecretRequest,
  RenameTokenRequest,
  STALE_DOCUMENT,
  receive,
  receiveResult,
  type Request,
  type RequestSender,
} from '../../server/core/protocol';

const meta = (namespace: string, name: string) => ({ namespace, name, type: 'bearer' as const, createdAt: '2026-01-01T00:00:00Z', updatedAt: '2026-01-01T00:00:00Z', backend: 'secretStorage' as const });

/** Answers each request with `answers[method]`, checking params and result against the declaration as both real ends do. */
class FakeExtension implements RequestSender {
  readonly sent: { method: string; params: unknown }[] = [];
  constructor(private readonly answers: Record<string, unknown>) {}
  async send<P, R>(request: Request<P, R>, params: unknown): Promise<R> {
    this.sent.push({ method: request.method, params: receive(request, params) });
    return receiveResult(request, this.answers[request.method]);
  }
}

function setUp(answers: Record<string, unknown> = {}) {
  const service = new McpTokensLanguageService({ secretlint: false });
  service.catalog.update({ tokens: [meta('bearer', 'github'), meta('bearer', 'gitlab')], expiryWarningDays: 7 });
  const text = '{ "servers": { "a": { "type": "stdio", "command": "x", "env": { "T": "$<TOKEN:bearer:github>", "U": "$<TOKEN:bearer:missing>" } } } }';
  const doc = TextDocument.create('file:///project/.vscode/mcp.tokens.json', 'jsonc', 3, text);
  service.workspace.didOpen(doc);
  const at = (needle: string) => doc.positionAt(text.indexOf(needle) + 2);
  return { service, doc, at, extension: new FakeExtension(answers) };
}

describe('rename (features/rename.ts)', () => {
  it('renames a stored token in the store first, then every reference', async () => {
    const { service, doc, at, extension } = setUp({ [RenameTokenRequest.method]: { renamed: true } });
    assert.deepEqual(service.prepareRename(doc, at('$<TOKEN:bearer:github>')), { range: { start: doc.positionAt(doc.getText().indexOf('bearer:github')), end: doc.positionAt(doc.getText().indexOf('bearer:github') + 13) }, placeholder: 'bearer:github' });
    const edit = (await service.rename(doc, at('$<TOKEN:bearer:github>'), 'gh', extension)) as WorkspaceEdit;
    assert.deepEqual(extension.sent, [{ method: 'mcpTokens/renameToken', params: { from: { namespace: 'bearer', name: 'github' }, to: { namespace: 'bearer', name: 'gh' } } }]);
    assert.deepEqual(Object.values(edit.changes!).flat().map((e) => e.newText), ['bearer:gh']);
  });

  it('only rewrites a reference to a token that is not stored', async () => {
    const { service, doc, at, extension } = setUp();
    const edit = (await service.rename(doc, at('$<TOKEN:bearer:missing>'), 'api-key:found', extension)) as WorkspaceEdit;
    assert.deepEqual(extension.sent, []);
    assert.deepEqual(Object.values(edit.changes!).flat().map((e) => e.newText), ['api-key:found']);
  });

  it('refuses an invalid or taken key, and reports the store\'s refusal', async () => {
    const { service, doc, at, extension } = setUp({ [RenameTokenRequest.method]: { renamed: false, message: 'The keyring is locked.' } });
    const pos = at('$<TOKEN:bearer:github>');
    await assert.rejects(service.rename(doc, pos, 'bad name', extension), (e: ResponseError<void>) => e instanceof ResponseError && /may only contain/.test(e.message));
    await assert.rejects(service.rename(doc, pos, 'bearer:gitlab', extension), /already exists/);
    await assert.rejects(service.rename(doc, pos, 'bearer:new', extension), /The keyring is locked\./);
    assert.deepEqual(await service.rename(doc, pos, 'bearer:github', extension), { changes: {} });
    assert.equal(await service.rename(doc, doc.positionAt(1), 'x', extension), null);
  });

  it('rejects an answer of the extension that does not match the declared result', async () => {
    const { service, doc, at, extension } = setUp({ [RenameTokenRequest.method]: { renamed: 'yes' } });
    await assert.rejects(service.rename(doc, at('$<TOKEN:bearer:github>'), 'gh', extension), /Invalid mcpTokens\/renameToken result: renamed:/);
  });
});

describe('executed commands (features/commands.ts)', () => {
  const moveArgs = { uri: 'file:///project/.vscode/mcp.tokens.json', version: 3, range: { start: { line: 0, character: 1 }, end: { line: 0, character: 5 } }, key: { namespace: 'bearer', name: 'x' }, type: 'bearer', replacement: '$<TOKEN:bearer:x>' };

  it('forwards create-token and move-secret to the extension with their checked arguments', async () => {
    const { service, extension } = setUp({ [CreateTokenRequest.method]: { created: true }, [MoveSecretRequest.method]: { moved: true } });
    assert.deepEqual(await service.executeCommand(CreateTokenCommand.id, { key: { namespace: 'bearer', name: 'new' } }, extension, () => undefined), { created: true });
    assert.deepEqual(await service.executeCommand(MoveSecretCommand.id, moveArgs, extension, () => 3), { moved: true });
    assert.deepEqual(extension.sent.map((s) => s.method), ['mcpTokens/createToken', 'mcpTokens/moveSecret']);
  });

  it('refuses a move when the document is not at the version of the diagnostic, without asking the extension', async () => {
    const { service, extension } = setUp();
    assert.deepEqual(await service.executeCommand(MoveSecretCommand.id, moveArgs, extension, () => 4), { moved: false, message: STALE_DOCUMENT });
    assert.deepEqual(await service.executeCommand(MoveSecretCommand.id, moveArgs, extension, () => undefined), { moved: false, message: STALE_DOCUMENT });
    assert.deepEqual(extension.sent, []);
  });

  it('rejects invalid arguments and unknown commands', async () => {
    const { service, extension } = setUp();
    await assert.rejects(service.executeCommand(CreateTokenCommand.id, { key: { namespace: 'bearer' } }, extension, () => undefined), /key\.name/);
    await assert.rejects(service.executeCommand(MoveSecretCommand.id, { ...moveArgs, range: undefined }, extension, () => 3), /range/);
    await assert.rejects(service.executeCommand('mcpTokens.nothing', {}, extension, () => undefined), /Unknown command mcpTokens\.nothing/);
    assert.deepEqual(extension.sent, []);
  });
});

describe('reference conversion (features/codeActions.ts)', () => {
  it('converts between the two forms', () => {
    const service = new McpTokensLanguageService({ secretlint: false });
    for (const [from, to] of [['${TOKEN:a:b}', '$<TOKEN:a:b>'], ['$<TOKEN:a:b>', '${TOKEN:a:b}']]) {
      const text = `{ "servers": { "s": { "type": "stdio", "command": "x", "env": { "T": "x ${from} y" } } } }`;
      const doc = TextDocument.create('file:///project/.vscode/mcp.tokens.json', 'jsonc', 1, text);
      const start = doc.positionAt(text.indexOf(from) + 3);
      const actions = service.codeActions(doc, { start, end: start }, { diagnostics: [], only: [CodeActionKind.RefactorRewrite] });
      const edits = actions.flatMap((a) => Object.values(a.edit?.changes ?? {}).flat());
      assert.deepEqual(edits.map((e) => [doc.offsetAt(e.range.start), doc.offsetAt(e.range.end), e.newText]), [[text.indexOf(from), text.indexOf(from) + from.length, to]]);
    }
  });
});
