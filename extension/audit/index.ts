/**
 * The audit feature: builds the one audit trail (`createAuditTrail`, before every other feature, so
 * it is in `Services`), and **Show Audit Log** (a filter picked in a QuickPick — by token, by days,
 * by kind, by outcome — then a read-only virtual document, newest first) and **Export Audit Log**
 * (the filtered events as JSON lines, to a file the user picks in a save dialog). No event holds a
 * value, so neither command passes the gate.
 */
import * as vscode from 'vscode';
import * as path from 'node:path';
import { promises as fs } from 'node:fs';
import { homedir } from 'node:os';
import { AUDIT_FILE, AUDIT_KINDS, AUDIT_OUTCOMES, AuditLog, AuditTrail, auditJsonLines, formatAudit, type AuditFilter, type AuditKind, type AuditOutcome } from '../platform/audit';
import { currentActor } from '../platform/actor';
import { registerCommandGroup, type CommandInput } from '../platform/commands';
import type { ArgsOf } from '../platform/commandTable';
import type { Services } from '../services';

export const AUDIT_SCHEME = 'mcp-tokens-audit';

/** The audit trail of this window (the file is shared by every window). */
export function createAuditTrail(context: vscode.ExtensionContext, log: vscode.LogOutputChannel): AuditTrail {
  const trail = new AuditTrail(new AuditLog(path.join(context.globalStorageUri.fsPath, AUDIT_FILE)), {
    actor: () => {
      const a = currentActor();
      return a ? { command: a.command, via: a.via, server: a.server, launcher: a.launcher } : undefined;
    },
    warn: (m) => log.warn(m),
  });
  context.subscriptions.push(trail);
  return trail;
}

/** The filter as a document URI's query, and back (pure). */
export function filterQuery(f: AuditFilter): string {
  const q = new URLSearchParams();
  if (f.token) q.set('token', f.token);
  if (f.days !== undefined) q.set('days', String(f.days));
  if (f.kind) q.set('kind', f.kind);
  if (f.outcome) q.set('outcome', f.outcome);
  return q.toString();
}

export function parseFilterQuery(query: string): AuditFilter {
  const q = new URLSearchParams(query);
  const days = Number(q.get('days'));
  const kind = q.get('kind');
  const outcome = q.get('outcome');
  return {
    token: q.get('token') ?? undefined,
    days: Number.isInteger(days) && days > 0 ? days : undefined,
    kind: kind && (AUDIT_KINDS as readonly string[]).includes(kind) ? (kind as AuditKind) : undefined,
    outcome: outcome && (AUDIT_OUTCOMES as readonly string[]).includes(outcome) ? (outcome as AuditOutcome) : undefined,
  };
}

export function registerAuditLog(s: Services): void {
  const changed = new vscode.EventEmitter<vscode.Uri>();
  const uriOf = (f: AuditFilter) => vscode.Uri.from({ scheme: AUDIT_SCHEME, path: '/MCP Tokens Audit Log', query: filterQuery(f) });
  s.context.subscriptions.push(
    changed,
    vscode.workspace.registerTextDocumentContentProvider(AUDIT_SCHEME, {
      onDidChange: changed.event,
      provideTextDocumentContent: async (uri) => {
        const filter = parseFilterQuery(uri.query);
        return formatAudit(await s.audit.list(filter), filter);
      },
    }),
    s.audit.onDidChange(() => {
      for (const doc of vscode.workspace.textDocuments) if (doc.uri.scheme === AUDIT_SCHEME) changed.fire(doc.uri);
    }),
  );

  registerCommandGroup(s, {
    showAuditLog: async (input) => {
      const filter = await filterOf(s, input, vscode.l10n.t('Show Audit Log'));
      if (!filter) return undefined;
      const doc = await vscode.workspace.openTextDocument(uriOf(filter));
      await vscode.window.showTextDocument(doc, { preview: true });
      return s.audit.list(filter);
    },
    exportAuditLog: async (input) => {
      const filter = await filterOf(s, input, vscode.l10n.t('Export Audit Log'));
      if (!filter) return undefined;
      const name = `mcp-tokens-audit-${new Date().toISOString().slice(0, 10)}.jsonl`;
      const base = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath ?? homedir();
      const uri = await vscode.window.showSaveDialog({ defaultUri: vscode.Uri.file(path.join(base, name)), filters: { [vscode.l10n.t('JSON Lines')]: ['jsonl'] }, title: vscode.l10n.t('Export the audit log to') });
      if (!uri) return undefined;
      const events = await s.audit.list(filter);
      await fs.writeFile(uri.fsPath, auditJsonLines(events), { encoding: 'utf8', mode: 0o600 });
      s.log.info(`Exported ${events.length} audit event(s) to ${uri.fsPath}.`);
      if (input.via === 'ui') {
        void vscode.window.showInformationMessage(
          events.length === 1 ? vscode.l10n.t('Exported 1 audit event to {0}.', uri.fsPath) : vscode.l10n.t('Exported {0} audit events to {1}.', events.length, uri.fsPath),
        );
      }
      return { file: uri.fsPath, count: events.length };
    },
  });
}

type FilterInput = CommandInput<ArgsOf<'showAuditLog'>>;

/** The automation argument's filter, or (UI) the one picked: all, by token, by days, by kind, by outcome. */
async function filterOf(s: Services, input: FilterInput, title: string): Promise<AuditFilter | undefined> {
  if (input.via === 'args') return input.args;
  if (input.key) return { token: `${input.key.namespace}:${input.key.name}` };
  const pick = await vscode.window.showQuickPick(
    [
      { label: `$(list-flat) ${vscode.l10n.t('All events')}`, id: 'all' as const },
      { label: `$(key) ${vscode.l10n.t('By token…')}`, id: 'token' as const },
      { label: `$(calendar) ${vscode.l10n.t('By days…')}`, id: 'days' as const },
      { label: `$(symbol-event) ${vscode.l10n.t('By kind…')}`, id: 'kind' as const },
      { label: `$(pass) ${vscode.l10n.t('By outcome…')}`, id: 'outcome' as const },
    ],
    { title, placeHolder: vscode.l10n.t('Which events?') },
  );
  if (!pick) return undefined;
  if (pick.id === 'all') return {};
  if (pick.id === 'token') {
    const logged = new Set((await s.audit.list()).flatMap((e) => e.tokens ?? []));
    const ids = [...new Set([...s.store.list().map((t) => `${t.namespace}:${t.name}`), ...logged])].sort();
    const token = await vscode.window.showQuickPick(ids.map((id) => ({ label: id, description: logged.has(id) ? undefined : vscode.l10n.t('no events yet') })), { title, placeHolder: vscode.l10n.t('Events of which token?') });
    return token ? { token: token.label } : undefined;
  }
  if (pick.id === 'days') {
    const days = await vscode.window.showQuickPick(
      [1, 7, 30, 90, 365].map((d) => ({ label: d === 1 ? vscode.l10n.t('Last 1 day') : vscode.l10n.t('Last {0} days', d), days: d })),
      { title, placeHolder: vscode.l10n.t('Events of the last…') },
    );
    return days ? { days: days.days } : undefined;
  }
  if (pick.id === 'kind') {
    const kind = await vscode.window.showQuickPick(AUDIT_KINDS.map((k) => ({ label: k })), { title, placeHolder: vscode.l10n.t('Events of which kind?') });
    return kind ? { kind: kind.label } : undefined;
  }
  const outcome = await vscode.window.showQuickPick(AUDIT_OUTCOMES.map((o) => ({ label: o })), { title, placeHolder: vscode.l10n.t('Events with which outcome?') });
  return outcome ? { outcome: outcome.label } : undefined;
}
