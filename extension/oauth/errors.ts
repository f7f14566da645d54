/**
 * Errors of the OAuth feature. Every message says what failed in words a user can act on and never
 * contains a secret (access token, refresh token, authorization code, code verifier, client secret).
 * Pure: no `vscode` import.
 */
import { OAuthError } from '@modelcontextprotocol/sdk/server/auth/errors.js';

export type OAuthFailure =
  | 'cancelled'
  | 'timeout'
  | 'not_protected'
  | 'resource_mismatch'
  | 'no_authorization_server'
  | 'no_metadata'
  | 'issuer_mismatch'
  | 'pkce_unsupported'
  | 'no_client'
  | 'registration_failed'
  | 'state_mismatch'
  | 'iss_mismatch'
  | 'iss_missing'
  | 'authorization_denied'
  | 'token_exchange_failed'
  | 'invalid_grant'
  | 'refresh_failed'
  | 'insufficient_scope'
  | 'revocation_failed'
  | 'not_signed_in'
  | 'invalid_response'
  | 'insecure_endpoint'
  | 'forbidden_host'
  | 'issuer_changed';

export class OAuthFlowError extends Error {
  constructor(
    readonly failure: OAuthFailure,
    message: string,
  ) {
    super(message);
    this.name = 'OAuthFlowError';
  }
}

/** A message for `e` with every occurrence of the given secrets replaced, at most 500 characters. */
export function safeMessage(e: unknown, secrets: readonly (string | undefined)[] = []): string {
  let text: string;
  if (e instanceof OAuthFlowError) text = e.message;
  else if (e instanceof OAuthError) text = `The authorization server answered "${e.errorCode}"${e.message ? `: ${e.message}` : ''}.`;
  else if (e instanceof Error) text = e.message;
  else text = String(e);
  for (const s of secrets) {
    if (s && s.length >= 4) text = text.split(s).join('***');
  }
  return text.length > 500 ? `${text.slice(0, 497)}...` : text;
}
