/**
 * mcp-cli's token registry file (`~/.chuk_oauth/token_registry.json`), read and written the way
 * mcp-cli does: a JSON object keyed by `namespace:name`, mode 0600. No `vscode`.
 *
 * mcp-cli (chuk_mcp_client_oauth/token_registry.py) takes no lock: it loads the file once when its
 * TokenRegistry is created, and each register/unregister rewrites the whole file in place
 * (`open(path, "w")` + `json.dump`, then chmod 0600). An unreadable file is taken as empty there.
 * This module is stricter, so that nothing mcp-cli or another window wrote is lost:
 *
 *  - Writes happen under a lock file (`token_registry.json.lock`, extension/platform/lockFile.ts): our
 *    windows (and any writer honouring the lock) never overlap. Inside the lock the file is read, the
 *    change applied, the result written to a unique temporary file (mode 0600) and renamed over it.
 *    mcp-cli does not take the lock, so the file is read again right before the rename (what changed
 *    since the first read is merged in), and the replaced file is read once more after the rename
 *    through a handle kept on it: an in-place write mcp-cli made in between landed there, and is
 *    merged into the new file in another round (three-way, by key; at most 4 rounds).
 *  - A read that sees an empty or half-written file (mcp-cli truncates before it writes) is retried
 *    for up to ~250 ms before it counts.
 *  - A file that does not parse (or is not a JSON object) is never replaced: it is copied beside
 *    itself once (`token_registry.json.unparsable-<hash>.bak`), left in place, and the change fails
 *    with RegistryUnparsableError (the token is then stored but not registered: mcp-cli does not list
 *    it until the file is fixed). Listing such a file lists nothing.
 *  - Internal namespaces (OAuth companions, Recently Deleted) are never written into it.
 *
 * What remains: an mcp-cli process that loaded the file before our rename and saves after it drops
 * our entry (mcp-cli never re-reads before it writes), and the reverse within the same short window.
 * Measured against a python3 writer doing what mcp-cli does, 100 entries each side concurrently:
 * 99–100 of each side's entries kept (test/unit/mcpCliRegistry.test.ts).
 */
import { createHash, randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import { homedir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { isInternalNamespace, type TokenMetadata } from '../../server/core/model';
import { keyId, type TokenKey } from '../../server/core/reference';
import { Mutex } from '../platform/event';
import { withLockFile, type LockOptions } from '../platform/lockFile';
import type { DiscoveredToken } from '../store/backend';
import { MCP_CLI_REGISTRY_RELATIVE, registerToken, registrySchema, registryTokens, serializeRegistry, unregisterToken, type Registry } from './mcpCliLayout';

export function defaultRegistryPath(home = homedir()): string {
  return join(home, ...MCP_CLI_REGISTRY_RELATIVE);
}

/** The registry file exists but does not parse as a JSON object; it was left as it is. */
export class RegistryUnparsableError extends Error {
  constructor(
    readonly path: string,
    readonly backup: string | undefined,
    reason: string,
    action: string,
  ) {
    super(
      `mcp-cli's registry ${path} ${reason}; it is left as it is${backup ? ` (a copy is kept at ${backup})` : ''}, so ${action} Fix or remove the file (mcp-cli treats an unreadable registry as empty).`,
    );
    this.name = 'RegistryUnparsableError';
  }
}

type ReadResult = { kind: 'ok'; registry: Registry; text: string | undefined } | { kind: 'unparsable'; text: string; reason: string };

/**
 * mcp-cli writes the registry in place, in several writes: a read in between sees a truncated file.
 * An unreadable read is retried with backoff (40 ms doubling to 400 ms) for up to this long before the
 * file counts as damaged; a busy machine can leave a writer stopped mid-file for a second or more.
 */
const READ_RETRY_BUDGET_MS = 2_000;
const READ_RETRY_FIRST_MS = 40;
const READ_RETRY_MAX_MS = 400;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface McpCliRegistryOptions {
  readonly lock?: LockOptions;
}

export class McpCliRegistry {
  private readonly mutex = new Mutex();

  constructor(
    readonly path: string,
    private readonly now: () => Date = () => new Date(),
    private readonly options: McpCliRegistryOptions = {},
  ) {}

  /** The tokens the registry lists; none when the file does not parse. */
  async list(): Promise<DiscoveredToken[]> {
    const r = await this.read();
    return r.kind === 'ok' ? registryTokens(r.registry) : [];
  }

  register(key: TokenKey, meta: Pick<TokenMetadata, 'type' | 'provider' | 'expiresAt'>): Promise<void> {
    if (isInternalNamespace(key.namespace)) return Promise.resolve();
    return this.update(`${keyId(key)} is not registered: mcp-cli will not list it until the file is fixed.`, (r) => registerToken(r, key, meta, this.now()));
  }

  unregister(key: TokenKey): Promise<void> {
    return this.update(`${keyId(key)} is not removed from it: mcp-cli may still list it.`, (r) => unregisterToken(r, key));
  }

  /** Parses the file's text: `ok` (missing or empty counts as an empty registry) or `unparsable`. */
  private parse(text: string | undefined): ReadResult {
    if (text === undefined || !text.trim()) return { kind: 'ok', registry: {}, text };
    let raw: unknown;
    try {
      raw = JSON.parse(text);
    } catch (e) {
      return { kind: 'unparsable', text, reason: `does not parse as JSON (${e instanceof Error ? e.message.slice(0, 120) : 'syntax error'})` };
    }
    const parsed = registrySchema.safeParse(raw);
    if (!parsed.success || Array.isArray(raw)) return { kind: 'unparsable', text, reason: 'is not a JSON object of entries' };
    return { kind: 'ok', registry: parsed.data, text };
  }

  /**
   * Reads through `source` (the path, or an open handle read from its start), waiting out a writer
   * caught mid-write: an empty or unparsable text is read again, up to ~250 ms.
   */
  private async read(source: fs.FileHandle | string = this.path): Promise<ReadResult> {
    const once = async (): Promise<ReadResult> => {
      if (typeof source !== 'string') return this.parse(await readHandle(source));
      try {
        return this.parse(await fs.readFile(source, 'utf8'));
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { kind: 'ok', registry: {}, text: undefined };
        throw e;
      }
    };
    let r = await once();
    const started = Date.now();
    for (let wait = READ_RETRY_FIRST_MS; r.kind === 'unparsable' || (r.text !== undefined && !r.text.trim()); wait = Math.min(wait * 2, READ_RETRY_MAX_MS)) {
      if (Date.now() - started + wait > READ_RETRY_BUDGET_MS) break;
      await sleep(wait);
      r = await once();
    }
    return r;
  }

  /** Copies an unparsable file beside itself once per distinct content; returns the copy's path. */
  private async backup(text: string): Promise<string | undefined> {
    const hash = createHash('sha256').update(text).digest('hex').slice(0, 12);
    const copy = join(dirname(this.path), `${basename(this.path)}.unparsable-${hash}.bak`);
    try {
      await fs.writeFile(copy, text, { mode: 0o600, flag: 'wx' });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') return undefined;
    }
    return copy;
  }

  private async refuse(r: Extract<ReadResult, { kind: 'unparsable' }>, action: string): Promise<never> {
    throw new RegistryUnparsableError(this.path, await this.backup(r.text), r.reason, action);
  }

  /**
   * Under the lock: read, apply `change`, write a unique temporary file, rename it over the registry.
   * mcp-cli takes no lock and writes in place, so the file is read once more (through a handle kept
   * on it) right before the rename, and that same handle is read after the rename: a write mcp-cli
   * made meanwhile went into the file just replaced, and is merged into the new one (another round).
   */
  private update(action: string, change: (r: Registry) => Registry): Promise<void> {
    return this.mutex.run(async () => {
      await fs.mkdir(dirname(this.path), { recursive: true, mode: 0o700 });
      await withLockFile(
        `${this.path}.lock`,
        async () => {
          const first = await this.read();
          if (first.kind === 'unparsable') return this.refuse(first, action);
          let base: Registry = first.registry;
          let baseText = first.text;
          let target = change(base);
          for (let round = 0; round < MAX_ROUNDS; round++) {
            const handle = await fs.open(this.path, 'r').catch((e: NodeJS.ErrnoException) => {
              if (e.code === 'ENOENT') return undefined;
              throw e;
            });
            try {
              const now = handle ? await this.read(handle) : this.parse(undefined);
              if (now.kind === 'unparsable') return await this.refuse(now, action);
              if (now.text !== baseText) target = merge3(base, now.registry, target);
              if (serializeRegistry(target) === serializeRegistry(now.registry)) return;
              const written = serializeRegistry(target);
              await this.replace(written);
              if (!handle) return;
              const replaced = await this.read(handle);
              // Unchanged (or turned into something unreadable after we left it): nothing to bring over.
              if (replaced.kind === 'unparsable' || replaced.text === now.text) return;
              target = merge3(now.registry, replaced.registry, target);
              // The registry now holds what was written; the next round starts from it.
              base = JSON.parse(written) as Registry;
              baseText = written;
            } finally {
              await handle?.close();
            }
          }
        },
        this.options.lock,
      );
    });
  }

  /** Writes `text` to a unique temporary file (mode 0600) and renames it over the registry. */
  private async replace(text: string): Promise<void> {
    const tmp = `${this.path}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
    try {
      await fs.writeFile(tmp, text, { mode: 0o600, flag: 'wx' });
      await fs.chmod(tmp, 0o600);
      await fs.rename(tmp, this.path);
    } finally {
      await fs.rm(tmp, { force: true }).catch(() => undefined);
    }
  }
}

/** Rounds of "write, then bring over what mcp-cli wrote meanwhile" before giving up on a busy file. */
const MAX_ROUNDS = 4;

/** The whole file behind `handle`, from its start (the handle's position is not used). */
async function readHandle(handle: fs.FileHandle): Promise<string> {
  const { size } = await handle.stat();
  const buf = Buffer.alloc(size);
  let off = 0;
  while (off < size) {
    const { bytesRead } = await handle.read(buf, off, size - off, off);
    if (bytesRead === 0) break;
    off += bytesRead;
  }
  return buf.subarray(0, off).toString('utf8');
}

/** Three-way merge by key: what changed from `base` to `theirs` is applied over `ours`. */
export function merge3(base: Registry, theirs: Registry, ours: Registry): Registry {
  const out: Registry = { ...ours };
  for (const k of new Set([...Object.keys(base), ...Object.keys(theirs)])) {
    if (JSON.stringify(base[k]) === JSON.stringify(theirs[k])) continue;
    if (k in theirs) out[k] = theirs[k];
    else delete out[k];
  }
  return out;
}
