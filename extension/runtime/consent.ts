/**
 * Consent: which servers may receive which token. Pure (no `vscode`): the persistent state is a
 * Memento-like object handed in by the caller (the extension's globalState, never synced), so it
 * is unit-tested directly.
 *
 * A server is identified by a fingerprint of the launch VS Code will really make, computed on the
 * launch plan (resolve.ts: variables and inputs resolved, each token reference and each password
 * input kept as its reference text) plus the real path of the defining file and the server's name.
 * Everything that decides where a value goes is in it: for stdio the command, arguments, the
 * directory it runs in, every environment variable (key and value) and the `envFile` (path and a
 * hash of its content); for HTTP the full URL, the headers (names, and values as written) and the
 * token endpoint of a pre-registered OAuth client. Any change makes the server a new one that must
 * ask again, so a cloned repository cannot redirect a token allowed for another launch. A token's
 * value is never part of it (rotating a token does not ask again), nor is a password input's value.
 *
 * Decisions "always" and "deny" are remembered per token; "once" is not stored at all. Nothing
 * here can be set from a command argument: only `record`, called after the user answered the
 * modal, writes.
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { keyId, type TokenKey } from '../../server/core/reference';
import { envFileDigest, parseEnvFile } from './envFile';
import { effectiveCwd, placeholderText, type LaunchPlan, type Template } from './resolve';
import { Emitter } from '../platform/event';

export interface StateLike {
  get<T>(key: string): T | undefined;
  update(key: string, value: unknown): PromiseLike<void>;
}

/**
 * The launch as it will run, with no secret in it: token references and password inputs stand as
 * their reference text (`$<TOKEN:ns:name>`, `${input:id}`).
 */
export type LaunchDescription =
  | {
      readonly kind: 'stdio';
      readonly command: string;
      readonly args: readonly string[];
      /** The effective directory (absolute). */
      readonly cwd: string;
      /** `null`: the variable is removed from the inherited environment. */
      readonly env: Readonly<Record<string, string | null>>;
      /** Absolute path, SHA-256 of the content (undefined when it cannot be read) and the keys it sets. */
      readonly envFile?: { readonly path: string; readonly sha256?: string; readonly keys: readonly string[] };
    }
  | {
      readonly kind: 'http';
      readonly url: string;
      readonly headers: Readonly<Record<string, string>>;
      readonly tokenEndpoint?: string;
    };

export interface ServerIdentity {
  /** The defining file's real path (symlinks resolved), or its URI when it has no local path. */
  readonly file: string;
  readonly server: string;
  readonly kind: 'stdio' | 'http';
  readonly launch: LaunchDescription;
  /** `describeLaunch(launch)`, one line per part: what the dialog and the Tokens view show. */
  readonly target: string;
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

/**
 * The identity of a server about to start from `plan`. `envFileContent`: the text of the plan's
 * `envFile` as read now (undefined when it has none or it cannot be read: the start then fails).
 */
export function identityOf(subject: { readonly file: string; readonly server: string }, plan: LaunchPlan, envFileContent?: string): ServerIdentity {
  const launch = describePlan(plan, envFileContent);
  return { file: subject.file, server: subject.server, kind: launch.kind, launch, target: describeLaunch(launch).join('\n') };
}

function describePlan(plan: LaunchPlan, envFileContent: string | undefined): LaunchDescription {
  const text = (t: Template) => placeholderText(t);
  const map = <T extends Template | null>(m: Readonly<Record<string, T>>) => Object.fromEntries(Object.entries(m).map(([k, v]) => [k, v === null ? null : text(v)]));
  if (plan.kind === 'http') {
    return { kind: 'http', url: text(plan.url), headers: map(plan.headers) as Record<string, string>, ...(plan.tokenEndpoint ? { tokenEndpoint: plan.tokenEndpoint } : {}) };
  }
  return {
    kind: 'stdio',
    command: text(plan.command),
    args: plan.args.map(text),
    cwd: effectiveCwd(plan.cwd === undefined ? undefined : text(plan.cwd), plan.baseDir),
    env: map(plan.env),
    ...(plan.envFile !== undefined
      ? {
          envFile: {
            path: plan.envFile,
            ...(envFileContent !== undefined ? { sha256: envFileDigest(envFileContent) } : {}),
            keys: envFileContent === undefined ? [] : Object.keys(parseEnvFile(envFileContent)).sort(),
          },
        }
      : {}),
  };
}

/** An argument as a shell would need it: bare when it is plain, else double-quoted (JSON escapes). */
export function quoteArg(arg: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(arg) ? arg : JSON.stringify(arg);
}

/**
 * What the consent dialog and the remembered record show: the command line, the directory, the
 * environment's keys (never its values), the envFile; the full URL, the host it connects to and the
 * header names (never their values), the token endpoint.
 */
export function describeLaunch(launch: LaunchDescription): string[] {
  if (launch.kind === 'http') {
    const lines = [`Sends requests to: ${launch.url}${hostNote(launch.url)}`];
    const names = Object.keys(launch.headers);
    lines.push(`Headers: ${names.length ? names.join(', ') : '(none)'}`);
    if (launch.tokenEndpoint) lines.push(`OAuth client secret sent to the token endpoint ${launch.tokenEndpoint}`);
    return lines;
  }
  const lines = [`Runs: ${[launch.command, ...launch.args].map(quoteArg).join(' ')}`, `In: ${launch.cwd}`];
  const keys = Object.keys(launch.env).sort().map((k) => (launch.env[k] === null ? `${k} (removed)` : k));
  lines.push(`Environment: ${keys.length ? keys.join(', ') : '(inherited only)'}`);
  if (launch.envFile) lines.push(`Environment file: ${launch.envFile.path}${launch.envFile.keys.length ? ` (sets ${launch.envFile.keys.join(', ')})` : ''}`);
  return lines;
}

/** ` (host h)`: the host the URL really connects to, which user info or a fragment can disguise. */
function hostNote(url: string): string {
  try {
    return ` (host ${new URL(url).host})`;
  } catch {
    return ' (not a valid URL)';
  }
}

/** Version of the fingerprint's canonical form; decisions recorded under an older form never match. */
const FINGERPRINT_VERSION = 2;

/** SHA-256 (hex) of the identity's canonical JSON (object keys sorted, so the file's order does not matter). */
export function fingerprint(id: ServerIdentity): string {
  const canonical = JSON.stringify([FINGERPRINT_VERSION, id.file, id.server, id.kind, canonicalLaunch(id.launch)]);
  return createHash('sha256').update(canonical).digest('hex');
}

function canonicalLaunch(l: LaunchDescription): unknown {
  const sorted = (m: Readonly<Record<string, string | null>>) => Object.entries(m).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  if (l.kind === 'http') {
    // Header names are case-insensitive on the wire: compare them so.
    const headers = Object.entries(l.headers).map(([k, v]) => [k.toLowerCase(), v] as const).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return { url: l.url, headers, tokenEndpoint: l.tokenEndpoint ?? null };
  }
  return { command: l.command, args: l.args, cwd: l.cwd, env: sorted(l.env), envFile: l.envFile ? { path: l.envFile.path, sha256: l.envFile.sha256 ?? null } : null };
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

/**
 * v2: fingerprints of the resolved launch. The v1 state (fingerprints of the entry as written) is
 * dropped at the first decision recorded: none of its fingerprints could match any more.
 */
export const CONSENT_STATE_KEY = 'mcpTokens.consent.v2';
const OLD_STATE_KEYS = ['mcpTokens.consent.v1'];
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
    for (const old of OLD_STATE_KEYS) if (this.state.get(old) !== undefined) await this.state.update(old, undefined);
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
