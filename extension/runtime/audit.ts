/**
 * The audit trail of token uses: one entry per token per server start (time, reference, server,
 * file, outcome), never a value. Kept as JSON lines in `audit.jsonl` in the extension's global
 * storage folder, bounded to the last `max` entries. Pure (no `vscode`): the file path is handed in.
 */
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { z } from 'zod';
import { Emitter, Mutex } from '../util/event';

export const AUDIT_FILE = 'audit.jsonl';
export const DEFAULT_AUDIT_MAX = 1000;

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

export class AuditLog {
  private entries: AuditEntry[] | undefined;
  private readonly mutex = new Mutex();
  private readonly changed = new Emitter<void>();
  readonly onDidChange = this.changed.event;

  constructor(
    private readonly path: string,
    private readonly max = DEFAULT_AUDIT_MAX,
  ) {}

  private async load(): Promise<AuditEntry[]> {
    if (this.entries) return this.entries;
    let text = '';
    try {
      text = await readFile(this.path, 'utf8');
    } catch {
      // No log yet.
    }
    const out: AuditEntry[] = [];
    for (const line of text.split('\n')) {
      if (!line.trim()) continue;
      try {
        const parsed = auditEntrySchema.safeParse(JSON.parse(line));
        if (parsed.success) out.push(parsed.data);
      } catch {
        // A torn line (crash while writing) is skipped.
      }
    }
    this.entries = out.slice(-this.max);
    return this.entries;
  }

  /** Appends entries and rewrites the file within the bound. */
  append(...added: AuditEntry[]): Promise<void> {
    return this.mutex.run(async () => {
      const entries = await this.load();
      entries.push(...added.map((e) => auditEntrySchema.parse(e)));
      if (entries.length > this.max) entries.splice(0, entries.length - this.max);
      await mkdir(dirname(this.path), { recursive: true });
      const tmp = `${this.path}.tmp`;
      await writeFile(tmp, entries.map((e) => JSON.stringify(e)).join('\n') + '\n', { encoding: 'utf8', mode: 0o600 });
      await rename(tmp, this.path);
      this.changed.fire();
    });
  }

  /** Every entry, oldest first. */
  list(): Promise<AuditEntry[]> {
    return this.mutex.run(async () => [...(await this.load())]);
  }

  clear(): Promise<void> {
    return this.mutex.run(async () => {
      this.entries = [];
      await mkdir(dirname(this.path), { recursive: true });
      await writeFile(this.path, '', { encoding: 'utf8', mode: 0o600 });
      this.changed.fire();
    });
  }

  dispose(): void {
    this.changed.dispose();
  }
}

/** The log as text for the "Show Audit Log" document, newest first. */
export function formatAudit(entries: readonly AuditEntry[]): string {
  if (entries.length === 0) return 'No token has been used by an MCP server yet.\n';
  const lines = [...entries].reverse().map((e) => `${e.time}  ${e.outcome.padEnd(9)} ${e.reference}  server "${e.server}"  ${e.file}${e.detail ? `  (${e.detail})` : ''}`);
  return `MCP Tokens audit log: ${entries.length} entr${entries.length === 1 ? 'y' : 'ies'}, newest first. Values are never recorded.\n\n${lines.join('\n')}\n`;
}
