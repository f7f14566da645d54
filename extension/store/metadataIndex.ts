/**
 * The metadata index (version 2): one entry per token and one per Recently Deleted entry in the
 * metadata storage (VS Code SecretStorage, shared by every window of the machine), so there is no
 * shared document two windows could race on. This module keeps
 *
 * - a cache of the entries, current with the storage's change events (another window's writes): an
 *   event re-reads the key it names, and a read that started before one of this window's own writes
 *   to that key is dropped (the write is newer);
 * - short leases (`lease`, lease.ts: the one lease mechanism) a window holds while it changes a
 *   token, so two windows changing the same token take turns, and the holder re-reads the token
 *   first (see TokenStore);
 * - damaged entries (not JSON, not our schema) and entries of a newer version: never overwritten by
 *   anything but an explicit rebuild (damaged) or never at all (newer); a copy is kept under
 *   METADATA_LAYOUT.backup;
 * - the migration from the old single index document, which stays where it is, as it is.
 *
 * Pure (no `vscode` import): the storage and the clock are injected. Entries hold no value.
 */
import { createHash, randomBytes } from 'node:crypto';
import {
  ENTRY_VERSION,
  INDEX_VERSION,
  METADATA_LAYOUT as L,
  TRASH_NAMESPACE,
  describeIssues,
  entryVersionSchema,
  migrationMarkerSchema,
  tokenEntrySchema,
  tokenMetadataSchema,
  trashDocumentSchema,
  trashEntrySchema,
  type MigrationMarker,
  type TokenMetadata,
  type TrashEntry,
} from '../../server/core/model';
import { errorText } from '../../server/core/errors';
import { keyId } from '../../server/core/reference';
import { Emitter, type Disposable } from '../platform/event';
import type { MetadataStorage } from './backend';
import { Leases, prefixedLeaseStorage } from './lease';

/** An entry this version cannot use as it is. It stays where it is; a copy is kept at `backup`. */
export interface Damage {
  /** The storage key of the entry. */
  readonly storageKey: string;
  readonly kind: 'token' | 'trash' | 'legacy';
  /** The token (`namespace:name`) or trash entry id it is for; undefined for the old index document. */
  readonly key?: string;
  /** `malformed`: not JSON or not this version's schema; `newer`: written by a newer version. */
  readonly reason: 'malformed' | 'newer';
  /** Where the copy is kept. */
  readonly backup: string;
  /** What is wrong, without any content. */
  readonly detail: string;
}

/** What changed in the cache because of the storage (another window, or an event of our own write that brought news). */
export interface IndexChange {
  /** Token ids (`namespace:name`) whose metadata changed or went. */
  readonly tokens: readonly string[];
  readonly trash: boolean;
  /**
   * True when every changed token kept its `updatedAt` (a metadata-only change, such as when it was
   * last used): its value did not change, so no server needs restarting.
   */
  readonly usageOnly?: boolean;
}

export interface MetadataIndexOptions {
  readonly now: () => Date;
  readonly log: (level: 'info' | 'warn' | 'error', message: string) => void;
  /**
   * How long a window waits after writing a lease before it reads it back (ms). Two windows that both
   * saw the lease free each write theirs; after this wait only the last one reads its own back. Safe
   * while a SecretStorage write takes less than this (a few ms on desktop).
   */
  readonly leaseSettleMs?: number;
  /**
   * How long a lease lives unless renewed (the holder renews it every third of this while it works),
   * so a window that dies holding it blocks the token at most this long (default 6 s).
   */
  readonly leaseMs?: number;
}

/** The name of a lease: a token, a trash entry, or the migration. */
export type LeaseName = `token:${string}` | `trash:${string}` | 'migration';

const DEFAULT_SETTLE_MS = 50;
const DEFAULT_LEASE_MS = 6_000;

export class NewerVersionError extends Error {
  constructor(readonly key: string) {
    super(`The metadata of ${key} was written by a newer version of MCP Token Manager; update the extension to change this token (it is left as it is).`);
    this.name = 'NewerVersionError';
  }
}

export class MetadataIndex implements Disposable {
  readonly tokens = new Map<string, TokenMetadata>();
  readonly trash = new Map<string, TrashEntry>();
  /** Token ids whose entry a newer version wrote: usable, never written by this version. */
  readonly newer = new Set<string>();
  /** Damaged and newer entries, by storage key. */
  readonly damage = new Map<string, Damage>();
  /** The text of each entry as last read or written, by storage key. */
  private readonly raw = new Map<string, string>();
  /** Counts this window's writes per storage key, so a read that a write overtook is dropped. */
  private readonly writes = new Map<string, number>();
  private readonly changed = new Emitter<IndexChange>();
  private readonly subscription: Disposable | undefined;
  private readonly leaseStorage: ReturnType<typeof prefixedLeaseStorage>;
  private readonly leases: Leases;
  readonly onDidChange = this.changed.event;

  constructor(
    private readonly storage: MetadataStorage,
    private readonly options: MetadataIndexOptions,
  ) {
    // Lease records under METADATA_LAYOUT.lock; their change events are not needed (a waiting window polls).
    this.leaseStorage = prefixedLeaseStorage({ get: (k) => storage.get(k), store: (k, v) => storage.store(k, v), delete: (k) => storage.delete(k) }, L.lock);
    this.leases = new Leases(this.leaseStorage, {
      owner: randomBytes(8).toString('hex'),
      now: () => options.now().getTime(),
      ttlMs: options.leaseMs ?? DEFAULT_LEASE_MS,
      settleMs: options.leaseSettleMs ?? DEFAULT_SETTLE_MS,
    });
    this.subscription = storage.onDidChange?.((e) => void this.onStorageChange(e.key));
  }

  dispose(): void {
    this.subscription?.dispose();
    this.leaseStorage.dispose();
    this.changed.dispose();
  }

  // ---- loading --------------------------------------------------------------------------------

  /** Reads every entry (and migrates the old single index when it changed since its last migration). */
  async load(): Promise<void> {
    const keys = (await this.storage.keys()).filter(isEntryKey);
    const seen = new Set(keys);
    for (const k of [...this.raw.keys()]) if (!seen.has(k)) this.accept(k, undefined);
    await this.reread(keys);
    await this.migrate();
  }

  /** Re-reads entries (by storage key) and updates the cache; returns what changed. */
  async reread(storageKeys: readonly string[]): Promise<IndexChange> {
    const tokens: string[] = [];
    let trash = false;
    let usageOnly = true;
    const texts = await Promise.all(
      storageKeys.map(async (k) => {
        const before = this.writes.get(k) ?? 0;
        const text = await this.storage.get(k);
        return { k, text, overtaken: (this.writes.get(k) ?? 0) !== before };
      }),
    );
    for (const { k, text, overtaken } of texts) {
      if (overtaken) continue;
      const updatedBefore = k.startsWith(L.token) ? this.tokens.get(k.slice(L.token.length))?.updatedAt : undefined;
      const c = this.accept(k, text);
      if (c === 'trash') trash = true;
      else if (c) {
        tokens.push(c);
        const updatedAfter = this.tokens.get(c)?.updatedAt;
        if (updatedBefore === undefined || updatedAfter === undefined || updatedBefore !== updatedAfter) usageOnly = false;
      }
    }
    return { tokens, trash, usageOnly: tokens.length > 0 && !trash && usageOnly };
  }

  /** The storage keys of these leases' entries. */
  entryKeys(names: readonly LeaseName[]): string[] {
    return names.flatMap((n) => (n.startsWith('token:') ? [L.token + n.slice(6)] : n.startsWith('trash:') ? [L.trash + n.slice(6)] : []));
  }

  // ---- writing --------------------------------------------------------------------------------

  /**
   * Writes the entries that differ between `before` and the cache now (trash entries first, then
   * tokens, then removed trash entries), one key each. On a failure the keys already written are put
   * back as they were (best effort), the cache is restored, and the error is thrown.
   */
  async persist(before: { tokens: ReadonlyMap<string, TokenMetadata>; trash: ReadonlyMap<string, TrashEntry> }): Promise<void> {
    const plan: Array<{ key: string; text: string | undefined }> = [];
    const diff = <T>(prefix: string, was: ReadonlyMap<string, T>, now: ReadonlyMap<string, T>, serialize: (v: T) => string, removals: boolean) => {
      for (const id of new Set([...was.keys(), ...now.keys()])) {
        const a = was.get(id);
        const b = now.get(id);
        if (a === b) continue; // the same object: unchanged (no serialising, so a write costs the same at any size)
        if (b === undefined) {
          if (removals && a !== undefined) plan.push({ key: prefix + id, text: undefined });
        } else if (!removals && (a === undefined || JSON.stringify(a) !== JSON.stringify(b))) {
          plan.push({ key: prefix + id, text: serialize(b) });
        }
      }
    };
    const token = (m: TokenMetadata) => JSON.stringify({ version: ENTRY_VERSION, token: m });
    const trash = (e: TrashEntry) => JSON.stringify({ version: ENTRY_VERSION, entry: e });
    diff(L.trash, before.trash, this.trash, trash, false);
    diff(L.token, before.tokens, this.tokens, token, false);
    diff(L.token, before.tokens, this.tokens, token, true);
    diff(L.trash, before.trash, this.trash, trash, true);
    for (const p of plan) {
      const id = p.key.startsWith(L.token) ? p.key.slice(L.token.length) : undefined;
      if (id && this.newer.has(id)) {
        this.restore(before);
        throw new NewerVersionError(id);
      }
    }
    const done: Array<{ key: string; text: string | undefined }> = [];
    try {
      for (const p of plan) {
        const previous = this.raw.get(p.key);
        await this.write(p.key, p.text);
        done.push({ key: p.key, text: previous });
      }
    } catch (e) {
      for (const d of done.reverse()) {
        await this.write(d.key, d.text).catch((u) => this.options.log('error', `Could not put back the metadata entry ${d.key}: ${errorText(u)}`));
      }
      this.restore(before);
      throw e;
    }
  }

  private restore(before: { tokens: ReadonlyMap<string, TokenMetadata>; trash: ReadonlyMap<string, TrashEntry> }): void {
    this.tokens.clear();
    for (const [k, v] of before.tokens) this.tokens.set(k, v);
    this.trash.clear();
    for (const [k, v] of before.trash) this.trash.set(k, v);
  }

  /** Writes (or, with undefined, deletes) one entry; `raw` follows at once so our own change event is recognised. */
  private async write(key: string, text: string | undefined): Promise<void> {
    this.writes.set(key, (this.writes.get(key) ?? 0) + 1);
    const before = this.raw.get(key);
    if (text === undefined) this.raw.delete(key);
    else this.raw.set(key, text);
    try {
      if (text === undefined) await this.storage.delete(key);
      else await this.storage.store(key, text);
    } catch (e) {
      if (before === undefined) this.raw.delete(key);
      else this.raw.set(key, before);
      throw e;
    }
  }

  // ---- leases ---------------------------------------------------------------------------------

  /**
   * Takes the leases `names` for this window (all or none), waiting while another window holds one;
   * resolves to the function that gives them back. A lease older than `leaseMs` is taken over (its
   * window died holding it).
   */
  async lease(names: readonly LeaseName[]): Promise<() => Promise<void>> {
    const held = await this.leases.acquireAll(names, 2 * this.leases.ttlMs, (name, e) =>
      // It expires by itself.
      this.options.log('warn', `Could not give back the lease ${L.lock + name}: ${errorText(e)}`),
    );
    return () => held.release();
  }

  // ---- entries --------------------------------------------------------------------------------

  /**
   * Takes an entry's current text into the cache. Returns the token id, or 'trash', when the cache
   * changed, else undefined. Damaged and newer entries are recorded (and backed up) and left as they are.
   */
  private accept(storageKey: string, text: string | undefined): string | undefined {
    if (text === this.raw.get(storageKey) && (text !== undefined || !this.damage.has(storageKey))) return undefined;
    if (text === undefined) this.raw.delete(storageKey);
    else this.raw.set(storageKey, text);
    this.damage.delete(storageKey);
    if (storageKey.startsWith(L.token)) {
      const id = storageKey.slice(L.token.length);
      const before = JSON.stringify(this.tokens.get(id));
      this.tokens.delete(id);
      this.newer.delete(id);
      if (text !== undefined) this.acceptToken(storageKey, id, text);
      return JSON.stringify(this.tokens.get(id)) !== before ? id : this.damage.has(storageKey) ? id : undefined;
    }
    const id = storageKey.slice(L.trash.length);
    this.trash.delete(id);
    if (text !== undefined) this.acceptTrash(storageKey, id, text);
    return 'trash';
  }

  private acceptToken(storageKey: string, id: string, text: string): void {
    const json = parseJson(text);
    const version = entryVersionSchema.safeParse(json);
    if (version.success && version.data.version > ENTRY_VERSION) {
      // A newer version's entry: use what this version understands, never write it.
      this.newer.add(id);
      const token = tokenMetadataSchema.safeParse((json as { token?: unknown }).token);
      if (token.success && keyId(token.data) === id) this.tokens.set(id, token.data);
      this.damaged({ storageKey, kind: 'token', key: id, reason: 'newer', detail: `written by version ${version.data.version}` }, text);
      return;
    }
    const parsed = tokenEntrySchema.safeParse(json);
    if (!parsed.success || keyId(parsed.data.token) !== id || parsed.data.token.namespace === TRASH_NAMESPACE) {
      const detail = json === undefined ? 'not valid JSON' : parsed.success ? 'it names another token' : describeIssues(parsed.error);
      this.damaged({ storageKey, kind: 'token', key: id, reason: 'malformed', detail }, text);
      return;
    }
    this.tokens.set(id, parsed.data.token);
  }

  private acceptTrash(storageKey: string, id: string, text: string): void {
    const json = parseJson(text);
    const version = entryVersionSchema.safeParse(json);
    const parsed = trashDocumentSchema.safeParse(json);
    if (parsed.success && parsed.data.entry.id === id) {
      this.trash.set(id, parsed.data.entry);
      return;
    }
    const newer = version.success && version.data.version > ENTRY_VERSION;
    const detail = json === undefined ? 'not valid JSON' : parsed.success ? 'it names another entry' : describeIssues(parsed.error);
    this.damaged({ storageKey, kind: 'trash', key: id, reason: newer ? 'newer' : 'malformed', detail }, text);
  }

  /** Records a damaged entry and keeps a copy of it (once per distinct text). */
  private damaged(d: Omit<Damage, 'backup'>, text: string): void {
    const backup = L.backup + createHash('sha256').update(`${d.storageKey}\n${text}`).digest('hex').slice(0, 24);
    this.damage.set(d.storageKey, { ...d, backup });
    this.options.log('warn', `The metadata entry ${d.storageKey} ${d.reason === 'newer' ? 'was written by a newer version' : `is damaged (${d.detail})`}; it is left as it is, and a copy is kept in ${backup}.`);
    void this.keepCopy(backup, d.storageKey, text);
  }

  private readonly copies = new Map<string, Promise<void>>();

  /** Resolves when every copy of a damaged entry found so far is stored. */
  async copiesKept(): Promise<void> {
    await Promise.all(this.copies.values());
  }

  private keepCopy(backup: string, of: string, text: string): Promise<void> {
    let p = this.copies.get(backup);
    if (!p) {
      p = (async () => {
        if ((await this.storage.get(backup)) !== undefined) return;
        await this.storage.store(backup, JSON.stringify({ of, foundAt: this.options.now().toISOString(), text }));
      })().catch((e) => this.options.log('error', `Could not keep a copy of ${of}: ${errorText(e)}`));
      this.copies.set(backup, p);
    }
    return p;
  }

  private async onStorageChange(key: string): Promise<void> {
    try {
      if (key === L.legacyIndex) {
        const before = { tokens: [...this.tokens.keys()], trash: this.trash.size };
        await this.migrate();
        this.changed.fire({ tokens: before.tokens, trash: true });
        return;
      }
      if (!isEntryKey(key)) return;
      const change = await this.reread([key]);
      if (change.tokens.length || change.trash) this.changed.fire(change);
    } catch (e) {
      this.options.log('warn', `Could not read the metadata entry ${key} another window changed: ${errorText(e)}`);
    }
  }

  // ---- migration ------------------------------------------------------------------------------

  /**
   * Migrates the old single index document (`mcpTokens/v1/index`) into entries: every token and trash
   * entry it lists that was not migrated before (or changed since, by an old version still running in
   * another window) and that has no newer entry. The document is never written or deleted: it stays
   * as the backup of what was migrated. A document that does not parse is reported once, its tokens
   * are found again by discovery.
   */
  async migrate(): Promise<void> {
    const text = await this.storage.get(L.legacyIndex);
    if (text === undefined) return;
    const digest = createHash('sha256').update(text).digest('hex');
    if ((await this.marker())?.digest === digest) return;
    const release = await this.lease(['migration']);
    try {
      const marker = await this.marker();
      if (marker?.digest === digest) return;
      const json = parseJson(text) as { version?: unknown; tokens?: unknown; trash?: unknown } | undefined;
      const tokens: TokenMetadata[] = [];
      const trash: TrashEntry[] = [];
      let invalid = 0;
      for (const t of Array.isArray(json?.tokens) ? json.tokens : []) {
        const p = tokenMetadataSchema.safeParse(t);
        if (p.success && p.data.namespace !== TRASH_NAMESPACE) tokens.push(p.data);
        else invalid++;
      }
      for (const e of Array.isArray(json?.trash) ? json.trash : []) {
        const p = trashEntrySchema.safeParse(e);
        if (p.success) trash.push(p.data);
        else invalid++;
      }
      if (json === undefined || !Array.isArray(json.tokens)) {
        this.damaged({ storageKey: L.legacyIndex, kind: 'legacy', reason: 'malformed', detail: json === undefined ? 'not valid JSON' : 'no token list' }, text);
      } else if (typeof json.version === 'number' && json.version > INDEX_VERSION) {
        this.options.log('warn', `The old token index was written by a newer version (${json.version}); its entries are read, and it is left as it is.`);
      }
      if (invalid) this.options.log('warn', `The old token index had ${invalid} invalid entr${invalid === 1 ? 'y' : 'ies'}; they are left in it, unused.`);
      // What is due: new or changed since the last migration, and not older than the entry we have.
      const dueTokens = tokens.filter((t) => marker?.tokens[keyId(t)] !== t.updatedAt);
      const dueTrash = trash.filter((e) => !marker?.trash.includes(e.id));
      const names: LeaseName[] = [...dueTokens.map((t) => `token:${keyId(t)}` as const), ...dueTrash.map((e) => `trash:${e.id}` as const)];
      const releaseEntries = await this.lease(names);
      try {
        await this.reread(this.entryKeys(names));
        const before = { tokens: new Map(this.tokens), trash: new Map(this.trash) };
        for (const t of dueTokens) {
          const id = keyId(t);
          const current = this.tokens.get(id);
          if (this.newer.has(id) || this.damage.has(L.token + id)) continue;
          if (!current || current.updatedAt < t.updatedAt) this.tokens.set(id, t);
        }
        for (const e of dueTrash) if (!this.trash.has(e.id) && !this.damage.has(L.trash + e.id)) this.trash.set(e.id, e);
        await this.persist(before);
      } finally {
        await releaseEntries();
      }
      const next: MigrationMarker = {
        version: ENTRY_VERSION,
        digest,
        tokens: Object.fromEntries(tokens.map((t) => [keyId(t), t.updatedAt])),
        trash: trash.map((e) => e.id),
      };
      await this.storage.store(L.migrated, JSON.stringify(next));
      this.options.log('info', `Migrated ${dueTokens.length} token(s) and ${dueTrash.length} Recently Deleted entr${dueTrash.length === 1 ? 'y' : 'ies'} from the old token index (kept as it is).`);
    } finally {
      await release();
    }
  }

  private async marker(): Promise<MigrationMarker | undefined> {
    const m = migrationMarkerSchema.safeParse(parseJson((await this.storage.get(L.migrated)) ?? ''));
    return m.success ? m.data : undefined;
  }
}

function isEntryKey(key: string): boolean {
  return key.startsWith(L.token) || key.startsWith(L.trash);
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}



