/**
 * The command the "Run through MCP Tokens launcher" quick fix writes: the shim path the extension
 * recorded in the launcher pointer file when it was installed (server/core/launcherPointer.ts),
 * else `mcp-tokens` (found on the PATH). Read when a code action is asked for (a small file; cached
 * by its modification time).
 */
import { readFileSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { launcherHome, parsePointer, POINTER_FILE } from '../core/launcherPointer';
import { LAUNCHER_NAME } from '../core/launcherWrap';

let cache: { file: string; mtimeMs: number; command: string } | undefined;

export function launcherCommand(env: NodeJS.ProcessEnv = process.env): string {
  const file = join(launcherHome(env, homedir()), POINTER_FILE);
  try {
    const { mtimeMs, size } = statSync(file);
    if (size > 64 * 1024) return LAUNCHER_NAME;
    if (cache?.file === file && cache.mtimeMs === mtimeMs) return cache.command;
    const command = parsePointer(readFileSync(file, 'utf8')).shim ?? LAUNCHER_NAME;
    cache = { file, mtimeMs, command };
    return command;
  } catch {
    return LAUNCHER_NAME;
  }
}
