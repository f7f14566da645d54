/**
 * "Move Tokens to Backend…" as a resumable, journaled job. Each token is moved by
 * `TokenStore.moveToBackend` (copy, read back, save the index, then remove the source), and the
 * journal (no values: keys and backend ids only) is saved after every token. If the window closes or
 * a backend fails part-way, nothing is lost: every token is either still in its source or verified in
 * the target, and `resumeMigration` finishes the job. Pure: the journal storage is injected.
 */
import { errorText } from '../../server/core/errors';
import { z } from 'zod';
import { backendIdSchema, nameSchema, namespaceSchema, type BackendId, type TokenMetadata } from '../../server/core/model';
import { keyId, type TokenKey } from '../../server/core/reference';

const itemSchema = z.object({
  namespace: namespaceSchema,
  name: nameSchema,
  from: backendIdSchema,
  status: z.enum(['pending', 'moved', 'failed']),
  /** Why the last attempt failed, or what was left behind (never a value). */
  note: z.string().max(1000).optional(),
});

export const migrationStateSchema = z.object({
  version: z.literal(1),
  to: backendIdSchema,
  startedAt: z.string(),
  items: z.array(itemSchema),
});
export type MigrationState = z.infer<typeof migrationStateSchema>;
export type MigrationItem = z.infer<typeof itemSchema>;

export interface MigrationJournal {
  load(): Promise<unknown>;
  /** Saves the state; undefined clears the journal. */
  save(state: MigrationState | undefined): Promise<void>;
}

export interface MigrationStore {
  get(key: TokenKey): TokenMetadata | undefined;
  moveToBackend(key: TokenKey, to: BackendId, from?: BackendId): Promise<{ meta: TokenMetadata; leftover?: string }>;
}

export interface MigrationResult {
  readonly to: BackendId;
  readonly moved: TokenKey[];
  /** Tokens that stayed where they were, with the reason. */
  readonly failed: Array<TokenKey & { reason: string }>;
  /** Tokens moved whose old copy could not be removed (a resume removes it). */
  readonly leftovers: Array<TokenKey & { reason: string }>;
  /** True when the journal still holds unfinished work. */
  readonly resumable: boolean;
}

export class MigrationInProgressError extends Error {
  constructor() {
    super('A migration was interrupted and is not finished; resume it (or discard it) before starting another.');
    this.name = 'MigrationInProgressError';
  }
}

export async function loadMigration(journal: MigrationJournal): Promise<MigrationState | undefined> {
  const raw = await journal.load();
  if (raw === undefined || raw === null) return undefined;
  const parsed = migrationStateSchema.safeParse(typeof raw === 'string' ? safeJson(raw) : raw);
  return parsed.success ? parsed.data : undefined;
}

/** Starts moving `keys` to `to`. Tokens already in `to` are skipped. */
export async function startMigration(
  store: MigrationStore,
  journal: MigrationJournal,
  keys: readonly TokenKey[],
  to: BackendId,
  options: { now?: () => Date; onProgress?: (done: number, total: number, key: TokenKey) => void } = {},
): Promise<MigrationResult> {
  if (await loadMigration(journal)) throw new MigrationInProgressError();
  const items: MigrationItem[] = [];
  for (const key of keys) {
    const meta = store.get(key);
    if (!meta || meta.backend === to) continue;
    items.push({ namespace: key.namespace, name: key.name, from: meta.backend, status: 'pending' });
  }
  const state: MigrationState = { version: 1, to, startedAt: (options.now?.() ?? new Date()).toISOString(), items };
  return run(store, journal, state, options.onProgress);
}

/** Finishes an interrupted migration; undefined when there is none. */
export async function resumeMigration(
  store: MigrationStore,
  journal: MigrationJournal,
  options: { onProgress?: (done: number, total: number, key: TokenKey) => void } = {},
): Promise<MigrationResult | undefined> {
  const state = await loadMigration(journal);
  if (!state) return undefined;
  for (const item of state.items) if (item.status === 'failed') item.status = 'pending';
  return run(store, journal, state, options.onProgress);
}

async function run(
  store: MigrationStore,
  journal: MigrationJournal,
  state: MigrationState,
  onProgress?: (done: number, total: number, key: TokenKey) => void,
): Promise<MigrationResult> {
  const moved: TokenKey[] = [];
  const failed: Array<TokenKey & { reason: string }> = [];
  const leftovers: Array<TokenKey & { reason: string }> = [];
  // The journal is written before the first change, so an interruption at any point can be resumed.
  await journal.save(state);
  let done = 0;
  for (const item of state.items) {
    const key = { namespace: item.namespace, name: item.name };
    if (item.status === 'moved') {
      done++;
      continue;
    }
    if (!store.get(key)) {
      // Deleted meanwhile: nothing to move.
      item.status = 'moved';
      item.note = 'deleted before it was moved';
    } else {
      try {
        const r = await store.moveToBackend(key, state.to, item.from);
        if (r.leftover) {
          // Moved, but a copy remains in the source: keep it pending so a resume removes it.
          item.status = 'failed';
          item.note = `moved; the old copy remains (${r.leftover})`;
          leftovers.push({ ...key, reason: r.leftover });
        } else {
          item.status = 'moved';
          item.note = undefined;
          moved.push(key);
        }
      } catch (e) {
        item.status = 'failed';
        item.note = errorText(e).slice(0, 1000);
        failed.push({ ...key, reason: item.note });
      }
    }
    done++;
    onProgress?.(done, state.items.length, key);
    await journal.save(state);
  }
  const resumable = state.items.some((i) => i.status !== 'moved');
  if (!resumable) await journal.save(undefined);
  return { to: state.to, moved, failed, leftovers, resumable };
}

export function describeMigration(r: MigrationResult): string {
  const parts = [`${r.moved.length} token${r.moved.length === 1 ? '' : 's'} moved to ${r.to}`];
  if (r.failed.length) parts.push(`${r.failed.length} not moved (${r.failed.map((f) => `${keyId(f)}: ${f.reason}`).join('; ')})`);
  if (r.leftovers.length) parts.push(`${r.leftovers.length} old cop${r.leftovers.length === 1 ? 'y' : 'ies'} not removed (${r.leftovers.map((f) => keyId(f)).join(', ')})`);
  return parts.join('; ') + '.';
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
