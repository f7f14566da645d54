/**
 * The channel server: the extension's end of the local channel the `mcp-tokens` launcher asks for
 * SecretStorage tokens (protocol in channelProtocol.ts). Pure (no `vscode`): what a request gets is
 * decided by the `resolve` function handed in (the runtime's LauncherGate: consent, values, audit).
 *
 * One window serves. Each window starts a ChannelServer; under a lock file in the channel
 * directory it probes the socket:
 *  - a connection is accepted: another window serves; this one stays on standby and probes again
 *    every `pollMs` (default 3 s), so when the serving window closes (its socket is removed, or
 *    refuses connections after a crash) a standby window takes over within a few seconds;
 *  - refused or absent: the socket is stale (a crashed window) or there is none; it is removed, a
 *    new session secret is written (0600, temp file then rename) and this window listens.
 * On Windows the named pipe cannot be stale: a listen that fails with EADDRINUSE means another
 * window serves.
 *
 * What a connection can get: one request line of at most MAX_REQUEST_BYTES, read within
 * `requestTimeoutMs`; the secret compared in constant time (SHA-256 of both, `timingSafeEqual`)
 * before anything else is looked at; then the zod schema; then `resolve`. Anything else is answered
 * `unauthorized` or `invalid` with no detail of the request echoed back, and logged without content.
 * The directory is created 0700 and must be a real directory owned by this user (not a link).
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { withLockFile } from '../platform/lockFile';
import { MAX_REQUEST_BYTES, PROTOCOL_VERSION, SECRET_BYTES, requestSchema, secretPath, socketPath, type ChannelAnswer, type ChannelLaunch, type ChannelRef } from './channelProtocol';
import type { LauncherResolution } from '../platform/launcherAccess';
import { errorText } from '../../server/core/errors';

export interface ChannelServerOptions {
  readonly dir: string;
  readonly platform: NodeJS.Platform;
  /** Windows: the user name in the pipe name. */
  readonly user?: string;
  readonly resolve: (launch: ChannelLaunch, refs: readonly ChannelRef[]) => Promise<LauncherResolution>;
  readonly log: { info(message: string): void; warn(message: string): void };
  readonly pollMs?: number;
  readonly requestTimeoutMs?: number;
}

export type ChannelState = 'stopped' | 'standby' | 'serving';

export class ChannelServer {
  private server: net.Server | undefined;
  private secret: Buffer | undefined;
  private secretText: string | undefined;
  private timer: NodeJS.Timeout | undefined;
  private disposed = false;
  private trying: Promise<void> | undefined;
  private _state: ChannelState = 'stopped';
  readonly socket: string;
  readonly secretFile: string;

  constructor(private readonly o: ChannelServerOptions) {
    this.socket = socketPath(o.dir, o.platform, o.user);
    this.secretFile = secretPath(o.dir, o.platform);
  }

  get state(): ChannelState {
    return this._state;
  }

  /** Serves, or stands by (and keeps probing) when another window serves. */
  async start(): Promise<ChannelState> {
    await this.tryServe();
    if (!this.disposed && this._state !== 'serving') {
      this.timer = setInterval(() => void this.tryServe(), this.o.pollMs ?? 3000);
      this.timer.unref();
    }
    return this._state;
  }

  private tryServe(): Promise<void> {
    if (this.trying || this._state === 'serving' || this.disposed) return this.trying ?? Promise.resolve();
    this.trying = this.serveIfFree()
      .catch((e) => this.o.log.warn(`The mcp-tokens channel could not start: ${errorText(e)}`))
      .finally(() => (this.trying = undefined));
    return this.trying;
  }

  private async serveIfFree(): Promise<void> {
    await ensurePrivateDir(this.o.dir, this.o.platform);
    const served = await withLockFile(path.join(this.o.dir, 'channel.lock'), async () => {
      if (this.disposed) return false;
      if (this.o.platform !== 'win32') {
        if (await isLive(this.socket)) return false;
        await fs.rm(this.socket, { force: true });
      }
      await this.writeSecret();
      return this.listen();
    });
    if (!served) {
      this._state = 'standby';
      return;
    }
    this._state = 'serving';
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.o.log.info(`The mcp-tokens channel is served by this window at ${this.socket}.`);
  }

  private async writeSecret(): Promise<void> {
    const text = randomBytes(SECRET_BYTES).toString('base64url');
    const tmp = `${this.secretFile}.${randomBytes(6).toString('hex')}`;
    await fs.writeFile(tmp, text, { mode: 0o600, flag: 'wx' });
    await fs.rename(tmp, this.secretFile);
    this.secretText = text;
    this.secret = digest(text);
  }

  private listen(): Promise<boolean> {
    return new Promise((resolve, reject) => {
      const server = net.createServer({ allowHalfOpen: true }, (socket) => this.onConnection(socket));
      server.maxConnections = 32;
      server.once('error', (e: NodeJS.ErrnoException) => (e.code === 'EADDRINUSE' ? resolve(false) : reject(e)));
      server.listen(this.socket, () => {
        server.removeAllListeners('error');
        server.on('error', (e) => this.o.log.warn(`mcp-tokens channel: ${e.message}`));
        this.server = server;
        resolve(true);
      });
    }).then(async (ok) => {
      if (ok && this.o.platform !== 'win32') await fs.chmod(this.socket, 0o600).catch(() => undefined);
      return ok as boolean;
    });
  }

  private onConnection(socket: net.Socket): void {
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    const finish = (answer: ChannelAnswer) => {
      if (done) return;
      done = true;
      socket.removeAllListeners('data');
      reply(answer);
    };
    const reply = (answer: ChannelAnswer) => socket.end(`${JSON.stringify(answer)}\n`, () => socket.destroy());
    socket.setTimeout(this.o.requestTimeoutMs ?? 5000, () => {
      if (!done) finish({ ok: false, code: 'invalid', message: 'No request line arrived in time.' });
      socket.destroy();
    });
    socket.on('error', () => socket.destroy());
    const handle = (line: Buffer) => {
      done = true; // no more input is read for this connection
      socket.setTimeout(0); // the consent question may take the user a while
      socket.removeAllListeners('data');
      socket.pause();
      void this.answer(line).then(reply, () => reply({ ok: false, code: 'invalid', message: 'The request could not be handled.' }));
    };
    socket.on('data', (chunk: Buffer) => {
      if (done) return;
      const nl = chunk.indexOf(0x0a);
      const take = nl >= 0 ? chunk.subarray(0, nl) : chunk;
      size += take.length;
      if (size > MAX_REQUEST_BYTES) {
        this.o.log.warn('mcp-tokens channel: a request over the size limit was refused.');
        finish({ ok: false, code: 'invalid', message: `The request is larger than ${MAX_REQUEST_BYTES} bytes.` });
        return;
      }
      chunks.push(take);
      if (nl >= 0) handle(Buffer.concat(chunks));
    });
    socket.on('end', () => {
      if (!done) {
        if (size === 0) socket.end(); // a probe (another window checking that this one serves)
        else handle(Buffer.concat(chunks));
      }
    });
  }

  /** The answer to one request line. Never echoes the request. */
  private async answer(line: Buffer): Promise<ChannelAnswer> {
    let raw: unknown;
    try {
      raw = JSON.parse(line.toString('utf8'));
    } catch {
      this.o.log.warn('mcp-tokens channel: a request that is not JSON was refused.');
      return { ok: false, code: 'invalid', message: 'The request is not a JSON line.' };
    }
    const given = typeof raw === 'object' && raw !== null ? (raw as { secret?: unknown }).secret : undefined;
    if (!this.secret || typeof given !== 'string' || given.length > 256 || !timingSafeEqual(digest(given), this.secret)) {
      this.o.log.warn('mcp-tokens channel: a request without the session secret was refused.');
      return { ok: false, code: 'unauthorized', message: 'The session secret does not match: read it again from the channel directory.' };
    }
    const parsed = requestSchema.safeParse(raw);
    if (!parsed.success) {
      const where = [...new Set(parsed.error.issues.map((i) => i.path.join('.') || '(request)'))].slice(0, 5).join(', ');
      this.o.log.warn(`mcp-tokens channel: an invalid request was refused (${where}).`);
      return { ok: false, code: 'invalid', message: `The request does not match protocol version ${PROTOCOL_VERSION} (${where}).` };
    }
    const { refs, launch } = parsed.data;
    const result = await this.o.resolve(launch, refs);
    return result.ok ? { ok: true, values: { ...result.values } } : { ok: false, code: result.code, message: result.message, ...(result.missing ? { missing: [...result.missing] } : {}) };
  }

  /** Stops serving (removes the socket and the secret if they are still this window's) or standing by. */
  async dispose(): Promise<void> {
    this.disposed = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.trying;
    const server = this.server;
    this.server = undefined;
    if (server) {
      await new Promise<void>((r) => server.close(() => r()));
      // net.Server.close unlinks a UNIX socket it created; the secret is removed only if it is ours.
      const current = await fs.readFile(this.secretFile, 'utf8').catch(() => undefined);
      if (current !== undefined && current === this.secretText) await fs.rm(this.secretFile, { force: true });
    }
    this.secret = undefined;
    this.secretText = undefined;
    this._state = 'stopped';
  }
}

function digest(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}

/** True when something accepts connections at `socket` (answers within a second). */
function isLive(socket: string): Promise<boolean> {
  return new Promise((resolve) => {
    const c = net.connect(socket);
    const done = (live: boolean) => {
      c.destroy();
      resolve(live);
    };
    c.setTimeout(1000, () => done(true)); // a window too busy to accept is still serving
    c.once('connect', () => {
      c.end();
      done(true);
    });
    c.once('error', () => done(false));
  });
}

/** Creates `dir` 0700, and refuses one that is a link, not a directory, or another user's. */
export async function ensurePrivateDir(dir: string, platform: NodeJS.Platform): Promise<void> {
  await fs.mkdir(dir, { recursive: true, mode: 0o700 });
  if (platform === 'win32') return;
  const st = await fs.lstat(dir);
  if (!st.isDirectory()) throw new Error(`${dir} is not a directory (a link or a file); remove it.`);
  if (typeof process.getuid === 'function' && st.uid !== process.getuid()) throw new Error(`${dir} belongs to another user; remove it.`);
  if ((st.mode & 0o077) !== 0) await fs.chmod(dir, 0o700);
}
