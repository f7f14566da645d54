/**
 * `mcp-tokens run [--] COMMAND ARGS…`: resolves the references of its own environment and arguments,
 * then starts COMMAND with stdio passed through (the MCP traffic never passes the launcher), forwards
 * SIGINT/SIGTERM/SIGHUP, and ends with the child's exit code (or its signal). A reference without a
 * value ends it before anything starts. No `vscode`.
 */
import { spawn } from 'node:child_process';
import { formatReference } from '../../server/core/reference';
import { fill, fillEnv, launchFields, scanFields } from './launchRefs';
import type { Io, Launcher } from './context';
import { errorText } from '../../server/core/errors';

export type ChildEnd = { code: number } | { signal: NodeJS.Signals };

const FORWARDED: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

/** Starts `command` with stdio inherited, forwarding signals; resolves with how it ended. */
export function spawnForwarding(command: string, args: readonly string[], env: NodeJS.ProcessEnv, io: Io): Promise<ChildEnd> {
  return new Promise((resolve) => {
    const child = spawn(command, [...args], { stdio: 'inherit', env });
    const handlers = FORWARDED.map((sig) => {
      const h = () => {
        if (child.exitCode === null && child.signalCode === null) child.kill(sig);
      };
      process.on(sig, h);
      return [sig, h] as const;
    });
    const done = (end: ChildEnd) => {
      for (const [sig, h] of handlers) process.off(sig, h);
      resolve(end);
    };
    child.once('error', (e: NodeJS.ErrnoException) => {
      io.error(`could not start ${command}: ${e.code === 'ENOENT' ? 'no such command (check PATH, or give its full path)' : (e.code ?? e.message)}`);
      done({ code: e.code === 'ENOENT' ? 127 : 126 });
    });
    child.once('exit', (code, signal) => done(signal ? { signal } : { code: code ?? 1 }));
  });
}

export async function runCommand(argv: readonly string[], launcher: Launcher): Promise<ChildEnd> {
  const { io } = launcher;
  const rest = argv[0] === '--' ? argv.slice(1) : argv;
  if (rest.length === 0) {
    io.error('run needs a command: mcp-tokens run [--] COMMAND ARGS…');
    return { code: 2 };
  }
  const [command, ...args] = rest;
  const scan = scanFields(launchFields(launcher.env, rest));
  if (scan.malformed.length) {
    for (const m of scan.malformed) io.error(`${m} Nothing was started.`);
    return { code: 1 };
  }
  if (scan.keys.length === 0) return spawnForwarding(command, args, launcher.env, io);

  const launch = { command, args, cwd: process.cwd(), client: launcher.client(), kind: 'run' as const };
  const resolved = await launcher.resolve(scan.keys, launch);
  if (!resolved) return { code: 1 };
  const values = resolved.values;
  let env: Record<string, string>;
  let filled: string[];
  try {
    env = fillEnv(launcher.env, values);
    filled = rest.map((a) => fill(a, values));
  } catch (e) {
    io.error(`${errorText(e)} Nothing was started.`);
    return { code: 1 };
  }
  // Nothing of the launcher stays active while the server runs (Vault's token renewal stops here).
  launcher.dispose();
  io.info(`resolved ${scan.keys.map((k) => formatReference(k)).join(', ')}; starting ${command}`);
  return spawnForwarding(filled[0], filled.slice(1), env, io);
}
