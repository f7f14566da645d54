/**
 * What the provider does for each token a server needs before it starts. Pure (no `vscode`), so the
 * decision is unit-tested directly; provider.ts carries it out.
 *
 * - A token that is neither of type `oauth` nor in the `oauth` namespace: used when stored (with a
 *   warning when expired), else the user is offered to set it.
 * - An OAuth token goes to the OAuth feature (`ensureFresh`: refresh, or sign in when it is missing
 *   or marked "sign-in required") whenever a sign-in is possible, that is when a server URL is known:
 *   the HTTP server's own URL (the MCP resource), else the URL the stored token was signed in at.
 *   A missing OAuth token of a server without a URL (stdio) is offered to be set, like any token.
 * - Without the OAuth feature, a stored OAuth token is used as it is unless it needs a new sign-in.
 */
import { expiryState, type TokenMetadata } from '../../server/core/model';
import { formatReference, type TokenKey } from '../../server/core/reference';
import type { OAuthClientConfig, ServerEntry } from '../../server/core/mcpConfig';
import type { PreRegisteredClient } from '../../server/core/oauthClient';

export type TokenStep =
  /** Use the stored value; `expired`: warn that the server may reject it. */
  | { readonly kind: 'use'; readonly expired: boolean }
  /** Not stored and no sign-in possible: offer "Set Token…", else fail naming the reference. */
  | { readonly kind: 'offer-set' }
  /** Call the OAuth feature's `ensureFresh` with this server URL (refresh, or sign in after asking). */
  | { readonly kind: 'oauth'; readonly url?: string; readonly signIn: boolean }
  /** Cannot proceed: the token needs a sign-in that cannot happen here. */
  | { readonly kind: 'fail'; readonly reason: 'sign-in-required' | 'no-url' };

export interface TokenPlanInput {
  readonly key: TokenKey;
  /** The stored metadata, undefined when the token is not stored. */
  readonly meta: TokenMetadata | undefined;
  /** The HTTP server's URL with its variables resolved; undefined for a stdio server. */
  readonly serverUrl: string | undefined;
  /** Whether the OAuth feature is registered (`services.oauth`). */
  readonly oauthAvailable: boolean;
  readonly now: Date;
}

export function isOAuthToken(key: TokenKey, meta: Pick<TokenMetadata, 'type'> | undefined): boolean {
  return key.namespace === 'oauth' || meta?.type === 'oauth';
}

export function planToken({ key, meta, serverUrl, oauthAvailable, now }: TokenPlanInput): TokenStep {
  if (!isOAuthToken(key, meta)) {
    return meta ? { kind: 'use', expired: expiryState(meta, now, 0) === 'expired' } : { kind: 'offer-set' };
  }
  const signInNeeded = !meta || meta.oauth?.signInRequired === true;
  if (!oauthAvailable) {
    if (!meta) return { kind: 'offer-set' };
    return signInNeeded ? { kind: 'fail', reason: 'sign-in-required' } : { kind: 'use', expired: false };
  }
  const url = serverUrl ?? meta?.oauth?.serverUrl;
  if (signInNeeded && !url) return meta ? { kind: 'fail', reason: 'no-url' } : { kind: 'offer-set' };
  return { kind: 'oauth', url, signIn: signInNeeded };
}

/**
 * The entry's `oauth` client in the OAuth feature's terms. `secret` is the value of the token
 * `clientSecretKey` names (looked up by the caller); undefined when the entry has no `oauth`.
 * Throws (naming the reference, never a value) when the entry names a secret that is not available.
 */
export function preRegisteredClient(entry: ServerEntry, secret: (key: TokenKey) => string | undefined): PreRegisteredClient | undefined {
  if (entry.kind !== 'http' || !entry.oauth) return undefined;
  const o: OAuthClientConfig = entry.oauth;
  let clientSecret: string | undefined;
  if (o.clientSecretKey) {
    clientSecret = secret(o.clientSecretKey);
    if (clientSecret === undefined) throw new Error(`The client secret ${formatReference(o.clientSecretKey)} of the MCP server "${entry.name}" is not stored.`);
  }
  return {
    clientId: o.clientId,
    ...(clientSecret !== undefined && o.clientSecretKey ? { clientSecret, clientSecretRef: formatReference(o.clientSecretKey) } : {}),
    // The token endpoint is pinned whenever the entry names it (the consent dialog showed it).
    ...(o.authorizationUrl ? { authorizationEndpoint: o.authorizationUrl } : {}),
    ...(o.tokenUrl ? { tokenEndpoint: o.tokenUrl } : {}),
    ...(o.scopes?.length ? { scopes: o.scopes } : {}),
  };
}
