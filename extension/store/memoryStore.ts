/**
 * A TokenStore kept in memory, for the command-line client (it keeps nothing on disk) and the tests.
 * Pure: no `vscode` import.
 */
import { keyId, type TokenKey } from '../../server/core/reference';
import type { BackendId } from '../../server/core/model';
import type { BackendHealth, MetadataStorage, SecretBackend } from './backend';
import { TokenStore } from './tokenStore';

export class MemoryBackend implements SecretBackend {
  readonly values = new Map<string, string>();
  readonly previous = new Map<string, string>();

  constructor(readonly id: BackendId = 'secretStorage') {}

  async read(key: TokenKey): Promise<string | undefined> {
    return this.values.get(keyId(key));
  }
  async write(key: TokenKey, value: string): Promise<void> {
    this.values.set(keyId(key), value);
  }
  async remove(key: TokenKey): Promise<void> {
    this.values.delete(keyId(key));
    this.previous.delete(keyId(key));
  }
  async readPrevious(key: TokenKey): Promise<string | undefined> {
    return this.previous.get(keyId(key));
  }
  async writePrevious(key: TokenKey, value: string | undefined): Promise<void> {
    if (value === undefined) this.previous.delete(keyId(key));
    else this.previous.set(keyId(key), value);
  }
  async health(): Promise<BackendHealth> {
    return { backend: this.id, available: true, active: true, healthy: true };
  }
}

/** Metadata entries kept in memory, for one store only (`exclusive`: no leases). */
export class MemoryIndex implements MetadataStorage {
  readonly entries = new Map<string, string>();
  readonly exclusive = true;
  async get(key: string): Promise<string | undefined> {
    return this.entries.get(key);
  }
  async store(key: string, value: string): Promise<void> {
    this.entries.set(key, value);
  }
  async delete(key: string): Promise<void> {
    this.entries.delete(key);
  }
  async keys(): Promise<string[]> {
    return [...this.entries.keys()];
  }
}

export function createMemoryTokenStore(now?: () => Date): { store: TokenStore; backend: MemoryBackend } {
  const backend = new MemoryBackend();
  const store = new TokenStore({ backends: [backend], index: new MemoryIndex(), backendFor: () => 'secretStorage', now });
  return { store, backend };
}
