/**
 * What every launcher command shares: its output (stderr only, every message passed through
 * `redact` with the values this process holds), the user's settings, the local backends, and the one
 * resolution path (local backends, then VS Code over the channel, then the audit log). What it needs
 * of other features (the backend classes, OAuth refresh, the audit log) is handed in as
 * LauncherDeps by the composition root, extension/cli.ts. No `vscode`.
 */
import { homedir } from 'node:os';
import { keyId, type TokenKey } from '../../server/core/reference';
import type { ChannelLaunch } from './channelProtocol';
import { redact } from './launchRefs';
import { parentName } from './parent';
import { loadSettings, type LoadedSettings } from './settings';
import type { LauncherAuditEntry } from './audit';
import type { LocalBackends, LocalParts, Resolved } from './sources';
import type { LauncherSettings } from './settings';

/** Keeps an OAuth token fresh for `proxy`. */
export interface TokenRefresher {
  /** The value to send now (refreshed first when it expires soon). */
  current(): Promise<string | undefined>;
  /** After a 401: refresh now; true when a new token was stored. */
  renew(): Promise<boolean>;
  dispose(): void;
}

/** What the launcher uses of other features, built by extension/cli.ts. */
export interface LauncherDeps {
  /** The keyring and (when Vault is configured) Vault backends for these settings. */
  localParts(settings: LauncherSettings, env: NodeJS.ProcessEnv, home: string): Promise<LocalParts>;
  /** A refresher of the keyring's OAuth token `key` (after localParts), or undefined when it cannot be refreshed here. */
  keyringRefresher(key: TokenKey, serverUrl: string, log: (level: 'info' | 'warn' | 'error', message: string) => void): Promise<TokenRefresher | undefined>;
  /** Appends to the extension's audit log, found from the VS Code user folder. */
  appendAudit(userDir: string | undefined, entries: LauncherAuditEntry[]): Promise<void>;
}

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
  readonly deps: LauncherDeps;
  dispose(): void;
}

export function createLauncher(deps: LauncherDeps, env: NodeJS.ProcessEnv = process.env, home = homedir()): Launcher {
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
    deps,
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
        const { settings } = launcher.settings();
        backends = new LocalBackends({ settings }, await deps.localParts(settings, env, home));
      }
      return backends;
    },
    client: () => (client === undefined ? (client = env.MCP_TOKENS_CLIENT || parentName()) : client),
    resolve: async (keys, launch) => {
      const { LaunchRefused, resolveKeys } = await import('./sources');
      const { launcherEntries, recordLaunch } = await import('./audit');
      const local = await launcher.backends();
      const audit = (entries: LauncherAuditEntry[]) => deps.appendAudit(launcher.settings().userDir, entries);
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
