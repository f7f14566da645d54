/**
 * Where an OAuth token's companions live in the store, by key. Pure (node:crypto only): the OAuth
 * feature stores them, export and import carry them with their token, and the trash keeps them
 * together.
 *
 *  - `oauth:<name>`: the access token.
 *  - `oauth-refresh:<name>`: its refresh token (for a token outside `oauth`, `<name>` is `<namespace>.<name>`).
 *  - `oauth-client:<issuer id>`: the client registration for one authorization server, keyed by issuer.
 */
import { createHash } from 'node:crypto';
import { NAME_MAX, type TokenKey } from './reference';

export const ACCESS_NAMESPACE = 'oauth';
export const REFRESH_NAMESPACE = 'oauth-refresh';
export const CLIENT_NAMESPACE = 'oauth-client';

function companionName(key: TokenKey): string {
  const base = key.namespace === ACCESS_NAMESPACE ? key.name : `${key.namespace}.${key.name}`;
  if (base.length <= NAME_MAX) return base;
  return `${base.slice(0, NAME_MAX - 13)}-${createHash('sha256').update(base).digest('hex').slice(0, 12)}`;
}

/** The key of the refresh token of the OAuth token `key`. */
export function refreshKey(key: TokenKey): TokenKey {
  return { namespace: REFRESH_NAMESPACE, name: companionName(key) };
}

/** `https://auth.example.com/tenant1` → `auth.example.com-tenant1-<hash>` (valid name, unique per issuer). */
export function clientKey(issuer: string): TokenKey {
  let readable = issuer;
  try {
    const u = new URL(issuer);
    readable = `${u.host}${u.pathname}`;
  } catch {
    /* not a URL: used as written */
  }
  const slug = readable.replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^[^A-Za-z0-9]+|-+$/g, '').slice(0, 80) || 'issuer';
  const hash = createHash('sha256').update(issuer.replace(/\/$/, '')).digest('hex').slice(0, 12);
  return { namespace: CLIENT_NAMESPACE, name: `${slug}-${hash}` };
}

/** The companions an OAuth token may have: its refresh token and its issuer's client registration. */
export function oauthCompanions(token: TokenKey & { readonly type: string; readonly oauth?: { readonly issuer?: string } }): TokenKey[] {
  if (token.type !== 'oauth') return [];
  return [refreshKey(token), ...(token.oauth?.issuer ? [clientKey(token.oauth.issuer)] : [])];
}
