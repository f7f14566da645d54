/** Builds the TokenStore with every backend available in this window. */
import { errorText } from '../../server/core/errors';
import * as vscode from 'vscode';
import { join } from 'node:path';
import type { Config } from '../config';
import { sentences } from '../platform/l10n';
import { BACKEND_LABELS, type BackendId } from '../../server/core/model';
import type { SecretBackend } from '../store/backend';
import { refreshKey } from '../../server/core/oauthKeys';
import { backendRegistry, createBackends, type BackendRegistry } from './registry';
import { SecretStorageIndex } from './secretStorage';
import { TokenStore } from '../store/tokenStore';

export function createTokenStore(context: vscode.ExtensionContext, config: Config, channel: vscode.LogOutputChannel, registry: BackendRegistry = backendRegistry): TokenStore {
  const index = new SecretStorageIndex(context.secrets);
  const uses = (id: BackendId) =>
    config.defaultBackend() === id || Object.values(config.namespaceBackends()).includes(id) || (store?.list().some((t) => t.backend === id) ?? false);
  const log = (level: 'info' | 'warn' | 'error', message: string) => channel[level](message);
  const native = { dir: join(context.extensionPath, 'dist', 'native'), cacheDir: join(context.globalStorageUri.fsPath, 'native') };
  const backends = createBackends(registry, { secrets: context.secrets, globalState: context.globalState, config, log, subscriptions: context.subscriptions, native }, uses);
  const store: TokenStore = new TokenStore({
    backends,
    index,
    backendFor: (ns) => config.backendFor(ns),
    log,
    // An OAuth token's refresh token is deleted, kept in the trash and restored with it.
    companionsOf: (meta) => (meta.type === 'oauth' ? [refreshKey(meta)] : []),
    historyLimits: () => config.historyLimits(),
  });
  context.subscriptions.push(index, store, ...watchConsistency(store, config, channel, registry), warnWhenChosenUnavailable(backends, config));
  return store;
}

/**
 * Choosing, in `mcpTokens.backend.*`, a backend this window cannot use (the OS keyring in the universal
 * package, or on a machine without a Secret Service) says so at once, with its health's cause and fix,
 * rather than at the first token stored there.
 */
function warnWhenChosenUnavailable(backends: readonly SecretBackend[], config: Config): vscode.Disposable {
  const chosen = () => new Set<BackendId>([config.defaultBackend(), ...Object.values(config.namespaceBackends())]);
  let before = chosen();
  return config.onDidChange(async () => {
    const now = chosen();
    const added = [...now].filter((id) => !before.has(id));
    before = now;
    for (const backend of backends.filter((b) => added.includes(b.id))) {
      const health = await backend.health().catch(() => undefined);
      if (health && !health.available) {
        void vscode.window.showWarningMessage(
          vscode.l10n.t('"mcpTokens.backend" now chooses {0}, which cannot be used here: {1} {2}', BACKEND_LABELS[backend.id], health.cause ?? '', health.fix ?? '').trim(),
        );
      }
    }
  }, 'backend');
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
      const rest = vscode.l10n.t('Nothing was overwritten, and a copy of each is kept; the tokens their backends hold are still listed.');
      const unread =
        damage.length === 1
          ? newer
            ? vscode.l10n.t('1 token metadata entry could not be read ({0} written by a newer version of MCP Token Manager, left as they are).', newer)
            : vscode.l10n.t('1 token metadata entry could not be read.')
          : newer
            ? vscode.l10n.t('{0} token metadata entries could not be read ({1} written by a newer version of MCP Token Manager, left as they are).', damage.length, newer)
            : vscode.l10n.t('{0} token metadata entries could not be read.', damage.length);
      const rebuild = vscode.l10n.t('Rebuild from Backends');
      const choice = await vscode.window.showWarningMessage(sentences(unread, rest), rebuild);
      if (choice === rebuild) {
        try {
          await store.rebuild();
          void vscode.window.showInformationMessage(vscode.l10n.t('The token metadata was rebuilt from the backends.'));
        } catch (e) {
          void vscode.window.showErrorMessage(vscode.l10n.t('Could not rebuild the token metadata: {0}', errorText(e)));
        }
      }
    }),
    ...registry.descriptors.flatMap((d) => (d.section ? [config.onDidChange(rediscover([d.id]), d.section)] : [])),
    config.onDidChange(rediscover(), 'backend'),
  ];
}
