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
import { readFileSync, realpathSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { typeFromNamespace } from '../../server/core/model';
import { formatReference, keyId, type TokenKey } from '../../server/core/reference';
import { errorText } from '../platform/commandInput';

import type { Services } from '../services';
import { fingerprint, identityOf, type ConsentStore, type ServerIdentity } from './consent';
import { parseEnvFile } from './envFile';
import type { ServedServer, ServerFile, ServerFiles } from './files';
import { ResolveError, definitionVersion, finishLaunch, needsOf, placeholderText, planLaunch, unresolvedText, type LaunchPlan, type ResolvedLaunch, type VariableContext } from './resolve';
import { preRegisteredClient } from './tokenPlan';
import { assessServer, trustAllows, type Assessment } from './assess';
import type { PreRegisteredClient } from '../../server/core/oauthClient';
import { consentModal } from './consentPrompt';

export const PROVIDER_ID = 'mcpTokens.servers';

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
    return this.files.servers().filter((x) => trustAllows(x.file.scope, trusted));
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
    if (!served) throw new Error(vscode.l10n.t('The MCP server "{0}" is no longer defined in an MCP Tokens file.', server.label));
    const launch = await this.resolveServed(served, token);
    return this.toDefinition(served, launch);
  }

  /** Resolves a server's launch (trust, consent, tokens, inputs), records the use, or throws. */
  async resolveServed(served: ServedServer, cancel?: vscode.CancellationToken): Promise<ResolvedLaunch> {
    const { label, entry, file } = served;
    const needs = needsOf(entry);
    const fileLabel = file.scope === 'user' ? file.uri.fsPath : vscode.workspace.asRelativePath(file.uri);
    // One launch event per resolution: the tokens, the server and its file, the outcome (never a value).
    type LaunchFailure = 'denied' | 'missing' | 'untrusted' | 'failed';
    const audit = (keys: readonly TokenKey[], outcome: 'ok' | LaunchFailure, reason?: string) =>
      this.s.audit.record({
        kind: 'launch',
        tokens: keys,
        actor: { server: label, file: fileLabel },
        outcome: outcome === 'ok' || outcome === 'denied' ? outcome : 'failed',
        reason: outcome === 'missing' || outcome === 'untrusted' ? `${outcome}: ${reason ?? ''}` : reason,
      });
    const fail = async (outcome: LaunchFailure, message: string, keys: readonly TokenKey[] = needs.tokens): Promise<never> => {
      this.launched.delete(label);
      if (keys.length) audit(keys, outcome, message);
      this.s.log.warn(`MCP server "${label}" not started: ${message}`);
      throw new Error(message);
    };

    if (!trustAllows(file.scope, vscode.workspace.isTrusted)) {
      return fail('untrusted', vscode.l10n.t('The MCP server "{0}" is defined by the workspace, which is not trusted; no token is given to it.', label));
    }

    // Inputs first: the consent covers the launch with their values filled in.
    const inputs = new Map<string, string>();
    for (const id of needs.inputs) {
      const v = await this.inputValue(served, id);
      if (v === undefined) return fail('failed', vscode.l10n.t('No value was given for the input "{0}" of the MCP server "{1}".', id, label));
      inputs.set(id, v);
    }

    // The launch as it will run, tokens still placeholders: what consent is asked and remembered for.
    let prepared: PreparedLaunch;
    try {
      prepared = this.prepare(served, (id) => inputs.get(id));
    } catch (e) {
      return fail('failed', e instanceof ResolveError ? cannotStart(label, e) : String(e));
    }
    const { plan, identity, envFileVars } = prepared;

    // Consent, for every token at once.
    const fp = fingerprint(identity);
    const serverUrl = serverUrlOf(plan);
    const assess = () => this.assess(served, { fp, serverUrl });
    const { denied, ask } = assess();
    if (denied.length) return fail('denied', vscode.l10n.t('You denied the MCP server "{0}" the use of {1}.', label, denied.map((k) => formatReference(k)).join(', ')), denied);
    if (ask.length) {
      const choice = await askConsent(label, fileLabel, file, identity, ask);
      if (choice === 'deny' || choice === undefined) {
        if (choice === 'deny') for (const k of ask) await this.consent.record(k, identity, 'deny');
        return fail('denied', vscode.l10n.t('The MCP server "{0}" was not allowed to use {1}.', label, ask.map((k) => formatReference(k)).join(', ')), ask);
      }
      if (choice === 'always') for (const k of ask) await this.consent.record(k, identity, 'always');
    }

    // Tokens: present, fresh (OAuth), and their values. The entry's OAuth client secret, if any, is
    // first in `needs.tokens`, so its value is known before an OAuth token of the server needs a sign-in.
    await this.s.store.ready();
    const values = new Map<string, string>();
    // Each token's step is worked out when its turn comes (an earlier one may have been set meanwhile).
    const current = (key: TokenKey) => assess().tokens.find((t) => keyId(t.key) === keyId(key))!;
    for (const key of needs.tokens) {
      if (cancel?.isCancellationRequested) return fail('failed', vscode.l10n.t('The start was cancelled.'));
      const ref = formatReference(key);
      let { meta, step } = current(key);
      if (step.kind === 'offer-set') {
        if (!(await this.offerToSet(label, key))) return fail('missing', vscode.l10n.t('The MCP server "{0}" needs the token {1}, which is not stored. Set it with "MCP Tokens: Set Token".', label, ref), [key]);
        ({ meta, step } = current(key));
      }
      if (step.kind === 'fail' || step.kind === 'offer-set') {
        return fail(
          'failed',
          step.kind === 'fail' && step.reason === 'no-url'
            ? vscode.l10n.t('The OAuth token {0} used by "{1}" needs a new sign-in, and no server URL is known for it; sign in with "MCP Tokens: Sign In to Server…".', ref, label)
            : vscode.l10n.t('The OAuth token {0} needs a new sign-in before "{1}" can use it.', ref, label),
          [key],
        );
      }
      if (step.kind === 'oauth') {
        let preRegistered: PreRegisteredClient | undefined;
        try {
          preRegistered = preRegisteredClient(entry, (k) => values.get(keyId(k)));
        } catch (e) {
          return fail('missing', errorText(e), [key]);
        }
        const ok = await this.s.oauth.ensureFresh(key, { name: label, url: step.url, preRegistered });
        if (!ok) {
          return step.signIn && !meta
            ? fail(
                'missing',
                vscode.l10n.t('The MCP server "{0}" needs the OAuth token {1}, which is not signed in; the sign-in was declined or failed. Sign in with "MCP Tokens: Sign In to Server…" or start the server again.', label, ref),
                [key],
              )
            : fail('failed', vscode.l10n.t('The MCP server "{0}" needs a signed-in OAuth token {1}; sign-in was cancelled or failed.', label, ref), [key]);
        }
      } else if (step.expired) {
        void vscode.window.showWarningMessage(vscode.l10n.t('The token {0} used by the MCP server "{1}" has expired; the server may reject it.', ref, label));
      }
      const value = await this.s.store.getValue(key);
      if (value === undefined) return fail('missing', vscode.l10n.t('The value of the token {0} is missing from its backend.', ref), [key]);
      values.set(keyId(key), value);
    }

    let launch: ResolvedLaunch;
    try {
      launch = finishLaunch(plan, (k) => values.get(keyId(k)), envFileVars);
    } catch (e) {
      return fail('failed', e instanceof ResolveError ? cannotStart(label, e) : String(e));
    }
    // The bookkeeping (last used, the audit event) is done after the launch is handed over: the
    // start waits for the token reads only (test/bench/runtime.bench.ts); `record` never waits.
    const used = [...needs.tokens];
    if (used.length) audit(used, 'ok');
    void (async () => {
      for (const key of used) await this.s.store.markUsed(key);
    })().catch((e) => this.s.log.warn(`Could not record the last use: ${String(e)}`));
    this.launched.set(label, { keys: new Set(needs.tokens.map(keyId)) });
    this.s.log.info(`Resolved MCP server "${label}" with ${needs.tokens.map((k) => formatReference(k)).join(', ') || 'no tokens'}.`);
    return launch;
  }

  private toDefinition({ label, entry }: ServedServer, launch: ResolvedLaunch): vscode.McpServerDefinition {
    const version = definitionVersion(entry);
    if (launch.kind === 'http') return new vscode.McpHttpServerDefinition(label, vscode.Uri.parse(launch.url, true), launch.headers, version);
    const def = new vscode.McpStdioServerDefinition(label, launch.command, launch.args, launch.env, version);
    // Always set (finishLaunch gives the effective directory), so VS Code never picks a folder itself.
    if (launch.cwd) def.cwd = vscode.Uri.file(launch.cwd);
    return def;
  }

  /**
   * The launch plan of a server and the identity consent is asked for, with the inputs `input`
   * gives. Reads the entry's envFile (once: the same text is hashed and launched). Synchronous, so
   * the Servers view can use it too. Throws ResolveError naming the problem, never a value.
   */
  private prepare({ entry, file }: ServedServer, input: (id: string) => string | undefined): PreparedLaunch {
    const secret = new Set(file.parsed.inputs.filter((i) => i.type === 'promptString' && i.password).map((i) => i.id));
    const plan = planLaunch(entry, variablesOf(file), { input, isSecretInput: (id) => secret.has(id) }, baseDirOf(file));
    let envFileText: string | undefined;
    if (plan.kind === 'stdio' && plan.envFile !== undefined) {
      try {
        envFileText = readFileSync(plan.envFile, 'utf8');
      } catch {
        throw new ResolveError([`envFile: cannot read ${plan.envFile}.`]);
      }
    }
    const identity = identityOf({ file: realPathOf(file.uri), server: entry.name }, plan, envFileText);
    return { plan, identity, envFileVars: envFileText === undefined ? {} : parseEnvFile(envFileText) };
  }

  private async offerToSet(label: string, key: TokenKey) {
    const set = vscode.l10n.t('Set Token…');
    const choice = await vscode.window.showWarningMessage(
      vscode.l10n.t('The MCP server "{0}" needs the token {1}, which is not stored.', label, formatReference(key)),
      { modal: true, detail: vscode.l10n.t('Set it now to start the server, or cancel.') },
      set,
    );
    if (choice !== set) return undefined;
    const type = typeFromNamespace(key.namespace);
    await vscode.commands.executeCommand('mcpTokens.setToken', { namespace: key.namespace, name: key.name, ...(type ? { type } : {}) });
    return this.s.store.get(key);
  }

  /** The value given for `${input:id}` of `file` this session, if any (never persisted). */
  private cachedInput(file: ServerFile, id: string): string | undefined {
    return this.inputValues.get(`${file.uri.toString()}#${id}`);
  }

  private async inputValue({ label, file }: ServedServer, id: string): Promise<string | undefined> {
    const cacheKey = `${file.uri.toString()}#${id}`;
    const cached = this.inputValues.get(cacheKey);
    if (cached !== undefined) return cached;
    const def = file.parsed.inputs.find((i) => i.id === id);
    if (!def) throw new Error(vscode.l10n.t('The MCP server "{0}" uses {1}, which is not defined in "inputs".', label, `\${input:${id}}`));
    const title = vscode.l10n.t('MCP server "{0}"', label);
    const value =
      def.type === 'promptString'
        ? await vscode.window.showInputBox({ title, prompt: def.description ?? id, password: def.password, value: def.password ? undefined : def.default, ignoreFocusOut: true })
        : await vscode.window.showQuickPick([...def.options], { title, placeHolder: def.description ?? id, ignoreFocusOut: true });
    // Kept in memory for this window only: never written anywhere, password or not.
    if (value !== undefined) this.inputValues.set(cacheKey, value);
    return value;
  }

  // ---- state (for the Servers view) -----------------------------------------------------------

  /**
   * The readiness of a server now (assess.ts). `launch`: the fingerprint of the launch a start asks
   * consent for and its resolved URL; without it, the launch as this session's inputs give it (not
   * known when an input was not given yet or its envFile cannot be read) and the URL as written.
   */
  assess(served: ServedServer, launch?: { readonly fp: string; readonly serverUrl: string | undefined }): Assessment {
    const { entry, file } = served;
    const tokens = needsOf(entry).tokens;
    const trusted = vscode.workspace.isTrusted;
    let fp = launch?.fp;
    if (!launch && tokens.length && trustAllows(file.scope, trusted)) {
      try {
        fp = fingerprint(this.prepare(served, (id) => this.cachedInput(file, id)).identity);
      } catch {
        fp = undefined;
      }
    }
    return assessServer({
      scope: file.scope,
      workspaceTrusted: trusted,
      tokens,
      meta: (k) => this.s.store.get(k),
      consent: fp === undefined ? undefined : (k) => this.consent.decision(k, fp),
      serverUrl: launch ? launch.serverUrl : entry.kind === 'http' ? entry.url : undefined,
      oauthAvailable: true,
      now: new Date(),
    });
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
      const action = deleted ? vscode.l10n.t('Stop') : vscode.l10n.t('Restart');
      const refs = keys.map((k) => formatReference(k)).join(', ');
      const servers = affected.map((l) => `"${l}"`).join(', ');
      const question = deleted
        ? affected.length > 1
          ? vscode.l10n.t('{0} was deleted. Stop the MCP servers using it ({1})?', refs, servers)
          : vscode.l10n.t('{0} was deleted. Stop the MCP server using it ({1})?', refs, servers)
        : affected.length > 1
          ? vscode.l10n.t('{0} changed. Restart the MCP servers using it ({1})?', refs, servers)
          : vscode.l10n.t('{0} changed. Restart the MCP server using it ({1})?', refs, servers);
      const choice = await vscode.window.showInformationMessage(question, action);
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
        this.s.log.warn(`Could not ${deleted ? 'stop' : 'restart'} MCP server "${label}": ${errorText(e)}`);
      }
    }
  }
}

/** What `prepare` gives: the plan, the identity consent is asked for, the envFile's variables. */
interface PreparedLaunch {
  readonly plan: LaunchPlan;
  readonly identity: ServerIdentity;
  readonly envFileVars: Readonly<Record<string, string>>;
}

/** The values of `${workspaceFolder}` & co. for a file: a user-level file names the first workspace folder, only where it says so. */
function variablesOf(file: ServerFile): VariableContext {
  const folder = file.folder ?? vscode.workspace.workspaceFolders?.[0];
  return { workspaceFolder: folder?.uri.fsPath, userHome: os.homedir(), pathSeparator: path.sep, env: process.env };
}

/**
 * Where a server runs when its `cwd` is absent or relative: the workspace folder of a workspace
 * file, the user's home for a user-level one (never the folder that happens to be open, where a
 * cloned repository's local packages would shadow the command the user allowed).
 */
function baseDirOf(file: ServerFile): string {
  return file.scope === 'workspace' && file.folder ? file.folder.uri.fsPath : os.homedir();
}

/** The file's real path (symlinks resolved), so a link cannot borrow the consent of the file it points to. */
function realPathOf(uri: vscode.Uri): string {
  if (uri.scheme !== 'file') return uri.toString();
  try {
    return realpathSync(uri.fsPath);
  } catch {
    return uri.fsPath;
  }
}

/**
 * The HTTP server's URL with its variables and inputs filled in: the MCP resource an OAuth sign-in
 * is for (it is kept in the token's metadata). Undefined when it holds a token reference or a
 * password input (a secret must never land in metadata) or is not an http(s) URL.
 */
function serverUrlOf(plan: LaunchPlan): string | undefined {
  if (plan.kind !== 'http' || plan.url.some((p) => p.kind !== 'text')) return undefined;
  const url = placeholderText(plan.url);
  try {
    const u = new URL(url);
    return u.protocol === 'http:' || u.protocol === 'https:' ? url : undefined;
  } catch {
    return undefined;
  }
}

/** "The MCP server "x" cannot be started: <the resolver's reason>". */
function cannotStart(label: string, e: ResolveError): string {
  return vscode.l10n.t('The MCP server "{0}" cannot be started: {1}', label, e.message);
}

/** The consent modal: shows the launch as it will run (identity.target), never a value. */
function askConsent(label: string, fileLabel: string, file: ServerFile, identity: ServerIdentity, keys: readonly TokenKey[]): Promise<'once' | 'always' | 'deny' | undefined> {
  const linked = file.uri.scheme === 'file' && identity.file !== file.uri.fsPath;
  return consentModal(vscode.l10n.t('Allow the MCP server "{0}" to use {1}?', label, keys.map((k) => formatReference(k)).join(', ')), (always) =>
    [
      [linked ? vscode.l10n.t('Defined in {0} (a link to {1}).', fileLabel, identity.file) : vscode.l10n.t('Defined in {0}.', fileLabel), identity.target].join('\n'),
      vscode.l10n.t(
        'The token value is handed to exactly this launch at each start. "{0}" is remembered until you revoke it under the token in the Tokens view; any change to the command, arguments, directory, environment, environment file, URL or headers asks again.',
        always,
      ),
    ].join('\n\n'),
  );
}
