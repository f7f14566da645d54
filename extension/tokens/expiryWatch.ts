/**
 * Expiry: a status bar item shown only while tokens are expired or expire soon, and one
 * notification per token and session when it is about to expire. Re-evaluated on every store
 * change, setting change, and every ten minutes (time passes without events).
 */
import * as vscode from 'vscode';
import { describeExpiry, expiryState, renewsItself } from '../../server/core/model';
import { keyId } from '../../server/core/reference';
import type { Services } from '../services';

const RECHECK_MS = 10 * 60 * 1000;

export function registerExpiryWatch(s: Services): void {
  const item = vscode.window.createStatusBarItem('mcpTokens.expiry', vscode.StatusBarAlignment.Right, 100);
  item.name = 'MCP Tokens: expiry';
  item.command = { command: 'mcpTokens.listTokens', title: 'List expiring tokens', arguments: [] };
  const notified = new Set<string>();

  const update = () => {
    const now = new Date();
    const soonDays = s.config.expiryWarningDays();
    // OAuth tokens with a refresh token renew themselves; only their sign-in state matters.
    const tokens = s.store.list().filter((t) => !renewsItself(t));
    const expired = tokens.filter((t) => expiryState(t, now, soonDays) === 'expired');
    const soon = tokens.filter((t) => expiryState(t, now, soonDays) === 'soon');
    if (expired.length + soon.length === 0) {
      item.hide();
    } else {
      item.text = `$(${expired.length ? 'warning' : 'clock'}) ${expired.length + soon.length} MCP token${expired.length + soon.length === 1 ? '' : 's'}`;
      item.backgroundColor = new vscode.ThemeColor(expired.length ? 'statusBarItem.errorBackground' : 'statusBarItem.warningBackground');
      const tip = new vscode.MarkdownString(
        [...expired.map((t) => `$(warning) \`${keyId(t)}\` ${describeExpiry(t, now)}`), ...soon.map((t) => `$(clock) \`${keyId(t)}\` ${describeExpiry(t, now)}`)].join('  \n'),
        true,
      );
      item.tooltip = tip;
      item.accessibilityInformation = { label: `${expired.length} expired and ${soon.length} expiring MCP tokens` };
      item.show();
    }
    for (const t of soon) {
      const id = keyId(t);
      if (notified.has(id)) continue;
      notified.add(id);
      void vscode.window.showWarningMessage(`MCP token ${id} ${describeExpiry(t, now)}.`, 'Rotate…', 'Show').then((choice) => {
        const key = { namespace: t.namespace, name: t.name };
        if (choice === 'Rotate…') return vscode.commands.executeCommand('mcpTokens.rotateToken', id);
        if (choice === 'Show') return vscode.commands.executeCommand('mcpTokens.revealToken', key);
        return undefined;
      });
    }
  };

  const timer = setInterval(update, RECHECK_MS);
  s.context.subscriptions.push(
    item,
    { dispose: () => clearInterval(timer) },
    s.store.onDidChange(update),
    s.config.onDidChange(update, 'expiryWarningDays'),
  );
  void s.store.ready().then(update, () => undefined);
}
