/**
 * The Servers view (`mcpTokens.servers`): the servers of the token-aware files, each with its
 * credential state (ready, token missing, expired, consent needed, sign-in needed...) and the tokens
 * it uses; actions start it, set a missing token, or open its definition.
 */
import * as vscode from 'vscode';
import { ArgumentError, registerCommandGroup, type CommandInput } from '../platform/commands';
import { typeFromNamespace } from '../../server/core/model';
import { formatReference, type TokenKey } from '../../server/core/reference';
import type { Services } from '../services';
import type { ServedServer } from './files';
import type { McpRuntime } from './provider';
import type { Readiness } from './assess';

/** `treeElement: true` tells commands this is a view item (it prefills the interactive flow), not automation arguments. */
type Element = { treeElement: true; kind: 'server'; served: ServedServer } | { treeElement: true; kind: 'token'; served: ServedServer; key: TokenKey };

/** A server's readiness in words. */
function stateText(state: Readiness): string {
  const text: Record<Readiness, string> = {
    ready: vscode.l10n.t('ready'),
    'token-missing': vscode.l10n.t('token missing'),
    expired: vscode.l10n.t('token expired'),
    'consent-needed': vscode.l10n.t('consent needed'),
    denied: vscode.l10n.t('denied'),
    'sign-in-needed': vscode.l10n.t('sign-in needed'),
    untrusted: vscode.l10n.t('workspace not trusted'),
  };
  return text[state];
}

const STATE_ICON: Record<Readiness, vscode.ThemeIcon> = {
  ready: new vscode.ThemeIcon('pass', new vscode.ThemeColor('testing.iconPassed')),
  'token-missing': new vscode.ThemeIcon('warning', new vscode.ThemeColor('problemsWarningIcon.foreground')),
  expired: new vscode.ThemeIcon('warning', new vscode.ThemeColor('problemsWarningIcon.foreground')),
  'consent-needed': new vscode.ThemeIcon('question'),
  denied: new vscode.ThemeIcon('circle-slash'),
  'sign-in-needed': new vscode.ThemeIcon('account'),
  untrusted: new vscode.ThemeIcon('shield'),
};

class ServersTree implements vscode.TreeDataProvider<Element> {
  private readonly changed = new vscode.EventEmitter<Element | undefined>();
  readonly onDidChangeTreeData = this.changed.event;

  constructor(
    private readonly s: Services,
    private readonly runtime: McpRuntime,
  ) {}

  refresh(): void {
    this.changed.fire(undefined);
  }

  dispose(): void {
    this.changed.dispose();
  }

  getChildren(element?: Element): Element[] {
    if (!element) return this.runtime.files.servers().map((served) => ({ treeElement: true, kind: 'server', served }));
    if (element.kind === 'server') return this.runtime.assess(element.served).tokens.map(({ key }) => ({ treeElement: true, kind: 'token', served: element.served, key }));
    return [];
  }

  getTreeItem(element: Element): vscode.TreeItem {
    const { served } = element;
    if (element.kind === 'token') {
      const meta = this.s.store.get(element.key);
      const item = new vscode.TreeItem(formatReference(element.key), vscode.TreeItemCollapsibleState.None);
      item.description = meta ? meta.type : vscode.l10n.t('not stored');
      item.iconPath = new vscode.ThemeIcon(meta ? 'key' : 'warning');
      item.contextValue = meta ? 'serverToken' : 'serverToken+missing';
      item.command = meta ? { title: vscode.l10n.t('Reveal'), command: 'mcpTokens.revealToken', arguments: [{ namespace: element.key.namespace, name: element.key.name }] } : undefined;
      return item;
    }
    const status = this.runtime.assess(served);
    const item = new vscode.TreeItem(served.label, vscode.TreeItemCollapsibleState.Collapsed);
    item.id = `${served.file.uri.toString()}#${served.entry.name}`;
    item.description = `${served.entry.kind} · ${stateText(status.state)}`;
    item.iconPath = STATE_ICON[status.state];
    item.contextValue = `server+${status.state}`;
    const where = served.file.scope === 'workspace' ? vscode.workspace.asRelativePath(served.file.uri) : served.file.flavor === 'mcp-cli' ? served.file.uri.fsPath : vscode.l10n.t('user servers file');
    const md = new vscode.MarkdownString(undefined, true);
    md.appendMarkdown(`${vscode.l10n.t('{0} ({1}) from {2}', `**${served.label}**`, served.entry.kind, `\`${where}\``)}\n\n`);
    const state = `**${stateText(status.state)}**`;
    const keys = status.keys.map((k) => `\`${formatReference(k)}\``).join(', ');
    md.appendMarkdown(`${status.keys.length ? vscode.l10n.t('State: {0}: {1}', state, keys) : vscode.l10n.t('State: {0}', state)}\n\n`);
    md.appendMarkdown(vscode.l10n.t('VS Code server id: {0}', `\`${this.runtime.serverId(served.label)}\``));
    item.tooltip = md;
    return item;
  }
}

/** The server a command names: a Servers view element (looked up again by its label), `{label}`, or one the user picks. */
async function pickServer(runtime: McpRuntime, input: CommandInput<{ label: string }>): Promise<ServedServer | undefined> {
  const element = input.via === 'ui' ? (input.element?.served as ServedServer | undefined) : undefined;
  const label = input.via === 'args' ? input.args.label : element?.label;
  if (label !== undefined) {
    const found = runtime.files.servers().find((x) => x.label === label);
    if (!found) throw new ArgumentError(vscode.l10n.t('No MCP server "{0}" is defined in an MCP Tokens file.', label.slice(0, 200)));
    return found;
  }
  const servers = runtime.files.servers();
  if (servers.length === 0) {
    void vscode.window.showInformationMessage(vscode.l10n.t('No server is defined in an MCP Tokens file yet.'));
    return undefined;
  }
  const pick = await vscode.window.showQuickPick(
    servers.map((x) => ({ label: x.label, description: x.entry.kind, served: x })),
    { placeHolder: vscode.l10n.t('MCP server') },
  );
  return pick?.served;
}

export function registerServersView(s: Services, runtime: McpRuntime): void {
  const tree = new ServersTree(s, runtime);
  const view = vscode.window.createTreeView('mcpTokens.servers', { treeDataProvider: tree, showCollapseAll: true });
  const updateContext = () => void vscode.commands.executeCommand('setContext', 'mcpTokens.serverCount', runtime.files.servers().length);
  s.context.subscriptions.push(
    tree,
    view,
    runtime.onDidChangeMcpServerDefinitions(() => {
      tree.refresh();
      updateContext();
    }),
  );
  registerCommandGroup(s, {
    refreshServers: () => runtime.files.reload(),
    startServer: async (input) => {
      const served = await pickServer(runtime, input);
      if (!served) return;
      await vscode.commands.executeCommand('workbench.mcp.startServer', runtime.serverId(served.label));
    },
    setServerToken: async (input) => {
      const served = await pickServer(runtime, input);
      if (!served) return;
      const missing = runtime.assess(served).tokens.filter((t) => !t.meta).map((t) => t.key);
      const key =
        missing.length <= 1
          ? missing[0]
          : (await vscode.window.showQuickPick(missing.map((k) => ({ label: formatReference(k), key: k })), { placeHolder: vscode.l10n.t('Token to set') }))?.key;
      if (!key) {
        if (missing.length === 0) void vscode.window.showInformationMessage(vscode.l10n.t('Every token "{0}" uses is stored.', served.label));
        return;
      }
      const type = typeFromNamespace(key.namespace);
      await vscode.commands.executeCommand('mcpTokens.setToken', { namespace: key.namespace, name: key.name, ...(type ? { type } : {}) });
    },
    openServerDefinition: async (input) => {
      const served = await pickServer(runtime, input);
      if (!served) return;
      const doc = await vscode.workspace.openTextDocument(served.file.uri);
      const start = doc.positionAt(served.entry.nameSpan.start);
      const end = doc.positionAt(served.entry.nameSpan.end);
      await vscode.window.showTextDocument(doc, { selection: new vscode.Range(start, end) });
    },
  });
  void runtime.files.ready().then(updateContext);
}
