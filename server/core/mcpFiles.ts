/**
 * Which files are MCP config files, and what their client does with token references.
 * Pure: used by the language server (diagnostics) and the extension (document selector, file
 * search). Paths are file-system paths or URI paths; both separators are accepted.
 */
import { minimatch } from 'minimatch';
import type { ReferenceForm } from './reference';
import { MCP_CLI_CONFIG_FILE, USER_TOKENS_FILE, WORKSPACE_TOKENS_FILE } from './mcpConfig';

export type McpFileKind =
  /** `.vscode/mcp.json`: VS Code starts these servers itself. */
  | 'vscode'
  /** The user profile's `mcp.json` (`.../User/mcp.json`, `.../User/profiles/<id>/mcp.json`). */
  | 'vscode-user'
  /** `.vscode/mcp.tokens.json` and the user-level `mcp.tokens.json`: served by this extension. */
  | 'token-aware'
  /** `.mcp.json`: Claude Code's project file (also read by other clients). */
  | 'claude-code'
  /** `claude_desktop_config.json`. */
  | 'claude-desktop'
  /** `.cursor/mcp.json`. */
  | 'cursor'
  /** mcp-cli's `server_config.json`: resolves `${TOKEN:namespace:name}` as a whole value. */
  | 'mcp-cli'
  /** Any other `mcp.json`: the client is not known. */
  | 'generic'
  /** Matched by `mcpTokens.languageServer.extraFiles`. */
  | 'extra';

export interface McpFileClass {
  readonly kind: McpFileKind;
  readonly scope: 'workspace' | 'user';
  /** Whether the program that reads this file replaces token references before launching a server. */
  readonly resolvesReferences: boolean;
  /** Who reads the file, for messages ("VS Code", "Claude Code"); undefined when not known. */
  readonly client?: string;
  /** The file is read by VS Code, which treats `${...}` as one of its own variables. */
  readonly readsVsCodeVariables: boolean;
  /** The reference forms the client resolves (both when it resolves none: nothing to prefer). */
  readonly forms: readonly ReferenceForm[];
  /** The form completions insert. */
  readonly preferredForm: ReferenceForm;
  /** The client resolves a reference only when it is the whole string value (mcp-cli). */
  readonly wholeValueOnly: boolean;
}

export interface ClassifyOptions {
  /** VS Code user profile folders (`.../User`); an `mcp.json` below one is the user configuration. */
  readonly userDirectories?: readonly string[];
  /** Extra globs (absolute, or relative to any folder: `mcp/*.json` matches `<anything>/mcp/x.json`). */
  readonly extraGlobs?: readonly string[];
}

/** The file names the extension looks for (also the document selector of the language client). */
export const MCP_FILE_NAMES = ['mcp.json', '.mcp.json', 'mcp.tokens.json', 'claude_desktop_config.json', MCP_CLI_CONFIG_FILE] as const;

/** Token-aware server files (issue 4): one per workspace folder and one per user. */
export const TOKEN_AWARE_WORKSPACE_FILE = WORKSPACE_TOKENS_FILE;
export const TOKEN_AWARE_USER_FILE = USER_TOKENS_FILE;

/** Globs (relative to a workspace folder) of the MCP config files a workspace can hold. */
export const WORKSPACE_GLOBS = ['**/.vscode/mcp.json', '**/.vscode/mcp.tokens.json', '**/.mcp.json', '**/mcp.json', '**/.cursor/mcp.json', '**/claude_desktop_config.json', '**/server_config.json'] as const;

const BOTH: readonly ReferenceForm[] = ['angle', 'brace'];

function base(kind: McpFileKind, scope: 'workspace' | 'user', client: string | undefined, resolves: boolean, vsVars: boolean): McpFileClass {
  return { kind, scope, client, resolvesReferences: resolves, readsVsCodeVariables: vsVars, forms: BOTH, preferredForm: 'angle', wholeValueOnly: false };
}

export function normalizePath(path: string): string {
  let p = path.replace(/\\/g, '/');
  if (/^\/[A-Za-z]:\//.test(p)) p = p.slice(1); // URI path of a Windows drive: /c:/x
  return p;
}

function isUnder(path: string, dir: string): string | undefined {
  const d = normalizePath(dir).replace(/\/+$/, '');
  if (!d) return undefined;
  const ci = /^[A-Za-z]:\//.test(d); // Windows paths compare case-insensitively
  const p = ci ? path.toLowerCase() : path;
  const dd = ci ? d.toLowerCase() : d;
  return p.startsWith(dd + '/') ? path.slice(d.length + 1) : undefined;
}

/** A VS Code-like product's user folder: `.../Code/User`, `.../Code - Insiders/User`, `.../code-server/User`, `.../VSCodium/User`. */
const USER_DIR_HEURISTIC = /(?:^|\/)(?:Code|Code - Insiders|Code - OSS|VSCodium|code-server|Cursor|Windsurf)\/User\/(?:profiles\/[^/]+\/)?mcp\.json$/i;

/** Classifies a path; undefined when it is not an MCP config file. */
export function classifyMcpFile(path: string, options: ClassifyOptions = {}): McpFileClass | undefined {
  const p = normalizePath(path);
  const slash = p.lastIndexOf('/');
  const name = p.slice(slash + 1).toLowerCase();
  const parent = p.slice(p.lastIndexOf('/', slash - 1) + 1, Math.max(slash, 0)).toLowerCase();
  const inUserDir = (options.userDirectories ?? []).some((d) => {
    const rest = isUnder(p, d);
    return rest !== undefined && /^(?:profiles\/[^/]+\/)?[^/]+$/.test(rest);
  });

  if (name === 'mcp.tokens.json') {
    const scope = parent === '.vscode' ? 'workspace' : 'user';
    return base('token-aware', scope, 'MCP Token Manager', true, true);
  }
  if (name === 'mcp.json') {
    if (inUserDir || USER_DIR_HEURISTIC.test(p)) return { ...base('vscode-user', 'user', 'VS Code', false, true), preferredForm: 'angle' };
    if (parent === '.vscode') return base('vscode', 'workspace', 'VS Code', false, true);
    if (parent === '.cursor') return base('cursor', 'workspace', 'Cursor', false, false);
  }
  if (name === '.mcp.json') return base('claude-code', 'workspace', 'Claude Code', false, false);
  if (name === 'claude_desktop_config.json') return base('claude-desktop', 'user', 'Claude Desktop', false, false);
  if (name === MCP_CLI_CONFIG_FILE) {
    return { ...base('mcp-cli', 'workspace', 'mcp-cli', true, false), forms: ['brace'], preferredForm: 'brace', wholeValueOnly: true };
  }
  if (matchesExtra(p, options.extraGlobs ?? [])) return base('extra', 'workspace', undefined, true, false);
  if (name === 'mcp.json') return base('generic', 'workspace', undefined, false, false);
  return undefined;
}

function matchesExtra(path: string, globs: readonly string[]): boolean {
  for (const raw of globs) {
    const g = normalizePath(raw.trim());
    if (!g) continue;
    const absolute = g.startsWith('/') || /^[A-Za-z]:\//.test(g);
    const pattern = absolute || g.startsWith('**/') ? g : `**/${g}`;
    try {
      if (minimatch(path, pattern, { dot: true, nocase: /^[A-Za-z]:\//.test(path) })) return true;
    } catch {
      // An invalid glob matches nothing.
    }
  }
  return false;
}

/** The URI path of a `file:`/`vscode-userdata:`/other URI string, decoded; undefined when it cannot be parsed. */
export function uriPath(uri: string): string | undefined {
  const m = /^[A-Za-z][A-Za-z0-9+.-]*:(?:\/\/[^/]*)?(\/[^?#]*)/.exec(uri);
  if (!m) return undefined;
  try {
    return decodeURIComponent(m[1]);
  } catch {
    return m[1];
  }
}

/** Classifies a document URI (any scheme: `file`, `vscode-userdata`, `untitled` is never a config). */
export function classifyUri(uri: string, options: ClassifyOptions = {}): McpFileClass | undefined {
  const p = uriPath(uri);
  return p === undefined ? undefined : classifyMcpFile(p, options);
}
