/**
 * The one lease mechanism: leases shared by every window of the machine, so that one window at a time
 * does a piece of work. Two users: the OAuth refresh (one refresher per token; the others pick up its
 * result, docs/oauth.md "One refresher across windows") and the metadata index (a window changing a
 * token holds the token's lease, `acquireAll`). Pure: no `vscode` import; the storage (a small JSON
 * record per lease, with change events from every window) and the clock are injected. The extension
 * stores the records in SecretStorage (`prefixedLeaseStorage`), the tests in memory.
 *
 * A record: `{ v: 1, owner, expiresAt, result? }`. `owner` is a random id per window (per Leases
 * instance); `expiresAt` (epoch ms) bounds how long a crashed holder blocks the others; 0 means
 * released. `result` is what the last holder achieved (outcome, when, and the new token's expiry:
 * never a token value), so a window whose view of the token index lags behind still knows the token
 * was just renewed.
 *
 * The storage offers no compare-and-swap, so taking a lease is write, wait `settleMs` (longer than the
 * storage's propagation between windows), read back: still mine? Two windows that write at once both
 * read the same winner once the storage has settled; at worst both back off and try again later.
 */
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { Emitter, type Disposable, type Event } from '../platform/event';

/** Where lease records live: get/set/delete of a small JSON text by lease name, and its change events. */
export interface LeaseStorage {
  get(name: string): Promise<string | undefined>;
  set(name: string, json: string): Promise<void>;
  delete(name: string): Promise<void>;
  /** Fires with the lease name when a record changes, in this window or another one. */
  readonly onDidChange: Event<string>;
}

export const leaseResultSchema = z.object({
  outcome: z.enum(['refreshed', 'sign-in-required', 'failed', 'no-refresh-token', 'fresh']),
  /** When the holder finished (epoch ms). */
  at: z.number().int().nonnegative(),
  /** The expiry of the token the holder stored (epoch ms), for 'refreshed'. */
  tokenExpiresAt: z.number().int().nonnegative().optional(),
});

export const leaseRecordSchema = z.object({
  v: z.literal(1),
  owner: z.string().min(1).max(128),
  /** Epoch ms; 0: released. */
  expiresAt: z.number().int().nonnegative(),
  result: leaseResultSchema.optional(),
});

export type LeaseRecord = z.infer<typeof leaseRecordSchema>;
export type LeaseResult = z.infer<typeof leaseResultSchema>;

export interface LeaseOptions {
  /** This window's id (default: random). */
  readonly owner?: string;
  readonly now?: () => number;
  readonly sleep?: (ms: number) => Promise<void>;
  /** How long a lease lives without renewal (default 60 s: longer than a refresh's timeout). */
  readonly ttlMs?: number;
  /** How long to wait after writing before reading back (default 1 s; see docs/oauth.md). */
  readonly settleMs?: number;
}

export const DEFAULT_LEASE_TTL_MS = 60_000;
export const DEFAULT_LEASE_SETTLE_MS = 1_000;

export class Leases {
  readonly owner: string;
  readonly ttlMs: number;
  readonly settleMs: number;
  readonly now: () => number;
  private readonly sleep: (ms: number) => Promise<void>;

  constructor(
    readonly storage: LeaseStorage,
    options: LeaseOptions = {},
  ) {
    this.owner = options.owner ?? randomUUID();
    this.ttlMs = options.ttlMs ?? DEFAULT_LEASE_TTL_MS;
    this.settleMs = options.settleMs ?? DEFAULT_LEASE_SETTLE_MS;
    this.now = options.now ?? Date.now;
    this.sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
  }

  /** The record of `name`; undefined when there is none or it is not a valid record (then it is free). */
  async read(name: string): Promise<LeaseRecord | undefined> {
    const raw = await this.storage.get(name);
    if (!raw) return undefined;
    try {
      const parsed = leaseRecordSchema.safeParse(JSON.parse(raw));
      return parsed.success ? parsed.data : undefined;
    } catch {
      return undefined;
    }
  }

  /** Held by someone (anyone) and not expired. */
  isLive(record: LeaseRecord | undefined): boolean {
    return !!record && record.expiresAt > this.now();
  }

  /** Held by another window and not expired. */
  heldByOther(record: LeaseRecord | undefined): boolean {
    return !!record && this.isLive(record) && record.owner !== this.owner;
  }

  /**
   * Takes the lease `name`: undefined when another window holds a live lease, or took it at the same
   * time and won. Write, wait `settleMs`, read back.
   */
  async acquire(name: string): Promise<Lease | undefined> {
    return (await this.tryAll([name]))?.[0];
  }

  /**
   * Takes every lease of `names` for this window (all or none), waiting while another window holds
   * one; a lease whose holder died expires after `ttlMs` and is taken over. Throws LeaseTimeoutError
   * after `maxWaitMs` of waiting. The leases are kept alive until `release` is called.
   */
  async acquireAll(names: readonly string[], maxWaitMs: number, onError?: (name: string, e: unknown) => void): Promise<HeldLeases> {
    const unique = [...new Set(names)].sort();
    const started = this.now();
    for (let attempt = 0; unique.length; attempt++) {
      const leases = await this.tryAll(unique);
      if (leases) return new HeldLeases(leases, onError);
      if (this.now() - started > maxWaitMs) throw new LeaseTimeoutError();
      await this.sleep(Math.min(500, this.settleMs * (1 + Math.random()) * Math.min(attempt + 1, 4)));
    }
    return new HeldLeases([], onError);
  }

  /** One attempt at taking all of `names`: write, wait `settleMs`, read back; what was taken is given back when not all was. */
  private async tryAll(names: readonly string[]): Promise<Lease[] | undefined> {
    const current = await Promise.all(names.map((n) => this.read(n)));
    if (current.some((r) => this.heldByOther(r))) return undefined;
    const expiresAt = this.now() + this.ttlMs;
    await Promise.all(names.map((n, i) => this.write(n, { v: 1, owner: this.owner, expiresAt, ...(current[i]?.result ? { result: current[i]!.result } : {}) })));
    await this.sleep(this.settleMs);
    const back = await Promise.all(names.map((n) => this.read(n)));
    const leases = names.map((n) => new Lease(this, n));
    if (back.every((r) => !!r && r.owner === this.owner && this.isLive(r))) return leases;
    await Promise.all(leases.map((l) => l.release().catch(() => undefined)));
    return undefined;
  }

  /** @internal */
  write(name: string, record: LeaseRecord): Promise<void> {
    return this.storage.set(name, JSON.stringify(leaseRecordSchema.parse(record)));
  }
}

export class Lease {
  private released = false;

  constructor(
    private readonly leases: Leases,
    readonly name: string,
  ) {}

  /** Still mine (and not expired)? */
  async held(): Promise<boolean> {
    const r = await this.leases.read(this.name);
    return !this.released && !!r && r.owner === this.leases.owner && this.leases.isLive(r);
  }

  /** Extends the lease by `ttlMs` from now; false (nothing written) when it is no longer mine. */
  async renew(): Promise<boolean> {
    if (this.released) return false;
    const r = await this.leases.read(this.name);
    if (!r || r.owner !== this.leases.owner) return false;
    await this.leases.write(this.name, { ...r, expiresAt: this.leases.now() + this.leases.ttlMs });
    return true;
  }

  /**
   * Renews every third of the lease's lifetime until disposed; `lost` is called (once) if a renewal
   * finds the lease taken by another window.
   */
  keepAlive(lost?: () => void, onError?: (e: unknown) => void): Disposable {
    let stopped = false;
    const every = Math.max(10, Math.floor(this.leases.ttlMs / 3));
    const tick = async () => {
      if (stopped) return;
      try {
        if (!(await this.renew())) {
          stopped = true;
          lost?.();
          return;
        }
      } catch (e) {
        onError?.(e);
      }
      if (!stopped) timer = schedule();
    };
    const schedule = () => {
      const t = setTimeout(() => void tick(), every);
      t.unref?.();
      return t;
    };
    let timer = schedule();
    return {
      dispose: () => {
        stopped = true;
        clearTimeout(timer);
      },
    };
  }

  /**
   * Releases the lease (expiresAt 0), recording `result` (or keeping the previous one); a record
   * without a result is deleted. A lease that is no longer mine is left alone.
   */
  async release(result?: LeaseResult): Promise<void> {
    if (this.released) return;
    this.released = true;
    const r = await this.leases.read(this.name);
    if (!r || r.owner !== this.leases.owner) return;
    const kept = result ?? r.result;
    if (kept) await this.leases.write(this.name, { v: 1, owner: r.owner, expiresAt: 0, result: kept });
    else await this.leases.storage.delete(this.name);
  }
}

/** Thrown by `acquireAll` when another window held one of the leases for longer than the wait allowed. */
export class LeaseTimeoutError extends Error {
  constructor() {
    super('Another window has been changing these tokens for too long; try again.');
    this.name = 'LeaseTimeoutError';
  }
}

/** Leases taken together by `acquireAll`: kept alive until released (a failed give-back expires by itself). */
export class HeldLeases {
  private readonly keep: Disposable[];

  constructor(
    readonly leases: readonly Lease[],
    private readonly onError?: (name: string, e: unknown) => void,
  ) {
    this.keep = leases.map((l) => l.keepAlive(undefined, (e) => onError?.(l.name, e)));
  }

  async release(): Promise<void> {
    for (const k of this.keep) k.dispose();
    await Promise.all(
      this.leases.map((l) =>
        l.release().catch((e) => {
          this.onError?.(l.name, e);
        }),
      ),
    );
  }
}

/** The part of VS Code's SecretStorage (or a MetadataStorage) the lease needs (structural: no `vscode` import). */
export interface SecretsLike {
  get(key: string): PromiseLike<string | undefined>;
  store(key: string, value: string): PromiseLike<void>;
  delete(key: string): PromiseLike<void>;
  onDidChange?(listener: (e: { readonly key: string }) => unknown): Disposable;
}

export const LEASE_PREFIX = 'mcpTokens/v1/lease/';

/**
 * Lease records in SecretStorage under `<prefix><name>`: shared by every window of the machine, and
 * SecretStorage's `onDidChange` fires in every window (see docs/oauth.md for why not the global
 * state). The records hold no secret.
 */
export function prefixedLeaseStorage(secrets: SecretsLike, prefix: string): LeaseStorage & Disposable {
  const changed = new Emitter<string>();
  const sub = secrets.onDidChange?.((e) => {
    if (e.key.startsWith(prefix)) changed.fire(e.key.slice(prefix.length));
  });
  return {
    get: async (name) => (await secrets.get(prefix + name)) ?? undefined,
    set: async (name, json) => void (await secrets.store(prefix + name, json)),
    delete: async (name) => void (await secrets.delete(prefix + name)),
    onDidChange: changed.event,
    dispose: () => {
      sub?.dispose();
      changed.dispose();
    },
  };
}

/** The OAuth refresh leases: SecretStorage under `mcpTokens/v1/lease/<name>`. */
export function secretStorageLeaseStorage(secrets: SecretsLike): LeaseStorage & Disposable {
  return prefixedLeaseStorage(secrets, LEASE_PREFIX);
}

/** A LeaseStorage in memory (one process), for the command-line client and the tests. */
export function memoryLeaseStorage(): LeaseStorage & { readonly records: Map<string, string> } {
  const records = new Map<string, string>();
  const changed = new Emitter<string>();
  return {
    records,
    get: async (name) => records.get(name),
    set: async (name, json) => {
      records.set(name, json);
      changed.fire(name);
    },
    delete: async (name) => {
      records.delete(name);
      changed.fire(name);
    },
    onDidChange: changed.event,
  };
}
