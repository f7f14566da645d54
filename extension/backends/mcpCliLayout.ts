/**
 * mcp-cli's storage layout, so the OS keyring and Vault can be shared with mcp-cli
 * (https://github.com/chrishayuk/mcp-cli, which stores tokens through
 * https://github.com/chrishayuk/chuk-mcp-client-oauth). Pure: no `vscode`, no I/O.
 *
 * - Keyring: service `mcp-cli`, account `<namespace>:<name>` (mcp-cli keeps letters, digits, `-`, `_`
 *   and `:` and turns every other character into `_`), the password a JSON `StoredToken`:
 *   `{ "token_type": "bearer" | "api_key" | "oauth" | "basic_auth", "name", "data", "metadata" }`.
 * - Registry: `~/.chuk_oauth/token_registry.json` (mode 0600), an object keyed by `<namespace>:<name>`
 *   whose entries are `{ name, type, namespace, registered_at (epoch seconds), metadata }`; mcp-cli
 *   lists tokens from it because a keyring cannot be listed.
 * - Vault: KV v2 path `<mount>/data/mcp-cli/oauth/<namespace>:<name>`, field `value` holding the same
 *   StoredToken JSON.
 */
import { z } from 'zod';
import type { TokenMetadata, TokenType } from '../../server/core/model';
import { keyId, parseKeyId, type TokenKey } from '../../server/core/reference';
import { parseJsonAs } from '../../server/core/json';
import type { DiscoveredToken } from '../store/backend';

export const MCP_CLI_SERVICE = 'mcp-cli';
/** mcp-cli's Vault path prefix (TokenManager: `f"{namespace}/oauth"` with namespace `mcp-cli`). */
export const MCP_CLI_VAULT_PREFIX = 'mcp-cli/oauth';
export const MCP_CLI_REGISTRY_RELATIVE = ['.chuk_oauth', 'token_registry.json'] as const;

export const MCP_CLI_TOKEN_TYPES = ['oauth', 'bearer', 'api_key', 'basic_auth'] as const;
export type McpCliTokenType = (typeof MCP_CLI_TOKEN_TYPES)[number];

/** mcp-cli's `StoredToken` (pydantic model in chuk_mcp_client_oauth/token_types.py). */
export const storedTokenSchema = z.object({
  token_type: z.enum(MCP_CLI_TOKEN_TYPES),
  name: z.string(),
  data: z.record(z.string(), z.unknown()),
  metadata: z.record(z.string(), z.unknown()).nullable().optional(),
});
export type StoredToken = z.infer<typeof storedTokenSchema>;

/** One entry of `token_registry.json` (chuk_mcp_client_oauth/token_registry.py, `register`). */
export const registryEntrySchema = z.looseObject({
  name: z.string(),
  type: z.string(),
  namespace: z.string(),
  registered_at: z.number().nullable().optional(),
  metadata: z.record(z.string(), z.unknown()).nullable().optional(),
});
export type RegistryEntry = z.infer<typeof registryEntrySchema>;

export const registrySchema = z.record(z.string(), z.unknown());
export type Registry = Record<string, unknown>;

/** The key the extension writes under in mcp-cli's metadata, so our own type survives a round trip. */
const OUR_TYPE = 'mcp_tokens_type';

/** mcp-cli's `_sanitize_name`: keeps letters, digits, `-`, `_`, `:`; anything else becomes `_`. */
export function mcpCliAccount(key: TokenKey): string {
  return keyId(key).replace(/[^A-Za-z0-9\-_:]/g, '_');
}

export function mcpCliType(type: TokenType): McpCliTokenType {
  switch (type) {
    case 'api-key':
      return 'api_key';
    case 'oauth':
      return 'oauth';
    default:
      // mcp-cli's `store_generic` stores generic secrets as bearer tokens with `data.token`.
      return 'bearer';
  }
}

export function ourType(type: string, hint?: unknown): TokenType {
  if (hint === 'bearer' || hint === 'api-key' || hint === 'oauth' || hint === 'basic' || hint === 'generic') return hint;
  switch (type) {
    case 'api_key':
      return 'api-key';
    case 'oauth':
      return 'oauth';
    case 'basic_auth':
      return 'basic';
    case 'bearer':
      return 'bearer';
    default:
      return 'generic';
  }
}

function epochSeconds(iso: string | undefined): number | undefined {
  if (!iso) return undefined;
  const ms = Date.parse(iso);
  return Number.isNaN(ms) ? undefined : ms / 1000;
}

function isoFromEpoch(v: unknown): string | undefined {
  if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) return undefined;
  const d = new Date(v * 1000);
  return Number.isNaN(d.getTime()) ? undefined : d.toISOString();
}

/** Builds the StoredToken for a value (never logged: it holds the value). */
export function toStoredToken(key: TokenKey, value: string, meta: Pick<TokenMetadata, 'type' | 'provider' | 'expiresAt'>): StoredToken {
  const tokenType = mcpCliType(meta.type);
  const expires = epochSeconds(meta.expiresAt);
  let data: Record<string, unknown>;
  if (tokenType === 'api_key') {
    data = { provider: meta.provider ?? 'unknown', key: value };
  } else if (tokenType === 'oauth') {
    const parsed = parseJsonObject(value);
    data = parsed && typeof parsed.access_token === 'string' ? parsed : { access_token: value, token_type: 'Bearer' };
    Object.assign(data, oauthExpiry(meta.expiresAt));
  } else {
    data = { token: value };
    if (expires !== undefined) data.expires_at = expires;
  }
  const metadata: Record<string, unknown> = { namespace: key.namespace };
  if (meta.type !== 'bearer' && meta.type !== 'api-key' && meta.type !== 'oauth') metadata[OUR_TYPE] = meta.type;
  return { token_type: tokenType, name: key.name, data, metadata };
}

export class StoredTokenError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StoredTokenError';
  }
}

/**
 * The value inside a StoredToken JSON: `data.token` (bearer), `data.key` (api_key),
 * `data.access_token` (oauth: the access token only, never the refresh token or the rest of the
 * OAuth data), `data.password` (basic_auth). Throws StoredTokenError (without the value).
 */
export function valueFromStoredToken(json: string): string {
  const token = parseStoredToken(json);
  const d = token.data;
  const str = (k: string) => (typeof d[k] === 'string' && (d[k] as string).length > 0 ? (d[k] as string) : undefined);
  switch (token.token_type) {
    case 'api_key':
      return str('key') ?? str('token') ?? missing('key');
    case 'oauth':
      // What a server receives as `Bearer …`: the refresh token stays in the store (finding 7).
      return str('access_token') ?? missing('access_token');
    case 'basic_auth':
      return str('password') ?? str('token') ?? missing('password');
    default:
      return str('token') ?? str('access_token') ?? missing('token');
  }
}

function missing(field: string): never {
  throw new StoredTokenError(`The stored mcp-cli token has no "${field}" field.`);
}

export function parseStoredToken(json: string): StoredToken {
  const parsed = parseJsonAs(storedTokenSchema, json);
  if (parsed.ok) return parsed.value;
  throw new StoredTokenError(parsed.why === 'json' ? 'The stored entry is not mcp-cli JSON (StoredToken).' : 'The stored entry does not have the shape of an mcp-cli StoredToken.');
}

/** Non-secret facts of a StoredToken (type, provider, expiry) for discovery. */
export function describeStoredToken(json: string): Pick<DiscoveredToken, 'type' | 'provider' | 'expiresAt'> {
  const t = parseStoredToken(json);
  const provider = typeof t.data.provider === 'string' ? t.data.provider.slice(0, 64) : undefined;
  let expiresAt = isoFromEpoch(t.data.expires_at);
  if (!expiresAt && typeof t.data.issued_at === 'number' && typeof t.data.expires_in === 'number') {
    expiresAt = isoFromEpoch(t.data.issued_at + t.data.expires_in);
  }
  return { type: ourType(t.token_type, t.metadata?.[OUR_TYPE]), provider, expiresAt };
}

// ---- OAuth entries (mcp-cli's OAuthTokens inside a StoredToken of type oauth) -------------------

/** `data` of an oauth StoredToken: mcp-cli's OAuthTokens (chuk_mcp_client_oauth/oauth_config.py). */
export const mcpCliOAuthDataSchema = z.looseObject({
  access_token: z.string().min(1),
  token_type: z.string().optional(),
  refresh_token: z.string().min(1).nullable().optional(),
  expires_in: z.number().nullable().optional(),
  issued_at: z.number().nullable().optional(),
  scope: z.string().nullable().optional(),
});

/** Non-secret facts the extension keeps in an oauth StoredToken's `metadata` (mcp-cli ignores them). */
const OAUTH_FACTS = { issuer: 'oauth_issuer', clientId: 'oauth_client_id', serverUrl: 'oauth_server_url', resource: 'oauth_resource' } as const;

export interface McpCliOAuthFacts {
  readonly issuer?: string;
  readonly clientId?: string;
  readonly serverUrl?: string;
  readonly resource?: string;
  readonly scopes?: readonly string[];
}

function oauthExpiry(expiresAt: string | undefined, now = Date.now()): Record<string, unknown> {
  const expires = expiresAt ? Date.parse(expiresAt) : NaN;
  if (Number.isNaN(expires)) return {};
  return { issued_at: now / 1000, expires_in: Math.max(0, Math.round((expires - now) / 1000)) };
}

/** The parsed OAuth data of an oauth StoredToken, or undefined when `json` is not one. */
export function parseMcpCliOAuth(json: string): { token: StoredToken; data: z.infer<typeof mcpCliOAuthDataSchema> } | undefined {
  let token: StoredToken;
  try {
    token = parseStoredToken(json);
  } catch {
    return undefined;
  }
  if (token.token_type !== 'oauth') return undefined;
  const data = mcpCliOAuthDataSchema.safeParse(token.data);
  return data.success ? { token, data: data.data } : undefined;
}

/** The refresh token of an oauth StoredToken (never logged). */
export function refreshTokenFromStoredToken(json: string): string | undefined {
  return parseMcpCliOAuth(json)?.data.refresh_token ?? undefined;
}

/** The non-secret facts of an oauth StoredToken: issuer, client id, server URL, resource, scopes. */
export function oauthFactsFromStoredToken(json: string): McpCliOAuthFacts | undefined {
  const parsed = parseMcpCliOAuth(json);
  if (!parsed) return undefined;
  const m = parsed.token.metadata ?? {};
  const d = parsed.token.data;
  const text = (v: unknown) => (typeof v === 'string' && v.length > 0 && v.length <= 2048 ? v : undefined);
  return {
    issuer: text(m[OAUTH_FACTS.issuer]),
    clientId: text(m[OAUTH_FACTS.clientId]) ?? text(d.client_id),
    serverUrl: text(m[OAUTH_FACTS.serverUrl]) ?? text(m.server_url),
    resource: text(m[OAUTH_FACTS.resource]),
    scopes: parsed.data.scope ? parsed.data.scope.split(/\s+/).filter(Boolean) : undefined,
  };
}

/**
 * An oauth StoredToken with the given changes merged into `existing` (kept: every other field mcp-cli
 * wrote). `accessToken` replaces the access token (and the expiry); `refreshToken` replaces the
 * refresh token, `null` removes it. Returns the JSON to store.
 */
export function mergeMcpCliOAuth(
  existing: string | undefined,
  key: TokenKey,
  change: { accessToken?: string; refreshToken?: string | null; meta?: Pick<TokenMetadata, 'expiresAt' | 'oauth'> },
  now = Date.now(),
): string | undefined {
  const parsed = existing ? parseMcpCliOAuth(existing) : undefined;
  if (!parsed) return undefined;
  const data: Record<string, unknown> = { ...parsed.token.data };
  if (change.accessToken !== undefined) {
    data.access_token = change.accessToken;
    if (!data.token_type) data.token_type = 'Bearer';
    const expiry = oauthExpiry(change.meta?.expiresAt, now);
    if (expiry.expires_in !== undefined) Object.assign(data, expiry);
  }
  if (change.refreshToken === null) delete data.refresh_token;
  else if (change.refreshToken !== undefined) data.refresh_token = change.refreshToken;
  const metadata: Record<string, unknown> = { ...(parsed.token.metadata ?? {}), namespace: (parsed.token.metadata?.namespace as string | undefined) ?? key.namespace };
  const o = change.meta?.oauth;
  if (o?.issuer) metadata[OAUTH_FACTS.issuer] = o.issuer;
  if (o?.clientId) metadata[OAUTH_FACTS.clientId] = o.clientId;
  if (o?.serverUrl) metadata[OAUTH_FACTS.serverUrl] = o.serverUrl;
  if (o?.resource) metadata[OAUTH_FACTS.resource] = o.resource;
  return JSON.stringify({ ...parsed.token, data, metadata });
}

/** mcp-cli's client registration file (`~/.chuk_oauth/tokens/<server>_client.json`): id and secret. */
export const mcpCliClientRegistrationSchema = z.looseObject({
  client_id: z.string().min(1),
  client_secret: z.string().min(1).nullable().optional(),
});

/** The file name mcp-cli's TokenManager gives a server's client registration (`_sanitize_name` + `_client.json`). */
export function mcpCliClientRegistrationFile(serverName: string): string {
  return `${serverName.replace(/[^A-Za-z0-9\-_]/g, '_')}_client.json`;
}

function parseJsonObject(text: string): Record<string, unknown> | undefined {
  if (!text.startsWith('{')) return undefined;
  try {
    const v = JSON.parse(text) as unknown;
    return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

// ---- registry ----------------------------------------------------------------------------------

/** Parses the registry file's text; an unreadable file is treated like mcp-cli does: as empty. */
export function parseRegistry(text: string | undefined): Registry {
  if (!text || !text.trim()) return {};
  try {
    const parsed = registrySchema.safeParse(JSON.parse(text));
    return parsed.success ? parsed.data : {};
  } catch {
    return {};
  }
}

/** A copy of `registry` with `key` registered as mcp-cli's `TokenRegistry.register` would. */
export function registerToken(
  registry: Registry,
  key: TokenKey,
  meta: Pick<TokenMetadata, 'type' | 'provider' | 'expiresAt'>,
  now: Date,
): Registry {
  const metadata: Record<string, unknown> = {};
  const expires = epochSeconds(meta.expiresAt);
  if (expires !== undefined) metadata.expires_at = expires;
  if (meta.provider) metadata.provider = meta.provider;
  const previous = registryEntrySchema.safeParse(registry[keyId(key)]);
  const entry: RegistryEntry = {
    name: key.name,
    type: mcpCliType(meta.type),
    namespace: key.namespace,
    registered_at: previous.success && typeof previous.data.registered_at === 'number' ? previous.data.registered_at : now.getTime() / 1000,
    metadata,
  };
  return { ...registry, [keyId(key)]: entry };
}

export function unregisterToken(registry: Registry, key: TokenKey): Registry {
  const copy = { ...registry };
  delete copy[keyId(key)];
  return copy;
}

/** The tokens the registry lists, as the store's discovery expects them. Invalid entries are skipped. */
export function registryTokens(registry: Registry): DiscoveredToken[] {
  const out: DiscoveredToken[] = [];
  for (const [id, raw] of Object.entries(registry)) {
    const entry = registryEntrySchema.safeParse(raw);
    if (!entry.success) continue;
    const key = parseKeyId(id) ?? parseKeyId(`${entry.data.namespace}:${entry.data.name}`);
    if (!key) continue;
    const meta = entry.data.metadata ?? {};
    out.push({
      namespace: key.namespace,
      name: key.name,
      type: ourType(entry.data.type),
      provider: typeof meta.provider === 'string' ? meta.provider.slice(0, 64) : undefined,
      createdAt: isoFromEpoch(entry.data.registered_at),
      expiresAt: isoFromEpoch(meta.expires_at),
    });
  }
  return out;
}

export function serializeRegistry(registry: Registry): string {
  return JSON.stringify(registry, null, 2);
}
