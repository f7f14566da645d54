/**
 * What every feature module receives from `activate`: built once, never changed afterwards. Features
 * reach each other only through it (the OAuth hooks the runtime calls, the Tokens view's child
 * sources), never by importing another feature's folder.
 */
import type * as vscode from 'vscode';
import type { TokenStore } from './store/tokenStore';
import type { Config } from './config';
import type { Gate } from './platform/gate';
import type { TokenKey } from '../server/core/reference';
import type { PreRegisteredClient } from '../server/core/oauthClient';

/** What exists before any feature: the store and what every feature needs to talk to the user. */
export interface CoreServices {
  readonly context: vscode.ExtensionContext;
  readonly store: TokenStore;
  readonly config: Config;
  /** The "MCP Tokens" output channel. Never log a value. */
  readonly log: vscode.LogOutputChannel;
  /** The modal confirmation every value passes before a command lets it leave the store. */
  readonly gate: Gate;
}

export interface Services extends CoreServices {
  /** Built by the OAuth feature (`createOAuth`); the MCP provider calls it for `oauth` tokens at each start. */
  readonly oauth: OAuthHooks;
  /** The Tokens view, for features that show something under each token (`createTokensView`). */
  readonly tokensView: TokensViewApi;
}

/** Hooks the OAuth feature offers the MCP server provider. */
export interface OAuthHooks {
  /**
   * Makes sure the OAuth token `key` is usable before a server starts: refreshes it when it expires
   * soon, or runs the sign-in flow when it is missing or marked "sign-in required".
   * Resolves false when the user cancelled or sign-in failed (the server must not start).
   */
  ensureFresh(
    key: TokenKey,
    server: {
      name: string;
      /** The MCP server URL (the resource); undefined: the URL the token was signed in at. */
      url?: string;
      /** The server entry's pre-registered client (`oauth` in the token-aware file), its secret resolved. */
      preRegistered?: PreRegisteredClient;
    },
  ): Promise<boolean>;
}

/** A child under a token in the Tokens view, contributed by another feature. */
export interface TokenChild {
  readonly id: string;
  readonly label: string;
  readonly description?: string;
  readonly tooltip?: string;
  readonly icon?: string;
  readonly contextValue: string;
  readonly command?: vscode.Command;
  /** Anything the contributing feature needs back in its commands. */
  readonly data?: unknown;
}

export type TokenChildSource = (token: TokenKey) => TokenChild[];

/** What the Tokens view offers other features. */
export interface TokensViewApi {
  /** Adds children under each token (e.g. the servers allowed to use it); disposing removes them. */
  addChildSource(source: TokenChildSource): vscode.Disposable;
  /** Redraws the view (after a change a child source depends on). */
  refresh(): void;
}
