/** Builds the TokenStore with every backend available in this window. */
import * as vscode from 'vscode';
import type { Config } from '../config';
import type { BackendId } from '../../server/core/model';
import type { SecretBackend } from './backend';
import { KeyringBackend } from './keyringBackend';
import { McpCliRegistry, defaultRegistryPath } from './mcpCliRegistry';
import { VAULT_CONFIRMED_KEY, VAULT_SECRET_ID_SECRET, VAULT_TOKEN_SECRET, VaultBackend } from './vaultBackend';
import { SecretStorageBackend, SecretStorageIndex } from './secretStorageBackend';
import { TokenStore } from './tokenStore';
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
  context.subscriptions.push(secretStorage, index, store);
  return store;
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
  const keyring = new KeyringBackend({ ...keyringOptions(), isActive: uses('keyring'), log: logTo });
  const vault = new VaultBackend({
    settings: () => config.vault(),
    credentials: {
      getToken: async () => (await context.secrets.get(VAULT_TOKEN_SECRET)) || undefined,
      getSecretId: async () => (await context.secrets.get(VAULT_SECRET_ID_SECRET)) || undefined,
    },
    isActive: uses('vault'),
    log: logTo,
    // Only to an address (and TLS settings) the user confirmed: settings are writable by any extension.
    isConfirmed: (id) => (context.globalState.get<string[]>(VAULT_CONFIRMED_KEY) ?? []).includes(id),
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
