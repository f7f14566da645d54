/**
 * The token-aware server files: which exist, their parsed servers, and a change event.
 *  - `.vscode/mcp.tokens.json` in each workspace folder (scope "workspace");
 *  - `mcp.tokens.json` in the extension's global storage folder (scope "user"), opened by
 *    "MCP Tokens: Open User Servers File";
 *  - mcp-cli `server_config.json` files named by `mcpTokens.servers.mcpCliConfig` (an application
 *    setting: only the user names them): scope "workspace" when the file is inside a workspace
 *    folder (served only in a trusted workspace), else scope "user".
 * VS Code reads none of them itself, so no server is started twice. A user-level server runs in the
 * user's home unless its `cwd` says otherwise (provider.ts), never in the folder that is open.
 */
import * as vscode from 'vscode';
import * as path from 'node:path';
import { WORKSPACE_TOKENS_FILE, USER_TOKENS_FILE, type ConfigFlavor, type ParsedMcpConfig, type ServerEntry } from '../../server/core/mcpConfig';
import { loadServerFiles } from './serverFileLoad';
import type { Services } from '../services';
import { errorText } from '../../server/core/errors';

export interface ServerFile {
  readonly uri: vscode.Uri;
  readonly scope: 'workspace' | 'user';
  readonly flavor: ConfigFlavor;
  readonly folder?: vscode.WorkspaceFolder;
  readonly text: string;
  readonly parsed: ParsedMcpConfig;
}

export interface ServedServer {
  /** Unique across files: the name, or `name (folder)` when two files define the same name. */
  readonly label: string;
  readonly entry: ServerEntry;
  readonly file: ServerFile;
}

interface Location {
  readonly uri: vscode.Uri;
  readonly scope: 'workspace' | 'user';
  readonly flavor: ConfigFlavor;
  readonly folder?: vscode.WorkspaceFolder;
}

/** True when `uri` is `folder` or below it (paths normalized; no `..` escape). */
function isInside(uri: vscode.Uri, folder: vscode.Uri): boolean {
  if (uri.scheme !== folder.scheme || uri.authority !== folder.authority) return false;
  const rel = path.posix.relative(folder.path, uri.path);
  return rel === '' || (!rel.startsWith('..') && !path.posix.isAbsolute(rel));
}

export function userServersFile(context: vscode.ExtensionContext): vscode.Uri {
  return vscode.Uri.joinPath(context.globalStorageUri, USER_TOKENS_FILE);
}

export class ServerFiles implements vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChange = this.changed.event;
  private readonly disposables: vscode.Disposable[] = [];
  private watchers: vscode.Disposable[] = [];
  private files: ServerFile[] = [];
  private loading: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly s: Services) {
    this.disposables.push(
      this.changed,
      vscode.workspace.onDidChangeWorkspaceFolders(() => this.rewatch()),
      s.config.onDidChange(() => this.rewatch(), 'servers.mcpCliConfig'),
      vscode.workspace.onDidSaveTextDocument((d) => {
        if (this.isServerFile(d.uri)) this.schedule();
      }),
    );
    this.rewatch();
  }

  dispose(): void {
    if (this.timer) clearTimeout(this.timer);
    for (const d of [...this.watchers, ...this.disposables]) d.dispose();
  }

  /**
   * Every file location, whether it exists or not. `folder` is the folder `${workspaceFolder}`
   * names: a file's own folder, and for a user-level file the first one (used only where it says so).
   */
  locations(): Location[] {
    const folders = vscode.workspace.workspaceFolders ?? [];
    const out: Location[] = [];
    const userLevel = new Map<string, Location>();
    const cliPaths = this.s.config.serversMcpCliConfig();
    for (const folder of folders) {
      out.push({ uri: vscode.Uri.joinPath(folder.uri, WORKSPACE_TOKENS_FILE), scope: 'workspace', flavor: 'vscode', folder });
      for (const p of cliPaths) {
        const uri = path.isAbsolute(p) ? vscode.Uri.file(p) : vscode.Uri.joinPath(folder.uri, p);
        if (isInside(uri, folder.uri)) out.push({ uri, scope: 'workspace', flavor: 'mcp-cli', folder });
        else userLevel.set(uri.toString(), { uri, scope: 'user', flavor: 'mcp-cli', folder: folders[0] });
      }
    }
    if (folders.length === 0) {
      for (const p of cliPaths.filter((x) => path.isAbsolute(x))) userLevel.set(vscode.Uri.file(p).toString(), { uri: vscode.Uri.file(p), scope: 'user', flavor: 'mcp-cli' });
    }
    out.push(...userLevel.values());
    out.push({ uri: userServersFile(this.s.context), scope: 'user', flavor: 'vscode', folder: folders[0] });
    return out;
  }

  private isServerFile(uri: vscode.Uri): boolean {
    return this.locations().some((l) => l.uri.toString() === uri.toString());
  }

  private rewatch(): void {
    for (const w of this.watchers) w.dispose();
    this.watchers = [];
    for (const loc of this.locations()) {
      const dir = vscode.Uri.joinPath(loc.uri, '..');
      const watcher = vscode.workspace.createFileSystemWatcher(new vscode.RelativePattern(dir, path.posix.basename(loc.uri.path)));
      watcher.onDidChange(() => this.schedule());
      watcher.onDidCreate(() => this.schedule());
      watcher.onDidDelete(() => this.schedule());
      this.watchers.push(watcher);
    }
    this.schedule(0);
  }

  private schedule(delay = 150): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.loading = this.load().then(
        () => this.changed.fire(),
        (e) => this.s.log.error(`Could not read the MCP Tokens server files: ${errorText(e)}`),
      );
    }, delay);
  }

  /**
   * Reads every file now (also used by tests and commands that need fresh data). Never throws: a
   * file that cannot be read or parsed (too large, nested too deep, …) yields no servers and a log
   * line of its own; the other files' servers are served as usual (serverFileLoad.ts).
   */
  async load(): Promise<void> {
    this.files = await loadServerFiles(this.locations(), {
      read: async (loc) => {
        try {
          return await vscode.workspace.fs.readFile(loc.uri);
        } catch (e) {
          if (e instanceof vscode.FileSystemError && e.code !== 'FileNotFound' && e.code !== 'EntryNotFound') throw e;
          return undefined; // does not exist
        }
      },
      size: async (loc) => (await vscode.workspace.fs.stat(loc.uri)).size,
      name: (loc) => vscode.workspace.asRelativePath(loc.uri),
      warn: (m) => this.s.log.warn(m),
    });
  }

  /** Reads every file now and tells listeners (the provider, the Servers view). */
  async reload(): Promise<void> {
    this.loading = this.load();
    await this.loading;
    this.changed.fire();
  }

  async ready(): Promise<void> {
    if (!this.loading) this.loading = this.load();
    await this.loading;
  }

  all(): readonly ServerFile[] {
    return this.files;
  }

  /** Servers of every file, with unique labels. Workspace files come first. */
  servers(): ServedServer[] {
    const out: ServedServer[] = [];
    const used = new Set<string>();
    for (const file of this.files) {
      for (const entry of file.parsed.servers) {
        let label = entry.name;
        if (used.has(label)) {
          const where = file.scope === 'user' ? 'user' : file.flavor === 'mcp-cli' ? `mcp-cli, ${file.folder?.name ?? ''}` : (file.folder?.name ?? 'workspace');
          label = `${entry.name} (${where})`;
          for (let n = 2; used.has(label); n++) label = `${entry.name} (${where} ${n})`;
        }
        used.add(label);
        out.push({ label, entry, file });
      }
    }
    return out;
  }
}
