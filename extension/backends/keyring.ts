/**
 * The OS keyring backend (macOS Keychain, Windows Credential Manager, Linux Secret Service) through
 * `@napi-rs/keyring`, in mcp-cli's layout so both tools share one store (see mcpCliLayout.ts):
 * service `mcp-cli`, account `<namespace>:<name>`, the password a JSON StoredToken, and mcp-cli's
 * registry file kept in step. The value before the last rotation is kept under the service
 * `<service>/previous` (mcp-cli ignores it).
 *
 * The native module is loaded lazily, on first use: if it is missing or broken only this backend is
 * unavailable, and health() says why. No `vscode` import.
 */
import { errorText } from '../../server/core/errors';
import { isInternalNamespace, type TokenMetadata } from '../../server/core/model';
import { keyId, type TokenKey } from '../../server/core/reference';
import { BackendError, type BackendHealth, type DiscoveredToken, type ExternalOAuthGrant, type SecretBackend, type SettingsSection } from '../store/backend';
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import {
  describeStoredToken,
  mcpCliAccount,
  mcpCliClientRegistrationFile,
  mcpCliClientRegistrationSchema,
  MCP_CLI_SERVICE,
  mergeMcpCliOAuth,
  oauthFactsFromStoredToken,
  parseStoredToken,
  refreshTokenFromStoredToken,
  StoredTokenError,
  toStoredToken,
  valueFromStoredToken,
  type McpCliOAuthFacts,
} from './mcpCliLayout';
import { RegistryUnparsableError, defaultRegistryPath, type McpCliRegistry } from './mcpCliRegistry';
import { withRetry } from './retry';

/** The part of `@napi-rs/keyring`'s AsyncEntry this backend uses. */
export interface AsyncEntryLike {
  getPassword(signal?: AbortSignal | null): Promise<string | null>;
  setPassword(password: string, signal?: AbortSignal | null): Promise<void>;
  deletePassword(signal?: AbortSignal | null): Promise<boolean>;
}

export interface KeyringModule {
  AsyncEntry: new (service: string, account: string, options?: { linux?: { store?: 'secret-service' | 'keyutils' } } | null) => AsyncEntryLike;
}

export interface KeyringBackendOptions {
  /** Keyring service name (default `mcp-cli`, shared with mcp-cli). */
  readonly service?: string;
  /** mcp-cli's registry; undefined to leave it alone. */
  readonly registry?: McpCliRegistry;
  /**
   * mcp-cli's registry file, also when it is not kept in step: its client registrations lie beside it
   * (`oauthGrant`). Default: the registry's path.
   */
  readonly registryPath?: string;
  /** Loads the native module; throws when it is missing. Injected by tests. */
  readonly load?: () => KeyringModule;
  /** Time limit of one keyring call (default 15 s: an unlock prompt may be showing). */
  readonly timeoutMs?: number;
  /** Whether any namespace (or the default) is stored in the keyring. */
  readonly isActive?: () => boolean;
  readonly platform?: NodeJS.Platform;
  readonly log?: (level: 'info' | 'warn' | 'error', message: string) => void;
  readonly retryDelayMs?: number;
}

export type KeyringFaultKind = 'module' | 'noService' | 'locked' | 'noCollection' | 'timeout' | 'denied' | 'other';

export interface KeyringFault {
  readonly kind: KeyringFaultKind;
  readonly cause: string;
  readonly fix: string;
  readonly retryable: boolean;
}

function storeName(platform: NodeJS.Platform): string {
  if (platform === 'darwin') return 'the macOS Keychain';
  if (platform === 'win32') return 'the Windows Credential Manager';
  return 'the Secret Service (gnome-keyring or KWallet)';
}

/** Turns a keyring library error into a cause and a fix. Pure; the message never holds a value. */
export function classifyKeyringError(error: unknown, platform: NodeJS.Platform = process.platform): KeyringFault {
  const text = error instanceof Error ? `${error.message} ${error.cause instanceof Error ? error.cause.message : ''}` : String(error);
  const store = storeName(platform);
  if ((error as { name?: string })?.name === 'AbortError' || (error as { name?: string })?.name === 'TimeoutError' || /timed? ?out|aborted/i.test(text)) {
    return {
      kind: 'timeout',
      cause: `${store} did not answer in time (an unlock prompt may be waiting).`,
      fix: 'Unlock the keyring when asked, then try again.',
      retryable: false,
    };
  }
  if (/unlock prompt|dismissed|locked|is locked/i.test(text)) {
    return {
      kind: 'locked',
      cause: 'The keyring is locked and could not be unlocked (the unlock prompt was dismissed or cannot be shown).',
      fix: 'Unlock the login keyring (e.g. with Seahorse, or log in to a desktop session), then run "MCP Tokens: Check Backends".',
      retryable: false,
    };
  }
  if (/DBUS_SESSION_BUS_ADDRESS|autolaunch|ServiceUnknown|org\.freedesktop\.secrets|was not provided by any \.service|Platform failure: DBus|Couldn't connect|NoReply/i.test(text)) {
    return {
      kind: 'noService',
      cause: 'No Secret Service is running: there is no D-Bus session or no keyring daemon answers on it.',
      fix: 'Start a Secret Service (gnome-keyring-daemon --start --components=secrets, or KWallet) in your desktop session, or choose another backend in "mcpTokens.backend.default".',
      retryable: false,
    };
  }
  if (/no result found|no such collection|NoSuchObject|default collection/i.test(text)) {
    return {
      kind: 'noCollection',
      cause: 'The Secret Service has no default keyring (collection) to store secrets in.',
      fix: 'Create and unlock a default "login" keyring (e.g. with Seahorse), then try again.',
      retryable: false,
    };
  }
  if (/AccessDenied|access denied|not permitted|permission/i.test(text)) {
    return {
      kind: 'denied',
      cause: `${store} refused access.`,
      fix: 'Allow VS Code to use the keyring (on macOS, answer the Keychain prompt with "Always Allow").',
      retryable: false,
    };
  }
  return {
    kind: 'other',
    cause: `${store} failed: ${text.trim().slice(0, 300)}`,
    fix: 'Check that the OS keyring works (e.g. with `secret-tool` or Keychain Access), then run "MCP Tokens: Check Backends".',
    retryable: true,
  };
}

const HEALTH_ACCOUNT = '__mcp-tokens-health-check__';

/**
 * The OAuth feature keeps a refresh token beside its access token `oauth:<name>` as `oauth-refresh:<name>`
 * (extension/oauth/session.ts). In the keyring both live in one mcp-cli StoredToken, the way mcp-cli
 * keeps OAuth tokens (`data.access_token`, `data.refresh_token`): this is the access token's key of a
 * refresh companion key.
 */
const REFRESH_COMPANION_NAMESPACE = 'oauth-refresh';
const OAUTH_NAMESPACE = 'oauth';
function ownerOf(key: TokenKey): TokenKey | undefined {
  return key.namespace === REFRESH_COMPANION_NAMESPACE && !key.name.includes('.') ? { namespace: OAUTH_NAMESPACE, name: key.name } : undefined;
}

/** What the OAuth feature may learn of an mcp-cli OAuth entry to refresh it (the secret only for the token endpoint). */
export interface McpCliOAuthGrant extends McpCliOAuthFacts, ExternalOAuthGrant {
  /** A confidential client's secret from mcp-cli's client registration file. */
  readonly clientSecret?: string;
}

/** `mcpTokens.keyring.*` as the keyring descriptor reads it (backends/registry.ts). */
export interface KeyringSettings {
  /** The keyring service name (mcp-cli's `mcp-cli` by default). */
  readonly service: string;
  /** Keep mcp-cli's token registry file in step. */
  readonly syncRegistry: boolean;
  /** mcp-cli's registry file (empty setting: `~/.chuk_oauth/token_registry.json`). */
  readonly registryPath: string;
}

export function readKeyringSettings(section: SettingsSection, home?: string): KeyringSettings {
  return {
    service: section.string('service', MCP_CLI_SERVICE) || MCP_CLI_SERVICE,
    syncRegistry: section.boolean('mcpCliRegistry', true),
    registryPath: section.string('registryPath') || defaultRegistryPath(home),
  };
}

export class KeyringBackend implements SecretBackend {
  readonly id = 'keyring' as const;
  private module: KeyringModule | undefined;
  private loadError: string | undefined;
  private readonly platform: NodeJS.Platform;
  private options: KeyringBackendOptions;

  constructor(options: KeyringBackendOptions = {}) {
    this.options = options;
    this.platform = options.platform ?? process.platform;
  }

  get service(): string {
    return this.options.service ?? MCP_CLI_SERVICE;
  }

  /** Applies changed settings (service name, mcp-cli registry) without a restart. */
  configure(change: Pick<KeyringBackendOptions, 'service' | 'registry' | 'registryPath'>): void {
    this.options = { ...this.options, service: change.service, registry: change.registry, registryPath: change.registryPath };
  }

  get previousService(): string {
    return `${this.service}/previous`;
  }

  async read(key: TokenKey): Promise<string | undefined> {
    const text = await this.readRaw(key);
    if (text === undefined) {
      // A refresh token kept inside its access token's mcp-cli OAuth entry.
      const owner = ownerOf(key);
      const ownerText = owner ? await this.readRaw(owner) : undefined;
      return ownerText ? refreshTokenFromStoredToken(ownerText) : undefined;
    }
    return this.decode(key, text);
  }

  async write(key: TokenKey, value: string, meta: TokenMetadata): Promise<void> {
    const owner = ownerOf(key);
    if (owner) {
      // A refresh token goes into its access token's mcp-cli OAuth entry (where mcp-cli looks for it).
      const merged = mergeMcpCliOAuth(await this.readRaw(owner), owner, { refreshToken: value });
      if (merged) {
        await this.call('write', owner, (signal) => this.entry(this.service, owner).setPassword(merged, signal));
        await this.call('delete', key, (signal) => this.entry(this.service, key).deletePassword(signal));
        return;
      }
    }
    let json = JSON.stringify(toStoredToken(key, value, meta));
    if (meta.type === 'oauth') {
      // Keep what mcp-cli stored beside the access token (its refresh token, scope, …).
      json = mergeMcpCliOAuth(await this.readRaw(key), key, { accessToken: value, meta }) ?? json;
    }
    await this.call('write', key, (signal) => this.entry(this.service, key).setPassword(json, signal));
    // mcp-cli lists what its registry lists: internal entries (OAuth companions, the trash's kept
    // copies) are ours alone and never registered.
    if (isInternalNamespace(key.namespace)) return;
    await this.options.registry?.register(key, meta).then(() => (this.reportedUnparsable = undefined)).catch((e) => this.registryFailed('register', key, e));
  }

  async remove(key: TokenKey): Promise<void> {
    const owner = ownerOf(key);
    if (owner) {
      const merged = mergeMcpCliOAuth(await this.readRaw(owner), owner, { refreshToken: null });
      if (merged) await this.call('write', owner, (signal) => this.entry(this.service, owner).setPassword(merged, signal));
    }
    await this.call('delete', key, (signal) => this.entry(this.service, key).deletePassword(signal));
    await this.call('delete', key, (signal) => this.entry(this.previousService, key).deletePassword(signal));
    await this.options.registry?.unregister(key).then(() => (this.reportedUnparsable = undefined)).catch((e) => this.registryFailed('unregister', key, e));
  }

  async readPrevious(key: TokenKey): Promise<string | undefined> {
    const text = await this.retrying('read', key, (signal) => this.entry(this.previousService, key).getPassword(signal));
    if (text === null || text === undefined) return undefined;
    return this.decode(key, text);
  }

  async writePrevious(key: TokenKey, value: string | undefined, meta: TokenMetadata): Promise<void> {
    if (value === undefined) {
      await this.call('delete', key, (signal) => this.entry(this.previousService, key).deletePassword(signal));
      return;
    }
    const json = JSON.stringify(toStoredToken(key, value, meta));
    await this.call('write', key, (signal) => this.entry(this.previousService, key).setPassword(json, signal));
  }

  /** Tokens in mcp-cli's registry whose keyring entry exists (set with mcp-cli or another window). */
  async discover(): Promise<DiscoveredToken[]> {
    // Only when the keyring is in use: listing reads the keyring (which may ask to unlock it).
    if (!this.options.registry || (this.options.isActive && !this.options.isActive())) return [];
    const listed = await this.options.registry.list();
    const found: DiscoveredToken[] = [];
    for (const d of listed) {
      let text: string | null;
      try {
        text = await this.retrying('read', d, (signal) => this.entry(this.service, d).getPassword(signal));
      } catch (e) {
        // The keyring itself is unusable (no service, locked, no module): report it once.
        if (found.length === 0 && e instanceof BackendError && !e.retryable) throw e;
        this.options.log?.('warn', `Keyring: could not check ${keyId(d)} from mcp-cli's registry: ${errorText(e)}`);
        continue;
      }
      if (text === null) continue;
      try {
        const facts = describeStoredToken(text);
        found.push({ ...d, type: facts.type ?? d.type, provider: facts.provider ?? d.provider, expiresAt: facts.expiresAt ?? d.expiresAt });
      } catch {
        found.push(d);
      }
      // An mcp-cli OAuth entry with a refresh token: its companion, so the OAuth feature can refresh it.
      if (d.namespace === OAUTH_NAMESPACE && refreshTokenFromStoredToken(text)) {
        found.push({ namespace: REFRESH_COMPANION_NAMESPACE, name: d.name, type: 'generic', description: `OAuth refresh token of ${keyId(d)} (inside its mcp-cli entry)` });
      }
    }
    return found;
  }

  async health(): Promise<BackendHealth> {
    const active = this.options.isActive?.() ?? false;
    const base = { backend: this.id, active } as const;
    let mod: KeyringModule;
    try {
      mod = this.load();
    } catch (e) {
      return {
        ...base,
        available: false,
        healthy: false,
        cause: `The native keyring module (@napi-rs/keyring) could not be loaded: ${errorText(e)}`,
        fix: 'Reinstall the extension for this platform; until then, use SecretStorage or Vault.',
      };
    }
    try {
      // A real round trip: a locked keyring answers lookups of missing entries, but not writes.
      const entry = new mod.AsyncEntry(`${this.service}/health`, HEALTH_ACCOUNT, this.entryOptions());
      const signal = AbortSignal.timeout(this.options.timeoutMs ?? 15_000);
      const probe = `probe-${Date.now()}`;
      await entry.setPassword(probe, signal);
      const back = await entry.getPassword(signal);
      await entry.deletePassword(signal);
      if (back !== probe) throw new Error('the keyring did not return what was just stored');
      return {
        ...base,
        available: true,
        healthy: true,
        detail: `Values are stored in ${storeName(this.platform)} under the service "${this.service}"${this.options.registry ? `; mcp-cli's registry is ${this.options.registry.path}` : ''}.`,
      };
    } catch (e) {
      const fault = classifyKeyringError(e, this.platform);
      return { ...base, available: fault.kind !== 'noService', healthy: false, cause: fault.cause, fix: fault.fix };
    }
  }

  /**
   * The non-secret facts of the mcp-cli OAuth entry of `key` (issuer, client id, server URL, resource,
   * scopes) and its client from mcp-cli's client registration file, for refreshing it. Undefined when
   * the entry is not an mcp-cli OAuth entry.
   */
  async oauthGrant(key: TokenKey): Promise<McpCliOAuthGrant | undefined> {
    const text = await this.readRaw(key);
    const facts = text ? oauthFactsFromStoredToken(text) : undefined;
    if (!facts) return undefined;
    const registryPath = this.options.registryPath ?? this.options.registry?.path;
    if (facts.clientId || !registryPath) return facts;
    // mcp-cli's TokenManager keeps the dynamic registration beside its registry: ~/.chuk_oauth/tokens/<server>_client.json.
    const file = join(dirname(registryPath), 'tokens', mcpCliClientRegistrationFile(key.name));
    let raw: unknown;
    try {
      raw = JSON.parse(await readFile(file, 'utf8'));
    } catch {
      return facts;
    }
    const client = mcpCliClientRegistrationSchema.safeParse(raw);
    return client.success ? { ...facts, clientId: client.data.client_id, ...(client.data.client_secret ? { clientSecret: client.data.client_secret } : {}) } : facts;
  }

  // ---- internals -----------------------------------------------------------------------------

  private async readRaw(key: TokenKey): Promise<string | undefined> {
    const text = await this.retrying('read', key, (signal) => this.entry(this.service, key).getPassword(signal));
    return text === null || text === undefined ? undefined : text;
  }

  private decode(key: TokenKey, text: string): string {
    // Entries not written in mcp-cli's shape (a plain password) are read as they are.
    try {
      parseStoredToken(text);
    } catch {
      return text;
    }
    try {
      return valueFromStoredToken(text);
    } catch (e) {
      throw new BackendError(this.id, `OS keyring: the entry of ${keyId(key)} cannot be read: ${e instanceof StoredTokenError ? e.message : 'unexpected shape'}`);
    }
  }

  /** The unparsable registry file already reported (once per file until it parses again). */
  private reportedUnparsable: string | undefined;

  private registryFailed(op: string, key: TokenKey, e: unknown): void {
    if (e instanceof RegistryUnparsableError) {
      if (this.reportedUnparsable === this.options.registry?.path) return;
      this.reportedUnparsable = this.options.registry?.path;
    }
    this.options.log?.('warn', `Keyring: could not ${op} ${keyId(key)} in mcp-cli's registry (${this.options.registry?.path}): ${errorText(e)}. mcp-cli will not list it until the next change.`);
  }

  private load(): KeyringModule {
    if (this.module) return this.module;
    if (this.loadError) throw new Error(this.loadError);
    try {
      // Loaded on first use so that a missing native module only disables this backend.
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      this.module = this.options.load ? this.options.load() : (require('@napi-rs/keyring') as KeyringModule);
      return this.module;
    } catch (e) {
      this.loadError = e instanceof Error ? e.message.split('\n')[0] : String(e);
      throw new Error(this.loadError);
    }
  }

  private entryOptions() {
    // Pin Linux to the Secret Service: the kernel keyring fallback is neither persistent nor shared with mcp-cli.
    return this.platform === 'linux' ? { linux: { store: 'secret-service' as const } } : undefined;
  }

  private entry(service: string, key: TokenKey): AsyncEntryLike {
    let mod: KeyringModule;
    try {
      mod = this.load();
    } catch (e) {
      throw new BackendError(this.id, `OS keyring is unavailable: the native module could not be loaded (${errorText(e)}).`);
    }
    return new mod.AsyncEntry(service, mcpCliAccount(key), this.entryOptions());
  }

  private async call<T>(op: 'read' | 'write' | 'delete', key: TokenKey, work: (signal: AbortSignal) => Promise<T>): Promise<T> {
    try {
      return await work(AbortSignal.timeout(this.options.timeoutMs ?? 15_000));
    } catch (e) {
      if (e instanceof BackendError) throw e;
      const fault = classifyKeyringError(e, this.platform);
      throw new BackendError(this.id, `OS keyring could not ${op} ${keyId(key)}: ${fault.cause} ${fault.fix}`, fault.retryable);
    }
  }

  private retrying<T>(op: 'read', key: TokenKey, work: (signal: AbortSignal) => Promise<T>): Promise<T> {
    return withRetry(() => this.call(op, key, work), {
      attempts: 3,
      baseDelayMs: this.options.retryDelayMs ?? 150,
      retryable: (e) => e instanceof BackendError && e.retryable,
      onRetry: (n, e) => this.options.log?.('info', `Keyring: retrying a read of ${keyId(key)} (attempt ${n + 1}): ${errorText(e)}`),
    });
  }
}
