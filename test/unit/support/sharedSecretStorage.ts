/**
 * A stand-in for VS Code's SecretStorage shared by several windows (one machine, one user-data dir):
 * one key-value map; every window gets its own view (`window()`), whose `onDidChange` reports every
 * change, its own and the other windows', asynchronously and after a random delay, as VS Code does.
 * Optional costs: a latency per call and a delay per KiB written (the real one encrypts and persists
 * the whole value), so a benchmark sees what a write costs. Failures can be injected per window.
 */
import type { Disposable, Event } from '../../../extension/platform/event';
import { Emitter } from '../../../extension/platform/event';

export interface SharedSecretStorageOptions {
  /** Range of the delay before a change event reaches a window (ms). */
  readonly eventDelayMs?: readonly [number, number];
  /** Range of the latency of every call (ms). */
  readonly latencyMs?: readonly [number, number];
  /** Time charged per KiB written (ms), on top of the latency. */
  readonly msPerKiB?: number;
}

/** A window's view: the subset of vscode.SecretStorage the extension uses. */
export interface WindowSecrets {
  get(key: string): Promise<string | undefined>;
  store(key: string, value: string): Promise<void>;
  delete(key: string): Promise<void>;
  keys(): Promise<string[]>;
  readonly onDidChange: Event<{ key: string }>;
  /** Injected failures: the next call of `op` on a key matching `key` throws. */
  readonly failNext: Array<{ op: 'get' | 'store' | 'delete'; key: RegExp }>;
  /**
   * Simulates the window dying right after the first `store` to a key matching the pattern: that
   * store succeeds, every later call of this window rejects (nothing of it runs any more).
   */
  crashAfterStore(key: RegExp): void;
  /** Stops this window's events (closing it). */
  close(): void;
}

export class SharedSecretStorage {
  readonly data = new Map<string, string>();
  bytesWritten = 0;
  writes = 0;
  private readonly views = new Set<Emitter<{ key: string }>>();

  constructor(private readonly options: SharedSecretStorageOptions = {}) {}

  window(): WindowSecrets {
    const emitter = new Emitter<{ key: string }>();
    this.views.add(emitter);
    const failNext: WindowSecrets['failNext'] = [];
    let crashPattern: RegExp | undefined;
    let dead = false;
    const check = (op: 'get' | 'store' | 'delete', key: string) => {
      if (dead) throw new Error('the window is gone (injected crash)');
      const i = failNext.findIndex((f) => f.op === op && f.key.test(key));
      if (i >= 0) {
        failNext.splice(i, 1);
        throw new Error(`injected ${op} failure`);
      }
    };
    return {
      get: async (key) => {
        await this.latency(0);
        check('get', key);
        return this.data.get(key);
      },
      store: async (key, value) => {
        await this.latency(value.length);
        check('store', key);
        this.data.set(key, value);
        this.bytesWritten += value.length;
        this.writes++;
        this.changed(key);
        if (crashPattern?.test(key)) dead = true;
      },
      delete: async (key) => {
        await this.latency(0);
        check('delete', key);
        if (this.data.delete(key)) this.changed(key);
      },
      keys: async () => {
        await this.latency(0);
        if (dead) throw new Error('the window is gone (injected crash)');
        return [...this.data.keys()];
      },
      onDidChange: emitter.event,
      failNext,
      crashAfterStore: (key) => (crashPattern = key),
      close: () => {
        this.views.delete(emitter);
        emitter.dispose();
      },
    };
  }

  private changed(key: string): void {
    const [min, max] = this.options.eventDelayMs ?? [0, 3];
    for (const view of this.views) {
      setTimeout(() => view.fire({ key }), min + Math.random() * (max - min));
    }
  }

  private async latency(bytes: number): Promise<void> {
    const [min, max] = this.options.latencyMs ?? [0, 0];
    const ms = min + Math.random() * (max - min) + ((this.options.msPerKiB ?? 0) * bytes) / 1024;
    if (ms > 0) await busyOrSleep(ms);
    else await Promise.resolve();
  }
}

/** Sleeps for longer delays; spins for sub-millisecond ones (setTimeout cannot wait less than 1 ms). */
async function busyOrSleep(ms: number): Promise<void> {
  if (ms >= 1) return new Promise((r) => setTimeout(r, ms));
  const until = performance.now() + ms;
  while (performance.now() < until) {
    /* spin */
  }
}

export type { Disposable };
