/**
 * Hard-coded secret detection in MCP config string values. Pure and synchronous.
 *
 * Three kinds of evidence:
 * 1. Provider patterns: the scan patterns of the format rules in `formats.ts` (GitHub, OpenAI,
 *    Anthropic, Slack, AWS, Google, Stripe, GitLab, Hugging Face, npm, SendGrid, Proxmox API tokens,
 *    JWTs, private keys, passwords in URLs), the same table Set Token checks values with. The
 *    language server adds secretlint's recommended preset on top (see secretlintScan.ts); the table
 *    reuses the preset's patterns where it has them and keeps the formats detectable synchronously.
 * 2. Context: `Bearer <literal>` / `Basic <literal>` header values, `--token=<literal>` arguments,
 *    secret-like URL query parameters.
 * 3. High entropy (Shannon, bits per character) of a value under a secret-like key
 *    (`GITHUB_TOKEN`, `X-Api-Key`, `--api-key`).
 *
 * Offsets are into the string's source text (`raw`, between the quotes). A finding never carries
 * the secret itself, only where it is.
 */
import { FORMAT_RULES } from './formats';
import { defaultNamespaceFor, type TokenType } from './model';
import type { TokenKey } from './reference';
import type { Section } from './configScan';

export interface SecretFinding {
  readonly start: number;
  readonly end: number;
  /** Stable id of the rule, e.g. `github`, `bearer-header`, `entropy`. */
  readonly ruleId: string;
  /** What was found, for messages: "GitHub token". */
  readonly label: string;
  /** The provider, when known (`github`, `openai`): the suggested token name. */
  readonly provider?: string;
  readonly type: TokenType;
}

export interface SecretContext {
  readonly section?: Section;
  /** Env variable or header name. */
  readonly key?: string;
  /** For `args`: the previous argument. */
  readonly prevArg?: string;
}

interface PatternRule {
  readonly id: string;
  readonly label: string;
  readonly provider?: string;
  readonly type: TokenType;
  readonly pattern: RegExp;
  /** The capture group holding the secret (default: the whole match). */
  readonly group?: number;
}

/**
 * The provider formats, from the one table of format rules (`formats.ts`) that Set Token and Import
 * check values with: every rule with a scan pattern. Each pattern is anchored on a distinctive
 * prefix or shape, so scanning is linear.
 */
export const PROVIDER_RULES: readonly PatternRule[] = FORMAT_RULES.flatMap((r) =>
  r.scan ? [{ id: r.id, label: r.label, provider: r.provider === 'jwt' ? undefined : r.provider, type: r.type, pattern: r.scan.pattern, group: r.scan.group }] : [],
);

/** Every provider rule needs one of these substrings: one test skips them all for ordinary values. */
const PROVIDER_HINT = new RegExp(FORMAT_RULES.flatMap((r) => (r.scan ? [r.scan.hint.source] : [])).join('|'));

/** Names of env variables, headers, arguments and query parameters that hold credentials. */
const SECRET_NAME = /token|secret|passw|pwd|api[-_.]?key|access[-_.]?key|private[-_.]?key|auth|credential|session|cookie|signature|(?:^|[-_.])key$|^key$|^sig$/i;
/** Names that look secret-like but hold something else. */
const NOT_SECRET_NAME = /(?:^|[-_.])(?:path|file|dir|url|uri|host|endpoint|id|name|type|count|size|max|min|limit|timeout|expires?|mode|model|version|region|scopes?)$/i;

export function isSecretLikeName(name: string): boolean {
  return SECRET_NAME.test(name) && !NOT_SECRET_NAME.test(name);
}

/** Shannon entropy in bits per character. */
export function shannonEntropy(s: string): number {
  if (s.length === 0) return 0;
  const counts = new Map<number, number>();
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    counts.set(c, (counts.get(c) ?? 0) + 1);
  }
  let h = 0;
  for (const n of counts.values()) {
    const p = n / s.length;
    h -= p * Math.log2(p);
  }
  return h;
}

export const ENTROPY_MIN_LENGTH = 16;
export const ENTROPY_THRESHOLD = 3.5;

/** A literal that looks like a random credential: long enough, dense enough, one "word", not a path or placeholder. */
export function looksRandom(value: string): boolean {
  if (value.length < ENTROPY_MIN_LENGTH || value.length > 4096) return false;
  if (!/^[A-Za-z0-9+/=_.~:-]+$/.test(value)) return false;
  if (!/[0-9]/.test(value) || !/[A-Za-z]/.test(value)) return false;
  if (/^(?:https?|file):/i.test(value) || value.includes('/') && value.split('/').length > 3) return false;
  return shannonEntropy(value) >= ENTROPY_THRESHOLD;
}

/** A value that is itself a reference, a variable or a placeholder rather than a literal. */
function isIndirect(value: string): boolean {
  return /\$[<{]/.test(value) || /^\$[A-Za-z_]/.test(value) || /^<[^>]*>$/.test(value) || /your|xxx|\.\.\.|changeme|placeholder|example/i.test(value);
}

const AUTH_SCHEME = /^(\s*)(Bearer|Basic|Token)(\s+)(\S+)\s*$/i;

/** All findings in one string value, ordered by offset, overlapping findings merged. */
export function detectSecrets(raw: string, context: SecretContext = {}): SecretFinding[] {
  if (raw.length < 8) return NO_FINDINGS;
  const found: SecretFinding[] = [];
  if (PROVIDER_HINT.test(raw)) for (const rule of PROVIDER_RULES) {
    const re = rule.pattern;
    re.lastIndex = 0;
    for (let m = re.exec(raw); m; m = re.exec(raw)) {
      const span = rule.group ? m.indices?.[rule.group] : [m.index, m.index + m[0].length];
      if (span) found.push({ start: span[0], end: span[1], ruleId: rule.id, label: rule.label, provider: rule.provider, type: rule.type });
      if (m[0].length === 0) re.lastIndex++;
    }
  }
  const ctx = contextFindings(raw, context);
  if (ctx.length) found.push(...ctx);
  return found.length === 0 ? NO_FINDINGS : found.length === 1 ? found : mergeFindings(found);
}

const NO_FINDINGS: SecretFinding[] = [];

function contextFindings(raw: string, context: SecretContext): SecretFinding[] {
  const { section, key } = context;
  if (section !== 'headers' && section !== 'env' && section !== 'args' && section !== 'url') return NO_FINDINGS;
  const out: SecretFinding[] = [];
  if (section === 'headers' || section === 'env' || section === 'args') {
    const auth = AUTH_SCHEME.exec(raw);
    if (auth && !isIndirect(auth[4]) && auth[4].length >= 8) {
      const start = auth[1].length + auth[2].length + auth[3].length;
      const scheme = auth[2].toLowerCase();
      out.push({
        start,
        end: start + auth[4].length,
        ruleId: `${scheme}-header`,
        label: scheme === 'basic' ? 'Basic credentials' : 'bearer token',
        type: scheme === 'basic' ? 'basic' : 'bearer',
      });
      return out;
    }
  }
  if ((section === 'env' || section === 'headers') && key && isSecretLikeName(key) && !isIndirect(raw) && looksRandom(raw)) {
    out.push({ start: 0, end: raw.length, ruleId: 'entropy', label: `high-entropy value of ${section === 'env' ? 'variable' : 'header'} ${key}`, type: typeFromName(key) });
  }
  if (section === 'args') {
    const flag = /^(-{1,2}[A-Za-z0-9][A-Za-z0-9_.-]*|[A-Za-z_][A-Za-z0-9_]*)=(.+)$/.exec(raw);
    if (flag && isSecretLikeName(flag[1].replace(/^-+/, '')) && !isIndirect(flag[2]) && flag[2].length >= 8) {
      out.push({ start: flag[1].length + 1, end: raw.length, ruleId: 'secret-argument', label: `value of ${flag[1]}`, type: typeFromName(flag[1]) });
    } else if (context.prevArg && /^-{1,2}[A-Za-z]/.test(context.prevArg) && isSecretLikeName(context.prevArg.replace(/^-+/, '')) && !isIndirect(raw) && looksRandom(raw)) {
      out.push({ start: 0, end: raw.length, ruleId: 'secret-argument', label: `value of ${context.prevArg}`, type: typeFromName(context.prevArg) });
    }
  }
  if (section === 'url') {
    const q = raw.indexOf('?');
    if (q >= 0) {
      let pos = q + 1;
      const hash = raw.indexOf('#', pos);
      const stop = hash < 0 ? raw.length : hash;
      while (pos < stop) {
        let amp = raw.indexOf('&', pos);
        if (amp < 0 || amp > stop) amp = stop;
        const eq = raw.indexOf('=', pos);
        if (eq > pos && eq < amp) {
          const name = raw.slice(pos, eq);
          const value = raw.slice(eq + 1, amp);
          if (isSecretLikeName(name) && value.length >= 8 && !isIndirect(value)) {
            out.push({ start: eq + 1, end: amp, ruleId: 'url-query', label: `query parameter ${name}`, type: typeFromName(name) });
          }
        }
        pos = amp + 1;
      }
    }
  }
  return out;
}

function typeFromName(name: string): TokenType {
  if (/passw|pwd/i.test(name)) return 'basic';
  if (/api[-_.]?key|access[-_.]?key|(?:^|[-_.])key$/i.test(name)) return 'api-key';
  if (/token|auth/i.test(name)) return 'bearer';
  return 'generic';
}

/** Sorts and merges overlapping findings: the most specific (provider) label wins; a bearer context keeps type bearer. */
export function mergeFindings(findings: readonly SecretFinding[]): SecretFinding[] {
  const sorted = [...findings].sort((a, b) => a.start - b.start || b.end - a.end);
  const out: SecretFinding[] = [];
  for (const f of sorted) {
    const last = out[out.length - 1];
    if (last && f.start < last.end) {
      const specific = last.provider ? last : f.provider ? f : last;
      out[out.length - 1] = {
        ...specific,
        start: Math.min(last.start, f.start),
        end: Math.max(last.end, f.end),
        type: last.type === 'bearer' || f.type === 'bearer' ? 'bearer' : specific.type,
      };
    } else {
      out.push(f);
    }
  }
  return out;
}

/** `github`, `my-server`: a name segment from free text. */
export function slug(text: string | undefined): string | undefined {
  if (!text) return undefined;
  const s = text
    .normalize('NFKD')
    .replace(/[^A-Za-z0-9._-]+/g, '-')
    .replace(/^[^A-Za-z0-9]+/, '')
    .replace(/-+$/, '')
    .toLowerCase()
    .slice(0, 64);
  return s || undefined;
}

/**
 * The key a found secret is stored under: the namespace of its type (`bearer`, `api-key`) and the
 * provider or, failing that, the server name (`bearer:github`); `-2`, `-3`... when taken.
 */
export function suggestKey(finding: Pick<SecretFinding, 'provider' | 'type'>, where: { server?: string; key?: string }, taken: (key: TokenKey) => boolean): TokenKey {
  const namespace = defaultNamespaceFor(finding.type);
  const name = slug(finding.provider) ?? slug(where.server) ?? slug(where.key) ?? 'secret';
  let candidate = { namespace, name };
  for (let n = 2; taken(candidate) && n < 100_000; n++) candidate = { namespace, name: `${name}-${n}` };
  return candidate;
}
