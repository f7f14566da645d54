/**
 * A lock file beside a shared file, for writers in several processes (VS Code windows): created with
 * O_CREAT|O_EXCL (`wx`), holding `{ pid, host, nonce, time }`, removed when the work is done. No
 * `vscode`, no dependency (Pure).
 *
 *  - Contention: retried with a short random backoff (2–20 ms) until `timeoutMs` (default 5 s), then
 *    LockTimeoutError naming the lock file and its holder.
 *  - Stale lock: the holder's process is gone (same host, `kill(pid, 0)` answers ESRCH), or the lock
 *    is older than `staleMs` (default 10 s; the work under it takes milliseconds). A stale lock is
 *    broken by renaming it to a unique name first, so that two processes breaking the same stale lock
 *    do not both delete a fresh one; if what was renamed is not the lock judged stale, it is put back.
 *  - Release removes the file only if it still holds our nonce (a lock broken as stale and taken by
 *    another process is left to it).
 */
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import { hostname } from 'node:os';
import { z } from 'zod';

export interface LockOptions {
  readonly timeoutMs?: number;
  readonly staleMs?: number;
}

export class LockTimeoutError extends Error {
  constructor(
    readonly lockPath: string,
    holder: string,
  ) {
    super(`The lock file ${lockPath} is held by ${holder}; gave up waiting. Remove it if no other program is writing.`);
    this.name = 'LockTimeoutError';
  }
}

const holderSchema = z.object({ pid: z.number().int(), host: z.string().optional(), nonce: z.string(), time: z.number().optional() }).loose();
type Holder = z.infer<typeof holderSchema>;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function readHolder(path: string): Promise<Holder | undefined> {
  try {
    const parsed = holderSchema.safeParse(JSON.parse(await fs.readFile(path, 'utf8')));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

function processGone(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return false;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

async function isStale(path: string, staleMs: number): Promise<{ stale: boolean; holder: Holder | undefined; describe: string }> {
  let mtime: number;
  try {
    mtime = (await fs.stat(path)).mtimeMs;
  } catch {
    return { stale: false, holder: undefined, describe: 'nobody' }; // gone meanwhile: try again
  }
  const holder = await readHolder(path);
  const age = Date.now() - mtime;
  const describe = holder ? `process ${holder.pid}${holder.host ? ` on ${holder.host}` : ''} (for ${Math.round(age / 1000)} s)` : `an unknown writer (for ${Math.round(age / 1000)} s)`;
  if (age > staleMs) return { stale: true, holder, describe };
  // A lock being written right now may not have its content yet: only a readable one is judged by its pid.
  if (holder && holder.host === hostname() && holder.pid !== process.pid && processGone(holder.pid)) return { stale: true, holder, describe };
  return { stale: false, holder, describe };
}

async function breakStale(path: string, judged: Holder | undefined): Promise<void> {
  const aside = `${path}.stale-${randomBytes(6).toString('hex')}`;
  try {
    await fs.rename(path, aside);
  } catch {
    return; // someone else broke or released it
  }
  const moved = await readHolder(aside);
  if (judged && moved && moved.nonce !== judged.nonce) {
    // A fresh lock was taken between our check and the rename: give it back (unless yet another exists).
    await fs.link(aside, path).catch(() => undefined);
  }
  await fs.rm(aside, { force: true }).catch(() => undefined);
}

/** Runs `work` while holding `lockPath`. */
export async function withLockFile<T>(lockPath: string, work: () => Promise<T>, options: LockOptions = {}): Promise<T> {
  const timeoutMs = options.timeoutMs ?? 5000;
  const staleMs = options.staleMs ?? 10_000;
  const nonce = randomBytes(12).toString('hex');
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const handle = await fs.open(lockPath, 'wx', 0o600);
      try {
        await handle.writeFile(JSON.stringify({ pid: process.pid, host: hostname(), nonce, time: Date.now() }));
      } finally {
        await handle.close();
      }
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    const { stale, holder, describe } = await isStale(lockPath, staleMs);
    if (stale) {
      await breakStale(lockPath, holder);
      continue;
    }
    if (Date.now() >= deadline) throw new LockTimeoutError(lockPath, describe);
    await sleep(2 + Math.random() * 18);
  }
  try {
    return await work();
  } finally {
    const holder = await readHolder(lockPath);
    if (holder?.nonce === nonce) await fs.rm(lockPath, { force: true }).catch(() => undefined);
  }
}
