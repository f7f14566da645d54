/**
 * The audit trail: every use and every change of a token (launch resolution, copy, export, rotate,
 * restore, delete, sign-in, refresh, verify, import, set, move, launcher, …), each with the time, the
 * tokens, the actor (command id and caller kind, server, launcher client) and the outcome (ok, denied,
 * cancelled, failed, with a reason); never a value. Pure (no `vscode`): the file path is handed in;
 * `services.audit` (built in `extension.ts` before any feature) is the one writer.
 *
 * Format: `audit.jsonl` in the extension's global storage folder (mode 0600), one JSON object per
 * line (`auditEventSchema`). Lines written by earlier versions (launches only: `{time, reference,
 * server, file, outcome: used|denied|missing|untrusted|failed}`) are read as `launch` events.
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
import { promises as fs, watch as watchDir, type FSWatcher } from 'node:fs';
import { basename, dirname } from 'node:path';
import { z } from 'zod';
import { Emitter, Mutex } from './event';
import { withLockFile } from './lockFile';
import { keyId, parseWholeReference } from '../../server/core/reference';
import { errorText } from '../../server/core/errors';
import { auditEventSchema, type AuditActor, type AuditEvent, type AuditKind, type AuditOutcome } from './auditEvent';

export const AUDIT_FILE = 'audit.jsonl';
/** Entries `list()` returns (the newest). */
export const DEFAULT_AUDIT_MAX = 1000;
/** Size at which the file is rotated to `.1`. */
export const DEFAULT_AUDIT_MAX_BYTES = 5 * 1024 * 1024;
/** The most `AuditLog.follow` reads at once. */
export const FOLLOW_MAX_BYTES = 1024 * 1024;
/** Bytes per `write` call; lines are grouped up to this, never split. */
const WRITE_CHUNK = 4096;

export { AUDIT_KINDS, AUDIT_OUTCOMES, auditActorSchema, auditEventSchema, type AuditActor, type AuditEvent, type AuditKind, type AuditOutcome } from './auditEvent';

/** An earlier version's line (launches only). */
const legacyEntrySchema = z.object({
  time: z.string(),
  reference: z.string(),
  server: z.string(),
  file: z.string(),
  outcome: z.enum(['used', 'denied', 'missing', 'untrusted', 'failed']),
  detail: z.string().max(500).optional(),
});

function fromLegacy(e: z.infer<typeof legacyEntrySchema>): AuditEvent {
  const ref = parseWholeReference(e.reference);
  const reason = e.outcome === 'missing' || e.outcome === 'untrusted' ? [e.outcome, e.detail].filter(Boolean).join(': ') : e.detail;
  return withoutUndefined({
    time: e.time,
    kind: 'launch',
    tokens: [ref ? keyId(ref) : e.reference.slice(0, 300)],
    actor: { server: e.server.slice(0, 1024), file: e.file.slice(0, 4096) },
    outcome: e.outcome === 'used' ? 'ok' : e.outcome === 'denied' ? 'denied' : 'failed',
    reason: reason?.slice(0, 500),
  });
}

function withoutUndefined<T>(v: T): T {
  return JSON.parse(JSON.stringify(v)) as T;
}

/** Which events `list` returns. */
export interface AuditFilter {
  /** `namespace:name`: events naming this token. */
  readonly token?: string;
  /** Events of the last N days. */
  readonly days?: number;
  readonly kind?: AuditKind;
  readonly outcome?: AuditOutcome;
}

/** Applies a filter (pure). */
export function filterAudit(events: readonly AuditEvent[], f: AuditFilter, now: Date): AuditEvent[] {
  const since = f.days !== undefined ? now.getTime() - f.days * 86_400_000 : undefined;
  return events.filter(
    (e) =>
      (!f.token || (e.tokens ?? []).includes(f.token)) &&
      (!f.kind || e.kind === f.kind) &&
      (!f.outcome || e.outcome === f.outcome) &&
      (since === undefined || Date.parse(e.time) >= since),
  );
}

export interface AuditOptions {
  /** Rotate at this size (bytes). */
  readonly maxBytes?: number;
}

/** A line longer than this is shortened (its free-text fields cut), so one `write` holds it. */
const MAX_LINE_BYTES = WRITE_CHUNK;

/** The event's JSON line, at most MAX_LINE_BYTES: long free-text fields are cut, never the event dropped. */
function lineOf(event: AuditEvent): string {
  const e = auditEventSchema.parse(event);
  const cut = (s: string | undefined, n: number) => (s !== undefined && s.length > n ? `${s.slice(0, Math.max(0, n - 1))}…` : s);
  let line = `${JSON.stringify(e)}\n`;
  for (let n = 1024; Buffer.byteLength(line) > MAX_LINE_BYTES && n >= 8; n = Math.floor(n / 2)) {
    const actor = Object.fromEntries(Object.entries(e.actor).map(([k, v]) => [k, typeof v === 'string' ? cut(v, n) : v]));
    const short = { ...e, actor, tokens: e.tokens?.slice(0, Math.max(1, Math.floor(n / 32))).map((t) => cut(t, n)), reason: cut(e.reason, n) };
    line = `${JSON.stringify(short)}\n`;
  }
  return line;
}

/** Parses JSON lines; torn or invalid lines are skipped. */
function parseLines(text: string): AuditEvent[] {
  const out: AuditEvent[] = [];
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    try {
      const json: unknown = JSON.parse(line);
      const parsed = auditEventSchema.safeParse(json);
      if (parsed.success) out.push(parsed.data);
      else {
        const legacy = legacyEntrySchema.safeParse(json);
        if (legacy.success) out.push(fromLegacy(legacy.data));
      }
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
  append(...added: AuditEvent[]): Promise<void> {
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

  /** The last `max` entries (of those the filter lets through), oldest first (read from disk: other windows append too). */
  list(filter: AuditFilter = {}, now = new Date()): Promise<AuditEvent[]> {
    return this.mutex.run(async () => {
      const entries = [...parseLines(await readText(this.rotated)), ...parseLines(await readText(this.path))];
      return filterAudit(entries, filter, now).slice(-this.max);
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

  /**
   * Calls `onAppended` with the events appended to the log from now on, by anyone (this window, other
   * windows, the mcp-tokens launcher), read from where the previous call ended, whole lines only. A
   * rotation starts over at the new file's beginning. Watches the folder (the file may not exist yet);
   * where the folder cannot be watched, nothing is reported.
   */
  follow(onAppended: (events: AuditEvent[]) => void, options: { debounceMs?: number } = {}): { dispose(): void } {
    let offset = -1; // unknown until the first stat: what is there already is not "appended"
    let timer: NodeJS.Timeout | undefined;
    let reading: Promise<void> = Promise.resolve();
    let watcher: FSWatcher | undefined;
    let disposed = false;
    const read = async () => {
      const size = await fs.stat(this.path).then((st) => st.size, () => 0);
      if (offset < 0 || size < offset) {
        // First look, or rotated (the new file is smaller): a rotated-away file's last lines are not re-read.
        const first = offset < 0;
        offset = first ? size : 0;
        if (first) return;
      }
      if (size === offset) return;
      // At most FOLLOW_MAX_BYTES per read: a tail larger than that (a writer that never rotates) is
      // skipped up to its last FOLLOW_MAX_BYTES, from the first whole line in them.
      let skipToLine = false;
      if (size - offset > FOLLOW_MAX_BYTES) {
        offset = size - FOLLOW_MAX_BYTES;
        skipToLine = true;
      }
      const handle = await fs.open(this.path, 'r');
      try {
        const buf = Buffer.alloc(size - offset);
        const { bytesRead } = await handle.read(buf, 0, buf.length, offset);
        let bytes = buf.subarray(0, bytesRead);
        if (skipToLine) {
          const first = bytes.indexOf(0x0a);
          if (first < 0) {
            offset += bytes.length;
            return;
          }
          offset += first + 1;
          bytes = bytes.subarray(first + 1);
        }
        const end = bytes.lastIndexOf(0x0a);
        if (end < 0) return; // a line still being written
        offset += end + 1;
        const events = parseLines(bytes.subarray(0, end + 1).toString('utf8'));
        if (events.length && !disposed) onAppended(events);
      } finally {
        await handle.close();
      }
    };
    const schedule = () => {
      if (disposed) return;
      clearTimeout(timer);
      timer = setTimeout(() => (reading = reading.then(read).catch(() => undefined)), options.debounceMs ?? 100);
    };
    reading = fs
      .mkdir(dirname(this.path), { recursive: true })
      .then(read)
      .then(() => {
        if (disposed) return;
        const name = basename(this.path);
        watcher = watchDir(dirname(this.path), (_event, file) => (file === null || file === name ? schedule() : undefined));
        watcher.on('error', () => watcher?.close());
      })
      .catch(() => undefined);
    return {
      dispose: () => {
        disposed = true;
        clearTimeout(timer);
        watcher?.close();
      },
    };
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
export function formatAudit(events: readonly AuditEvent[], filter: AuditFilter = {}): string {
  const what = [filter.token && `token ${filter.token}`, filter.kind && `kind ${filter.kind}`, filter.outcome && `outcome ${filter.outcome}`, filter.days !== undefined && `last ${filter.days} day${filter.days === 1 ? '' : 's'}`].filter(Boolean).join(', ');
  if (events.length === 0) return `MCP Tokens audit log${what ? ` (${what})` : ''}: no events.\n`;
  const lines = [...events].reverse().map((e) => {
    const actor = [e.actor.command && `${e.actor.command}${e.actor.via ? ` (${e.actor.via})` : ''}`, e.actor.server && `server "${e.actor.server}"`, e.actor.file, e.actor.launcher && `launcher ${e.actor.launcher}`].filter(Boolean).join('  ');
    return `${e.time}  ${e.kind.padEnd(9)} ${e.outcome.padEnd(9)} ${(e.tokens ?? []).join(', ') || '-'}  ${actor}${e.reason ? `  (${e.reason})` : ''}`;
  });
  return `MCP Tokens audit log${what ? ` (${what})` : ''}: ${events.length} event${events.length === 1 ? '' : 's'}, newest first. Values are never recorded.\n\n${lines.join('\n')}\n`;
}

/** JSON lines of the events, for Export (oldest first, one event per line). */
export function auditJsonLines(events: readonly AuditEvent[]): string {
  return events.map((e) => JSON.stringify(e)).join('\n') + (events.length ? '\n' : '');
}

/** What a feature records: the time and (inside a command) the actor are filled in. */
export interface AuditRecord {
  readonly kind: AuditKind;
  readonly tokens?: readonly TokenKeyLike[];
  readonly actor?: AuditActor;
  readonly outcome: AuditOutcome;
  readonly reason?: string;
}

type TokenKeyLike = string | { readonly namespace: string; readonly name: string };

/**
 * `services.audit`: the one writer of the audit trail. `record` never throws and never waits for the
 * disk in the caller's path (a failure is logged); `flush()` waits for what was recorded (tests,
 * the Show Audit Log view).
 */
export class AuditTrail {
  private pending: Promise<void> = Promise.resolve();

  constructor(
    readonly log: AuditLog,
    private readonly options: { now?: () => Date; actor?: () => AuditActor | undefined; warn?: (message: string) => void } = {},
  ) {}

  get onDidChange(): AuditLog['onDidChange'] {
    return this.log.onDidChange;
  }

  /** Records one event (the actor defaults to the running command's). */
  record(r: AuditRecord): void {
    const event = this.event(r);
    if (!event) return;
    this.pending = this.pending.then(() => this.log.append(event)).catch((e) => this.options.warn?.(`Could not write the audit log: ${errorText(e)}`));
  }

  /** The event a record becomes (undefined, and a warning, when it does not fit the schema). Pure. */
  event(r: AuditRecord): AuditEvent | undefined {
    const tokens = r.tokens?.map((t) => (typeof t === 'string' ? t : `${t.namespace}:${t.name}`).slice(0, 300)).slice(0, 100);
    const candidate = withoutUndefined({
      time: (this.options.now?.() ?? new Date()).toISOString(),
      kind: r.kind,
      tokens: tokens?.length ? tokens : undefined,
      actor: r.actor ?? this.options.actor?.() ?? {},
      outcome: r.outcome,
      reason: r.reason?.slice(0, 500),
    });
    const parsed = auditEventSchema.safeParse(candidate);
    if (!parsed.success) {
      this.options.warn?.(`An audit event of kind ${r.kind} was not recorded: it does not fit the schema.`);
      return undefined;
    }
    return parsed.data;
  }

  /** Waits until everything recorded so far is on disk. */
  async flush(): Promise<void> {
    await this.pending;
  }

  async list(filter: AuditFilter = {}): Promise<AuditEvent[]> {
    await this.flush();
    return this.log.list(filter, this.options.now?.() ?? new Date());
  }

  dispose(): void {
    this.log.dispose();
  }
}
