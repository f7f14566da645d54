/**
 * The one readiness check of an MCP server of a token-aware file. Pure (no `vscode`): the facts
 * (workspace trust, what the store holds, the consent decisions, whether OAuth is available) are
 * handed in, so the verdict is unit-tested directly.
 *
 * The Servers view shows `state` and `keys`; a start (provider.ts) carries out the same assessment
 * step by step: it refuses an untrusted workspace's server, asks consent for `ask`, refuses `denied`,
 * then does each token's `step` (use it, offer to set it, refresh or sign in, or fail).
 *
 * The verdict, first that applies:
 *  1. `untrusted`: a workspace file's server in an untrusted workspace (no token is given to it);
 *  2. `token-missing`: a token that is not stored and cannot be obtained by signing in (the keys);
 *     `sign-in-needed` when every missing token is an OAuth token a start signs in for;
 *  3. `sign-in-needed`: a stored OAuth token marked "sign-in required";
 *  4. `expired`: a stored token, not of type `oauth`, whose expiry has passed;
 *  5. `ready` when the server uses no token;
 *  6. `consent-needed` for every token when the launch is not known yet (its inputs are not given
 *     this session, or its envFile cannot be read); else `denied` when a token was denied to this
 *     launch, `consent-needed` for the tokens not decided yet;
 *  7. `ready`.
 */
import { expiryState, type TokenMetadata } from '../../server/core/model';
import type { TokenKey } from '../../server/core/reference';
import type { Decision } from './consent';
import { planToken, type TokenStep } from './tokenPlan';

export type Readiness = 'ready' | 'token-missing' | 'expired' | 'consent-needed' | 'denied' | 'sign-in-needed' | 'untrusted';

export interface ServerFacts {
  /** Where the server is defined: a workspace file's server is served only in a trusted workspace. */
  readonly scope: 'user' | 'workspace';
  readonly workspaceTrusted: boolean;
  /** The distinct tokens the entry references, in order (`needsOf(entry).tokens`). */
  readonly tokens: readonly TokenKey[];
  /** The stored metadata of a token, undefined when it is not stored. */
  readonly meta: (key: TokenKey) => TokenMetadata | undefined;
  /**
   * The user's decision for a token and this launch; undefined (the whole function) when the launch
   * is not known yet, so no decision can be looked up.
   */
  readonly consent: ((key: TokenKey) => Decision | undefined) | undefined;
  /** The HTTP server's URL (the MCP resource an OAuth sign-in is for); undefined for a stdio server. */
  readonly serverUrl: string | undefined;
  /** Whether the OAuth feature is available (`services.oauth`). */
  readonly oauthAvailable: boolean;
  readonly now: Date;
}

export interface TokenAssessment {
  readonly key: TokenKey;
  readonly meta: TokenMetadata | undefined;
  /** What a start does for this token (see tokenPlan.ts). */
  readonly step: TokenStep;
}

export interface Assessment {
  readonly state: Readiness;
  /** The tokens the state is about (missing, expired, to decide...); empty for `ready` and `untrusted`. */
  readonly keys: readonly TokenKey[];
  /** Every token of the server, in order, with what a start does for it. */
  readonly tokens: readonly TokenAssessment[];
  /** Tokens denied to this launch (empty when the launch is not known). */
  readonly denied: readonly TokenKey[];
  /** Tokens whose consent a start asks for: not decided yet, or every token when the launch is not known. */
  readonly ask: readonly TokenKey[];
}

export function assessServer(f: ServerFacts): Assessment {
  const tokens: TokenAssessment[] = f.tokens.map((key) => {
    const meta = f.meta(key);
    return { key, meta, step: planToken({ key, meta, serverUrl: f.serverUrl, oauthAvailable: f.oauthAvailable, now: f.now }) };
  });
  const decide = f.consent;
  const denied = decide ? f.tokens.filter((k) => decide(k) === 'deny') : [];
  const ask = decide ? f.tokens.filter((k) => decide(k) === undefined) : [...f.tokens];
  const verdict = (state: Readiness, keys: readonly TokenKey[] = []): Assessment => ({ state, keys, tokens, denied, ask });

  if (!trustAllows(f.scope, f.workspaceTrusted)) return verdict('untrusted');
  const missing = tokens.filter((t) => !t.meta);
  if (missing.length) {
    // A missing OAuth token of an HTTP server is obtained by signing in when the server starts.
    const toSet = missing.filter((t) => t.step.kind !== 'oauth').map((t) => t.key);
    return toSet.length ? verdict('token-missing', toSet) : verdict('sign-in-needed', missing.map((t) => t.key));
  }
  const signIn = tokens.filter((t) => t.meta?.oauth?.signInRequired).map((t) => t.key);
  if (signIn.length) return verdict('sign-in-needed', signIn);
  const expired = tokens.filter((t) => t.meta!.type !== 'oauth' && expiryState(t.meta!, f.now, 0) === 'expired').map((t) => t.key);
  if (expired.length) return verdict('expired', expired);
  if (tokens.length === 0) return verdict('ready');
  if (denied.length) return verdict('denied', denied);
  if (ask.length) return verdict('consent-needed', ask);
  return verdict('ready');
}

/** Whether a server of a file of `scope` may be served (and given tokens) at all. */
export function trustAllows(scope: 'user' | 'workspace', workspaceTrusted: boolean): boolean {
  return scope === 'user' || workspaceTrusted;
}
