/**
 * Client of the e2e driver extension (test/e2e/driver/extension.js): JSON over HTTP on 127.0.0.1.
 * Every call resolves to the endpoint's result or rejects with the error message VS Code gave.
 */
import { request } from 'node:http';

/** A file of the workspace (relative path) or an absolute path, as a `vscode.Uri` argument. */
export const fileArg = (path: string) => ({ $file: path });
/** A `vscode.Uri` argument from its string form. */
export const uriArg = (uri: string) => ({ $uri: uri });
/** A `vscode.Position` argument. */
export const position = (line: number, character: number) => ({ $position: [line, character] });
/** A `vscode.Range` argument. */
export const range = (l1: number, c1: number, l2: number, c2: number) => ({ $range: [l1, c1, l2, c2] });

export interface Diagnostic {
  message: string;
  severity: 'error' | 'warning' | 'information' | 'hint';
  source: string | null;
  code: string | number | null;
  range: { start: { line: number; character: number }; end: { line: number; character: number } };
  tags: number[];
}

export class DriverClient {
  constructor(private endpoint: { port: number; token: string }) {}

  /** Points the client at a new extension host's driver (after a window reload). */
  reconnect(endpoint: { port: number; token: string }): void {
    this.endpoint = endpoint;
  }

  /** POST /<name> with `body`; no timeout (commands may wait for UI the test drives meanwhile). */
  call<T = unknown>(name: string, body: unknown = {}): Promise<T> {
    const data = Buffer.from(JSON.stringify(body));
    const p = new Promise<T>((resolve, reject) => {
      const req = request(
        {
          host: '127.0.0.1',
          port: this.endpoint.port,
          path: `/${name}`,
          method: 'POST',
          headers: { 'content-type': 'application/json', 'content-length': data.length, 'x-driver-token': this.endpoint.token },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            try {
              const r = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { ok: boolean; result?: T; error?: string };
              if (r.ok) resolve(r.result as T);
              else reject(new Error(`driver /${name}: ${r.error}`));
            } catch (e) {
              reject(e);
            }
          });
        },
      );
      req.on('error', reject);
      req.end(data);
    });
    // A test that fails while a command still waits for UI must not end in an unhandled rejection
    // ("socket hang up" at dispose); callers that await still get the error.
    p.catch(() => undefined);
    return p;
  }

  /** Runs any command with arguments (see fileArg/position/range for VS Code types). */
  command<T = unknown>(id: string, ...args: unknown[]): Promise<T> {
    return this.call<T>('command', { command: id, args });
  }

  /** Evaluates the body of `async (vscode, args, helpers) => { … }` in the extension host. */
  eval<T = unknown>(code: string, args?: unknown): Promise<T> {
    return this.call<T>('eval', { code, args: args ?? null });
  }

  ping() {
    return this.call<{ isTrusted: boolean; workspaceFolders: string[]; vscodeVersion: string; uiKind: string; activeExtensions: string[] }>('ping');
  }

  open(path: string, at?: { line: number; character: number }, languageId?: string) {
    return this.call<{ uri: string; languageId: string; version: number }>('open', { path, ...at, languageId });
  }

  read(path: string) {
    return this.call<string>('read', { path });
  }

  write(path: string, text: string) {
    return this.call<{ uri: string }>('write', { path, text });
  }

  /** Replaces the document's whole text in its editor (unsaved unless `save`). */
  edit(path: string, text: string, save = false) {
    return this.call<{ applied: boolean; version: number }>('edit', { path, text, save });
  }

  diagnostics(path: string) {
    return this.call<Diagnostic[]>('diagnostics', { path });
  }

  /** Polls the diagnostics of `path` until `predicate` holds (default 20 s). */
  async waitForDiagnostics(path: string, predicate: (d: Diagnostic[]) => boolean, timeoutMs = 20_000): Promise<Diagnostic[]> {
    const until = Date.now() + timeoutMs;
    let last: Diagnostic[] = [];
    while (Date.now() < until) {
      last = await this.diagnostics(path);
      if (predicate(last)) return last;
      await new Promise((r) => setTimeout(r, 250));
    }
    throw new Error(`Timed out waiting for diagnostics of ${path}; last: ${JSON.stringify(last.map((d) => d.message))}`);
  }

  completions(path: string, line: number, character: number, trigger?: string) {
    return this.call<{ isIncomplete?: boolean; items: { label: string | { label: string }; detail?: string; insertText?: string | { snippet: string }; kind?: number; documentation?: unknown }[] }>(
      'completions', { path, line, character, trigger });
  }

  hover(path: string, line: number, character: number) {
    return this.call<{ range: unknown; contents: string[] }[]>('hover', { path, line, character });
  }

  codeActions(path: string, r: [number, number, number, number], kind?: string) {
    return this.call<{ title: string; kind?: string; edit?: unknown; command?: unknown; diagnostics?: unknown }[]>('codeActions', { path, range: r, kind });
  }

  applyCodeAction(path: string, r: [number, number, number, number], title: string) {
    return this.call('applyCodeAction', { path, range: r, title });
  }

  /** Reads (and with `value`, sets; `null` resets) a setting. Returns `inspect()` of it. */
  config(section: string, key: string, value?: unknown, target: 'global' | 'workspace' | 'folder' = 'global') {
    return this.call<Record<string, unknown> | null>('config', value === undefined ? { section, key } : { section, key, value, target });
  }

  extension(id: string, activate = false) {
    return this.call<{ found: boolean; isActive?: boolean; version?: string; path?: string }>('extension', { id, activate });
  }

  commands(filter?: string) {
    return this.call<string[]>('commands', { filter });
  }

  editors() {
    return this.call<{ active: string | null; visible: string[]; tabs: string[] }>('editors');
  }
}
