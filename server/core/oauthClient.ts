/**
 * The OAuth client a server entry names in advance (its `oauth` block in a token-aware file, or the
 * one the user gives when signing in), in the terms the OAuth flow uses. Pure (types only): shared by
 * the runtime, which builds it from the entry, and the OAuth feature, which signs in with it.
 */
export interface PreRegisteredClient {
  readonly clientId: string;
  /** The client secret's value (never logged, never in metadata). */
  readonly clientSecret?: string;
  /** Where `clientSecret` came from, as a token reference (kept in the token's metadata; never the value). */
  readonly clientSecretRef?: string;
  readonly authorizationEndpoint?: string;
  readonly tokenEndpoint?: string;
  readonly scopes?: readonly string[];
}
