/**
 * Where OAuth credentials live in the TokenStore (any backend). Pure: no `vscode` import.
 *
 *  - `oauth:<name>`: the access token. Its value is exactly what is sent as `Authorization: Bearer`;
 *    `expiresAt` is the access token's expiry; `metadata.oauth` holds the non-secret facts (issuer,
 *    resource, server URL, scopes, client id, hasRefreshToken, signInRequired).
 *  - `oauth-refresh:<name>`: the refresh token of `oauth:<name>` (same backend).
 *  - `oauth-client:<issuer id>`: the client registration for one authorization server, keyed by issuer
 *    (a JSON value: client id, client secret if any, redirect URIs), shared by every server using it.
 * For a token outside the `oauth` namespace, `<name>` of the companions is `<namespace>.<name>`.
 */
import { keyId, type TokenKey } from '../../server/core/reference';
import { refreshKey, clientKey } from '../../server/core/oauthKeys';
import { isInternalNamespace, type OAuthInfo, type TokenMetadata } from '../../server/core/model';
import type { TokenStore } from '../store/tokenStore';
import { storedClientSchema, type ClientRegistry, type StoredClient } from './flow';

export { ACCESS_NAMESPACE, REFRESH_NAMESPACE, CLIENT_NAMESPACE, clientKey, refreshKey } from '../../server/core/oauthKeys';

/** The OAuth feature's own entries (INTERNAL_NAMESPACES in the model): hidden from lists and views. */
export function isOAuthInternal(key: TokenKey): boolean {
  return isInternalNamespace(key.namespace);
}

export interface SaveTokensArgs {
  readonly key: TokenKey;
  readonly accessToken: string;
  readonly refreshToken?: string;
  readonly expiresAt?: number;
  readonly oauth: OAuthInfo;
  readonly description?: string;
  /** A refresh of the grant these tokens belong to (not a new sign-in). */
  readonly renewal?: boolean;
}

/** Reads and writes OAuth credentials through the TokenStore. */
export class OAuthSessions {
  constructor(private readonly store: TokenStore) {}

  get(key: TokenKey): TokenMetadata | undefined {
    return this.store.get(key);
  }

  accessToken(key: TokenKey): Promise<string | undefined> {
    return this.store.getValue(key);
  }

  async refreshToken(key: TokenKey): Promise<string | undefined> {
    await this.store.ready();
    return this.store.has(refreshKey(key)) ? this.store.getValue(refreshKey(key)) : undefined;
  }

  /** Client registrations, keyed by issuer, kept in the backend of `backendOf` (the access token's). */
  registry(backendOf?: TokenKey): ClientRegistry {
    return {
      load: async (issuer) => {
        await this.store.ready();
        const k = clientKey(issuer);
        if (!this.store.has(k)) return undefined;
        const raw = await this.store.getValue(k);
        if (!raw) return undefined;
        try {
          const parsed = storedClientSchema.safeParse(JSON.parse(raw));
          return parsed.success ? parsed.data : undefined;
        } catch {
          return undefined;
        }
      },
      save: async (client: StoredClient) => {
        const k = clientKey(client.issuer);
        const backend = backendOf ? this.store.get(backendOf)?.backend : undefined;
        await this.store.set({
          ...k,
          value: JSON.stringify(client),
          type: 'generic',
          description: `OAuth client registration (${client.source}) for ${client.issuer}`.slice(0, 1024),
          ...(backend ? { backend } : {}),
        });
      },
    };
  }

  /**
   * Stores a sign-in's or a refresh's tokens. The refresh token is written first: a rotated refresh
   * token is the one credential that cannot be obtained again, so it is never lost to a later failure.
   */
  async save(args: SaveTokensArgs): Promise<TokenMetadata> {
    await this.store.ready();
    const existing = this.store.get(args.key);
    const rk = refreshKey(args.key);
    // A refresh of the same grant supersedes its tokens (the issuer invalidates a rotated refresh
    // token): they are not kept in Recently Deleted. A sign-in replaces them: those are kept.
    const renewal = { trash: !(args.renewal === true && existing?.type === 'oauth') };
    const writeAccess = () =>
      this.store.set({
        ...args.key,
        value: args.accessToken,
        type: 'oauth',
        expiresAt: args.expiresAt ? new Date(args.expiresAt).toISOString() : undefined,
        provider: 'oauth',
        description: args.description ?? existing?.description,
        ...(existing ? { backend: existing.backend } : {}),
      }, renewal);
    const writeRefresh = async (backend: TokenMetadata['backend']) => {
      if (args.refreshToken) {
        await this.store.set({ ...rk, value: args.refreshToken, type: 'generic', description: `OAuth refresh token of ${keyId(args.key)}`, backend }, renewal);
      } else if (this.store.has(rk) && !args.oauth.hasRefreshToken) {
        await this.store.delete(rk);
      }
    };
    if (existing) {
      // Refresh token first (see above), in the access token's backend.
      await writeRefresh(existing.backend);
      await writeAccess();
    } else {
      // A first sign-in: the access token's backend is chosen by the store; the refresh token follows it.
      const meta = await writeAccess();
      await writeRefresh(meta.backend);
    }
    return this.store.updateMetadata(args.key, { oauth: { ...args.oauth, signInRequired: undefined } });
  }

  async markSignInRequired(key: TokenKey): Promise<void> {
    const meta = this.store.get(key);
    if (!meta) return;
    await this.store.updateMetadata(key, { oauth: { ...meta.oauth, signInRequired: true } });
  }

  /** Removes the access and refresh tokens (the client registration stays: it belongs to the issuer). */
  async remove(key: TokenKey): Promise<void> {
    await this.store.ready();
    // One Recently Deleted entry: the access token with its refresh token.
    if (this.store.has(key)) await this.store.delete(key, { reason: 'sign-out' });
    if (this.store.has(refreshKey(key))) await this.store.delete(refreshKey(key), { reason: 'sign-out' });
  }

  /** Every OAuth access token (type `oauth`). */
  list(): TokenMetadata[] {
    return this.store.list().filter((t) => t.type === 'oauth');
  }
}
