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

/** The words of a version node. Pure (no value: the time, who replaced it, where it is kept). */
export function describeVersion(v: HistoryVersion, position: number): { label: string; description: string; tooltip: string } {
  const when = v.replacedAt.replace('T', ' ').replace(/\.\d+Z$|Z$/, ' UTC');
  const by = v.by ? `by ${v.by}` : 'by an unknown caller';
  return {
    label: when,
    description: `#${position} · replaced ${by}`,
    tooltip: [
      `Version ${position} (newest first): the value that was current${v.setAt ? ` from ${v.setAt}` : ''} until ${v.replacedAt}.`,
      `Replaced ${by}.`,
      v.kv !== undefined ? `Kept as Vault KV version ${v.kv}.` : 'Kept in the token’s backend.',
      'Restore makes it current again; the value current then becomes the newest version.',
    ].join('\n'),
  };
}

export function historyTreeItem(meta: TokenMetadata | undefined, el: HistoryElement): vscode.TreeItem {
  const count = meta?.history?.length ?? 0;
  const item = new vscode.TreeItem('History', vscode.TreeItemCollapsibleState.Collapsed);
  item.id = `history:${keyId(el)}`;
  item.description = `${count} earlier value${count === 1 ? '' : 's'}`;
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
  item.accessibilityInformation = { label: `${keyId(el)} version ${el.position}, replaced ${el.version.replacedAt}` };
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
      void vscode.window.showInformationMessage('No token has earlier versions yet.');
      return undefined;
    }
    const pick = await vscode.window.showQuickPick(
      withHistory.map((t) => ({ label: keyId(t), description: `${t.history!.length} earlier value${t.history!.length === 1 ? '' : 's'}`, key: { namespace: t.namespace, name: t.name } })),
      { title: 'Restore a Token Version', placeHolder: 'Pick a token' },
    );
    if (!pick) return undefined;
    key = pick.key;
  }
  const meta = s.store.get(key);
  if (!meta) throw new ArgumentError(`No token ${keyId(key)} is stored.`);
  const versions = s.store.listHistory(key);
  if (!versions.length) throw new ArgumentError(`Token ${keyId(key)} has no earlier versions.`);
  if (id === undefined && input.via === 'ui') {
    const pick = await vscode.window.showQuickPick(
      versions.map((v, i) => ({ ...describeVersion(v, i + 1), id: v.id, detail: undefined })),
      { title: `Restore a version of ${keyId(key)}`, placeHolder: 'Pick the version to make current' },
    );
    if (!pick) return undefined;
    id = pick.id;
  }
  const version = id === undefined ? versions[0] : versions.find((v) => v.id === id);
  if (!version) throw new ArgumentError(`Token ${keyId(key)} has no version ${id}.`);
  const position = versions.indexOf(version) + 1;
  const ok = await s.gate.destroy({
    what: `the value of ${keyId(key)} with version ${position} (replaced ${version.replacedAt})`,
    action: 'Restore',
    detail: 'The current value becomes the newest version of the History.',
    recoverable: true,
    keptIn: 'History',
    // An automation caller may restore without the question: the current value stays restorable.
    skipQuestion: input.via === 'args',
  });
  if (!ok) return undefined;
  const restored = await s.store.restoreVersion(key, version.id);
  s.log.info(`Restored version ${position} of ${keyId(key)} (replaced ${version.replacedAt}).`);
  if (input.via === 'ui') void vscode.window.showInformationMessage(`Restored version ${position} of ${keyId(key)}. The replaced value is now the newest version in its History.`);
  return restored;
}
