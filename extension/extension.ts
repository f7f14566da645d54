/**
 * Entry point. `activate` only wires: it builds the store and registers each feature; every
 * feature pushes its disposables to `context.subscriptions`.
 */
import './zodSetup'; // first: before any module builds a schema
import * as vscode from 'vscode';
import { config } from './config';
import type { Services } from './services';
import { createTokenStore } from './backends';
import { Gate } from './platform/gate';
import { registerTokenCommands } from './tokens/commands';
import { registerTokensView } from './tokens/view';
import { registerExpiryWatch } from './tokens/expiryWatch';
import { registerBackendCommands } from './backends/commands';
import { registerBackendsView } from './backends/view';
import { registerMcpRuntime } from './runtime';
import { registerOAuth } from './oauth';
import { registerLanguageClient } from './language/client';
import { registerVerify } from './verify';

export async function activate(context: vscode.ExtensionContext): Promise<void> {
  const log = vscode.window.createOutputChannel('MCP Tokens', { log: true });
  context.subscriptions.push(log);
  const store = createTokenStore(context, config, log);
  const services: Services = { context, store, config, log, gate: new Gate(store, log, context.globalState) };
  registerTokenCommands(services);
  registerTokensView(services);
  registerExpiryWatch(services);
  registerBackendCommands(services);
  registerBackendsView(services);
  registerOAuth(services);
  registerVerify(services);
  registerMcpRuntime(services);
  registerLanguageClient(services);
  await store.ready().catch((e) => log.error(`Could not load the token index: ${e instanceof Error ? e.message : String(e)}`));
}

export function deactivate(): void {
  // Everything is disposed through context.subscriptions.
}
