/** Builds the TokenStore with every backend available in this window. */
import * as vscode from 'vscode';
import type { Config } from '../config';
import type { BackendId } from '../../server/core/model';
import type { SecretBackend } from '../store/backend';
import { join } from 'node:path';
import { KeyringBackend, type KeyringModule } from './keyring';
import { loadPackagedKeyring } from './keyringNative';
import { McpCliRegistry, defaultRegistryPath } from './mcpCliRegistry';
import { VAULT_SECRET_ID_SECRET, VAULT_TOKEN_SECRET, VaultBackend, confirmedVaultTargets } from './vault';
import { SecretStorageBackend, SecretStorageIndex } from './secretStorage';
import { TokenStore } from '../store/tokenStore';
import { refreshKey } from '../oauth/session';

export function createTokenStore(context: vscode.ExtensionContext, config: Config, log: vscode.LogOutputChannel): TokenStore {
  const secretStorage = new SecretStorageBackend(context.secrets);
  const index = new SecretStorageIndex(context.secrets);
  const backends: SecretBackend[] = [secretStorage, ...createExternalBackends(context, config, log, () => store)];
  const store = new TokenStore({
    backends,
    index,
    backendFor: (ns) => config.backendFor(ns),
    log: (level, message) => log[level](message),
    // An OAuth token's refresh token is deleted, kept in the trash and restored with it.
    companionsOf: (meta) => (meta.type === 'oauth' ? [refreshKey(meta)] : []),
  });
  context.subscriptions.push(secretStorage, index, store, ...watchConsistency(store, config, log));
  return store;
}

/**
 * Tells the user, once per window, of metadata entries this version cannot use (kept as they are,
 * with a copy), offering to rebuild them from the backends; and discovers a backend's tokens again
 * when its settings change (a new Vault address, another keyring service, a namespace moved to it).
 */
function watchConsistency(store: TokenStore, config: Config, log: vscode.LogOutputChannel): vscode.Disposable[] {
  const rediscover = (ids?: BackendId[]) => () =>
    void store.discover(ids).catch((e) => log.warn(`Discovery after a settings change failed: ${e instanceof Error ? e.message : String(e)}`));
  return [
    store.onDidFindDamage(async (damage) => {
      const newer = damage.filter((d) => d.reason === 'newer').length;
      const text =
        `${damage.length} token metadata entr${damage.length === 1 ? 'y' : 'ies'} could not be read` +
        (newer ? ` (${newer} written by a newer version of MCP Token Manager, left as they are)` : '') +
        '. Nothing was overwritten, and a copy of each is kept; the tokens their backends hold are still listed.';
      const choice = await vscode.window.showWarningMessage(text, 'Rebuild from Backends');
      if (choice === 'Rebuild from Backends') {
        try {
          await store.rebuild();
          void vscode.window.showInformationMessage('The token metadata was rebuilt from the backends.');
        } catch (e) {
          void vscode.window.showErrorMessage(`Could not rebuild the token metadata: ${e instanceof Error ? e.message : String(e)}`);
        }
      }
    }),
    config.onDidChange(rediscover(['keyring']), 'keyring'),
    config.onDidChange(rediscover(['vault']), 'vault'),
    config.onDidChange(rediscover(), 'backend'),
  ];
}

/** The OS keyring and Vault backends, following their settings; credentials come from SecretStorage. */
function createExternalBackends(context: vscode.ExtensionContext, config: Config, log: vscode.LogOutputChannel, store: () => TokenStore | undefined): SecretBackend[] {
  const logTo = (level: 'info' | 'warn' | 'error', message: string) => log[level](message);
  const uses = (id: BackendId) => () =>
    config.defaultBackend() === id || Object.values(config.namespaceBackends()).includes(id) || (store()?.list().some((t) => t.backend === id) ?? false);
  const keyringOptions = () => {
    const path = config.keyringRegistryPath() ?? defaultRegistryPath();
    return { service: config.keyringService(), registry: config.keyringSyncRegistry() ? new McpCliRegistry(path) : undefined };
  };
  // The package's own binary (dist/native), unpacked into global storage on first use; none in the universal package.
  const load = () =>
    loadPackagedKeyring({
      nativeDir: join(context.extensionPath, 'dist', 'native'),
      cacheDir: join(context.globalStorageUri.fsPath, 'native'),
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      fallback: () => require('@napi-rs/keyring') as KeyringModule,
    });
  const keyring = new KeyringBackend({ ...keyringOptions(), load, isActive: uses('keyring'), log: logTo });
  const vault = new VaultBackend({
    settings: () => config.vault(),
    credentials: {
      getToken: async () => (await context.secrets.get(VAULT_TOKEN_SECRET)) || undefined,
      getSecretId: async () => (await context.secrets.get(VAULT_SECRET_ID_SECRET)) || undefined,
    },
    isActive: uses('vault'),
    log: logTo,
    // Only to an address (and TLS settings) the user confirmed: settings are writable by any extension.
    isConfirmed: (id) => confirmedVaultTargets(context.globalState).includes(id),
  });
  context.subscriptions.push(
    vault,
    config.onDidChange(() => keyring.configure(keyringOptions()), 'keyring'),
    config.onDidChange(() => vault.reset(), 'vault'),
    context.secrets.onDidChange((e) => {
      if (e.key === VAULT_TOKEN_SECRET || e.key === VAULT_SECRET_ID_SECRET) vault.reset();
    }),
  );
  return [keyring, vault];
}
