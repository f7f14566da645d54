/** What every feature module receives from `activate`. */
import type * as vscode from 'vscode';
import type { TokenStore } from './store/tokenStore';
import type { Config } from './config';
import type { Gate } from './platform/gate';
import type { LauncherAccess } from './runtime/launcherAccess';

export interface Services {
  readonly context: vscode.ExtensionContext;
  readonly store: TokenStore;
  readonly config: Config;
  /** The "MCP Tokens" output channel. Never log a value. */
  readonly log: vscode.LogOutputChannel;
  /** The modal confirmation every value passes before a command lets it leave the store. */
  readonly gate: Gate;
  /** Set by the OAuth feature; the MCP provider calls it for `oauth` tokens at each start. */
  oauth?: OAuthHooks;
  /** Set by the runtime feature: consent, values and audit for the `mcp-tokens` launcher's channel. */
  launches?: LauncherAccess;
}

export type { LauncherAccess } from './runtime/launcherAccess';

/** Hooks the OAuth feature offers the MCP server provider (set by the OAuth feature when registered). */
export interface OAuthHooks {
  /**
   * Makes sure the OAuth token `key` is usable before a server starts: refreshes it when it expires
   * soon, or runs the sign-in flow when it is missing or marked "sign-in required".
   * Resolves false when the user cancelled or sign-in failed (the server must not start).
   */
  ensureFresh(
    key: import('../server/core/reference').TokenKey,
    server: {
      name: string;
      /** The MCP server URL (the resource); undefined: the URL the token was signed in at. */
      url?: string;
      /** The server entry's pre-registered client (`oauth` in the token-aware file), its secret resolved. */
      preRegistered?: import('./oauth/flow').PreRegisteredClient;
    },
  ): Promise<boolean>;
}
