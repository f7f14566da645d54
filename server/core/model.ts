/**
 * The token model: types, namespaces, metadata and the index, validated with zod.
 * Pure: imported by the extension host, the language server and the tests. Metadata never
 * contains a value.
 */
import { z } from 'zod';
import { NAME_MAX, NAMESPACE_MAX, SEGMENT_PATTERN, keyId, type TokenKey } from './reference';

export const TOKEN_TYPES = ['oauth', 'bearer', 'api-key', 'basic', 'generic'] as const;
export type TokenType = (typeof TOKEN_TYPES)[number];

/** The namespaces every user has; any other valid namespace (e.g. `custom-team`) is user-defined. */
export const BUILTIN_NAMESPACES = ['bearer', 'api-key', 'provider', 'oauth', 'generic'] as const;

/**
 * The namespace of the values kept by the trash ("Recently Deleted"): a replaced or deleted value is
 * copied to `trash:<entry id>` in the backend it was in. Never a token: the store refuses to write
 * tokens there and does not resolve it.
 */
export const TRASH_NAMESPACE = 'trash';

/**
 * The namespace of a token's earlier values (version history): a replaced value is copied to
 * `history:<version id>` in the token's backend (Vault keeps its own KV v2 versions instead). Internal,
 * like the trash: never listed, never resolved, refused as a token namespace.
 */
export const HISTORY_NAMESPACE = 'history';

/**
 * Namespaces a feature manages itself (an OAuth token's refresh token and client registration, the
 * trash). They are stored like tokens but hidden from lists, views, completion and bulk clearing.
 */
export const INTERNAL_NAMESPACES: readonly string[] = ['oauth-refresh', 'oauth-client', TRASH_NAMESPACE, HISTORY_NAMESPACE];

/** Version history limits unless configured otherwise (`mcpTokens.history.*`). */
export const DEFAULT_HISTORY_MAX_VERSIONS = 10;
export const DEFAULT_HISTORY_MAX_AGE_DAYS = 90;

export function isInternalNamespace(namespace: string): boolean {
  return INTERNAL_NAMESPACES.includes(namespace);
}

/**
 * Every backend this version knows, with the label users see (here, so the language server's hovers
 * name it too). The extension's registry (`extension/backends/registry.ts`) completes each with how it
 * is created, configured and repaired; a `testOnly` backend exists only under the registry's test
 * switch, never for users. Adding a backend: docs/adding-a-backend.md.
 */
export const BACKENDS = [
  { id: 'secretStorage', label: 'VS Code SecretStorage' },
  { id: 'keyring', label: 'OS keyring' },
  { id: 'vault', label: 'HashiCorp Vault' },
  { id: 'memory', label: 'In-memory (tests only)', testOnly: true },
] as const satisfies ReadonlyArray<{ id: string; label: string; testOnly?: true }>;
export type BackendId = (typeof BACKENDS)[number]['id'];
export const BACKEND_IDS = BACKENDS.map((b) => b.id) as [BackendId, ...BackendId[]];

export const TOKEN_TYPE_LABELS: Record<TokenType, string> = {
  oauth: 'OAuth',
  bearer: 'Bearer token',
  'api-key': 'API key',
  basic: 'Basic auth',
  generic: 'Generic secret',
};

export const BACKEND_LABELS = Object.fromEntries(BACKENDS.map((b) => [b.id, b.label])) as Record<BackendId, string>;

/** The namespace a new token of `type` goes to when the user does not choose one. */
export function defaultNamespaceFor(type: TokenType): string {
  return type === 'basic' ? 'generic' : type;
}

export const namespaceSchema = z
  .string()
  .min(1, 'The namespace is empty.')
  .max(NAMESPACE_MAX, `The namespace is longer than ${NAMESPACE_MAX} characters.`)
  .regex(SEGMENT_PATTERN, 'The namespace may only contain letters, digits, "-", "_" and "." and must start with a letter or digit.');

export const nameSchema = z
  .string()
  .min(1, 'The name is empty.')
  .max(NAME_MAX, `The name is longer than ${NAME_MAX} characters.`)
  .regex(SEGMENT_PATTERN, 'The name may only contain letters, digits, "-", "_" and "." and must start with a letter or digit.');

export const tokenTypeSchema = z.enum(TOKEN_TYPES);
export const backendIdSchema = z.enum(BACKEND_IDS);
const isoDate = z.iso.datetime({ offset: true });

/** Non-secret facts of an OAuth token; the access and refresh tokens themselves live in the backend. */
export const oauthInfoSchema = z.object({
  issuer: z.string().optional(),
  resource: z.string().optional(),
  serverUrl: z.string().optional(),
  scopes: z.array(z.string()).optional(),
  clientId: z.string().optional(),
  /**
   * A pre-registered client's secret as a token reference (`$<TOKEN:ns:name>`, never the value), so a
   * refresh or a revocation outside a server start can authenticate the client.
   */
  clientSecretRef: z.string().max(300).optional(),
  /** Set when a refresh failed for good (`invalid_grant`) and the user must sign in again. */
  signInRequired: z.boolean().optional(),
  hasRefreshToken: z.boolean().optional(),
});
export type OAuthInfo = z.infer<typeof oauthInfoSchema>;

/**
 * One earlier value of a token: when it was replaced and by whom, never the value. The value is kept
 * in the token's backend at `history:<id>`, or, when `kv` is set, is that Vault KV v2 version of the
 * token's own secret.
 */
export const historyVersionSchema = z.object({
  id: z.string().regex(/^\d{8}T\d{9}Z-[0-9a-f]{8}$/),
  /** When this value was replaced (it was current until then). */
  replacedAt: isoDate,
  /** When this value had been set (the token's `updatedAt` then). */
  setAt: isoDate.optional(),
  /** Who replaced it: the command and caller kind (`mcpTokens.rotateToken (ui)`), never a value. */
  by: z.string().max(200).optional(),
  /** The Vault KV v2 version holding the value (no copy is kept). */
  kv: z.number().int().positive().optional(),
});
export type HistoryVersion = z.infer<typeof historyVersionSchema>;

/**
 * The services Verify Token knows (see `extension/verify/services.ts`): each checks a token against
 * the service's identity endpoint. `generic` takes a URL and a header template from the metadata.
 */
export const VERIFY_SERVICES = ['github', 'openai', 'anthropic', 'slack', 'gitlab', 'huggingface', 'generic'] as const;
export type VerifyServiceId = (typeof VERIFY_SERVICES)[number];

/** A header line whose value contains `{{value}}` once: `Authorization: Bearer {{value}}`. */
export const VERIFY_HEADER_PATTERN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,64}:[ \t]*[^\r\n{}]*\{\{value\}\}[^\r\n{}]*$/;

/** Where Verify sends a token: its service, and for enterprise hosts a base URL (or, for `generic`, the URL and header). */
export const verifySettingsSchema = z
  .object({
    service: z.enum(VERIFY_SERVICES),
    /** The service's API root for an enterprise host, e.g. `https://ghe.example.com/api/v3`; default: the public one. */
    baseUrl: z.url({ protocol: /^https?$/ }).max(2048).optional(),
    /** `generic`: the URL a GET with the header must answer with 2xx. */
    url: z.url({ protocol: /^https?$/ }).max(2048).optional(),
    /** `generic`: the header carrying the value, e.g. `Authorization: Bearer {{value}}`. */
    header: z.string().max(1024).regex(VERIFY_HEADER_PATTERN, 'The header must look like "Name: text {{value}} text".').optional(),
  })
  .strict()
  .refine((v) => v.service !== 'generic' || Boolean(v.url), { message: 'The generic service needs a url.', path: ['url'] });
export type VerifySettings = z.infer<typeof verifySettingsSchema>;

/** The outcome of the last Verify: what the service said about the token (never the value). */
export const lastVerifiedSchema = z.object({
  at: isoDate,
  ok: z.boolean(),
  service: z.enum(VERIFY_SERVICES),
  /** The origin the request went to (`https://api.github.com`). */
  origin: z.string().max(2048),
  /** The identity the service reported: a login, an organization, a team. */
  identity: z.string().max(256).optional(),
  /** The scopes the service reported for the token. */
  scopes: z.array(z.string().max(128)).max(200).optional(),
  /** Scopes the service said were missing (403). */
  missingScopes: z.array(z.string().max(128)).max(200).optional(),
  /** Why it failed, in words. */
  reason: z.string().max(512).optional(),
  /** The HTTP status, when there was an answer. */
  status: z.number().int().min(100).max(599).optional(),
});
export type LastVerified = z.infer<typeof lastVerifiedSchema>;

/** One line: "verified as octocat 3 hours ago", "verify failed: rejected (HTTP 401)". Pure. */
export function describeVerified(v: LastVerified): string {
  return v.ok ? `verified${v.identity ? ` as ${v.identity}` : ''}` : `verify failed${v.reason ? `: ${v.reason}` : ''}`;
}

/** The facts of a verification as label/text rows, for details, tooltips and hovers (`when` formats a date). Pure. */
export function verifiedRows(v: LastVerified, when: (iso: string) => string): [string, string][] {
  const rows: [string, string][] = [['Verified', `${v.ok ? 'ok' : 'failed'}, ${when(v.at)}, at ${v.origin}`]];
  if (v.identity) rows.push(['Identity', v.identity]);
  if (v.scopes?.length) rows.push(['Token scopes', v.scopes.join(' ')]);
  if (v.missingScopes?.length) rows.push(['Missing scopes', v.missingScopes.join(' ')]);
  if (!v.ok && v.reason) rows.push(['Verify failure', v.reason]);
  return rows;
}

/**
 * What a JWT value says about itself (read by `jwt.ts` when the value is set): the header's `alg`
 * and the registered claims `iss`, `sub`, `aud`, `iat`. Never the signature or any other claim.
 * Its `exp` becomes the token's `expiresAt` unless the user gives another expiry.
 */
export const jwtInfoSchema = z.object({
  alg: z.string().min(1).max(32),
  iss: z.string().max(256).optional(),
  sub: z.string().max(256).optional(),
  aud: z.array(z.string().max(256)).max(8).optional(),
  iat: isoDate.optional(),
});
export type JwtInfo = z.infer<typeof jwtInfoSchema>;

export const tokenMetadataSchema = z.object({
  namespace: namespaceSchema,
  name: nameSchema,
  type: tokenTypeSchema,
  createdAt: isoDate,
  updatedAt: isoDate,
  expiresAt: isoDate.optional(),
  lastUsedAt: isoDate.optional(),
  provider: z.string().max(64).optional(),
  description: z.string().max(1024).optional(),
  backend: backendIdSchema,
  /** A previous value is kept (after a rotation) and can be restored. */
  hasPrevious: z.boolean().optional(),
  oauth: oauthInfoSchema.optional(),
  /** Earlier values, newest first (metadata only; the values are in the backend). */
  history: z.array(historyVersionSchema).max(1000).optional(),
  /** Where Verify Token sends this token (service, enterprise base URL). */
  verify: verifySettingsSchema.optional(),
  /** The result of the last Verify Token. */
  lastVerified: lastVerifiedSchema.optional(),
  /** Set when the value is a JWT (see jwtInfoSchema). */
  jwt: jwtInfoSchema.optional(),
});
export type TokenMetadata = z.infer<typeof tokenMetadataSchema>;


/** Why a value went to the trash (the path that replaced or removed it). */
export const TRASH_REASONS = ['delete', 'clear', 'overwrite', 'rotate', 'restore', 'import', 'rename', 'sign-out'] as const;
export type TrashReason = (typeof TRASH_REASONS)[number];

/** How long the trash keeps a value unless configured otherwise. */
export const DEFAULT_TRASH_RETENTION_DAYS = 30;

/**
 * A trash entry id: the deletion time (compact UTC, so ids sort by time) and a random suffix. Only
 * letters, digits and `-`, so `trash:<id>` is the same string in every backend (mcp-cli's keyring
 * account sanitising keeps it as it is; it is one Vault path segment).
 */
export const TRASH_ID_PATTERN = /^\d{8}T\d{9}Z-[0-9a-f]{8}$/;

/** One value of a trash entry: where its copy is kept, and the token as it was. */
export const trashItemSchema = z.object({
  /** The name, in TRASH_NAMESPACE, under which the value (and previous value) are kept in `meta.backend`. */
  name: nameSchema.regex(/^[A-Za-z0-9-]+$/),
  /** The token's metadata when it was replaced or removed (restored as it is). */
  meta: tokenMetadataSchema,
  /** A previous value was kept with it. */
  hasPrevious: z.boolean().optional(),
});
export type TrashItem = z.infer<typeof trashItemSchema>;

/** A trash entry in the index: one token's replaced or removed value, with the companions that went with it. */
export const trashEntrySchema = z.object({
  id: z.string().regex(TRASH_ID_PATTERN),
  deletedAt: isoDate,
  reason: z.enum(TRASH_REASONS),
  /** The token first, then its companions (an OAuth token's refresh token), restored together. */
  items: z.array(trashItemSchema).min(1).max(16),
});
export type TrashEntry = z.infer<typeof trashEntrySchema>;

/** The version of the old single index document (`mcpTokens/v1/index`), read only to migrate it. */
export const INDEX_VERSION = 1;
/** The old single index document: every token and trash entry in one JSON (read once, never written). */
export const tokenIndexSchema = z.object({
  version: z.literal(INDEX_VERSION),
  tokens: z.array(tokenMetadataSchema),
  /** Recently deleted values (metadata only; the values are in the backends). Absent in older indexes. */
  trash: z.array(trashEntrySchema).optional(),
});

/**
 * The metadata index since version 2: one entry per token and one per trash entry, each its own key in
 * the metadata storage (VS Code SecretStorage), so windows writing different tokens never race on a
 * shared document. An entry is `{"version": 2, "token": TokenMetadata}` or `{"version": 2, "entry":
 * TrashEntry}`; an entry whose version is higher was written by a newer version of the extension and
 * is never rewritten by this one.
 */
export const ENTRY_VERSION = 2;

/** Where the version-2 index lives in the metadata storage. */
export const METADATA_LAYOUT = {
  /** `<token>` + `<namespace>:<name>`: a token's metadata. */
  token: 'mcpTokens/v2/meta/',
  /** `<trash>` + `<entry id>`: a Recently Deleted entry. */
  trash: 'mcpTokens/v2/trash/',
  /** `<backup>` + `<sha-256 prefix>`: a damaged or newer entry, or the old index, as it was found. */
  backup: 'mcpTokens/v2/backup/',
  /** `<lock>` + `<name>`: a short lease one window holds while it changes a token (extension/store/lease.ts; see TokenStore). */
  lock: 'mcpTokens/v2/lock/',
  /** What was migrated from the old single index (so it is migrated once, and later changes by an old version are merged). */
  migrated: 'mcpTokens/v2/migrated',
  /** The old single index document, kept as it is. */
  legacyIndex: 'mcpTokens/v1/index',
} as const;

export const tokenEntrySchema = z.object({ version: z.literal(ENTRY_VERSION), token: tokenMetadataSchema });
export const trashDocumentSchema = z.object({ version: z.literal(ENTRY_VERSION), entry: trashEntrySchema });
/** What any version's entry has: a version number (the rest is read only when it is ours). */
export const entryVersionSchema = z.object({ version: z.number().int().positive() });

/** The migration marker: the digest of the old document migrated, and what it listed (ids and their updatedAt). */
export const migrationMarkerSchema = z.object({
  version: z.literal(ENTRY_VERSION),
  digest: z.string(),
  tokens: z.record(z.string(), z.string()),
  trash: z.array(z.string()),
});
export type MigrationMarker = z.infer<typeof migrationMarkerSchema>;

/** What a caller gives to create or overwrite a token (the automation argument of `mcpTokens.setToken`). */
export const setTokenArgsSchema = z.object({
  namespace: namespaceSchema,
  name: nameSchema,
  value: z.string().min(1, 'The value is empty.').max(65536, 'The value is longer than 64 KiB.'),
  type: tokenTypeSchema,
  expiresAt: isoDate.optional(),
  provider: z.string().max(64).optional(),
  description: z.string().max(1024).optional(),
  backend: backendIdSchema.optional(),
  /** What the value says about itself when it is a JWT: read from the value by the caller, never an automation argument. */
  jwt: jwtInfoSchema.optional(),
});
export type SetTokenArgs = z.infer<typeof setTokenArgsSchema>;

export const tokenKeySchema = z.object({ namespace: namespaceSchema, name: nameSchema });

/** Formats zod issues as one sentence a user can act on (never includes the offending value). */
export function describeIssues(error: z.ZodError): string {
  return error.issues
    .map((issue) => (issue.path.length ? `${issue.path.join('.')}: ${issue.message}` : issue.message))
    .join('; ');
}

export type ExpiryState = 'none' | 'ok' | 'soon' | 'expired';

const DAY_MS = 24 * 60 * 60 * 1000;

export function expiryState(meta: Pick<TokenMetadata, 'expiresAt'>, now: Date, soonDays: number): ExpiryState {
  if (!meta.expiresAt) return 'none';
  const left = Date.parse(meta.expiresAt) - now.getTime();
  if (left <= 0) return 'expired';
  return left <= soonDays * DAY_MS ? 'soon' : 'ok';
}

/** "expires in 3 days", "expired 2 hours ago", "no expiry". */
export function describeExpiry(meta: Pick<TokenMetadata, 'expiresAt'>, now: Date): string {
  if (!meta.expiresAt) return 'no expiry';
  const delta = Date.parse(meta.expiresAt) - now.getTime();
  const span = humanSpan(Math.abs(delta));
  return delta <= 0 ? `expired ${span} ago` : `expires in ${span}`;
}

/** "3 days", "1 hour", "less than a minute". */
export function humanSpan(ms: number): string {
  const units: [number, string][] = [
    [365 * DAY_MS, 'year'],
    [30 * DAY_MS, 'month'],
    [DAY_MS, 'day'],
    [60 * 60 * 1000, 'hour'],
    [60 * 1000, 'minute'],
  ];
  for (const [size, unit] of units) {
    // Round to the nearest unit ("2 days 23 hours" reads "3 days"), but never up to a first minute.
    const n = unit === 'minute' ? Math.floor(ms / size) : Math.round(ms / size);
    if (n >= 1) return `${n} ${unit}${n === 1 ? '' : 's'}`;
  }
  return 'less than a minute';
}

/**
 * Parses a user's expiry: an ISO date or date-time, or a duration such as `30d`, `12h`, `90m`, `2w`.
 * Returns an ISO string, or an error message.
 */
export function parseExpiryInput(input: string, now: Date): { expiresAt?: string; error?: string } {
  const text = input.trim();
  if (!text) return {};
  const duration = /^(\d+)\s*([mhdw])$/i.exec(text);
  if (duration) {
    const n = Number(duration[1]);
    const unitMs = { m: 60_000, h: 3_600_000, d: DAY_MS, w: 7 * DAY_MS }[duration[2].toLowerCase() as 'm' | 'h' | 'd' | 'w'];
    if (n <= 0) return { error: 'The duration must be positive.' };
    return { expiresAt: new Date(now.getTime() + n * unitMs).toISOString() };
  }
  if (/^\d{4}-\d{2}-\d{2}([T ][\d:.]+(Z|[+-]\d{2}:?\d{2})?)?$/.test(text)) {
    const ms = Date.parse(text.length === 10 ? `${text}T23:59:59Z` : text);
    if (!Number.isNaN(ms)) return { expiresAt: new Date(ms).toISOString() };
  }
  return { error: 'Enter a date (2026-12-31), a date-time (2026-12-31T18:00Z) or a duration (30d, 12h, 2w).' };
}

/** An OAuth token with a refresh token renews itself: its access-token expiry is not the user's concern. */
export function renewsItself(meta: Pick<TokenMetadata, 'oauth'>): boolean {
  return Boolean(meta.oauth?.hasRefreshToken && !meta.oauth.signInRequired);
}

/** Expired, and not an OAuth token that renews itself: the user has to act (the "expired" filters and counts). */
export function expiredForUser(meta: Pick<TokenMetadata, 'expiresAt' | 'oauth'>, now: Date): boolean {
  return expiryState(meta, now, 0) === 'expired' && !renewsItself(meta);
}

/** The token type a namespace names (`bearer:github` is a bearer token), undefined for any other namespace. */
export function typeFromNamespace(namespace: string): TokenType | undefined {
  return (TOKEN_TYPES as readonly string[]).includes(namespace) ? (namespace as TokenType) : undefined;
}

export function sameKey(a: TokenKey, b: TokenKey): boolean {
  return a.namespace === b.namespace && a.name === b.name;
}

export function sortTokens<T extends TokenKey>(tokens: readonly T[]): T[] {
  return [...tokens].sort((a, b) => keyId(a).localeCompare(keyId(b)));
}

export { keyId, type TokenKey };
