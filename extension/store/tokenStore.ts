/**
 * TokenStore: the one place commands, views, the language client and the MCP provider go to for
 * tokens. It owns the metadata index and routes values to backends. Pure (no `vscode` import):
 * backends, the index storage and the clock are injected, so it is unit-tested directly.
 *
 * Consistency rule: a write changes the value first and the index second; if the index cannot be
 * saved the value is put back, so the index and the values never disagree for long, and a failure
 * loses nothing.
 */
import {
  INDEX_VERSION,
  describeIssues,
  expiryState,
  isInternalNamespace,
  renewsItself,
  sameKey,
  sortTokens,
  tokenIndexSchema,
  type BackendId,
  type SetTokenArgs,
  type TokenMetadata,
} from '../../server/core/model';
import { keyId, type TokenKey } from '../../server/core/reference';
import { Emitter, Mutex, type Disposable } from '../util/event';
import { BackendError, type BackendHealth, type IndexStorage, type SecretBackend } from './backend';

export type TokenChangeKind = 'set' | 'delete' | 'rotate' | 'restore' | 'rename' | 'metadata' | 'refresh';

export interface TokenChange {
  readonly kind: TokenChangeKind;
  /** The tokens whose metadata or value changed; empty for a full refresh. */
  readonly keys: readonly TokenKey[];
  /** True when a value changed (servers using these tokens should restart). */
  readonly valueChanged: boolean;
}

export interface TokenStoreOptions {
  readonly backends: readonly SecretBackend[];
  readonly index: IndexStorage;
  /** The backend a namespace's new tokens go to (default backend and per-namespace overrides). */
  readonly backendFor: (namespace: string) => BackendId;
  readonly now?: () => Date;
  /** Receives operational messages; never a value. */
  readonly log?: (level: 'info' | 'warn' | 'error', message: string) => void;
}

export class TokenNotFoundError extends Error {
  constructor(readonly key: TokenKey) {
    super(`No token ${keyId(key)} is stored.`);
    this.name = 'TokenNotFoundError';
  }
}

export class TokenStore implements Disposable {
  private readonly tokens = new Map<string, TokenMetadata>();
  private readonly backends = new Map<BackendId, SecretBackend>();
  private readonly mutex = new Mutex();
  private readonly changeEmitter = new Emitter<TokenChange>();
  private readonly subscriptions: Disposable[] = [];
  private loaded: Promise<void> | undefined;
  private readonly now: () => Date;

  readonly onDidChange = this.changeEmitter.event;

  constructor(private readonly options: TokenStoreOptions) {
    for (const b of options.backends) this.backends.set(b.id, b);
    this.now = options.now ?? (() => new Date());
    if (options.index.onDidChange) {
      this.subscriptions.push(options.index.onDidChange(() => void this.reloadIndex()));
    }
    for (const b of options.backends) {
      if (b.onDidChange) this.subscriptions.push(b.onDidChange(() => this.changeEmitter.fire({ kind: 'refresh', keys: [], valueChanged: true })));
    }
  }

  dispose(): void {
    for (const s of this.subscriptions) s.dispose();
    this.changeEmitter.dispose();
  }

  /** Loads the index once; every public method awaits it. */
  ready(): Promise<void> {
    this.loaded ??= this.mutex.run(() => this.loadIndex());
    return this.loaded;
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
    const meta = this.get(key);
    if (!meta) return undefined;
    return this.backend(meta.backend).read(key);
  }

  async getPreviousValue(key: TokenKey): Promise<string | undefined> {
    await this.ready();
    const meta = this.require(key);
    return this.backend(meta.backend).readPrevious(key);
  }

  backendIds(): BackendId[] {
    return [...this.backends.keys()];
  }

  async health(): Promise<BackendHealth[]> {
    return Promise.all([...this.backends.values()].map((b) => b.health()));
  }

  // ---- writing -------------------------------------------------------------------------------

  /** Creates or overwrites a token. Returns its metadata. */
  set(args: SetTokenArgs): Promise<TokenMetadata> {
    return this.write(async () => {
      const key = { namespace: args.namespace, name: args.name };
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
      });
      const target = this.backend(backendId);
      const before = existing?.backend === backendId ? await target.read(key) : undefined;
      // A versioned backend keeps the overwritten value as the previous version.
      if (target.versioned && before !== undefined) meta.hasPrevious = true;
      await target.write(key, args.value, meta);
      await this.commit(key, meta, async () => {
        if (before === undefined) await target.remove(key);
        else await target.write(key, before, existing!);
      });
      if (existing && existing.backend !== backendId) {
        await this.backend(existing.backend).remove(key).catch((e) => this.log('warn', `Could not remove ${keyId(key)} from ${existing.backend}: ${message(e)}`));
      }
      this.changeEmitter.fire({ kind: 'set', keys: [key], valueChanged: true });
      return meta;
    });
  }

  /** Replaces the value and keeps the old one as the previous value. */
  rotate(key: TokenKey, value: string): Promise<TokenMetadata> {
    return this.write(async () => {
      const existing = this.require(key);
      const b = this.backend(existing.backend);
      const current = await b.read(key);
      const meta = this.validate({ ...existing, updatedAt: this.now().toISOString(), hasPrevious: current !== undefined || existing.hasPrevious });
      if (current !== undefined) await b.writePrevious(key, current, meta);
      await b.write(key, value, meta);
      await this.commit(key, meta, async () => {
        if (current !== undefined) await b.write(key, current, existing);
      });
      this.changeEmitter.fire({ kind: 'rotate', keys: [key], valueChanged: true });
      return meta;
    });
  }

  /** Brings back the value before the last rotation; the replaced value becomes the previous one. */
  restorePrevious(key: TokenKey): Promise<TokenMetadata> {
    return this.write(async () => {
      const existing = this.require(key);
      const b = this.backend(existing.backend);
      const previous = await b.readPrevious(key);
      if (previous === undefined) throw new Error(`Token ${keyId(key)} has no previous value to restore.`);
      const current = await b.read(key);
      const meta = this.validate({ ...existing, updatedAt: this.now().toISOString(), hasPrevious: current !== undefined });
      await b.write(key, previous, meta);
      if (current !== undefined) await b.writePrevious(key, current, meta);
      await this.commit(key, meta, async () => {
        if (current !== undefined) await b.write(key, current, existing);
      });
      this.changeEmitter.fire({ kind: 'restore', keys: [key], valueChanged: true });
      return meta;
    });
  }

  delete(key: TokenKey): Promise<void> {
    return this.write(async () => {
      const existing = this.require(key);
      // The value goes first: if the backend refuses, nothing changed and the token stays listed, so
      // no secret is ever left behind unseen. If the index then cannot be saved, the entry stays
      // (without a value) and deleting it again finishes the job.
      await this.backend(existing.backend).remove(key);
      this.tokens.delete(keyId(key));
      try {
        await this.saveIndex();
      } catch (e) {
        this.tokens.set(keyId(key), existing);
        throw e;
      }
      this.changeEmitter.fire({ kind: 'delete', keys: [key], valueChanged: true });
    });
  }

  /** Deletes every token matching the filter; returns the keys deleted. */
  clear(filter: { namespace?: string; expiredOnly?: boolean } = {}): Promise<TokenKey[]> {
    return this.write(async () => {
      const now = this.now();
      const victims = this.list().filter(
        (t) =>
          (!filter.namespace || t.namespace === filter.namespace) &&
          (!filter.expiredOnly || (expiryState(t, now, 0) === 'expired' && !renewsItself(t))),
      );
      if (victims.length === 0) return [];
      // Values first (see delete); a token whose value could not be removed stays listed.
      const removed: TokenMetadata[] = [];
      const failures: string[] = [];
      for (const v of victims) {
        try {
          await this.backend(v.backend).remove(v);
          removed.push(v);
        } catch (e) {
          failures.push(`${keyId(v)}: ${message(e)}`);
        }
      }
      for (const v of removed) this.tokens.delete(keyId(v));
      try {
        if (removed.length) await this.saveIndex();
      } catch (e) {
        for (const v of removed) this.tokens.set(keyId(v), v);
        throw e;
      }
      const keys = removed.map((v) => ({ namespace: v.namespace, name: v.name }));
      if (keys.length) this.changeEmitter.fire({ kind: 'delete', keys, valueChanged: true });
      if (failures.length) {
        this.log('warn', `Some tokens could not be deleted: ${failures.join('; ')}`);
        throw new Error(`Deleted ${keys.length} of ${victims.length} tokens; these stay because their backend refused: ${failures.join('; ')}`);
      }
      return keys;
    });
  }

  /** Renames a token (value, previous value and metadata move together). */
  rename(from: TokenKey, to: TokenKey): Promise<TokenMetadata> {
    return this.write(async () => {
      const existing = this.require(from);
      if (sameKey(from, to)) return existing;
      if (this.has(to)) throw new Error(`A token ${keyId(to)} already exists.`);
      const b = this.backend(existing.backend);
      const value = await b.read(from);
      if (value === undefined) throw new BackendError(existing.backend, `The value of ${keyId(from)} is missing from ${existing.backend}; nothing was renamed.`);
      const previous = await b.readPrevious(from);
      const meta = this.validate({ ...existing, namespace: to.namespace, name: to.name, updatedAt: this.now().toISOString() });
      await b.write(to, value, meta);
      if (previous !== undefined) await b.writePrevious(to, previous, meta);
      this.tokens.delete(keyId(from));
      await this.commit(to, meta, async () => {
        this.tokens.set(keyId(from), existing);
        await b.remove(to);
      });
      await b.remove(from).catch((e) => this.log('warn', `Could not remove the old value of ${keyId(from)}: ${message(e)}`));
      this.changeEmitter.fire({ kind: 'rename', keys: [from, to], valueChanged: true });
      return meta;
    });
  }

  /** Changes metadata only (description, expiry, provider, OAuth facts, last used). */
  updateMetadata(key: TokenKey, patch: Partial<Omit<TokenMetadata, 'namespace' | 'name' | 'backend' | 'createdAt'>>): Promise<TokenMetadata> {
    return this.write(async () => {
      const existing = this.require(key);
      const meta = this.validate({ ...existing, ...patch });
      await this.commit(key, meta, async () => undefined);
      this.changeEmitter.fire({ kind: 'metadata', keys: [key], valueChanged: false });
      return meta;
    });
  }

  /** Records a use (at server launch); failures are logged, never thrown. */
  async markUsed(key: TokenKey): Promise<void> {
    if (!this.has(key)) return;
    await this.updateMetadata(key, { lastUsedAt: this.now().toISOString() }).catch((e) => this.log('warn', `Could not record the use of ${keyId(key)}: ${message(e)}`));
  }

  /** Reloads the index and merges tokens the backends know of that the index lacks. */
  refresh(): Promise<void> {
    return this.write(async () => {
      await this.loadIndex();
      let added = 0;
      for (const b of this.backends.values()) {
        if (!b.discover) continue;
        let found;
        try {
          found = await b.discover();
        } catch (e) {
          this.log('warn', `Could not list the tokens of ${b.id}: ${message(e)}`);
          continue;
        }
        for (const d of found) {
          if (this.has(d)) continue;
          const now = this.now().toISOString();
          const parsed = this.tryValidate({
            namespace: d.namespace,
            name: d.name,
            type: d.type ?? 'generic',
            createdAt: d.createdAt ?? now,
            updatedAt: d.createdAt ?? now,
            expiresAt: d.expiresAt,
            provider: d.provider,
            description: d.description,
            backend: b.id,
          });
          if (parsed) {
            this.tokens.set(keyId(parsed), parsed);
            added++;
          }
        }
      }
      if (added) await this.saveIndex();
      this.changeEmitter.fire({ kind: 'refresh', keys: [], valueChanged: false });
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
    return this.write(async () => {
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
          return { meta: existing, leftover: `${from}: ${message(e)}` };
        }
      }
      const sourceId = existing.backend;
      const source = this.backend(sourceId);
      const value = await source.read(key);
      if (value === undefined) throw new BackendError(sourceId, `The value of ${keyId(key)} is missing from ${sourceId}; it was not moved.`);
      const previous = existing.hasPrevious ? await source.readPrevious(key) : undefined;
      const meta = this.validate({ ...existing, backend: to, hasPrevious: previous !== undefined ? true : undefined });
      // A copy left by an earlier interrupted attempt is replaced.
      await target.remove(key).catch(() => undefined);
      const undoCopy = () => target.remove(key).catch((e) => this.log('warn', `Could not remove the partial copy of ${keyId(key)} from ${to}: ${message(e)}`));
      try {
        if (previous !== undefined) await target.writePrevious(key, previous, meta);
        await target.write(key, value, meta);
        const check = await target.read(key);
        if (check !== value) throw new BackendError(to, `The copy of ${keyId(key)} in ${to} does not read back the same; it was not moved.`);
      } catch (e) {
        await undoCopy();
        throw e;
      }
      await this.commit(key, meta, undoCopy);
      let leftover: string | undefined;
      try {
        await source.remove(key);
      } catch (e) {
        leftover = `${sourceId}: ${message(e)}`;
        this.log('warn', `${keyId(key)} moved to ${to}, but its copy in ${sourceId} could not be removed: ${message(e)}`);
      }
      this.changeEmitter.fire({ kind: 'metadata', keys: [key], valueChanged: false });
      return { meta, leftover };
    });
  }

  /** Adds index entries for values already stored in `backend` (migration, import). */
  adopt(meta: TokenMetadata): Promise<void> {
    return this.write(async () => {
      const valid = this.validate(meta);
      await this.commit(valid, valid, async () => undefined);
      this.changeEmitter.fire({ kind: 'set', keys: [valid], valueChanged: true });
    });
  }

  // ---- internals -----------------------------------------------------------------------------

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

  private validate(candidate: unknown): TokenMetadata {
    const parsed = tokenIndexSchema.shape.tokens.element.safeParse(candidate);
    if (!parsed.success) throw new Error(`Invalid token metadata: ${describeIssues(parsed.error)}`);
    return parsed.data;
  }

  private tryValidate(candidate: unknown): TokenMetadata | undefined {
    const parsed = tokenIndexSchema.shape.tokens.element.safeParse(candidate);
    return parsed.success ? parsed.data : undefined;
  }

  private async write<T>(work: () => Promise<T>): Promise<T> {
    await this.ready();
    return this.mutex.run(work);
  }

  /** Puts `meta` in the index and saves it; on failure restores the index and runs `undo`. */
  private async commit(key: TokenKey, meta: TokenMetadata, undo: () => Promise<unknown>): Promise<void> {
    const id = keyId(key);
    const before = this.tokens.get(id);
    this.tokens.set(id, meta);
    try {
      await this.saveIndex();
    } catch (e) {
      if (before) this.tokens.set(id, before);
      else this.tokens.delete(id);
      await undo().catch((u) => this.log('error', `Could not undo a failed write of ${id}: ${message(u)}`));
      throw e;
    }
  }

  private async loadIndex(): Promise<void> {
    const raw = await this.options.index.load();
    this.tokens.clear();
    if (!raw) return;
    let json: unknown;
    try {
      json = JSON.parse(raw);
    } catch {
      this.log('error', 'The token index is not valid JSON; it is kept as it is and treated as empty until fixed.');
      return;
    }
    const parsed = tokenIndexSchema.safeParse(json);
    if (parsed.success) {
      for (const t of parsed.data.tokens) this.tokens.set(keyId(t), t);
      return;
    }
    // Keep every entry that is still valid; report the others.
    const entries = (json as { tokens?: unknown[] })?.tokens;
    let dropped = 0;
    for (const entry of Array.isArray(entries) ? entries : []) {
      const t = this.tryValidate(entry);
      if (t) this.tokens.set(keyId(t), t);
      else dropped++;
    }
    this.log('warn', `The token index had ${dropped} invalid entr${dropped === 1 ? 'y' : 'ies'} (${describeIssues(parsed.error)}); they are ignored.`);
  }

  private async reloadIndex(): Promise<void> {
    await this.mutex.run(() => this.loadIndex());
    this.changeEmitter.fire({ kind: 'refresh', keys: [], valueChanged: false });
  }

  private async saveIndex(): Promise<void> {
    const index = { version: INDEX_VERSION, tokens: this.listAll() };
    await this.options.index.save(JSON.stringify(index));
  }

  private log(level: 'info' | 'warn' | 'error', msg: string): void {
    this.options.log?.(level, msg);
  }
}

export function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
