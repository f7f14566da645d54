/**
 * The contract every secret backend fulfils, and the reader of a backend's own settings. Pure: a
 * backend is given to the TokenStore, which owns the metadata index; commands, views and the
 * provider only talk to the store.
 */
import type { BackendId, TokenMetadata } from '../../server/core/model';
import type { TokenKey } from '../../server/core/reference';
import type { Event } from '../platform/event';

export interface BackendHealth {
  readonly backend: BackendId;
  /** The backend can be used on this machine (library present, configured). */
  readonly available: boolean;
  /** At least one namespace (or the default) is stored in it. */
  readonly active: boolean;
  readonly healthy: boolean;
  /** What is wrong, in words a user understands; undefined when healthy. */
  readonly cause?: string;
  /** What the user can do about it. */
  readonly fix?: string;
  readonly detail?: string;
}

/** A token a backend knows of that the index may not (keyring registry entries, Vault LIST). */
export interface DiscoveredToken extends TokenKey {
  readonly type?: TokenMetadata['type'];
  readonly provider?: string;
  readonly createdAt?: string;
  readonly expiresAt?: string;
  readonly description?: string;
}

/** A backend error that is safe to show: it names the backend and the cause, never a value. */
export class BackendError extends Error {
  constructor(
    readonly backend: BackendId,
    message: string,
    readonly retryable = false,
  ) {
    super(message);
    this.name = 'BackendError';
  }
}

export interface SecretBackend {
  readonly id: BackendId;
  /** Every write keeps the value it replaces (Vault KV v2 versions), so an overwrite is restorable. */
  readonly versioned?: boolean;
  /** The current value, or undefined when there is none. */
  read(key: TokenKey): Promise<string | undefined>;
  /** Writes the current value. `meta` lets a backend store the token in a richer shape (mcp-cli's StoredToken). */
  write(key: TokenKey, value: string, meta: TokenMetadata): Promise<void>;
  /** Removes the current and the previous value. */
  remove(key: TokenKey): Promise<void>;
  /** The value before the last rotation, if the backend keeps it. */
  readPrevious(key: TokenKey): Promise<string | undefined>;
  /** Keeps `value` as the previous one (undefined clears it). Versioned backends may ignore it. */
  writePrevious(key: TokenKey, value: string | undefined, meta: TokenMetadata): Promise<void>;
  /** Tokens stored outside this extension (another tool, a teammate) that should appear in the index. */
  discover?(): Promise<DiscoveredToken[]>;
  health(): Promise<BackendHealth>;
  /** Fires when values change outside this window (another window, another tool). */
  readonly onDidChange?: Event<void>;
  /**
   * What another tool stored about an OAuth token it signed in (mcp-cli's keyring entries), so the
   * OAuth feature can refresh it here; undefined when the token is not such an entry.
   */
  oauthGrant?(key: TokenKey): Promise<ExternalOAuthGrant | undefined>;
}

/** The non-secret facts of an OAuth entry another tool stored, and its client (the secret only for the token endpoint). */
export interface ExternalOAuthGrant {
  readonly issuer?: string;
  readonly clientId?: string;
  readonly serverUrl?: string;
  readonly resource?: string;
  readonly scopes?: readonly string[];
  /** A confidential client's secret from the other tool's client registration. */
  readonly clientSecret?: string;
}

/**
 * The settings a backend owns, `mcpTokens.<section>.*`, as its descriptor reads them (Config.section):
 * each backend parses its own section, so the settings module names no backend.
 */
export interface SettingsSection {
  /** The trimmed string, or `fallback` when unset or not a string. */
  string(key: string, fallback?: string): string;
  /** The boolean, or `fallback` when unset or not a boolean. */
  boolean(key: string, fallback: boolean): boolean;
  /** The number clamped to [min, max], or `fallback` when unset or not a finite number. */
  number(key: string, min: number, max: number, fallback: number): number;
}

/** A SettingsSection over `get` (a key's raw value, undefined when unset): what Config.section gives. */
export function settingsSection(get: (key: string) => unknown): SettingsSection {
  return {
    string: (key, fallback = '') => {
      const v = get(key);
      return typeof v === 'string' ? v.trim() : fallback;
    },
    boolean: (key, fallback) => {
      const v = get(key);
      return typeof v === 'boolean' ? v : fallback;
    },
    number: (key, min, max, fallback) => {
      const v = get(key);
      return typeof v === 'number' && Number.isFinite(v) ? Math.min(max, Math.max(min, v)) : fallback;
    },
  };
}

/**
 * Where the metadata index is kept: a key-value store every window of the machine shares (VS Code's
 * SecretStorage). The store keeps one entry per token (see METADATA_LAYOUT in server/core/model.ts).
 */
export interface MetadataStorage {
  get(key: string): Promise<string | undefined>;
  store(key: string, value: string): Promise<void>;
  delete(key: string): Promise<void>;
  /** Every key of the storage (VS Code ≥ 1.105). */
  keys(): Promise<string[]>;
  /** Fires after a key changed, in this window or another (VS Code's SecretStorage.onDidChange). */
  readonly onDidChange?: Event<{ readonly key: string }>;
  /** Only one store ever uses it (the command-line client, tests): no leases are taken. */
  readonly exclusive?: boolean;
}
