/**
 * Every command of the extension, declared once: its id, the schema of its automation argument, and
 * its class. Pure (zod and the core model only), so the table is unit-tested and read by the README
 * test.
 *
 * Commands are an API that any other extension can call with any argument. The class says what the
 * command can do with a value, and `platform/commands.ts` applies the class's policy when it
 * registers the handler:
 *
 * | class      | can                                   | policy                                                        |
 * |------------|---------------------------------------|---------------------------------------------------------------|
 * | `read`     | read metadata                         | none                                                          |
 * | `metadata` | change metadata, never a value        | none                                                          |
 * | `release`  | let a value leave the store           | a modal naming what leaves and where, every time (`Gate`);    |
 * |            |                                       | Verify asks once per token and the origin it is sent to        |
 * | `destroy`  | replace or delete a value             | the old value goes to Recently Deleted first; what cannot be   |
 * |            |                                       | recovered asks with a modal, whatever the argument says        |
 *
 * An argument reaches a handler in one of four shapes (see `CommandInput`): nothing (palette), a
 * `namespace:name` string or a tree element (both prefill the interactive flow), or an automation
 * object, which must match the command's schema exactly (`strict`: an unknown field such as
 * `force: true` on a command that has no such option is an error, not silently ignored).
 */
import { z } from 'zod';
import { AUDIT_KINDS, AUDIT_OUTCOMES } from './auditEvent';
import { backendIdSchema, isInternalNamespace, nameSchema, namespaceSchema as anyNamespaceSchema, parseExpiryInput, setTokenArgsSchema, tokenTypeSchema, VERIFY_SERVICES } from '../../server/core/model';

/**
 * A file or folder path an automation caller gives: a modal names it, so no control characters and
 * no bidirectional overrides (which could make "to the file …" read as another path).
 */
const pathArg = z
  .string()
  .min(1)
  .max(4096)
  .refine((p) => !/[\u0000-\u001f\u007f\u202a-\u202e\u2066-\u2069]/.test(p), 'a path without control or bidirectional-override characters');

export type CommandClass = 'read' | 'metadata' | 'release' | 'destroy';

export interface CommandSpec<S extends z.ZodType = z.ZodType> {
  readonly id: string;
  readonly class: CommandClass;
  /** The automation argument; `none` for commands that take no argument object. */
  readonly args: S;
  /** Accepts a `namespace:name` string or a Tokens-view element naming a token. */
  readonly acceptsKey?: boolean;
}

/** For commands that take no automation object (a tree element or key may still prefill them). */
export const none = z.object({}).strict();

/**
 * A namespace a command may name: never an internal one (OAuth refresh tokens and client
 * registrations, Recently Deleted values), which only the store's own features touch.
 */
export const namespaceSchema = anyNamespaceSchema.refine((ns) => !isInternalNamespace(ns), 'an internal namespace of MCP Tokens, which commands do not touch');

const key = { namespace: namespaceSchema, name: nameSchema };
const keyArgs = z.object(key).strict();
const keyList = z.array(z.union([z.object(key).strict(), z.string().max(300)])).max(10_000);
/** The optional verify settings a command may give (checked as a whole with `verifySettingsSchema` by the handler). */
const verifySettingsArgs = {
  service: z.enum(VERIFY_SERVICES).optional(),
  baseUrl: z.string().max(2048).optional(),
  url: z.string().max(2048).optional(),
  header: z.string().max(1024).optional(),
};
const trashId = z.string().regex(/^[A-Za-z0-9._-]{1,128}$/, 'not a Recently Deleted entry id');

/** Which audit events to show or export (`platform/audit.ts`). */
const auditFilter = z
  .object({
    /** `namespace:name` */
    token: z.string().max(300).optional(),
    days: z.number().int().min(1).max(3650).optional(),
    kind: z.enum(AUDIT_KINDS).optional(),
    outcome: z.enum(AUDIT_OUTCOMES).optional(),
  })
  .strict();

function spec<S extends z.ZodType>(id: string, cls: CommandClass, args: S, acceptsKey = false): CommandSpec<S> {
  return { id, class: cls, args, acceptsKey };
}

export const COMMANDS = {
  // ---- tokens -------------------------------------------------------------------------------
  setToken: spec(
    'mcpTokens.setToken',
    'destroy',
    z
      .object({
        namespace: namespaceSchema.optional(),
        name: nameSchema.optional(),
        type: tokenTypeSchema.optional(),
        value: setTokenArgsSchema.shape.value.optional(),
        expiresAt: setTokenArgsSchema.shape.expiresAt,
        /** mcp-cli's `--expires`: a date (2026-12-31), a date-time or a duration (30d, 12h, 2w); not with `expiresAt`. */
        expires: z.string().max(64).refine((v) => !parseExpiryInput(v, new Date()).error, 'expected a date (2026-12-31), a date-time or a duration (30d, 12h, 2w)').optional(),
        /** The service it is for (`github`, `openai`, … or free text): the value is checked against that provider's format rules. */
        provider: setTokenArgsSchema.shape.provider,
        description: setTokenArgsSchema.shape.description,
        backend: backendIdSchema.optional(),
        /** Replace an existing token without asking; the replaced value goes to Recently Deleted. */
        overwrite: z.boolean().optional(),
      })
      .strict(),
    true,
  ),
  showToken: spec('mcpTokens.showToken', 'read', keyArgs, true),
  copyToken: spec('mcpTokens.copyToken', 'release', keyArgs, true),
  copyReference: spec('mcpTokens.copyReference', 'read', keyArgs.extend({ form: z.enum(['angle', 'brace']).optional() }).strict(), true),
  deleteToken: spec('mcpTokens.deleteToken', 'destroy', keyArgs.extend({ force: z.boolean().optional() }).strict(), true),
  clearTokens: spec(
    'mcpTokens.clearTokens',
    'destroy',
    z.object({ namespace: namespaceSchema.optional(), expiredOnly: z.boolean().optional(), force: z.boolean().optional() }).strict(),
  ),
  clearExpiredTokens: spec('mcpTokens.clearExpiredTokens', 'destroy', z.object({ namespace: namespaceSchema.optional(), force: z.boolean().optional() }).strict()),
  rotateToken: spec('mcpTokens.rotateToken', 'destroy', keyArgs.extend({ value: setTokenArgsSchema.shape.value.optional() }).strict(), true),
  restorePreviousToken: spec('mcpTokens.restorePreviousToken', 'destroy', keyArgs, true),
  /** Makes an earlier version current (`id` from the token's History; default the newest); the current value becomes a version. */
  restoreTokenVersion: spec('mcpTokens.restoreTokenVersion', 'destroy', keyArgs.extend({ id: z.string().regex(/^\d{8}T\d{9}Z-[0-9a-f]{8}$/, 'not a version id').optional() }).strict(), true),
  generateToken: spec(
    'mcpTokens.generateToken',
    'destroy',
    z.object({ ...key, length: z.number().int().min(16).max(256).optional(), type: tokenTypeSchema.optional(), overwrite: z.boolean().optional() }).strict(),
    true,
  ),
  importFromEnv: spec(
    'mcpTokens.importFromEnv',
    'destroy',
    z
      .object({
        /** Read from this `.env` file instead of the extension host's environment. */
        file: pathArg.optional(),
        /** Variables to import, each mapped to `namespace:name` (the suggestion when empty). */
        variables: z.record(z.string().max(256), z.string().max(300)).optional(),
        overwrite: z.boolean().optional(),
      })
      .strict(),
  ),
  listTokens: spec(
    'mcpTokens.listTokens',
    'read',
    z
      .object({
        type: tokenTypeSchema.optional(),
        namespace: namespaceSchema.optional(),
        expiry: z.enum(['expired', 'soon', 'ok', 'none']).optional(),
        /** Return the matching metadata without showing the quick pick (automation). */
        noUi: z.boolean().optional(),
      })
      .strict(),
  ),
  filterTokens: spec(
    'mcpTokens.filterTokens',
    'read',
    /** `due`: expired or expiring soon (what the expiry status bar item shows). */
    z.object({ text: z.string().max(256).optional(), type: tokenTypeSchema.optional(), expiry: z.enum(['expired', 'soon', 'due', 'ok', 'none']).optional() }).strict(),
  ),
  showExpiringTokens: spec('mcpTokens.showExpiringTokens', 'read', none),
  clearFilter: spec('mcpTokens.clearFilter', 'read', none),
  refresh: spec('mcpTokens.refresh', 'read', none),
  revealToken: spec('mcpTokens.revealToken', 'read', keyArgs, true),
  showLog: spec('mcpTokens.showLog', 'read', none),
  listRecentlyDeleted: spec('mcpTokens.listRecentlyDeleted', 'read', none),
  restoreDeletedToken: spec('mcpTokens.restoreDeletedToken', 'destroy', z.object({ id: trashId }).strict()),
  deleteTokenPermanently: spec('mcpTokens.deleteTokenPermanently', 'destroy', z.object({ id: trashId }).strict()),
  emptyRecentlyDeleted: spec('mcpTokens.emptyRecentlyDeleted', 'destroy', none),

  // ---- verify -------------------------------------------------------------------------------
  /** Sends the value to its service's identity endpoint (asks once per token and origin); settings given here are saved with the result. */
  verifyToken: spec('mcpTokens.verifyToken', 'release', keyArgs.extend(verifySettingsArgs).strict(), true),
  verifyAllTokens: spec('mcpTokens.verifyAllTokens', 'release', none),
  /** Where Verify sends the token (service, enterprise base URL, generic URL and header); sends nothing. */
  configureVerify: spec('mcpTokens.configureVerify', 'metadata', keyArgs.extend(verifySettingsArgs).strict(), true),

  // ---- OAuth --------------------------------------------------------------------------------
  signIn: spec(
    'mcpTokens.signIn',
    'release',
    z
      .object({
        url: z.url({ protocol: /^https?$/ }).optional(),
        name: nameSchema.optional(),
        namespace: namespaceSchema.optional(),
        /** A pre-registered client: its id, and its secret as a token reference such as `$<TOKEN:oauth-client:acme>`. */
        clientId: z.string().min(1).max(512).optional(),
        clientSecret: z.string().max(300).optional(),
      })
      .strict(),
  ),
  signOut: spec('mcpTokens.signOut', 'destroy', keyArgs, true),
  refreshToken: spec('mcpTokens.refreshToken', 'metadata', keyArgs, true),
  refreshAllTokens: spec('mcpTokens.refreshAllTokens', 'metadata', none),

  // ---- runtime ------------------------------------------------------------------------------
  openUserServersFile: spec('mcpTokens.openUserServersFile', 'read', none),
  openWorkspaceServersFile: spec('mcpTokens.openWorkspaceServersFile', 'read', none),
  showAuditLog: spec('mcpTokens.showAuditLog', 'read', auditFilter, true),
  /** Writes the (filtered) audit events as JSON lines to a file the user picks in a save dialog (no value is in them). */
  exportAuditLog: spec('mcpTokens.exportAuditLog', 'read', auditFilter, true),
  revokeConsent: spec('mcpTokens.revokeConsent', 'metadata', keyArgs.extend({ fingerprint: z.string().regex(/^[0-9a-f]{64}$/).optional() }).strict(), true),
  moveServerToTokenFile: spec('mcpTokens.moveServerToTokenFile', 'metadata', z.object({ uri: z.unknown(), serverName: z.string().min(1).max(256) }).strict()),
  refreshServers: spec('mcpTokens.refreshServers', 'read', none),
  startServer: spec('mcpTokens.startServer', 'read', z.object({ label: z.string().min(1).max(512) }).strict()),
  setServerToken: spec('mcpTokens.setServerToken', 'metadata', z.object({ label: z.string().min(1).max(512) }).strict()),
  openServerDefinition: spec('mcpTokens.openServerDefinition', 'read', z.object({ label: z.string().min(1).max(512) }).strict()),

  // ---- backends -----------------------------------------------------------------------------
  checkBackends: spec('mcpTokens.checkBackends', 'read', z.object({ quiet: z.boolean().optional() }).strict()),
  moveTokensToBackend: spec('mcpTokens.moveTokensToBackend', 'release', z.object({ to: backendIdSchema.optional(), keys: keyList.optional() }).strict()),
  resumeMigration: spec('mcpTokens.resumeMigration', 'release', none),
  exportTokens: spec(
    'mcpTokens.exportTokens',
    'release',
    z.object({ keys: keyList.optional(), file: pathArg.optional(), passphrase: z.string().max(1024).optional() }).strict(),
  ),
  importTokens: spec(
    'mcpTokens.importTokens',
    'destroy',
    z
      .object({
        file: pathArg.optional(),
        passphrase: z.string().max(1024).optional(),
        backend: backendIdSchema.optional(),
        /** What to do with tokens that already exist: 'overwrite' (the replaced values go to Recently Deleted) or 'skip'. */
        existing: z.enum(['overwrite', 'skip']).optional(),
      })
      .strict(),
  ),
  setVaultToken: spec('mcpTokens.setVaultToken', 'destroy', z.object({ token: z.string().max(4096).optional() }).strict()),
  useVault: spec('mcpTokens.useVault', 'release', none),
  vaultLogin: spec('mcpTokens.vaultLogin', 'destroy', z.object({ roleId: z.string().max(512).optional(), secretId: z.string().max(4096).optional() }).strict()),
  refreshBackends: spec('mcpTokens.refreshBackends', 'read', none),

  // ---- launcher -----------------------------------------------------------------------------
  /** Writes the `mcp-tokens` shim (no value involved). `directory`: where; default `~/.local/bin`. */
  installLauncher: spec('mcpTokens.installLauncher', 'metadata', z.object({ directory: pathArg.optional() }).strict()),
} as const satisfies Record<string, CommandSpec>;

export type CommandName = keyof typeof COMMANDS;
export type ArgsOf<N extends CommandName> = z.infer<(typeof COMMANDS)[N]['args']>;

/** Every command id, for the manifest test. */
export const COMMAND_IDS: readonly string[] = Object.values(COMMANDS).map((c) => c.id);
