/**
 * The launcher's entries in the extension's audit log (extension/runtime/audit.ts, the same file and
 * line format): one per reference it resolved itself from the keyring or Vault, with the client that
 * started it, the command and when; never a value. References answered (or refused) by VS Code over
 * the channel are recorded by the extension. No `vscode`.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import type { BackendId } from '../../server/core/model';
import { formatReference, type TokenKey, keyId } from '../../server/core/reference';
import { AUDIT_FILE, AuditLog, type AuditEntry } from '../runtime/audit';
import type { ChannelLaunch } from './channelProtocol';
import { EXTENSION_ID } from './settings';

/** The audit log the extension reads: its global storage folder in the VS Code user folder (else ~/.mcp-tokens). */
export function auditPath(env: Readonly<Record<string, string | undefined>>, userDir: string | undefined, home: string): string {
  if (env.MCP_TOKENS_AUDIT_FILE) return env.MCP_TOKENS_AUDIT_FILE;
  return userDir ? join(userDir, 'globalStorage', EXTENSION_ID, AUDIT_FILE) : join(home, '.mcp-tokens', AUDIT_FILE);
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
): AuditEntry[] {
  const out: AuditEntry[] = [];
  for (const key of keys) {
    const id = keyId(key);
    if (result.asked.has(id)) continue;
    const source = result.sources.get(id);
    const outcome = source ? 'used' : (result.outcomes?.get(id) ?? 'missing');
    out.push({
      time: now.toISOString(),
      reference: formatReference(key),
      server: launchTitle(launch),
      file: launch.cwd,
      outcome,
      detail: `launcher; client ${launch.client ?? 'unknown'}${source ? `; from ${source}` : ''}`,
    });
  }
  return out;
}

/** Appends the entries; an audit failure is reported by `warn` and does not stop the launch. */
export async function recordLaunch(path: string, entries: AuditEntry[], warn: (message: string) => void): Promise<void> {
  if (!entries.length) return;
  try {
    await new AuditLog(path).append(...entries);
  } catch (e) {
    warn(`could not write the audit log ${path}: ${e instanceof Error ? e.message : String(e)}`);
  }
}

/** The name of the program that started this process (Claude, code, cursor, …), when the platform tells. */
export function parentName(ppid: number = process.ppid, platform: NodeJS.Platform = process.platform): string | null {
  try {
    if (platform === 'linux') return readFileSync(`/proc/${ppid}/comm`, 'utf8').trim() || null;
    if (platform === 'darwin') {
      const r = spawnSync('ps', ['-o', 'comm=', '-p', String(ppid)], { encoding: 'utf8', timeout: 2000 });
      return r.status === 0 ? r.stdout.trim().split('/').pop() || null : null;
    }
  } catch {
    // unknown
  }
  return null;
}
