/**
 * What every launcher command shares: its output (stderr only, every message passed through
 * `redact` with the values this process holds), the user's settings, the local backends, and the one
 * resolution path (local backends, then VS Code over the channel, then the audit log). No `vscode`.
 */
import { homedir } from 'node:os';
import { keyId, type TokenKey } from '../../server/core/reference';
import { auditPath, launcherEntries, parentName, recordLaunch } from './audit';
import type { ChannelLaunch } from './channelProtocol';
import { redact } from './launchRefs';
import { loadSettings, type LoadedSettings } from './settings';
import type { LocalBackends, Resolved } from './sources';

export interface Io {
  /** A message for the user on stderr (`mcp-tokens: …`), values redacted. */
  error(message: string): void;
  /** Only with MCP_TOKENS_VERBOSE=1. */
  info(message: string): void;
  /** The one place a value may go: stdout, for `get --show-value`. */
  out(text: string): void;
}

export interface Launcher {
  readonly env: NodeJS.ProcessEnv;
  readonly home: string;
  readonly io: Io;
  settings(): LoadedSettings;
  backends(): Promise<LocalBackends>;
  /** The program that started the launcher (parent process name), when known. */
  client(): string | null;
  /** Every key's value, or undefined after printing why not (and auditing). */
  resolve(keys: readonly TokenKey[], launch: ChannelLaunch): Promise<Resolved | undefined>;
  /** Values this process learnt: redacted from every message. */
  readonly secrets: Set<string>;
  dispose(): void;
}

export function createLauncher(env: NodeJS.ProcessEnv = process.env, home = homedir()): Launcher {
  const secrets = new Set<string>();
  const verbose = env.MCP_TOKENS_VERBOSE === '1';
  const io: Io = {
    error: (m) => process.stderr.write(`mcp-tokens: ${redact(m, secrets)}\n`),
    info: (m) => {
      if (verbose) process.stderr.write(`mcp-tokens: ${redact(m, secrets)}\n`);
    },
    out: (t) => process.stdout.write(t),
  };
  let loaded: LoadedSettings | undefined;
  let backends: LocalBackends | undefined;
  let client: string | null | undefined;
  const launcher: Launcher = {
    env,
    home,
    io,
    secrets,
    settings: () => {
      if (!loaded) {
        loaded = loadSettings(env, home);
        if (loaded.problem) io.error(loaded.problem);
      }
      return loaded;
    },
    backends: async () => {
      if (!backends) {
        const { LocalBackends } = await import('./sources');
        backends = new LocalBackends({ settings: launcher.settings().settings, env, home });
      }
      return backends;
    },
    client: () => (client === undefined ? (client = env.MCP_TOKENS_CLIENT || parentName()) : client),
    resolve: async (keys, launch) => {
      const { LaunchRefused, resolveKeys } = await import('./sources');
      const local = await launcher.backends();
      const audit = auditPath(env, launcher.settings().userDir, home);
      const warn = (m: string) => io.error(m);
      try {
        const r = await resolveKeys(local, keys, { launch });
        for (const v of r.values.values()) secrets.add(v);
        await recordLaunch(audit, launcherEntries(keys, r, launch, new Date()), warn);
        io.info(`values of ${keys.map(keyId).join(', ')} from ${[...new Set(r.sources.values())].join(', ')}`);
        return r;
      } catch (e) {
        if (!(e instanceof LaunchRefused)) throw e;
        for (const line of e.lines) io.error(line);
        io.error('Nothing was started.');
        await recordLaunch(audit, launcherEntries(keys, e, launch, new Date()), warn);
        return undefined;
      }
    },
    dispose: () => backends?.dispose(),
  };
  return launcher;
}
