/**
 * A lease shared by every window of the machine, so that only one window refreshes an OAuth token at
 * a time and the others pick up its result (docs/oauth.md, "One refresher across windows"). Pure: no
 * `vscode` import; the storage (a small JSON record per lease, with change events from every window)
 * and the clock are injected. The extension stores the records in SecretStorage
 * (`secretStorageLeaseStorage`), the tests in memory.
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
    const current = await this.read(name);
    if (this.heldByOther(current)) return undefined;
    await this.write(name, { v: 1, owner: this.owner, expiresAt: this.now() + this.ttlMs, ...(current?.result ? { result: current.result } : {}) });
    await this.sleep(this.settleMs);
    const back = await this.read(name);
    if (!back || back.owner !== this.owner || !this.isLive(back)) return undefined;
    return new Lease(this, name);
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
   * Releases the lease (expiresAt 0), recording `result` (or keeping the previous one). A lease that
   * is no longer mine is left alone.
   */
  async release(result?: LeaseResult): Promise<void> {
    if (this.released) return;
    this.released = true;
    const r = await this.leases.read(this.name);
    if (!r || r.owner !== this.leases.owner) return;
    const kept = result ?? r.result;
    await this.leases.write(this.name, { v: 1, owner: r.owner, expiresAt: 0, ...(kept ? { result: kept } : {}) });
  }
}

/** The part of VS Code's SecretStorage the lease needs (structural: no `vscode` import). */
export interface SecretsLike {
  get(key: string): PromiseLike<string | undefined>;
  store(key: string, value: string): PromiseLike<void>;
  delete(key: string): PromiseLike<void>;
  onDidChange(listener: (e: { readonly key: string }) => unknown): Disposable;
}

export const LEASE_PREFIX = 'mcpTokens/v1/lease/';

/**
 * Lease records in SecretStorage under `mcpTokens/v1/lease/<name>`: shared by every window of the
 * machine, and SecretStorage's `onDidChange` fires in every window (see docs/oauth.md for why not the
 * global state). The records hold no secret.
 */
export function secretStorageLeaseStorage(secrets: SecretsLike): LeaseStorage & Disposable {
  const changed = new Emitter<string>();
  const sub = secrets.onDidChange((e) => {
    if (e.key.startsWith(LEASE_PREFIX)) changed.fire(e.key.slice(LEASE_PREFIX.length));
  });
  return {
    get: async (name) => (await secrets.get(LEASE_PREFIX + name)) ?? undefined,
    set: async (name, json) => void (await secrets.store(LEASE_PREFIX + name, json)),
    delete: async (name) => void (await secrets.delete(LEASE_PREFIX + name)),
    onDidChange: changed.event,
    dispose: () => {
      sub.dispose();
      changed.dispose();
    },
  };
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
