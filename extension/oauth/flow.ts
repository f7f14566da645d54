/**
 * The OAuth authorization flow of the MCP authorization spec, built from the MCP TypeScript SDK's
 * client auth functions (discovery, registration, PKCE, token exchange, refresh). This module adds
 * what the SDK leaves to the caller or does more loosely than the spec asks (see docs/oauth.md):
 *  - refuses an authorization server whose metadata does not list PKCE `S256`;
 *  - refuses authorization server metadata whose `issuer` differs from the server it was fetched for;
 *  - the RFC 9207 `iss` check on the authorization response;
 *  - refuses Protected Resource Metadata whose `resource` does not cover the server URL;
 *  - `application_type: native` in dynamic registration, a loopback redirect on 127.0.0.1;
 *  - token revocation (RFC 7009), which the SDK client does not offer.
 * Pure: no `vscode` import; network access only through the injected `fetch`.
 */
import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import {
  discoverAuthorizationServerMetadata,
  discoverOAuthProtectedResourceMetadata,
  exchangeAuthorization,
  extractWWWAuthenticateParams,
  refreshAuthorization,
  registerClient,
  selectClientAuthMethod,
  startAuthorization,
} from '@modelcontextprotocol/sdk/client/auth.js';
import { checkResourceAllowed, resourceUrlFromServerUrl } from '@modelcontextprotocol/sdk/shared/auth-utils.js';
import type {
  AuthorizationServerMetadata,
  OAuthClientInformationMixed,
  OAuthProtectedResourceMetadata,
  OAuthTokens,
} from '@modelcontextprotocol/sdk/shared/auth.js';
import type { FetchLike } from '@modelcontextprotocol/sdk/shared/transport.js';
import { LATEST_PROTOCOL_VERSION } from '@modelcontextprotocol/sdk/types.js';
import type { PreRegisteredClient } from '../../server/core/oauthClient';
import { OAuthFlowError, safeMessage } from './errors';
import { startLoopback, type AuthorizationResponse } from './loopback';
import { guardedFetch, originOf, requireSecureEndpoints, requireSecureUrl, sameOrigin } from './policy';

export type { OAuthTokens, AuthorizationServerMetadata };

/** What a `401`/`403` `WWW-Authenticate: Bearer` challenge told us. */
export interface Challenge {
  readonly resourceMetadataUrl?: URL;
  readonly scope?: string;
  readonly error?: string;
}

export function parseChallenge(response: Response): Challenge {
  return extractWWWAuthenticateParams(response);
}

/** A client registered out of band (the server entry's client id and secret, optional endpoints). */
/** A client registration kept per issuer (dynamic registration or a Client ID Metadata Document URL). */
export const storedClientSchema = z.object({
  issuer: z.string(),
  client_id: z.string().min(1),
  client_secret: z.string().optional(),
  client_secret_expires_at: z.number().optional(),
  redirect_uris: z.array(z.string()).default([]),
  token_endpoint_auth_method: z.string().optional(),
  /** How the client id was obtained. */
  source: z.enum(['dcr', 'cimd', 'pre-registered', 'manual', 'external']),
});
export type StoredClient = z.infer<typeof storedClientSchema>;

export interface ServerAuthInfo {
  readonly serverUrl: string;
  /** RFC 8707 resource indicator sent in the authorization and token requests (the PRM's, else the canonical server URL). */
  readonly resource?: string;
  readonly resourceMetadata?: OAuthProtectedResourceMetadata;
  readonly authorizationServerUrl: string;
  readonly metadata: AuthorizationServerMetadata;
}

export interface FlowOptions {
  readonly fetch?: FetchLike;
  readonly signal?: AbortSignal;
  /** Notes worth a log line (never a secret). */
  readonly log?: (message: string) => void;
}

const PROBE_TIMEOUT_MS = 15_000;

function withSignal(fetchFn: FetchLike | undefined, signal: AbortSignal | undefined): FetchLike {
  const base: FetchLike = fetchFn ?? ((url, init) => fetch(url, init));
  if (!signal) return base;
  return (url, init) => base(url, { ...init, signal: init?.signal ? AbortSignal.any([init.signal, signal]) : signal });
}

/** Compares issuer identifiers as URLs; a trailing slash on a bare origin does not count. */
export function sameIssuer(a: string, b: string): boolean {
  const norm = (s: string) => {
    try {
      const u = new URL(s);
      return u.href.endsWith('/') ? u.href.slice(0, -1) : u.href;
    } catch {
      return s;
    }
  };
  return norm(a) === norm(b);
}

/**
 * Sends an unauthenticated MCP `initialize` to learn the server's challenge. Returns undefined when the
 * server did not answer 401 (it may still protect other requests).
 */
export async function probe(serverUrl: string, options: FlowOptions = {}): Promise<Challenge | undefined> {
  const f = withSignal(options.fetch, options.signal ? AbortSignal.any([options.signal, AbortSignal.timeout(PROBE_TIMEOUT_MS)]) : AbortSignal.timeout(PROBE_TIMEOUT_MS));
  const response = await f(serverUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-protocol-version': LATEST_PROTOCOL_VERSION },
    body: JSON.stringify({
      jsonrpc: '2.0',
      id: 0,
      method: 'initialize',
      params: { protocolVersion: LATEST_PROTOCOL_VERSION, capabilities: {}, clientInfo: { name: 'mcp-token-manager', version: '0.1.0' } },
    }),
  }).catch((e: unknown) => {
    throw new OAuthFlowError('not_protected', `Could not reach ${serverUrl}: ${safeMessage(e)}`);
  });
  await response.body?.cancel().catch(() => undefined);
  return response.status === 401 ? parseChallenge(response) : undefined;
}

/**
 * Discovery: Protected Resource Metadata (RFC 9728: the challenge's URL when it is on the MCP server's
 * origin, else the path form, then the root), the resource check, then the authorization server
 * metadata (RFC 8414 and OpenID discovery in the spec's order) of the first authorization server the
 * PRM lists, with the issuer, PKCE and HTTPS checks. Only the MCP server's origin and that
 * authorization server are contacted (guardedFetch), and no redirect is followed.
 */
export async function discover(
  serverUrl: string,
  challenge: Challenge | undefined,
  options: FlowOptions & { preRegistered?: PreRegisteredClient } = {},
): Promise<ServerAuthInfo> {
  const f = withSignal(options.fetch, options.signal);
  const server = requireSecureUrl(serverUrl, 'MCP server URL');
  let resourceMetadataUrl = challenge?.resourceMetadataUrl;
  if (resourceMetadataUrl && !sameOrigin(resourceMetadataUrl, server)) {
    // RFC 9728 §3 / MCP: metadata comes from the resource server itself; another origin is never fetched.
    options.log?.(`The server's challenge names Protected Resource Metadata on another origin (${originOf(resourceMetadataUrl)}); it was ignored and the well-known URIs of ${server.origin} are used.`);
    resourceMetadataUrl = undefined;
  }
  const prmFetch = guardedFetch(f, { origins: [server.origin], what: 'Protected Resource Metadata' });
  let resourceMetadata: OAuthProtectedResourceMetadata | undefined;
  try {
    resourceMetadata = await discoverOAuthProtectedResourceMetadata(serverUrl, { resourceMetadataUrl }, prmFetch);
  } catch (e) {
    if (options.signal?.aborted) throw new OAuthFlowError('cancelled', 'Sign-in was cancelled.');
    if (e instanceof OAuthFlowError) throw e;
    if (resourceMetadataUrl) {
      throw new OAuthFlowError('invalid_response', `The server's Protected Resource Metadata could not be read: ${safeMessage(e)}`);
    }
  }

  const pre = options.preRegistered;
  const canonical = resourceUrlFromServerUrl(serverUrl);
  // RFC 8707: `resource` is sent in every authorization and token request, whatever the server supports.
  let resource = canonical.href;
  let authorizationServerUrl: string | undefined;
  if (resourceMetadata) {
    let allowed = false;
    try {
      allowed = checkResourceAllowed({ requestedResource: canonical, configuredResource: resourceMetadata.resource });
    } catch {
      allowed = false;
    }
    if (!allowed) {
      throw new OAuthFlowError(
        'resource_mismatch',
        `The server's Protected Resource Metadata names the resource ${resourceMetadata.resource}, which does not cover ${canonical.href}; sign-in refused (RFC 9728 §3.3).`,
      );
    }
    // Sent verbatim: exact-match authorization servers reject a re-serialised URL.
    resource = resourceMetadata.resource;
    authorizationServerUrl = resourceMetadata.authorization_servers?.[0];
    if (!authorizationServerUrl) {
      throw new OAuthFlowError('no_authorization_server', `The server's Protected Resource Metadata names no authorization server.`);
    }
  } else if (pre?.authorizationEndpoint && pre.tokenEndpoint) {
    // No PRM, but the server entry configures the endpoints: the server's origin stands for the issuer.
    authorizationServerUrl = new URL('/', serverUrl).href;
  } else if (!challenge) {
    throw new OAuthFlowError('not_protected', `${serverUrl} did not ask for an OAuth sign-in (no 401 challenge, no Protected Resource Metadata).`);
  } else {
    throw new OAuthFlowError(
      'no_metadata',
      `${server.origin} publishes no Protected Resource Metadata (RFC 9728), which the MCP authorization spec requires for finding the authorization server; sign-in refused.`,
    );
  }
  requireSecureUrl(authorizationServerUrl, 'authorization server');

  const asFetch = guardedFetch(f, { origins: [originOf(authorizationServerUrl)], what: 'authorization server metadata' });
  let metadata: AuthorizationServerMetadata | undefined;
  try {
    metadata = resourceMetadata ? await discoverAuthorizationServerMetadata(authorizationServerUrl, { fetchFn: asFetch }) : undefined;
  } catch (e) {
    if (options.signal?.aborted) throw new OAuthFlowError('cancelled', 'Sign-in was cancelled.');
    if (e instanceof OAuthFlowError) throw e;
    throw new OAuthFlowError('no_metadata', `The authorization server metadata of ${authorizationServerUrl} could not be read: ${safeMessage(e)}`);
  }
  if (!metadata) {
    if (pre?.authorizationEndpoint && pre.tokenEndpoint) {
      // Endpoints configured with the pre-registered client stand in for the missing metadata.
      metadata = {
        issuer: authorizationServerUrl,
        authorization_endpoint: pre.authorizationEndpoint,
        token_endpoint: pre.tokenEndpoint,
        response_types_supported: ['code'],
        code_challenge_methods_supported: ['S256'],
      };
    } else {
      throw new OAuthFlowError('no_metadata', `The authorization server ${authorizationServerUrl} publishes no metadata (RFC 8414 or OpenID discovery).`);
    }
  } else if (!sameIssuer(metadata.issuer, authorizationServerUrl)) {
    throw new OAuthFlowError(
      'issuer_mismatch',
      `The authorization server metadata fetched for ${authorizationServerUrl} names the issuer ${metadata.issuer}; it was refused (RFC 8414 §3.3).`,
    );
  }
  requireSecureEndpoints(metadata as Record<string, unknown>, metadata.issuer);
  requireConfiguredTokenEndpoint(metadata, pre);
  if (!metadata.code_challenge_methods_supported?.includes('S256')) {
    throw new OAuthFlowError(
      'pkce_unsupported',
      `The authorization server ${metadata.issuer} does not advertise PKCE with S256 (code_challenge_methods_supported); sign-in refused as the MCP authorization spec requires.`,
    );
  }
  return { serverUrl, resource, resourceMetadata, authorizationServerUrl, metadata };
}

/** The scope to request: the challenge's, else the resource's `scopes_supported`, else none. */
export function selectScopes(info: ServerAuthInfo, challenge: Challenge | undefined, extra: readonly string[] = []): string[] {
  let scopes: string[] = [];
  if (challenge?.scope) scopes = challenge.scope.split(/\s+/).filter(Boolean);
  else if (info.resourceMetadata?.scopes_supported?.length) scopes = [...info.resourceMetadata.scopes_supported];
  return unionScopes(scopes, extra);
}

export function unionScopes(...lists: readonly (readonly string[] | undefined)[]): string[] {
  return [...new Set(lists.flatMap((l) => l ?? []).filter(Boolean))];
}

/** Where the flow keeps and finds client registrations (keyed by issuer). */
export interface ClientRegistry {
  load(issuer: string): Promise<StoredClient | undefined>;
  save(client: StoredClient): Promise<void>;
}

export interface AuthorizeOptions extends FlowOptions {
  readonly serverUrl: string;
  /** The challenge that started the flow (a 401 or a 403 insufficient_scope); probed when absent. */
  readonly challenge?: Challenge;
  /** Scopes to add to the selected ones (step-up: the scopes already granted). */
  readonly extraScopes?: readonly string[];
  readonly preRegistered?: PreRegisteredClient;
  /**
   * The issuer the pre-registered client was used with before (bound at its first sign-in). A
   * different issuer in the PRM is refused: the credentials are never sent to another issuer.
   */
  readonly preRegisteredIssuer?: string;
  /** An HTTPS URL of this client's Client ID Metadata Document, used where the server supports it. */
  readonly clientMetadataUrl?: string;
  readonly clientName?: string;
  readonly registry?: ClientRegistry;
  /** Opens the authorization URL in a browser; resolves once it was handed over. */
  readonly openBrowser: (url: URL) => Promise<void>;
  /** Asks the user for a client id when the server offers no way to obtain one. */
  readonly askClient?: (issuer: string) => Promise<PreRegisteredClient | undefined>;
  readonly timeoutMs?: number;
  /** Reports progress in words. */
  readonly progress?: (message: string) => void;
}

export interface AuthorizeResult {
  readonly tokens: OAuthTokens;
  readonly info: ServerAuthInfo;
  readonly client: StoredClient;
  readonly scopes: string[];
  /** When the access token expires (ms since epoch), if the server said. */
  readonly expiresAt?: number;
}

function loopbackPort(uris: readonly string[]): number | undefined {
  for (const u of uris) {
    try {
      const url = new URL(u);
      if (url.protocol === 'http:' && (url.hostname === '127.0.0.1' || url.hostname === 'localhost') && url.port) return Number(url.port);
    } catch {
      /* not a URL */
    }
  }
  return undefined;
}

function isHttpsUrl(value: string | undefined): value is string {
  if (!value) return false;
  try {
    const u = new URL(value);
    return u.protocol === 'https:' && u.pathname !== '/';
  } catch {
    return false;
  }
}

function clientInformation(client: StoredClient): OAuthClientInformationMixed {
  return {
    client_id: client.client_id,
    ...(client.client_secret ? { client_secret: client.client_secret } : {}),
    ...(client.redirect_uris.length ? { redirect_uris: client.redirect_uris } : {}),
    ...(client.token_endpoint_auth_method ? { token_endpoint_auth_method: client.token_endpoint_auth_method } : {}),
  } as OAuthClientInformationMixed;
}

export function expiryOf(tokens: OAuthTokens, now = Date.now()): number | undefined {
  return typeof tokens.expires_in === 'number' && tokens.expires_in > 0 ? now + tokens.expires_in * 1000 : undefined;
}

/** The full authorization code flow: discovery, client, PKCE, browser, loopback, `iss`, token exchange. */
export async function authorize(options: AuthorizeOptions): Promise<AuthorizeResult> {
  // Registration, authorization and token requests: HTTPS (or loopback) only, no redirect followed.
  const f = guardedFetch(withSignal(options.fetch, options.signal), { what: 'authorization server endpoint' });
  const progress = options.progress ?? (() => undefined);
  progress('Discovering the authorization server…');
  const challenge = options.challenge ?? (await probe(options.serverUrl, options));
  const info = await discover(options.serverUrl, challenge, options);
  const { metadata } = info;
  const issuer = metadata.issuer;
  if (options.preRegistered && options.preRegisteredIssuer && !sameIssuer(options.preRegisteredIssuer, issuer)) {
    // MCP authorization spec, Client Registration §Authorization Server Binding.
    throw new OAuthFlowError(
      'issuer_changed',
      `The server now names the authorization server ${issuer}, but the pre-registered client ${options.preRegistered.clientId} was registered with ${options.preRegisteredIssuer}; its credentials are not sent to another authorization server. Register the client with ${issuer} and update the server entry.`,
    );
  }
  let scopes = selectScopes(info, challenge, options.extraScopes);
  if (scopes.length === 0 && options.preRegistered?.scopes?.length) scopes = [...options.preRegistered.scopes];

  // Which client: pre-registered, a stored registration, a Client ID Metadata Document, dynamic registration, or ask.
  let client: StoredClient | undefined;
  if (options.preRegistered) {
    client = { issuer, client_id: options.preRegistered.clientId, client_secret: options.preRegistered.clientSecret, redirect_uris: [], source: 'pre-registered' };
  } else {
    const stored = await options.registry?.load(issuer);
    if (stored && sameIssuer(stored.issuer, issuer) && !(stored.client_secret_expires_at && stored.client_secret_expires_at * 1000 < Date.now())) client = stored;
  }
  const useCimd = !client && metadata.client_id_metadata_document_supported === true && isHttpsUrl(options.clientMetadataUrl);

  const receiver = await startLoopback({
    preferredPort: client ? loopbackPort(client.redirect_uris) : undefined,
    timeoutMs: options.timeoutMs,
    signal: options.signal,
  });
  try {
    const redirectUri = receiver.redirectUri;
    if (client?.source === 'dcr' && !client.redirect_uris.includes(redirectUri) && metadata.registration_endpoint) {
      client = undefined; // the registered port is taken: register again with this one
    }
    if (!client && useCimd) {
      client = { issuer, client_id: options.clientMetadataUrl!, redirect_uris: [], source: 'cimd' };
    }
    if (!client && metadata.registration_endpoint) {
      progress('Registering this client with the authorization server…');
      try {
        const registered = await registerClient(info.authorizationServerUrl, {
          metadata,
          clientMetadata: {
            client_name: options.clientName ?? 'MCP Token Manager (VS Code)',
            redirect_uris: [redirectUri],
            grant_types: ['authorization_code', 'refresh_token'],
            response_types: ['code'],
            token_endpoint_auth_method: 'none',
            application_type: 'native',
          } as Parameters<typeof registerClient>[1]['clientMetadata'],
          scope: scopes.length ? scopes.join(' ') : undefined,
          fetchFn: f,
        });
        client = {
          issuer,
          client_id: registered.client_id,
          client_secret: registered.client_secret,
          client_secret_expires_at: registered.client_secret_expires_at,
          redirect_uris: registered.redirect_uris?.map(String) ?? [redirectUri],
          token_endpoint_auth_method: registered.token_endpoint_auth_method,
          source: 'dcr',
        };
      } catch (e) {
        if (options.signal?.aborted) throw new OAuthFlowError('cancelled', 'Sign-in was cancelled.');
        throw new OAuthFlowError('registration_failed', `Dynamic client registration with ${issuer} failed: ${safeMessage(e)}`);
      }
      await options.registry?.save(client);
    }
    if (!client && options.askClient) {
      const manual = await options.askClient(issuer);
      if (manual) {
        client = { issuer, client_id: manual.clientId, client_secret: manual.clientSecret, redirect_uris: [], source: 'manual' };
        await options.registry?.save(client);
      }
    }
    if (!client) {
      throw new OAuthFlowError(
        'no_client',
        `The authorization server ${issuer} offers neither dynamic client registration nor Client ID Metadata Documents; configure a pre-registered client id for this server.`,
      );
    }

    const state = randomBytes(32).toString('base64url');
    const { authorizationUrl, codeVerifier } = await startAuthorization(info.authorizationServerUrl, {
      metadata,
      clientInformation: clientInformation(client),
      redirectUrl: redirectUri,
      scope: scopes.length ? scopes.join(' ') : undefined,
      state,
      resource: info.resource,
    });
    progress('Waiting for you to sign in in the browser…');
    const answer = receiver.wait(state);
    answer.catch(() => undefined);
    await options.openBrowser(authorizationUrl);
    const response: AuthorizationResponse = await answer;
    // RFC 9207 §2.4 first: an error response is acted on (and shown) only when `iss` checks out.
    checkIss(metadata, response.iss);
    if (response.error || !response.code) {
      throw new OAuthFlowError(
        'authorization_denied',
        `The authorization server refused the sign-in: ${response.error ?? 'no code'}${response.errorDescription ? ` (${response.errorDescription})` : ''}.`,
      );
    }
    const code = response.code;

    progress('Exchanging the authorization code for tokens…');
    let tokens: OAuthTokens;
    try {
      tokens = await exchangeAuthorization(info.authorizationServerUrl, {
        metadata,
        clientInformation: clientInformation(client),
        authorizationCode: code,
        codeVerifier,
        redirectUri,
        resource: info.resource,
        fetchFn: f,
      });
    } catch (e) {
      if (options.signal?.aborted) throw new OAuthFlowError('cancelled', 'Sign-in was cancelled.');
      throw new OAuthFlowError('token_exchange_failed', `The token request to ${issuer} failed: ${safeMessage(e, [code, codeVerifier, client.client_secret])}`);
    }
    const granted = tokens.scope ? tokens.scope.split(/\s+/).filter(Boolean) : scopes;
    return { tokens, info, client, scopes: granted, expiresAt: expiryOf(tokens) };
  } finally {
    receiver.close();
  }
}

/** RFC 9207: the `iss` of the authorization response must be the issuer; required where advertised. */
export function checkIss(metadata: AuthorizationServerMetadata, iss: string | undefined): void {
  if (iss !== undefined) {
    if (iss !== metadata.issuer) {
      throw new OAuthFlowError(
        'iss_mismatch',
        `The authorization response came from issuer ${iss.slice(0, 200)}, not ${metadata.issuer} (RFC 9207); it was refused (possible mix-up attack).`,
      );
    }
  } else if ((metadata as { authorization_response_iss_parameter_supported?: boolean }).authorization_response_iss_parameter_supported === true) {
    throw new OAuthFlowError('iss_missing', `The authorization response lacks the iss parameter that ${metadata.issuer} advertises (RFC 9207); it was refused.`);
  }
}

export interface RefreshOptions extends FlowOptions {
  readonly serverUrl: string;
  readonly issuer: string;
  readonly resource?: string;
  readonly client: StoredClient;
  readonly refreshToken: string;
  readonly preRegistered?: PreRegisteredClient;
}

/** Fetches the issuer's metadata again (refresh and revocation need the endpoints), with the issuer check. */
export async function issuerMetadata(issuer: string, options: FlowOptions & { preRegistered?: PreRegisteredClient } = {}): Promise<AuthorizationServerMetadata> {
  requireSecureUrl(issuer, 'authorization server');
  // Only the issuer's own origin is asked for its metadata.
  const f = guardedFetch(withSignal(options.fetch, options.signal), { origins: [originOf(issuer)], what: 'authorization server metadata' });
  const metadata = await discoverAuthorizationServerMetadata(issuer, { fetchFn: f }).catch((e: unknown) => {
    if (e instanceof OAuthFlowError) throw e;
    throw new OAuthFlowError('no_metadata', `The authorization server metadata of ${issuer} could not be read: ${safeMessage(e)}`);
  });
  if (!metadata) {
    const pre = options.preRegistered;
    if (pre?.authorizationEndpoint && pre.tokenEndpoint) {
      const configured = { issuer, authorization_endpoint: pre.authorizationEndpoint, token_endpoint: pre.tokenEndpoint, response_types_supported: ['code'] };
      requireSecureEndpoints(configured, issuer);
      return configured;
    }
    throw new OAuthFlowError('no_metadata', `The authorization server ${issuer} publishes no metadata.`);
  }
  if (!sameIssuer(metadata.issuer, issuer)) {
    throw new OAuthFlowError('issuer_mismatch', `The authorization server metadata fetched for ${issuer} names the issuer ${metadata.issuer}; it was refused (RFC 8414 §3.3).`);
  }
  requireSecureEndpoints(metadata as Record<string, unknown>, metadata.issuer);
  requireConfiguredTokenEndpoint(metadata, options.preRegistered);
  return metadata;
}

/**
 * A server entry that names its client's token endpoint (`oauth.tokenUrl`) was consented to with it:
 * the client secret goes there or nowhere. An authorization server whose metadata names another
 * token endpoint (the server's metadata pointing elsewhere) is refused before anything is sent.
 */
export function requireConfiguredTokenEndpoint(metadata: { readonly issuer: string; readonly token_endpoint: string }, pre: PreRegisteredClient | undefined): void {
  if (!pre?.tokenEndpoint) return;
  const same = (() => {
    try {
      return new URL(metadata.token_endpoint).href === new URL(pre.tokenEndpoint).href;
    } catch {
      return false;
    }
  })();
  if (!same) {
    throw new OAuthFlowError(
      'issuer_mismatch',
      `The server entry's OAuth client is configured for the token endpoint ${pre.tokenEndpoint}, but the authorization server ${metadata.issuer} names ${metadata.token_endpoint}; nothing was sent.`,
    );
  }
}

/**
 * Refreshes the access token. Throws OAuthFlowError('invalid_grant') when the refresh token is no
 * longer valid (the user must sign in again); the returned tokens carry the rotated refresh token, or
 * the old one when the server did not rotate it.
 */
export async function refresh(options: RefreshOptions): Promise<{ tokens: OAuthTokens; expiresAt?: number }> {
  const f = guardedFetch(withSignal(options.fetch, options.signal), { what: 'token endpoint' });
  const metadata = await issuerMetadata(options.issuer, options);
  try {
    const tokens = await refreshAuthorization(options.issuer, {
      metadata,
      clientInformation: clientInformation(options.client),
      refreshToken: options.refreshToken,
      resource: options.resource,
      fetchFn: f,
    });
    return { tokens, expiresAt: expiryOf(tokens) };
  } catch (e) {
    const code = (e as { errorCode?: string }).errorCode;
    const text = safeMessage(e, [options.refreshToken, options.client.client_secret]);
    if (code === 'invalid_grant') throw new OAuthFlowError('invalid_grant', `The refresh token was refused by ${options.issuer} (${text}); sign in again.`);
    throw new OAuthFlowError('refresh_failed', `Refreshing the token at ${options.issuer} failed: ${text}`);
  }
}

export interface RevokeOptions extends FlowOptions {
  readonly issuer: string;
  readonly client: StoredClient;
  readonly tokens: readonly { token: string; hint: 'access_token' | 'refresh_token' }[];
  readonly preRegistered?: PreRegisteredClient;
}

const revocationMetadataSchema = z.object({
  revocation_endpoint: z.url().optional(),
  revocation_endpoint_auth_methods_supported: z.array(z.string()).optional(),
});
const revocationErrorSchema = z.object({ error: z.string(), error_description: z.string().optional() });

/**
 * RFC 7009 revocation at the issuer's `revocation_endpoint`. Returns false when the server offers none.
 * The SDK client has no revocation call, so the request is built here with the SDK's client
 * authentication choice (client_secret_basic, client_secret_post or none).
 */
export async function revoke(options: RevokeOptions): Promise<boolean> {
  const f = guardedFetch(withSignal(options.fetch, options.signal), { what: 'revocation endpoint' });
  const metadata = await issuerMetadata(options.issuer, options);
  const revocation = revocationMetadataSchema.safeParse(metadata);
  const endpoint = revocation.success ? revocation.data.revocation_endpoint : undefined;
  if (!endpoint) return false;
  const methods = (revocation.success ? revocation.data.revocation_endpoint_auth_methods_supported : undefined) ?? metadata.token_endpoint_auth_methods_supported ?? [];
  const method = selectClientAuthMethod(clientInformation(options.client), methods);
  for (const { token, hint } of options.tokens) {
    const headers = new Headers({ 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' });
    const body = new URLSearchParams({ token, token_type_hint: hint });
    const { client_id, client_secret } = options.client;
    if (method === 'client_secret_basic' && client_secret) {
      const enc = (s: string) => encodeURIComponent(s);
      headers.set('authorization', `Basic ${Buffer.from(`${enc(client_id)}:${enc(client_secret)}`).toString('base64')}`);
    } else {
      body.set('client_id', client_id);
      if (method === 'client_secret_post' && client_secret) body.set('client_secret', client_secret);
    }
    const response = await f(endpoint, { method: 'POST', headers, body }).catch((e: unknown) => {
      throw new OAuthFlowError('revocation_failed', `The revocation request to ${options.issuer} failed: ${safeMessage(e, [token, client_secret])}`);
    });
    if (!response.ok) {
      const parsed = revocationErrorSchema.safeParse(await response.json().catch(() => undefined));
      // RFC 7009 §2.2.1: an unsupported token type is not a failure of the sign-out.
      if (parsed.success && parsed.data.error === 'unsupported_token_type') continue;
      const detail = parsed.success ? parsed.data.error : `HTTP ${response.status}`;
      throw new OAuthFlowError('revocation_failed', `The authorization server ${options.issuer} refused to revoke the ${hint.replace('_', ' ')} (${detail}).`);
    }
    await response.body?.cancel().catch(() => undefined);
  }
  return true;
}
