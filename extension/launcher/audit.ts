/**
 * The launcher's events in the extension's audit trail (the same file and event format as
 * extension/platform/audit.ts, which the composition root, extension/cli.ts, appends them with): one
 * per reference it resolved itself from the keyring or Vault, with the client that
 * started it, the command and when; never a value. References answered (or refused) by VS Code over
 * the channel are recorded by the extension. No `vscode`.
 */
import { join } from 'node:path';
import type { BackendId } from '../../server/core/model';
import { formatReference, parseKeyId, type TokenKey, keyId } from '../../server/core/reference';
import type { ChannelLaunch } from './channelProtocol';
import { EXTENSION_ID } from './settings';
import { errorText } from '../../server/core/errors';
import type { AuditEvent } from '../platform/auditEvent';

/** One event of the audit trail (`auditEventSchema` of extension/platform/auditEvent.ts), kind `launcher`. */
export type LauncherAuditEntry = AuditEvent & { readonly kind: 'launcher' };

/** The audit log the extension reads (`file`: its name, audit.jsonl): its global storage folder in the VS Code user folder, else ~/.mcp-tokens. */
export function auditPath(env: Readonly<Record<string, string | undefined>>, userDir: string | undefined, home: string, file: string): string {
  if (env.MCP_TOKENS_AUDIT_FILE) return env.MCP_TOKENS_AUDIT_FILE;
  return userDir ? join(userDir, 'globalStorage', EXTENSION_ID, file) : join(home, '.mcp-tokens', file);
}

/** The command line as the audit log shows it: the references as written, never a value. Pure. */
export function launchTitle(launch: ChannelLaunch): string {
  const line = [launch.command, ...launch.args].map((a) => (/\s/.test(a) ? JSON.stringify(a) : a)).join(' ');
  return `mcp-tokens ${launch.kind}: ${line}`.slice(0, 400);
}

/** The entries for the keys the launcher resolved (or failed to) itself. Pure. */
export function launcherEntries(
  keys: readonly TokenKey[],
  result: { sources: ReadonlyMap<string, BackendId>; asked: ReadonlySet<string>; outcomes?: ReadonlyMap<string, 'missing' | 'denied' | 'failed'> },
  launch: ChannelLaunch,
  now: Date,
): LauncherAuditEntry[] {
  const out: LauncherAuditEntry[] = [];
  for (const key of keys) {
    const id = keyId(key);
    if (result.asked.has(id)) continue;
    const source = result.sources.get(id);
    const outcome = source ? 'ok' : (result.outcomes?.get(id) ?? 'missing');
    out.push({
      time: now.toISOString(),
      kind: 'launcher',
      tokens: [id],
      actor: { server: launchTitle(launch), file: launch.cwd.slice(0, 4096), launcher: (launch.client ?? 'unknown').slice(0, 256) },
      outcome: outcome === 'missing' ? 'failed' : outcome,
      reason: source ? `${formatReference(key)} from ${source}` : `${formatReference(key)}: ${outcome}`,
    });
  }
  return out;
}

/** Appends the entries with `append`; an audit failure is reported by `warn` and does not stop the launch. */
export async function recordLaunch(append: (entries: LauncherAuditEntry[]) => Promise<void>, entries: LauncherAuditEntry[], warn: (message: string) => void): Promise<void> {
  if (!entries.length) return;
  try {
    await append(entries);
  } catch (e) {
    warn(`could not write the audit log: ${errorText(e)}`);
  }
}

/**
 * The uses the launcher made of tokens it read itself (keyring, Vault), from audit events: what
 * "last used" learns from the shared log, since the launcher cannot write the extension's metadata.
 * Refused and failed resolutions are not uses. Pure.
 */
export function launcherUses(events: readonly AuditEvent[]): Array<{ key: TokenKey; at: Date }> {
  const latest = new Map<string, { key: TokenKey; at: Date }>();
  for (const e of events) {
    if (e.kind !== 'launcher' || e.outcome !== 'ok') continue;
    const at = new Date(e.time);
    if (Number.isNaN(at.getTime())) continue;
    for (const id of e.tokens ?? []) {
      const key = parseKeyId(id);
      if (!key) continue;
      const seen = latest.get(id);
      if (!seen || seen.at < at) latest.set(id, { key, at });
    }
  }
  return [...latest.values()];
}
