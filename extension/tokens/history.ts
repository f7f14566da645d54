/**
 * Version history in the Tokens view: a collapsible "History" node under each token that has earlier
 * values, one child per version (when it was replaced, and by whom; never the value), and the command
 * that makes a version current again (`restoreTokenVersion`). The store keeps the versions
 * (`TokenStore.listHistory`, `restoreVersion`); the current value becomes a version on restore, so
 * nothing is lost.
 */
import * as vscode from 'vscode';
import type { HistoryVersion, TokenMetadata } from '../../server/core/model';
import { keyId, type TokenKey } from '../../server/core/reference';
import { ArgumentError, errorText, inputKey, registerCommandGroup, type CommandInput } from '../platform/commands';
import type { ArgsOf } from '../platform/commandTable';
import type { Services } from '../services';

/** The "History" node under a token. */
export interface HistoryElement {
  readonly treeElement: true;
  readonly kind: 'history';
  readonly namespace: string;
  readonly name: string;
}

/** One earlier version (its `id` is what Restore acts on). */
export interface VersionElement {
  readonly treeElement: true;
  readonly kind: 'version';
  readonly namespace: string;
  readonly name: string;
  readonly id: string;
  readonly version: HistoryVersion;
  /** 1 = the newest earlier version. */
  readonly position: number;
}

export function historyNode(meta: TokenMetadata): HistoryElement | undefined {
  return meta.history?.length ? { treeElement: true, kind: 'history', namespace: meta.namespace, name: meta.name } : undefined;
}

export function versionNodes(meta: TokenMetadata | undefined): VersionElement[] {
  return (meta?.history ?? []).map((version, i) => ({ treeElement: true, kind: 'version', namespace: meta!.namespace, name: meta!.name, id: version.id, version, position: i + 1 }));
}

/** The words of a version node (no value: the time, who replaced it, where it is kept). */
export function describeVersion(v: HistoryVersion, position: number): { label: string; description: string; tooltip: string } {
  const when = v.replacedAt.replace('T', ' ').replace(/\.\d+Z$|Z$/, ' UTC');
  return {
    label: when,
    description: v.by ? vscode.l10n.t('#{0} · replaced by {1}', position, v.by) : vscode.l10n.t('#{0} · replaced by an unknown caller', position),
    tooltip: [
      v.setAt
        ? vscode.l10n.t('Version {0} (newest first): the value that was current from {1} until {2}.', position, v.setAt, v.replacedAt)
        : vscode.l10n.t('Version {0} (newest first): the value that was current until {1}.', position, v.replacedAt),
      v.by ? vscode.l10n.t('Replaced by {0}.', v.by) : vscode.l10n.t('Replaced by an unknown caller.'),
      v.kv !== undefined ? vscode.l10n.t('Kept as Vault KV version {0}.', v.kv) : vscode.l10n.t('Kept in the token’s backend.'),
      vscode.l10n.t('Restore makes it current again; the value current then becomes the newest version.'),
    ].join('\n'),
  };
}

/** "1 earlier value", "3 earlier values". */
function earlierValues(n: number): string {
  return n === 1 ? vscode.l10n.t('1 earlier value') : vscode.l10n.t('{0} earlier values', n);
}

export function historyTreeItem(meta: TokenMetadata | undefined, el: HistoryElement): vscode.TreeItem {
  const count = meta?.history?.length ?? 0;
  const item = new vscode.TreeItem(vscode.l10n.t('History'), vscode.TreeItemCollapsibleState.Collapsed);
  item.id = `history:${keyId(el)}`;
  item.description = earlierValues(count);
  item.iconPath = new vscode.ThemeIcon('history');
  item.contextValue = 'tokenHistory';
  return item;
}

export function versionTreeItem(el: VersionElement): vscode.TreeItem {
  const d = describeVersion(el.version, el.position);
  const item = new vscode.TreeItem(d.label, vscode.TreeItemCollapsibleState.None);
  item.id = `version:${keyId(el)}:${el.id}`;
  item.description = d.description;
  item.tooltip = d.tooltip;
  item.iconPath = new vscode.ThemeIcon('git-commit');
  item.contextValue = 'tokenVersion';
  item.accessibilityInformation = { label: vscode.l10n.t('{0} version {1}, replaced {2}', keyId(el), el.position, el.version.replacedAt) };
  return item;
}

export function registerHistoryCommands(s: Services): void {
  registerCommandGroup(s, {
    restoreTokenVersion: (input) => restoreTokenVersion(s, input),
  });
  // Versions older than the limits go: at start (time passes without writes) and twice a day.
  const prune = () => void s.store.ready().then(() => s.store.pruneHistory()).catch((e) => s.log.warn(`Could not prune the token history: ${errorText(e)}`));
  prune();
  const timer = setInterval(prune, 12 * 3600 * 1000);
  s.context.subscriptions.push({ dispose: () => clearInterval(timer) }, s.config.onDidChange(prune, 'history'));
}

async function restoreTokenVersion(s: Services, input: CommandInput<ArgsOf<'restoreTokenVersion'>>): Promise<TokenMetadata | undefined> {
  await s.store.ready();
  const given = inputKey(input);
  let key: TokenKey | undefined = given;
  let id: string | undefined = input.via === 'args' ? input.args.id : typeof input.element?.id === 'string' && input.element.kind === 'version' ? input.element.id : undefined;
  if (!key) {
    const withHistory = s.store.list().filter((t) => t.history?.length);
    if (!withHistory.length) {
      void vscode.window.showInformationMessage(vscode.l10n.t('No token has earlier versions yet.'));
      return undefined;
    }
    const pick = await vscode.window.showQuickPick(
      withHistory.map((t) => ({ label: keyId(t), description: earlierValues(t.history!.length), key: { namespace: t.namespace, name: t.name } })),
      { title: vscode.l10n.t('Restore a Token Version'), placeHolder: vscode.l10n.t('Pick a token') },
    );
    if (!pick) return undefined;
    key = pick.key;
  }
  const meta = s.store.get(key);
  if (!meta) throw new ArgumentError(vscode.l10n.t('No token {0} is stored.', keyId(key)));
  const versions = s.store.listHistory(key);
  if (!versions.length) throw new ArgumentError(vscode.l10n.t('Token {0} has no earlier versions.', keyId(key)));
  if (id === undefined && input.via === 'ui') {
    const pick = await vscode.window.showQuickPick(
      versions.map((v, i) => ({ ...describeVersion(v, i + 1), id: v.id, detail: undefined })),
      { title: vscode.l10n.t('Restore a version of {0}', keyId(key)), placeHolder: vscode.l10n.t('Pick the version to make current') },
    );
    if (!pick) return undefined;
    id = pick.id;
  }
  const version = id === undefined ? versions[0] : versions.find((v) => v.id === id);
  if (!version) throw new ArgumentError(vscode.l10n.t('Token {0} has no version {1}.', keyId(key), String(id)));
  const position = versions.indexOf(version) + 1;
  const ok = await s.gate.destroy({
    what: vscode.l10n.t('the value of {0} with version {1} (replaced {2})', keyId(key), position, version.replacedAt),
    action: vscode.l10n.t('Restore'),
    detail: vscode.l10n.t('The current value becomes the newest version of the History.'),
    recoverable: true,
    keptIn: 'History',
    // An automation caller may restore without the question: the current value stays restorable.
    skipQuestion: input.via === 'args',
  });
  if (!ok) return undefined;
  const restored = await s.store.restoreVersion(key, version.id);
  s.log.info(`Restored version ${position} of ${keyId(key)} (replaced ${version.replacedAt}).`);
  if (input.via === 'ui') void vscode.window.showInformationMessage(vscode.l10n.t('Restored version {0} of {1}. The replaced value is now the newest version in its History.', position, keyId(key)));
  return restored;
}
