/**
 * The audit trail of token uses: one entry per token per server start (time, reference, server,
 * file, outcome), never a value. Pure (no `vscode`): the file path is handed in.
 *
 * Format: `audit.jsonl` in the extension's global storage folder (mode 0600), one JSON object per
 * line, the same lines as before this version (which rewrote the whole file, bounded to the last
 * 1,000 entries): an old file is read as it is and appended to.
 *
 * Several windows share the file. Each append opens it with O_APPEND and writes whole lines in one
 * `write` call of at most 4 KiB (an entry is ~200 bytes; a longer one has its text fields cut), so appends of
 * two windows never interleave within a line and none overwrites another's (POSIX O_APPEND: the
 * seek to the end and the write are one atomic step; on Linux a regular local file's write holds the
 * inode lock). Nothing is ever rewritten; a line torn by a crash is skipped on reading, and the next
 * append starts on a new line.
 *
 * Rotation: when the file has reached `maxBytes` (default 5 MiB) it is renamed to `audit.jsonl.1`
 * (replacing the previous `.1`), under a lock file, after checking again that it still is that
 * large (two windows do not both rotate). A window that opened the file just before the rename
 * appends into `.1`, which is still read. `list()` reads `.1` then the current file and returns the
 * last `max` entries.
 */
import { promises as fs } from 'node:fs';
import { dirname } from 'node:path';
import { z } from 'zod';
import { Emitter, Mutex } from '../platform/event';
import { withLockFile } from '../platform/lockFile';

export const AUDIT_FILE = 'audit.jsonl';
/** Entries `list()` returns (the newest). */
export const DEFAULT_AUDIT_MAX = 1000;
/** Size at which the file is rotated to `.1`. */
export const DEFAULT_AUDIT_MAX_BYTES = 5 * 1024 * 1024;
/** Bytes per `write` call; lines are grouped up to this, never split. */
const WRITE_CHUNK = 4096;

export const auditEntrySchema = z.object({
  time: z.string(),
  /** `$<TOKEN:ns:name>`. */
  reference: z.string(),
  server: z.string(),
  file: z.string(),
  /** `used`: the value went to the server; the others: it did not. */
  outcome: z.enum(['used', 'denied', 'missing', 'untrusted', 'failed']),
  detail: z.string().max(500).optional(),
});
export type AuditEntry = z.infer<typeof auditEntrySchema>;

export interface AuditOptions {
  /** Rotate at this size (bytes). */
  readonly maxBytes?: number;
}

/** A line longer than this is shortened (its free-text fields cut), so one `write` holds it. */
const MAX_LINE_BYTES = WRITE_CHUNK;

/** The entry's JSON line, at most MAX_LINE_BYTES: a long path or detail is cut, never the entry dropped. */
function lineOf(entry: AuditEntry): string {
  const e = auditEntrySchema.parse(entry);
  const cut = (s: string, n: number) => (s.length > n ? `${s.slice(0, Math.max(0, n - 1))}…` : s);
  let line = `${JSON.stringify(e)}\n`;
  for (let n = 1024; Buffer.byteLength(line) > MAX_LINE_BYTES && n >= 8; n = Math.floor(n / 2)) {
    const short = { ...e, reference: cut(e.reference, n), server: cut(e.server, n), file: cut(e.file, n), ...(e.detail !== undefined ? { detail: cut(e.detail, n) } : {}) };
    line = `${JSON.stringify(short)}\n`;
  }
  return line;
}

/** Parses JSON lines; torn or invalid lines are skipped. */
function parseLines(text: string): AuditEntry[] {
  const out: AuditEntry[] = [];
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    try {
      const parsed = auditEntrySchema.safeParse(JSON.parse(line));
      if (parsed.success) out.push(parsed.data);
    } catch {
      // A torn line (a crash while writing) is skipped.
    }
  }
  return out;
}

async function readText(path: string): Promise<string> {
  try {
    return await fs.readFile(path, 'utf8');
  } catch {
    return ''; // no log yet
  }
}

export class AuditLog {
  private readonly mutex = new Mutex();
  private readonly changed = new Emitter<void>();
  readonly onDidChange = this.changed.event;
  private readonly maxBytes: number;

  constructor(
    private readonly path: string,
    private readonly max = DEFAULT_AUDIT_MAX,
    options: AuditOptions = {},
  ) {
    this.maxBytes = options.maxBytes ?? DEFAULT_AUDIT_MAX_BYTES;
  }

  private get rotated(): string {
    return `${this.path}.1`;
  }

  /** Appends entries (one line each, O_APPEND, whole lines per write); rotates by size first. */
  append(...added: AuditEntry[]): Promise<void> {
    return this.mutex.run(async () => {
      const lines = added.map(lineOf);
      await fs.mkdir(dirname(this.path), { recursive: true });
      await this.rotateIfFull();
      // O_APPEND|O_RDWR: every write goes to the end; the same handle reads the last byte.
      const handle = await fs.open(this.path, 'a+', 0o600);
      try {
        // A torn last line (a crash mid-write) must not swallow this entry: start on a new line.
        const { size } = await handle.stat();
        let lead = '';
        if (size > 0) {
          const last = Buffer.alloc(1);
          await handle.read(last, 0, 1, size - 1);
          if (last[0] !== 0x0a) lead = '\n';
        }
        let chunk = lead;
        for (const line of lines) {
          if (chunk.length > 0 && Buffer.byteLength(chunk) + Buffer.byteLength(line) > WRITE_CHUNK) {
            await writeAll(handle, chunk);
            chunk = '';
          }
          chunk += line;
        }
        if (chunk) await writeAll(handle, chunk);
      } finally {
        await handle.close();
      }
      this.changed.fire();
    });
  }

  /** Renames a full log to `.1` (under a lock; re-checked inside it, so only one window rotates). */
  private async rotateIfFull(): Promise<void> {
    const size = await fs.stat(this.path).then((s) => s.size, () => 0);
    if (size < this.maxBytes) return;
    await withLockFile(`${this.path}.lock`, async () => {
      const now = await fs.stat(this.path).then((s) => s.size, () => 0);
      if (now >= this.maxBytes) await fs.rename(this.path, this.rotated);
    }).catch(() => undefined); // a busy lock: another window is rotating; append anyway
  }

  /** The last `max` entries, oldest first (read from disk: other windows append too). */
  list(): Promise<AuditEntry[]> {
    return this.mutex.run(async () => {
      const entries = [...parseLines(await readText(this.rotated)), ...parseLines(await readText(this.path))];
      return entries.slice(-this.max);
    });
  }

  clear(): Promise<void> {
    return this.mutex.run(async () => {
      await fs.mkdir(dirname(this.path), { recursive: true });
      await fs.rm(this.rotated, { force: true });
      await fs.writeFile(this.path, '', { encoding: 'utf8', mode: 0o600 });
      this.changed.fire();
    });
  }

  dispose(): void {
    this.changed.dispose();
  }
}

/** One `write` per call when the kernel takes it whole (a regular file does); the rest is written after. */
async function writeAll(handle: fs.FileHandle, text: string): Promise<void> {
  const buf = Buffer.from(text, 'utf8');
  let off = 0;
  while (off < buf.length) {
    const { bytesWritten } = await handle.write(buf, off, buf.length - off);
    off += bytesWritten;
  }
}

/** The log as text for the "Show Audit Log" document, newest first. */
export function formatAudit(entries: readonly AuditEntry[]): string {
  if (entries.length === 0) return 'No token has been used by an MCP server yet.\n';
  const lines = [...entries].reverse().map((e) => `${e.time}  ${e.outcome.padEnd(9)} ${e.reference}  server "${e.server}"  ${e.file}${e.detail ? `  (${e.detail})` : ''}`);
  return `MCP Tokens audit log: ${entries.length} entr${entries.length === 1 ? 'y' : 'ies'}, newest first. Values are never recorded.\n\n${lines.join('\n')}\n`;
}
