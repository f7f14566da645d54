/**
 * Sends a service's verification requests and turns the answers into a `LastVerified`. Pure: no
 * `vscode`; the network goes through the `fetch` it is given (Node's by default).
 *
 * What protects the value:
 *  - it is sent only to the origin of the configured URL (`targetUrl`), over HTTPS, or plain HTTP to a
 *    loopback host; every request of a service is checked against that origin before it is sent;
 *  - redirects are never followed to another origin (`redirect: 'manual'`; a same-origin redirect is
 *    followed at most 3 times, a cross-origin one fails the verification);
 *  - each request times out, and an answer is read up to a size cap;
 *  - no error, reason or identity carries the value (texts are scrubbed of it), and a value a header
 *    cannot carry is refused before anything is sent.
 */
import type { LastVerified, VerifySettings } from '../../server/core/model';
import { isSecureUrl } from '../platform/url';
import { SERVICES, targetUrl, type Answer, type Outcome, type VerifyRequest } from './services';

export type FetchFn = (url: string, init: RequestInit) => Promise<Response>;

export interface VerifyOptions {
  readonly fetch?: FetchFn;
  /** Per request, including reading the answer (default 10 s). */
  readonly timeoutMs?: number;
  /** The largest answer read (default 1 MiB). */
  readonly maxBytes?: number;
  readonly now?: () => Date;
  /** Cancels the verification (Verify All's Cancel). */
  readonly signal?: AbortSignal;
}

export const DEFAULT_TIMEOUT_MS = 10_000;
export const DEFAULT_MAX_BYTES = 1024 * 1024;
const MAX_REDIRECTS = 3;

/** Why a target cannot receive a value; thrown before anything is sent. */
export class VerifyTargetError extends Error {}

/**
 * The origin a value would go to for `settings`; throws VerifyTargetError when the URL is not
 * HTTPS (or HTTP on loopback), carries credentials, a query or a fragment.
 */
export function targetOrigin(settings: VerifySettings): string {
  const raw = targetUrl(settings);
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new VerifyTargetError(settings.service === 'generic' ? 'The generic service needs a valid url in the token’s verify settings.' : 'The base URL is not a valid URL.');
  }
  if (!isSecureUrl(url)) throw new VerifyTargetError(`${url.protocol}//${url.host} does not use HTTPS; Verify sends values over HTTPS only (plain HTTP to a loopback address excepted).`);
  if (url.username || url.password) throw new VerifyTargetError('The URL must not carry a user name or password.');
  if (settings.service !== 'generic' && (url.search || url.hash)) throw new VerifyTargetError('A base URL has no query or fragment.');
  return url.origin;
}

/** Checks the target, sends the requests, parses the answers. Never throws for what the service did; throws VerifyTargetError for a refused target. */
export async function verify(settings: VerifySettings, value: string, options: VerifyOptions = {}): Promise<LastVerified> {
  const origin = targetOrigin(settings);
  const now = options.now ?? (() => new Date());
  const service = SERVICES[settings.service];
  const done = (o: Outcome): LastVerified => scrub({ at: now().toISOString(), service: settings.service, origin, ...o }, value);
  // Header values carry visible ASCII, spaces and tabs only; refuse before fetch (whose error would quote the value).
  if (!/^[\x20-\x7e\t]+$/.test(value)) return done({ ok: false, reason: 'the value has characters an HTTP header cannot carry (line breaks, non-ASCII); not sent' });
  const requests = service.requests(targetUrl(settings).replace(/\/+$/, ''), value, settings);
  for (const r of requests) {
    if (new URL(r.url).origin !== origin) throw new VerifyTargetError(`A request of ${service.label} would go to ${new URL(r.url).origin}, not ${origin}; nothing was sent.`);
  }
  const answers: (Answer | undefined)[] = [];
  for (const r of requests) {
    const got = await send(r, origin, options);
    if ('failed' in got) {
      if (r.required) return done({ ok: false, reason: got.failed });
      answers.push(undefined);
      continue;
    }
    if (r.required && got.answer.status >= 300 && got.answer.status < 400) {
      return done({ ok: false, status: got.answer.status, reason: got.redirectedTo ? `redirected to ${got.redirectedTo}; the value was not sent there` : `redirected (HTTP ${got.answer.status})` });
    }
    answers.push(got.answer);
    if (r.required && (got.answer.status < 200 || got.answer.status >= 300)) break;
  }
  return done(service.parse(answers));
}

type Sent = { answer: Answer; redirectedTo?: string } | { failed: string };

async function send(r: VerifyRequest, origin: string, options: VerifyOptions): Promise<Sent> {
  const fetchFn = options.fetch ?? ((url, init) => fetch(url, init));
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const signal = options.signal ? AbortSignal.any([options.signal, AbortSignal.timeout(timeoutMs)]) : AbortSignal.timeout(timeoutMs);
  let url = r.url;
  try {
    for (let hop = 0; ; hop++) {
      const response = await fetchFn(url, { method: r.method, headers: r.headers, body: r.body, redirect: 'manual', signal });
      const location = response.headers.get('location');
      if (response.status >= 300 && response.status < 400 && location) {
        await response.body?.cancel().catch(() => undefined);
        const next = new URL(location, url);
        if (next.origin !== origin) return { answer: answerOf(response, undefined), redirectedTo: next.origin };
        if (hop >= MAX_REDIRECTS) return { failed: `more than ${MAX_REDIRECTS} redirects` };
        url = next.href;
        continue;
      }
      const body = await readCapped(response, options.maxBytes ?? DEFAULT_MAX_BYTES);
      if (body === undefined) return { failed: `the answer is larger than ${Math.round((options.maxBytes ?? DEFAULT_MAX_BYTES) / 1024)} KiB` };
      return { answer: answerOf(response, parseJson(body)) };
    }
  } catch (e) {
    if (options.signal?.aborted) return { failed: 'cancelled' };
    if (signal.aborted) return { failed: `no answer within ${timeoutMs >= 1000 ? `${Math.round(timeoutMs / 1000)} s` : `${timeoutMs} ms`}` };
    return { failed: `could not reach ${origin}${networkCode(e)}` };
  }
}

function answerOf(response: Response, json: unknown): Answer {
  return { status: response.status, header: (name) => response.headers.get(name) ?? undefined, json };
}

/** The body as text, or undefined when it exceeds `max` bytes (reading stops there). */
async function readCapped(response: Response, max: number): Promise<string | undefined> {
  if (!response.body) return '';
  const declared = Number(response.headers.get('content-length'));
  if (Number.isFinite(declared) && declared > max) {
    await response.body.cancel().catch(() => undefined);
    return undefined;
  }
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > max) {
      await reader.cancel().catch(() => undefined);
      return undefined;
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** " (ECONNREFUSED)", from undici's `cause.code`; never the message (which may quote a header). */
function networkCode(e: unknown): string {
  const code = (e as { cause?: { code?: unknown } })?.cause?.code;
  return typeof code === 'string' && /^[A-Z0-9_]{2,40}$/.test(code) ? ` (${code})` : '';
}

/** Removes the value, and control characters, from every text a service echoed; caps lengths. */
function scrub(v: LastVerified, value: string): LastVerified {
  const clean = (s: string | undefined, max: number) => {
    if (s === undefined) return undefined;
    const t = s.split(value).join('…').replace(/[\x00-\x1f\x7f]+/g, ' ').trim();
    return t.length > max ? `${t.slice(0, max - 1)}…` : t;
  };
  const list = (l: string[] | undefined) => l?.map((s) => clean(s, 128)!).slice(0, 200);
  return {
    ...v,
    identity: clean(v.identity, 256) || undefined,
    reason: clean(v.reason, 512),
    scopes: list(v.scopes),
    missingScopes: list(v.missingScopes),
  };
}
