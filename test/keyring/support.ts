/** Shared helpers of the keyring tests (run by test/keyring/run.sh with a temporary HOME). */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { KeyringBackend } from '../../extension/backends/keyring';
import { McpCliRegistry, defaultRegistryPath } from '../../extension/backends/mcpCliRegistry';
import { TokenStore } from '../../extension/store/tokenStore';
import { MemoryBackend, MemoryIndex } from '../unit/support/memoryBackend';

if (!process.env.HOME || !/mcp-keyring-test/.test(process.env.HOME)) {
  throw new Error('Run the keyring tests through test/keyring/run.sh (they need a temporary HOME and their own Secret Service).');
}

export function makeKeyringStore(options: { timeoutMs?: number } = {}) {
  const logs: string[] = [];
  const registry = new McpCliRegistry(defaultRegistryPath(homedir()));
  const keyring = new KeyringBackend({ registry, isActive: () => true, log: (_l, m) => logs.push(m), timeoutMs: options.timeoutMs ?? 5000, retryDelayMs: 10 });
  const local = new MemoryBackend('secretStorage');
  const index = new MemoryIndex();
  const store = new TokenStore({ backends: [local, keyring], index, backendFor: () => 'keyring', log: (_l, m) => logs.push(m) });
  return { store, keyring, registry, index, local, logs };
}

export function readRegistryFile(): Record<string, { name: string; type: string; namespace: string; metadata: Record<string, unknown> }> {
  const path = defaultRegistryPath(homedir());
  return existsSync(path) ? JSON.parse(readFileSync(path, 'utf8')) : {};
}

/** Runs Debian's python3 (not the pyenv one on PATH) with python3-keyring; returns stdout. */
export function python(code: string): string {
  return execFileSync('/usr/bin/python3', ['-c', code], { encoding: 'utf8', env: process.env, timeout: 30_000 }).trim();
}

/** The client id mcp-cli registered for the OAuth fixture server (pre-registered there). */
export const CLIENT = 'mcp-cli-registered-app';

/** Writes what `mcp-cli` leaves after an OAuth sign-in: the StoredToken, its registry line and (optionally) its client registration file. */
export function mcpCliSignedIn(name: string, access: string, refresh: string, clientFile: boolean) {
  python(`
import json, keyring, os, time
stored = {"token_type": "oauth", "name": ${JSON.stringify(name)}, "data": {"access_token": ${JSON.stringify(access)}, "refresh_token": ${JSON.stringify(refresh)}, "token_type": "Bearer", "expires_in": 3600, "issued_at": time.time() - 3700, "scope": "mcp:read"}, "metadata": {"namespace": "oauth"}}
keyring.set_password("mcp-cli", "oauth:" + ${JSON.stringify(name)}, json.dumps(stored))
path = os.path.expanduser("~/.chuk_oauth/token_registry.json")
os.makedirs(os.path.dirname(path), exist_ok=True)
reg = json.load(open(path)) if os.path.exists(path) else {}
reg["oauth:" + ${JSON.stringify(name)}] = {"name": ${JSON.stringify(name)}, "type": "oauth", "namespace": "oauth", "registered_at": time.time(), "metadata": {"expires_at": time.time() + 10}}
with open(path, "w") as f: json.dump(reg, f)
os.chmod(path, 0o600)
`);
  if (clientFile) {
    const dir = join(homedir(), '.chuk_oauth', 'tokens');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, `${name}_client.json`), JSON.stringify({ client_id: CLIENT, client_secret: null, redirect_uris: ['http://127.0.0.1:8765/callback'] }), { mode: 0o600 });
  }
}

