/**
 * The program that started the launcher (Claude, Cursor, code, …): what VS Code's consent dialog and
 * the audit log name as the client. Read from the OS; null when it does not tell. No `vscode`.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

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
