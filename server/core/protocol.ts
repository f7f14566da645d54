/**
 * The whole protocol between the extension (language client) and the language server, in one file
 * both sides import. Pure: no `vscode`, no `vscode-languageserver`; types are structurally
 * compatible with LSP's (`Range`, `Position`).
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
 *   extension → server  notifications  METADATA, SETTINGS, WORKSPACE_FILES
 *   server → extension  requests       CREATE_TOKEN, MOVE_SECRET, RENAME_TOKEN
 *   editor → server     commands       (workspace/executeCommand, registered by the client library)
 *                                      COMMANDS.createToken, COMMANDS.moveSecret, COMMANDS.convertReference
 */
import { z } from 'zod';
import { tokenKeySchema, tokenMetadataSchema, tokenTypeSchema, type TokenMetadata, type TokenType } from './model';
import type { TokenKey } from './reference';

export const PROTOCOL_VERSION = 1;

export interface Position {
  readonly line: number;
  readonly character: number;
}
export interface Range {
  readonly start: Position;
  readonly end: Position;
}

const positionSchema = z.object({ line: z.number().int().min(0), character: z.number().int().min(0) });
export const rangeSchema = z.object({ start: positionSchema, end: positionSchema });

// ---- extension → server ----------------------------------------------------------------------

/** Pushed at start and again on every store change: the metadata of every token (never values). */
export const METADATA = 'mcpTokens/metadata';
export interface MetadataParams {
  readonly tokens: readonly TokenMetadata[];
  /** `mcpTokens.expiryWarningDays`: from how many days before expiry a reference is flagged. */
  readonly expiryWarningDays: number;
}
export const metadataParamsSchema = z.object({
  tokens: z.array(tokenMetadataSchema).max(100_000),
  expiryWarningDays: z.number().min(0).max(365),
});

/** Pushed at start and whenever a relevant setting changes. */
export const SETTINGS = 'mcpTokens/settings';
export interface SettingsParams {
  /** `mcpTokens.languageServer.extraFiles`: extra globs of MCP config files. */
  readonly extraFiles: readonly string[];
  /** Folders holding VS Code's user profile (`.../User`), so its `mcp.json` is told apart from others. */
  readonly userDirectories: readonly string[];
  /** Delay between the last edit and the diagnostics pass, in milliseconds. */
  readonly diagnosticsDelay: number;
}
export const settingsParamsSchema = z.object({
  extraFiles: z.array(z.string().max(1024)).max(256),
  userDirectories: z.array(z.string().max(4096)).max(64),
  diagnosticsDelay: z.number().int().min(0).max(10_000),
});

/**
 * The MCP config files of the workspace (and the user-level ones), found by the extension with
 * `workspace.findFiles`; pushed again when one is created, changed or deleted. The server reads
 * the ones that are not open, for "find references", rename and the "used by" list of hovers.
 */
export const WORKSPACE_FILES = 'mcpTokens/workspaceFiles';
export interface WorkspaceFilesParams {
  readonly uris: readonly string[];
}
export const workspaceFilesParamsSchema = z.object({ uris: z.array(z.string().max(8192)).max(10_000) });

// ---- server → extension ----------------------------------------------------------------------

/** Opens the "set token" flow prefilled with this key (the user enters the value in the extension). */
export const CREATE_TOKEN = 'mcpTokens/createToken';
export interface CreateTokenParams {
  readonly key: TokenKey;
  readonly type?: TokenType;
  readonly provider?: string;
}
export interface CreateTokenResult {
  /** True when the token exists after the flow. */
  readonly created: boolean;
}
export const createTokenParamsSchema = z.object({ key: tokenKeySchema, type: tokenTypeSchema.optional(), provider: z.string().max(64).optional() });

/**
 * Moves a hard-coded secret into the store: the extension reads the text of `range` in its copy of
 * document `uri` (which must still be at `version`), stores it as `key`, and replaces `range` by
 * `replacement` (the reference) in one workspace edit.
 */
export const MOVE_SECRET = 'mcpTokens/moveSecret';
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
export interface MoveSecretResult {
  readonly moved: boolean;
  /** Why nothing was moved (never contains the literal). */
  readonly message?: string;
}
export const moveSecretParamsSchema = z.object({
  uri: z.string().max(8192),
  version: z.number().int(),
  range: rangeSchema,
  key: tokenKeySchema,
  type: tokenTypeSchema,
  provider: z.string().max(64).optional(),
  replacement: z.string().max(1024),
  description: z.string().max(1024).optional(),
});

/** Renames a token in the store (value, previous value and metadata move together). */
export const RENAME_TOKEN = 'mcpTokens/renameToken';
export interface RenameTokenParams {
  readonly from: TokenKey;
  readonly to: TokenKey;
}
export interface RenameTokenResult {
  readonly renamed: boolean;
  readonly message?: string;
}
export const renameTokenParamsSchema = z.object({ from: tokenKeySchema, to: tokenKeySchema });

// ---- commands the server executes (code actions point at them) --------------------------------

export const COMMANDS = {
  /** Argument: CreateTokenParams. Forwards to CREATE_TOKEN. */
  createToken: 'mcpTokens.languageServer.createToken',
  /** Argument: MoveSecretCommandArgs. The server re-checks the document, then sends MOVE_SECRET. */
  moveSecret: 'mcpTokens.languageServer.moveSecret',
} as const;

/** The code action's command carries exactly the request's parameters. */
export type MoveSecretCommandArgs = MoveSecretParams;
export const moveSecretCommandArgsSchema = moveSecretParamsSchema;

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
} as const;
export type DiagnosticCode = (typeof DIAGNOSTIC_CODES)[keyof typeof DIAGNOSTIC_CODES];

/** The `Diagnostic.source` of every diagnostic the server publishes. */
export const DIAGNOSTIC_SOURCE = 'MCP Tokens';
