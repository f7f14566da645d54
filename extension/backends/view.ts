/**
 * The "Backends" view (`mcpTokens.backends`): each backend as available, in use and healthy or not,
 * with the cause and the fix as child rows and in the tooltip, and how many tokens it holds.
 * Health checks run only while the view is visible (a keyring check may show an unlock prompt).
 */
import { errorText } from '../../server/core/errors';
import * as vscode from 'vscode';
import { registerCommand } from '../platform/commands';
import { BACKEND_LABELS, type BackendId } from '../../server/core/model';
import { escapeMarkdown } from '../../server/core/markdown';
import type { Services } from '../services';
import type { BackendHealth } from '../store/backend';
import { healthSummary } from './healthText';
import { backendRegistry } from './registry';

type Node = { kind: 'backend'; health: BackendHealth; count: number } | { kind: 'info'; backend: BackendId; label: string; icon: string; tooltip?: string };

export function registerBackendsView(services: Services): void {
  const provider = new BackendsProvider(services);
  const view = vscode.window.createTreeView('mcpTokens.backends', { treeDataProvider: provider, showCollapseAll: false });
  let timer: NodeJS.Timeout | undefined;
  const refreshSoon = () => {
    if (timer) clearTimeout(timer);
    timer = setTimeout(() => provider.refresh(), 300);
  };
  services.context.subscriptions.push(
    view,
    provider,
    { dispose: () => timer && clearTimeout(timer) },
    view.onDidChangeVisibility((e) => e.visible && provider.refresh()),
    services.store.onDidChange((c) => (c.kind === 'set' || c.kind === 'delete' || c.kind === 'metadata' || c.kind === 'refresh' ? refreshSoon() : undefined)),
    services.config.onDidChange(refreshSoon, 'backend'),
    // Each backend's own settings and credentials change its health.
    ...backendRegistry.descriptors.flatMap((d) => (d.section ? [services.config.onDidChange(refreshSoon, d.section)] : [])),
    services.context.secrets.onDidChange((e) => (backendRegistry.descriptors.some((d) => d.secretPrefix && e.key.startsWith(d.secretPrefix)) ? refreshSoon() : undefined)),
  );
  registerCommand(services, 'refreshBackends', () => provider.refresh());
  provider.isVisible = () => view.visible;
}

class BackendsProvider implements vscode.TreeDataProvider<Node>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<Node | undefined>();
  readonly onDidChangeTreeData = this.changed.event;
  private health: BackendHealth[] | undefined;
  private loading: Promise<void> | undefined;
  isVisible: () => boolean = () => true;

  constructor(private readonly s: Services) {}

  dispose(): void {
    this.changed.dispose();
  }

  refresh(): void {
    if (!this.isVisible()) {
      this.health = undefined;
      return;
    }
    this.loading = this.load();
    void this.loading.then(() => this.changed.fire(undefined));
  }

  private async load(): Promise<void> {
    try {
      await this.s.store.ready();
      this.health = await this.s.store.health();
    } catch (e) {
      this.s.log.warn(`Could not check the backends: ${errorText(e)}`);
    }
  }

  async getChildren(element?: Node): Promise<Node[]> {
    if (!element) {
      if (!this.health) {
        this.loading ??= this.load();
        await this.loading;
        this.loading = undefined;
      }
      const counts = new Map<BackendId, number>();
      for (const t of this.s.store.list()) counts.set(t.backend, (counts.get(t.backend) ?? 0) + 1);
      return (this.health ?? []).map((h) => ({ kind: 'backend', health: h, count: counts.get(h.backend) ?? 0 }));
    }
    if (element.kind !== 'backend') return [];
    const h = element.health;
    const rows: Node[] = [{ kind: 'info', backend: h.backend, label: element.count === 1 ? vscode.l10n.t('1 token') : vscode.l10n.t('{0} tokens', element.count), icon: 'key' }];
    if (h.cause) rows.push({ kind: 'info', backend: h.backend, label: h.cause, icon: 'warning', tooltip: h.cause });
    if (h.fix) rows.push({ kind: 'info', backend: h.backend, label: vscode.l10n.t('Fix: {0}', h.fix), icon: 'lightbulb', tooltip: h.fix });
    if (h.detail) rows.push({ kind: 'info', backend: h.backend, label: h.detail, icon: 'info', tooltip: h.detail });
    return rows;
  }

  getTreeItem(element: Node): vscode.TreeItem {
    if (element.kind === 'info') {
      const item = new vscode.TreeItem(element.label, vscode.TreeItemCollapsibleState.None);
      item.iconPath = new vscode.ThemeIcon(element.icon);
      item.tooltip = element.tooltip;
      item.contextValue = `backendInfo.${element.backend}`;
      return item;
    }
    const h = element.health;
    const item = new vscode.TreeItem(BACKEND_LABELS[h.backend], h.healthy ? vscode.TreeItemCollapsibleState.Collapsed : vscode.TreeItemCollapsibleState.Expanded);
    // The id changes with the state, so an unhealthy backend opens to show its cause and fix.
    item.id = `backend.${h.backend}.${h.healthy ? 'ok' : 'fault'}`;
    item.description = healthSummary(h);
    item.iconPath = !h.available
      ? new vscode.ThemeIcon('circle-slash', new vscode.ThemeColor('disabledForeground'))
      : h.healthy
        ? new vscode.ThemeIcon('pass', new vscode.ThemeColor('testing.iconPassed'))
        : new vscode.ThemeIcon('error', new vscode.ThemeColor('testing.iconFailed'));
    const tip = new vscode.MarkdownString(undefined, true);
    tip.appendMarkdown(`**${BACKEND_LABELS[h.backend]}** — ${healthSummary(h)}\n\n`);
    if (h.cause) tip.appendMarkdown(`$(warning) ${escapeMarkdown(h.cause)}\n\n`);
    if (h.fix) tip.appendMarkdown(`$(lightbulb) ${escapeMarkdown(h.fix)}\n\n`);
    if (h.detail) tip.appendMarkdown(`${escapeMarkdown(h.detail)}\n\n`);
    item.tooltip = tip;
    item.contextValue = `backend.${h.backend}.${h.healthy ? 'healthy' : 'unhealthy'}`;
    return item;
  }
}
