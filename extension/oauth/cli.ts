#!/usr/bin/env node
/**
 * mcp-tokens-oauth-cli: connects to an MCP server over Streamable HTTP with this extension's OAuth
 * code (the same discovery, registration, PKCE, loopback redirect, token exchange, step-up and refresh
 * as the extension), lists its tools and optionally calls one. Tokens are kept in memory only.
 *
 *   mcp-tokens-oauth-cli [--call <tool>] [--client-id <id>] [--client-secret-env <VAR>]
 *                        [--client-metadata-url <https url>] [--browser headless|print] <server-url>
 *
 * `--browser headless` (the default) follows the authorization redirects itself instead of opening a
 * browser, for authorization servers that approve without a user (the conformance suite's);
 * `--browser print` prints the URL for you to open. The conformance suite's scenario context
 * (MCP_CONFORMANCE_CONTEXT with client_id and client_secret) is read as a pre-registered client.
 * Exit code 0 on success, 1 on failure (the reason on stderr, never a secret).
 */
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { FetchLike } from '@modelcontextprotocol/sdk/shared/transport.js';
import { LATEST_PROTOCOL_VERSION } from '@modelcontextprotocol/sdk/types.js';
import { createAuthFetch } from './authFetch';
import { safeMessage } from './errors';
import { headlessBrowser } from './headless';
import type { PreRegisteredClient } from '../../server/core/oauthClient';
import { OAuthManager, type OAuthUi } from './manager';
import { createMemoryTokenStore } from '../store/memoryStore';

const contextSchema = z.object({ client_id: z.string().min(1), client_secret: z.string().optional() }).loose();

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      call: { type: 'string' },
      'client-id': { type: 'string' },
      'client-secret-env': { type: 'string' },
      'client-metadata-url': { type: 'string' },
      browser: { type: 'string', default: 'headless' },
      verbose: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  const serverUrl = positionals.at(-1);
  if (values.help || !serverUrl) {
    process.stderr.write('usage: mcp-tokens-oauth-cli [--call <tool>] [--client-id <id>] [--client-secret-env <VAR>] [--client-metadata-url <url>] [--browser headless|print] <server-url>\n');
    return values.help ? 0 : 2;
  }
  const log = (message: string) => {
    if (values.verbose) process.stderr.write(`[oauth] ${message}\n`);
  };

  let preRegistered: PreRegisteredClient | undefined;
  if (values['client-id']) {
    const secretVar = values['client-secret-env'];
    preRegistered = { clientId: values['client-id'], clientSecret: secretVar ? process.env[secretVar] : undefined };
  } else if (process.env.MCP_CONFORMANCE_CONTEXT) {
    let raw: unknown;
    try {
      raw = JSON.parse(process.env.MCP_CONFORMANCE_CONTEXT);
    } catch {
      raw = undefined;
    }
    const ctx = contextSchema.safeParse(raw);
    if (ctx.success) preRegistered = { clientId: ctx.data.client_id, clientSecret: ctx.data.client_secret };
  }

  const abort = new AbortController();
  process.once('SIGINT', () => abort.abort());
  const ui: OAuthUi = {
    openBrowser: async (url) => {
      if (values.browser === 'print') process.stderr.write(`Open this URL to sign in:\n${url.href}\n`);
      else await headlessBrowser(url);
    },
    withProgress: (title, task) => {
      log(title);
      return task(log, abort.signal);
    },
    confirmSignIn: async () => true,
  };
  const { store } = createMemoryTokenStore();
  const manager = new OAuthManager(store, ui, {
    clientMetadataUrl: () => values['client-metadata-url'],
    clientName: 'mcp-tokens-oauth-cli',
    log: (level, message) => log(`${level}: ${message}`),
  });
  const key = { namespace: 'oauth', name: 'cli' };
  const server = { name: 'cli', url: serverUrl, preRegistered };
  const client = new Client({ name: 'mcp-tokens-oauth-cli', version: '0.1.0' }, { capabilities: {} });
  const authFetch = createAuthFetch(manager, key, server);
  // MCP-Protocol-Version on every request: the negotiated version once initialized (the transport
  // sets it then), the version this client offers before (servers of newer revisions require it).
  const withVersion: FetchLike = (url, init) => {
    const headers = new Headers(init?.headers);
    if (!headers.has('mcp-protocol-version')) headers.set('mcp-protocol-version', transport.protocolVersion ?? LATEST_PROTOCOL_VERSION);
    return authFetch(url, { ...init, headers });
  };
  const transport: StreamableHTTPClientTransport = new StreamableHTTPClientTransport(new URL(serverUrl), { fetch: withVersion });
  try {
    await client.connect(transport);
    const { tools } = await client.listTools();
    for (const tool of tools) process.stdout.write(`${tool.name}\n`);
    if (values.call) {
      const result = await client.callTool({ name: values.call, arguments: {} });
      log(`called ${values.call}: ${result.isError ? 'error' : 'ok'}`);
      if (result.isError) return 1;
    }
    return 0;
  } catch (e) {
    const secrets = [await manager.sessions.accessToken(key).catch(() => undefined), await manager.sessions.refreshToken(key).catch(() => undefined), preRegistered?.clientSecret];
    process.stderr.write(`mcp-tokens-oauth-cli: ${safeMessage(e, secrets)}\n`);
    return 1;
  } finally {
    await transport.close().catch(() => undefined);
    manager.dispose();
    store.dispose();
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (e: unknown) => {
      process.stderr.write(`mcp-tokens-oauth-cli: ${safeMessage(e)}\n`);
      process.exit(1);
    },
  );
}
