/**
 * The launcher's side of the runtime: a request from the `mcp-tokens` launcher (through the channel,
 * extension/launcher/channelServer.ts) gets the same consent as a server VS Code starts, then the
 * values it named, and is audited like a provider start. Pure (no `vscode`): the modal, the store,
 * the consent state and the audit log are handed in, so it is tested with a fake prompt.
 *
 * Identity: a launcher launch has no defining file. What consent is asked and remembered for is the
 * command line the launcher will run (command and arguments as the launcher received them, token
 * references still as text), its working directory, whether it is `run` or `proxy`, and the program
 * that started the launcher when it is known. Any change to one of them is a new launch that asks
 * again. The launcher's environment is not part of it (the request does not carry it).
 *
 * Workspace trust does not apply: the launcher is started by another program (Claude Desktop,
 * Cursor, VS Code for `.vscode/mcp.json`), outside any workspace this window trusts or not; every
 * request is gated by the consent modal (or a remembered "Always"), whichever window serves it.
 */
import * as path from 'node:path';
import { formatReference, keyId, type TokenKey } from '../../server/core/reference';
import type { TokenMetadata } from '../../server/core/model';
import type { AuditRecord } from '../platform/audit';
import { fingerprint, quoteArg, type ConsentStore, type LaunchDescription, type ServerIdentity } from './consent';
import { Mutex } from '../platform/event';
import type { ExternalLaunch, LauncherAccess, LauncherResolution } from '../platform/launcherAccess';

export type ConsentChoice = 'once' | 'always' | 'deny' | undefined;

export interface LauncherAccessDeps {
  readonly store: {
    ready(): Promise<void>;
    get(key: TokenKey): TokenMetadata | undefined;
    getValue(key: TokenKey): Promise<string | undefined>;
    markUsed(key: TokenKey): Promise<void>;
  };
  readonly consent: Pick<ConsentStore, 'decision' | 'record'>;
  /** The audit trail (`services.audit`): `record` never throws nor waits. */
  readonly audit: { record(r: AuditRecord): void };
  /** The consent modal (Allow Once / Always Allow / Deny; undefined: dismissed). */
  readonly prompt: (identity: ServerIdentity, keys: readonly TokenKey[]) => Promise<ConsentChoice>;
  /** OAuth tokens: refreshed (or signed in) before their value is given; false: not usable. */
  readonly ensureFresh?: (key: TokenKey, label: string) => Promise<boolean>;
  readonly log: { info(message: string): void; warn(message: string): void };
  readonly now?: () => Date;
}

/** The identity consent is asked and remembered for (see the header); no value in it. */
export function launcherIdentity(launch: ExternalLaunch): ServerIdentity {
  const description: LaunchDescription = { kind: 'stdio', command: launch.command, args: [...launch.args], cwd: launch.cwd, env: {} };
  const client = launch.client ?? 'an unknown program';
  const commandLine = [launch.command, ...launch.args].map(quoteArg).join(' ');
  const target = [`Runs: ${commandLine}`, `In: ${launch.cwd}`, `Started by: ${client}, through mcp-tokens ${launch.kind}`].join('\n');
  return {
    file: `mcp-tokens launcher, started by ${client}`,
    server: `mcp-tokens ${launch.kind}: ${path.basename(launch.command)}`,
    kind: 'stdio',
    launch: description,
    target,
  };
}

export class LauncherGate implements LauncherAccess {
  /** One consent question at a time (several launchers may ask at once). */
  private readonly asking = new Mutex();

  constructor(private readonly d: LauncherAccessDeps) {}

  resolve(launch: ExternalLaunch, keys: readonly TokenKey[]): Promise<LauncherResolution> {
    return this.asking.run(() => this.resolveNow(launch, unique(keys)));
  }

  private async resolveNow(launch: ExternalLaunch, keys: TokenKey[]): Promise<LauncherResolution> {
    const identity = launcherIdentity(launch);
    const label = identity.server;
    const commandLine = identity.target.split('\n')[0].slice('Runs: '.length);
    type Outcome = 'used' | 'denied' | 'missing' | 'failed';
    const record = (keys: readonly TokenKey[], outcome: Outcome) =>
      this.d.audit.record({
        kind: 'launcher',
        tokens: keys,
        actor: { server: `mcp-tokens ${launch.kind}: ${commandLine}`.slice(0, 400), file: launch.cwd.slice(0, 4096), launcher: (launch.client ?? 'an unknown program').slice(0, 256) },
        outcome: outcome === 'used' ? 'ok' : outcome === 'denied' ? 'denied' : 'failed',
        reason: outcome === 'used' || outcome === 'denied' ? undefined : outcome,
      });
    const refuse = async (code: 'denied' | 'missing', outcome: Outcome, message: string, which: TokenKey[]): Promise<LauncherResolution> => {
      record(which, outcome);
      this.d.log.warn(`mcp-tokens launcher (${launch.client ?? 'unknown client'}, ${label}): ${message}`);
      return { ok: false, code, message, ...(code === 'missing' ? { missing: which.map(keyId) } : {}) };
    };

    await this.d.store.ready().catch(() => undefined);
    const absent = keys.filter((k) => !this.d.store.get(k));
    if (absent.length) {
      return refuse('missing', 'missing', `Not stored in MCP Tokens: ${absent.map((k) => formatReference(k)).join(', ')}. Set ${absent.length > 1 ? 'them' : 'it'} with "MCP Tokens: Set Token".`, absent);
    }

    const fp = fingerprint(identity);
    const denied = keys.filter((k) => this.d.consent.decision(k, fp) === 'deny');
    if (denied.length) return refuse('denied', 'denied', `You denied this launch the use of ${denied.map((k) => formatReference(k)).join(', ')}; forget the decision under the token in the Tokens view to be asked again.`, denied);
    const ask = keys.filter((k) => this.d.consent.decision(k, fp) === undefined);
    if (ask.length) {
      const choice = await this.d.prompt(identity, ask);
      if (choice === 'deny') for (const k of ask) await this.d.consent.record(k, identity, 'deny');
      if (choice === 'deny' || choice === undefined) return refuse('denied', 'denied', `The launch was not allowed to use ${ask.map((k) => formatReference(k)).join(', ')}.`, ask);
      if (choice === 'always') for (const k of ask) await this.d.consent.record(k, identity, 'always');
    }

    const values: Record<string, string> = {};
    for (const key of keys) {
      const meta = this.d.store.get(key);
      if (meta?.type === 'oauth' && this.d.ensureFresh && !(await this.d.ensureFresh(key, label))) {
        return refuse('missing', 'failed', `The OAuth token ${formatReference(key)} needs a sign-in: run "MCP Tokens: Sign In to Server…".`, [key]);
      }
      const value = await this.d.store.getValue(key);
      if (value === undefined) return refuse('missing', 'missing', `The value of ${formatReference(key)} is missing from its backend.`, [key]);
      values[keyId(key)] = value;
    }
    for (const key of keys) await this.d.store.markUsed(key);
    record(keys, 'used');
    this.d.log.info(`mcp-tokens launcher (${launch.client ?? 'unknown client'}, ${label}) received ${keys.map((k) => formatReference(k)).join(', ')}.`);
    return { ok: true, values };
  }
}

function unique(keys: readonly TokenKey[]): TokenKey[] {
  const seen = new Map<string, TokenKey>();
  for (const k of keys) seen.set(keyId(k), { namespace: k.namespace, name: k.name });
  return [...seen.values()];
}
