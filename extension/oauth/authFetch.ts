/**
 * A fetch for MCP clients (the SDK's StreamableHTTPClientTransport) that sends the stored access token
 * and answers the server's challenges: on `401` it refreshes once, then signs in; on `403` with
 * `insufficient_scope` it steps up (signs in again with the union of the granted and the challenged
 * scopes). At most MAX_AUTHORIZATIONS sign-ins per request. Pure.
 */
import type { FetchLike } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { TokenKey } from '../../server/core/reference';
import { OAuthFlowError } from './errors';
import { parseChallenge } from './flow';
import type { OAuthManager, OAuthServerRef } from './manager';

/** At most this many sign-ins for one request (e.g. the first one and two step-ups). */
export const MAX_AUTHORIZATIONS = 3;

export function createAuthFetch(manager: OAuthManager, key: TokenKey, server: OAuthServerRef & { url: string }, base: FetchLike = (u, i) => fetch(u, i)): FetchLike {
  return async (input, init) => {
    let attempts = 0;
    let refreshed = false;
    for (;;) {
      const token = await manager.sessions.accessToken(key);
      const headers = new Headers(init?.headers);
      if (token) headers.set('authorization', `Bearer ${token}`);
      const response = await base(input, { ...init, headers });
      const challenge = response.status === 401 || response.status === 403 ? parseChallenge(response) : undefined;
      const stepUp = response.status === 403 && challenge?.error === 'insufficient_scope';
      if (response.status !== 401 && !stepUp) return response;
      await response.body?.cancel().catch(() => undefined);
      if (response.status === 401 && token && !refreshed && manager.sessions.get(key)?.oauth?.hasRefreshToken) {
        refreshed = true;
        if ((await manager.refresh(key, { force: true, server })) === 'refreshed') continue;
      }
      if (attempts >= MAX_AUTHORIZATIONS) {
        throw new OAuthFlowError(
          stepUp ? 'insufficient_scope' : 'not_signed_in',
          `The server still refuses the request after ${MAX_AUTHORIZATIONS} authorizations${stepUp ? ` (insufficient scope: ${challenge?.scope ?? 'unknown'})` : ''}; giving up.`,
        );
      }
      attempts++;
      await manager.signIn(key, server, { challenge, stepUp });
    }
  };
}
