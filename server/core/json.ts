/**
 * Pure. Parsing JSON text that comes from outside (a keyring entry, a channel answer) into a
 * zod-checked value, in one place: the caller turns the two ways it can fail into its own error.
 * The text is never echoed (it may hold a secret), nor are zod's issues (they quote values).
 */
import type { z } from 'zod';

export type JsonParse<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly why: 'json' | 'shape' };

/** `text` as JSON of `schema`'s shape: `why` is `json` for text that is not JSON, `shape` for JSON of another shape. */
export function parseJsonAs<S extends z.ZodType>(schema: S, text: string): JsonParse<z.output<S>> {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return { ok: false, why: 'json' };
  }
  const parsed = schema.safeParse(raw);
  return parsed.success ? { ok: true, value: parsed.data } : { ok: false, why: 'shape' };
}
