/**
 * A test-only backend that keeps values in this window's memory (the store's MemoryBackend under its
 * own id), listed only when MCP_TOKENS_TEST_BACKENDS names `memory` (backends/registry.ts). It exists
 * to prove that a backend is added by its own file, its descriptor and the pure list of ids alone.
 * Pure: no `vscode` import.
 */
import type { BackendHealth } from '../store/backend';
import { MemoryBackend } from '../store/memoryStore';

export class InMemoryBackend extends MemoryBackend {
  constructor() {
    super('memory');
  }

  override async health(): Promise<BackendHealth> {
    return { ...(await super.health()), detail: `${this.values.size} value${this.values.size === 1 ? '' : 's'} in this window's memory, lost when it closes (test-only backend).` };
  }
}
