/**
 * Where the OAuth feature may send requests, and over what (MCP authorization spec 2026-07-28,
 * Security Considerations §"Communication Security": every authorization server endpoint over HTTPS;
 * Authorization Server Discovery: metadata from the resource server and the authorization servers its
 * Protected Resource Metadata lists). Pure: no `vscode`, no I/O.
 *
 *  - HTTPS is required for every authorization, token, registration and revocation endpoint and for
 *    every metadata document, except on loopback hosts (127.0.0.0/8, ::1, localhost).
 *  - A guarded fetch refuses any URL outside the origins allowed for the current step and never
 *    follows a redirect (a redirect would take the request to a host nobody vetted).
 * Errors name the endpoint and its origin, never a token or a query string.
 */
import type { FetchLike } from '@modelcontextprotocol/sdk/shared/transport.js';
import { OAuthFlowError } from './errors';
import { isLoopbackHost, isSecureUrl } from '../platform/url';

export { isLoopbackHost, isSecureUrl };

/** The origin of a URL for messages (no path, no query: nothing that could carry a secret). */
export function originOf(url: string | URL): string {
  try {
    return new URL(url).origin;
  } catch {
    return 'an invalid URL';
  }
}

/**
 * Throws OAuthFlowError('insecure_endpoint') unless `url` is HTTPS (or HTTP on a loopback host), naming
 * `what` (e.g. "token endpoint") and the origin. Returns the parsed URL.
 */
export function requireSecureUrl(url: string | URL, what: string): URL {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new OAuthFlowError('insecure_endpoint', `The ${what} is not a valid URL; sign-in refused.`);
  }
  if (!isSecureUrl(parsed)) {
    throw new OAuthFlowError(
      'insecure_endpoint',
      `The ${what} (${parsed.protocol}//${parsed.host}) does not use HTTPS; only loopback hosts may use plain HTTP (MCP authorization spec: communication security). Sign-in refused.`,
    );
  }
  return parsed;
}

/** The endpoints of authorization server metadata that a client calls, checked with requireSecureUrl. */
export function requireSecureEndpoints(metadata: Record<string, unknown>, issuer: string): void {
  const names: Record<string, string> = {
    authorization_endpoint: 'authorization endpoint',
    token_endpoint: 'token endpoint',
    registration_endpoint: 'registration endpoint',
    revocation_endpoint: 'revocation endpoint',
  };
  for (const [field, what] of Object.entries(names)) {
    const value = metadata[field];
    if (typeof value === 'string' && value) requireSecureUrl(value, `${what} of the authorization server ${originOf(issuer)}`);
  }
}

/** Same scheme, host and port. */
export function sameOrigin(a: string | URL, b: string | URL): boolean {
  try {
    return new URL(a).origin === new URL(b).origin;
  } catch {
    return false;
  }
}

export interface GuardOptions {
  /** Origins this step may contact; undefined: any origin (the URL policy still applies). */
  readonly origins?: readonly string[];
  /** What is being fetched, for the error (e.g. "Protected Resource Metadata"). */
  readonly what: string;
}

/**
 * A fetch that only sends to secure URLs (HTTPS, or HTTP on loopback) on the allowed origins and never
 * follows a redirect. Refusals throw OAuthFlowError('insecure_endpoint' | 'forbidden_host').
 */
export function guardedFetch(base: FetchLike, options: GuardOptions): FetchLike {
  const allowed = options.origins?.map((o) => originOf(o));
  return async (input, init) => {
    const url = requireSecureUrl(typeof input === 'string' || input instanceof URL ? input : (input as Request).url, options.what);
    if (allowed && !allowed.includes(url.origin)) {
      throw new OAuthFlowError(
        'forbidden_host',
        `The ${options.what} would be fetched from ${url.origin}, which is neither the MCP server's origin nor an authorization server its Protected Resource Metadata lists; it was not contacted.`,
      );
    }
    const response = await base(url, { ...init, redirect: 'manual' });
    if (response.status >= 300 && response.status < 400) {
      await response.body?.cancel().catch(() => undefined);
      // Reported as a failed response (the SDK moves on to the next well-known URL, or fails).
      return new Response(null, { status: 404, statusText: 'redirect not followed' });
    }
    return response;
  };
}
