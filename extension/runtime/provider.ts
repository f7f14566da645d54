/**
 * The MCP server definition provider: serves the servers of the token-aware files to VS Code and
 * resolves their token references at each start (`resolveMcpServerDefinition`), after checking
 * workspace trust and the user's consent. Records every use (last-used time, audit entry) and
 * restarts running servers when a token they use changes.
 *
 * How VS Code 1.139 treats a provider (read in its source, src/vs/workbench/api/common/extHostMcp.ts
 * and contrib/mcp/common/mcpRegistry.ts / mcpService.ts):
 *  - the server id is `<extension id, lower case>/<label>`; `workbench.mcp.startServer`,
 *    `stopServer` and `restartServer` take that id;
 *  - `resolveMcpServerDefinition` is called on every start (the launch is not cached), and VS Code
 *    then still substitutes its own `${...}` variables in the result;
 *  - when a provided definition changes (label, version, launch), VS Code stops the running server
 *    ("stopped because the definition changed") but does not start it again; firing
 *    `onDidChangeMcpServerDefinitions` with identical definitions changes nothing for a running server.
 *  Hence a token change is applied with `workbench.mcp.stopServer` + `workbench.mcp.startServer`.
 */
import * as vscode from 'vscode';
import * as os from 'node:os';
import * as path from 'node:path';
import { TOKEN_TYPES, expiryState, type TokenMetadata, type TokenType } from '../../server/core/model';
import { formatReference, keyId, type TokenKey } from '../../server/core/reference';
import type { HttpServerEntry, ServerEntry } from '../../server/core/mcpConfig';
import type { Services } from '../services';
import type { AuditEntry, AuditLog } from './audit';
import { fingerprint, identityOf, type ConsentStore } from './consent';
import type { ServedServer, ServerFiles } from './files';
import { ResolveError, definitionVersion, needsOf, resolveEntry, resolveString, unresolvedText, type ResolvedLaunch, type VariableContext } from './resolve';
import { planToken, preRegisteredClient, type PreRegisteredClientValue } from './tokenPlan';

export const PROVIDER_ID = 'mcpTokens.servers';

export type CredentialState = 'ready' | 'token-missing' | 'expired' | 'consent-needed' | 'denied' | 'sign-in-needed' | 'untrusted';

export interface ServerStatus {
  readonly state: CredentialState;
  /** The tokens concerned by the state (missing, expired...). */
  readonly keys: TokenKey[];
}

/** Which server was last started with which tokens (to restart it when one changes). */
interface Launched {
  readonly keys: Set<string>;
}

export class McpRuntime implements vscode.McpServerDefinitionProvider<vscode.McpServerDefinition>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChangeMcpServerDefinitions = this.changed.event;
  private readonly disposables: vscode.Disposable[] = [this.changed];
  private readonly launched = new Map<string, Launched>();
  /** `${input:...}` values given this session, per file; never persisted. */
  private readonly inputValues = new Map<string, string>();

  constructor(
    private readonly s: Services,
    readonly files: ServerFiles,
    readonly consent: ConsentStore,
    readonly audit: AuditLog,
  ) {
    this.disposables.push(
      files.onDidChange(() => this.changed.fire()),
      vscode.workspace.onDidGrantWorkspaceTrust(() => this.changed.fire()),
      consent.onDidChange(() => this.changed.fire()),
      s.store.onDidChange((change) => {
        this.changed.fire();
        if (change.valueChanged && change.keys.length) void this.onTokensChanged(change.kind, change.keys);
      }),
    );
  }

  dispose(): void {
    for (const d of this.disposables) d.dispose();
  }

  /** The id VS Code gives a server of this provider (argument of `workbench.mcp.*Server`). */
  serverId(label: string): string {
    return `${this.s.context.extension.id.toLowerCase()}/${label}`;
  }

  /** Servers VS Code may see now: workspace-defined ones only in a trusted workspace. */
  served(): ServedServer[] {
    const trusted = vscode.workspace.isTrusted;
    return this.files.servers().filter((x) => trusted || x.file.scope === 'user');
  }

  // ---- provider -------------------------------------------------------------------------------

  async provideMcpServerDefinitions(): Promise<vscode.McpServerDefinition[]> {
    await this.files.ready();
    return this.served().map((x) => this.unresolvedDefinition(x));
  }

  private unresolvedDefinition({ label, entry }: ServedServer): vscode.McpServerDefinition {
    const version = definitionVersion(entry);
    if (entry.kind === 'http') {
      let uri: vscode.Uri;
      try {
        uri = vscode.Uri.parse(unresolvedText(entry.url), true);
      } catch {
        uri = vscode.Uri.parse('http://invalid.invalid/');
      }
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(entry.headers)) headers[k] = unresolvedText(v);
      return new vscode.McpHttpServerDefinition(label, uri, headers, version);
    }
    const env: Record<string, string | null> = {};
    for (const [k, v] of Object.entries(entry.env)) env[k] = v === null ? null : unresolvedText(v);
    return new vscode.McpStdioServerDefinition(label, unresolvedText(entry.command), entry.args.map(unresolvedText), env, version);
  }

  async resolveMcpServerDefinition(server: vscode.McpServerDefinition, token: vscode.CancellationToken): Promise<vscode.McpServerDefinition | undefined> {
    await this.files.ready();
    const served = this.files.servers().find((x) => x.label === server.label);
    if (!served) throw new Error(`The MCP server "${server.label}" is no longer defined in an MCP Tokens file.`);
    const launch = await this.resolveServed(served, token);
    return this.toDefinition(served, launch);
  }

  /** Resolves a server's launch (trust, consent, tokens, inputs), records the use, or throws. */
  async resolveServed(served: ServedServer, cancel?: vscode.CancellationToken): Promise<ResolvedLaunch> {
    const { label, entry, file } = served;
    const needs = needsOf(entry);
    const fileLabel = file.scope === 'user' ? file.uri.fsPath : vscode.workspace.asRelativePath(file.uri);
    const audit = (key: TokenKey, outcome: AuditEntry['outcome'], detail?: string): AuditEntry => ({
      time: new Date().toISOString(),
      reference: formatReference(key),
      server: label,
      file: fileLabel,
      outcome,
      detail,
    });
    const fail = async (outcome: AuditEntry['outcome'], message: string, keys: TokenKey[] = needs.tokens): Promise<never> => {
      this.launched.delete(label);
      if (keys.length) await this.audit.append(...keys.map((k) => audit(k, outcome))).catch(() => undefined);
      this.s.log.warn(`MCP server "${label}" not started: ${message}`);
      throw new Error(message);
    };

    if (file.scope === 'workspace' && !vscode.workspace.isTrusted) {
      return fail('untrusted', `The MCP server "${label}" is defined by the workspace, which is not trusted; no token is given to it.`);
    }

    // Consent, for every token at once.
    const identity = identityOf(file.uri.toString(), entry);
    const fp = fingerprint(identity);
    const denied = needs.tokens.filter((k) => this.consent.decision(k, fp) === 'deny');
    if (denied.length) return fail('denied', `You denied the MCP server "${label}" the use of ${denied.map((k) => formatReference(k)).join(', ')}.`, denied);
    const ask = needs.tokens.filter((k) => this.consent.decision(k, fp) === undefined);
    if (ask.length) {
      const choice = await askConsent(label, entry, fileLabel, ask);
      if (choice === 'deny' || choice === undefined) {
        if (choice === 'deny') for (const k of ask) await this.consent.record(k, identity, 'deny');
        return fail('denied', `The MCP server "${label}" was not allowed to use ${ask.map((k) => formatReference(k)).join(', ')}.`, ask);
      }
      if (choice === 'always') for (const k of ask) await this.consent.record(k, identity, 'always');
    }

    // Tokens: present, fresh (OAuth), and their values. The entry's OAuth client secret, if any, is
    // first in `needs.tokens`, so its value is known before an OAuth token of the server needs a sign-in.
    await this.s.store.ready();
    const values = new Map<string, string>();
    const ctx: VariableContext = { workspaceFolder: file.folder?.uri.fsPath, userHome: os.homedir(), pathSeparator: path.sep, env: process.env };
    for (const key of needs.tokens) {
      if (cancel?.isCancellationRequested) return fail('failed', 'The start was cancelled.');
      const ref = formatReference(key);
      const plan = (meta: TokenMetadata | undefined) =>
        planToken({ key, meta, serverUrl: entry.kind === 'http' ? serverUrlOf(entry, ctx) : undefined, oauthAvailable: !!this.s.oauth, now: new Date() });
      let meta = this.s.store.get(key);
      let step = plan(meta);
      if (step.kind === 'offer-set') {
        meta = await this.offerToSet(label, key);
        if (!meta) return fail('missing', `The MCP server "${label}" needs the token ${ref}, which is not stored. Set it with "MCP Tokens: Set Token".`, [key]);
        step = plan(meta);
      }
      if (step.kind === 'fail' || step.kind === 'offer-set') {
        return fail(
          'failed',
          step.kind === 'fail' && step.reason === 'no-url'
            ? `The OAuth token ${ref} used by "${label}" needs a new sign-in, and no server URL is known for it; sign in with "MCP Tokens: Sign In to Server…".`
            : `The OAuth token ${ref} needs a new sign-in before "${label}" can use it.`,
          [key],
        );
      }
      if (step.kind === 'oauth') {
        let preRegistered: PreRegisteredClientValue | undefined;
        try {
          preRegistered = preRegisteredClient(entry, (k) => values.get(keyId(k)));
        } catch (e) {
          return fail('missing', e instanceof Error ? e.message : String(e), [key]);
        }
        const ok = await this.s.oauth!.ensureFresh(key, { name: label, url: step.url, preRegistered });
        if (!ok) {
          return step.signIn && !meta
            ? fail('missing', `The MCP server "${label}" needs the OAuth token ${ref}, which is not signed in; the sign-in was declined or failed. Sign in with "MCP Tokens: Sign In to Server…" or start the server again.`, [key])
            : fail('failed', `The MCP server "${label}" needs a signed-in OAuth token ${ref}; sign-in was cancelled or failed.`, [key]);
        }
      } else if (step.expired) {
        void vscode.window.showWarningMessage(`The token ${ref} used by the MCP server "${label}" has expired; the server may reject it.`);
      }
      const value = await this.s.store.getValue(key);
      if (value === undefined) return fail('missing', `The value of the token ${ref} is missing from its backend.`, [key]);
      values.set(keyId(key), value);
    }

    // Inputs.
    const inputs = new Map<string, string>();
    for (const id of needs.inputs) {
      const v = await this.inputValue(served, id);
      if (v === undefined) return fail('failed', `No value was given for the input "${id}" of the MCP server "${label}".`);
      inputs.set(id, v);
    }

    let launch: ResolvedLaunch;
    try {
      launch = resolveEntry(entry, ctx, { token: (k) => values.get(keyId(k)), input: (id) => inputs.get(id) });
    } catch (e) {
      return fail('failed', e instanceof ResolveError ? `The MCP server "${label}" cannot be started: ${e.message}` : String(e));
    }
    for (const key of needs.tokens) await this.s.store.markUsed(key);
    if (needs.tokens.length) await this.audit.append(...needs.tokens.map((k) => audit(k, 'used'))).catch((e) => this.s.log.warn(`Could not write the audit log: ${String(e)}`));
    this.launched.set(label, { keys: new Set(needs.tokens.map(keyId)) });
    this.s.log.info(`Resolved MCP server "${label}" with ${needs.tokens.map((k) => formatReference(k)).join(', ') || 'no tokens'}.`);
    return launch;
  }

  private toDefinition({ label, entry, file }: ServedServer, launch: ResolvedLaunch): vscode.McpServerDefinition {
    const version = definitionVersion(entry);
    if (launch.kind === 'http') return new vscode.McpHttpServerDefinition(label, vscode.Uri.parse(launch.url, true), launch.headers, version);
    const def = new vscode.McpStdioServerDefinition(label, launch.command, launch.args, launch.env, version);
    if (launch.cwd) def.cwd = path.isAbsolute(launch.cwd) || !file.folder ? vscode.Uri.file(launch.cwd) : vscode.Uri.joinPath(file.folder.uri, launch.cwd);
    else if (file.folder) def.cwd = file.folder.uri;
    return def;
  }

  private async offerToSet(label: string, key: TokenKey) {
    const set = 'Set Token…';
    const choice = await vscode.window.showWarningMessage(
      `The MCP server "${label}" needs the token ${formatReference(key)}, which is not stored.`,
      { modal: true, detail: 'Set it now to start the server, or cancel.' },
      set,
    );
    if (choice !== set) return undefined;
    const type: TokenType | undefined = (TOKEN_TYPES as readonly string[]).includes(key.namespace) ? (key.namespace as TokenType) : undefined;
    await vscode.commands.executeCommand('mcpTokens.setToken', { namespace: key.namespace, name: key.name, ...(type ? { type } : {}) });
    return this.s.store.get(key);
  }

  private async inputValue({ label, file }: ServedServer, id: string): Promise<string | undefined> {
    const cacheKey = `${file.uri.toString()}#${id}`;
    const cached = this.inputValues.get(cacheKey);
    if (cached !== undefined) return cached;
    const def = file.parsed.inputs.find((i) => i.id === id);
    if (!def) throw new Error(`The MCP server "${label}" uses \${input:${id}}, which is not defined in "inputs".`);
    const value =
      def.type === 'promptString'
        ? await vscode.window.showInputBox({ title: `MCP server "${label}"`, prompt: def.description ?? id, password: def.password, value: def.password ? undefined : def.default, ignoreFocusOut: true })
        : await vscode.window.showQuickPick([...def.options], { title: `MCP server "${label}"`, placeHolder: def.description ?? id, ignoreFocusOut: true });
    // Kept in memory for this window only: never written anywhere, password or not.
    if (value !== undefined) this.inputValues.set(cacheKey, value);
    return value;
  }

  // ---- state (for the Servers view) -----------------------------------------------------------

  status(served: ServedServer): ServerStatus {
    if (served.file.scope === 'workspace' && !vscode.workspace.isTrusted) return { state: 'untrusted', keys: [] };
    const { tokens } = needsOf(served.entry);
    const missing = tokens.filter((k) => !this.s.store.has(k));
    if (missing.length) {
      // A missing OAuth token of an HTTP server is obtained by signing in when the server starts.
      const url = served.entry.kind === 'http' ? served.entry.url : undefined;
      const toSet = missing.filter((key) => planToken({ key, meta: undefined, serverUrl: url, oauthAvailable: !!this.s.oauth, now: new Date() }).kind !== 'oauth');
      return toSet.length ? { state: 'token-missing', keys: toSet } : { state: 'sign-in-needed', keys: missing };
    }
    const signIn = tokens.filter((k) => this.s.store.get(k)?.oauth?.signInRequired);
    if (signIn.length) return { state: 'sign-in-needed', keys: signIn };
    const now = new Date();
    const expired = tokens.filter((k) => {
      const meta = this.s.store.get(k)!;
      return meta.type !== 'oauth' && expiryState(meta, now, 0) === 'expired';
    });
    if (expired.length) return { state: 'expired', keys: expired };
    const fp = fingerprint(identityOf(served.file.uri.toString(), served.entry));
    const denied = tokens.filter((k) => this.consent.decision(k, fp) === 'deny');
    if (denied.length) return { state: 'denied', keys: denied };
    const ask = tokens.filter((k) => this.consent.decision(k, fp) === undefined);
    if (ask.length) return { state: 'consent-needed', keys: ask };
    return { state: 'ready', keys: [] };
  }

  // ---- restarts ------------------------------------------------------------------------------

  private async onTokensChanged(kind: string, keys: readonly TokenKey[]): Promise<void> {
    const ids = new Set(keys.map(keyId));
    const affected = [...this.launched.entries()].filter(([, l]) => [...l.keys].some((k) => ids.has(k))).map(([label]) => label);
    if (affected.length === 0) return;
    const deleted = kind === 'delete';
    const setting = this.s.config.serversRestartOnTokenChange();
    if (setting === 'never') return;
    if (setting === 'ask') {
      const action = deleted ? 'Stop' : 'Restart';
      const choice = await vscode.window.showInformationMessage(
        `${keys.map((k) => formatReference(k)).join(', ')} ${deleted ? 'was deleted' : 'changed'}. ${action} the MCP server${affected.length > 1 ? 's' : ''} using it (${affected.map((l) => `"${l}"`).join(', ')})?`,
        action,
      );
      if (choice !== action) return;
    }
    for (const label of affected) {
      this.launched.delete(label);
      const id = this.serverId(label);
      try {
        await vscode.commands.executeCommand('workbench.mcp.stopServer', id);
        if (!deleted) await vscode.commands.executeCommand('workbench.mcp.startServer', id);
        this.s.log.info(`${deleted ? 'Stopped' : 'Restarted'} MCP server "${label}" after a token change.`);
      } catch (e) {
        this.s.log.warn(`Could not ${deleted ? 'stop' : 'restart'} MCP server "${label}": ${e instanceof Error ? e.message : String(e)}`);
      }
    }
  }
}

/**
 * The HTTP server's URL with its variables filled in: the MCP resource an OAuth sign-in is for (it is
 * kept in the token's metadata). Undefined when it holds a token reference (a value must never land
 * in metadata) or cannot be resolved.
 */
function serverUrlOf(entry: HttpServerEntry, ctx: VariableContext): string | undefined {
  const problems: string[] = [];
  const url = resolveString(entry.url, 'url', ctx, { token: () => undefined, input: () => undefined }, problems);
  if (problems.length) return undefined;
  try {
    const u = new URL(url);
    return u.protocol === 'http:' || u.protocol === 'https:' ? url : undefined;
  } catch {
    return undefined;
  }
}

async function askConsent(label: string, entry: ServerEntry, file: string, keys: TokenKey[]): Promise<'once' | 'always' | 'deny' | undefined> {
  const target = entry.kind === 'http' ? `sends requests to ${identityOf(file, entry).target}` : `runs ${[entry.command, ...entry.args].join(' ')}`;
  const once = 'Allow Once';
  const always = 'Always Allow';
  const deny = 'Deny';
  const choice = await vscode.window.showWarningMessage(
    `Allow the MCP server "${label}" to use ${keys.map((k) => formatReference(k)).join(', ')}?`,
    {
      modal: true,
      detail: `Defined in ${file}, it ${target}. The token value is handed to this server at each start. "Always Allow" is remembered for this server until you revoke it under the token in the Tokens view; a changed command or URL asks again.`,
    },
    once,
    always,
    deny,
  );
  return choice === once ? 'once' : choice === always ? 'always' : choice === deny ? 'deny' : undefined;
}
