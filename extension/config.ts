/**
 * Typed access to every setting of `mcpTokens.*`. Features read settings only through this module,
 * so each setting has one name, one type and one default (matching package.json).
 */
import * as vscode from 'vscode';
import type { BackendId } from '../server/core/model';
import { MCP_CLI_CONFIG_FILE } from '../server/core/mcpConfig';
import type { VaultSettings } from './backends/vault';

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
  /** The backend new tokens go to. */
  defaultBackend(): BackendId {
    const v = read<string>('backend.default', 'secretStorage');
    return v === 'keyring' || v === 'vault' ? v : 'secretStorage';
  },
  /** Per-namespace backend overrides, e.g. `{ "team": "vault" }`. */
  namespaceBackends(): Record<string, BackendId> {
    const raw = read<Record<string, unknown>>('backend.namespaces', {});
    const out: Record<string, BackendId> = {};
    for (const [ns, id] of Object.entries(raw ?? {})) {
      if (id === 'secretStorage' || id === 'keyring' || id === 'vault') out[ns] = id;
    }
    return out;
  },
  backendFor(namespace: string): BackendId {
    return config.namespaceBackends()[namespace] ?? config.defaultBackend();
  },
  /** `mcpTokens.vault.*`: where and how the Vault backend connects (credentials live in SecretStorage, never here). */
  vault(): VaultSettings {
    const str = (k: string, fallback = '') => {
      const v = read<unknown>(`vault.${k}`, fallback);
      return typeof v === 'string' ? v.trim() : fallback;
    };
    return {
      address: str('address'),
      namespace: str('namespace'),
      mount: str('mount', 'secret').replace(/^\/+|\/+$/g, '') || 'secret',
      pathPrefix: str('pathPrefix'),
      layout: str('layout') === 'mcpCli' ? 'mcpCli' : 'mcpTokens',
      authMethod: str('authMethod') === 'approle' ? 'approle' : 'token',
      appRoleId: str('appRoleId'),
      appRoleMount: str('appRoleMount', 'approle') || 'approle',
      caFile: str('caFile'),
      tlsSkipVerify: read<unknown>('vault.tlsSkipVerify', false) === true,
      timeoutMs: clampNumber(read('vault.timeoutMs', 10000), 500, 120000, 10000),
    };
  },
  /** `mcpTokens.keyring.service`: the keyring service name (mcp-cli's `mcp-cli` by default). */
  keyringService(): string {
    const v = read<unknown>('keyring.service', 'mcp-cli');
    return typeof v === 'string' && v.trim() ? v.trim() : 'mcp-cli';
  },
  /** `mcpTokens.keyring.mcpCliRegistry`: keep mcp-cli's token registry file in step. */
  keyringSyncRegistry(): boolean {
    return read<unknown>('keyring.mcpCliRegistry', true) !== false;
  },
  /** `mcpTokens.keyring.registryPath`: mcp-cli's registry file (empty: `~/.chuk_oauth/token_registry.json`). */
  keyringRegistryPath(): string | undefined {
    const v = read<unknown>('keyring.registryPath', '');
    return typeof v === 'string' && v.trim() ? v.trim() : undefined;
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
