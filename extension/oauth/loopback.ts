/**
 * The loopback redirect receiver of RFC 8252 §7.3: a node http server on 127.0.0.1 that accepts
 * exactly one authorization response on its callback path, the one carrying this sign-in's `state`,
 * and stops. Requests on other paths (404) and on the callback path without the expected `state` (400)
 * are answered and ignored: they do not end the sign-in. It also stops on timeout or when the
 * caller's signal aborts. Pure: no `vscode` import.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { timingSafeEqual } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { OAuthFlowError } from './errors';

/** An authorization response of this sign-in (its `state` matched): a code, or an error. */
export interface AuthorizationResponse {
  readonly code?: string;
  /** The `error` of an error response (acted on only after the `iss` check). */
  readonly error?: string;
  readonly errorDescription?: string;
  /** RFC 9207 issuer identifier, when the authorization server sent one. */
  readonly iss?: string;
}

export interface LoopbackReceiver {
  /** `http://127.0.0.1:<port>/callback` */
  readonly redirectUri: string;
  readonly port: number;
  /** Resolves with the first callback whose `state` matches (ignoring others); rejects on timeout or abort. */
  wait(expectedState: string): Promise<AuthorizationResponse>;
  close(): void;
}

export interface LoopbackOptions {
  /** Port to try first (a registered redirect URI's port); 0 or unavailable: a random port. */
  readonly preferredPort?: number;
  readonly path?: string;
  readonly timeoutMs?: number;
  readonly signal?: AbortSignal;
  /** Called for each request on the callback path that was not this sign-in's (wrong or no state). */
  readonly onIgnored?: (reason: 'state') => void;
}

const PAGE = (title: string, text: string) =>
  `<!doctype html><html><head><meta charset="utf-8"><title>${title}</title></head>` +
  `<body style="font-family:system-ui,sans-serif;margin:3em"><h1>${title}</h1><p>${text}</p></body></html>`;

function listen(server: Server, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (e: Error) => {
      server.off('listening', onListening);
      reject(e);
    };
    const onListening = () => {
      server.off('error', onError);
      resolve((server.address() as AddressInfo).port);
    };
    server.once('error', onError);
    server.once('listening', onListening);
    server.listen(port, '127.0.0.1');
  });
}

function sameState(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

export async function startLoopback(options: LoopbackOptions = {}): Promise<LoopbackReceiver> {
  const path = options.path ?? '/callback';
  const timeoutMs = options.timeoutMs ?? 5 * 60_000;
  let onRequest: (req: IncomingMessage, res: ServerResponse) => void = (_req, res) => {
    res.writeHead(404).end();
  };
  const server = createServer((req, res) => onRequest(req, res));
  server.keepAliveTimeout = 1000;
  let port: number;
  try {
    port = await listen(server, options.preferredPort ?? 0);
  } catch (e) {
    if (!options.preferredPort) throw e;
    port = await listen(server, 0);
  }
  let closed = false;
  const close = () => {
    if (closed) return;
    closed = true;
    server.close();
    server.closeAllConnections?.();
  };
  const redirectUri = `http://127.0.0.1:${port}${path}`;

  const wait = (expectedState: string) =>
    new Promise<AuthorizationResponse>((resolve, reject) => {
      let settled = false;
      const finish = (error: Error | undefined, value?: AuthorizationResponse) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        options.signal?.removeEventListener('abort', onAbort);
        // Let the page reach the browser before the server stops.
        setTimeout(close, 50).unref?.();
        if (error) reject(error);
        else resolve(value!);
      };
      const timer = setTimeout(
        () => finish(new OAuthFlowError('timeout', `No answer from the browser within ${Math.round(timeoutMs / 1000)} seconds; sign-in stopped.`)),
        timeoutMs,
      );
      timer.unref?.();
      const onAbort = () => finish(new OAuthFlowError('cancelled', 'Sign-in was cancelled.'));
      if (options.signal?.aborted) return onAbort();
      options.signal?.addEventListener('abort', onAbort, { once: true });

      onRequest = (req, res) => {
        const url = new URL(req.url ?? '/', redirectUri);
        if (req.method !== 'GET' || url.pathname !== path || settled) {
          res.writeHead(404, { 'content-type': 'text/plain' }).end('Not found');
          return;
        }
        const q = url.searchParams;
        const state = q.get('state');
        const reply = (status: number, title: string, text: string) =>
          res.writeHead(status, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' }).end(PAGE(title, text));
        if (state === null || !sameState(state, expectedState)) {
          // Not this sign-in's answer (a stray request, a stale tab, a forgery): refused, and the
          // receiver keeps waiting for the real one (until the timeout or a cancel).
          reply(400, 'Not this sign-in', 'This answer does not belong to the sign-in in progress (state mismatch) and was ignored.');
          options.onIgnored?.('state');
          return;
        }
        const iss = q.get('iss') ?? undefined;
        const error = q.get('error');
        if (error) {
          // Shown and acted on only after the flow checked `iss` (RFC 9207 §2.4).
          reply(400, 'Sign-in failed', 'The authorization server did not grant the sign-in. You can close this window.');
          return finish(undefined, { error: error.slice(0, 100), errorDescription: (q.get('error_description') ?? '').slice(0, 200) || undefined, iss });
        }
        const code = q.get('code');
        if (!code) {
          reply(400, 'Sign-in failed', 'The answer carried no authorization code.');
          return finish(new OAuthFlowError('invalid_response', 'The authorization response carried no authorization code.'));
        }
        reply(200, 'Signed in', 'You are signed in. You can close this window and return to VS Code.');
        finish(undefined, { code, iss });
      };
    });

  return { redirectUri, port, wait, close };
}
