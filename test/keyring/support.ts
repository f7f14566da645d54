/** Shared helpers of the keyring tests (run by test/keyring/run.sh with a temporary HOME). */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
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
