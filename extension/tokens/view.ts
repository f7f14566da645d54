/**
 * The Tokens view (`mcpTokens.tokens`): namespaces, then tokens, each with type and expiry and a
 * Markdown tooltip of its metadata; a filter; and children that other features contribute under a
 * token (for example the servers allowed to use it).
 */
import * as vscode from 'vscode';
import { ArgumentError, inputKey, registerCommandGroup } from '../platform/commands';
import { TOKEN_TYPES, expiryState, type TokenMetadata } from '../../server/core/model';
import { keyId, type TokenKey } from '../../server/core/reference';
import type { DeletedToken } from '../store/tokenStore';
import type { CoreServices, Services, TokenChild, TokenChildSource, TokensViewApi } from '../services';
import { errorText } from '../platform/commandInput';
import { markdownDescription, shortDescription } from './description';
import { historyNode, historyTreeItem, versionNodes, versionTreeItem, type HistoryElement, type VersionElement } from './history';

/** Tree elements. `treeElement: true` tells commands this is a view item, not automation arguments. */
export type TokenTreeElement = NamespaceElement | TokenElement | ChildElement | RecentlyDeletedElement | DeletedElement | HistoryElement | VersionElement;

/** The "Recently Deleted" node: replaced and deleted values kept for `mcpTokens.recentlyDeleted.days`. */
interface RecentlyDeletedElement {
  readonly treeElement: true;
  readonly kind: 'recentlyDeleted';
}

/** One Recently Deleted entry (its `id` is what Restore and Delete Permanently act on). */
interface DeletedElement {
  readonly treeElement: true;
  readonly kind: 'deleted';
  readonly id: string;
  readonly entry: DeletedToken;
}

interface NamespaceElement {
  readonly treeElement: true;
  readonly kind: 'namespace';
  readonly namespace: string;
}

interface TokenElement {
  readonly treeElement: true;
  readonly kind: 'token';
  readonly namespace: string;
  readonly name: string;
  readonly meta: TokenMetadata;
}

interface ChildElement extends TokenChild {
  readonly treeElement: true;
  readonly kind: 'child';
  readonly namespace: string;
  readonly name: string;
}

interface Filter {
  text?: string;
  type?: string;
  /** `due`: expired or soon. */
  expiry?: 'expired' | 'soon' | 'due' | 'ok' | 'none';
}

/**
 * The Tokens view's tree. Built before `Services` (which offers it to other features as
 * `TokensViewApi`), shown by `registerTokensView`.
 */
export class TokensView implements vscode.TreeDataProvider<TokenTreeElement>, TokensViewApi, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<TokenTreeElement | undefined>();
  readonly onDidChangeTreeData = this.changed.event;
  private readonly childSources: TokenChildSource[] = [];
  private readonly namespaceNodes = new Map<string, NamespaceElement>();
  private readonly tokenNodes = new Map<string, TokenElement>();
  filter: Filter = {};

  constructor(private readonly s: CoreServices) {}

  dispose(): void {
    this.changed.dispose();
  }

  refresh(): void {
    this.changed.fire(undefined);
  }

  addChildSource(source: TokenChildSource): vscode.Disposable {
    this.childSources.push(source);
    this.refresh();
    return new vscode.Disposable(() => {
      const i = this.childSources.indexOf(source);
      if (i >= 0) this.childSources.splice(i, 1);
      this.refresh();
    });
  }

  visibleTokens(): TokenMetadata[] {
    const now = new Date();
    const soon = this.s.config.expiryWarningDays();
    const text = this.filter.text?.toLowerCase();
    return this.s.store
      .list()
      .filter(
        (t) =>
          (!text || keyId(t).toLowerCase().includes(text) || t.description?.toLowerCase().includes(text) || t.provider?.toLowerCase().includes(text)) &&
          (!this.filter.type || t.type === this.filter.type) &&
          (!this.filter.expiry || matchesExpiry(expiryState(t, now, soon), this.filter.expiry)),
      );
  }

  /** Recently Deleted entries the user sees (an internal entry is restored with its token). */
  deletedEntries(): DeletedToken[] {
    return this.s.store.listVisibleDeleted();
  }

  readonly recentlyDeleted: RecentlyDeletedElement = { treeElement: true, kind: 'recentlyDeleted' };

  getChildren(element?: TokenTreeElement): TokenTreeElement[] {
    if (!element) {
      const namespaces = [...new Set(this.visibleTokens().map((t) => t.namespace))];
      const roots: TokenTreeElement[] = namespaces.map((ns) => this.namespaceNode(ns));
      // A filter narrows the view to matching tokens; Recently Deleted shows again without it.
      return this.deletedEntries().length && !isFiltered(this.filter) ? [...roots, this.recentlyDeleted] : roots;
    }
    if (element.kind === 'recentlyDeleted') return this.deletedEntries().map((entry) => ({ treeElement: true, kind: 'deleted', id: entry.id, entry }));
    if (element.kind === 'namespace') {
      return this.visibleTokens()
        .filter((t) => t.namespace === element.namespace)
        .map((t) => this.tokenNode(t));
    }
    if (element.kind === 'token') {
      const history = historyNode(element.meta);
      const children: TokenTreeElement[] = this.childrenOf(element).map((c) => ({ ...c, treeElement: true, kind: 'child', namespace: element.namespace, name: element.name }));
      return history ? [history, ...children] : children;
    }
    if (element.kind === 'history') return versionNodes(this.s.store.get(element));
    return [];
  }

  getParent(element: TokenTreeElement): TokenTreeElement | undefined {
    if (element.kind === 'namespace' || element.kind === 'recentlyDeleted') return undefined;
    if (element.kind === 'deleted') return this.recentlyDeleted;
    if (element.kind === 'token') return this.namespaceNode(element.namespace);
    if (element.kind === 'version') return { treeElement: true, kind: 'history', namespace: element.namespace, name: element.name };
    const meta = this.s.store.get(element);
    return meta ? this.tokenNode(meta) : undefined;
  }

  /** Stable element objects, so `TreeView.reveal` finds them. */
  namespaceNode(namespace: string): NamespaceElement {
    let node = this.namespaceNodes.get(namespace);
    if (!node) {
      node = { treeElement: true, kind: 'namespace', namespace };
      this.namespaceNodes.set(namespace, node);
    }
    return node;
  }

  tokenNode(meta: TokenMetadata): TokenElement {
    const id = keyId(meta);
    const node = this.tokenNodes.get(id);
    if (node && node.meta === meta) return node;
    const fresh: TokenElement = { treeElement: true, kind: 'token', namespace: meta.namespace, name: meta.name, meta };
    this.tokenNodes.set(id, fresh);
    return fresh;
  }

  private childrenOf(token: TokenKey): TokenChild[] {
    return this.childSources.flatMap((source) => {
      try {
        return source(token);
      } catch (e) {
        this.s.log.warn(`A token child source failed: ${errorText(e)}`);
        return [];
      }
    });
  }

  getTreeItem(element: TokenTreeElement): vscode.TreeItem {
    if (element.kind === 'namespace') {
      const count = this.visibleTokens().filter((t) => t.namespace === element.namespace).length;
      const item = new vscode.TreeItem(element.namespace, vscode.TreeItemCollapsibleState.Expanded);
      item.id = `ns:${element.namespace}`;
      item.description = count === 1 ? vscode.l10n.t('1 token') : vscode.l10n.t('{0} tokens', count);
      item.iconPath = new vscode.ThemeIcon('folder');
      item.contextValue = 'namespace';
      return item;
    }
    if (element.kind === 'token') {
      const meta = element.meta;
      const now = new Date();
      const state = expiryState(meta, now, this.s.config.expiryWarningDays());
      const hasChildren = this.childrenOf(meta).length > 0 || historyNode(meta) !== undefined;
      const item = new vscode.TreeItem(meta.name, hasChildren ? vscode.TreeItemCollapsibleState.Collapsed : vscode.TreeItemCollapsibleState.None);
      item.id = `token:${keyId(meta)}`;
      item.description = shortDescription(meta, now);
      const tooltip = new vscode.MarkdownString(markdownDescription(meta, now, this.s.config.expiryWarningDays()), true);
      tooltip.isTrusted = false;
      item.tooltip = tooltip;
      item.iconPath =
        state === 'expired'
          ? new vscode.ThemeIcon('warning', new vscode.ThemeColor('list.errorForeground'))
          : state === 'soon'
            ? new vscode.ThemeIcon('clock', new vscode.ThemeColor('list.warningForeground'))
            : meta.oauth?.signInRequired
              ? new vscode.ThemeIcon('account', new vscode.ThemeColor('list.warningForeground'))
              : meta.lastVerified && !meta.lastVerified.ok
                ? new vscode.ThemeIcon('error', new vscode.ThemeColor('list.errorForeground'))
                : meta.lastVerified?.ok
                  ? new vscode.ThemeIcon('verified', new vscode.ThemeColor('testing.iconPassed'))
                  : new vscode.ThemeIcon(meta.type === 'oauth' ? 'account' : 'key');
      item.contextValue = `token.${meta.type}.${state}${meta.hasPrevious ? '+previous' : ''}`;
      item.accessibilityInformation = { label: `${keyId(meta)}, ${item.description}` };
      return item;
    }
    if (element.kind === 'recentlyDeleted') {
      const count = this.deletedEntries().length;
      const item = new vscode.TreeItem(vscode.l10n.t('Recently Deleted'), vscode.TreeItemCollapsibleState.Collapsed);
      item.id = 'recentlyDeleted';
      const days = this.s.config.recentlyDeletedDays();
      item.description = count === 1 ? vscode.l10n.t('1 value, kept {0} days', days) : vscode.l10n.t('{0} values, kept {1} days', count, days);
      item.iconPath = new vscode.ThemeIcon('trash');
      item.contextValue = 'recentlyDeleted';
      return item;
    }
    if (element.kind === 'deleted') {
      const d = element.entry;
      const item = new vscode.TreeItem(keyId(d), vscode.TreeItemCollapsibleState.None);
      item.id = `deleted:${d.id}`;
      const reason = deletedReasonText(d.reason);
      item.description = vscode.l10n.t('{0} {1}', reason, relativeTime(d.deletedAt, new Date()));
      item.tooltip = new vscode.MarkdownString(
        `**${keyId(d)}** (${d.type}, ${d.backend})\n\n${vscode.l10n.t('{0} on {1}. Restore puts this value back under its name; the value there now, if any, is kept here in its place.', reason, d.deletedAt)}`,
      );
      item.iconPath = new vscode.ThemeIcon('history');
      item.contextValue = 'deletedToken';
      return item;
    }
    if (element.kind === 'history') return historyTreeItem(this.s.store.get(element), element);
    if (element.kind === 'version') return versionTreeItem(element);
    const item = new vscode.TreeItem(element.label, vscode.TreeItemCollapsibleState.None);
    item.id = `child:${keyId(element)}:${element.id}`;
    item.description = element.description;
    item.tooltip = element.tooltip;
    item.iconPath = element.icon ? new vscode.ThemeIcon(element.icon) : undefined;
    item.contextValue = element.contextValue;
    item.command = element.command;
    return item;
  }
}

/** How often Vault is listed while the Tokens view is visible (a teammate's new tokens appear by themselves). */
export const VAULT_DISCOVERY_INTERVAL_MS = 5 * 60 * 1000;

/** Lists Vault when the Tokens view becomes visible and every VAULT_DISCOVERY_INTERVAL_MS while it stays so. */
function watchVault(s: Services, view: vscode.TreeView<unknown>): vscode.Disposable {
  let timer: ReturnType<typeof setInterval> | undefined;
  let last = 0;
  const discover = () => {
    last = Date.now();
    void s.store.discover(['vault']).catch((e) => s.log.warn(`Listing Vault failed: ${errorText(e)}`));
  };
  const follow = (visible: boolean) => {
    clearInterval(timer);
    timer = undefined;
    if (!visible) return;
    if (Date.now() - last >= VAULT_DISCOVERY_INTERVAL_MS) discover();
    timer = setInterval(discover, VAULT_DISCOVERY_INTERVAL_MS);
  };
  last = Date.now(); // activation already discovered every backend
  follow(view.visible);
  const sub = view.onDidChangeVisibility((e) => follow(e.visible));
  return { dispose: () => (clearInterval(timer), sub.dispose()) };
}

/** Shows `tree` (the instance `Services.tokensView` offers) as the Tokens view, with its commands. */
export function registerTokensView(s: Services, tree: TokensView): void {
  const view = vscode.window.createTreeView('mcpTokens.tokens', { treeDataProvider: tree, showCollapseAll: true });
  const updateContext = () => {
    const count = s.store.list().length;
    void vscode.commands.executeCommand('setContext', 'mcpTokens.tokenCount', count);
    void vscode.commands.executeCommand('setContext', 'mcpTokens.deletedCount', tree.deletedEntries().length);
    void vscode.commands.executeCommand('setContext', 'mcpTokens.ready', true);
    const visible = tree.visibleTokens().length;
    view.message = isFiltered(tree.filter) ? vscode.l10n.t('Showing {0} of {1} tokens ({2}).', visible, count, describeFilter(tree.filter)) : undefined;
  };
  const setFilter = (filter: Filter) => {
    tree.filter = filter;
    void vscode.commands.executeCommand('setContext', 'mcpTokens.filtered', isFiltered(filter));
    tree.refresh();
    updateContext();
  };

  s.context.subscriptions.push(
    tree,
    view,
    s.store.onDidChange(() => {
      tree.refresh();
      updateContext();
    }),
    s.config.onDidChange(() => tree.refresh(), 'expiryWarningDays'),
    watchVault(s, view),
  );
  registerCommandGroup(s, {
    listRecentlyDeleted: async (input) => {
      await s.store.ready();
      const entries = tree.deletedEntries();
      if (input.via === 'ui') {
        if (entries.length) await view.reveal(tree.recentlyDeleted, { select: true, focus: true, expand: true });
        else void vscode.window.showInformationMessage(vscode.l10n.t('Recently Deleted is empty.'));
      }
      return entries.map((d) => ({ id: d.id, namespace: d.namespace, name: d.name, type: d.type, backend: d.backend, deletedAt: d.deletedAt, reason: d.reason }));
    },
    revealToken: async (input) => {
      await s.store.ready();
      const key = inputKey(input);
      const meta = key ? s.store.get(key) : undefined;
      if (!meta) throw new ArgumentError(key ? vscode.l10n.t('No token {0} is stored.', keyId(key)) : 'mcpTokens.revealToken needs {namespace, name}.');
      if (tree.filter && !tree.visibleTokens().some((t) => keyId(t) === keyId(meta))) setFilter({});
      await view.reveal(tree.tokenNode(meta), { select: true, focus: true, expand: false });
      return true;
    },
    filterTokens: async (input) => {
      if (input.via === 'args') {
        setFilter({ text: input.args.text, type: input.args.type, expiry: input.args.expiry });
        return tree.visibleTokens().length;
      }
      const pick = await vscode.window.showQuickPick(
        [
          { label: `$(search) ${vscode.l10n.t('Text…')}`, id: 'text' as const },
          ...TOKEN_TYPES.map((t) => ({ label: `$(symbol-key) ${vscode.l10n.t('Type: {0}', t)}`, id: 'type' as const, value: t })),
          { label: `$(warning) ${vscode.l10n.t('Expired')}`, id: 'expiry' as const, value: 'expired' },
          { label: `$(clock) ${vscode.l10n.t('Expiring soon')}`, id: 'expiry' as const, value: 'soon' },
        ],
        { title: vscode.l10n.t('Filter Tokens') },
      );
      if (!pick) return undefined;
      if (pick.id === 'text') {
        const text = await vscode.window.showInputBox({ title: vscode.l10n.t('Filter Tokens'), prompt: vscode.l10n.t('Show tokens whose name, description or provider contains'), value: tree.filter.text });
        if (text === undefined) return undefined;
        setFilter({ ...tree.filter, text: text || undefined });
      } else if (pick.id === 'type') {
        setFilter({ ...tree.filter, type: pick.value });
      } else {
        setFilter({ ...tree.filter, expiry: pick.value as Filter['expiry'] });
      }
      return tree.visibleTokens().length;
    },
    clearFilter: () => setFilter({}),
  });
  void vscode.commands.executeCommand('setContext', 'mcpTokens.filtered', false);
  void s.store.ready().then(updateContext, () => updateContext());
}

/** Why a Recently Deleted value is there, in words ("deleted", "rotated out"). */
function deletedReasonText(reason: string): string {
  switch (reason) {
    case 'delete': return vscode.l10n.t('deleted');
    case 'clear': return vscode.l10n.t('cleared');
    case 'overwrite': return vscode.l10n.t('overwritten');
    case 'rotate': return vscode.l10n.t('rotated out');
    case 'restore': return vscode.l10n.t('replaced by a restore');
    case 'import': return vscode.l10n.t('replaced by an import');
    case 'rename': return vscode.l10n.t('replaced by a rename');
    case 'sign-out': return vscode.l10n.t('signed out');
    default: return reason;
  }
}

/** "5 minutes ago", "3 days ago". */
function relativeTime(iso: string, now: Date): string {
  const s = Math.max(0, Math.round((now.getTime() - Date.parse(iso)) / 1000));
  if (s < 90) return s === 1 ? vscode.l10n.t('1 second ago') : vscode.l10n.t('{0} seconds ago', s);
  if (s < 5400) return unitAgo(Math.round(s / 60), vscode.l10n.t('1 minute ago'), vscode.l10n.t('{0} minutes ago', Math.round(s / 60)));
  if (s < 129600) return unitAgo(Math.round(s / 3600), vscode.l10n.t('1 hour ago'), vscode.l10n.t('{0} hours ago', Math.round(s / 3600)));
  return unitAgo(Math.round(s / 86400), vscode.l10n.t('1 day ago'), vscode.l10n.t('{0} days ago', Math.round(s / 86400)));
}

function unitAgo(n: number, one: string, many: string): string {
  return n === 1 ? one : many;
}

function matchesExpiry(state: string, wanted: NonNullable<Filter['expiry']>): boolean {
  return wanted === 'due' ? state === 'expired' || state === 'soon' : state === wanted;
}

function isFiltered(f: Filter): boolean {
  return Boolean(f.text || f.type || f.expiry);
}

function describeFilter(f: Filter): string {
  return [
    f.text && `"${f.text}"`,
    f.type && vscode.l10n.t('type {0}', f.type),
    f.expiry && (f.expiry === 'due' ? vscode.l10n.t('expired or expiring soon') : vscode.l10n.t('expiry {0}', f.expiry)),
  ]
    .filter(Boolean)
    .join(', ');
}
