/**
 * Consent: which servers may receive which token. Pure (no `vscode`): the persistent state is a
 * Memento-like object handed in by the caller (the extension's globalState, never synced), so it
 * is unit-tested directly.
 *
 * A server is identified by a fingerprint of the file that defines it, its name, and what the token
 * is sent to: for a stdio server its command and arguments as written, for an HTTP server the
 * origin of its URL. Changing any of them makes the server a new one that must ask again, so a
 * cloned repository cannot redirect a token that was allowed for another command or origin.
 *
 * Decisions "always" and "deny" are remembered per token; "once" is not stored at all. Nothing
 * here can be set from a command argument: only `record`, called after the user answered the
 * modal, writes.
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { keyId, type TokenKey } from '../../server/core/reference';
import type { ServerEntry } from '../../server/core/mcpConfig';
import { Emitter } from '../util/event';

export interface StateLike {
  get<T>(key: string): T | undefined;
  update(key: string, value: unknown): PromiseLike<void>;
}

export interface ServerIdentity {
  /** The file's URI, as a string. */
  readonly file: string;
  readonly server: string;
  /** `command arg1 arg2` for stdio, the URL origin for HTTP. */
  readonly target: string;
  readonly kind: 'stdio' | 'http';
}

/** The origin (`scheme://host:port`) of a URL as written; the text itself when it is not a URL. */
export function urlOrigin(url: string): string {
  try {
    const u = new URL(url);
    return u.origin === 'null' ? `${u.protocol}//${u.host}` : u.origin;
  } catch {
    return url;
  }
}

export function identityOf(file: string, entry: ServerEntry): ServerIdentity {
  return entry.kind === 'http'
    ? { file, server: entry.name, kind: 'http', target: httpTarget(entry) }
    : { file, server: entry.name, kind: 'stdio', target: [entry.command, ...entry.args].map((a) => JSON.stringify(a)).join(' ') };
}

/**
 * The origin of an HTTP server's URL; with a pre-registered OAuth client whose endpoints the file
 * names, also the token endpoint's origin when it differs (the client secret is sent there), so a
 * changed token URL asks again. Unchanged for entries without `oauth.tokenUrl`.
 */
function httpTarget(entry: Extract<ServerEntry, { kind: 'http' }>): string {
  const origin = urlOrigin(entry.url);
  const tokenUrl = entry.oauth?.tokenUrl;
  if (!tokenUrl) return origin;
  const tokenOrigin = urlOrigin(tokenUrl);
  return tokenOrigin === origin ? origin : `${origin} (token endpoint ${tokenOrigin})`;
}

/** SHA-256 (hex) of the identity's canonical JSON. */
export function fingerprint(id: ServerIdentity): string {
  const canonical = JSON.stringify([id.file, id.server, id.kind, id.target]);
  return createHash('sha256').update(canonical).digest('hex');
}

export type Decision = 'always' | 'deny';

const recordSchema = z.object({
  fingerprint: z.string().regex(/^[0-9a-f]{64}$/),
  server: z.string(),
  file: z.string(),
  kind: z.enum(['stdio', 'http']),
  target: z.string(),
  decision: z.enum(['always', 'deny']),
  decidedAt: z.string(),
});
export type ConsentRecord = z.infer<typeof recordSchema>;

const stateSchema = z.record(z.string(), z.array(recordSchema));
type ConsentState = z.infer<typeof stateSchema>;

export const CONSENT_STATE_KEY = 'mcpTokens.consent.v1';
/** Per token, at most this many remembered servers (the oldest go first). */
export const MAX_RECORDS_PER_TOKEN = 100;

export class ConsentStore {
  private readonly changed = new Emitter<TokenKey>();
  readonly onDidChange = this.changed.event;

  constructor(
    private readonly state: StateLike,
    private readonly now: () => Date = () => new Date(),
  ) {}

  private read(): ConsentState {
    const parsed = stateSchema.safeParse(this.state.get(CONSENT_STATE_KEY) ?? {});
    return parsed.success ? parsed.data : {};
  }

  /** The remembered decision for `key` and the server with `fp`, if any. */
  decision(key: TokenKey, fp: string): Decision | undefined {
    return this.read()[keyId(key)]?.find((r) => r.fingerprint === fp)?.decision;
  }

  listForToken(key: TokenKey): ConsentRecord[] {
    return [...(this.read()[keyId(key)] ?? [])];
  }

  /** Every token with at least one remembered decision. */
  tokens(): string[] {
    return Object.keys(this.read()).sort();
  }

  async record(key: TokenKey, id: ServerIdentity, decision: Decision): Promise<void> {
    const state = this.read();
    const fp = fingerprint(id);
    const list = (state[keyId(key)] ?? []).filter((r) => r.fingerprint !== fp);
    list.push({ fingerprint: fp, server: id.server, file: id.file, kind: id.kind, target: id.target, decision, decidedAt: this.now().toISOString() });
    state[keyId(key)] = list.slice(-MAX_RECORDS_PER_TOKEN);
    await this.state.update(CONSENT_STATE_KEY, state);
    this.changed.fire(key);
  }

  /** Forgets the decision for one server (or all of the token's when `fp` is undefined). */
  async revoke(key: TokenKey, fp?: string): Promise<boolean> {
    const state = this.read();
    const list = state[keyId(key)];
    if (!list) return false;
    const kept = fp === undefined ? [] : list.filter((r) => r.fingerprint !== fp);
    if (kept.length === list.length) return false;
    if (kept.length) state[keyId(key)] = kept;
    else delete state[keyId(key)];
    await this.state.update(CONSENT_STATE_KEY, state);
    this.changed.fire(key);
    return true;
  }

  dispose(): void {
    this.changed.dispose();
  }
}
