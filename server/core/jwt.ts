/**
 * Reading a JSON Web Token (RFC 7519) without verifying it: base64url-decodes the header and the
 * payload and validates the parts this extension uses with zod. Pure (no editor API, no network).
 *
 * Only the registered claims `iss`, `sub`, `aud`, `iat`, `exp`, `nbf` and the header's `alg` are
 * read; every other claim and the signature are never kept, shown or logged. The signature is not
 * checked (there is no key to check it with): the expiry read here is what the token says about
 * itself, used to fill in the token's expiry and to warn, never to grant anything.
 */
import { z } from 'zod';
import type { JwtInfo } from './model';

const headerSchema = z.looseObject({ alg: z.string().min(1).max(64), typ: z.string().max(64).optional() });
const numericDate = z.number().finite().min(0).max(253402300799); // up to 9999-12-31
const payloadSchema = z.looseObject({
  iss: z.string().optional(),
  sub: z.string().optional(),
  aud: z.union([z.string(), z.array(z.string()).max(64)]).optional(),
  iat: numericDate.optional(),
  exp: numericDate.optional(),
  nbf: numericDate.optional(),
});

/** What a JWT says about itself: its algorithm and registered claims (seconds since the epoch). */
export interface JwtContents {
  readonly alg: string;
  readonly iss?: string;
  readonly sub?: string;
  readonly aud?: readonly string[];
  readonly iat?: number;
  readonly exp?: number;
  readonly nbf?: number;
}

export type JwtReading = { readonly ok: true; readonly jwt: JwtContents } | { readonly ok: false; readonly error: string };

const B64URL = /^[A-Za-z0-9_-]*$/;

/** Quick test: three dot-separated base64url parts whose first starts like a JSON object (`eyJ` = `{"`). */
export function looksLikeJwt(value: string): boolean {
  return /^eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/.test(value);
}

function decodePart(part: string, what: string): { json?: unknown; error?: string } {
  if (!part) return { error: `its ${what} is empty` };
  if (!B64URL.test(part)) return { error: `its ${what} is not base64url (only letters, digits, "-" and "_")` };
  if (part.length % 4 === 1) return { error: `its ${what} has a length no base64url text has` };
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(Buffer.from(part, 'base64url'));
  } catch {
    return { error: `its ${what} is not UTF-8 text` };
  }
  try {
    return { json: JSON.parse(text) };
  } catch {
    return { error: `its ${what} is not JSON` };
  }
}

function firstIssue(error: z.ZodError, what: string): string {
  const issue = error.issues[0];
  if (!issue || issue.path.length === 0) return `its ${what} is not a JSON object`;
  return `the ${what}'s "${String(issue.path[0])}" ${issue.code === 'invalid_type' ? 'has the wrong type' : 'is out of range'}`;
}

/**
 * Decodes `value` as a compact JWS (`header.payload.signature`). The error names what is wrong
 * ("it has 2 parts, a JWT has 3"), never the value.
 */
export function readJwt(value: string): JwtReading {
  const parts = value.trim().split('.');
  if (parts.length !== 3) {
    return { ok: false, error: parts.length === 5 ? 'it has 5 parts: an encrypted JWT (JWE) cannot be read without its key' : `it has ${parts.length} part${parts.length === 1 ? '' : 's'} separated by dots, a JWT has 3 (header.payload.signature)` };
  }
  const [h, p, sig] = parts;
  if (sig && !B64URL.test(sig)) return { ok: false, error: 'its signature is not base64url' };
  const header = decodePart(h, 'header');
  if (header.error) return { ok: false, error: header.error };
  const hp = headerSchema.safeParse(header.json);
  if (!hp.success) return { ok: false, error: firstIssue(hp.error, 'header') };
  const payload = decodePart(p, 'payload');
  if (payload.error) return { ok: false, error: payload.error };
  const pp = payloadSchema.safeParse(payload.json);
  if (!pp.success) return { ok: false, error: firstIssue(pp.error, 'payload') };
  if (!sig && hp.data.alg.toLowerCase() !== 'none') return { ok: false, error: `its signature is empty but its header says it is signed (${hp.data.alg.slice(0, 16)})` };
  const c = pp.data;
  const aud = c.aud === undefined ? undefined : typeof c.aud === 'string' ? [c.aud] : c.aud;
  return { ok: true, jwt: { alg: hp.data.alg, iss: c.iss, sub: c.sub, aud, iat: c.iat, exp: c.exp, nbf: c.nbf } };
}

/** The token has no signature to trust (`alg: none`). */
export function isUnsigned(jwt: Pick<JwtContents, 'alg'>): boolean {
  return jwt.alg.toLowerCase() === 'none';
}

function iso(seconds: number | undefined): string | undefined {
  return seconds === undefined ? undefined : new Date(Math.round(seconds * 1000)).toISOString();
}

/** The `exp` claim as an ISO date-time, when there is one. */
export function jwtExpiry(jwt: Pick<JwtContents, 'exp'>): string | undefined {
  return iso(jwt.exp);
}

export function jwtExpired(jwt: Pick<JwtContents, 'exp'>, now: Date): boolean {
  return jwt.exp !== undefined && jwt.exp * 1000 <= now.getTime();
}

const clip = (s: string | undefined, n = 256) => (s === undefined ? undefined : s.length > n ? `${s.slice(0, n - 1)}…` : s);

/** The part of a JWT kept in the token's metadata (`iss`, `sub`, `aud`, `iat`, `alg`): shown in details, never the rest. */
export function jwtMetadata(jwt: JwtContents): JwtInfo {
  const out: JwtInfo = { alg: clip(jwt.alg, 32)! };
  if (jwt.iss !== undefined) out.iss = clip(jwt.iss);
  if (jwt.sub !== undefined) out.sub = clip(jwt.sub);
  if (jwt.aud?.length) out.aud = jwt.aud.slice(0, 8).map((a) => clip(a)!);
  if (jwt.iat !== undefined) out.iat = iso(jwt.iat);
  return out;
}

/** Label/value rows of the JWT facts in a token's metadata, for tooltips, hovers and details. */
export function jwtRows(info: JwtInfo | undefined): [string, string][] {
  if (!info) return [];
  const rows: [string, string][] = [['JWT algorithm', isUnsigned(info) ? 'none (unsigned: anyone could have written it)' : info.alg]];
  if (info.iss) rows.push(['JWT issuer', info.iss]);
  if (info.sub) rows.push(['JWT subject', info.sub]);
  if (info.aud?.length) rows.push(['JWT audience', info.aud.join(', ')]);
  if (info.iat) rows.push(['JWT issued', info.iat.replace('T', ' ').replace(/\.\d+Z$|Z$/, ' UTC')]);
  return rows;
}
