/**
 * Shared by the launcher tests (test/launcher, test/keyring/launcher.test.ts): a build of the real
 * bundle (esbuild.mjs --launcher-only, the same config as dist/cli/mcp-tokens.mjs, with the keyring's
 * native module copied beside it), a fake VS Code end of the channel (the wire of channelProtocol.ts
 * on a UNIX socket in a temporary folder), and the SDK's stdio client standing in for Claude Desktop.
 */
import { execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { requestSchema, secretPath, socketPath, type ChannelAnswer, type ChannelRequest } from '../../extension/launcher/channelProtocol';

export const ROOT = join(__dirname, '..', '..');
export const STDIO_FIXTURE = join(ROOT, 'test', 'fixtures', 'mcp-servers', 'stdio-server.mjs');

/** Builds the launcher bundle into test-results/launcher/<unique>/ (minified with `production`, as the .vsix ships it) and returns its path. */
export async function buildLauncher(options: { production?: boolean } = {}): Promise<{ cli: string; remove: () => void }> {
  const dir = join('test-results', 'launcher', `build-${process.pid}-${randomBytes(3).toString('hex')}`);
  await promisify(execFile)(process.execPath, ['esbuild.mjs', '--launcher-only', `--outdir=${dir}`, ...(options.production ? ['--production'] : [])], { cwd: ROOT });
  const cli = join(ROOT, dir, 'cli', 'mcp-tokens.mjs');
  if (!existsSync(cli)) throw new Error(`the build did not produce ${cli}`);
  return { cli, remove: () => rmSync(join(ROOT, dir), { recursive: true, force: true }) };
}

/** A temporary folder (removed by `remove`). */
export function tempDir(prefix: string): { path: string; remove: () => void } {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

export interface FakeChannel {
  readonly dir: string;
  readonly secret: string;
  /** Every request received (parsed), in order. */
  readonly requests: ChannelRequest[];
  close(): Promise<void>;
}

/** The extension's end of the channel, answering with `answer(request)` (after checking the secret). */
export async function fakeChannel(dir: string, answer: (req: ChannelRequest) => ChannelAnswer | Promise<ChannelAnswer>): Promise<FakeChannel> {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  chmodSync(dir, 0o700);
  const secret = randomBytes(32).toString('base64url');
  writeFileSync(secretPath(dir, process.platform), secret, { mode: 0o600 });
  const requests: ChannelRequest[] = [];
  const server: Server = createServer((socket) => {
    let buf = '';
    socket.setEncoding('utf8');
    socket.on('data', async (chunk: string) => {
      buf += chunk;
      const nl = buf.indexOf('\n');
      if (nl < 0) return;
      const parsed = requestSchema.safeParse(JSON.parse(buf.slice(0, nl)));
      let reply: ChannelAnswer;
      if (!parsed.success) reply = { ok: false, code: 'invalid', message: 'bad request' };
      else if (parsed.data.secret !== secret) reply = { ok: false, code: 'unauthorized', message: 'wrong secret' };
      else {
        requests.push(parsed.data);
        reply = await answer(parsed.data);
      }
      socket.end(`${JSON.stringify(reply)}\n`);
    });
    socket.on('error', () => undefined);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(socketPath(dir, process.platform), () => resolve());
  });
  return { dir, secret, requests, close: () => new Promise<void>((r) => server.close(() => r())) };
}

export interface LauncherClient {
  readonly client: Client;
  /** The launcher's process id. */
  readonly pid: number | null;
  /** What the launcher (and the server) wrote to stderr so far. */
  stderr(): string;
  close(): Promise<void>;
}

/** Starts `node <cli> <args>` as the SDK's stdio client does for Claude Desktop, and initializes. */
export async function connectThroughLauncher(cli: string, args: string[], env: Record<string, string>): Promise<LauncherClient> {
  const transport = new StdioClientTransport({ command: process.execPath, args: [cli, ...args], env, stderr: 'pipe' });
  let err = '';
  transport.stderr?.on('data', (c: Buffer) => (err += c.toString('utf8')));
  const client = new Client({ name: 'claude-desktop-stand-in', version: '1.0.0' });
  try {
    await client.connect(transport);
  } catch (e) {
    await transport.close().catch(() => undefined);
    throw new Error(`${e instanceof Error ? e.message : String(e)}; stderr: ${err}`);
  }
  return { client, pid: transport.pid, stderr: () => err, close: () => client.close() };
}

export interface RunResult {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `node <cli> <args>` to its end (stdin: `input`, else closed). */
export function runLauncher(cli: string, args: string[], env: Record<string, string>, input?: string, timeoutMs = 60_000): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [cli, ...args], { env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString('utf8')));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
    child.stdin.end(input ?? '');
  });
}

/** The JSON lines a fixture server recorded (none when it never started). */
export function records(path: string): Array<Record<string, unknown>> {
  if (!existsSync(path)) return [];
  return readFileSync(path, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);
}

/** The environment the launcher tests give the launcher: no D-Bus (unless asked), its own channel folder, audit file and VS Code user folder. */
export function launcherEnv(dirs: { channel: string; audit: string; userDir: string; record: string }, extra: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? '',
    MCP_TOKENS_CHANNEL_DIR: dirs.channel,
    MCP_TOKENS_AUDIT_FILE: dirs.audit,
    MCP_TOKENS_VSCODE_USER_DIR: dirs.userDir,
    MCP_FIXTURE_RECORD: dirs.record,
    ...extra,
  };
  return env;
}
