/**
 * The language server's entry point: connection wiring only. Features live in features/, state in
 * service.ts. The server never receives a token value (see core/protocol.ts).
 */
import { readFile, stat } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { CodeActionKind, ProposedFeatures, type Diagnostic, TextDocumentSyncKind, TextDocuments, createConnection, type InitializeResult } from 'vscode-languageserver/node';
import { TextDocument } from 'vscode-languageserver-textdocument';
import {
  MetadataNotification,
  PROTOCOL_VERSION,
  SERVER_COMMANDS,
  SettingsNotification,
  WorkspaceFilesNotification,
  receive,
  receiveResult,
  type Notification,
  type RequestSender,
} from './core/protocol';
import { errorText } from './core/errors';
import { MAX_DISK_FILE_BYTES, diagnosticsDelayFor } from './documents';
import { McpTokensLanguageService } from './service';
import { forEditor } from './features/diagnostics';
import { MemoryKeeper } from './memory';
import { TRIGGER_CHARACTERS } from './features/completion';

const connection = createConnection(ProposedFeatures.all);
const service = new McpTokensLanguageService({ completionItemDefaults: false });
// Edits go through the workspace, which remembers where each version changed: the next analysis
// re-scans only the server entries an edit touched (documents.ts, core/configScan.ts rescanChunks).
const documents = new TextDocuments<TextDocument>({ create: TextDocument.create, update: (doc, changes, version) => service.workspace.update(doc, changes, version) });
let diagnosticsDelay = 150;
const timers = new Map<string, NodeJS.Timeout>();
let validating = 0;
const memory = new MemoryKeeper(() => timers.size > 0 || validating > 0);
/** The typed channel to the extension: every result is checked against its request's schema. */
const extension: RequestSender = { send: async (request, params) => receiveResult(request, await connection.sendRequest(request.type, params)) };

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
      executeCommandProvider: { commands: SERVER_COMMANDS.map((c) => c.id) },
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

/**
 * Per document, the last pass started: a pass publishes only while it is the last (a metadata push
 * can start another of the same version while one waits for secretlint). Numbered across documents,
 * so that a pass from before a close and reopen never matches a later one.
 */
const passes = new Map<string, number>();
let lastPass = 0;

async function validate(uri: string): Promise<void> {
  const doc = documents.get(uri);
  if (!doc || !service.isMcpFile(uri)) return;
  const pass = ++lastPass;
  passes.set(uri, pass);
  validating++;
  try {
    const current = () => documents.get(uri)?.version === doc.version && passes.get(uri) === pass;
    const send = (diagnostics: Diagnostic[]) => connection.sendDiagnostics({ uri, version: doc.version, diagnostics: forEditor(diagnostics, service.workspace.lastEditLine(uri)) });
    let early: Diagnostic[] | undefined;
    const publish = async (diagnostics: Diagnostic[]) => {
      if (!current()) return;
      early = diagnostics;
      await send(diagnostics);
      // A turn of the event loop first: the IPC socket takes a few hundred KB at a time, and the
      // rest of the message is written only when the loop polls (a collection now would hold it back).
      await new Promise<void>((resolve) => setImmediate(resolve));
      memory.afterEarlyPublish(doc.getText().length);
    };
    const diagnostics = await service.diagnostics(doc, publish);
    if (!current()) return; // a newer version or pass is on its way
    // The early set already sent is the whole result: not sent twice.
    if (diagnostics !== early) await send(diagnostics);
    memory.afterPass(doc.getText().length);
  } catch (e) {
    connection.console.error(`Diagnostics failed for ${uri}: ${errorText(e)}`);
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
  schedule(e.document.uri, justOpened.delete(e.document.uri) ? 0 : diagnosticsDelayFor(e.document.getText().length, diagnosticsDelay));
  memory.afterChange(e.document.getText().length);
});
documents.onDidClose((e) => {
  justOpened.delete(e.document.uri);
  clearTimeout(timers.get(e.document.uri));
  timers.delete(e.document.uri);
  passes.delete(e.document.uri);
  service.workspace.didClose(e.document.uri);
  void connection.sendDiagnostics({ uri: e.document.uri, diagnostics: [] });
});

// ---- notifications from the extension ---------------------------------------------------------

/** Handles a notification whose params passed its schema; an invalid one is logged and ignored. */
function onNotification<P>(notification: Notification<P>, handle: (params: P) => void): void {
  connection.onNotification(notification.type, (raw) => {
    let params: P;
    try {
      params = receive(notification, raw);
    } catch (e) {
      return connection.console.error(`Ignored a notification: ${errorText(e)}`);
    }
    handle(params);
  });
}

onNotification(MetadataNotification, (params) => {
  service.catalog.update(params);
  memory.afterCatalog(params.tokens.length);
  revalidateAll();
});

onNotification(SettingsNotification, (params) => {
  diagnosticsDelay = params.diagnosticsDelay;
  service.workspace.configure({ extraGlobs: params.extraFiles, userDirectories: params.userDirectories });
  for (const doc of documents.all()) service.workspace.didOpen(doc);
  revalidateAll();
});

onNotification(WorkspaceFilesNotification, (params) => void service.workspace.setWorkspaceFiles(params.uris, readDiskFile));

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
connection.onRenameRequest((p) => {
  const doc = documents.get(p.textDocument.uri);
  return doc ? service.rename(doc, p.position, p.newName, extension) : null;
});
connection.onExecuteCommand((p) => service.executeCommand(p.command, p.arguments?.[0], extension, (uri) => documents.get(uri)?.version));

documents.listen(connection);
connection.listen();
