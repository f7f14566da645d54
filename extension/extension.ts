/**
 * Entry point. `activate` only wires: it builds the store and what features offer each other, then
 * `Services` once (never changed afterwards), then registers each feature; every feature pushes its
 * disposables to `context.subscriptions`.
 *
 * It waits for nothing: loading the token index and the backends' discovery (up to 3 s) start here
 * and go on after `activate` returns; every command, view and the MCP provider that reads the store
 * awaits `store.ready()` itself, and the language client starts in the background and pushes the
 * token metadata once the store is ready. The time `activate` took is returned as the extension's
 * exports (`activationMs`, measured with `performance.now()`), which the end-to-end benchmark reads
 * (test/bench/vscode.bench.ts; target: at most 50 ms on a cold start).
 */
import './zodSetup'; // first: before any module builds a schema
import * as vscode from 'vscode';
import { config } from './config';
import type { CoreServices, Services } from './services';
import { createTokenStore } from './backends';
import { Gate } from './platform/gate';
import { createAuditTrail, registerAuditLog } from './audit';
import { errorText } from './platform/commandInput';
import { registerTokenCommands } from './tokens/commands';
import { TokensView, registerTokensView } from './tokens/view';
import { registerExpiryWatch } from './tokens/expiryWatch';
import { registerHistoryCommands } from './tokens/history';
import { registerBackendCommands } from './backends/commands';
import { registerBackendsView } from './backends/view';
import { registerMcpRuntime } from './runtime';
import { createOAuth, registerOAuth } from './oauth';
import { registerLanguageClient } from './language/client';
import { registerLauncher } from './launcher';
import { registerVerify } from './verify';

/** What `activate` returns (the extension's `exports`): figures only, never a value or the store. */
export interface ActivationFigures {
  /** Milliseconds from entering `activate` until it returned. */
  readonly activationMs: number;
  /** Milliseconds each step of `activate` took, in order. */
  readonly phases: Readonly<Record<string, number>>;
}

export function activate(context: vscode.ExtensionContext): ActivationFigures {
  const started = performance.now();
  const phases: Record<string, number> = {};
  let mark = started;
  const phase = (name: string) => {
    const now = performance.now();
    phases[name] = now - mark;
    mark = now;
  };
  const log = vscode.window.createOutputChannel('MCP Tokens', { log: true });
  context.subscriptions.push(log);
  const store = createTokenStore(context, config, log);
  const audit = createAuditTrail(context, log);
  const core: CoreServices = { context, store, config, log, gate: new Gate(store, log, audit, context.globalState), audit };
  phase('store');
  const oauth = createOAuth(core);
  const tokensView = new TokensView(core);
  const services: Services = { ...core, oauth: oauth.hooks, tokensView };
  registerTokenCommands(services);
  registerTokensView(services, tokensView);
  registerExpiryWatch(services);
  registerHistoryCommands(services);
  registerAuditLog(services);
  phase('tokens');
  registerBackendCommands(services);
  registerBackendsView(services);
  phase('backends');
  registerOAuth(services, oauth);
  phase('oauth');
  registerVerify(services);
  const { launcherAccess } = registerMcpRuntime(services);
  registerLauncher(services, launcherAccess);
  phase('runtime');
  registerLanguageClient(services);
  void store.ready().catch((e) => log.error(`Could not load the token index: ${errorText(e)}`));
  phase('language');
  const activationMs = performance.now() - started;
  log.info(`Activated in ${activationMs.toFixed(1)} ms (${Object.entries(phases).map(([k, v]) => `${k} ${v.toFixed(1)}`).join(', ')}).`);
  return Object.freeze({ activationMs, phases: Object.freeze(phases) });
}

export function deactivate(): void {
  // Everything is disposed through context.subscriptions.
}
