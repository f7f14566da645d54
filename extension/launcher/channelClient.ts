/**
 * The launcher's side of the local channel (channelProtocol.ts): one request line, one answer line.
 * Asks the running extension for SecretStorage values; the extension asks the user for consent, so
 * an answer may take as long as the dialog stays open (default limit 5 minutes). No `vscode`.
 */
import { readFile } from 'node:fs/promises';
import { createConnection } from 'node:net';
import { homedir, userInfo } from 'node:os';
import {
  answerSchema,
  channelDir,
  PROTOCOL_VERSION,
  requestSchema,
  secretPath,
  socketPath,
  type ChannelAnswer,
  type ChannelRequest,
} from './channelProtocol';
import { parseJsonAs } from '../../server/core/json';

/** What the user reads when no VS Code serves the channel. */
export const NOT_SERVING =
  'VS Code is not running with MCP Tokens; SecretStorage tokens need it. Move the token to the OS keyring to use it without VS Code: MCP Tokens: Move Token…';

/** The channel cannot be used (no VS Code serving it, or it broke off); the message says why. */
export class ChannelUnavailableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ChannelUnavailableError';
  }
}

export interface ChannelClientOptions {
  /** The channel directory (default: channelDir of this process's environment). */
  readonly dir?: string;
  readonly platform?: NodeJS.Platform;
  /** How long to wait for the answer (default 5 minutes: the user answers a dialog). */
  readonly timeoutMs?: number;
  /** The Windows user name of the pipe (default: the OS user, as the extension names it). */
  readonly user?: string;
}

export const DEFAULT_CHANNEL_TIMEOUT_MS = 5 * 60_000;
const MAX_ANSWER_BYTES = 4 * 1024 * 1024;

function windowsUser(): string | undefined {
  try {
    return userInfo().username;
  } catch {
    return process.env.USERNAME;
  }
}

/** The directory the extension serves in for this process's environment. */
export function defaultChannelDir(env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform): string {
  return channelDir(env, homedir(), platform);
}

/**
 * Sends `req` (the secret is read from the channel directory) and returns the extension's answer.
 * Throws ChannelUnavailableError when nothing serves the channel or the answer is not one.
 */
export async function requestValues(req: Omit<ChannelRequest, 'v' | 'secret'>, options: ChannelClientOptions = {}): Promise<ChannelAnswer> {
  const platform = options.platform ?? process.platform;
  const dir = options.dir ?? defaultChannelDir(process.env, platform);
  let secret: string;
  try {
    secret = (await readFile(secretPath(dir, platform), 'utf8')).trim();
  } catch {
    throw new ChannelUnavailableError(NOT_SERVING);
  }
  const request = requestSchema.parse({ v: PROTOCOL_VERSION, secret, ...req });
  const address = socketPath(dir, platform, platform === 'win32' ? (options.user ?? windowsUser()) : undefined);
  const timeoutMs = options.timeoutMs ?? DEFAULT_CHANNEL_TIMEOUT_MS;
  const line = await new Promise<string>((resolve, reject) => {
    const socket = createConnection(address);
    let received = '';
    let settled = false;
    const finish = (error: Error | undefined, text?: string) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      if (error) reject(error);
      else resolve(text ?? '');
    };
    const timer = setTimeout(
      () => finish(new ChannelUnavailableError(`VS Code did not answer within ${Math.round(timeoutMs / 1000)} s (the consent dialog may still be open); nothing was started.`)),
      timeoutMs,
    );
    socket.setEncoding('utf8');
    socket.on('connect', () => socket.write(`${JSON.stringify(request)}\n`));
    socket.on('data', (chunk: string) => {
      received += chunk;
      const nl = received.indexOf('\n');
      if (nl >= 0) finish(undefined, received.slice(0, nl));
      else if (received.length > MAX_ANSWER_BYTES) finish(new ChannelUnavailableError('The channel answer is too long; it was refused.'));
    });
    socket.on('end', () => finish(received.trim() ? undefined : new ChannelUnavailableError('VS Code closed the channel without an answer.'), received));
    socket.on('error', (e: NodeJS.ErrnoException) => {
      const gone = e.code === 'ENOENT' || e.code === 'ECONNREFUSED' || e.code === 'ENOTSOCK' || e.code === 'EPIPE';
      finish(new ChannelUnavailableError(gone ? NOT_SERVING : `The channel to VS Code failed (${e.code ?? e.message}).`));
    });
  });
  const answer = parseJsonAs(answerSchema, line);
  if (answer.ok) return answer.value;
  throw new ChannelUnavailableError(answer.why === 'json' ? 'The channel answer is not JSON; it was refused.' : 'The channel answer does not have the expected shape; it was refused.');
}
