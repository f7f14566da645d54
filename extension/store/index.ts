/** Builds the TokenStore with every backend available in this window. */
import * as vscode from 'vscode';
import type { Config } from '../config';
import type { SecretBackend } from './backend';
import { SecretStorageBackend, SecretStorageIndex } from './secretStorageBackend';
import { TokenStore } from './tokenStore';

export function createTokenStore(context: vscode.ExtensionContext, config: Config, log: vscode.LogOutputChannel): TokenStore {
  const secretStorage = new SecretStorageBackend(context.secrets);
  const index = new SecretStorageIndex(context.secrets);
  const backends: SecretBackend[] = [secretStorage];
  const store = new TokenStore({
    backends,
    index,
    backendFor: (ns) => config.backendFor(ns),
    log: (level, message) => log[level](message),
  });
  context.subscriptions.push(secretStorage, index, store);
  return store;
}
