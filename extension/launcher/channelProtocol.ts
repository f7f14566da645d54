/**
 * The local channel between the `mcp-tokens` launcher (client) and the running extension (server).
 * Pure: no `vscode`; shared by the CLI bundle and the extension.
 *
 * Where it lives
 *   <dir>            = $MCP_TOKENS_CHANNEL_DIR if set (tests), else $XDG_RUNTIME_DIR/mcp-tokens if set,
 *                      else ~/.mcp-tokens/run; created 0700 by the extension.
 *   <dir>/channel.sock    the UNIX socket (Windows: the named pipe \\.\pipe\mcp-tokens-<user>).
 *   <dir>/channel.secret  the session secret: 32 random bytes, base64url, mode 0600, rewritten by the
 *                         extension each time it starts serving.
 *
 * Wire: the client writes one JSON line (a ChannelRequest), the server writes one JSON line (a
 * ChannelAnswer) and closes. Answers never carry a value the request did not name.
 */
import { createHash } from 'node:crypto';
import * as path from 'node:path';
import { z } from 'zod';
import { NAME_MAX, NAMESPACE_MAX, SEGMENT_PATTERN } from '../../server/core/reference';

export const PROTOCOL_VERSION = 1;
export const SOCKET_FILE = 'channel.sock';
export const SECRET_FILE = 'channel.secret';
/** Bytes of randomness in the session secret (base64url: 43 characters). */
export const SECRET_BYTES = 32;
/** The server stops reading (and answers `invalid`) past this many bytes of request. */
export const MAX_REQUEST_BYTES = 64 * 1024;
/** The most references one request may name. */
export const MAX_REFS = 64;

/** The channel directory for this environment (see the header). */
export function channelDir(
  env: Readonly<Record<string, string | undefined>>,
  home: string,
  platform: NodeJS.Platform,
): string {
  const p = platform === 'win32' ? path.win32 : path.posix;
  const override = env.MCP_TOKENS_CHANNEL_DIR;
  if (override) return override;
  const runtime = env.XDG_RUNTIME_DIR;
  if (runtime && platform !== 'win32') return p.join(runtime, 'mcp-tokens');
  return p.join(home, '.mcp-tokens', 'run');
}

/**
 * The socket address. POSIX: `<dir>/channel.sock`. Windows: `\\.\pipe\mcp-tokens-<user>`, where
 * `<user>` is the given user name, or (when none is given) a short hash of `dir` so that both sides
 * still agree, and a test directory gets its own pipe.
 */
export function socketPath(dir: string, platform: NodeJS.Platform, user?: string): string {
  if (platform === 'win32') {
    const who = user
      ? user.replace(/[^A-Za-z0-9._-]/g, '_')
      : createHash('sha256').update(dir).digest('hex').slice(0, 16);
    return `\\\\.\\pipe\\mcp-tokens-${who}`;
  }
  return path.posix.join(dir, SOCKET_FILE);
}

/** The secret file's path. */
export function secretPath(dir: string, platform: NodeJS.Platform): string {
  return (platform === 'win32' ? path.win32 : path.posix).join(dir, SECRET_FILE);
}

/** The key a value is answered under: `namespace:name`. */
export function refKey(ref: { namespace: string; name: string }): string {
  return `${ref.namespace}:${ref.name}`;
}

const segment = (max: number) => z.string().min(1).max(max).regex(SEGMENT_PATTERN);

export const refSchema = z.strictObject({
  namespace: segment(NAMESPACE_MAX),
  name: segment(NAME_MAX),
});

export const launchSchema = z.strictObject({
  command: z.string().min(1).max(4096),
  args: z.array(z.string().max(32 * 1024)).max(512),
  cwd: z.string().min(1).max(4096),
  /** The program that started the launcher (its parent process name), when known. */
  client: z.string().min(1).max(256).nullable(),
  kind: z.enum(['run', 'proxy']),
});

export const requestSchema = z.strictObject({
  v: z.literal(PROTOCOL_VERSION),
  secret: z.string().min(1).max(256),
  refs: z.array(refSchema).min(1).max(MAX_REFS),
  launch: launchSchema,
});

export const answerCodes = ['unauthorized', 'denied', 'missing', 'invalid'] as const;

export const answerSchema = z.discriminatedUnion('ok', [
  z.strictObject({ ok: z.literal(true), values: z.record(z.string(), z.string()) }),
  z.strictObject({
    ok: z.literal(false),
    code: z.enum(answerCodes),
    message: z.string(),
    missing: z.array(z.string()).optional(),
  }),
]);

export type ChannelRef = z.infer<typeof refSchema>;
export type ChannelLaunch = z.infer<typeof launchSchema>;
export type ChannelRequest = z.infer<typeof requestSchema>;
export type ChannelAnswer = z.infer<typeof answerSchema>;
export type ChannelAnswerCode = (typeof answerCodes)[number];
