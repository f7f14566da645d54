/**
 * OAuthManager: sign-in, refresh (on a timer before expiry and on demand), "sign-in required",
 * sign-out with revocation, for tokens kept in the TokenStore. Pure: the user interface (browser,
 * progress, questions) is injected, so it runs the same in the extension, the CLI and the tests.
 */
import type { FetchLike } from '@modelcontextprotocol/sdk/shared/transport.js';
import { keyId, parseWholeReference, type TokenKey } from '../../server/core/reference';
import type { OAuthInfo, TokenMetadata } from '../../server/core/model';
import type { TokenStore } from '../store/tokenStore';
import type { Disposable } from '../platform/event';
import { OAuthFlowError, safeMessage } from './errors';
import { authorize, discover, probe, refresh, revoke, sameIssuer, unionScopes, type Challenge, type StoredClient } from './flow';
import type { PreRegisteredClient } from '../../server/core/oauthClient';
import { OAuthSessions, refreshKey } from './session';
import type { Lease, LeaseResult, Leases } from '../store/lease';

export interface OAuthServerRef {
  /** Display name (the server's name in its config file). */
  readonly name?: string;
  readonly url?: string;
  readonly preRegistered?: PreRegisteredClient;
}

export interface OAuthUi {
  /** Opens the authorization URL in the user's browser. */
  openBrowser(url: URL): Promise<void>;
  /** Runs `task` with a cancellable progress indicator; `signal` aborts when the user cancels. */
  withProgress<T>(title: string, task: (report: (message: string) => void, signal: AbortSignal) => Promise<T>): Promise<T>;
  /** Asks whether to sign in now (`reason` says why); false: do not. */
  confirmSignIn(key: TokenKey, server: OAuthServerRef, reason: string): Promise<boolean>;
  /** Asks for a client id (and secret) when the server offers no registration. */
  askClient?(issuer: string): Promise<PreRegisteredClient | undefined>;
  /** Tells the user a background refresh failed for good and sign-in is required. */
  notifySignInRequired?(key: TokenKey, message: string): void;
}

export interface OAuthManagerOptions {
  readonly fetch?: FetchLike;
  /** Records sign-in and refresh outcomes in the audit trail (`services.audit.record`); never a value. */
  readonly audit?: (event: { kind: 'sign-in' | 'refresh'; tokens: TokenKey[]; outcome: 'ok' | 'failed'; reason?: string; actor?: { server?: string } }) => void;
  readonly now?: () => number;
  readonly log?: (level: 'info' | 'warn' | 'error', message: string) => void;
  /** Refresh this long before expiry (default 5 minutes; at most half the token's lifetime). */
  readonly refreshMarginMs?: number;
  readonly signInTimeoutMs?: number;
  readonly clientMetadataUrl?: () => string | undefined;
  readonly clientName?: string;
  /**
   * What is known of a token stored by another tool (an mcp-cli OAuth entry in the keyring): its
   * issuer, client, server URL. Used to refresh it when the extension did not sign it in.
   */
  readonly externalGrant?: (meta: TokenMetadata) => Promise<ExternalGrant | undefined>;
  /**
   * The lease shared by every window (lease.ts): with it, one window at a time refreshes a token and
   * the others wait for its result. Without it (the CLI, one process) refreshes are coordinated
   * within this manager only.
   */
  readonly leases?: Leases;
  /** How long a window waits for another window's refresh before giving up (default twice the lease's lifetime). */
  readonly leaseMaxWaitMs?: number;
}

/** Non-secret facts of an OAuth token another tool stored (and its client's secret, if confidential). */
export interface ExternalGrant {
  readonly issuer?: string;
  readonly clientId?: string;
  readonly clientSecret?: string;
  readonly serverUrl?: string;
  readonly resource?: string;
  readonly scopes?: readonly string[];
}

export type RefreshOutcome = 'refreshed' | 'fresh' | 'no-refresh-token' | 'sign-in-required' | 'failed';

export interface SignInOptions {
  readonly challenge?: Challenge;
  /** Step-up: add the scopes already granted to the challenge's. */
  readonly stepUp?: boolean;
}

const DEFAULT_MARGIN_MS = 5 * 60_000;
const MAX_TIMER_MS = 2_147_000_000;
/** A refresh request gives up after this long: shorter than the lease's lifetime (60 s). */
const REFRESH_TIMEOUT_MS = 30_000;

/** The lease that guards the refresh of `key` (one per token, shared by every window). */
export function refreshLeaseName(key: TokenKey): string {
  return `oauth-refresh/${keyId(key)}`;
}

/** What a window knew of a token when it decided to refresh it: a later token means someone else did. */
interface Baseline {
  readonly value: string | undefined;
  readonly expiresAt: number | undefined;
  readonly updatedAt: number;
}

export class OAuthManager implements Disposable {
  readonly sessions: OAuthSessions;
  private readonly inflight = new Map<string, Promise<unknown>>();
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly subscription: Disposable;
  private readonly now: () => number;
  private disposed = false;

  constructor(
    private readonly store: TokenStore,
    private readonly ui: OAuthUi,
    private readonly options: OAuthManagerOptions = {},
  ) {
    this.sessions = new OAuthSessions(store);
    this.now = options.now ?? Date.now;
    this.subscription = store.onDidChange(() => this.schedule());
  }

  dispose(): void {
    this.disposed = true;
    this.subscription.dispose();
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
  }

  /** Stores a refresh's answer: a renewal of the same grant (the refresh token kept unless the issuer rotated it). */
  private saveRenewal(key: TokenKey, refreshed: { tokens: { access_token: string; refresh_token?: string }; expiresAt?: number }, sent: string, oauth: OAuthInfo) {
    return this.sessions.save({ key, renewal: true, accessToken: refreshed.tokens.access_token, refreshToken: refreshed.tokens.refresh_token ?? sent, expiresAt: refreshed.expiresAt, oauth });
  }

  private log(level: 'info' | 'warn' | 'error', message: string): void {
    this.options.log?.(level, message);
  }

  /** One operation per token at a time: a second caller shares the first one's result. */
  private once<T>(key: TokenKey, op: string, work: () => Promise<T>, audit?: (work: () => Promise<T>) => Promise<T>): Promise<T> {
    const id = `${op}|${keyId(key)}`;
    const running = this.inflight.get(id) as Promise<T> | undefined;
    // A caller that joins a running operation shares its result, and its one audit event.
    if (running) return running;
    const p = (audit ? audit(work) : work()).finally(() => this.inflight.delete(id));
    this.inflight.set(id, p);
    return p;
  }

  /** Runs the browser sign-in for `key` against `server.url` and stores the tokens. */
  signIn(key: TokenKey, server: OAuthServerRef, options: SignInOptions = {}): Promise<TokenMetadata> {
    return this.signInOnce(key, server, options);
  }

  private signInOnce(key: TokenKey, server: OAuthServerRef, options: SignInOptions): Promise<TokenMetadata> {
    return this.once(key, 'signin', async () => {
      await this.store.ready();
      const existing = this.store.get(key);
      const serverUrl = server.url ?? existing?.oauth?.serverUrl;
      if (!serverUrl) throw new OAuthFlowError('not_protected', `No server URL is known for ${keyId(key)}; sign in from the server's entry or give its URL.`);
      const title = `Signing in to ${server.name ?? new URL(serverUrl).host}`;
      const result = await this.ui.withProgress(title, (report, signal) =>
        authorize({
          serverUrl,
          challenge: options.challenge,
          extraScopes: options.stepUp ? existing?.oauth?.scopes : undefined,
          preRegistered: server.preRegistered,
          // A pre-registered client is bound to the issuer it first signed in with.
          preRegisteredIssuer:
            server.preRegistered && existing?.oauth?.clientId === server.preRegistered.clientId ? existing.oauth.issuer : undefined,
          clientMetadataUrl: this.options.clientMetadataUrl?.(),
          clientName: this.options.clientName,
          registry: this.sessions.registry(existing ? key : undefined),
          openBrowser: (url) => this.ui.openBrowser(url),
          askClient: this.ui.askClient ? (issuer) => this.ui.askClient!(issuer) : undefined,
          timeoutMs: this.options.signInTimeoutMs,
          fetch: this.options.fetch,
          signal,
          progress: report,
          log: (message) => this.log('info', message),
        }),
      );
      const meta = await this.sessions.save({
        key,
        accessToken: result.tokens.access_token,
        refreshToken: result.tokens.refresh_token,
        expiresAt: result.expiresAt,
        description: existing?.description ?? `OAuth sign-in to ${server.name ?? serverUrl}`,
        oauth: {
          issuer: result.info.metadata.issuer,
          resource: result.info.resource,
          serverUrl,
          scopes: options.stepUp ? unionScopes(existing?.oauth?.scopes, result.scopes) : result.scopes,
          clientId: result.client.client_id,
          ...(server.preRegistered?.clientSecretRef ? { clientSecretRef: server.preRegistered.clientSecretRef } : {}),
          hasRefreshToken: !!result.tokens.refresh_token,
        },
      });
      this.log('info', `Signed in ${keyId(key)} at ${result.info.metadata.issuer} (scopes: ${meta.oauth?.scopes?.join(' ') || 'none'}).`);
      return meta;
    }, (work) => this.audited('sign-in', key, server, work, () => 'ok'));
  }

  private async clientFor(meta: TokenMetadata, server?: OAuthServerRef): Promise<StoredClient | undefined> {
    const issuer = meta.oauth?.issuer;
    if (!issuer) return undefined;
    if (server?.preRegistered) {
      return { issuer, client_id: server.preRegistered.clientId, client_secret: server.preRegistered.clientSecret, redirect_uris: [], source: 'pre-registered' };
    }
    const clientId = meta.oauth?.clientId;
    const stored = await this.sessions.registry().load(issuer);
    // The issuer's stored registration, unless the token was issued to another (pre-registered) client.
    if (stored && (!clientId || stored.client_id === clientId)) return stored;
    if (!clientId) return undefined;
    // A client another tool registered (an mcp-cli entry adopted by a refresh): its secret from that tool.
    const external = meta.oauth?.clientSecretRef ? undefined : await this.options.externalGrant?.(meta).catch(() => undefined);
    if (external?.clientId === clientId) {
      return { issuer, client_id: clientId, ...(external.clientSecret ? { client_secret: external.clientSecret } : {}), redirect_uris: [], source: 'external' };
    }
    // A pre-registered client: its secret is read through the reference kept in the metadata.
    const clientSecret = await this.secretOf(meta);
    return { issuer, client_id: clientId, ...(clientSecret !== undefined ? { client_secret: clientSecret } : {}), redirect_uris: [], source: 'pre-registered' };
  }

  /** The value of the token `meta.oauth.clientSecretRef` names; undefined (logged, without value) when unavailable. */
  private async secretOf(meta: TokenMetadata): Promise<string | undefined> {
    const ref = meta.oauth?.clientSecretRef;
    if (!ref) return undefined;
    const key = parseWholeReference(ref);
    const value = key ? await this.store.getValue(key).catch(() => undefined) : undefined;
    if (value === undefined) this.log('warn', `The client secret ${ref} of ${keyId(meta)} is not stored; the client is used without it.`);
    return value;
  }

  /**
   * Refreshes `key` with its refresh token. `force`: even when it does not expire soon. With a lease
   * (options.leases), only one window refreshes at a time; the others wait for its result.
   */
  refresh(key: TokenKey, options: { force?: boolean; server?: OAuthServerRef } = {}): Promise<RefreshOutcome> {
    return this.refreshOnce(key, options);
  }

  /** Runs `work` and records its outcome (`outcomeOf`: undefined records nothing, e.g. a token still fresh). */
  private async audited<T>(kind: 'sign-in' | 'refresh', key: TokenKey, server: OAuthServerRef | undefined, work: () => Promise<T>, outcomeOf: (r: T) => string | undefined): Promise<T> {
    const actor = server?.name ? { server: server.name } : undefined;
    try {
      const r = await work();
      const o = outcomeOf(r);
      if (o) this.options.audit?.({ kind, tokens: [key], outcome: o === 'ok' ? 'ok' : 'failed', reason: o === 'ok' ? undefined : o, actor });
      return r;
    } catch (e) {
      this.options.audit?.({ kind, tokens: [key], outcome: 'failed', reason: e instanceof Error ? e.message.slice(0, 500) : 'failed', actor });
      throw e;
    }
  }

  private refreshOnce(key: TokenKey, options: { force?: boolean; server?: OAuthServerRef }): Promise<RefreshOutcome> {
    return this.once(key, 'refresh', async () => {
      await this.store.ready();
      const meta = this.store.get(key);
      if (!meta) throw new OAuthFlowError('not_signed_in', `No OAuth token ${keyId(key)} is stored; sign in first.`);
      if (meta.oauth?.signInRequired) return 'sign-in-required';
      if (!options.force && !this.expiresSoon(meta)) return 'fresh';
      if (!this.options.leases) return this.refreshNow(key, options);
      return this.underLease(key, meta, this.options.leases, () => this.refreshNow(key, options));
    }, (work) =>
      this.audited('refresh', key, options.server, work, (o) => (o === 'fresh' ? undefined : o === 'refreshed' ? 'ok' : o)),
    );
  }

  /**
   * Runs `work` (the refresh) holding the token's lease, unless another window refreshes (or has just
   * refreshed) the token: then waits for its result and returns it. A lease that expires without a
   * result (its holder crashed) is taken over. Bounded by `leaseMaxWaitMs`.
   */
  private async underLease(key: TokenKey, meta: TokenMetadata, leases: Leases, work: () => Promise<RefreshOutcome>): Promise<RefreshOutcome> {
    const name = refreshLeaseName(key);
    const baseline: Baseline = {
      value: await this.store.getValue(key),
      expiresAt: meta.expiresAt ? Date.parse(meta.expiresAt) : undefined,
      updatedAt: Date.parse(meta.updatedAt),
    };
    const deadline = Date.now() + (this.options.leaseMaxWaitMs ?? 2 * leases.ttlMs);
    let waited = false;
    for (;;) {
      const done = await this.doneElsewhere(key, baseline, leases, name);
      if (done) {
        this.log('info', `${keyId(key)} was ${done === 'refreshed' ? 'refreshed' : 'found to need a new sign-in'} by another window${waited ? '' : ' just before'}; using its result.`);
        return done;
      }
      if (this.disposed) return 'failed';
      let lease: Lease | undefined;
      try {
        lease = await leases.acquire(name);
      } catch (e) {
        // The shared storage failed: refresh uncoordinated rather than let the token expire.
        this.log('warn', `The refresh lease of ${keyId(key)} could not be taken (${safeMessage(e)}); refreshing without it.`);
        return work();
      }
      if (lease) return this.holding(key, baseline, leases, name, lease, work);
      if (Date.now() >= deadline) {
        this.log('warn', `Another window has been refreshing ${keyId(key)} for too long; giving up for now.`);
        return 'failed';
      }
      waited = true;
      await this.waitForOther(key, leases, name, deadline);
    }
  }

  /** With the lease taken: check once more that nobody refreshed meanwhile, refresh, record the result. */
  private async holding(key: TokenKey, baseline: Baseline, leases: Leases, name: string, lease: Lease, work: () => Promise<RefreshOutcome>): Promise<RefreshOutcome> {
    const keep = lease.keepAlive(
      () => this.log('warn', `The refresh lease of ${keyId(key)} was taken over by another window while this one refreshed.`),
      (e) => this.log('warn', `Could not renew the refresh lease of ${keyId(key)}: ${safeMessage(e)}`),
    );
    let result: LeaseResult | undefined;
    try {
      // Another window may have finished just before this one took the lease.
      const done = await this.doneElsewhere(key, baseline, leases, name);
      if (done) return done;
      const outcome = await work();
      const expiresAt = this.store.get(key)?.expiresAt;
      result = { outcome, at: Date.now(), ...(outcome === 'refreshed' && expiresAt ? { tokenExpiresAt: Date.parse(expiresAt) } : {}) };
      return outcome;
    } finally {
      keep.dispose();
      await lease.release(result).catch((e) => this.log('warn', `Could not release the refresh lease of ${keyId(key)}: ${safeMessage(e)}`));
    }
  }

  /**
   * 'refreshed' (or 'sign-in-required') when another window has renewed the token since `baseline`:
   * the lease's recorded result names a later token, or the store (re-read) holds a later or other one.
   */
  private async doneElsewhere(key: TokenKey, baseline: Baseline, leases: Leases, name: string): Promise<RefreshOutcome | undefined> {
    const result = (await leases.read(name).catch(() => undefined))?.result;
    if (result?.outcome === 'refreshed' && result.tokenExpiresAt !== undefined && baseline.expiresAt !== undefined && result.tokenExpiresAt > baseline.expiresAt) return 'refreshed';
    if (result?.outcome === 'sign-in-required' && result.at > baseline.updatedAt) return 'sign-in-required';
    const meta = this.store.get(key);
    if (!meta) return undefined;
    if (meta.oauth?.signInRequired) return 'sign-in-required';
    if (meta.expiresAt && baseline.expiresAt !== undefined && Date.parse(meta.expiresAt) > baseline.expiresAt) return 'refreshed';
    const value = await this.store.getValue(key).catch(() => undefined);
    if (value !== undefined && value !== baseline.value) return 'refreshed';
    return undefined;
  }

  /** Waits until the lease record or the token changes, the holder's lease expires, or a second passes. */
  private waitForOther(key: TokenKey, leases: Leases, name: string, deadline: number): Promise<void> {
    return leases.read(name).then(
      (record) =>
        new Promise<void>((resolve) => {
          const left = record && record.expiresAt > leases.now() ? record.expiresAt - leases.now() + 5 : 1000;
          const ms = Math.max(10, Math.min(left, 1000, deadline - Date.now()));
          const subs: Disposable[] = [];
          const done = () => {
            clearTimeout(timer);
            for (const s of subs) s.dispose();
            resolve();
          };
          const timer = setTimeout(done, ms);
          subs.push(
            leases.storage.onDidChange((n) => n === name && done()),
            this.store.onDidChange((c) => (c.keys.length === 0 || c.keys.some((k) => k.namespace === key.namespace && k.name === key.name)) && done()),
          );
        }),
      () => new Promise<void>((resolve) => setTimeout(resolve, 1000)),
    );
  }

  /** The refresh itself (under the lease when there is one): reads the refresh token now, sends it once. */
  private async refreshNow(key: TokenKey, options: { server?: OAuthServerRef }): Promise<RefreshOutcome> {
    const meta = this.store.get(key);
    if (!meta) throw new OAuthFlowError('not_signed_in', `No OAuth token ${keyId(key)} is stored; sign in first.`);
    if (meta.oauth?.signInRequired) return 'sign-in-required';
    // Re-read here, after the lease was taken: another window may have rotated it just before.
    const refreshToken = await this.sessions.refreshToken(key);
    if (refreshToken && !meta.oauth?.issuer) return this.refreshExternal(key, meta, refreshToken, options.server);
    const client = await this.clientFor(meta, options.server);
    if (!refreshToken || !client || !meta.oauth?.issuer) return 'no-refresh-token';
    try {
      const { tokens, expiresAt } = await refresh({
        serverUrl: meta.oauth.serverUrl ?? '',
        issuer: meta.oauth.issuer,
        resource: meta.oauth.resource,
        client,
        refreshToken,
        preRegistered: options.server?.preRegistered,
        fetch: this.options.fetch,
        signal: AbortSignal.timeout(REFRESH_TIMEOUT_MS),
      });
      await this.saveRenewal(key, { tokens, expiresAt }, refreshToken, {
        ...meta.oauth,
        scopes: scopesOf(tokens) ?? meta.oauth.scopes,
        hasRefreshToken: true,
      });
      this.log('info', `Refreshed ${keyId(key)}${tokens.refresh_token && tokens.refresh_token !== refreshToken ? ' (the refresh token was rotated)' : ''}.`);
      return 'refreshed';
    } catch (e) {
      if (e instanceof OAuthFlowError && e.failure === 'invalid_grant') {
        await this.sessions.markSignInRequired(key);
        this.log('warn', `${keyId(key)}: ${e.message}`);
        return 'sign-in-required';
      }
      this.log('warn', `Could not refresh ${keyId(key)}: ${safeMessage(e, [refreshToken])}`);
      return 'failed';
    }
  }

  /**
   * Refreshes a token the extension did not sign in (an mcp-cli OAuth entry): the authorization server
   * is discovered from the server URL (PRM, then its metadata, with every check of a sign-in), the
   * client comes from what the other tool stored. The new tokens are written back in its layout.
   * When that cannot be done the token is marked "sign-in required": never used with a stale grant.
   */
  private async refreshExternal(key: TokenKey, meta: TokenMetadata, refreshToken: string, server?: OAuthServerRef): Promise<RefreshOutcome> {
    const grant = await this.options.externalGrant?.(meta).catch(() => undefined);
    const serverUrl = server?.url ?? grant?.serverUrl;
    const signInRequired = async (why: string) => {
      await this.sessions.markSignInRequired(key);
      this.log('warn', `${keyId(key)} cannot be refreshed here (${why}); it is marked "sign-in required".`);
      return 'sign-in-required' as const;
    };
    if (!grant?.clientId) return signInRequired('no client id is known for it');
    if (!serverUrl) return signInRequired('no server URL is known for it');
    let info;
    try {
      info = await discover(serverUrl, await probe(serverUrl, { fetch: this.options.fetch }), { fetch: this.options.fetch, log: (m) => this.log('info', m) });
    } catch (e) {
      if (e instanceof OAuthFlowError && e.failure !== 'not_protected') return signInRequired(safeMessage(e, [refreshToken]));
      this.log('warn', `Could not refresh ${keyId(key)}: ${safeMessage(e, [refreshToken])}`);
      return 'failed';
    }
    const issuer = info.metadata.issuer;
    // The stored client belongs to the issuer that issued it: never sent to another one.
    if (grant.issuer && !sameIssuer(grant.issuer, issuer)) return signInRequired(`its authorization server changed from ${grant.issuer} to ${issuer}`);
    const client: StoredClient = {
      issuer,
      client_id: grant.clientId,
      ...(grant.clientSecret ? { client_secret: grant.clientSecret } : {}),
      redirect_uris: [],
      source: 'external',
    };
    try {
      const { tokens, expiresAt } = await refresh({
        serverUrl,
        issuer,
        resource: grant.resource ?? info.resource,
        client,
        refreshToken,
        fetch: this.options.fetch,
        signal: AbortSignal.timeout(REFRESH_TIMEOUT_MS),
      });
      await this.saveRenewal(key, { tokens, expiresAt }, refreshToken, {
        issuer,
        resource: grant.resource ?? info.resource,
        serverUrl,
        scopes: scopesOf(tokens) ?? (grant.scopes ? [...grant.scopes] : undefined),
        clientId: grant.clientId,
        hasRefreshToken: true,
      });
      this.log('info', `Refreshed ${keyId(key)} (stored by another tool) at ${issuer}.`);
      return 'refreshed';
    } catch (e) {
      if (e instanceof OAuthFlowError && e.failure === 'invalid_grant') return signInRequired('the refresh token was refused');
      this.log('warn', `Could not refresh ${keyId(key)}: ${safeMessage(e, [refreshToken, grant.clientSecret])}`);
      return 'failed';
    }
  }

  private expiresSoon(meta: TokenMetadata): boolean {
    if (!meta.expiresAt) return false;
    const expires = Date.parse(meta.expiresAt);
    return expires - this.now() <= this.marginFor(meta);
  }

  private marginFor(meta: TokenMetadata): number {
    const margin = this.options.refreshMarginMs ?? DEFAULT_MARGIN_MS;
    if (!meta.expiresAt) return margin;
    const lifetime = Date.parse(meta.expiresAt) - Date.parse(meta.updatedAt);
    return lifetime > 0 ? Math.min(margin, lifetime / 2) : margin;
  }

  /**
   * Before a server starts: refresh when the token expires soon, or sign in (after asking) when it is
   * missing, refused, or expired without a refresh token. False: the server must not start.
   */
  async ensureFresh(key: TokenKey, server: OAuthServerRef): Promise<boolean> {
    await this.store.ready();
    const meta = this.store.get(key);
    const ask = async (reason: string) => {
      if (!(await this.ui.confirmSignIn(key, server, reason))) return false;
      try {
        await this.signIn(key, server);
        return true;
      } catch (e) {
        this.log('error', `Sign-in for ${keyId(key)} failed: ${safeMessage(e)}`);
        throw e;
      }
    };
    if (!meta || !(await this.sessions.accessToken(key))) return ask(`${keyId(key)} is not signed in yet.`);
    if (meta.oauth?.signInRequired) return ask(`The sign-in of ${keyId(key)} has expired or was revoked.`);
    if (!this.expiresSoon(meta)) return true;
    const outcome = await this.refresh(key, { server });
    if (outcome === 'refreshed' || outcome === 'fresh') return true;
    const expired = !!meta.expiresAt && Date.parse(meta.expiresAt) <= this.now();
    if (outcome === 'failed' && !expired) return true; // still valid for a while: start with it
    if (outcome === 'sign-in-required') return ask(`The refresh token of ${keyId(key)} was refused; sign in again.`);
    return ask(`${keyId(key)} has expired and cannot be refreshed.`);
  }

  /** Revokes (RFC 7009, where the server offers it) and deletes the tokens of `key`. */
  async signOut(key: TokenKey): Promise<{ revoked: boolean; error?: string }> {
    await this.store.ready();
    const meta = this.store.get(key);
    if (!meta) return { revoked: false };
    const access = await this.sessions.accessToken(key);
    const refreshToken = await this.sessions.refreshToken(key);
    let revoked = false;
    let error: string | undefined;
    const client = await this.clientFor(meta);
    if (client && meta.oauth?.issuer && (access || refreshToken)) {
      try {
        revoked = await revoke({
          issuer: meta.oauth.issuer,
          client,
          tokens: [
            ...(refreshToken ? [{ token: refreshToken, hint: 'refresh_token' as const }] : []),
            ...(access ? [{ token: access, hint: 'access_token' as const }] : []),
          ],
          fetch: this.options.fetch,
        });
      } catch (e) {
        error = safeMessage(e, [access, refreshToken]);
        this.log('warn', `Revocation for ${keyId(key)} failed: ${error}`);
      }
    }
    await this.sessions.remove(key);
    this.log('info', `Signed out ${keyId(key)}${revoked ? ' (tokens revoked)' : ''}.`);
    return { revoked, error };
  }

  /** Refreshes every OAuth token that has a refresh token. */
  async refreshAll(): Promise<Map<string, RefreshOutcome>> {
    await this.store.ready();
    const out = new Map<string, RefreshOutcome>();
    for (const meta of this.sessions.list()) {
      if (!meta.oauth?.hasRefreshToken && !this.store.has(refreshKey(meta))) {
        out.set(keyId(meta), 'no-refresh-token');
        continue;
      }
      out.set(keyId(meta), await this.refresh(meta, { force: true }).catch(() => 'failed' as const));
    }
    return out;
  }

  /** (Re)arms one timer per OAuth token with a refresh token, firing `margin` before expiry. */
  schedule(): void {
    if (this.disposed) return;
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
    for (const meta of this.sessions.list()) {
      if (!meta.expiresAt || !meta.oauth?.hasRefreshToken || meta.oauth.signInRequired) continue;
      const due = Math.max(0, Date.parse(meta.expiresAt) - this.marginFor(meta) - this.now());
      const key = { namespace: meta.namespace, name: meta.name };
      const timer = setTimeout(() => void this.onTimer(key), Math.min(due, MAX_TIMER_MS));
      timer.unref?.();
      this.timers.set(keyId(meta), timer);
    }
  }

  private async onTimer(key: TokenKey): Promise<void> {
    this.timers.delete(keyId(key));
    const outcome = await this.refresh(key, { force: true }).catch((e: unknown) => {
      this.log('warn', `Background refresh of ${keyId(key)} failed: ${safeMessage(e)}`);
      return 'failed' as const;
    });
    if (outcome === 'sign-in-required') {
      this.ui.notifySignInRequired?.(key, `The sign-in of ${keyId(key)} is no longer valid; sign in again.`);
    } else if (outcome === 'failed' && !this.disposed) {
      // Try again in a minute (network trouble); a refresh that succeeds re-arms through onDidChange.
      const retry = setTimeout(() => void this.onTimer(key), 60_000);
      retry.unref?.();
      this.timers.set(keyId(key), retry);
    }
  }
}

/** The scopes a token response grants, when it says. */
function scopesOf(tokens: { scope?: string }): string[] | undefined {
  return tokens.scope ? tokens.scope.split(/\s+/).filter(Boolean) : undefined;
}
