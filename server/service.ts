/**
 * The language service: the token catalog, the workspace's MCP config files and every feature,
 * without a connection (a facade over one module per feature in features/). server.ts wires it to
 * LSP; the fuzz test and the benchmark call it directly. The features that need the extension (rename,
 * the commands) take a RequestSender, the typed channel of core/protocol.ts.
 */
import type { CodeAction, CodeActionContext, CompletionItem, CompletionList, Diagnostic, DocumentLink, Hover, Location, Position, Range, WorkspaceEdit } from 'vscode-languageserver/node';
import type { TextDocument } from 'vscode-languageserver-textdocument';
import { TokenCatalog } from './catalog';
import { McpWorkspace } from './documents';
import { SecretlintScanner } from './core/secretlintScan';
import type { FeatureContext } from './features/common';
import { complete, resolveCompletion } from './features/completion';
import { hover } from './features/hover';
import { computeDiagnostics } from './features/diagnostics';
import { codeActions } from './features/codeActions';
import { documentLinks, references } from './features/navigation';
import { prepareRename, rename } from './features/rename';
import { executeCommand } from './features/commands';
import type { CreateTokenResult, MoveSecretResult, RequestSender } from './core/protocol';

export interface LanguageServiceOptions {
  /** Run secretlint's recommended preset in diagnostics (default true). */
  readonly secretlint?: boolean;
  readonly now?: () => Date;
  /** Answer completion with `itemDefaults.editRange` (default true; the server sets it from the client's capabilities). */
  readonly completionItemDefaults?: boolean;
}

export class McpTokensLanguageService implements FeatureContext {
  readonly catalog = new TokenCatalog();
  readonly workspace = new McpWorkspace();
  readonly now: () => Date;
  completionItemDefaults: boolean;
  private readonly secretlint: SecretlintScanner | undefined;

  constructor(options: LanguageServiceOptions = {}) {
    this.now = options.now ?? (() => new Date());
    this.completionItemDefaults = options.completionItemDefaults ?? true;
    this.secretlint = options.secretlint === false ? undefined : new SecretlintScanner();
  }

  isMcpFile(uri: string): boolean {
    return this.workspace.classify(uri) !== undefined;
  }

  complete(doc: TextDocument, position: Position): CompletionList | null {
    return complete(this, doc, position);
  }

  resolveCompletion(item: CompletionItem): CompletionItem {
    return resolveCompletion(this, item);
  }

  hover(doc: TextDocument, position: Position): Hover | null {
    return hover(this, doc, position);
  }

  /** `early`: see computeDiagnostics (the first answer while secretlint reads values it has not seen). */
  async diagnostics(doc: TextDocument, early?: (diagnostics: Diagnostic[]) => unknown): Promise<Diagnostic[]> {
    const analysis = this.workspace.analyze(doc);
    if (!analysis) return [];
    return computeDiagnostics(this, analysis, this.secretlint, early);
  }

  codeActions(doc: TextDocument, range: Range, context: CodeActionContext): CodeAction[] {
    return codeActions(this, doc, range, context);
  }

  documentLinks(doc: TextDocument): DocumentLink[] {
    return documentLinks(this, doc);
  }

  references(doc: TextDocument, position: Position): Location[] | null {
    return references(this, doc, position);
  }

  prepareRename(doc: TextDocument, position: Position): { range: Range; placeholder: string } | null {
    return prepareRename(this, doc, position);
  }

  rename(doc: TextDocument, position: Position, newName: string, extension: RequestSender): Promise<WorkspaceEdit | null> {
    return rename(this, extension, doc, position, newName);
  }

  /** Runs one of core/protocol.ts's SERVER_COMMANDS; `openVersion` is the version of an open document. */
  executeCommand(command: string, argument: unknown, extension: RequestSender, openVersion: (uri: string) => number | undefined): Promise<CreateTokenResult | MoveSecretResult> {
    return executeCommand(extension, command, argument, openVersion);
  }
}
