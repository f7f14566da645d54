/**
 * The launcher feature: the channel the `mcp-tokens` command-line launcher asks for SecretStorage
 * tokens (channelServer.ts; consent, values and audit come from the runtime's LauncherAccess,
 * which `activate` hands over), the pointer file the installed shim follows to this extension
 * version, and "MCP Tokens: Install Command-Line Launcher". `registerLauncher(services, access)` is
 * the one call `activate` makes, after `registerMcpRuntime`.
 */
import * as vscode from 'vscode';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { registerCommand } from '../platform/commands';
import type { Services } from '../services';
import type { LauncherAccess } from '../platform/launcherAccess';
import { launcherHome, parsePointer, pointerText, POINTER_FILE, type LauncherPointer } from '../../server/core/launcherPointer';
import { launcherUses } from './audit';
import { channelDir } from './channelProtocol';
import { ChannelServer } from './channelServer';
import { defaultShimDir, isOnPath, shimFileName, shimText, SHIM_MARKER } from './shim';
import { errorText } from '../../server/core/errors';

/** The CLI bundle inside the extension (built by esbuild.mjs). */
export const CLI_BUNDLE = path.join('dist', 'cli', 'mcp-tokens.mjs');

export function registerLauncher(s: Services, access: LauncherAccess): void {
  const platform = process.platform;
  const channel = new ChannelServer({
    dir: channelDir(process.env, os.homedir(), platform),
    platform,
    user: safeUser(),
    resolve: (launch, keys) => access.resolve(launch, keys),
    log: s.log,
  });
  void channel.start();
  s.context.subscriptions.push({ dispose: () => void channel.dispose() });

  // The launcher reads keyring and Vault tokens without VS Code and records each use in the shared
  // audit log; "last used" follows from there (every window does it; a use already recorded changes nothing).
  // Uses made while VS Code was closed are in the log already: the last 1,000 launcher events are read once.
  const recordUses = (events: Parameters<typeof launcherUses>[0]) => {
    for (const use of launcherUses(events)) {
      void s.store
        .ready()
        .then(() => s.store.markUsed(use.key, use.at))
        .catch((e) => s.log.warn(`Could not record a launcher use of ${use.key.namespace}:${use.key.name}: ${errorText(e)}`));
    }
  };
  s.context.subscriptions.push(s.audit.log.follow(recordUses));
  void s.store
    .ready()
    .then(() => s.audit.list({ kind: 'launcher' }))
    .then(recordUses)
    .catch((e) => s.log.warn(`Could not read the launcher's uses from the audit log: ${errorText(e)}`));

  const pointerFile = path.join(launcherHome(process.env, os.homedir(), platform), POINTER_FILE);
  void updatePointer(pointerFile, {}).catch((e) => s.log.warn(`Could not write the launcher pointer ${pointerFile}: ${message(e)}`));

  registerCommand(s, 'installLauncher', async (input) => {
    let dir = input.via === 'args' ? input.args.directory : undefined;
    if (dir === undefined) {
      const fallback = defaultShimDir(os.homedir(), platform);
      const pick = await vscode.window.showQuickPick(
        [
          { label: fallback, description: isOnPath(fallback, process.env.PATH, platform) ? vscode.l10n.t('on PATH') : vscode.l10n.t('not on PATH'), dir: fallback },
          { label: vscode.l10n.t('Choose a Folder…'), dir: undefined },
        ],
        { placeHolder: vscode.l10n.t('Where to put the mcp-tokens command') },
      );
      if (!pick) return undefined;
      dir = pick.dir;
      if (dir === undefined) {
        const chosen = await vscode.window.showOpenDialog({ canSelectFolders: true, canSelectFiles: false, openLabel: vscode.l10n.t('Install Here') });
        if (!chosen?.[0]) return undefined;
        dir = chosen[0].fsPath;
      }
    }
    if (!path.isAbsolute(dir)) throw new Error(vscode.l10n.t('The folder for mcp-tokens must be an absolute path, not "{0}".', dir));
    const shim = path.join(dir, shimFileName(platform));
    await writeShim(shim, platform);
    await updatePointer(pointerFile, { shim });
    const onPath = isOnPath(dir, process.env.PATH, platform);
    s.log.info(`Installed the mcp-tokens launcher at ${shim} (${onPath ? 'on PATH' : 'not on PATH'}).`);
    void vscode.window.showInformationMessage(
      onPath
        ? vscode.l10n.t('Installed mcp-tokens at {0}. Its folder is on your PATH: MCP clients can run "mcp-tokens".', shim)
        : vscode.l10n.t('Installed mcp-tokens at {0}. Its folder is not on your PATH: add {1} to PATH, or use the full path in MCP client configs.', shim, dir),
    );
    return { path: shim, onPath };
  });

  /** Rewrites the pointer: this extension version's bundle and runtime, keeping the installed shim. */
  async function updatePointer(file: string, patch: Partial<LauncherPointer>): Promise<void> {
    const old = parsePointer(await fs.readFile(file, 'utf8').catch(() => ''));
    const next: LauncherPointer = {
      node: process.execPath,
      electron: !!process.versions.electron,
      bundle: s.context.asAbsolutePath(CLI_BUNDLE),
      shim: patch.shim ?? old.shim,
    };
    await fs.mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
    const tmp = `${file}.${process.pid}.tmp`;
    await fs.writeFile(tmp, pointerText(next), { mode: 0o600 });
    await fs.rename(tmp, file);
  }
}

/** Writes the shim; a file there that is not one of ours is left alone. */
async function writeShim(file: string, platform: NodeJS.Platform): Promise<void> {
  const existing = await fs.readFile(file, 'utf8').catch(() => undefined);
  if (existing !== undefined && !existing.includes(SHIM_MARKER)) {
    throw new Error(vscode.l10n.t('{0} exists and was not written by MCP Token Manager; remove it or pick another folder.', file));
  }
  await fs.mkdir(path.dirname(file), { recursive: true });
  await fs.writeFile(file, shimText(platform), { mode: 0o755 });
  if (platform !== 'win32') await fs.chmod(file, 0o755);
}

function safeUser(): string | undefined {
  try {
    return os.userInfo().username;
  } catch {
    return undefined;
  }
}

function message(e: unknown): string {
  return errorText(e);
}
