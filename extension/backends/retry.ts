/** Retries with exponential backoff and jitter, for backend reads that may fail transiently. Pure. */

export interface RetryOptions {
  /** Total attempts, including the first (default 3). */
  readonly attempts?: number;
  /** Delay before the second attempt in ms; doubles each time (default 200). */
  readonly baseDelayMs?: number;
  readonly maxDelayMs?: number;
  /** Whether an error is worth another attempt (default: never). */
  readonly retryable: (error: unknown) => boolean;
  readonly sleep?: (ms: number) => Promise<void>;
  /** Called before each retry (for logging; never given a value). */
  readonly onRetry?: (attempt: number, error: unknown, delayMs: number) => void;
}

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export async function withRetry<T>(work: (attempt: number) => Promise<T>, options: RetryOptions): Promise<T> {
  const attempts = Math.max(1, options.attempts ?? 3);
  const base = options.baseDelayMs ?? 200;
  const max = options.maxDelayMs ?? 5000;
  const sleep = options.sleep ?? defaultSleep;
  for (let attempt = 1; ; attempt++) {
    try {
      return await work(attempt);
    } catch (e) {
      if (attempt >= attempts || !options.retryable(e)) throw e;
      const delay = Math.min(max, base * 2 ** (attempt - 1)) * (0.8 + Math.random() * 0.4);
      options.onRetry?.(attempt, e, delay);
      await sleep(delay);
    }
  }
}
