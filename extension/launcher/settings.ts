/**
 * What the launcher learns from the user's VS Code settings, without VS Code: the `mcpTokens.*`
 * settings of the user `settings.json` (never a workspace's: a cloned repository must not point the
 * launcher at its own Vault). Only non-secret settings live there; credentials come from the
 * environment (VAULT_TOKEN, …). No `vscode` import.
 *
 * The user data folder is the first that exists of: $MCP_TOKENS_VSCODE_USER_DIR, then for each of
 * VS Code, VS Code Insiders, VSCodium, Cursor, code-server the platform's `…/User` folder. The same
 * folder holds the extension's global storage, where the audit log is (`globalStorage/<extension id>/audit.jsonl`).
 */
import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { parse as parseJsonc, type ParseError } from 'jsonc-parser';
import type { BackendId } from '../../server/core/model';

/** The extension's id (`publisher.name` of package.json): its global storage folder's name. */
export const EXTENSION_ID = 'mcp-tokens.mcp-token-manager';

export interface LauncherSettings {
  readonly defaultBackend: BackendId;
  readonly namespaceBackends: Readonly<Record<string, BackendId>>;
  readonly keyringService: string;
  readonly keyringSyncRegistry: boolean;
  readonly keyringRegistryPath?: string;
  /** The `mcpTokens.vault.*` settings that are set, by key without the prefix (the Vault backend's defaults fill the rest). */
  readonly vault: VaultSettingsGiven;
}

type Env = Readonly<Record<string, string | undefined>>;

/** The `mcpTokens.vault.*` keys of the extension's VaultSettings (extension/backends/vault.ts) that are set. */
export interface VaultSettingsGiven {
  readonly address?: string;
  readonly namespace?: string;
  readonly mount?: string;
  readonly pathPrefix?: string;
  readonly layout?: 'mcpTokens' | 'mcpCli';
  readonly authMethod?: 'token' | 'approle';
  readonly appRoleId?: string;
  readonly appRoleMount?: string;
  readonly caFile?: string;
  readonly tlsSkipVerify?: boolean;
  readonly timeoutMs?: number;
}

/** Candidate `User` folders of VS Code and its relatives, most likely first. Pure. */
export function userDirCandidates(env: Env, home: string, platform: NodeJS.Platform): string[] {
  const p = platform === 'win32' ? path.win32 : path.posix;
  if (env.MCP_TOKENS_VSCODE_USER_DIR) return [env.MCP_TOKENS_VSCODE_USER_DIR];
  const products = ['Code', 'Code - Insiders', 'VSCodium', 'Cursor'];
  let base: string;
  if (platform === 'win32') base = env.APPDATA ?? p.join(home, 'AppData', 'Roaming');
  else if (platform === 'darwin') base = p.join(home, 'Library', 'Application Support');
  else base = env.XDG_CONFIG_HOME ?? p.join(home, '.config');
  const out = products.map((product) => p.join(base, product, 'User'));
  // code-server keeps its user data in ~/.local/share/code-server.
  if (platform !== 'win32') out.push(p.join(env.XDG_DATA_HOME ?? p.join(home, '.local', 'share'), 'code-server', 'User'));
  return out;
}

const BACKENDS: readonly BackendId[] = ['secretStorage', 'keyring', 'vault'];
const isBackend = (v: unknown): v is BackendId => typeof v === 'string' && (BACKENDS as readonly string[]).includes(v);

/** The launcher's settings from the parsed `settings.json` object (flat `mcpTokens.x.y` keys). Pure. */
export function settingsFrom(raw: unknown): LauncherSettings {
  const obj = raw && typeof raw === 'object' && !Array.isArray(raw) ? (raw as Record<string, unknown>) : {};
  const get = (k: string): unknown => obj[`mcpTokens.${k}`];
  const str = (k: string, fallback = ''): string => {
    const v = get(k);
    return typeof v === 'string' ? v.trim() : fallback;
  };
  const namespaces: Record<string, BackendId> = {};
  const ns = get('backend.namespaces');
  if (ns && typeof ns === 'object' && !Array.isArray(ns)) for (const [k, v] of Object.entries(ns)) if (isBackend(v)) namespaces[k] = v;
  const dflt = get('backend.default');
  return {
    defaultBackend: isBackend(dflt) ? dflt : 'secretStorage',
    namespaceBackends: namespaces,
    keyringService: str('keyring.service') || 'mcp-cli',
    keyringSyncRegistry: get('keyring.mcpCliRegistry') !== false,
    keyringRegistryPath: str('keyring.registryPath') || undefined,
    vault: vaultSettingsFrom(get),
  };
}

/** The `mcpTokens.vault.*` settings present in the file, cleaned as the extension's config.ts does. */
function vaultSettingsFrom(get: (k: string) => unknown): VaultSettingsGiven {
  const out: Record<string, unknown> = {};
  const text = (k: string) => {
    const v = get(`vault.${k}`);
    return typeof v === 'string' && v.trim() ? v.trim() : undefined;
  };
  for (const k of ['address', 'namespace', 'pathPrefix', 'appRoleId', 'caFile'] as const) if (text(k) !== undefined) out[k] = text(k);
  const mount = text('mount')?.replace(/^\/+|\/+$/g, '');
  if (mount) out.mount = mount;
  if (text('layout') === 'mcpCli') out.layout = 'mcpCli';
  if (text('authMethod') === 'approle') out.authMethod = 'approle';
  if (text('appRoleMount')) out.appRoleMount = text('appRoleMount');
  if (get('vault.tlsSkipVerify') === true) out.tlsSkipVerify = true;
  const timeout = get('vault.timeoutMs');
  if (typeof timeout === 'number' && Number.isFinite(timeout)) out.timeoutMs = Math.min(120_000, Math.max(500, timeout));
  return out as VaultSettingsGiven;
}

export interface LoadedSettings {
  readonly settings: LauncherSettings;
  /** The `User` folder found (undefined: none of the candidates exists). */
  readonly userDir?: string;
  /** Why settings.json was not used, when it exists but does not parse. */
  readonly problem?: string;
}

/** Reads the user's settings (defaults when there is no VS Code user folder or no settings.json). */
export function loadSettings(env: Env, home: string, platform: NodeJS.Platform = process.platform): LoadedSettings {
  const userDir = userDirCandidates(env, home, platform).find((d) => existsSync(d));
  if (!userDir) return { settings: settingsFrom({}) };
  const file = path.join(userDir, 'settings.json');
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return { settings: settingsFrom({}), userDir };
  }
  const errors: ParseError[] = [];
  const raw: unknown = parseJsonc(text, errors, { allowTrailingComma: true });
  if (errors.length && (raw === undefined || typeof raw !== 'object')) return { settings: settingsFrom({}), userDir, problem: `${file} does not parse; its mcpTokens.* settings are not used.` };
  return { settings: settingsFrom(raw), userDir };
}

/** The backend a namespace is configured for explicitly (`mcpTokens.backend.namespaces`), if any. */
export function pinnedBackend(settings: LauncherSettings, namespace: string): BackendId | undefined {
  return settings.namespaceBackends[namespace];
}
