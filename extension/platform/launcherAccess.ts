/**
 * What the runtime offers the launcher's channel (types only). Pure: no `vscode`. The runtime builds
 * it (extension/runtime/launcherAccess.ts, the same consent as the provider); `activate` hands it to
 * the launcher feature (extension/launcher/index.ts), so neither imports the other.
 */
import type { TokenKey } from '../../server/core/reference';

/** A launch the `mcp-tokens` launcher asks tokens for (what the channel request says; no value in it). */
export interface ExternalLaunch {
  readonly command: string;
  readonly args: readonly string[];
  readonly cwd: string;
  /** The program that started the launcher (its parent process name), when known. */
  readonly client: string | null;
  readonly kind: 'run' | 'proxy';
}

/** What the channel answers (channelProtocol.ts `ChannelAnswer`, minus the channel's own `unauthorized`). */
export type LauncherResolution =
  | { readonly ok: true; readonly values: Readonly<Record<string, string>> }
  | { readonly ok: false; readonly code: 'denied' | 'missing' | 'invalid'; readonly message: string; readonly missing?: readonly string[] };

/** Consent, then the values of the references asked, audited. */
export interface LauncherAccess {
  resolve(launch: ExternalLaunch, keys: readonly TokenKey[]): Promise<LauncherResolution>;
}
