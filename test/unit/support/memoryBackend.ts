/** In-memory SecretBackend and IndexStorage for store tests, with failure injection. */
import type { BackendHealth, IndexStorage, SecretBackend } from '../../../extension/store/backend';
import type { BackendId, TokenMetadata } from '../../../server/core/model';
import { keyId, type TokenKey } from '../../../server/core/reference';

export class MemoryBackend implements SecretBackend {
  readonly values = new Map<string, string>();
  readonly previous = new Map<string, string>();
  /** Operations that throw on their next call. */
  failNext = new Set<'read' | 'write' | 'remove' | 'writePrevious'>();

  constructor(readonly id: BackendId = 'secretStorage') {}

  private check(op: 'read' | 'write' | 'remove' | 'writePrevious'): void {
    if (this.failNext.delete(op)) throw new Error(`injected ${op} failure`);
  }
  async read(key: TokenKey) {
    this.check('read');
    return this.values.get(keyId(key));
  }
  async write(key: TokenKey, value: string, _meta: TokenMetadata) {
    this.check('write');
    this.values.set(keyId(key), value);
  }
  async remove(key: TokenKey) {
    this.check('remove');
    this.values.delete(keyId(key));
    this.previous.delete(keyId(key));
  }
  async readPrevious(key: TokenKey) {
    return this.previous.get(keyId(key));
  }
  async writePrevious(key: TokenKey, value: string | undefined) {
    this.check('writePrevious');
    if (value === undefined) this.previous.delete(keyId(key));
    else this.previous.set(keyId(key), value);
  }
  async health(): Promise<BackendHealth> {
    return { backend: this.id, available: true, active: true, healthy: true };
  }
}

export class MemoryIndex implements IndexStorage {
  json: string | undefined;
  failNextSave = false;
  async load() {
    return this.json;
  }
  async save(json: string) {
    if (this.failNextSave) {
      this.failNextSave = false;
      throw new Error('injected index failure');
    }
    this.json = json;
  }
}
