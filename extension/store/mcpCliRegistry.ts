/**
 * mcp-cli's token registry file (`~/.chuk_oauth/token_registry.json`), read and written the way
 * mcp-cli does: a JSON object keyed by `namespace:name`, mode 0600. Writes re-read the file first
 * (mcp-cli may have changed it) and replace it atomically (temporary file + rename). No `vscode`.
 */
import { promises as fs } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import type { TokenMetadata } from '../../server/core/model';
import type { TokenKey } from '../../server/core/reference';
import { Mutex } from '../util/event';
import type { DiscoveredToken } from './backend';
import { MCP_CLI_REGISTRY_RELATIVE, parseRegistry, registerToken, registryTokens, serializeRegistry, unregisterToken, type Registry } from './mcpCliLayout';

export function defaultRegistryPath(home = homedir()): string {
  return join(home, ...MCP_CLI_REGISTRY_RELATIVE);
}

export class McpCliRegistry {
  private readonly mutex = new Mutex();

  constructor(
    readonly path: string,
    private readonly now: () => Date = () => new Date(),
  ) {}

  async list(): Promise<DiscoveredToken[]> {
    return registryTokens(await this.read());
  }

  register(key: TokenKey, meta: Pick<TokenMetadata, 'type' | 'provider' | 'expiresAt'>): Promise<void> {
    return this.update((r) => registerToken(r, key, meta, this.now()));
  }

  unregister(key: TokenKey): Promise<void> {
    return this.update((r) => unregisterToken(r, key));
  }

  private async read(): Promise<Registry> {
    try {
      return parseRegistry(await fs.readFile(this.path, 'utf8'));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return {};
      throw e;
    }
  }

  private update(change: (r: Registry) => Registry): Promise<void> {
    return this.mutex.run(async () => {
      const before = await this.read();
      const after = change(before);
      if (serializeRegistry(after) === serializeRegistry(before)) return;
      await fs.mkdir(dirname(this.path), { recursive: true, mode: 0o700 });
      const tmp = `${this.path}.${process.pid}.${Date.now()}.tmp`;
      try {
        await fs.writeFile(tmp, serializeRegistry(after), { mode: 0o600 });
        await fs.chmod(tmp, 0o600);
        await fs.rename(tmp, this.path);
      } catch (e) {
        await fs.rm(tmp, { force: true }).catch(() => undefined);
        throw e;
      }
    });
  }
}
