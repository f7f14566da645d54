/**
 * Starts the language server (dist/server.js) for MCP config files, pushes token metadata (never
 * values) on every store change, and answers the server's requests that touch the store: create a
 * token, move a hard-coded secret into the store, rename a token. Every message is one declaration
 * of server/core/protocol.ts; the params the server sends are checked with its schema (`receive`).
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import { LanguageClient, TransportKind, type LanguageClientOptions, type ServerOptions } from 'vscode-languageclient/node';
import { assessValue } from '../../server/core/formats';
import { isInternalNamespace } from '../../server/core/model';
import { MCP_FILE_NAMES, TOKEN_AWARE_USER_FILE, WORKSPACE_GLOBS } from '../../server/core/mcpFiles';
import { SERVER_ENV, serverExecArgv } from '../../server/core/launch';
import {
  CreateTokenRequest,
  EXTENSION_COMMANDS,
  MetadataNotification,
  MoveSecretRequest,
  RenameTokenRequest,
  STALE_DOCUMENT,
  SettingsNotification,
  WorkspaceFilesNotification,
  receive,
  type CreateTokenParams,
  type CreateTokenResult,
  type MoveSecretParams,
  type MoveSecretResult,
  type RenameTokenParams,
  type RenameTokenResult,
} from '../../server/core/protocol';
import { formatReference, keyId, parseWholeReference, type TokenKey } from '../../server/core/reference';
import type { Services } from '../services';
import { errorText as message } from '../../server/core/errors';

const DIAGNOSTICS_DELAY_MS = 150;
const MAX_WORKSPACE_FILES = 2000;

/** Extra globs as document-selector / findFiles patterns: a relative glob matches in any folder. */
function extraPatterns(globs: readonly string[]): string[] {
  return globs.map((g) => g.trim().replace(/\\/g, '/')).filter((g) => g && !path.isAbsolute(g)).map((g) => (g.startsWith('**/') ? g : `**/${g}`));
}

/** At most one metadata push per this long: the store changes within it reach the server together. */
const METADATA_COALESCE_MS = 30;

export function registerLanguageClient(s: Services): void {
  const manager = new LanguageClientManager(s);
  s.context.subscriptions.push(manager);
  // Started right after `activate` returns, not inside it: creating the client and forking the
  // server process cost more than the whole activation budget (50 ms).
  const timer = setImmediate(() => void manager.start());
  s.context.subscriptions.push({ dispose: () => clearImmediate(timer) });
}

class LanguageClientManager implements vscode.Disposable {
  private client: LanguageClient | undefined;
  private readonly disposables: vscode.Disposable[] = [];
  private clientDisposables: vscode.Disposable[] = [];
  private filesTimer: NodeJS.Timeout | undefined;
  private metadataTimer: NodeJS.Timeout | undefined;
  private lastMetadataPush = 0;
  private starting: Promise<void> | undefined;

  constructor(private readonly s: Services) {
    this.disposables.push(
      s.store.onDidChange(() => this.scheduleMetadata()),
      s.config.onDidChange(() => this.scheduleMetadata(), 'expiryWarningDays'),
      s.config.onDidChange(() => void this.restart(), 'languageServer.extraFiles'),
      vscode.workspace.onDidChangeWorkspaceFolders(() => this.scheduleFiles()),
    );
  }

  dispose(): void {
    clearTimeout(this.filesTimer);
    clearTimeout(this.metadataTimer);
    for (const d of [...this.disposables, ...this.clientDisposables]) d.dispose();
    void this.client?.stop().catch(() => undefined);
    this.client = undefined;
  }

  start(): Promise<void> {
    this.starting ??= this.doStart().finally(() => (this.starting = undefined));
    return this.starting;
  }

  private async restart(): Promise<void> {
    await this.starting;
    const old = this.client;
    this.client = undefined;
    for (const d of this.clientDisposables) d.dispose();
    this.clientDisposables = [];
    await old?.stop().catch((e) => this.s.log.warn(`Stopping the language server failed: ${message(e)}`));
    await this.start();
  }

  private async doStart(): Promise<void> {
    const module = this.s.context.asAbsolutePath(path.join('dist', 'server.js'));
    // The same flags and environment as the benchmark (server/core/launch.ts): the server's memory budget.
    const env = { ...process.env, ...SERVER_ENV };
    const serverOptions: ServerOptions = {
      // The server runs on this process's Node.js (vscode-languageclient forks process.execPath).
      run: { module, transport: TransportKind.ipc, options: { execArgv: serverExecArgv(), env } },
      debug: { module, transport: TransportKind.ipc, options: { execArgv: [...serverExecArgv(), '--nolazy', '--inspect=6019'], env } },
    };
    const extra = this.s.config.languageServerExtraFiles();
    const clientOptions: LanguageClientOptions = {
      documentSelector: [{ pattern: `**/{${MCP_FILE_NAMES.join(',')}}` }, ...extraPatterns(extra).map((pattern) => ({ pattern }))],
      // Hovers link to the extension's token commands; only those may run from them.
      markdown: { isTrusted: { enabledCommands: Object.values(EXTENSION_COMMANDS) }, supportHtml: false },
      diagnosticCollectionName: 'mcpTokens',
    };
    const client = new LanguageClient('mcpTokens.languageServer', 'MCP Tokens Language Server', serverOptions, clientOptions);
    // Each handler receives the params its declaration's schema accepted (InvalidParams otherwise).
    this.clientDisposables.push(
      client.onRequest(CreateTokenRequest.type, (raw) => this.createToken(receive(CreateTokenRequest, raw))),
      client.onRequest(MoveSecretRequest.type, (raw) => this.moveSecret(receive(MoveSecretRequest, raw))),
      client.onRequest(RenameTokenRequest.type, (raw) => this.renameToken(receive(RenameTokenRequest, raw))),
    );
    try {
      await client.start();
    } catch (e) {
      this.s.log.error(`The MCP Tokens language server did not start: ${message(e)}`);
      return;
    }
    this.client = client;
    this.watchFiles(extra);
    await this.pushSettings(extra);
    await this.s.store.ready().catch(() => undefined);
    this.pushMetadata();
    this.scheduleFiles(0);
  }

  // ---- pushing state ---------------------------------------------------------------------------

  /**
   * Store changes arrive in bursts (an import of 1,000 tokens, a bulk move): a change pushes at once
   * unless one was pushed less than `METADATA_COALESCE_MS` ago; the changes within that window go
   * out as one push at its end. Each push carries every token's metadata, so one per change was
   * 1,000 pushes of up to 1,000 entries during an import, and as many re-validations of the open
   * files; a single change (a rename, a quick fix creating a token) still reaches the server at once.
   */
  private scheduleMetadata(): void {
    if (this.metadataTimer) return; // the window's push is pending: it will carry this change too
    const wait = this.lastMetadataPush + METADATA_COALESCE_MS - Date.now();
    if (wait <= 0) this.pushMetadata();
    else this.metadataTimer = setTimeout(() => this.pushMetadata(), wait);
  }

  private pushMetadata(): void {
    clearTimeout(this.metadataTimer);
    this.metadataTimer = undefined;
    this.lastMetadataPush = Date.now();
    const client = this.client;
    if (!client) return;
    const params = { tokens: this.s.store.list(), expiryWarningDays: this.s.config.expiryWarningDays() };
    client.sendNotification(MetadataNotification.type, params).catch((e) => this.s.log.warn(`Could not send token metadata to the language server: ${message(e)}`));
  }

  private async pushSettings(extra: readonly string[]): Promise<void> {
    const params = { extraFiles: extra, userDirectories: this.userDirectories(), diagnosticsDelay: DIAGNOSTICS_DELAY_MS };
    await this.client?.sendNotification(SettingsNotification.type, params).catch((e) => this.s.log.warn(`Could not send settings to the language server: ${message(e)}`));
  }

  /** VS Code's `User` folder: global storage is `<User>/globalStorage/<extension id>`. */
  private userDirectories(): string[] {
    const storage = this.s.context.globalStorageUri;
    return [path.posix.dirname(path.posix.dirname(storage.path))];
  }

  private watchFiles(extra: readonly string[]): void {
    for (const glob of [...WORKSPACE_GLOBS, ...extraPatterns(extra)]) {
      const watcher = vscode.workspace.createFileSystemWatcher(glob);
      const changed = () => this.scheduleFiles();
      this.clientDisposables.push(watcher, watcher.onDidCreate(changed), watcher.onDidChange(changed), watcher.onDidDelete(changed));
    }
  }

  private scheduleFiles(delay = 500): void {
    clearTimeout(this.filesTimer);
    this.filesTimer = setTimeout(() => void this.pushFiles(), delay);
  }

  private async pushFiles(): Promise<void> {
    const client = this.client;
    if (!client) return;
    const patterns = [...WORKSPACE_GLOBS, ...extraPatterns(this.s.config.languageServerExtraFiles())];
    const found = new Set<string>();
    try {
      const results = await Promise.all(patterns.map((p) => vscode.workspace.findFiles(p, '**/node_modules/**', MAX_WORKSPACE_FILES)));
      for (const list of results) for (const uri of list) found.add(uri.toString());
      found.add(vscode.Uri.joinPath(this.s.context.globalStorageUri, TOKEN_AWARE_USER_FILE).toString());
    } catch (e) {
      this.s.log.warn(`Could not list the MCP config files: ${message(e)}`);
    }
    await client.sendNotification(WorkspaceFilesNotification.type, { uris: [...found].slice(0, MAX_WORKSPACE_FILES) }).catch(() => undefined);
  }

  // ---- requests from the server ----------------------------------------------------------------

  private async createToken({ key, type, provider }: CreateTokenParams): Promise<CreateTokenResult> {
    if (isInternalNamespace(key.namespace)) throw new Error('Invalid request: an internal namespace.');
    await vscode.commands.executeCommand(EXTENSION_COMMANDS.setToken, { namespace: key.namespace, name: key.name, type, provider });
    return { created: this.s.store.has(key) };
  }

  private async moveSecret(p: MoveSecretParams): Promise<MoveSecretResult> {
    if (isInternalNamespace(p.key.namespace)) return this.refuse(vscode.l10n.t('A secret cannot be moved into an internal namespace of MCP Tokens.'));
    const uri = vscode.Uri.parse(p.uri);
    const doc = vscode.workspace.textDocuments.find((d) => d.uri.toString() === uri.toString());
    if (!doc || doc.version !== p.version) return this.refuse(STALE_DOCUMENT);
    const range = new vscode.Range(p.range.start.line, p.range.start.character, p.range.end.line, p.range.end.character);
    const source = doc.getText(range);
    let value: string;
    try {
      value = JSON.parse(`"${source}"`) as string; // the literal as JSON source text: decode escapes
    } catch {
      return this.refuse(vscode.l10n.t('The selected text is not part of a JSON string.'));
    }
    if (!value || value.length > 65536 || /\$[<{]TOKEN:/i.test(value)) return this.refuse(vscode.l10n.t('There is no literal secret to move at this place.'));
    await this.s.store.ready();
    let key: TokenKey = p.key;
    for (let n = 2; this.s.store.has(key) && n < 1000; n++) key = { namespace: p.key.namespace, name: `${p.key.name}-${n}`.slice(0, 128) };
    const form = parseWholeReference(p.replacement)?.form ?? 'angle';
    try {
      // A moved JWT brings its expiry and claims, as with Set Token.
      const facts = assessValue(value, { provider: p.provider, type: p.type }, new Date());
      await this.s.store.set({ namespace: key.namespace, name: key.name, value, type: p.type, provider: p.provider, description: p.description, expiresAt: facts.jwtExpiresAt, jwt: facts.jwt });
    } catch (e) {
      return this.refuse(vscode.l10n.t('Could not store the secret: {0}', message(e)));
    }
    const edit = new vscode.WorkspaceEdit();
    edit.replace(uri, range, formatReference(key, form));
    if (!(await vscode.workspace.applyEdit(edit))) {
      return this.refuse(vscode.l10n.t('The secret was stored as {0}, but the file could not be edited; replace it by {1}.', keyId(key), formatReference(key, form)));
    }
    void vscode.window.showInformationMessage(vscode.l10n.t('Moved the secret to MCP Tokens as {0}. Save the file to keep the change.', keyId(key)));
    this.s.log.info(`Moved a hard-coded secret from ${vscode.workspace.asRelativePath(uri)} to ${keyId(key)}.`);
    return { moved: true };
  }

  private refuse(text: string): MoveSecretResult {
    void vscode.window.showWarningMessage(text);
    return { moved: false, message: text };
  }

  private async renameToken({ from, to }: RenameTokenParams): Promise<RenameTokenResult> {
    if (isInternalNamespace(from.namespace) || isInternalNamespace(to.namespace)) return { renamed: false, message: vscode.l10n.t('Internal entries of MCP Tokens cannot be renamed.') };
    try {
      await this.s.store.rename(from, to);
      this.s.log.info(`Renamed ${keyId(from)} to ${keyId(to)}.`);
      return { renamed: true };
    } catch (e) {
      return { renamed: false, message: message(e) };
    }
  }
}
