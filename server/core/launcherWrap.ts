/**
 * "Run through MCP Tokens launcher": rewrites one server of a client's config (`.vscode/mcp.json`,
 * `.mcp.json`, `claude_desktop_config.json`, `.cursor/mcp.json`) so that its client starts the
 * `mcp-tokens` launcher, which resolves the token references, instead of the server itself.
 * Pure: no `vscode`, no `vscode-languageserver`.
 *
 *  - stdio server: `"command": "<launcher>", "args": ["run", "--", <command>, <args>…]`; every other
 *    field (env, cwd, envFile, type) is kept where it was;
 *  - HTTP server (`url`, optional `headers`): a stdio server running
 *    `<launcher> proxy <url> --header "Name: value"…` (the `type` becomes `stdio`; `url` and
 *    `headers` go into the arguments; other fields are kept).
 * `wrappedServers` recognises the result (command named `mcp-tokens`, first argument `run` or
 * `proxy`), so the diagnostics know the launcher resolves the references in its env and args.
 */
import { findNodeAtLocation, getNodeValue, modify, parseTree, type Node } from 'jsonc-parser';

export const LAUNCHER_NAME = 'mcp-tokens';
const ROOTS = ['servers', 'mcpServers'] as const;

export interface TextEdit {
  readonly start: number;
  readonly end: number;
  readonly newText: string;
}

/** A command naming the launcher: `mcp-tokens`, a path ending in it, or its `.cmd`/`.exe`. */
export function isLauncherCommand(command: unknown): boolean {
  if (typeof command !== 'string') return false;
  const base = command.replace(/\\/g, '/').split('/').pop() ?? '';
  return /^mcp-tokens(\.cmd|\.exe|\.m?js)?$/i.test(base);
}

function serverNodes(tree: Node | undefined): { root: string; name: string; node: Node }[] {
  const out: { root: string; name: string; node: Node }[] = [];
  if (!tree || tree.type !== 'object') return out;
  for (const root of ROOTS) {
    const servers = findNodeAtLocation(tree, [root]);
    if (servers?.type !== 'object') continue;
    for (const prop of servers.children ?? []) {
      const [key, value] = prop.children ?? [];
      if (key && value && typeof key.value === 'string') out.push({ root, name: key.value, node: value });
    }
  }
  return out;
}

/** Whether a server entry's value already runs through the launcher. */
function isWrapped(value: unknown): boolean {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as { command?: unknown; args?: unknown };
  return isLauncherCommand(v.command) && Array.isArray(v.args) && (v.args[0] === 'run' || v.args[0] === 'proxy');
}

/** The names of the servers of `text` that run through the launcher. */
export function wrappedServers(text: string): Set<string> {
  const out = new Set<string>();
  for (const s of serverNodes(parseTree(text))) if (isWrapped(getNodeValue(s.node))) out.add(s.name);
  return out;
}

/** The server's new value, or undefined when it cannot be wrapped (already wrapped, neither stdio nor HTTP). */
export function wrappedEntry(value: unknown, launcher: string): Record<string, unknown> | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value) || isWrapped(value)) return undefined;
  const v = value as Record<string, unknown>;
  if (typeof v.command === 'string' && v.command.length > 0) {
    const args = Array.isArray(v.args) ? v.args.filter((a): a is string => typeof a === 'string') : [];
    const out: Record<string, unknown> = {};
    for (const [k, val] of Object.entries(v)) {
      if (k === 'command') out.command = launcher;
      else if (k === 'args') continue;
      else out[k] = val;
      if (k === 'command') out.args = ['run', '--', v.command, ...args];
    }
    return out;
  }
  if (typeof v.url === 'string' && v.url.length > 0) {
    const headers = typeof v.headers === 'object' && v.headers !== null && !Array.isArray(v.headers) ? Object.entries(v.headers as Record<string, unknown>) : [];
    const args = ['proxy', v.url, ...headers.filter(([, h]) => typeof h === 'string').flatMap(([k, h]) => ['--header', `${k}: ${h as string}`])];
    const out: Record<string, unknown> = {};
    for (const [k, val] of Object.entries(v)) {
      if (k === 'type') out.type = 'stdio';
      else if (k === 'url') {
        out.command = launcher;
        out.args = args;
      } else if (k !== 'headers') out[k] = val;
    }
    return out;
  }
  return undefined;
}

/** Indentation of the document (tabs, or the first indent's width in spaces). */
function indentOf(text: string): { insertSpaces: boolean; tabSize: number; eol: string } {
  const m = /\n([ \t]+)\S/.exec(text);
  const eol = text.includes('\r\n') ? '\r\n' : '\n';
  if (m && m[1].startsWith('\t')) return { insertSpaces: false, tabSize: 4, eol };
  return { insertSpaces: true, tabSize: m ? Math.min(8, m[1].length) : 2, eol };
}

/**
 * The one edit that rewrites the server `serverName` to run through `launcher`; undefined when the
 * server is not there, is already wrapped, or is neither stdio nor HTTP.
 */
export function wrapServerEdit(text: string, serverName: string, launcher: string): TextEdit | undefined {
  const found = serverNodes(parseTree(text)).find((s) => s.name === serverName);
  if (!found) return undefined;
  const next = wrappedEntry(getNodeValue(found.node), launcher);
  if (!next) return undefined;
  const edits = modify(text, [found.root, serverName], next, { formattingOptions: indentOf(text) });
  if (edits.length === 0) return undefined;
  const start = Math.min(...edits.map((e) => e.offset));
  const end = Math.max(...edits.map((e) => e.offset + e.length));
  // Apply every edit (usually one) to the covered span, so the result is one replacement.
  let span = text.slice(start, end);
  for (const e of [...edits].sort((a, b) => b.offset - a.offset)) span = span.slice(0, e.offset - start) + e.content + span.slice(e.offset - start + e.length);
  return { start, end, newText: span };
}

/** `text` with `edit` applied (for tests and callers without an editor). */
export function applyEdit(text: string, edit: TextEdit): string {
  return text.slice(0, edit.start) + edit.newText + text.slice(edit.end);
}
