/**
 * The whole protocol between the extension (language client) and the language server, in one file
 * both sides import. Pure: no `vscode`, no `vscode-languageserver`/`vscode-languageclient`; the
 * message types come from `vscode-jsonrpc`, the JSON-RPC layer both of those libraries re-export
 * (it has no `vscode` and no process dependency), so `client.sendRequest(RenameTokenRequest.type, …)`
 * and `connection.onRequest(RenameTokenRequest.type, …)` infer params and result from the declaration.
 *
 * Each custom message is declared ONCE, as one object (vscode-eslint's shape, rust-analyzer's
 * `lsp_ext.ts` style): `method`, the typed `type`, and zod schemas for `params` (and `result`) that
 * the RECEIVING side checks with `receive` / `receiveResult`. Call sites name the declaration only:
 * no method string, no generic type argument restated.
 *
 * Rules:
 * - The server never receives a token VALUE. The extension pushes metadata only
 *   (`TokenMetadata` has no value field) and answers the requests that touch the store.
 * - A hard-coded secret is moved into the store by the extension: the server names the document,
 *   its version and the range of the literal; the extension reads the literal from its own copy
 *   of the document, stores it and replaces the range by the reference. The literal therefore never
 *   travels through the protocol (the server only ever saw it as part of the document, which LSP
 *   document sync sends anyway).
 *
 * Direction of each message:
 *   extension → server  notifications  MetadataNotification, SettingsNotification, WorkspaceFilesNotification
 *   server → extension  requests       CreateTokenRequest, MoveSecretRequest, RenameTokenRequest
 *   editor → server     commands       (workspace/executeCommand, registered by the client library)
 *                                      CreateTokenCommand, MoveSecretCommand (SERVER_COMMANDS)
 */
import { ErrorCodes, NotificationType, RequestType, ResponseError, type RequestParam } from 'vscode-jsonrpc';
import { z } from 'zod';
import { describeIssues, tokenKeySchema, tokenMetadataSchema, tokenTypeSchema, type TokenMetadata, type TokenType } from './model';
import type { TokenKey } from './reference';

export const PROTOCOL_VERSION = 1;

// ---- how a message is declared ------------------------------------------------------------------

/** A request: its method, the typed `RequestType` both libraries take, and the schemas of both directions. */
export interface Request<P, R> {
  readonly method: string;
  readonly type: RequestType<P, R, void>;
  readonly params: z.ZodType<P>;
  readonly result: z.ZodType<R>;
}

/** A notification: its method, the typed `NotificationType`, and the schema of its params. */
export interface Notification<P> {
  readonly method: string;
  readonly type: NotificationType<P>;
  readonly params: z.ZodType<P>;
}

/** A command the server executes (`workspace/executeCommand`); code actions carry exactly one `argument`. */
export interface ServerCommand<A> {
  readonly id: string;
  readonly argument: z.ZodType<A>;
}

function request<P, R>(method: string, params: z.ZodType<P>, result: z.ZodType<R>): Request<P, R> {
  return { method, type: new RequestType<P, R, void>(method), params, result };
}

function notification<P>(method: string, params: z.ZodType<P>): Notification<P> {
  return { method, type: new NotificationType<P>(method), params };
}

/** The params of a received request or notification, checked; a JSON-RPC InvalidParams error names what is wrong (never a value). */
export function receive<P>(message: Request<P, unknown> | Notification<P>, raw: unknown): P {
  const parsed = message.params.safeParse(raw);
  if (!parsed.success) throw new ResponseError(ErrorCodes.InvalidParams, `Invalid ${message.method} parameters: ${describeIssues(parsed.error)}`);
  return parsed.data;
}

/** The result of a sent request, checked: the other process is another program, and may be another version. */
export function receiveResult<R>(message: Request<unknown, R>, raw: unknown): R {
  const parsed = message.result.safeParse(raw);
  if (!parsed.success) throw new ResponseError(ErrorCodes.InternalError, `Invalid ${message.method} result: ${describeIssues(parsed.error)}`);
  return parsed.data;
}

/** The argument of an executed command, checked (InvalidParams otherwise). */
export function receiveArgument<A>(command: ServerCommand<A>, raw: unknown): A {
  const parsed = command.argument.safeParse(raw);
  if (!parsed.success) throw new ResponseError(ErrorCodes.InvalidParams, describeIssues(parsed.error));
  return parsed.data;
}

/** The LSP `Command` that runs `command` with `argument` (the argument's type is the command's). */
export function commandFor<A>(command: ServerCommand<A>, title: string, argument: A): { title: string; command: string; arguments: [A] } {
  return { title, command: command.id, arguments: [argument] };
}

/** Something that sends typed requests: the server's connection to the extension, or a test's stand-in. */
export interface RequestSender {
  send<P, R>(request: Request<P, R>, params: RequestParam<P>): Promise<R>;
}

// ---- shared shapes ------------------------------------------------------------------------------

export interface Position {
  readonly line: number;
  readonly character: number;
}
export interface Range {
  readonly start: Position;
  readonly end: Position;
}

const positionSchema = z.object({ line: z.number().int().min(0), character: z.number().int().min(0) });
const rangeSchema = z.object({ start: positionSchema, end: positionSchema });
/** A human-readable reason sent back with a refusal (never contains a value). */
const reasonSchema = z.string().max(4096).optional();

// ---- extension → server ----------------------------------------------------------------------

export interface MetadataParams {
  readonly tokens: readonly TokenMetadata[];
  /** `mcpTokens.expiryWarningDays`: from how many days before expiry a reference is flagged. */
  readonly expiryWarningDays: number;
}
/** Pushed at start and again on every store change: the metadata of every token (never values). */
export const MetadataNotification = notification<MetadataParams>(
  'mcpTokens/metadata',
  z.object({ tokens: z.array(tokenMetadataSchema).max(100_000), expiryWarningDays: z.number().min(0).max(365) }),
);

export interface SettingsParams {
  /** `mcpTokens.languageServer.extraFiles`: extra globs of MCP config files. */
  readonly extraFiles: readonly string[];
  /** Folders holding VS Code's user profile (`.../User`), so its `mcp.json` is told apart from others. */
  readonly userDirectories: readonly string[];
  /** Delay between the last edit and the diagnostics pass, in milliseconds. */
  readonly diagnosticsDelay: number;
}
/** Pushed at start and whenever a relevant setting changes. */
export const SettingsNotification = notification<SettingsParams>(
  'mcpTokens/settings',
  z.object({
    extraFiles: z.array(z.string().max(1024)).max(256),
    userDirectories: z.array(z.string().max(4096)).max(64),
    diagnosticsDelay: z.number().int().min(0).max(10_000),
  }),
);

/**
 * The MCP config files of the workspace (and the user-level ones), found by the extension with
 * `workspace.findFiles`; pushed again when one is created, changed or deleted. The server reads
 * the ones that are not open, for "find references", rename and the "used by" list of hovers.
 */
export const WorkspaceFilesNotification = notification<{ readonly uris: readonly string[] }>(
  'mcpTokens/workspaceFiles',
  z.object({ uris: z.array(z.string().max(8192)).max(10_000) }),
);

// ---- server → extension ----------------------------------------------------------------------

export interface CreateTokenParams {
  readonly key: TokenKey;
  readonly type?: TokenType;
  readonly provider?: string;
}
export interface CreateTokenResult {
  /** True when the token exists after the flow. */
  readonly created: boolean;
}
/** Opens the "set token" flow prefilled with this key (the user enters the value in the extension). */
export const CreateTokenRequest = request<CreateTokenParams, CreateTokenResult>(
  'mcpTokens/createToken',
  z.object({ key: tokenKeySchema, type: tokenTypeSchema.optional(), provider: z.string().max(64).optional() }),
  z.object({ created: z.boolean() }),
);

export interface MoveSecretParams {
  readonly uri: string;
  readonly version: number;
  readonly range: Range;
  readonly key: TokenKey;
  readonly type: TokenType;
  readonly provider?: string;
  /** The text that replaces the literal: a reference to `key`. */
  readonly replacement: string;
  /** Shown in the store's description, e.g. "moved from .vscode/mcp.json (server github)". */
  readonly description?: string;
}
/** Why a move is refused when the document is no longer at the version the server saw. */
export const STALE_DOCUMENT = 'The document changed since the problem was reported; try the quick fix again.';
export interface MoveSecretResult {
  readonly moved: boolean;
  /** Why nothing was moved (never contains the literal). */
  readonly message?: string;
}
/**
 * Moves a hard-coded secret into the store: the extension reads the text of `range` in its copy of
 * document `uri` (which must still be at `version`), stores it as `key`, and replaces `range` by
 * `replacement` (the reference) in one workspace edit.
 */
export const MoveSecretRequest = request<MoveSecretParams, MoveSecretResult>(
  'mcpTokens/moveSecret',
  z.object({
    uri: z.string().max(8192),
    version: z.number().int(),
    range: rangeSchema,
    key: tokenKeySchema,
    type: tokenTypeSchema,
    provider: z.string().max(64).optional(),
    replacement: z.string().max(1024),
    description: z.string().max(1024).optional(),
  }),
  z.object({ moved: z.boolean(), message: reasonSchema }),
);

export interface RenameTokenParams {
  readonly from: TokenKey;
  readonly to: TokenKey;
}
export interface RenameTokenResult {
  readonly renamed: boolean;
  readonly message?: string;
}
/** Renames a token in the store (value, previous value and metadata move together). */
export const RenameTokenRequest = request<RenameTokenParams, RenameTokenResult>(
  'mcpTokens/renameToken',
  z.object({ from: tokenKeySchema, to: tokenKeySchema }),
  z.object({ renamed: z.boolean(), message: reasonSchema }),
);

// ---- commands the server executes (code actions point at them) --------------------------------

/** Argument: the CreateTokenRequest params. Forwards to CreateTokenRequest. */
export const CreateTokenCommand: ServerCommand<CreateTokenParams> = { id: 'mcpTokens.languageServer.createToken', argument: CreateTokenRequest.params };
/** Argument: the MoveSecretRequest params. The server re-checks the document version, then sends MoveSecretRequest. */
export const MoveSecretCommand: ServerCommand<MoveSecretParams> = { id: 'mcpTokens.languageServer.moveSecret', argument: MoveSecretRequest.params };
/** Every command the server announces in `executeCommandProvider`. */
export const SERVER_COMMANDS = [CreateTokenCommand, MoveSecretCommand] as const;

/** Commands of the extension that hovers and document links point at (argument: `{ namespace, name }`). */
export const EXTENSION_COMMANDS = {
  reveal: 'mcpTokens.revealToken',
  rotate: 'mcpTokens.rotateToken',
  copyReference: 'mcpTokens.copyReference',
  setToken: 'mcpTokens.setToken',
} as const;

/** A `command:` URI for Markdown and document links. */
export function commandUri(command: string, arg: unknown): string {
  return `command:${command}?${encodeURIComponent(JSON.stringify([arg]))}`;
}

/** Diagnostic codes (`Diagnostic.code`) the server publishes; code actions key on them. */
export const DIAGNOSTIC_CODES = {
  malformed: 'malformed-reference',
  unknownNamespace: 'unknown-namespace',
  unknownToken: 'unknown-token',
  expired: 'token-expired',
  expiringSoon: 'token-expiring-soon',
  braceInVsCodeFile: 'brace-form-in-vscode-file',
  unresolvedByClient: 'reference-not-resolved',
  wrongForm: 'wrong-reference-form',
  notWholeValue: 'reference-not-whole-value',
  hardCodedSecret: 'hard-coded-secret',
  /** A file with more diagnostics than VS Code shows: how many there are (features/diagnostics.ts forEditor). */
  moreDiagnostics: 'more-diagnostics',
} as const;
export type DiagnosticCode = (typeof DIAGNOSTIC_CODES)[keyof typeof DIAGNOSTIC_CODES];

/** The `Diagnostic.source` of every diagnostic the server publishes. */
export const DIAGNOSTIC_SOURCE = 'MCP Tokens';
