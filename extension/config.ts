/**
 * Typed access to every setting of `mcpTokens.*`. Features read settings only through this module,
 * so each setting has one name, one type and one default (matching package.json). A backend's own
 * section (`mcpTokens.vault.*`, `mcpTokens.keyring.*`) is read through `section()` and parsed by that
 * backend's file; which backend ids are valid, from store/backendIds.ts (the list the backend registry builds).
 */
import * as vscode from 'vscode';
import type { BackendId } from '../server/core/model';
import { MCP_CLI_CONFIG_FILE } from '../server/core/mcpConfig';
import { settingsSection, type SettingsSection } from './store/backend';
import { parseBackendId } from './store/backendIds';

const SECTION = 'mcpTokens';

function read<T>(key: string, fallback: T, scope?: vscode.ConfigurationScope): T {
  const v = vscode.workspace.getConfiguration(SECTION, scope).get<T>(key);
  return v === undefined || v === null ? fallback : v;
}

function clampNumber(v: unknown, min: number, max: number, fallback: number): number {
  return typeof v === 'number' && Number.isFinite(v) ? Math.min(max, Math.max(min, v)) : fallback;
}

export const config = {
  /** Days before expiry from which a token counts as "expiring soon". */
  expiryWarningDays(): number {
    return clampNumber(read('expiryWarningDays', 7), 0, 365, 7);
  },
  /** Seconds after which a copied value is cleared from the clipboard (0: never). */
  clipboardClearSeconds(): number {
    return clampNumber(read('clipboardClearSeconds', 30), 0, 3600, 30);
  },
  /** Days a deleted or replaced value stays in Recently Deleted (at least 1: nothing is removed at once). */
  recentlyDeletedDays(): number {
    return clampNumber(read('recentlyDeleted.days', 30), 1, 365, 30);
  },
  /** Length in characters of tokens made by "Generate Token" and rotation without a value. */
  generatedTokenLength(): number {
    return clampNumber(read('generatedTokenLength', 40), 16, 256, 40);
  },
  /** The backend new tokens go to (one this window has; otherwise SecretStorage). */
  defaultBackend(): BackendId {
    return parseBackendId(read<unknown>('backend.default', 'secretStorage')) ?? 'secretStorage';
  },
  /** Per-namespace backend overrides, e.g. `{ "team": "vault" }` (entries naming no backend of this window are ignored). */
  namespaceBackends(): Record<string, BackendId> {
    const raw = read<Record<string, unknown>>('backend.namespaces', {});
    const out: Record<string, BackendId> = {};
    for (const [ns, v] of Object.entries(raw ?? {})) {
      const id = parseBackendId(v);
      if (id) out[ns] = id;
    }
    return out;
  },
  backendFor(namespace: string): BackendId {
    return config.namespaceBackends()[namespace] ?? config.defaultBackend();
  },
  /**
   * `mcpTokens.<name>.*`: the settings section a backend owns (`vault`, `keyring`), which that
   * backend's descriptor parses (backends/registry.ts), so this module names no backend.
   */
  section(name: string): SettingsSection {
    return settingsSection((key) => vscode.workspace.getConfiguration(SECTION).get<unknown>(`${name}.${key}`) ?? undefined);
  },
  /** `mcpTokens.languageServer.extraFiles`: extra globs of MCP config files the language server handles. */
  languageServerExtraFiles(): string[] {
    const v = read<unknown>('languageServer.extraFiles', []);
    return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string' && x.trim().length > 0).slice(0, 256) : [];
  },
  /** HTTPS URL of this client's OAuth Client ID Metadata Document, used where a server supports it (empty: none). */
  oauthClientMetadataUrl(): string | undefined {
    const v = read<string>('oauth.clientMetadataUrl', '').trim();
    return /^https:\/\/[^/]+\/.+/.test(v) ? v : undefined;
  },
  /**
   * mcp-cli `server_config.json` files served by the MCP provider: `true` for `server_config.json`
   * in each folder root, or paths (relative to each folder, or absolute); `[]` for none. An
   * application setting, read without a resource scope: a workspace cannot point it at a file.
   */
  serversMcpCliConfig(): string[] {
    const v = read<unknown>('servers.mcpCliConfig', false);
    if (v === true) return [MCP_CLI_CONFIG_FILE];
    if (typeof v === 'string' && v.trim()) return [v.trim()];
    if (Array.isArray(v)) return v.filter((p): p is string => typeof p === 'string' && p.trim() !== '').map((p) => p.trim());
    return [];
  },
  /** What happens to a running server whose token was rotated or deleted. */
  serversRestartOnTokenChange(): 'always' | 'ask' | 'never' {
    const v = read<string>('servers.restartOnTokenChange', 'ask');
    return v === 'always' || v === 'never' ? v : 'ask';
  },
  /** Fires when any `mcpTokens.*` setting (or the one given) changes. */
  onDidChange(listener: (e: vscode.ConfigurationChangeEvent) => void, key?: string): vscode.Disposable {
    return vscode.workspace.onDidChangeConfiguration((e) => {
      if (e.affectsConfiguration(key ? `${SECTION}.${key}` : SECTION)) listener(e);
    });
  },
};

export type Config = typeof config;
