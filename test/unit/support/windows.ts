/**
 * Store windows over one shared SecretStorage stand-in, wired as extension/backends/index.ts wires a
 * window: the SecretStorage backend and the metadata index over the same SecretStorage.
 */
import { SecretStorageBackend, SecretStorageIndex } from '../../../extension/backends/secretStorage';
import { TokenStore, type TokenStoreOptions } from '../../../extension/store/tokenStore';
import type { SharedSecretStorage, WindowSecrets } from './sharedSecretStorage';

export interface StoreWindow {
  readonly store: TokenStore;
  readonly secrets: WindowSecrets;
  readonly logs: string[];
  close(): void;
}

export function openWindow(shared: SharedSecretStorage, options: Partial<TokenStoreOptions> = {}): StoreWindow {
  const secrets = shared.window();
  const backend = new SecretStorageBackend(secrets);
  const index = new SecretStorageIndex(secrets);
  const logs: string[] = [];
  const store = new TokenStore({
    backends: [backend],
    index,
    backendFor: () => 'secretStorage',
    log: (level, m) => logs.push(`${level}: ${m}`),
    // The stand-in's writes take at most a few ms; VS Code's default (50 ms) is safe for the real one.
    leaseSettleMs: 8,
    ...options,
  });
  return {
    store,
    secrets,
    logs,
    close() {
      store.dispose();
      index.dispose();
      backend.dispose();
      secrets.close();
    },
  };
}

const VALUE = 'mcpTokens/v1/value/';
const PREVIOUS = 'mcpTokens/v1/previous/';

/** Every value the shared storage holds (current, previous and kept copies), by key id. */
export function storedValues(shared: SharedSecretStorage): { current: Map<string, string>; previous: Map<string, string> } {
  const current = new Map<string, string>();
  const previous = new Map<string, string>();
  for (const [k, v] of shared.data) {
    if (k.startsWith(VALUE)) current.set(k.slice(VALUE.length), v);
    else if (k.startsWith(PREVIOUS)) previous.set(k.slice(PREVIOUS.length), v);
  }
  return { current, previous };
}

/**
 * The token keys the persisted metadata lists (read from the raw storage, without the store's
 * discovery): the per-token entries, and the old single index document.
 */
export function persistedTokenKeys(shared: SharedSecretStorage): Set<string> {
  const keys = new Set<string>();
  for (const [k, v] of shared.data) {
    if (k.startsWith('mcpTokens/v2/meta/')) keys.add(k.slice('mcpTokens/v2/meta/'.length));
    if (k === 'mcpTokens/v1/index') {
      try {
        for (const t of JSON.parse(v).tokens ?? []) keys.add(`${t.namespace}:${t.name}`);
      } catch {
        // a damaged document lists nothing
      }
    }
  }
  return keys;
}

/** The trash entry ids the persisted metadata lists, and the kept-copy names they account for. */
export function persistedTrashNames(shared: SharedSecretStorage): Set<string> {
  const names = new Set<string>();
  const add = (e: { items?: Array<{ name: string }> }) => e.items?.forEach((i) => names.add(i.name));
  for (const [k, v] of shared.data) {
    try {
      if (k.startsWith('mcpTokens/v2/trash/')) add(JSON.parse(v).entry ?? {});
      if (k === 'mcpTokens/v1/index') for (const e of JSON.parse(v).trash ?? []) add(e);
    } catch {
      // damaged entries account for nothing
    }
  }
  return names;
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The version ids the persisted metadata lists (tokens' histories, and those of Recently Deleted tokens). */
export function persistedHistoryIds(shared: SharedSecretStorage): Set<string> {
  const ids = new Set<string>();
  const add = (meta: { history?: Array<{ id: string }> } | undefined) => meta?.history?.forEach((v) => ids.add(v.id));
  for (const [k, v] of shared.data) {
    try {
      if (k.startsWith('mcpTokens/v2/meta/')) add(JSON.parse(v).token);
      if (k.startsWith('mcpTokens/v2/trash/')) for (const i of JSON.parse(v).entry?.items ?? []) add(i.meta);
    } catch {
      // damaged entries account for nothing
    }
  }
  return ids;
}
