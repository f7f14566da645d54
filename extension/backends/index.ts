/** Builds the TokenStore with every backend available in this window. */
import { errorText } from '../../server/core/errors';
import * as vscode from 'vscode';
import type { Config } from '../config';
import type { BackendId } from '../../server/core/model';
import { refreshKey } from '../../server/core/oauthKeys';
import { backendRegistry, createBackends, type BackendRegistry } from './registry';
import { SecretStorageIndex } from './secretStorage';
import { TokenStore } from '../store/tokenStore';

export function createTokenStore(context: vscode.ExtensionContext, config: Config, channel: vscode.LogOutputChannel, registry: BackendRegistry = backendRegistry): TokenStore {
  const index = new SecretStorageIndex(context.secrets);
  const uses = (id: BackendId) =>
    config.defaultBackend() === id || Object.values(config.namespaceBackends()).includes(id) || (store?.list().some((t) => t.backend === id) ?? false);
  const log = (level: 'info' | 'warn' | 'error', message: string) => channel[level](message);
  const backends = createBackends(registry, { secrets: context.secrets, globalState: context.globalState, config, log, subscriptions: context.subscriptions }, uses);
  const store: TokenStore = new TokenStore({
    backends,
    index,
    backendFor: (ns) => config.backendFor(ns),
    log,
    // An OAuth token's refresh token is deleted, kept in the trash and restored with it.
    companionsOf: (meta) => (meta.type === 'oauth' ? [refreshKey(meta)] : []),
  });
  context.subscriptions.push(index, store, ...watchConsistency(store, config, channel, registry));
  return store;
}

/**
 * Tells the user, once per window, of metadata entries this version cannot use (kept as they are,
 * with a copy), offering to rebuild them from the backends; and discovers a backend's tokens again
 * when its settings change (a new Vault address, another keyring service, a namespace moved to it).
 */
function watchConsistency(store: TokenStore, config: Config, log: vscode.LogOutputChannel, registry: BackendRegistry): vscode.Disposable[] {
  const rediscover = (ids?: BackendId[]) => () =>
    void store.discover(ids).catch((e) => log.warn(`Discovery after a settings change failed: ${errorText(e)}`));
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
          void vscode.window.showErrorMessage(`Could not rebuild the token metadata: ${errorText(e)}`);
        }
      }
    }),
    ...registry.descriptors.flatMap((d) => (d.section ? [config.onDidChange(rediscover([d.id]), d.section)] : [])),
    config.onDidChange(rediscover(), 'backend'),
  ];
}
