#!/usr/bin/env node
/**
 * The entry of `mcp-tokens` (bundled to dist/cli/mcp-tokens.mjs, the package's `bin`), and the
 * launcher's composition root, as extension.ts is the extension's: it hands the launcher feature
 * (extension/launcher/) what it uses of the others, so that no feature folder imports another:
 *  - the keyring and Vault backends (extension/backends/: mcp-cli's keyring layout and registry, Vault
 *    KV v2, with VAULT_TOKEN or ~/.vault-token, AppRole's VAULT_SECRET_ID);
 *  - OAuth refresh of a keyring `oauth:` token (extension/oauth/manager.ts over a TokenStore of the
 *    keyring alone, its metadata in memory): refreshed when it expires within the refresh margin, the new
 *    tokens written back in mcp-cli's layout; never a sign-in (no browser);
 *  - the audit log (extension/platform/audit.ts, the extension's file and format).
 * Each is loaded only when a command needs it (the bundle is split per command). Ends the way the
 * command did. Reaches no `vscode` import (test/unit/boundaries.test.ts).
 */
import { readFileSync, realpathSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { keyId } from '../server/core/reference';
import type { KeyringBackend } from './backends/keyring';
import { createLauncher, type LauncherDeps } from './launcher/context';
import { main } from './launcher/main';
import { errorText } from '../server/core/errors';

function readTokenFile(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8').trim() || undefined;
  } catch {
    return undefined;
  }
}

let keyring: KeyringBackend | undefined;

const deps: LauncherDeps = {
  localParts: async (settings, env, home) => {
    const [{ KeyringBackend }, { McpCliRegistry, defaultRegistryPath }] = await Promise.all([import('./backends/keyring'), import('./backends/mcpCliRegistry')]);
    const registry = settings.keyringSyncRegistry ? new McpCliRegistry(settings.keyringRegistryPath ?? defaultRegistryPath(home)) : undefined;
    const { loadPackagedKeyring } = await import('./backends/keyringNative');
    // In a package the binary is in dist/native/ beside dist/cli/ (unpacked on first use, as the
    // extension does); in a checkout or an `npm install -g`, @napi-rs/keyring from node_modules.
    const nativeDir = join(dirname(realpathSync(process.argv[1] ?? '.')), '..', 'native');
    const load = () =>
      loadPackagedKeyring({ nativeDir, cacheDir: join(home, '.mcp-tokens', 'native'), fallback: () => require('@napi-rs/keyring') as ReturnType<typeof loadPackagedKeyring> });
    keyring = new KeyringBackend({ service: settings.keyringService, registry, isActive: () => true, load });
    // Vault's client library is loaded only when an address is configured (a launch without Vault stays fast).
    if (!settings.vault.address && !env.VAULT_ADDR) return { keyring };
    const vault = await import('./backends/vault');
    const vaultSettings = { ...vault.DEFAULT_VAULT_SETTINGS, ...settings.vault };
    const target = vault.vaultTargetOf(vaultSettings, env);
    if (!target) return { keyring };
    const backend = new vault.VaultBackend({
      settings: () => vaultSettings,
      env,
      isActive: () => true,
      // Like the vault CLI: VAULT_TOKEN, else the token helper's file ~/.vault-token; AppRole: VAULT_SECRET_ID.
      credentials: { getToken: async () => env.VAULT_TOKEN || readTokenFile(join(home, '.vault-token')), getSecretId: async () => env.VAULT_SECRET_ID || undefined },
    });
    return { keyring, vault: backend, vaultAddress: target.target.address };
  },

  keyringRefresher: async (key, serverUrl, log) => {
    if (!keyring) return undefined;
    const [{ OAuthManager }, { MemoryIndex }, { TokenStore }] = await Promise.all([import('./oauth/manager'), import('./store/memoryStore'), import('./store/tokenStore')]);
    const own = keyring;
    const store = new TokenStore({ backends: [own], index: new MemoryIndex(), backendFor: () => 'keyring', log, startupDiscoveryMs: 60_000 });
    await store.ready();
    if (!store.has(key)) {
      // Not listed in mcp-cli's registry: nothing to refresh it with here.
      log('info', `${keyId(key)} is not in mcp-cli's registry; it is sent as stored, without refreshing.`);
      store.dispose();
      return undefined;
    }
    const ui = {
      openBrowser: async () => {
        throw new Error('The launcher does not sign in; sign in from VS Code ("MCP Tokens: Sign In to Server…") or mcp-cli.');
      },
      withProgress: <T>(_title: string, task: (report: (m: string) => void, signal: AbortSignal) => Promise<T>) => task(() => undefined, new AbortController().signal),
      confirmSignIn: async () => false,
    };
    const manager = new OAuthManager(store, ui, { log, externalGrant: (meta) => own.oauthGrant(meta) });
    const server = { url: serverUrl };
    return {
      current: async () => {
        const outcome = await manager.refresh(key, { server }).catch((e: unknown) => (log('warn', errorText(e)), 'failed' as const));
        if (outcome === 'refreshed') log('info', `refreshed ${keyId(key)} before it expired`);
        return store.getValue(key);
      },
      renew: async () => (await manager.refresh(key, { force: true, server }).catch(() => 'failed' as const)) === 'refreshed',
      dispose: () => {
        manager.dispose();
        store.dispose();
      },
    };
  },

  appendAudit: async (userDir, entries) => {
    const [{ AUDIT_FILE, AuditLog }, { auditPath }] = await Promise.all([import('./platform/audit'), import('./launcher/audit')]);
    await new AuditLog(auditPath(process.env, userDir, launcher.home, AUDIT_FILE)).append(...entries);
  },
};

const launcher = createLauncher(deps);

main(process.argv.slice(2), launcher).then(
  (end) => {
    if ('signal' in end) {
      // End the way the child ended: by its signal (our handlers are gone by now).
      process.kill(process.pid, end.signal);
      setTimeout(() => process.exit(128 + 1), 1000).unref();
    } else {
      process.exitCode = end.code;
      // The bridge's streams may hold the loop open after it closed them: end shortly after.
      if (process.argv[2] === 'proxy') setTimeout(() => process.exit(end.code), 300);
    }
  },
  (e: unknown) => {
    process.stderr.write(`mcp-tokens: ${errorText(e)}\n`);
    process.exit(1);
  },
);
