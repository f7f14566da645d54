/**
 * TokenStore: the one place commands, views, the language client and the MCP provider go to for
 * tokens. It owns the metadata index and routes values to backends. Pure (no `vscode` import):
 * backends, the index storage and the clock are injected, so it is unit-tested directly.
 *
 * Consistency rule: a write changes the value first and the metadata second; if the metadata cannot
 * be saved the value is put back, so the metadata and the values never disagree for long, and a
 * failure loses nothing.
 *
 * Several windows (docs/backends.md, "Consistency"): the metadata is one entry per token in a storage
 * every window shares (MetadataIndex), so windows writing different tokens never race; a window
 * changing a token first takes that token's lease (the other windows wait) and re-reads its entry, so
 * two windows changing the same token take turns and neither acts on what it had not heard of yet.
 * Other windows' changes reach the cache through the storage's change events. Values without
 * metadata (a write interrupted between the two, or another program) are found again by discovery,
 * which runs in `ready()` and `refresh()` and whenever `discover()` is called (settings changes, the
 * Vault interval). Metadata that is damaged or from a newer version is never overwritten
 * (`onDidFindDamage`, `damage()`, `rebuild()`).
 *
 * Nothing destroyed is lost ("Recently Deleted"): every path that replaces or removes a value — `set`
 * over an existing token (overwrite, import), `rotate` (the value it pushes out of the previous slot),
 * `restorePrevious`, `delete` (with the token's companions, e.g. an OAuth refresh token), `clear`,
 * `restoreDeleted` over an existing token — first copies that value (and its previous value) into the
 * trash: the SAME backend, under `trash:<entry id>` (TRASH_NAMESPACE, an internal namespace), with the
 * entry's metadata in the index. Only then is the value replaced or removed; if keeping it fails, the
 * operation is refused and nothing changes. A verified `moveToBackend` and a `rename` move a value
 * rather than destroy it, and are not trashed. Trash entries are not tokens: `list`, `listAll`, `get`
 * and `getValue` never see them, so `$<TOKEN:trash:…>` resolves to nothing.
 *
 *   listDeleted(): DeletedToken[]                          newest first; internal entries flagged
 *   restoreDeleted(id): Promise<TokenMetadata>             puts the token (and companions) back as it was;
 *                                                          a token at that key now is trashed first ('restore')
 *   purgeDeleted(id): Promise<void>                        removes one entry's values for good
 *   purgeExpired(retentionDays): Promise<number>           removes entries older than max(1, days)
 *   set(args, { reason?: 'overwrite' | 'import', trash?: boolean })
 *   delete(key, { reason?: 'delete' | 'sign-out' })
 *
 * Every change to the trash fires a `{ kind: 'trash' }` change (after the operation's own change).
 */
import { randomBytes } from 'node:crypto';
import {
  DEFAULT_HISTORY_MAX_AGE_DAYS,
  DEFAULT_HISTORY_MAX_VERSIONS,
  DEFAULT_TRASH_RETENTION_DAYS,
  HISTORY_NAMESPACE,
  METADATA_LAYOUT,
  TRASH_NAMESPACE,
  describeIssues,
  expiredForUser,
  expiryState,
  isInternalNamespace,
  renewsItself,
  sameKey,
  sortTokens,
  tokenMetadataSchema,
  type BackendId,
  type HistoryVersion,
  type SetTokenArgs,
  type TokenMetadata,
  type TokenType,
  type TrashEntry,
  type TrashItem,
  type TrashReason,
} from '../../server/core/model';
import { errorText } from '../../server/core/errors';
import { keyId, type TokenKey } from '../../server/core/reference';
import { Emitter, Mutex, type Disposable } from '../platform/event';
import { currentActor, describeActor } from '../platform/actor';
import { BackendError, type BackendHealth, type DiscoveredToken, type ExternalOAuthGrant, type MetadataStorage, type SecretBackend } from './backend';
import { MetadataIndex, type Damage, type LeaseName } from './metadataIndex';

import { NewerVersionError } from './metadataIndex';

export { NewerVersionError, type Damage } from './metadataIndex';

/** `trash`: the Recently Deleted entries changed (listDeleted() has another answer); no token value changed. */
export type TokenChangeKind = 'set' | 'delete' | 'rotate' | 'restore' | 'rename' | 'metadata' | 'refresh' | 'trash';

export interface TokenChange {
  readonly kind: TokenChangeKind;
  /** The tokens whose metadata or value changed; empty for a full refresh. */
  readonly keys: readonly TokenKey[];
  /** True when a value changed (servers using these tokens should restart). */
  readonly valueChanged: boolean;
}

export interface TokenStoreOptions {
  readonly backends: readonly SecretBackend[];
  /** Where the metadata entries are kept (VS Code SecretStorage; shared by every window of the machine). */
  readonly index: MetadataStorage;
  /** The backend a namespace's new tokens go to (default backend and per-namespace overrides). */
  readonly backendFor: (namespace: string) => BackendId;
  readonly now?: () => Date;
  /** Receives operational messages; never a value. */
  readonly log?: (level: 'info' | 'warn' | 'error', message: string) => void;
  /**
   * Internal entries that belong to a token and go with it: deleted and trashed with it (one trash
   * entry), restored with it. The OAuth feature's naming (extension/oauth/session.ts): an `oauth`
   * token's refresh token. Keys that are not stored are ignored.
   */
  readonly companionsOf?: (meta: TokenMetadata) => readonly TokenKey[];
  /** See MetadataIndexOptions.leaseSettleMs (default 50 ms; 0 when the storage is `exclusive`). */
  readonly leaseSettleMs?: number;
  /** See MetadataIndexOptions.leaseMs (default 6 s). */
  readonly leaseMs?: number;
  /** Version history limits (`mcpTokens.history.*`), read at each write; defaults 10 versions, 90 days. */
  readonly historyLimits?: () => { readonly maxVersions?: number; readonly maxAgeDays?: number };
  /** How long `ready()` waits for the backends' discovery before it resolves (it goes on after; default 3 s). */
  readonly startupDiscoveryMs?: number;
}

/** A Recently Deleted entry: metadata only, never a value. */
export interface DeletedToken {
  /** Stable id of the trash entry (restoreDeleted, purgeDeleted). */
  readonly id: string;
  /** The key the token had (and is restored to). */
  readonly namespace: string;
  readonly name: string;
  readonly type: TokenType;
  /** The backend the token was in, where its value is kept. */
  readonly backend: BackendId;
  /** When it was replaced or removed (ISO). */
  readonly deletedAt: string;
  readonly reason: TrashReason;
  /** The metadata the token had; restoreDeleted puts it back as it was. */
  readonly meta: TokenMetadata;
  /** Internal entries kept with it and restored with it (an OAuth token's refresh token). */
  readonly companions: readonly TokenKey[];
  /** The entry is an internal namespace's own (a refresh token removed on its own): views may hide it. */
  readonly internal: boolean;
}

export interface SetOptions {
  /** Why an existing value is replaced, as the trash records it (default 'overwrite'). */
  readonly reason?: Extract<TrashReason, 'overwrite' | 'import'>;
  /**
   * False only for a value that is worthless once replaced and replaced often (an OAuth access token
   * renewed with its refresh token), so renewals do not fill the trash. Never false on behalf of a
   * command another extension can call.
   */
  readonly trash?: boolean;
}

export interface DeleteOptions {
  /** Why the token is deleted, as the trash records it (default 'delete'). */
  readonly reason?: Extract<TrashReason, 'delete' | 'sign-out'>;
}

export class TokenNotFoundError extends Error {
  constructor(readonly key: TokenKey) {
    super(`No token ${keyId(key)} is stored.`);
    this.name = 'TokenNotFoundError';
  }
}

export class DeletedTokenNotFoundError extends Error {
  constructor(readonly id: string) {
    super(`No deleted token ${id} is kept (it was restored, purged or has expired).`);
    this.name = 'DeletedTokenNotFoundError';
  }
}

export class HistoryVersionNotFoundError extends Error {
  constructor(
    readonly key: TokenKey,
    readonly id: string | undefined,
  ) {
    super(id ? `Token ${keyId(key)} has no version ${id} (it was pruned or restored away).` : `Token ${keyId(key)} has no earlier version to restore.`);
    this.name = 'HistoryVersionNotFoundError';
  }
}

const DAY_MS = 24 * 60 * 60 * 1000;

/** A version added to a token's history by a write, before the write is committed. */
interface VersionChange {
  /** The history the new metadata gets (undefined: none). */
  readonly history: HistoryVersion[] | undefined;
  /** Versions that fall out of the limits: removed after the write is committed. */
  readonly dropped: HistoryVersion[];
  /** Removes the copy this change wrote (the write failed). */
  readonly undo: () => Promise<void>;
}

/**
 * Applies the history limits to a list (newest first): at most `maxVersions`, none replaced more than
 * `maxAgeDays` ago. Pure, for tests.
 */
export function pruneVersions(list: readonly HistoryVersion[], now: Date, limits: { maxVersions: number; maxAgeDays: number }): { kept: HistoryVersion[]; dropped: HistoryVersion[] } {
  const cutoff = now.getTime() - limits.maxAgeDays * DAY_MS;
  const kept: HistoryVersion[] = [];
  const dropped: HistoryVersion[] = [];
  for (const v of list) {
    if (kept.length < limits.maxVersions && Date.parse(v.replacedAt) >= cutoff) kept.push(v);
    else dropped.push(v);
  }
  return { kept, dropped };
}

function clampInt(v: unknown, min: number, max: number, fallback: number): number {
  return typeof v === 'number' && Number.isFinite(v) ? Math.min(max, Math.max(min, Math.floor(v))) : fallback;
}

/** A token's values as read before they are replaced or removed. */
interface Snapshot {
  readonly meta: TokenMetadata;
  readonly value: string | undefined;
  readonly previous?: string;
}

export class TokenStore implements Disposable {
  private readonly index: MetadataIndex;
  private readonly backends = new Map<BackendId, SecretBackend>();
  private readonly mutex = new Mutex();
  private readonly changeEmitter = new Emitter<TokenChange>();
  private readonly subscriptions: Disposable[] = [];
  private readonly damageEmitter = new Emitter<Damage[]>();
  /** Damage already reported by this store (by storage key and copy), so the user is told once. */
  private readonly reported = new Set<string>();
  private indexLoaded: Promise<void> | undefined;
  private loaded: Promise<void> | undefined;
  private readonly now: () => Date;

  readonly onDidChange = this.changeEmitter.event;
  /**
   * Fires with metadata entries found damaged or written by a newer version, each once per store
   * (tell the user, offering `rebuild()`). Such entries are never overwritten by other writes.
   */
  readonly onDidFindDamage = this.damageEmitter.event;

  constructor(private readonly options: TokenStoreOptions) {
    for (const b of options.backends) this.backends.set(b.id, b);
    this.now = options.now ?? (() => new Date());
    this.index = new MetadataIndex(options.index, {
      now: this.now,
      log: (level, m) => this.log(level, m),
      leaseSettleMs: options.index.exclusive ? 0 : options.leaseSettleMs,
      leaseMs: options.leaseMs,
    });
    this.subscriptions.push(
      this.index,
      this.index.onDidChange((c) => {
        // Another window marking a token used (or verified) changes its metadata, not its value.
        this.changeEmitter.fire({ kind: 'refresh', keys: c.tokens.flatMap((id) => parseId(id) ?? []), valueChanged: c.tokens.length > 0 && c.usageOnly !== true });
        if (c.trash) this.fireTrash([]);
        this.reportDamage();
      }),
    );
    for (const b of options.backends) {
      if (b.onDidChange) this.subscriptions.push(b.onDidChange(() => this.changeEmitter.fire({ kind: 'refresh', keys: [], valueChanged: true })));
    }
  }

  dispose(): void {
    for (const s of this.subscriptions) s.dispose();
    this.changeEmitter.dispose();
    this.damageEmitter.dispose();
  }

  /**
   * Loads the metadata once (migrating the old single index), then discovers what the backends hold
   * without metadata (waiting at most `startupDiscoveryMs` for it; it goes on after, firing changes).
   */
  ready(): Promise<void> {
    this.loaded ??= (async () => {
      await this.loadIndex();
      const discovery = this.discover().catch((e) => this.log('warn', `Discovery at startup failed: ${errorText(e)}`));
      const limit = this.options.startupDiscoveryMs ?? 3000;
      let timer: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([discovery, new Promise<void>((r) => (timer = setTimeout(r, limit)))]);
      clearTimeout(timer);
    })();
    return this.loaded;
  }

  /** Metadata entries this version cannot use as they are (damaged, or from a newer version); each is kept, with a copy. */
  damage(): Damage[] {
    return [...this.index.damage.values()];
  }

  // ---- reading -------------------------------------------------------------------------------

  /** Metadata of every user-visible token (internal namespaces excluded), sorted by `namespace:name`. Call `ready()` first. */
  list(): TokenMetadata[] {
    return this.listAll().filter((t) => !isInternalNamespace(t.namespace));
  }

  /** Metadata of every entry, including internal namespaces (OAuth refresh tokens, client registrations). */
  listAll(): TokenMetadata[] {
    return sortTokens([...this.tokens.values()]);
  }

  get(key: TokenKey): TokenMetadata | undefined {
    return this.tokens.get(keyId(key));
  }

  has(key: TokenKey): boolean {
    return this.tokens.has(keyId(key));
  }

  namespaces(): string[] {
    return [...new Set(this.list().map((t) => t.namespace))].sort();
  }

  expiring(soonDays: number): TokenMetadata[] {
    const now = this.now();
    return this.list().filter((t) => {
      if (renewsItself(t)) return false;
      const s = expiryState(t, now, soonDays);
      return s === 'soon' || s === 'expired';
    });
  }

  /** The value of a token, or undefined when the token or its value is missing. */
  async getValue(key: TokenKey): Promise<string | undefined> {
    await this.ready();
    // Set in another window a moment ago, before its change event came: read its entry.
    if (!this.has(key)) await this.index.reread(this.index.entryKeys([`token:${keyId(key)}`])).catch(() => undefined);
    const meta = this.get(key);
    if (!meta) return undefined;
    return this.backend(meta.backend).read(key);
  }

  /** The value before the last change: the newest version of the history, else the backend's previous slot (tokens rotated before history existed). */
  async getPreviousValue(key: TokenKey): Promise<string | undefined> {
    await this.ready();
    const meta = this.require(key);
    const newest = meta.history?.[0];
    if (newest) return this.readVersion(meta, newest);
    return this.backend(meta.backend).readPrevious(key);
  }

  /** A token's earlier values, newest first (metadata only: when, by whom; never a value). */
  listHistory(key: TokenKey): HistoryVersion[] {
    return [...(this.get(key)?.history ?? [])];
  }

  /**
   * The Recently Deleted entries, newest first (metadata only). Entries of internal namespaces (an
   * OAuth refresh token replaced or removed on its own) are included with `internal: true`. Call
   * `ready()` first.
   */
  listDeleted(): DeletedToken[] {
    return [...this.trash.values()]
      .sort((a, b) => b.deletedAt.localeCompare(a.deletedAt) || b.id.localeCompare(a.id))
      .map((e) => {
        const { meta } = e.items[0];
        return {
          id: e.id,
          namespace: meta.namespace,
          name: meta.name,
          type: meta.type,
          backend: meta.backend,
          deletedAt: e.deletedAt,
          reason: e.reason,
          meta,
          companions: e.items.slice(1).map((i) => ({ namespace: i.meta.namespace, name: i.meta.name })),
          internal: isInternalNamespace(meta.namespace),
        };
      });
  }

  /** The Recently Deleted entries a user sees and acts on: `listDeleted()` without internal ones (those are restored with their token). */
  listVisibleDeleted(): DeletedToken[] {
    return this.listDeleted().filter((d) => !d.internal);
  }

  backendIds(): BackendId[] {
    return [...this.backends.keys()];
  }

  /** What another tool stored about the OAuth token `meta` in its backend (mcp-cli in the keyring), to refresh it here. */
  async oauthGrant(meta: TokenMetadata): Promise<ExternalOAuthGrant | undefined> {
    return this.backends.get(meta.backend)?.oauthGrant?.(meta);
  }

  async health(): Promise<BackendHealth[]> {
    return Promise.all([...this.backends.values()].map((b) => b.health()));
  }

  // ---- writing -------------------------------------------------------------------------------

  /** Creates or overwrites a token (the overwritten value goes to the trash). Returns its metadata. */
  set(args: SetTokenArgs, options: SetOptions = {}): Promise<TokenMetadata> {
    return this.write([tokenLease(args)], async () => {
      const key = { namespace: args.namespace, name: args.name };
      refuseReserved(key);
      const existing = this.get(key);
      const backendId = args.backend ?? existing?.backend ?? this.options.backendFor(args.namespace);
      const now = this.now().toISOString();
      const meta = this.validate({
        namespace: args.namespace,
        name: args.name,
        type: args.type,
        createdAt: existing?.createdAt ?? now,
        updatedAt: now,
        expiresAt: args.expiresAt,
        lastUsedAt: existing?.lastUsedAt,
        provider: args.provider ?? existing?.provider,
        description: args.description ?? existing?.description,
        backend: backendId,
        hasPrevious: existing?.backend === backendId ? existing.hasPrevious : undefined,
        oauth: args.type === 'oauth' ? existing?.oauth : undefined,
        history: existing?.backend === backendId ? existing.history : undefined,
        // Where Verify sends the token stays; the last result described the replaced value.
        verify: existing?.verify,
        jwt: args.jwt,
      });
      const target = this.backend(backendId);
      const before = existing?.backend === backendId ? await target.read(key) : undefined;
      // A versioned backend keeps the overwritten value as the previous version.
      if (target.versioned && before !== undefined) meta.hasPrevious = true;
      // In the same backend the replaced value becomes the newest version of the history; from another
      // backend the token leaves entirely, so it goes to the trash (with its history) in the backend it is in.
      let kept: TrashEntry | undefined;
      let version: VersionChange | undefined;
      if (existing && options.trash !== false) {
        if (existing.backend === backendId) {
          version = await this.addVersion(existing, before);
          meta.history = version.history;
          if (version.history) meta.hasPrevious = true;
          else delete meta.history;
        } else {
          kept = await this.keepEntry(options.reason ?? 'overwrite', [await this.snapshot(existing)]);
        }
      }
      const undo = async () => {
        if (before === undefined) await target.remove(key);
        else await target.write(key, before, existing!);
        await this.discard(kept);
        await version?.undo();
      };
      try {
        await target.write(key, args.value, meta);
      } catch (e) {
        // Nothing was replaced: only the copy in the trash (or the history) goes.
        await this.undoing(key, async () => (await this.discard(kept), await version?.undo()));
        throw e;
      }
      if (meta.history) Object.assign(meta, await this.afterVersionedWrite(meta));
      await this.transact(() => {
        this.tokens.set(keyId(key), meta);
        if (kept) this.trash.set(kept.id, kept);
      }, undo);
      if (existing && existing.backend !== backendId) {
        await this.backend(existing.backend).remove(key).catch((e) => this.log('warn', `Could not remove ${keyId(key)} from ${existing.backend}: ${errorText(e)}`));
      }
      if (existing && version) await this.dropVersions(existing, version.dropped);
      this.changeEmitter.fire({ kind: 'set', keys: [key], valueChanged: true });
      if (kept) this.fireTrash([key]);
      return meta;
    });
  }

  /**
   * Replaces the value; the replaced one becomes the newest version of the history (copied to
   * `history:<id>`, or recorded as its Vault KV version). Versions beyond the limits are pruned.
   */
  rotate(key: TokenKey, value: string, facts: Partial<Pick<TokenMetadata, 'jwt' | 'expiresAt'>> = {}): Promise<TokenMetadata> {
    return this.write([tokenLease(key)], async () => {
      const existing = this.require(key);
      const current = await this.backend(existing.backend).read(key);
      // `facts`: what the new value says about itself (a JWT's claims and expiry), read by the caller.
      return this.replaceKeeping(existing, current, value, 'rotate', facts);
    });
  }

  /**
   * Brings back the value before the last change (the newest version of the history; for a token
   * rotated before history existed, the backend's previous slot). The replaced value becomes a version.
   */
  restorePrevious(key: TokenKey): Promise<TokenMetadata> {
    if (this.get(key)?.history?.length) return this.restoreVersion(key);
    return this.restoreLegacyPrevious(key);
  }

  /**
   * Makes an earlier version (`id`, default the newest) the current value. The replaced value becomes
   * the newest version, so nothing is lost; the restored version stays listed (it is still an earlier
   * value of the token; a Vault keeps it as its KV version).
   */
  restoreVersion(key: TokenKey, id?: string): Promise<TokenMetadata> {
    return this.write([tokenLease(key)], async () => {
      const existing = this.require(key);
      const list = existing.history ?? [];
      const version = id === undefined ? list[0] : list.find((v) => v.id === id);
      if (!version) throw new HistoryVersionNotFoundError(key, id);
      const value = await this.readVersion(existing, version);
      if (value === undefined) throw new BackendError(existing.backend, `The version of ${keyId(key)} replaced at ${version.replacedAt} is missing from ${existing.backend}; nothing was restored.`);
      const current = await this.backend(existing.backend).read(key);
      return this.replaceKeeping(existing, current, value, 'restore');
    });
  }

  /**
   * Prunes every token's history to the limits (at startup: time passes without writes). Returns how
   * many versions were removed.
   */
  async pruneHistory(): Promise<number> {
    await this.ready();
    const due = () => this.listAll().filter((t) => t.history?.length && pruneVersions(t.history, this.now(), this.limits()).dropped.length);
    let removed = 0;
    for (const t of due()) {
      removed += await this.write([tokenLease(t)], async () => {
        const existing = this.get(t);
        if (!existing?.history) return 0;
        const { kept, dropped } = pruneVersions(existing.history, this.now(), this.limits());
        if (!dropped.length) return 0;
        const meta = this.validate({ ...existing, history: kept.length ? kept : undefined });
        await this.transact(() => this.tokens.set(keyId(existing), meta), async () => undefined);
        await this.dropVersions(existing, dropped);
        this.changeEmitter.fire({ kind: 'metadata', keys: [keyOf(existing)], valueChanged: false });
        return dropped.length;
      }).catch((e) => (this.log('warn', `Could not prune the history of ${keyId(t)}: ${errorText(e)}`), 0));
    }
    if (removed) this.log('info', `Pruned ${removed} old version${removed === 1 ? '' : 's'} from the token history.`);
    return removed;
  }

  /** Writes `value` over `current`, keeping `current` as the newest version (under the token's lease). */
  private async replaceKeeping(existing: TokenMetadata, current: string | undefined, value: string, kind: 'rotate' | 'restore', facts: Partial<Pick<TokenMetadata, 'jwt' | 'expiresAt'>> = {}): Promise<TokenMetadata> {
    const key = keyOf(existing);
    const b = this.backend(existing.backend);
    const version = await this.addVersion(existing, current);
    let meta = this.validate({ ...existing, ...facts, updatedAt: this.now().toISOString(), history: version.history, hasPrevious: version.history || existing.hasPrevious ? true : undefined, lastVerified: undefined });
    try {
      await b.write(key, value, meta);
    } catch (e) {
      await this.undoing(key, version.undo);
      throw e;
    }
    meta = await this.afterVersionedWrite(meta);
    await this.transact(
      () => this.tokens.set(keyId(key), meta),
      async () => {
        if (current !== undefined) await b.write(key, current, existing);
        await version.undo();
      },
    );
    await this.dropVersions(existing, version.dropped);
    this.changeEmitter.fire({ kind, keys: [key], valueChanged: true });
    return meta;
  }

  /** Restore Previous for a token rotated before version history: the backend's previous slot. */
  private restoreLegacyPrevious(key: TokenKey): Promise<TokenMetadata> {
    return this.write([tokenLease(key)], async () => {
      const existing = this.require(key);
      const b = this.backend(existing.backend);
      const previous = await b.readPrevious(key);
      if (previous === undefined) throw new Error(`Token ${keyId(key)} has no previous value to restore.`);
      const current = await b.read(key);
      const meta = this.validate({ ...existing, updatedAt: this.now().toISOString(), hasPrevious: current !== undefined, lastVerified: undefined });
      // The replaced value becomes the previous one, and is also kept in the trash: the previous slot
      // is not a safe place (the next rotation overwrites it, a Vault may drop old versions).
      const kept = await this.keepEntry('restore', [{ meta: existing, value: current }]);
      const undo = async () => {
        if (current !== undefined) {
          await b.write(key, current, existing);
          await b.writePrevious(key, previous, existing);
        }
        await this.discard(kept);
      };
      let wrote = false;
      try {
        await b.write(key, previous, meta);
        wrote = true;
        if (current !== undefined) await b.writePrevious(key, current, meta);
      } catch (e) {
        await this.undoing(key, wrote ? undo : () => this.discard(kept));
        throw e;
      }
      await this.transact(() => {
        this.tokens.set(keyId(key), meta);
        if (kept) this.trash.set(kept.id, kept);
      }, undo);
      this.changeEmitter.fire({ kind: 'restore', keys: [key], valueChanged: true });
      if (kept) this.fireTrash([key]);
      return meta;
    });
  }

  /**
   * Deletes a token with its companions (`companionsOf`, e.g. an OAuth token's refresh token). Their
   * values (and previous values) go to the trash first, as one entry; then the values are removed and
   * the index saved. A failure at any step puts back what was removed: nothing changes.
   */
  delete(key: TokenKey, options: DeleteOptions = {}): Promise<void> {
    return this.write(() => this.withCompanions([key]), async () => {
      const existing = this.require(key);
      const group = await this.takeOut(existing, options.reason ?? 'delete');
      await this.transact(() => {
        for (const s of group.removed) this.tokens.delete(keyId(s.meta));
        if (group.kept) this.trash.set(group.kept.id, group.kept);
      }, group.putBack);
      this.changeEmitter.fire({ kind: 'delete', keys: group.removed.map((s) => keyOf(s.meta)), valueChanged: true });
      if (group.kept) this.fireTrash([key]);
    });
  }

  /** Deletes every token matching the filter (each into the trash, with its companions); returns the keys deleted. */
  clear(filter: { namespace?: string; expiredOnly?: boolean } = {}): Promise<TokenKey[]> {
    const matching = () => {
      const now = this.now();
      return this.list().filter(
        (t) =>
          (!filter.namespace || t.namespace === filter.namespace) &&
          (!filter.expiredOnly || (expiredForUser(t, now))),
      );
    };
    // Every window's tokens: the whole index is read first.
    const leases = async () => (await this.index.load(), this.withCompanions(matching()));
    return this.write(leases, async () => {
      const victims = matching();
      if (victims.length === 0) return [];
      // Each token as in delete; a token whose value could not be kept or removed stays listed.
      const groups: Array<Awaited<ReturnType<TokenStore['takeOut']>>> = [];
      const failures: string[] = [];
      for (const v of victims) {
        try {
          groups.push(await this.takeOut(v, 'clear'));
        } catch (e) {
          failures.push(`${keyId(v)}: ${errorText(e)}`);
        }
      }
      if (groups.length) {
        await this.transact(
          () => {
            for (const g of groups) {
              for (const s of g.removed) this.tokens.delete(keyId(s.meta));
              if (g.kept) this.trash.set(g.kept.id, g.kept);
            }
          },
          async () => {
            for (const g of groups) await g.putBack();
          },
        );
      }
      const keys = groups.map((g) => keyOf(g.removed[0].meta));
      if (keys.length) {
        this.changeEmitter.fire({ kind: 'delete', keys: groups.flatMap((g) => g.removed.map((s) => keyOf(s.meta))), valueChanged: true });
        if (groups.some((g) => g.kept)) this.fireTrash(keys);
      }
      if (failures.length) {
        this.log('warn', `Some tokens could not be deleted: ${failures.join('; ')}`);
        throw new Error(`Deleted ${keys.length} of ${victims.length} tokens; these stay because their backend refused: ${failures.join('; ')}`);
      }
      return keys;
    });
  }

  /** Renames a token (value, previous value and metadata move together). */
  rename(from: TokenKey, to: TokenKey): Promise<TokenMetadata> {
    return this.write([tokenLease(from), tokenLease(to)], async () => {
      const existing = this.require(from);
      if (sameKey(from, to)) return existing;
      refuseReserved(to);
      if (this.has(to)) throw new Error(`A token ${keyId(to)} already exists.`);
      const b = this.backend(existing.backend);
      const value = await b.read(from);
      if (value === undefined) throw new BackendError(existing.backend, `The value of ${keyId(from)} is missing from ${existing.backend}; nothing was renamed.`);
      const previous = await b.readPrevious(from);
      // `history:<id>` copies are named by id and stay; KV versions stay with the old path, so they are copied.
      const versions = await this.copyVersions(existing, existing.backend, true);
      const meta = this.validate({ ...existing, namespace: to.namespace, name: to.name, updatedAt: this.now().toISOString(), history: versions.history });
      try {
        await b.write(to, value, meta);
        if (previous !== undefined) await b.writePrevious(to, previous, meta);
      } catch (e) {
        await this.undoing(from, async () => (await b.remove(to), await versions.undo()));
        throw e;
      }
      await this.transact(
        () => {
          this.tokens.delete(keyId(from));
          this.tokens.set(keyId(to), meta);
        },
        async () => (await b.remove(to), await versions.undo()),
      );
      await b.remove(from).catch((e) => this.log('warn', `Could not remove the old value of ${keyId(from)}: ${errorText(e)}`));
      this.changeEmitter.fire({ kind: 'rename', keys: [from, to], valueChanged: true });
      return meta;
    });
  }

  /** Changes metadata only (description, expiry, provider, OAuth facts, last used). */
  updateMetadata(key: TokenKey, patch: Partial<Omit<TokenMetadata, 'namespace' | 'name' | 'backend' | 'createdAt'>>): Promise<TokenMetadata> {
    return this.write([tokenLease(key)], async () => {
      const existing = this.require(key);
      const meta = this.validate({ ...existing, ...patch });
      await this.transact(() => this.tokens.set(keyId(key), meta), async () => undefined);
      this.changeEmitter.fire({ kind: 'metadata', keys: [key], valueChanged: false });
      return meta;
    });
  }

  /**
   * Records a use (at server launch, or `at`, when the launcher used it); failures are logged, never
   * thrown. A use no later than the one recorded changes nothing (several windows report the same one),
   * nor does one more than 5 minutes in the future.
   */
  async markUsed(key: TokenKey, at: Date = this.now()): Promise<void> {
    const meta = this.get(key);
    if (!meta) return;
    // A use more than 5 minutes ahead of this clock (a skewed or forged audit line) would pin "last used".
    if (at.getTime() > this.now().getTime() + 5 * 60_000) return;
    if (meta.lastUsedAt && Date.parse(meta.lastUsedAt) >= at.getTime()) return;
    await this.updateMetadata(key, { lastUsedAt: at.toISOString() }).catch((e) => this.log('warn', `Could not record the use of ${keyId(key)}: ${errorText(e)}`));
  }

  /** Re-reads every metadata entry and discovers what the backends hold without metadata (the Refresh command). */
  async refresh(): Promise<void> {
    await this.ready();
    await this.mutex.run(() => this.loadIndex());
    await this.discover();
    this.changeEmitter.fire({ kind: 'refresh', keys: [], valueChanged: false });
  }

  /**
   * Lists what the backends (`ids`, default all) hold and gives every value that has no metadata an
   * entry (typed as the backend tells, else generic): a write interrupted between value and metadata,
   * another window's token whose entry is not here yet, a token mcp-cli or a teammate stored. A key
   * whose entry is damaged is listed from the backend but its entry is left alone until `rebuild()`;
   * a backend that cannot list is logged and skipped. Returns how many tokens were added.
   */
  async discover(ids?: readonly BackendId[]): Promise<number> {
    await this.loadIndex();
    const found: Array<{ backend: BackendId; token: DiscoveredToken }> = [];
    for (const b of this.backends.values()) {
      if (!b.discover || (ids && !ids.includes(b.id))) continue;
      try {
        for (const token of await b.discover()) found.push({ backend: b.id, token });
      } catch (e) {
        this.log('warn', `Could not list the tokens of ${b.id}: ${errorText(e)}`);
      }
    }
    // The trash's kept copies are listable (Vault, SecretStorage); they are not tokens.
    const fresh = found.filter(({ token }) => !this.has(token) && token.namespace !== TRASH_NAMESPACE && token.namespace !== HISTORY_NAMESPACE);
    if (fresh.length === 0) return 0;
    return this.adoptDiscovered(fresh, false);
  }

  /**
   * Rebuilds damaged metadata entries from the backends: each damaged token entry whose value a
   * backend holds gets a new entry (its copy stays under METADATA_LAYOUT.backup), and discovery adds
   * every value without metadata. Entries written by a newer version are left as they are.
   */
  async rebuild(): Promise<void> {
    await this.ready();
    await this.index.copiesKept();
    await this.discover();
    const damaged = this.damage().filter((d) => d.kind === 'token' && d.reason === 'malformed' && d.key);
    const found: Array<{ backend: BackendId; token: DiscoveredToken }> = [];
    for (const b of this.backends.values()) {
      if (!b.discover) continue;
      const list = await b.discover().catch((e) => (this.log('warn', `Could not list the tokens of ${b.id}: ${errorText(e)}`), []));
      for (const token of list) if (damaged.some((d) => d.key === keyId(token))) found.push({ backend: b.id, token });
    }
    if (found.length) await this.adoptDiscovered(found, true);
    this.changeEmitter.fire({ kind: 'refresh', keys: [], valueChanged: false });
  }

  /** Gives discovered values entries, each under its lease after re-reading it; `overDamaged`: also replace damaged entries. */
  private async adoptDiscovered(found: ReadonlyArray<{ backend: BackendId; token: DiscoveredToken }>, overDamaged: boolean): Promise<number> {
    const byKey = new Map(found.map((f) => [keyId(f.token), f]));
    const leases = [...byKey.keys()].map((id) => `token:${id}` as const);
    return this.write(leases, async () => {
      const now = this.now().toISOString();
      const adopted: TokenMetadata[] = [];
      const shown: TokenMetadata[] = [];
      for (const [id, { backend, token: d }] of byKey) {
        if (this.tokens.has(id) && !(overDamaged && this.index.damage.has(METADATA_LAYOUT.token + id))) continue;
        if (this.index.newer.has(id)) continue;
        const meta = this.tryValidate({
          namespace: d.namespace,
          name: d.name,
          type: d.type ?? 'generic',
          createdAt: d.createdAt ?? now,
          updatedAt: d.createdAt ?? now,
          expiresAt: d.expiresAt,
          provider: d.provider,
          description: d.description,
          backend,
        });
        if (!meta) continue;
        // A damaged entry is not overwritten: the token is listed from its backend until a rebuild.
        if (!overDamaged && this.index.damage.has(METADATA_LAYOUT.token + id)) shown.push(meta);
        else adopted.push(meta);
      }
      if (adopted.length) {
        await this.transact(() => {
          for (const m of adopted) this.tokens.set(keyId(m), m);
        }, async () => undefined);
        for (const m of adopted) if (overDamaged) this.index.damage.delete(METADATA_LAYOUT.token + keyId(m));
      }
      for (const m of shown) this.tokens.set(keyId(m), m);
      if (adopted.length || shown.length) {
        this.log('info', `Found ${adopted.length + shown.length} token(s) without metadata in the backends: ${[...adopted, ...shown].map((m) => keyId(m)).join(', ')}.`);
        this.changeEmitter.fire({ kind: 'refresh', keys: [...adopted, ...shown].map(keyOf), valueChanged: false });
      }
      return adopted.length + shown.length;
    });
  }

  /**
   * Moves a token (value and previous value) to another backend: copies it, reads the copy back to
   * verify it, saves the index, and only then removes the source. A failure before the index is saved
   * leaves the token where it was (the partial copy is removed when possible); a failure while removing
   * the source leaves a leftover copy there, reported in `leftover`, which a later call with `from`
   * removes. `from` is the backend an earlier, interrupted move started from (resuming a migration).
   */
  moveToBackend(key: TokenKey, to: BackendId, from?: BackendId): Promise<{ meta: TokenMetadata; leftover?: string }> {
    return this.write([tokenLease(key)], async () => {
      const existing = this.require(key);
      const target = this.backend(to);
      if (existing.backend === to) {
        if (!from || from === to) return { meta: existing };
        // Moved before the interruption: check the value is here, then remove what is left in `from`.
        if ((await target.read(key)) === undefined) throw new BackendError(to, `The value of ${keyId(key)} is missing from ${to}; the copy in ${from} is kept.`);
        try {
          await this.backend(from).remove(key);
          return { meta: existing };
        } catch (e) {
          return { meta: existing, leftover: `${from}: ${errorText(e)}` };
        }
      }
      const sourceId = existing.backend;
      const source = this.backend(sourceId);
      const value = await source.read(key);
      if (value === undefined) throw new BackendError(sourceId, `The value of ${keyId(key)} is missing from ${sourceId}; it was not moved.`);
      const previous = existing.hasPrevious ? await source.readPrevious(key) : undefined;
      // A copy left by an earlier interrupted attempt is replaced.
      await target.remove(key).catch(() => undefined);
      // The history moves too: into a versioned target as the secret's own versions (oldest first),
      // elsewhere as `history:<id>` copies.
      const versions = await this.copyVersions(existing, to, false, key);
      const meta = this.validate({ ...existing, backend: to, hasPrevious: previous !== undefined || versions.history ? true : undefined, history: versions.history });
      const undoCopy = async () => {
        await target.remove(key).catch((e) => this.log('warn', `Could not remove the partial copy of ${keyId(key)} from ${to}: ${errorText(e)}`));
        await versions.undo();
      };
      try {
        // (A versioned target already holds the previous value as the newest of those versions.)
        if (previous !== undefined && !(target.versions && versions.history)) await target.writePrevious(key, previous, meta);
        await target.write(key, value, meta);
        const check = await target.read(key);
        if (check !== value) throw new BackendError(to, `The copy of ${keyId(key)} in ${to} does not read back the same; it was not moved.`);
      } catch (e) {
        await undoCopy();
        throw e;
      }
      await this.transact(() => this.tokens.set(keyId(key), meta), undoCopy);
      let leftover: string | undefined;
      await this.dropVersions(existing, (existing.history ?? []).filter((v) => v.kv === undefined));
      try {
        await source.remove(key);
      } catch (e) {
        leftover = `${sourceId}: ${errorText(e)}`;
        this.log('warn', `${keyId(key)} moved to ${to}, but its copy in ${sourceId} could not be removed: ${errorText(e)}`);
      }
      this.changeEmitter.fire({ kind: 'metadata', keys: [key], valueChanged: false });
      return { meta, leftover };
    });
  }

  /** Adds index entries for values already stored in `backend` (migration, import). */
  adopt(meta: TokenMetadata): Promise<void> {
    return this.write([tokenLease(meta)], async () => {
      const valid = this.validate(meta);
      refuseReserved(valid);
      await this.transact(() => this.tokens.set(keyId(valid), valid), async () => undefined);
      this.changeEmitter.fire({ kind: 'set', keys: [valid], valueChanged: true });
    });
  }

  // ---- trash (Recently Deleted) --------------------------------------------------------------

  /**
   * Puts a trash entry back: each of its tokens (the token and its companions) gets its kept value,
   * previous value and metadata back under its key, in the backend it was in. A token stored at such a
   * key now goes to the trash first (reason 'restore'), so restoring destroys nothing either. The entry
   * is removed. Every kept value is read before anything changes; a failure changes nothing. Returns
   * the restored token's metadata.
   */
  restoreDeleted(id: string): Promise<TokenMetadata> {
    const leases = async (): Promise<LeaseName[]> => {
      await this.index.reread(this.index.entryKeys([`trash:${id}`]));
      const items = this.trash.get(id)?.items ?? [];
      return [`trash:${id}`, ...items.map((i) => tokenLease(i.meta))];
    };
    return this.write(leases, async () => {
      const entry = this.requireDeleted(id);
      const restoring: Array<{ meta: TokenMetadata; value: string; previous?: string }> = [];
      for (const item of entry.items) {
        const b = this.backend(item.meta.backend);
        const at = trashKey(item);
        const value = await b.read(at);
        if (value === undefined) throw new BackendError(item.meta.backend, `The kept value of ${keyId(item.meta)} is missing from ${item.meta.backend}; nothing was restored.`);
        const previous = item.hasPrevious ? await b.readPrevious(at) : undefined;
        restoring.push({ meta: this.validate({ ...item.meta, hasPrevious: previous !== undefined || item.meta.history?.length ? true : undefined }), value, previous });
      }
      const replaced: Snapshot[] = [];
      for (const r of restoring) {
        const now = this.get(r.meta);
        if (now) replaced.push(await this.snapshot(now));
      }
      const kept = await this.keepEntry('restore', replaced);
      const removed: Snapshot[] = [];
      const written: TokenMetadata[] = [];
      const undo = async () => {
        for (const w of written.reverse()) await this.backend(w.backend).remove(w);
        for (const s of removed.reverse()) await this.putBack(s);
        await this.discard(kept);
      };
      try {
        // A versioned backend (Vault) would make the replaced value the restored one's previous
        // version: the replaced token is removed first, so the restored one is exactly as it was.
        for (const s of replaced) {
          await this.backend(s.meta.backend).remove(s.meta);
          removed.push(s);
        }
        for (const r of restoring) {
          const b = this.backend(r.meta.backend);
          written.push(r.meta);
          if (r.previous !== undefined) await b.writePrevious(r.meta, r.previous, r.meta);
          await b.write(r.meta, r.value, r.meta);
        }
      } catch (e) {
        await this.undoing(restoring[0].meta, undo);
        throw e;
      }
      await this.transact(() => {
        for (const r of restoring) this.tokens.set(keyId(r.meta), r.meta);
        this.trash.delete(entry.id);
        if (kept) this.trash.set(kept.id, kept);
      }, undo);
      // The kept copies are live values again; one that cannot be removed stays listed (never unseen).
      const leftovers = await this.discard(entry);
      if (leftovers.length) {
        await this.transact(() => this.trash.set(entry.id, { ...entry, items: leftovers }), async () => undefined).catch((e) =>
          this.log('warn', `Could not list the leftover copy of ${keyId(entry.items[0].meta)} in the trash: ${errorText(e)}`),
        );
      }
      const keys = restoring.map((r) => keyOf(r.meta));
      this.changeEmitter.fire({ kind: 'restore', keys, valueChanged: true });
      this.fireTrash(keys);
      return restoring[0].meta;
    });
  }

  /**
   * Removes a trash entry's values from their backend for good, then the entry (value first, index
   * second, like delete: if the index cannot be saved the entry stays listed, and purging it again
   * finishes). The caller asks the user first.
   */
  purgeDeleted(id: string): Promise<void> {
    return this.write([`trash:${id}`], async () => {
      const entry = this.requireDeleted(id);
      const left = await this.discard(entry);
      if (left.length) {
        if (left.length < entry.items.length) {
          await this.transact(() => this.trash.set(entry.id, { ...entry, items: left }), async () => undefined).catch((e) => this.log('warn', `Could not save the trash: ${errorText(e)}`));
          this.fireTrash([]);
        }
        throw new BackendError(left[0].meta.backend, `The deleted token ${keyId(entry.items[0].meta)} could not be removed from ${left[0].meta.backend}; it stays in Recently Deleted.`);
      }
      await this.transact(() => this.trash.delete(entry.id), async () => undefined);
      for (const item of entry.items) await this.dropVersions(item.meta, item.meta.history ?? []);
      this.fireTrash([keyOf(entry.items[0].meta)]);
    });
  }

  /**
   * Purges every trash entry deleted more than `retentionDays` ago (at least one day, whatever is
   * asked: a trash that empties at once protects nothing). Entries whose backend refuses stay (and are
   * logged). Returns how many entries were purged.
   */
  purgeExpired(retentionDays: number): Promise<number> {
    const days = Number.isFinite(retentionDays) ? Math.max(1, retentionDays) : DEFAULT_TRASH_RETENTION_DAYS;
    const due = () => {
      const cutoff = this.now().getTime() - days * DAY_MS;
      return [...this.trash.values()].filter((e) => Date.parse(e.deletedAt) < cutoff);
    };
    return this.write(() => due().map((e) => `trash:${e.id}` as const), async () => {
      const expired = due();
      if (expired.length === 0) return 0;
      let purged = 0;
      const updates = new Map<string, TrashEntry | undefined>();
      for (const e of expired) {
        const left = await this.discard(e);
        if (left.length === 0) purged++;
        for (const item of e.items) if (!left.includes(item)) await this.dropVersions(item.meta, item.meta.history ?? []);
        if (left.length < e.items.length) updates.set(e.id, left.length ? { ...e, items: left } : undefined);
      }
      if (updates.size) {
        await this.transact(() => {
          for (const [id, e] of updates) {
            if (e) this.trash.set(id, e);
            else this.trash.delete(id);
          }
        }, async () => undefined);
        this.fireTrash([]);
      }
      if (purged < expired.length) this.log('warn', `${expired.length - purged} expired deleted token(s) could not be purged; they stay in Recently Deleted.`);
      return purged;
    });
  }

  // ---- internals -----------------------------------------------------------------------------

  /** The history limits, sane whatever is configured (1–100 versions, 1–3650 days). */
  private limits(): { maxVersions: number; maxAgeDays: number } {
    const l = this.options.historyLimits?.() ?? {};
    return { maxVersions: clampInt(l.maxVersions, 1, 100, DEFAULT_HISTORY_MAX_VERSIONS), maxAgeDays: clampInt(l.maxAgeDays, 1, 3650, DEFAULT_HISTORY_MAX_AGE_DAYS) };
  }

  /**
   * Keeps `current` (the value about to be replaced) as the newest version of `meta`'s history: in a
   * versioned backend its version number, elsewhere a copy at `history:<id>` in the same backend. The
   * list is pruned to the limits; the dropped versions are removed by `dropVersions` after the write
   * is committed. Throws, having kept nothing, when the copy cannot be written.
   */
  private async addVersion(meta: TokenMetadata, current: string | undefined): Promise<VersionChange> {
    const b = this.backend(meta.backend);
    let list = meta.history ?? [];
    let undo = async (): Promise<void> => undefined;
    if (current !== undefined) {
      const base = { id: this.newVersionId(list), replacedAt: this.now().toISOString(), setAt: meta.updatedAt, by: describeActor(currentActor()) };
      if (b.versions) {
        // The backend's own versions: the current one is the value replaced now. Versions the backend
        // dropped by itself (Vault's max_versions) leave the list: it shows what the backend holds.
        const alive = (await b.versions.list(meta)).map((v) => v.version);
        const n = alive.at(-1);
        list = list.filter((v) => v.kv === undefined || alive.includes(v.kv));
        if (n !== undefined) list = [withoutUndefined({ ...base, kv: n }), ...list];
      } else {
        const at = { namespace: HISTORY_NAMESPACE, name: base.id };
        await this.writeCopy(meta, at, current);
        list = [withoutUndefined(base), ...list];
        undo = () => b.remove(at);
      }
    }
    const { kept, dropped } = pruneVersions(list, this.now(), this.limits());
    return { history: kept.length ? kept : undefined, dropped, undo };
  }

  /**
   * After a write to a versioned backend: the versions it dropped by itself on that write (Vault's
   * `max_versions`) leave the history, so the history lists exactly what the backend holds.
   */
  private async afterVersionedWrite(meta: TokenMetadata): Promise<TokenMetadata> {
    const b = this.backend(meta.backend);
    if (!b.versions || !meta.history?.some((v) => v.kv !== undefined)) return meta;
    const alive = new Set((await b.versions.list(meta).catch(() => undefined))?.map((v) => v.version) ?? []);
    if (!alive.size) return meta;
    const history = meta.history.filter((v) => v.kv === undefined || alive.has(v.kv));
    return history.length === meta.history.length ? meta : this.validate({ ...meta, history: history.length ? history : undefined });
  }

  /** Writes a copy of a token's value at an internal key of `meta.backend` (its shape the token's). */
  private async writeCopy(meta: TokenMetadata, at: TokenKey, value: string, backend: BackendId = meta.backend): Promise<void> {
    const b = this.backend(backend);
    const shape = this.validate({ ...meta, ...at, backend, history: undefined, hasPrevious: undefined });
    try {
      await b.write(at, value, shape);
    } catch (e) {
      await b.remove(at).catch(() => undefined);
      throw new BackendError(backend, `${keyId(meta)} was not changed: its value could not be kept in its history (${backend}): ${errorText(e)}`, e instanceof BackendError && e.retryable);
    }
  }

  /** The value of one version of `meta`'s history. */
  private readVersion(meta: TokenMetadata, v: HistoryVersion): Promise<string | undefined> {
    const b = this.backend(meta.backend);
    if (v.kv !== undefined) return b.versions ? b.versions.read(meta, v.kv) : Promise.resolve(undefined);
    return b.read({ namespace: HISTORY_NAMESPACE, name: v.id });
  }

  /** Removes versions for good (pruned, or their token purged); failures are logged, never thrown. */
  private async dropVersions(meta: TokenMetadata, versions: readonly HistoryVersion[]): Promise<void> {
    if (!versions.length) return;
    const b = this.backend(meta.backend);
    const kv = versions.flatMap((v) => (v.kv !== undefined ? [v.kv] : []));
    if (kv.length && b.versions) await b.versions.destroy(meta, kv).catch((e) => this.log('warn', `Could not destroy old versions of ${keyId(meta)} in ${meta.backend}: ${errorText(e)}`));
    for (const v of versions) {
      if (v.kv !== undefined) continue;
      await b.remove({ namespace: HISTORY_NAMESPACE, name: v.id }).catch((e) => this.log('warn', `Could not remove an old version of ${keyId(meta)} from ${meta.backend}: ${errorText(e)}`));
    }
  }

  /**
   * Copies a token's history into `to` as `history:<id>` copies (a move to another backend, or a
   * rename in a versioned backend, where the KV versions stay with the old path). Versions whose value
   * is gone are left out. Returns the new list and an undo removing the copies.
   */
  private async copyVersions(meta: TokenMetadata, to: BackendId, onlyKv: boolean, asVersionsOf?: TokenKey): Promise<{ history: HistoryVersion[] | undefined; undo: () => Promise<void> }> {
    const out: HistoryVersion[] = [];
    const written: TokenKey[] = [];
    const undo = async () => {
      for (const k of written) await this.backend(to).remove(k).catch(() => undefined);
    };
    const target = this.backend(to);
    if (asVersionsOf && target.versions) {
      // Oldest first, each a new version of the token's own secret (the caller removes it on failure).
      for (const v of [...(meta.history ?? [])].reverse()) {
        const value = await this.readVersion(meta, v);
        if (value === undefined) continue;
        await target.write(asVersionsOf, value, this.validate({ ...meta, backend: to, history: undefined, hasPrevious: undefined }));
        const n = await target.versions.current(asVersionsOf);
        const { kv: _kv, ...rest } = v;
        out.unshift(n !== undefined ? { ...rest, kv: n } : rest);
      }
      return { history: out.length ? out : undefined, undo: async () => undefined };
    }
    try {
      for (const v of meta.history ?? []) {
        if (onlyKv && v.kv === undefined) {
          out.push(v);
          continue;
        }
        const value = await this.readVersion(meta, v);
        if (value === undefined) continue;
        const at = { namespace: HISTORY_NAMESPACE, name: v.id };
        await this.writeCopy(meta, at, value, to);
        written.push(at);
        const { kv: _kv, ...copy } = v;
        out.push(copy);
      }
    } catch (e) {
      await undo();
      throw e;
    }
    return { history: out.length ? out : undefined, undo };
  }

  /** A version id: the same shape as a trash id (time-sorted, one Vault path segment). */
  private newVersionId(list: readonly HistoryVersion[]): string {
    const stamp = this.now().toISOString().replace(/[-:.]/g, '');
    let id: string;
    do id = `${stamp}-${randomBytes(4).toString('hex')}`;
    while (list.some((v) => v.id === id));
    return id;
  }

  /**
   * Takes a token and its companions out of their backends for delete and clear: keeps their values in
   * the trash (one entry), then removes them. Returns what was removed, the entry (undefined when no
   * value was there to keep) and `putBack`, which undoes it all. Throws, having changed nothing, when
   * a value cannot be kept or removed.
   */
  private async takeOut(meta: TokenMetadata, reason: TrashReason): Promise<{ removed: Snapshot[]; kept: TrashEntry | undefined; putBack: () => Promise<void> }> {
    const group: Snapshot[] = [];
    for (const m of [meta, ...this.companions(meta)]) group.push(await this.snapshot(m));
    const kept = await this.keepEntry(reason, group);
    const removed: Snapshot[] = [];
    const putBack = async () => {
      for (const s of [...removed].reverse()) await this.putBack(s);
      await this.discard(kept);
    };
    try {
      for (const s of group) {
        await this.backend(s.meta.backend).remove(s.meta);
        removed.push(s);
      }
    } catch (e) {
      await this.undoing(meta, putBack);
      throw e;
    }
    return { removed, kept, putBack };
  }

  /** The stored companions of a token (see `companionsOf`). */
  private companions(meta: TokenMetadata): TokenMetadata[] {
    const keys = this.options.companionsOf?.(meta) ?? [];
    return keys.filter((k) => !sameKey(k, meta)).flatMap((k) => this.get(k) ?? []);
  }

  /** Reads a token's value and, when it has one, its previous value. */
  private async snapshot(meta: TokenMetadata): Promise<Snapshot> {
    const b = this.backend(meta.backend);
    const value = await b.read(meta);
    const previous = meta.hasPrevious ? await b.readPrevious(meta) : undefined;
    return { meta, value, previous };
  }

  /** Writes a removed token's values back (undo). */
  private async putBack(s: Snapshot): Promise<void> {
    const b = this.backend(s.meta.backend);
    if (s.previous !== undefined) await b.writePrevious(s.meta, s.previous, s.meta);
    if (s.value !== undefined) await b.write(s.meta, s.value, s.meta);
  }

  /**
   * Copies the values about to be replaced or removed into the trash, as one entry (the first is the
   * token, the others its companions); values that are not there are skipped, and no entry is made
   * when none is. Not yet in the index: the caller commits it. Throws, leaving no copy, on failure.
   */
  private async keepEntry(reason: TrashReason, sources: readonly Snapshot[]): Promise<TrashEntry | undefined> {
    const id = this.newTrashId();
    const items: TrashItem[] = [];
    try {
      for (const [i, s] of sources.entries()) {
        if (s.value === undefined) continue;
        items.push(await this.keep(s, i === 0 ? id : `${id}-${i}`));
      }
    } catch (e) {
      await this.discard(items);
      throw e;
    }
    if (!items.length) return undefined;
    const entry: TrashEntry = { id, deletedAt: this.now().toISOString(), reason, items };
    // Listed at once, before anything is replaced: a crash after this point leaves the copy findable.
    try {
      await this.transact(() => this.trash.set(id, entry), async () => undefined);
    } catch (e) {
      await this.discard(items);
      throw e;
    }
    return entry;
  }

  /** Writes one kept value (previous first: a versioned backend keeps it as the copy's first version). */
  private async keep(s: Snapshot, name: string): Promise<TrashItem> {
    const b = this.backend(s.meta.backend);
    const at = { namespace: TRASH_NAMESPACE, name };
    // The copy is written with the token's own type and facts, so a backend stores it in the same shape.
    const shape = this.validate({ ...s.meta, namespace: TRASH_NAMESPACE, name, hasPrevious: s.previous !== undefined ? true : undefined });
    try {
      if (s.previous !== undefined) await b.writePrevious(at, s.previous, shape);
      await b.write(at, s.value!, shape);
    } catch (e) {
      await b.remove(at).catch(() => undefined);
      throw new BackendError(
        s.meta.backend,
        `${keyId(s.meta)} was not changed: its value could not be kept in Recently Deleted (${s.meta.backend}): ${errorText(e)}`,
        e instanceof BackendError && e.retryable,
      );
    }
    // Its KV versions go with a removed Vault secret; its `history:<id>` copies stay (purged with the entry).
    const history = s.meta.history?.filter((v) => v.kv === undefined);
    const meta = this.validate({ ...s.meta, history: history?.length ? history : undefined });
    return { name, meta, ...(s.previous !== undefined ? { hasPrevious: true } : {}) };
  }

  /**
   * Removes kept copies (an entry's, or a list of items); returns the items whose backend refused
   * (logged). An entry still listed whose copies are all gone is unlisted.
   */
  private async discard(kept: TrashEntry | readonly TrashItem[] | undefined): Promise<TrashItem[]> {
    const left = await this.discardCopies(!kept ? [] : 'items' in kept ? kept.items : kept);
    if (kept && 'items' in kept && left.length === 0 && this.trash.has(kept.id)) {
      await this.transact(() => this.trash.delete(kept.id), async () => undefined).catch((e) => this.log('warn', `Could not unlist the Recently Deleted entry ${kept.id}: ${errorText(e)}`));
    }
    return left;
  }

  private async discardCopies(items: readonly TrashItem[]): Promise<TrashItem[]> {
    const left: TrashItem[] = [];
    for (const item of items) {
      try {
        await this.backend(item.meta.backend).remove(trashKey(item));
      } catch (e) {
        left.push(item);
        this.log('warn', `Could not remove the kept copy ${keyId(trashKey(item))} of ${keyId(item.meta)} from ${item.meta.backend}: ${errorText(e)}`);
      }
    }
    return left;
  }

  /** Runs an undo after a failed write; a failing undo is logged (what it could not undo is kept, never removed). */
  private async undoing(key: TokenKey, undo: () => Promise<unknown>): Promise<void> {
    await undo().catch((u) => this.log('error', `Could not undo a failed write of ${keyId(key)}: ${errorText(u)}`));
  }

  /**
   * Applies `change` to the tokens and the trash and saves the entries it changed; on failure restores
   * both and runs `undo` (which puts the values back). An undo that fails stops before discarding the
   * trash copies, so a value is never left nowhere.
   */
  private async transact(change: () => void, undo: () => Promise<unknown>): Promise<void> {
    const before = { tokens: new Map(this.tokens), trash: new Map(this.trash) };
    change();
    try {
      await this.index.persist(before);
    } catch (e) {
      await undo().catch((u) => this.log('error', `Could not undo a failed write: ${errorText(u)}`));
      throw e;
    }
  }

  private requireDeleted(id: string): TrashEntry {
    const entry = this.trash.get(id);
    if (!entry) throw new DeletedTokenNotFoundError(id);
    return entry;
  }

  /** `<UTC time, compact>-<8 random hex>`: sorts by time, and is the same string in every backend. */
  private newTrashId(): string {
    const stamp = this.now().toISOString().replace(/[-:.]/g, '');
    let id: string;
    do id = `${stamp}-${randomBytes(4).toString('hex')}`;
    while (this.trash.has(id));
    return id;
  }

  private fireTrash(keys: readonly TokenKey[]): void {
    this.changeEmitter.fire({ kind: 'trash', keys, valueChanged: false });
  }

  private backend(id: BackendId): SecretBackend {
    const b = this.backends.get(id);
    if (!b) throw new BackendError(id, `The ${id} backend is not available in this window.`);
    return b;
  }

  private require(key: TokenKey): TokenMetadata {
    const meta = this.get(key);
    if (!meta) throw new TokenNotFoundError(key);
    return meta;
  }

  /** Validated metadata, as it is stored (members that are undefined left out, so every window holds the same). */
  private validate(candidate: unknown): TokenMetadata {
    const parsed = tokenMetadataSchema.safeParse(candidate);
    if (!parsed.success) throw new Error(`Invalid token metadata: ${describeIssues(parsed.error)}`);
    return withoutUndefined(parsed.data);
  }

  private tryValidate(candidate: unknown): TokenMetadata | undefined {
    const parsed = tokenMetadataSchema.safeParse(candidate);
    return parsed.success ? withoutUndefined(parsed.data) : undefined;
  }

  private get tokens(): Map<string, TokenMetadata> {
    return this.index.tokens;
  }

  /** Recently Deleted entries by id (their values are in the backends, under TRASH_NAMESPACE). */
  private get trash(): Map<string, TrashEntry> {
    return this.index.trash;
  }

  /**
   * Runs a change: one at a time in this window, holding the leases of what it changes (other windows
   * wait), after re-reading their entries (so it acts on what other windows wrote, also what this
   * window has not heard of yet). A token whose entry a newer version wrote is not changed.
   */
  private async write<T>(leases: readonly LeaseName[] | (() => Promise<readonly LeaseName[]> | readonly LeaseName[]), work: () => Promise<T>): Promise<T> {
    void this.ready();
    await this.loadIndexOnce();
    return this.mutex.run(async () => {
      const names = typeof leases === 'function' ? await leases() : leases;
      const release = await this.index.lease(names);
      try {
        await this.index.reread(this.index.entryKeys(names));
        for (const n of names) if (n.startsWith('token:') && this.index.newer.has(n.slice(6))) throw new NewerVersionError(n.slice(6));
        return await work();
      } finally {
        await release();
      }
    });
  }

  /** The leases of these tokens and their companions (read first: this window may not know them yet). */
  private async withCompanions(keys: readonly TokenKey[]): Promise<LeaseName[]> {
    await this.index.reread(this.index.entryKeys(keys.map(tokenLease)));
    const names = new Set<LeaseName>();
    for (const k of keys) {
      names.add(tokenLease(k));
      const meta = this.get(k);
      for (const c of meta ? (this.options.companionsOf?.(meta) ?? []) : []) names.add(tokenLease(c));
    }
    return [...names];
  }

  private loadIndexOnce(): Promise<void> {
    this.indexLoaded ??= this.loadIndex();
    return this.indexLoaded;
  }

  private async loadIndex(): Promise<void> {
    await this.index.load();
    this.reportDamage();
  }

  /** Tells `onDidFindDamage` of damage not reported yet. */
  private reportDamage(): void {
    const fresh = this.damage().filter((d) => !this.reported.has(`${d.storageKey}\n${d.backup}`));
    for (const d of fresh) this.reported.add(`${d.storageKey}\n${d.backup}`);
    if (fresh.length) this.damageEmitter.fire(fresh);
  }

  private log(level: 'info' | 'warn' | 'error', msg: string): void {
    this.options.log?.(level, msg);
  }
}


/** Tokens cannot be written to the trash's namespace: its keys would collide with kept copies. */
function refuseReserved(key: TokenKey): void {
  if (key.namespace === TRASH_NAMESPACE || key.namespace === HISTORY_NAMESPACE) {
    throw new Error(`The namespace "${key.namespace}" is reserved for ${key.namespace === TRASH_NAMESPACE ? 'Recently Deleted values' : 'earlier versions of tokens'}; choose another namespace for ${keyId(key)}.`);
  }
}

/** Where a trash item's value is kept (in `item.meta.backend`). */
function trashKey(item: TrashItem): TokenKey {
  return { namespace: TRASH_NAMESPACE, name: item.name };
}

function keyOf(k: TokenKey): TokenKey {
  return { namespace: k.namespace, name: k.name };
}

function withoutUndefined<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}

function tokenLease(k: TokenKey): LeaseName {
  return `token:${keyId(k)}`;
}

function parseId(id: string): TokenKey | undefined {
  const colon = id.indexOf(':');
  return colon > 0 ? { namespace: id.slice(0, colon), name: id.slice(colon + 1) } : undefined;
}
