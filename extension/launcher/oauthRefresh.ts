/**
 * Keeps an `oauth:` token of the OS keyring fresh for `mcp-tokens proxy`, with the extension's OAuth
 * code (extension/oauth/manager.ts over a TokenStore of the keyring alone, the metadata index in
 * memory): refreshed before each request when it expires within the refresh margin, and once more
 * after a 401. The new tokens are written back in mcp-cli's layout, so VS Code and mcp-cli see them.
 * The launcher never signs in (no browser): a token that cannot be refreshed is used as it is, and
 * the server's 401 becomes the error the user reads. No `vscode`.
 */
import { keyId, type TokenKey } from '../../server/core/reference';
import type { KeyringBackend } from '../backends/keyring';
import { OAuthManager, type OAuthUi } from '../oauth/manager';
import { MemoryIndex } from '../store/memoryStore';
import { TokenStore } from '../store/tokenStore';

export interface TokenRefresher {
  /** The value to send now (refreshed first when it expires soon). */
  current(): Promise<string | undefined>;
  /** After a 401: refresh now; true when a new token was stored. */
  renew(): Promise<boolean>;
  dispose(): void;
}

const noSignIn: OAuthUi = {
  openBrowser: async () => {
    throw new Error('The launcher does not sign in; sign in from VS Code ("MCP Tokens: Sign In to Server…") or mcp-cli.');
  },
  withProgress: (_title, task) => task(() => undefined, new AbortController().signal),
  confirmSignIn: async () => false,
};

export async function keyringRefresher(
  keyring: KeyringBackend,
  key: TokenKey,
  serverUrl: string,
  log: (level: 'info' | 'warn' | 'error', message: string) => void,
): Promise<TokenRefresher | undefined> {
  const store = new TokenStore({ backends: [keyring], index: new MemoryIndex(), backendFor: () => 'keyring', log, startupDiscoveryMs: 60_000 });
  await store.ready();
  if (!store.has(key)) {
    // Not listed in mcp-cli's registry: nothing to refresh it with here.
    log('info', `${keyId(key)} is not in mcp-cli's registry; it is sent as stored, without refreshing.`);
    store.dispose();
    return undefined;
  }
  const manager = new OAuthManager(store, noSignIn, { log, externalGrant: (meta) => keyring.oauthGrant(meta) });
  const server = { url: serverUrl };
  return {
    current: async () => {
      const outcome = await manager.refresh(key, { server }).catch((e: unknown) => (log('warn', e instanceof Error ? e.message : String(e)), 'failed' as const));
      if (outcome === 'refreshed') log('info', `refreshed ${keyId(key)} before it expired`);
      return store.getValue(key);
    },
    renew: async () => (await manager.refresh(key, { force: true, server }).catch(() => 'failed' as const)) === 'refreshed',
    dispose: () => {
      manager.dispose();
      store.dispose();
    },
  };
}
