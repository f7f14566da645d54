/** The in-memory backend and index of extension/store/memoryStore.ts, with failure injection for store tests. */
import { MemoryBackend as BaseBackend, MemoryIndex as BaseIndex } from '../../../extension/store/memoryStore';
import type { TokenMetadata } from '../../../server/core/model';
import type { TokenKey } from '../../../server/core/reference';

type Op = 'read' | 'write' | 'remove' | 'writePrevious';

export class MemoryBackend extends BaseBackend {
  /** Operations that throw on their next call. */
  failNext = new Set<Op>();

  private check(op: Op): void {
    if (this.failNext.delete(op)) throw new Error(`injected ${op} failure`);
  }
  override async read(key: TokenKey) {
    this.check('read');
    return super.read(key);
  }
  override async write(key: TokenKey, value: string, _meta?: TokenMetadata) {
    this.check('write');
    return super.write(key, value);
  }
  override async remove(key: TokenKey) {
    this.check('remove');
    return super.remove(key);
  }
  override async writePrevious(key: TokenKey, value: string | undefined) {
    this.check('writePrevious');
    return super.writePrevious(key, value);
  }
}

export class MemoryIndex extends BaseIndex {
  failNextSave = false;
  override async save(json: string) {
    if (this.failNextSave) {
      this.failNextSave = false;
      throw new Error('injected index failure');
    }
    return super.save(json);
  }
}
