/**
 * `mcp-tokens proxy URL [--header "Name: value"]…`: a stdio ↔ Streamable HTTP bridge with the MCP
 * TypeScript SDK's transports (StdioServerTransport toward the client, StreamableHTTPClientTransport
 * toward the server), for clients that cannot send headers, or cannot keep an OAuth token fresh.
 *
 * Header values may hold references, resolved before the bridge starts (a missing one ends it, like
 * `run`). Every request carries the headers with the current values and `MCP-Protocol-Version` (the
 * version the client and the server negotiated, taken from the initialize answer). An `oauth:` token
 * of the keyring is refreshed before it expires (LauncherDeps.keyringRefresher). A `401` triggers one renewal
 * (a refresh; for a VS Code token, asking VS Code again), then the request fails with a clear error
 * that the client receives as the JSON-RPC error of that request. No `vscode`.
 */
import { parseArgs } from 'node:util';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { FetchLike } from '@modelcontextprotocol/sdk/shared/transport.js';
import { isJSONRPCRequest, isJSONRPCResultResponse, LATEST_PROTOCOL_VERSION, type JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import { keyId, type TokenKey } from '../../server/core/reference';
import type { Launcher, TokenRefresher } from './context';
import { fill, parseHeader, redact, scanFields, type HeaderArg } from './launchRefs';
import type { ChildEnd } from './run';
import { errorText } from '../../server/core/errors';

/** JSON-RPC error code of a request the server refused to authorize (in the implementation-defined range). */
export const UNAUTHORIZED_CODE = -32001;

export class ProxyAuthError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ProxyAuthError';
  }
}

/** http(s) only; plain http only to a loopback address (the MCP authorization spec requires HTTPS elsewhere). Pure. */
export function checkServerUrl(text: string): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new Error(`"${text.slice(0, 200)}" is not a URL.`);
  }
  if (url.protocol === 'https:') return url;
  const loopback = url.hostname === 'localhost' || url.hostname === '[::1]' || /^127\./.test(url.hostname);
  if (url.protocol === 'http:' && loopback) return url;
  throw new Error(`${url.origin} is not allowed: the proxy connects over https (plain http only to localhost/127.0.0.1/[::1]).`);
}

export async function proxyCommand(argv: readonly string[], launcher: Launcher): Promise<ChildEnd> {
  const { io } = launcher;
  let url: URL;
  let headers: HeaderArg[];
  try {
    const { values, positionals } = parseArgs({ args: [...argv], allowPositionals: true, options: { header: { type: 'string', multiple: true, short: 'H' } } });
    if (positionals.length !== 1) throw new Error('proxy needs exactly one URL: mcp-tokens proxy URL [--header "Name: value"]…');
    url = checkServerUrl(positionals[0]);
    headers = (values.header ?? []).map(parseHeader);
  } catch (e) {
    io.error(errorText(e));
    return { code: 2 };
  }

  const scan = scanFields(headers.map((h) => ({ where: `header ${h.name}`, text: h.value })));
  if (scan.malformed.length) {
    for (const m of scan.malformed) io.error(`${m} Nothing was started.`);
    return { code: 1 };
  }
  const launch = { command: url.href, args: headers.map((h) => `${h.name}: ${h.value}`), cwd: process.cwd(), client: launcher.client(), kind: 'proxy' as const };
  let values = new Map<string, string>();
  const refreshers = new Map<string, TokenRefresher>();
  if (scan.keys.length) {
    const resolved = await launcher.resolve(scan.keys, launch);
    if (!resolved) return { code: 1 };
    values = resolved.values;
    for (const key of scan.keys) {
      if (key.namespace !== 'oauth' || resolved.sources.get(keyId(key)) !== 'keyring') continue;
      const r = await launcher.deps.keyringRefresher(key, url.href, (level, m) => (level === 'info' ? io.info(m) : io.error(m)));
      if (r) refreshers.set(keyId(key), r);
    }
  }

  /** The headers with the current values (an OAuth token refreshed first when it expires soon). */
  const current = async (): Promise<Headers> => {
    for (const [id, r] of refreshers) {
      const v = await r.current();
      if (v) {
        values.set(id, v);
        launcher.secrets.add(v);
      }
    }
    const h = new Headers();
    for (const { name, value } of headers) h.set(name, fill(value, values));
    return h;
  };
  /** After a 401: refresh the OAuth tokens, ask VS Code again for its own; true when something changed. */
  const renew = async (): Promise<boolean> => {
    let changed = false;
    for (const r of refreshers.values()) changed = (await r.renew()) || changed;
    const fromVsCode = scan.keys.filter((k: TokenKey) => !refreshers.has(keyId(k)));
    if (fromVsCode.length && refreshers.size === 0) {
      const again = await launcher.resolve(fromVsCode, launch);
      if (again) {
        for (const [id, v] of again.values) if (values.get(id) !== v) (values.set(id, v), (changed = true));
      }
    }
    return changed;
  };

  let transport: StreamableHTTPClientTransport;
  const send = async (input: string | URL, init: RequestInit | undefined, h: Headers) => {
    const merged = new Headers(init?.headers);
    h.forEach((v, k) => merged.set(k, v));
    if (!merged.has('mcp-protocol-version')) merged.set('mcp-protocol-version', transport.protocolVersion ?? LATEST_PROTOCOL_VERSION);
    return fetch(input, { ...init, headers: merged });
  };
  const authFetch: FetchLike = async (input, init) => {
    const first = await send(input, init, await current());
    if (first.status !== 401 || !scan.keys.length) return first;
    await first.body?.cancel().catch(() => undefined);
    const renewed = await renew();
    if (renewed) {
      const second = await send(input, init, await current());
      if (second.status !== 401) return second;
      await second.body?.cancel().catch(() => undefined);
    }
    throw new ProxyAuthError(
      `${url.origin} refused the credentials (401 Unauthorized)${renewed ? ' again after a refresh' : ' and they could not be refreshed'}. Fix: sign in again (VS Code: "MCP Tokens: Sign In to Server…", or mcp-cli), or store a valid token for ${scan.keys.map(keyId).join(', ')}.`,
    );
  };

  transport = new StreamableHTTPClientTransport(url, { fetch: authFetch });
  const stdio = new StdioServerTransport();
  const initializeIds = new Set<string | number>();
  let ended: (end: ChildEnd) => void = () => undefined;
  const done = new Promise<ChildEnd>((resolve) => (ended = resolve));
  let closing = false;
  const shutdown = async (code: number) => {
    if (closing) return;
    closing = true;
    await transport.terminateSession().catch(() => undefined);
    await transport.close().catch(() => undefined);
    await stdio.close().catch(() => undefined);
    for (const r of refreshers.values()) r.dispose();
    ended({ code });
  };

  stdio.onmessage = (message: JSONRPCMessage) => {
    if (isJSONRPCRequest(message) && message.method === 'initialize') initializeIds.add(message.id);
    transport.send(message).catch(async (e: unknown) => {
      const text = errorText(e);
      io.error(text);
      if (isJSONRPCRequest(message)) {
        await stdio
          .send({ jsonrpc: '2.0', id: message.id, error: { code: e instanceof ProxyAuthError ? UNAUTHORIZED_CODE : -32000, message: `mcp-tokens proxy: ${redact(text, launcher.secrets)}` } })
          .catch(() => undefined);
      }
    });
  };
  transport.onmessage = (message: JSONRPCMessage) => {
    if (isJSONRPCResultResponse(message) && initializeIds.delete(message.id)) {
      const version = (message.result as { protocolVersion?: unknown }).protocolVersion;
      if (typeof version === 'string') transport.setProtocolVersion(version);
    }
    stdio.send(message).catch((e: unknown) => io.error(`could not write to the client: ${errorText(e)}`));
  };
  transport.onerror = (e: Error) => io.info(`server stream: ${e.message}`);
  stdio.onerror = (e: Error) => io.error(`client stream: ${e.message}`);
  stdio.onclose = () => void shutdown(0);
  process.stdin.once('end', () => void shutdown(0));
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.once(sig, () => void shutdown(0));

  await transport.start();
  await stdio.start();
  io.info(`proxying stdio to ${url.href}`);
  return done;
}
