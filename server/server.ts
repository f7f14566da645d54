/**
 * The language server's entry point: connection wiring only. Features live in features/, state in
 * service.ts. The server never receives a token value (see core/protocol.ts).
 */
import { readFile, stat } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import {
  CodeActionKind,
  ErrorCodes,
  LSPErrorCodes,
  ProposedFeatures,
  ResponseError,
  TextDocumentSyncKind,
  TextDocuments,
  createConnection,
  type InitializeResult,
} from 'vscode-languageserver/node';
import { TextDocument } from 'vscode-languageserver-textdocument';
import { describeIssues, sameKey } from './core/model';
import {
  COMMANDS,
  CREATE_TOKEN,
  METADATA,
  MOVE_SECRET,
  PROTOCOL_VERSION,
  RENAME_TOKEN,
  SETTINGS,
  WORKSPACE_FILES,
  createTokenParamsSchema,
  metadataParamsSchema,
  moveSecretCommandArgsSchema,
  settingsParamsSchema,
  workspaceFilesParamsSchema,
  type CreateTokenResult,
  type MoveSecretResult,
  type RenameTokenResult,
} from './core/protocol';
import { keyId } from './core/reference';
import { MAX_DISK_FILE_BYTES } from './documents';
import { McpTokensLanguageService } from './service';
import { MemoryKeeper } from './memory';
import { TRIGGER_CHARACTERS } from './features/completion';
import { parseNewKey, referenceKeyAt, renameEdit } from './features/navigation';

const connection = createConnection(ProposedFeatures.all);
const documents = new TextDocuments(TextDocument);
const service = new McpTokensLanguageService({ completionItemDefaults: false });
let diagnosticsDelay = 150;
const timers = new Map<string, NodeJS.Timeout>();
let validating = 0;
const memory = new MemoryKeeper(() => timers.size > 0 || validating > 0);

connection.onInitialize((params): InitializeResult => {
  const defaults = params.capabilities.textDocument?.completion?.completionList?.itemDefaults ?? [];
  service.completionItemDefaults = defaults.includes('editRange');
  return {
    capabilities: {
      textDocumentSync: { openClose: true, change: TextDocumentSyncKind.Incremental },
      completionProvider: { triggerCharacters: TRIGGER_CHARACTERS, resolveProvider: true },
      hoverProvider: true,
      codeActionProvider: { codeActionKinds: [CodeActionKind.QuickFix, CodeActionKind.RefactorRewrite] },
      documentLinkProvider: { resolveProvider: false },
      referencesProvider: true,
      renameProvider: { prepareProvider: true },
      executeCommandProvider: { commands: [COMMANDS.createToken, COMMANDS.moveSecret] },
    },
    serverInfo: { name: 'mcp-tokens-language-server', version: String(PROTOCOL_VERSION) },
  };
});

// ---- diagnostics, debounced per document ------------------------------------------------------

function schedule(uri: string, delay = diagnosticsDelay): void {
  clearTimeout(timers.get(uri));
  timers.set(
    uri,
    setTimeout(() => {
      timers.delete(uri);
      void validate(uri);
    }, delay),
  );
}

async function validate(uri: string): Promise<void> {
  const doc = documents.get(uri);
  if (!doc || !service.isMcpFile(uri)) return;
  validating++;
  try {
    const diagnostics = await service.diagnostics(doc);
    if (documents.get(uri)?.version !== doc.version) return; // a newer version is scheduled
    await connection.sendDiagnostics({ uri, version: doc.version, diagnostics });
    memory.afterPass(doc.getText().length);
  } catch (e) {
    connection.console.error(`Diagnostics failed for ${uri}: ${e instanceof Error ? e.message : String(e)}`);
  } finally {
    validating--;
  }
}

function revalidateAll(): void {
  for (const doc of documents.all()) {
    if (service.isMcpFile(doc.uri)) schedule(doc.uri, 0);
    else void connection.sendDiagnostics({ uri: doc.uri, diagnostics: [] });
  }
}

const justOpened = new Set<string>();
documents.onDidOpen((e) => {
  service.workspace.didOpen(e.document);
  justOpened.add(e.document.uri);
});
// Fired right after onDidOpen too: a document just opened is checked at once, edits after a pause.
documents.onDidChangeContent((e) => {
  schedule(e.document.uri, justOpened.delete(e.document.uri) ? 0 : diagnosticsDelay);
  memory.afterChange(e.document.getText().length);
});
documents.onDidClose((e) => {
  justOpened.delete(e.document.uri);
  clearTimeout(timers.get(e.document.uri));
  timers.delete(e.document.uri);
  service.workspace.didClose(e.document.uri);
  void connection.sendDiagnostics({ uri: e.document.uri, diagnostics: [] });
});

// ---- notifications from the extension ---------------------------------------------------------

connection.onNotification(METADATA, (raw: unknown) => {
  const parsed = metadataParamsSchema.safeParse(raw);
  if (!parsed.success) return connection.console.error(`Ignored invalid token metadata: ${describeIssues(parsed.error)}`);
  service.catalog.update(parsed.data);
  revalidateAll();
});

connection.onNotification(SETTINGS, (raw: unknown) => {
  const parsed = settingsParamsSchema.safeParse(raw);
  if (!parsed.success) return connection.console.error(`Ignored invalid settings: ${describeIssues(parsed.error)}`);
  diagnosticsDelay = parsed.data.diagnosticsDelay;
  service.workspace.configure({ extraGlobs: parsed.data.extraFiles, userDirectories: parsed.data.userDirectories });
  for (const doc of documents.all()) service.workspace.didOpen(doc);
  revalidateAll();
});

connection.onNotification(WORKSPACE_FILES, (raw: unknown) => {
  const parsed = workspaceFilesParamsSchema.safeParse(raw);
  if (!parsed.success) return connection.console.error(`Ignored invalid file list: ${describeIssues(parsed.error)}`);
  void service.workspace.setWorkspaceFiles(parsed.data.uris, readDiskFile);
});

async function readDiskFile(uri: string): Promise<string | undefined> {
  if (!uri.startsWith('file:')) return undefined;
  const path = fileURLToPath(uri);
  const info = await stat(path);
  if (!info.isFile() || info.size > MAX_DISK_FILE_BYTES) return undefined;
  return readFile(path, 'utf8');
}

// ---- features ---------------------------------------------------------------------------------

connection.onCompletion((p) => {
  const doc = documents.get(p.textDocument.uri);
  return doc ? service.complete(doc, p.position) : null;
});
connection.onCompletionResolve((item) => service.resolveCompletion(item));
connection.onHover((p) => {
  const doc = documents.get(p.textDocument.uri);
  return doc ? service.hover(doc, p.position) : null;
});
connection.onCodeAction((p) => {
  const doc = documents.get(p.textDocument.uri);
  return doc ? service.codeActions(doc, p.range, p.context) : null;
});
connection.onDocumentLinks((p) => {
  const doc = documents.get(p.textDocument.uri);
  return doc ? service.documentLinks(doc) : null;
});
connection.onReferences((p) => {
  const doc = documents.get(p.textDocument.uri);
  return doc ? service.references(doc, p.position) : null;
});
connection.onPrepareRename((p) => {
  const doc = documents.get(p.textDocument.uri);
  return doc ? service.prepareRename(doc, p.position) : null;
});
connection.onRenameRequest(async (p) => {
  const doc = documents.get(p.textDocument.uri);
  const from = doc && referenceKeyAt(service, doc, p.position);
  if (!doc || !from) return null;
  const to = parseNewKey(from, p.newName);
  if (sameKey(from, to)) return { changes: {} };
  if (service.catalog.has(from)) {
    if (service.catalog.has(to)) throw new ResponseError(ErrorCodes.InvalidRequest, `A token ${keyId(to)} already exists.`);
    const result = await connection.sendRequest<RenameTokenResult>(RENAME_TOKEN, { from, to });
    if (!result?.renamed) throw new ResponseError(LSPErrorCodes.RequestFailed, result?.message ?? `The token ${keyId(from)} was not renamed.`);
  }
  return renameEdit(service, from, to);
});

connection.onExecuteCommand(async (p) => {
  const arg = p.arguments?.[0];
  if (p.command === COMMANDS.createToken) {
    const parsed = createTokenParamsSchema.safeParse(arg);
    if (!parsed.success) throw new ResponseError(ErrorCodes.InvalidParams, describeIssues(parsed.error));
    return connection.sendRequest<CreateTokenResult>(CREATE_TOKEN, parsed.data);
  }
  if (p.command === COMMANDS.moveSecret) {
    const parsed = moveSecretCommandArgsSchema.safeParse(arg);
    if (!parsed.success) throw new ResponseError(ErrorCodes.InvalidParams, describeIssues(parsed.error));
    const doc = documents.get(parsed.data.uri);
    if (!doc || doc.version !== parsed.data.version) {
      return { moved: false, message: 'The document changed since the problem was reported; try the quick fix again.' } satisfies MoveSecretResult;
    }
    return connection.sendRequest<MoveSecretResult>(MOVE_SECRET, parsed.data);
  }
  throw new ResponseError(ErrorCodes.MethodNotFound, `Unknown command ${p.command}.`);
});

documents.listen(connection);
connection.listen();
