/**
 * Expiry: a status bar item shown only while tokens are expired or expire soon (it opens the Tokens
 * view filtered to them: `showExpiringTokens`), and one notification per token and state per
 * session, for tokens that have expired as well as for those about to. Re-evaluated on every store
 * change, setting change, and every ten minutes (time passes without events). What is shown is
 * worked out by the pure `expiryReport`.
 */
import * as vscode from 'vscode';
import { keyId } from '../../server/core/reference';
import { registerCommandGroup } from '../platform/commands';
import type { Services } from '../services';
import { expiryReport } from './expiryReport';

const RECHECK_MS = 10 * 60 * 1000;

export function registerExpiryWatch(s: Services, now: () => Date = () => new Date()): void {
  const item = vscode.window.createStatusBarItem('mcpTokens.expiry', vscode.StatusBarAlignment.Right, 100);
  item.name = vscode.l10n.t('MCP Tokens: expiry');
  item.command = { command: 'mcpTokens.showExpiringTokens', title: vscode.l10n.t('Show expired and expiring MCP tokens') };
  const notified = new Set<string>();

  const update = () => {
    const at = now();
    const report = expiryReport(s.store.list(), at, s.config.expiryWarningDays(), notified);
    if (!report.statusText) {
      item.hide();
    } else {
      item.text = report.statusText;
      item.backgroundColor = new vscode.ThemeColor(report.expired.length ? 'statusBarItem.errorBackground' : 'statusBarItem.warningBackground');
      item.tooltip = new vscode.MarkdownString(report.tooltipLines.join('  \n'), true);
      item.accessibilityInformation = { label: vscode.l10n.t('{0} expired and {1} expiring MCP tokens', report.expired.length, report.soon.length) };
      item.show();
    }
    for (const n of report.notices) {
      notified.add(n.id);
      const id = keyId(n.token);
      const show = n.state === 'expired' ? vscode.window.showErrorMessage : vscode.window.showWarningMessage;
      const rotate = vscode.l10n.t('Rotate…');
      const reveal = vscode.l10n.t('Show');
      void show(n.message, rotate, reveal).then((choice) => {
        if (choice === rotate) return vscode.commands.executeCommand('mcpTokens.rotateToken', id);
        if (choice === reveal) return vscode.commands.executeCommand('mcpTokens.revealToken', { namespace: n.token.namespace, name: n.token.name });
        return undefined;
      });
    }
  };

  registerCommandGroup(s, {
    // The status bar item: the Tokens view, filtered to the expired and expiring tokens.
    showExpiringTokens: async () => {
      await s.store.ready();
      const count = await vscode.commands.executeCommand<number>('mcpTokens.filterTokens', { expiry: 'due' });
      await vscode.commands.executeCommand('mcpTokens.tokens.focus');
      return count;
    },
  });

  const timer = setInterval(update, RECHECK_MS);
  s.context.subscriptions.push(
    item,
    { dispose: () => clearInterval(timer) },
    s.store.onDidChange(update),
    s.config.onDidChange(update, 'expiryWarningDays'),
  );
  void s.store.ready().then(update, () => undefined);
}
