/**
 * Entry point. `activate` only wires: it builds the store and what features offer each other, then
 * `Services` once (never changed afterwards), then registers each feature; every feature pushes its
 * disposables to `context.subscriptions`.
 */
import './zodSetup'; // first: before any module builds a schema
import * as vscode from 'vscode';
import { config } from './config';
import type { CoreServices, Services } from './services';
import { createTokenStore } from './backends';
import { Gate } from './platform/gate';
import { errorText } from './platform/commandInput';
import { registerTokenCommands } from './tokens/commands';
import { TokensView, registerTokensView } from './tokens/view';
import { registerExpiryWatch } from './tokens/expiryWatch';
import { registerBackendCommands } from './backends/commands';
import { registerBackendsView } from './backends/view';
import { registerMcpRuntime } from './runtime';
import { createOAuth, registerOAuth } from './oauth';
import { registerLanguageClient } from './language/client';
import { registerLauncher } from './launcher';
import { registerVerify } from './verify';

export async function activate(context: vscode.ExtensionContext): Promise<void> {
  const log = vscode.window.createOutputChannel('MCP Tokens', { log: true });
  context.subscriptions.push(log);
  const store = createTokenStore(context, config, log);
  const core: CoreServices = { context, store, config, log, gate: new Gate(store, log, context.globalState) };
  const oauth = createOAuth(core);
  const tokensView = new TokensView(core);
  const services: Services = { ...core, oauth: oauth.hooks, tokensView };
  registerTokenCommands(services);
  registerTokensView(services, tokensView);
  registerExpiryWatch(services);
  registerBackendCommands(services);
  registerBackendsView(services);
  registerOAuth(services, oauth);
  registerVerify(services);
  const { launcherAccess } = registerMcpRuntime(services);
  registerLauncher(services, launcherAccess);
  registerLanguageClient(services);
  await store.ready().catch((e) => log.error(`Could not load the token index: ${errorText(e)}`));
}

export function deactivate(): void {
  // Everything is disposed through context.subscriptions.
}
