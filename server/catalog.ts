/**
 * The token metadata the extension pushed (never values), indexed for the features: lookups by key
 * and namespace, namespace counts, "did you mean" suggestions.
 */
import { distance } from 'fastest-levenshtein';
import { keyId, type TokenKey } from './core/reference';
import type { TokenMetadata } from './core/model';
import type { MetadataParams } from './core/protocol';

export class TokenCatalog {
  private byId = new Map<string, TokenMetadata>();
  private byNamespace = new Map<string, TokenMetadata[]>();
  /** Per namespace, its names indexed for "did you mean" (`NameIndex`), in the order of `byNamespace`. */
  private namesOf = new Map<string, NameIndex>();
  /** Namespaces with their token counts, sorted by name. */
  private namespaceList: [string, number][] = [];
  /** False until the extension pushed metadata once: no "unknown token" diagnostics before that. */
  received = false;
  expiryWarningDays = 7;
  /** Bumped on every update; caches key on it. */
  version = 0;
  /** "Did you mean" answers, per unknown key or namespace, until the next update. */
  private readonly suggestionCache = new Map<string, TokenKey[]>();
  private readonly namespaceCache = new Map<string, string | undefined>();

  update(params: MetadataParams): void {
    this.byId = new Map();
    this.byNamespace = new Map();
    for (const t of params.tokens) {
      this.byId.set(keyId(t), t);
      let list = this.byNamespace.get(t.namespace);
      if (!list) this.byNamespace.set(t.namespace, (list = []));
      list.push(t);
    }
    this.namesOf = new Map();
    for (const [ns, list] of this.byNamespace) {
      list.sort((a, b) => compareCodeUnits(a.name, b.name));
      this.namesOf.set(ns, nameIndex(list.map((t) => t.name)));
    }
    this.namespaceList = [...this.byNamespace.entries()].map(([ns, list]): [string, number] => [ns, list.length]).sort((a, b) => compareCodeUnits(a[0], b[0]));
    this.expiryWarningDays = params.expiryWarningDays;
    this.suggestionCache.clear();
    this.namespaceCache.clear();
    this.received = true;
    this.version++;
  }

  get size(): number {
    return this.byId.size;
  }

  get(key: TokenKey): TokenMetadata | undefined {
    return this.byId.get(keyId(key));
  }

  has(key: TokenKey): boolean {
    return this.byId.has(keyId(key));
  }

  hasNamespace(namespace: string): boolean {
    return this.byNamespace.has(namespace);
  }

  /** Namespaces with their token counts, sorted by name. */
  namespaces(): [string, number][] {
    return this.namespaceList.map(([ns, n]): [string, number] => [ns, n]);
  }

  tokensIn(namespace: string): readonly TokenMetadata[] {
    return this.byNamespace.get(namespace) ?? [];
  }

  all(): IterableIterator<TokenMetadata> {
    return this.byId.values();
  }

  /** The closest namespace to `namespace`, when one is close enough. */
  suggestNamespace(namespace: string): string | undefined {
    if (!this.namespaceCache.has(namespace)) {
      if (this.namespaceCache.size > 10_000) this.namespaceCache.clear();
      this.namespaceCache.set(namespace, closest(namespace, this.byNamespace.keys()));
    }
    return this.namespaceCache.get(namespace);
  }

  /** Keys the user may have meant instead of `key`: a close name in the namespace, or the same name elsewhere. */
  suggestKeys(key: TokenKey): TokenKey[] {
    const id = keyId(key);
    let cached = this.suggestionCache.get(id);
    if (!cached) {
      if (this.suggestionCache.size > 10_000) this.suggestionCache.clear();
      this.suggestionCache.set(id, (cached = this.computeSuggestions(key)));
    }
    return cached;
  }

  private computeSuggestions(key: TokenKey): TokenKey[] {
    const out: TokenKey[] = [];
    const names = this.namesOf.get(key.namespace);
    const name = names && closest(key.name, names.names, names);
    if (name) out.push({ namespace: key.namespace, name });
    for (const [ns] of this.namespaceList) {
      if (ns !== key.namespace && this.byId.has(keyId({ namespace: ns, name: key.name }))) out.push({ namespace: ns, name: key.name });
      if (out.length >= 3) break;
    }
    return out;
  }
}

/**
 * Plain code-unit order. Not `localeCompare`: its first call loads ICU's collation data, about 2 MB
 * of resident memory in the server process, and the editor sorts completion items itself.
 */
function compareCodeUnits(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Candidate names kept for `closest`: their lower-case forms (same order) and, per lower-case form,
 * the first name that has it (distance 0).
 */
export interface NameIndex {
  readonly names: readonly string[];
  readonly lower: readonly string[];
  readonly exact: ReadonlyMap<string, string>;
}

export function nameIndex(names: readonly string[]): NameIndex {
  const lower = names.map((n) => n.toLowerCase());
  const exact = new Map<string, string>();
  lower.forEach((l, i) => exact.has(l) || exact.set(l, names[i]));
  return { names, lower, exact };
}

/**
 * The candidate with the smallest edit distance (case-insensitive; the first of equals), if within a
 * third of the word's length (at least 2). `index`: the candidates' `NameIndex`, when the caller keeps
 * one: then a distance-0 match is a lookup, and the first candidate at distance 1 ends the search,
 * since none after it can be closer (a "did you mean" over 1,000 names stops at the first near miss).
 */
export function closest(word: string, candidates: Iterable<string>, index?: NameIndex): string | undefined {
  const limit = Math.max(2, Math.floor(word.length / 3));
  let best: string | undefined;
  let bestDistance = limit + 1;
  const w = word.toLowerCase();
  const exact = index?.exact.get(w);
  if (exact !== undefined) return exact;
  let i = -1;
  for (const c of candidates) {
    i++;
    if (Math.abs(c.length - word.length) > limit) continue;
    const d = editDistance(w, index ? index.lower[i] : c.toLowerCase(), bestDistance);
    if (d < bestDistance) {
      best = c;
      bestDistance = d;
      if (d === 0 || (index && d === 1)) break;
    }
  }
  return best;
}

/**
 * Levenshtein distance (fastest-levenshtein: Myers' bit-parallel algorithm, one machine word per 32
 * characters), or `max` when the lengths alone put it at `max` or beyond.
 */
export function editDistance(a: string, b: string, max = Infinity): number {
  if (a === b) return 0;
  if (Math.abs(a.length - b.length) >= max) return max;
  return Math.min(distance(a, b), max);
}
