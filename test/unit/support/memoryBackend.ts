/** The in-memory backend and index of extension/store/memoryStore.ts, with failure injection for store tests. */
import { MemoryBackend as BaseBackend, MemoryIndex as BaseIndex } from '../../../extension/store/memoryStore';
import { METADATA_LAYOUT, type TokenMetadata } from '../../../server/core/model';
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
  /** The next write of a metadata entry (token or trash) throws. */
  failNextSave = false;
  override async store(key: string, value: string) {
    if (this.failNextSave && isEntry(key)) {
      this.failNextSave = false;
      throw new Error('injected index failure');
    }
    return super.store(key, value);
  }
  override async delete(key: string) {
    if (this.failNextSave && isEntry(key)) {
      this.failNextSave = false;
      throw new Error('injected index failure');
    }
    return super.delete(key);
  }
  /** The token metadata entries as stored. */
  tokens(): TokenMetadata[] {
    return [...this.entries].filter(([k]) => k.startsWith(METADATA_LAYOUT.token)).map(([, v]) => JSON.parse(v).token);
  }
  /** Every entry's text, for checks that no value is in it. */
  text(): string {
    return [...this.entries.values()].join('\n');
  }
  /** Puts an old single index document (mcpTokens/v1/index) in place, as an earlier version left it. */
  set legacy(json: string | undefined) {
    if (json === undefined) this.entries.delete(METADATA_LAYOUT.legacyIndex);
    else this.entries.set(METADATA_LAYOUT.legacyIndex, json);
  }
}

function isEntry(key: string): boolean {
  return key.startsWith(METADATA_LAYOUT.token) || key.startsWith(METADATA_LAYOUT.trash);
}
