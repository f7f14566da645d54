/**
 * A minimal LSP client for the tests: spawns the BUNDLED server (dist/server.js) over stdio and
 * speaks the real protocol with vscode-languageserver-protocol. Answers the server's requests to
 * the extension with handlers the test supplies, and records every message the server sends.
 */
import { fork, spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import {
  IPCMessageReader,
  IPCMessageWriter,
  StreamMessageReader,
  StreamMessageWriter,
  createProtocolConnection,
  type ProtocolConnection,
  PublishDiagnosticsNotification,
  type PublishDiagnosticsParams,
  type InitializeResult,
} from 'vscode-languageserver-protocol/node';
import {
  CreateTokenRequest,
  MetadataNotification,
  MoveSecretRequest,
  RenameTokenRequest,
  SettingsNotification,
  WorkspaceFilesNotification,
  type MetadataParams,
  type SettingsParams,
} from '../../server/core/protocol';

export const SERVER = join(__dirname, '..', '..', 'dist', 'server.js');

export interface Handlers {
  [method: string]: (params: unknown) => unknown;
}

export class TestClient {
  readonly diagnostics = new Map<string, PublishDiagnosticsParams[]>();
  readonly requests: { method: string; params: unknown }[] = [];
  private waiters: (() => void)[] = [];
  private stderr = '';

  private constructor(
    readonly proc: ChildProcess,
    readonly conn: ProtocolConnection,
  ) {}

  static async start(handlers: Handlers = {}, execArgv: string[] = []): Promise<TestClient> {
    const proc = spawn(process.execPath, [...execArgv, SERVER, '--stdio'], { stdio: ['pipe', 'pipe', 'pipe'] });
    const conn = createProtocolConnection(new StreamMessageReader(proc.stdout!), new StreamMessageWriter(proc.stdin!));
    return TestClient.connect(proc, conn, handlers);
  }

  /**
   * Starts the server the way vscode-languageclient does for extension/language/client.ts's
   * `{ module, transport: TransportKind.ipc, options: { execArgv, env } }`: `child_process.fork`
   * with `--node-ipc --clientProcessId=<pid>`, messages over the IPC channel.
   */
  static async startLikeExtension(options: { execArgv: readonly string[]; env: Readonly<Record<string, string>>; execPath?: string }, handlers: Handlers = {}): Promise<TestClient> {
    const proc = fork(SERVER, ['--node-ipc', `--clientProcessId=${process.pid}`], { execArgv: [...options.execArgv], env: { ...process.env, ...options.env }, silent: true, execPath: options.execPath });
    proc.stdout!.resume(); // the language client shows it in its output channel
    const conn = createProtocolConnection(new IPCMessageReader(proc), new IPCMessageWriter(proc));
    return TestClient.connect(proc, conn, handlers);
  }

  private static connect(proc: ChildProcess, conn: ProtocolConnection, handlers: Handlers): TestClient {
    const client = new TestClient(proc, conn);
    proc.stderr!.on('data', (d) => (client.stderr += String(d)));
    conn.onNotification(PublishDiagnosticsNotification.type, (p) => {
      const list = client.diagnostics.get(p.uri) ?? [];
      list.push(p);
      client.diagnostics.set(p.uri, list);
      client.wake();
    });
    for (const method of new Set([CreateTokenRequest.method, MoveSecretRequest.method, RenameTokenRequest.method, ...Object.keys(handlers)])) {
      conn.onRequest(method, (params: unknown) => {
        client.requests.push({ method, params });
        client.wake();
        const h = handlers[method];
        return h ? h(params) : null;
      });
    }
    conn.listen();
    return client;
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  async initialize(itemDefaults: string[] = []): Promise<InitializeResult> {
    const result = await this.conn.sendRequest<InitializeResult>('initialize', {
      processId: process.pid,
      rootUri: null,
      capabilities: {
        textDocument: { publishDiagnostics: { versionSupport: true }, completion: { completionList: { itemDefaults } } },
        workspace: { workspaceEdit: { documentChanges: false } },
      },
      workspaceFolders: null,
    });
    await this.conn.sendNotification('initialized', {});
    return result;
  }

  async settings(p: Partial<SettingsParams> = {}): Promise<void> {
    await this.conn.sendNotification(SettingsNotification.type, { extraFiles: [], userDirectories: [], diagnosticsDelay: 0, ...p });
  }

  async metadata(p: MetadataParams): Promise<void> {
    await this.conn.sendNotification(MetadataNotification.type, p);
  }

  async workspaceFiles(uris: string[]): Promise<void> {
    await this.conn.sendNotification(WorkspaceFilesNotification.type, { uris });
  }

  async open(uri: string, text: string, version = 1): Promise<void> {
    await this.conn.sendNotification('textDocument/didOpen', { textDocument: { uri, languageId: 'jsonc', version, text } });
  }

  async change(uri: string, version: number, contentChanges: unknown[]): Promise<void> {
    await this.conn.sendNotification('textDocument/didChange', { textDocument: { uri, version }, contentChanges });
  }

  async close(uri: string): Promise<void> {
    await this.conn.sendNotification('textDocument/didClose', { textDocument: { uri } });
  }

  request<T>(method: string, params: unknown): Promise<T> {
    return this.conn.sendRequest<T>(method, params);
  }

  /** Waits until `check` returns a value (re-checked on every message), or fails after `ms`. */
  async waitFor<T>(check: () => T | undefined, ms = 5000, what = 'condition'): Promise<T> {
    const deadline = Date.now() + ms;
    for (;;) {
      const v = check();
      if (v !== undefined) return v;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`Timed out waiting for ${what}. Server stderr: ${this.stderr.slice(-2000)}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, Math.min(left, 200));
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  /** The latest diagnostics for `uri` at `version` (or any version when omitted). */
  waitForDiagnostics(uri: string, version?: number, ms = 5000): Promise<PublishDiagnosticsParams> {
    return this.waitFor(
      () => {
        const list = this.diagnostics.get(uri);
        const last = list?.[list.length - 1];
        return last && (version === undefined || last.version === version) ? last : undefined;
      },
      ms,
      `diagnostics of ${uri}${version === undefined ? '' : ` v${version}`}`,
    );
  }

  async stop(): Promise<void> {
    try {
      await Promise.race([this.conn.sendRequest('shutdown'), new Promise((r) => setTimeout(r, 2000))]);
      await this.conn.sendNotification('exit');
    } catch {
      // already gone
    }
    const exited = new Promise<void>((resolve) => {
      if (this.proc.exitCode !== null) resolve();
      else this.proc.once('exit', () => resolve());
    });
    const timer = setTimeout(() => this.proc.kill('SIGKILL'), 3000);
    await exited;
    clearTimeout(timer);
    this.conn.dispose();
  }
}
