/**
 * Entry point. `activate` only wires: it builds the store and registers each feature; every
 * feature pushes its disposables to `context.subscriptions`.
 */
import './zodSetup'; // first: before any module builds a schema
import * as vscode from 'vscode';
import { config } from './config';
import type { Services } from './services';
import { createTokenStore } from './store';
import { Gate } from './platform/gate';
import { registerTokenCommands } from './commands/tokenCommands';
import { registerTokensView } from './views/tokensView';
import { registerExpiryWatch } from './views/expiryWatch';
import { registerBackendCommands } from './commands/backendCommands';
import { registerBackendsView } from './views/backendsView';
import { registerMcpRuntime } from './runtime';
import { registerOAuth } from './oauth';
import { registerLanguageClient } from './languageClient';

export async function activate(context: vscode.ExtensionContext): Promise<void> {
  const log = vscode.window.createOutputChannel('MCP Tokens', { log: true });
  context.subscriptions.push(log);
  const store = createTokenStore(context, config, log);
  const services: Services = { context, store, config, log, gate: new Gate(store, log) };
  registerTokenCommands(services);
  registerTokensView(services);
  registerExpiryWatch(services);
  registerBackendCommands(services);
  registerBackendsView(services);
  registerOAuth(services);
  registerMcpRuntime(services);
  registerLanguageClient(services);
  await store.ready().catch((e) => log.error(`Could not load the token index: ${e instanceof Error ? e.message : String(e)}`));
}

export function deactivate(): void {
  // Everything is disposed through context.subscriptions.
}
