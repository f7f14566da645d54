/**
 * HashiCorp Vault backend: KV v2 through `node-vault`.
 *
 * Layouts (setting `mcpTokens.vault.layout`):
 *  - `mcpTokens` (default): `<mount>/data/<prefix>/<namespace>/<name>` (prefix default `mcp-tokens`), fields
 *    `value` plus the non-secret `type`, `provider`, `description`, `expiresAt`, so teammates sharing the
 *    path see each other's tokens (with their type) after a refresh.
 *  - `mcpCli`: mcp-cli's layout `<mount>/data/mcp-cli/oauth/<namespace>:<name>`, field `value` holding
 *    mcp-cli's StoredToken JSON.
 *
 * Rotation writes a new KV version; "restore previous" reads version n-1 (the SecretBackend
 * `readPrevious` contract), so `writePrevious` only matters for a secret that does not exist yet
 * (migration into Vault writes the previous value first, then the current one).
 *
 * Credentials (Vault token, AppRole secret_id) come from SecretStorage through `credentials`, or
 * from VAULT_TOKEN; never from settings. A token with a TTL is renewed before it ends. No `vscode`.
 */
import { errorText } from '../../server/core/errors';
import createVaultClient from 'node-vault';
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { tokenTypeSchema, type TokenMetadata } from '../../server/core/model';
import { keyId, parseKeyId, type TokenKey } from '../../server/core/reference';
import { BackendError, type BackendHealth, type BackendVersions, type DiscoveredToken, type SecretBackend, type SettingsSection } from '../store/backend';
import { describeStoredToken, mcpCliAccount, MCP_CLI_VAULT_PREFIX, toStoredToken, valueFromStoredToken, StoredTokenError } from './mcpCliLayout';
import { withRetry } from './retry';

/** SecretStorage keys of the Vault credentials (never settings). */
export const VAULT_SECRET_PREFIX = 'mcpTokens/v1/vault/';
export const VAULT_TOKEN_SECRET = `${VAULT_SECRET_PREFIX}token`;
export const VAULT_SECRET_ID_SECRET = `${VAULT_SECRET_PREFIX}approleSecretId`;

export type VaultLayout = 'mcpTokens' | 'mcpCli';
export type VaultAuthMethod = 'token' | 'approle';

export interface VaultSettings {
  /** Vault address; empty means VAULT_ADDR, and neither means "not configured". */
  readonly address: string;
  /** Vault Enterprise namespace (X-Vault-Namespace); empty means VAULT_NAMESPACE or none. */
  readonly namespace: string;
  readonly mount: string;
  /** Path prefix under the mount; empty means the layout's default. */
  readonly pathPrefix: string;
  readonly layout: VaultLayout;
  readonly authMethod: VaultAuthMethod;
  readonly appRoleId: string;
  readonly appRoleMount: string;
  /** PEM file of the CA that signed Vault's certificate. */
  readonly caFile: string;
  /** Turns TLS verification off; only by explicit setting. */
  readonly tlsSkipVerify: boolean;
  /** Time limit of one request, ms. */
  readonly timeoutMs: number;
}

export const DEFAULT_VAULT_SETTINGS: VaultSettings = {
  address: '',
  namespace: '',
  mount: 'secret',
  pathPrefix: '',
  layout: 'mcpTokens',
  authMethod: 'token',
  appRoleId: '',
  appRoleMount: 'approle',
  caFile: '',
  tlsSkipVerify: false,
  timeoutMs: 10_000,
};

/** `mcpTokens.vault.*` as the Vault descriptor reads it (backends/registry.ts); credentials are never settings. */
export function readVaultSettings(section: SettingsSection): VaultSettings {
  const d = DEFAULT_VAULT_SETTINGS;
  return {
    address: section.string('address'),
    namespace: section.string('namespace'),
    mount: section.string('mount', d.mount).replace(/^\/+|\/+$/g, '') || d.mount,
    pathPrefix: section.string('pathPrefix'),
    layout: section.string('layout') === 'mcpCli' ? 'mcpCli' : 'mcpTokens',
    authMethod: section.string('authMethod') === 'approle' ? 'approle' : 'token',
    appRoleId: section.string('appRoleId'),
    appRoleMount: section.string('appRoleMount', d.appRoleMount) || d.appRoleMount,
    caFile: section.string('caFile'),
    tlsSkipVerify: section.boolean('tlsSkipVerify', false),
    timeoutMs: section.number('timeoutMs', 500, 120_000, d.timeoutMs),
  };
}

export interface VaultCredentials {
  /** The Vault token kept in SecretStorage (undefined: fall back to VAULT_TOKEN). */
  getToken(): Promise<string | undefined>;
  /** The AppRole secret_id kept in SecretStorage. */
  getSecretId(): Promise<string | undefined>;
}

export interface VaultBackendOptions {
  readonly settings: () => VaultSettings;
  readonly credentials: VaultCredentials;
  readonly env?: NodeJS.ProcessEnv;
  readonly isActive?: () => boolean;
  readonly log?: (level: 'info' | 'warn' | 'error', message: string) => void;
  readonly retryDelayMs?: number;
  /** Fraction of the token TTL after which it is renewed (default 0.66). */
  readonly renewFraction?: number;
  /**
   * Whether the user confirmed sending credentials and values to this target (see `target()`).
   * When given, nothing at all is sent to an unconfirmed target: another extension can change the
   * settings, so a changed address must be confirmed before the Vault token or a value goes there.
   */
  readonly isConfirmed?: (target: string) => boolean;
  /**
   * KV versions each secret keeps (its `max_versions` metadata), when given: the History's earlier
   * values and the current one. Without it, the mount's setting (Vault's default: 10) applies.
   */
  readonly keepVersions?: () => number;
}

/** Where requests go and how they are protected: what the user confirms. */
export interface VaultTarget {
  readonly address: string;
  readonly namespace?: string;
  readonly caFile: string;
  readonly tlsSkipVerify: boolean;
}

/** globalState key: the targets (`vaultTargetOf(...).id`) the user confirmed on this machine. */
export const VAULT_CONFIRMED_KEY = 'mcpTokens.vault.confirmedTargets';

/** The confirmed Vault targets, kept in a Memento-like state (the extension's globalState). */
export function confirmedVaultTargets(state: { get<T>(key: string): T | undefined }): string[] {
  return state.get<string[]>(VAULT_CONFIRMED_KEY) ?? [];
}

/** The target the settings (and VAULT_ADDR / VAULT_NAMESPACE) name, with a canonical id; undefined when no address is set. */
export function vaultTargetOf(s: VaultSettings, env: NodeJS.ProcessEnv): { id: string; target: VaultTarget } | undefined {
  const address = (s.address || env.VAULT_ADDR || '').replace(/\/+$/, '');
  if (!address) return undefined;
  const target: VaultTarget = { address, namespace: s.namespace || env.VAULT_NAMESPACE || undefined, caFile: s.caFile, tlsSkipVerify: s.tlsSkipVerify };
  return { id: JSON.stringify([target.address, target.namespace ?? '', target.caFile, target.tlsSkipVerify]), target };
}

export interface VaultFault {
  readonly kind: 'unreachable' | 'timeout' | 'sealed' | 'denied' | 'missing' | 'mountMissing' | 'server' | 'tls' | 'badRequest' | 'other';
  readonly cause: string;
  readonly fix: string;
  readonly retryable: boolean;
}

interface ApiErrorLike {
  response?: { statusCode?: number; body?: unknown };
  code?: string;
  message?: string;
}

/** Turns a node-vault/axios error into a cause and a fix. Pure; never includes a request body. */
export function classifyVaultError(error: unknown, where: string): VaultFault {
  const e = (error ?? {}) as ApiErrorLike;
  const status = e.response?.statusCode;
  const body = e.response?.body as { errors?: unknown } | undefined;
  const first = Array.isArray(body?.errors) && typeof body.errors[0] === 'string' ? (body.errors[0] as string).slice(0, 200) : '';
  if (status === 403) {
    return {
      kind: 'denied',
      cause: `Vault answered 403 permission denied for ${where}: the token is invalid or expired, or its policy does not allow this.`,
      fix: 'Set a valid token ("MCP Tokens: Set Vault Token…" or "Vault Login…"), or ask for a policy granting create/read/update/delete/list on the path.',
      retryable: false,
    };
  }
  if (status === 503) {
    return { kind: 'sealed', cause: `Vault is sealed or unavailable (503${first ? `: ${first}` : ''}).`, fix: 'Ask a Vault operator to unseal Vault, then try again.', retryable: false };
  }
  if (status === 404) {
    if (/no handler for route/i.test(first)) {
      return { kind: 'mountMissing', cause: `The KV v2 mount for ${where} does not exist (${first}).`, fix: 'Set "mcpTokens.vault.mount" to an existing KV v2 mount.', retryable: false };
    }
    return { kind: 'missing', cause: `Nothing is stored at ${where} (404).`, fix: 'Check "mcpTokens.vault.mount" and "mcpTokens.vault.pathPrefix".', retryable: false };
  }
  if (status !== undefined && status >= 500) {
    return { kind: 'server', cause: `Vault failed with ${status}${first ? ` (${first})` : ''} for ${where}.`, fix: 'Try again; if it persists, check Vault\'s server logs.', retryable: true };
  }
  if (status === 400) {
    return { kind: 'badRequest', cause: `Vault rejected the request for ${where} (400${first ? `: ${first}` : ''}).`, fix: 'Check the Vault settings and credentials.', retryable: false };
  }
  if (status !== undefined) {
    return { kind: 'other', cause: `Vault answered ${status}${first ? ` (${first})` : ''} for ${where}.`, fix: 'Check the Vault settings.', retryable: false };
  }
  const code = e.code ?? '';
  const msg = (e.message ?? String(error)).slice(0, 200);
  if (code === 'ECONNABORTED' || code === 'ETIMEDOUT' || /timeout/i.test(msg)) {
    return { kind: 'timeout', cause: `Vault did not answer in time for ${where} (${msg}).`, fix: 'Check the network, or raise "mcpTokens.vault.timeoutMs".', retryable: true };
  }
  if (/CERT|SSL|TLS|self[- ]signed|UNABLE_TO_(GET|VERIFY)/i.test(`${code} ${msg}`)) {
    return { kind: 'tls', cause: `Vault's TLS certificate could not be verified (${code || msg}).`, fix: 'Set "mcpTokens.vault.caFile" to the CA certificate that signed Vault\'s certificate.', retryable: false };
  }
  if (['ECONNREFUSED', 'ENOTFOUND', 'ECONNRESET', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN', 'EPIPE'].includes(code) || /socket hang up|network/i.test(msg)) {
    return { kind: 'unreachable', cause: `Vault is unreachable (${code || msg}).`, fix: 'Check "mcpTokens.vault.address" (or VAULT_ADDR) and that Vault is running and reachable.', retryable: true };
  }
  return { kind: 'other', cause: `Vault request for ${where} failed: ${msg}`, fix: 'Check the Vault settings.', retryable: false };
}

const kvReadSchema = z.object({
  data: z.object({
    data: z.record(z.string(), z.unknown()).nullable(),
    metadata: z.object({ version: z.number() }).loose().optional(),
  }),
});
const kvMetadataSchema = z.object({
  data: z.object({
    current_version: z.number(),
    oldest_version: z.number().optional(),
    max_versions: z.number().optional(),
    versions: z.record(z.string(), z.object({ created_time: z.string().optional(), deletion_time: z.string().optional(), destroyed: z.boolean().optional() }).loose()).optional(),
  }),
});
/** KV v2 `POST <mount>/data/<path>`: Vault answers 200 with the new version's metadata. */
const kvWriteSchema = z.object({
  data: z.object({ version: z.number().int().positive() }).loose(),
});
/** KV v2 `DELETE <mount>/metadata/<path>`: 204 without a body (or, from some versions, Vault's envelope). */
const kvDeleteSchema = z.object({ request_id: z.string() }).loose();
const listSchema = z.object({ data: z.object({ keys: z.array(z.string()) }) });
const lookupSchema = z.object({ data: z.object({ ttl: z.number(), renewable: z.boolean().optional(), expire_time: z.string().nullable().optional() }).loose() });
const loginSchema = z.object({ auth: z.object({ client_token: z.string(), lease_duration: z.number(), renewable: z.boolean().optional() }).loose() });
const healthSchema = z.object({ sealed: z.boolean().optional(), initialized: z.boolean().optional(), standby: z.boolean().optional() }).loose();

/** The non-secret fields kept beside `value` in the `mcpTokens` layout. */
const fieldsSchema = z.object({
  value: z.string(),
  type: tokenTypeSchema.optional().catch(undefined),
  provider: z.string().max(64).optional().catch(undefined),
  description: z.string().max(1024).optional().catch(undefined),
  expiresAt: z.iso.datetime({ offset: true }).optional().catch(undefined),
});

interface Resolved {
  readonly settings: VaultSettings;
  readonly address: string;
  readonly namespace: string | undefined;
  readonly prefix: string;
}

type Client = ReturnType<typeof createVaultClient>;

export class VaultBackend implements SecretBackend {
  readonly id = 'vault' as const;
  readonly versioned = true;
  private client: Client | undefined;
  private clientKey = '';
  private authenticated: Promise<void> | undefined;
  private tokenSource: 'secretStorage' | 'env' | 'approle' | undefined;
  private tokenTtl: number | undefined;
  private lastRenewal: { at: Date; ok: boolean; message?: string } | undefined;
  /** Secret paths whose `max_versions` this session set, with the value set. */
  private readonly keptVersions = new Map<string, number>();
  private readonly mountLimits = new Map<string, Promise<number>>();
  private keepVersionsWarned = false;

  constructor(private readonly options: VaultBackendOptions) {}

  /** Forgets the client and the login (after a settings or credential change). */
  reset(): void {
    this.client?.stopTokenRenewal();
    this.client = undefined;
    this.clientKey = '';
    this.authenticated = undefined;
    this.tokenSource = undefined;
    this.tokenTtl = undefined;
    this.keptVersions.clear();
    this.mountLimits.clear();
  }

  dispose(): void {
    this.reset();
  }

  /** The KV v2 secret path (below `<mount>/data/`) of a token. */
  secretPath(key: TokenKey): string {
    const r = this.resolve();
    return r.settings.layout === 'mcpCli' ? `${r.prefix}/${mcpCliAccount(key)}` : `${r.prefix}/${key.namespace}/${key.name}`;
  }

  async read(key: TokenKey): Promise<string | undefined> {
    const r = this.resolve();
    const fields = await this.readFields(r, key, undefined);
    return fields === undefined ? undefined : this.valueOf(r, key, fields);
  }

  async write(key: TokenKey, value: string, meta: TokenMetadata): Promise<void> {
    const r = this.resolve();
    const path = this.secretPath(key);
    const data = r.settings.layout === 'mcpCli' ? { value: JSON.stringify(toStoredToken(key, value, meta)) } : fieldsFor(value, meta);
    const where = `${r.settings.mount}/data/${path}`;
    // Before the write when the secret exists: the write itself must not destroy a version the History lists.
    const keepAfter = await this.keepHistory(r, key, path, 'before');
    const answer = await this.request(r, 'write', where, (c) => c.write(where, { data }), false);
    // A 200 that is not Vault's answer (a proxy's page, `{}`) must not count as stored.
    const parsed = kvWriteSchema.safeParse(answer);
    if (!parsed.success) throw unexpectedAnswer('write', where, answer, 'a KV v2 answer with data.version (a positive integer)');
    if (keepAfter) await this.keepHistory(r, key, path, 'after');
  }

  /**
   * Raises the secret's `max_versions` to what the History may list (`keepVersions`), once per secret
   * and session, and never lowers it: otherwise Vault's default of 10 (or the mount's setting)
   * destroys versions the History still lists. A key's own `max_versions` overrides the mount's
   * (Vault's KV v2 `config` documentation). What is in force is read first: the key's setting, else
   * the mount's (`<mount>/config`, when the policy lets it be read; else Vault's default, 10). At
   * `before`, a secret that does not exist yet is left for `after` (returns true). A policy without
   * `update` on `<mount>/metadata/…` leaves the limit as it is, with one warning: the value is stored
   * either way.
   */
  private async keepHistory(r: Resolved, key: TokenKey, path: string, when: 'before' | 'after'): Promise<boolean> {
    const keep = this.options.keepVersions?.();
    if (keep === undefined || this.keptVersions.get(path) === keep) return false;
    const where = `${r.settings.mount}/metadata/${path}`;
    try {
      // `after` follows a `before` that found no secret: the write just created it, with no limit of its own.
      const meta = when === 'before' ? await this.readMetadata(r, key) : undefined;
      if (!meta && when === 'before') return true;
      const own = meta?.max_versions ?? 0;
      const inForce = own > 0 ? own : await this.mountMaxVersions(r);
      if (inForce < keep) await this.request(r, 'write', where, (c) => c.write(where, { max_versions: keep }), false);
      this.keptVersions.set(path, keep);
    } catch (e) {
      if (!this.keepVersionsWarned) {
        this.keepVersionsWarned = true;
        this.options.log?.('warn', `Could not set max_versions ${keep} on ${where} (${errorText(e)}): Vault keeps the mount's number of versions, so the History may list fewer earlier values.`);
      }
    }
    return false;
  }

  /** The mount's `max_versions` (0 in Vault = 10); 10 when the policy does not let `<mount>/config` be read. */
  private mountMaxVersions(r: Resolved): Promise<number> {
    const where = `${r.settings.mount}/config`;
    // Once per mount and session (a bulk import writes many secrets).
    let known = this.mountLimits.get(where);
    if (!known) {
      known = this.request(r, 'read', where, (c) => c.read(where), false)
        .catch(() => undefined)
        .then((answer) => {
          const parsed = z.object({ data: z.object({ max_versions: z.number().int().nonnegative() }).loose() }).safeParse(answer);
          return parsed.success && parsed.data.data.max_versions > 0 ? parsed.data.data.max_versions : 10;
        });
      this.mountLimits.set(where, known);
    }
    return known;
  }

  async remove(key: TokenKey): Promise<void> {
    const r = this.resolve();
    const where = `${r.settings.mount}/metadata/${this.secretPath(key)}`;
    let answer: unknown;
    try {
      answer = await this.request(r, 'delete', where, (c) => c.delete(where), false);
    } catch (e) {
      if (e instanceof VaultBackendError && e.fault.kind === 'missing') return;
      throw e;
    }
    const a = answer instanceof NotJsonAnswer ? answer : undefined;
    if (a?.empty && a.status === 204) return;
    if (!a && kvDeleteSchema.safeParse(answer).success) return;
    throw unexpectedAnswer('delete', where, answer, "Vault's 204 without a body");
  }

  /**
   * The version history is the secret's own KV v2 versions: the store records the version a replaced
   * value has, reads it with `?version=`, and destroys the versions it prunes. Each write sets the
   * secret's `max_versions` to the History's limit plus the current value (`keepHistory`); where that
   * is refused, Vault keeps the mount's number (default 10, so 9 earlier values) and what it dropped is gone.
   */
  readonly versions: BackendVersions = {
    current: async (key) => (await this.alive(key)).at(-1)?.version,
    read: async (key, version) => {
      if (!(await this.alive(key)).some((v) => v.version === version)) return undefined;
      const r = this.resolve();
      const fields = await this.readFields(r, key, version);
      return fields === undefined ? undefined : this.valueOf(r, key, fields);
    },
    list: (key) => this.alive(key),
    destroy: async (key, versions) => {
      if (!versions.length) return;
      const r = this.resolve();
      const where = `${r.settings.mount}/destroy/${this.secretPath(key)}`;
      await this.request(r, 'write', where, (c) => c.write(where, { versions: [...versions] }), false);
    },
  };

  /** The versions of a secret that still hold a value, oldest first. */
  private async alive(key: TokenKey): Promise<Array<{ version: number; createdAt?: string }>> {
    const meta = await this.readMetadata(this.resolve(), key);
    if (!meta) return [];
    return Object.entries(meta.versions ?? {})
      .map(([n, v]) => ({ version: Number(n), v }))
      .filter(({ version, v }) => Number.isInteger(version) && version >= (meta.oldest_version ?? 0) && !v.destroyed && !v.deletion_time)
      .sort((a, b) => a.version - b.version)
      .map(({ version, v }) => ({ version, ...(v.created_time ? { createdAt: v.created_time } : {}) }));
  }

  async readPrevious(key: TokenKey): Promise<string | undefined> {
    const r = this.resolve();
    const meta = await this.readMetadata(r, key);
    if (!meta || meta.current_version < 2) return undefined;
    const previous = meta.current_version - 1;
    const v = meta.versions?.[String(previous)];
    if ((meta.oldest_version !== undefined && previous < meta.oldest_version) || (v && (v.destroyed || v.deletion_time))) return undefined;
    const fields = await this.readFields(r, key, previous);
    return fields === undefined ? undefined : this.valueOf(r, key, fields);
  }

  async writePrevious(key: TokenKey, value: string | undefined, meta: TokenMetadata): Promise<void> {
    // KV v2 keeps every version: the previous value is version n-1. Only a secret that does not exist
    // yet (a token moved into Vault) gets the previous value written first, as its version 1.
    if (value === undefined) return;
    const r = this.resolve();
    if ((await this.readMetadata(r, key)) === undefined) await this.write(key, value, meta);
  }

  async discover(): Promise<DiscoveredToken[]> {
    let r: Resolved;
    try {
      r = this.resolve();
    } catch (e) {
      // Not configured: nothing to list, unless Vault is meant to be used (then say why).
      if (this.options.isActive?.()) throw e;
      return [];
    }
    const keys: TokenKey[] = [];
    if (r.settings.layout === 'mcpCli') {
      for (const k of await this.list(r, r.prefix)) {
        const key = k.endsWith('/') ? undefined : parseKeyId(k);
        if (key) keys.push(key);
      }
    } else {
      for (const ns of await this.list(r, r.prefix)) {
        if (!ns.endsWith('/')) continue;
        for (const name of await this.list(r, `${r.prefix}/${ns.slice(0, -1)}`)) {
          const key = name.endsWith('/') ? undefined : parseKeyId(`${ns.slice(0, -1)}:${name}`);
          if (key) keys.push(key);
        }
      }
    }
    const found: DiscoveredToken[] = [];
    for (const key of keys.slice(0, 1000)) {
      let fields: Record<string, unknown> | undefined;
      try {
        fields = await this.readFields(r, key, undefined);
      } catch (e) {
        this.options.log?.('warn', `Vault: could not read ${keyId(key)} while listing: ${errorText(e)}`);
        continue;
      }
      if (fields === undefined) continue;
      found.push({ ...key, ...this.describe(r, fields) });
    }
    return found;
  }

  private unconfirmed(r: Resolved): string | undefined {
    const t = vaultTargetOf(r.settings, this.options.env ?? process.env);
    if (!this.options.isConfirmed || !t || this.options.isConfirmed(t.id)) return undefined;
    return `Vault at ${r.address}${r.settings.tlsSkipVerify ? ' (TLS verification off)' : ''} is not confirmed in this VS Code: nothing is sent to it until you confirm it.`;
  }

  async health(): Promise<BackendHealth> {
    const active = this.options.isActive?.() ?? false;
    const base = { backend: this.id, active } as const;
    let r: Resolved;
    try {
      r = this.resolve();
    } catch (e) {
      return { ...base, available: false, healthy: false, cause: errorText(e), fix: 'Set "mcpTokens.vault.address" (or VAULT_ADDR) to use Vault.' };
    }
    const where = `${r.address}${r.namespace ? ` (namespace ${r.namespace})` : ''}, ${r.settings.mount}/${r.prefix}`;
    const unconfirmed = this.unconfirmed(r);
    if (unconfirmed) {
      const env = this.options.env ?? process.env;
      const credentials = r.settings.authMethod === 'approle' ? await this.options.credentials.getSecretId() : (await this.options.credentials.getToken()) || env.VAULT_TOKEN;
      return {
        ...base,
        available: true,
        healthy: false,
        cause: `${credentials ? '' : 'No Vault token is set yet. '}${unconfirmed}`,
        fix: 'Run "MCP Tokens: Set Vault Token…" or "Vault Login (AppRole)…" (both name the address and confirm it), or "MCP Tokens: Use HashiCorp Vault at This Address…".',
        detail: where,
      };
    }
    try {
      const client = this.getClient(r);
      const h = healthSchema.safeParse(await client.health({ requestOptions: { timeout: r.settings.timeoutMs } }));
      if (h.success && h.data.sealed) {
        return { ...base, available: true, healthy: false, cause: `Vault at ${r.address} is sealed.`, fix: 'Ask a Vault operator to unseal Vault.', detail: where };
      }
      await this.ensureAuthenticated(r);
      await this.list(r, r.prefix);
      const ttl = this.tokenTtl ? `; token TTL ${this.tokenTtl} s, renewed before it ends` : '';
      const renewal = this.lastRenewal && !this.lastRenewal.ok ? `; last renewal failed: ${this.lastRenewal.message}` : '';
      return { ...base, available: true, healthy: true, detail: `${where} (layout ${r.settings.layout}, token from ${this.tokenSource ?? 'unknown'}${ttl}${renewal})` };
    } catch (e) {
      const fault = e instanceof VaultBackendError ? e.fault : classifyVaultError(e, where);
      return { ...base, available: true, healthy: false, cause: fault.cause, fix: fault.fix, detail: where };
    }
  }

  // ---- internals -----------------------------------------------------------------------------

  private resolve(): Resolved {
    const s = this.options.settings();
    const env = this.options.env ?? process.env;
    const address = (s.address || env.VAULT_ADDR || '').replace(/\/+$/, '');
    if (!address) throw new BackendError(this.id, 'Vault is not configured: no address is set in "mcpTokens.vault.address" or VAULT_ADDR.');
    const namespace = s.namespace || env.VAULT_NAMESPACE || undefined;
    const prefix = (s.pathPrefix || (s.layout === 'mcpCli' ? MCP_CLI_VAULT_PREFIX : 'mcp-tokens')).replace(/^\/+|\/+$/g, '');
    return { settings: s, address, namespace, prefix };
  }

  private getClient(r: Resolved): Client {
    const unconfirmed = this.unconfirmed(r);
    if (unconfirmed) throw new VaultBackendError({ kind: 'denied', cause: unconfirmed, fix: 'Run "MCP Tokens: Use HashiCorp Vault at This Address…".', retryable: false });
    const key = JSON.stringify([r.address, r.namespace, r.settings.caFile, r.settings.tlsSkipVerify, r.settings.timeoutMs]);
    if (this.client && this.clientKey === key) return this.client;
    this.reset();
    let ca: Buffer | undefined;
    if (r.settings.caFile) {
      try {
        ca = readFileSync(r.settings.caFile);
      } catch (e) {
        throw new BackendError(this.id, `Vault: the CA file "${r.settings.caFile}" cannot be read (${(e as NodeJS.ErrnoException).code ?? 'error'}).`);
      }
    }
    const client = createVaultClient({
      apiVersion: 'v1',
      endpoint: r.address,
      namespace: r.namespace,
      // No debug output: node-vault's debug logging would print request bodies (values).
      debug: () => undefined,
      requestOptions: { timeout: r.settings.timeoutMs, strictSSL: !r.settings.tlsSkipVerify, ...(ca ? { ca } : {}) },
    });
    // node-vault falls back to VAULT_TOKEN by itself; the token is set explicitly after authentication.
    client.token = '';
    // node-vault resolves every 200/204 with the body as axios decoded it: a proxy's HTML page comes
    // back as a string, an empty answer as ''. Keep the status with the answer so that each caller
    // can validate it and name it (never the body) in its error.
    const handle = client.handleVaultResponse.bind(client);
    client.handleVaultResponse = (res) => handle(res).then((body: unknown) => withStatus(res?.statusCode, body));
    client.on('token:renewed', (res: unknown) => {
      const auth = loginSchema.safeParse(res);
      this.tokenTtl = auth.success ? auth.data.auth.lease_duration : this.tokenTtl;
      this.lastRenewal = { at: new Date(), ok: true };
      this.options.log?.('info', `Vault: token renewed (TTL ${this.tokenTtl ?? '?'} s).`);
    });
    client.on('token:error:renew', (err: unknown) => {
      const fault = classifyVaultError(err, 'auth/token/renew-self');
      this.lastRenewal = { at: new Date(), ok: false, message: fault.cause };
      this.options.log?.('warn', `Vault: token renewal failed: ${fault.cause}`);
      // AppRole logs in again on next use; a plain token stays until it is rejected.
      if (this.tokenSource === 'approle') this.authenticated = undefined;
    });
    client.on('token:expired', () => {
      this.options.log?.('warn', 'Vault: the token can no longer be renewed.');
      if (this.tokenSource === 'approle') this.authenticated = undefined;
    });
    this.client = client;
    this.clientKey = key;
    return client;
  }

  private ensureAuthenticated(r: Resolved): Promise<void> {
    this.authenticated ??= this.authenticate(r).catch((e) => {
      this.authenticated = undefined;
      throw e;
    });
    return this.authenticated;
  }

  private async authenticate(r: Resolved): Promise<void> {
    const client = this.getClient(r);
    const env = this.options.env ?? process.env;
    if (r.settings.authMethod === 'approle') {
      const roleId = r.settings.appRoleId || env.VAULT_ROLE_ID || '';
      const secretId = await this.options.credentials.getSecretId();
      if (!roleId || !secretId) {
        throw new VaultBackendError({
          kind: 'denied',
          cause: 'Vault AppRole login needs a role_id ("mcpTokens.vault.appRoleId") and a secret_id (kept in SecretStorage).',
          fix: 'Set "mcpTokens.vault.appRoleId" and run "MCP Tokens: Vault Login…" to enter the secret_id.',
          retryable: false,
        });
      }
      let res: unknown;
      try {
        res = await withRetry(() => client.approleLogin({ role_id: roleId, secret_id: secretId, mount_point: r.settings.appRoleMount || 'approle' }), this.retryOptions(r, 'AppRole login'));
      } catch (e) {
        throw new VaultBackendError(classifyVaultError(e, `auth/${r.settings.appRoleMount || 'approle'}/login`));
      }
      const login = loginSchema.safeParse(res);
      if (!login.success) throw new BackendError(this.id, 'Vault AppRole login returned an unexpected answer.');
      client.token = login.data.auth.client_token;
      this.tokenSource = 'approle';
      this.scheduleRenewal(client, login.data.auth.lease_duration, login.data.auth.renewable !== false);
      return;
    }
    const stored = await this.options.credentials.getToken();
    const token = stored || env.VAULT_TOKEN;
    if (!token) {
      throw new VaultBackendError({
        kind: 'denied',
        cause: 'No Vault token is set (neither in SecretStorage nor in VAULT_TOKEN).',
        fix: 'Run "MCP Tokens: Set Vault Token…" (the token is kept in SecretStorage, never in settings).',
        retryable: false,
      });
    }
    client.token = token;
    this.tokenSource = stored ? 'secretStorage' : 'env';
    let res: unknown;
    try {
      res = await withRetry(() => client.tokenLookupSelf(), this.retryOptions(r, 'token lookup'));
    } catch (e) {
      throw new VaultBackendError(classifyVaultError(e, 'auth/token/lookup-self'));
    }
    const look = lookupSchema.safeParse(res);
    if (look.success) this.scheduleRenewal(client, look.data.data.ttl, look.data.data.renewable === true);
  }

  private scheduleRenewal(client: Client, ttl: number, renewable: boolean): void {
    this.tokenTtl = ttl > 0 ? ttl : undefined;
    client.stopTokenRenewal();
    if (ttl > 0 && renewable) {
      void client.startTokenRenewal({ ttl, renewFraction: this.options.renewFraction ?? 0.66 });
    }
  }

  private retryOptions(r: Resolved, what: string) {
    return {
      attempts: 3,
      baseDelayMs: this.options.retryDelayMs ?? 250,
      retryable: (e: unknown) => classifyVaultError(e, what).retryable,
      onRetry: (n: number, e: unknown) => this.options.log?.('info', `Vault: retrying ${what} (attempt ${n + 1}): ${classifyVaultError(e, what).cause}`),
    };
  }

  /** Runs one authenticated request; reads are retried with backoff. Errors name Vault and the cause. */
  private async request<T>(r: Resolved, op: 'read' | 'write' | 'delete' | 'list', where: string, work: (c: Client) => Promise<T>, retry: boolean): Promise<T> {
    await this.ensureAuthenticated(r);
    const client = this.getClient(r);
    const once = async () => {
      try {
        return await work(client);
      } catch (e) {
        // An AppRole token may have expired: log in again once.
        const fault = classifyVaultError(e, where);
        if (fault.kind === 'denied' && this.tokenSource === 'approle') {
          this.authenticated = undefined;
          await this.ensureAuthenticated(r);
          return await work(this.getClient(r));
        }
        throw e;
      }
    };
    try {
      return retry ? await withRetry(once, this.retryOptions(r, `${op} ${where}`)) : await once();
    } catch (e) {
      if (e instanceof BackendError) throw e;
      throw new VaultBackendError(classifyVaultError(e, where), op);
    }
  }

  private async readFields(r: Resolved, key: TokenKey, version: number | undefined): Promise<Record<string, unknown> | undefined> {
    const where = `${r.settings.mount}/data/${this.secretPath(key)}`;
    const parsed = await this.readChecked(r, 'read', where, (c) => c.read(version ? `${where}?version=${version}` : where), kvReadSchema, (note) =>
      `Vault returned an unexpected answer for ${where}${note} (is "${r.settings.mount}" a KV v2 mount, and is "mcpTokens.vault.address" Vault itself rather than a proxy?).`,
    );
    return parsed?.data.data ?? undefined;
  }

  private async readMetadata(r: Resolved, key: TokenKey) {
    const where = `${r.settings.mount}/metadata/${this.secretPath(key)}`;
    return (await this.readChecked(r, 'read', where, (c) => c.read(where), kvMetadataSchema, (note) => `Vault returned unexpected metadata for ${where}${note}.`))?.data;
  }

  private async list(r: Resolved, path: string): Promise<string[]> {
    const where = `${r.settings.mount}/metadata/${path}`;
    return (await this.readChecked(r, 'list', where, (c) => c.list(where), listSchema, (note) => `Vault returned an unexpected listing for ${where}${note}.`))?.data.keys ?? [];
  }

  /**
   * One retried read or listing of `where`: undefined when Vault holds nothing there (404), else the
   * answer checked against `schema`; an answer of another shape fails with `unexpected(what came)`.
   */
  private async readChecked<S extends z.ZodType>(r: Resolved, op: 'read' | 'list', where: string, work: (c: Client) => Promise<unknown>, schema: S, unexpected: (note: string) => string): Promise<z.infer<S> | undefined> {
    let res: unknown;
    try {
      res = await this.request(r, op, where, work, true);
    } catch (e) {
      if (e instanceof VaultBackendError && e.fault.kind === 'missing') return undefined;
      throw e;
    }
    const parsed = schema.safeParse(res);
    if (!parsed.success) throw new BackendError(this.id, unexpected(answerNote(res)));
    return parsed.data;
  }

  private valueOf(r: Resolved, key: TokenKey, fields: Record<string, unknown>): string {
    if (typeof fields.value !== 'string') throw new BackendError(this.id, `Vault: the secret of ${keyId(key)} has no "value" field.`);
    if (r.settings.layout !== 'mcpCli') return fields.value;
    try {
      return valueFromStoredToken(fields.value);
    } catch (e) {
      // A plain string in mcp-cli's path (not StoredToken JSON) is used as it is.
      if (e instanceof StoredTokenError && !fields.value.trimStart().startsWith('{')) return fields.value;
      throw new BackendError(this.id, `Vault: the secret of ${keyId(key)} is not a valid mcp-cli StoredToken (${e instanceof Error ? e.message : 'unexpected shape'}).`);
    }
  }

  private describe(r: Resolved, fields: Record<string, unknown>): Omit<DiscoveredToken, 'namespace' | 'name'> {
    if (r.settings.layout === 'mcpCli') {
      try {
        return typeof fields.value === 'string' ? describeStoredToken(fields.value) : {};
      } catch {
        return {};
      }
    }
    const f = fieldsSchema.safeParse(fields);
    return f.success ? { type: f.data.type, provider: f.data.provider, description: f.data.description, expiresAt: f.data.expiresAt } : {};
  }
}

/** A 200/204 whose body is not a JSON object (empty, text such as an HTML page, an array, a number). */
export class NotJsonAnswer {
  constructor(
    readonly status: number | undefined,
    /** No body at all (or only whitespace). */
    readonly empty: boolean,
    /** What it was, for messages: never the body itself. */
    readonly shape: string,
  ) {}
}

const statuses = new WeakMap<object, number>();

/** The answer as callers see it: a JSON object (its status kept aside), or a NotJsonAnswer. */
function withStatus(status: number | undefined, body: unknown): unknown {
  if (body !== null && typeof body === 'object' && !Array.isArray(body)) {
    if (status !== undefined) statuses.set(body, status);
    return body;
  }
  if (body === undefined || body === null || (typeof body === 'string' && !body.trim())) return new NotJsonAnswer(status, true, 'no body');
  const shape = typeof body === 'string' ? (/^\s*</.test(body) ? 'an HTML or XML page' : 'text') : Array.isArray(body) ? 'a JSON array' : `a JSON ${typeof body}`;
  return new NotJsonAnswer(status, false, shape);
}

/** The HTTP status an answer came with, when known. */
function statusOf(answer: unknown): number | undefined {
  return answer instanceof NotJsonAnswer ? answer.status : answer !== null && typeof answer === 'object' ? statuses.get(answer) : undefined;
}

/** ` (status 200, an HTML or XML page)`: what came back, for the errors of reads and listings. */
function answerNote(answer: unknown): string {
  const status = statusOf(answer);
  const what = answer instanceof NotJsonAnswer ? (answer.empty ? 'no body' : answer.shape) : 'JSON of another shape';
  return ` (status ${status ?? 'unknown'}, ${what})`;
}

/** The error of a request Vault (or something in front of it) answered with success but not as Vault does. */
function unexpectedAnswer(op: 'write' | 'delete', where: string, answer: unknown, expected: string): VaultBackendError {
  const status = statusOf(answer);
  const got = answer instanceof NotJsonAnswer ? (answer.empty ? 'an empty answer (no body)' : `${answer.shape}, not Vault's JSON`) : `JSON that is not ${expected}`;
  return new VaultBackendError(
    {
      kind: 'other',
      cause: `Vault's answer to the ${op} of ${where} was status ${status ?? 'unknown'} with ${got}; the ${op} is not taken as done${op === 'write' ? ' (the token is not stored or listed)' : ''}.`,
      fix: 'A proxy or gateway in front of Vault may have answered instead of Vault: check "mcpTokens.vault.address" (or VAULT_ADDR) and any proxy settings, then try again.',
      retryable: false,
    },
    op,
  );
}

function fieldsFor(value: string, meta: TokenMetadata): Record<string, unknown> {
  const out: Record<string, unknown> = { value, type: meta.type };
  if (meta.provider) out.provider = meta.provider;
  if (meta.description) out.description = meta.description;
  if (meta.expiresAt) out.expiresAt = meta.expiresAt;
  return out;
}

/** A BackendError carrying the classified fault (for health and for callers that branch on it). */
export class VaultBackendError extends BackendError {
  constructor(
    readonly fault: VaultFault,
    op?: string,
  ) {
    super('vault', `HashiCorp Vault${op ? ` could not ${op}` : ''}: ${fault.cause} ${fault.fix}`, fault.retryable);
    this.name = 'VaultBackendError';
  }
}
