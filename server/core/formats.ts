/**
 * The format rules of each kind of credential: one table, used by Set Token, Import and Generate (to
 * check a value against the provider the user chose, and to say which provider a value looks like)
 * and by the language server's hard-coded-secret detection (`secrets.ts` scans MCP config strings
 * with each rule's `scan` pattern), so both agree on what a GitHub token or a Proxmox API token is.
 * Pure: no editor API; nothing here keeps, returns or prints a value, only what is wrong with it.
 *
 * Where secretlint's recommended preset (already run by the language server, `secretlintScan.ts`)
 * has a rule, the pattern here is the preset's (`secretlint` names it; `test/unit/formats.test.ts`
 * runs the preset over each such rule's valid samples and checks that it reports them too). The
 * preset lacks Anthropic, Stripe, Google API keys, GitLab, Hugging Face, JWTs and Proxmox tokens
 * (and AWS access key IDs, which it only scans with an option off by default): those patterns are
 * this project's, from each provider's documented format.
 */
import type { TokenType } from './model';
import { isUnsigned, jwtExpired, jwtExpiry, jwtMetadata, looksLikeJwt, readJwt, type JwtContents } from './jwt';
import type { JwtInfo } from './model';

export interface FormatRule {
  /** Stable id (`github`, `proxmox`): the `ruleId` of the language server's findings. */
  readonly id: string;
  /** The provider (or kind: `jwt`, `basic`, `url`, `host`) the rule belongs to; undefined for scan-only rules. */
  readonly provider?: string;
  /** "GitHub token": what a value fitting it is, for messages ("this looks like a GitHub token"). */
  readonly label: string;
  /** The token type such a value usually is. */
  readonly type: TokenType;
  /** What a fitting value looks like: "ghp_ followed by 36 letters and digits". */
  readonly expected: string;
  /** Checks a whole value: undefined when it fits, else what is wrong ("this value has 20 characters after ghp_"), never the value. */
  check(value: string): string | undefined;
  /** Prefixes that say which rule a value was meant for even when the rest is wrong. */
  readonly prefixes?: readonly string[];
  /** A kind that many values fit (`url`, `host`, `basic`): checked when chosen, never claimed by "looks like". */
  readonly generic?: boolean;
  /** How the language server finds it inside a string (global; `group`: the capture holding the secret). */
  readonly scan?: { readonly pattern: RegExp; readonly group?: number; readonly hint: RegExp };
  /** The secretlint rule (of `@secretlint/secretlint-rule-preset-recommend`) whose pattern this is, or that also reports it. */
  readonly secretlint?: string;
}

interface Prefixed {
  id: string;
  provider?: string;
  label: string;
  type: TokenType;
  prefixes: readonly string[];
  /** The characters after the prefix, as a regex character class body, and how to say them. */
  chars: string;
  charsText: string;
  min: number;
  max: number;
  /** An extra structural check of the part after the prefix. */
  extra?: (body: string, prefix: string) => string | undefined;
  /** What a fitting value looks like, when "<prefixes> followed by <n> <chars>" says it badly. */
  expected?: string;
  /** The scan pattern when it is not simply prefix + chars{min,max}. */
  pattern?: RegExp;
  secretlint?: string;
}

const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const orList = (xs: readonly string[]) => (xs.length === 1 ? xs[0] : `${xs.slice(0, -1).join(', ')} or ${xs[xs.length - 1]}`);
const count = (n: number) => (n === 1 ? '1 character' : `${n} characters`);

/** A rule of the common shape: one of some prefixes, then a run of some characters of some length. */
function prefixed(r: Prefixed): FormatRule {
  const span = r.min === r.max ? `${r.min}` : r.max >= 1000 ? `at least ${r.min}` : `${r.min} to ${r.max}`;
  const expected = r.expected ?? `${orList(r.prefixes)} followed by ${span} ${r.charsText}`;
  const body = new RegExp(`^[${r.chars}]*$`);
  const alternatives = r.prefixes.map(esc).join('|');
  const pattern = r.pattern ?? new RegExp(`(?<![A-Za-z0-9_-])(?:${alternatives})[${r.chars}]{${r.min},${r.max >= 1000 ? '' : r.max}}(?![${r.chars}])`, 'g');
  return {
    id: r.id,
    provider: r.provider,
    label: r.label,
    type: r.type,
    expected,
    prefixes: r.prefixes,
    secretlint: r.secretlint,
    scan: { pattern, hint: new RegExp(alternatives) },
    check(value) {
      // Longest prefix first (`sk-proj-` before `sk-`).
      const prefix = [...r.prefixes].sort((a, b) => b.length - a.length).find((p) => value.startsWith(p));
      if (!prefix) return `this value does not start with ${orList(r.prefixes)}`;
      const rest = value.slice(prefix.length);
      if (!body.test(rest)) return `this value has characters other than ${r.charsText} after ${prefix}`;
      if (rest.length < r.min || rest.length > r.max) return `this value has ${count(rest.length)} after ${prefix}`;
      return r.extra?.(rest, prefix);
    },
  };
}

/** A rule checked by a function of the whole value. */
function custom(rule: Omit<FormatRule, 'check'> & { check(value: string): string | undefined }): FormatRule {
  return rule;
}

const UUID = '[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}';
const PROXMOX_USER = /^[^\s@!=:]{1,64}$/;
const PROXMOX_REALM = /^[A-Za-z][A-Za-z0-9.-]{0,31}$/;
const PROXMOX_TOKEN_ID = /^[A-Za-z][A-Za-z0-9._-]{0,63}$/;

function checkProxmox(value: string): string | undefined {
  const rest = value.startsWith('PVEAPIToken=') ? value.slice('PVEAPIToken='.length) : value;
  const at = rest.indexOf('@');
  const bang = rest.indexOf('!');
  const eq = rest.indexOf('=');
  if (at < 0) return 'this value has no "@" between the user and the realm';
  if (bang < at) return 'this value has no "!" between user@realm and the token id';
  if (eq < bang) return 'this value has no "=" between the token id and the secret';
  if (!PROXMOX_USER.test(rest.slice(0, at))) return 'the user (before "@") is empty or has spaces, "!", "=" or ":"';
  if (!PROXMOX_REALM.test(rest.slice(at + 1, bang))) return 'the realm (between "@" and "!") is not a realm name such as pam or pve';
  if (!PROXMOX_TOKEN_ID.test(rest.slice(bang + 1, eq))) return 'the token id (between "!" and "=") must start with a letter and hold only letters, digits, ".", "-" and "_"';
  const secret = rest.slice(eq + 1);
  if (!new RegExp(`^${UUID}$`).test(secret)) return `the secret after "=" is not a UUID (8-4-4-4-12 hexadecimal digits; this one has ${count(secret.length)})`;
  return undefined;
}

function checkJwt(value: string): string | undefined {
  const r = readJwt(value);
  return r.ok ? undefined : `this value is not a readable JWT: ${r.error}`;
}

function checkBasic(value: string): string | undefined {
  const colon = value.indexOf(':');
  if (colon < 0) return 'this value has no ":" between the user name and the password';
  if (colon === 0) return 'the user name (before ":") is empty';
  if (colon === value.length - 1) return 'the password (after ":") is empty';
  if (/[\r\n]/.test(value)) return 'this value spans more than one line';
  return undefined;
}

function checkUrl(value: string): string | undefined {
  if (/\s/.test(value)) return 'this value has white space';
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return 'this value is not an absolute URL (it needs a scheme such as https://)';
  }
  if (!/^[a-z][a-z0-9+.-]*:$/.test(url.protocol)) return 'this value has no scheme';
  if ((url.protocol === 'http:' || url.protocol === 'https:') && !url.hostname) return 'this value has no host';
  return undefined;
}

const LABEL = /^(?!-)[A-Za-z0-9-]{1,63}(?<!-)$/;
const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;

function checkHost(value: string): string | undefined {
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(value)) return 'this value has a scheme (give the host alone, e.g. example.com or 10.0.0.5:8006)';
  if (/[/?#\s@]/.test(value)) return 'this value has a path, query, user or white space (give the host alone)';
  let host = value;
  const port = /^(.*?)(?::(\d+))?$/.exec(value)!;
  if (value.startsWith('[')) {
    const end = value.indexOf(']');
    if (end < 0) return 'this value opens an IPv6 address with "[" but does not close it';
    const after = value.slice(end + 1);
    if (after && !/^:\d{1,5}$/.test(after)) return 'only a port (":8006") may follow an IPv6 address in brackets';
    if (after && Number(after.slice(1)) > 65535) return 'the port is above 65535';
    return /^[0-9a-fA-F:.]+$/.test(value.slice(1, end)) && value.slice(1, end).includes(':') ? undefined : 'the part in brackets is not an IPv6 address';
  }
  if (port[2] !== undefined) {
    if (Number(port[2]) > 65535) return 'the port is above 65535';
    host = port[1];
  }
  if (host.includes(':')) return 'this value has more than one ":" (an IPv6 address goes in brackets: [::1]:8006)';
  if (host.length === 0 || host.length > 253) return 'the host name is empty or longer than 253 characters';
  if (/^[\d.]+$/.test(host)) return IPV4.test(host) ? undefined : 'this value is not a valid IPv4 address';
  const labels = host.replace(/\.$/, '').split('.');
  if (!labels.every((l) => LABEL.test(l))) return 'each part of a host name holds 1 to 63 letters, digits and "-" (not at its ends)';
  return undefined;
}

/** Every rule, most specific first (a value is reported as the first rule it fits). */
export const FORMAT_RULES: readonly FormatRule[] = [
  prefixed({
    id: 'github',
    provider: 'github',
    label: 'GitHub token',
    type: 'bearer',
    prefixes: ['ghp_', 'gho_', 'ghu_', 'ghs_', 'ghr_'],
    chars: 'A-Za-z0-9',
    charsText: 'letters and digits',
    min: 36,
    max: 36,
    secretlint: 'github',
  }),
  prefixed({
    id: 'github-fine-grained',
    provider: 'github',
    label: 'GitHub fine-grained personal access token',
    type: 'bearer',
    prefixes: ['github_pat_'],
    chars: 'A-Za-z0-9_',
    charsText: 'letters, digits and "_"',
    min: 82,
    max: 82,
    extra: (body) => (/^[A-Za-z0-9]{22}_[A-Za-z0-9]{59}$/.test(body) ? undefined : 'the 82 characters after github_pat_ should be 22 letters and digits, "_", and 59 letters and digits'),
    secretlint: 'github',
  }),
  prefixed({
    id: 'anthropic',
    provider: 'anthropic',
    label: 'Anthropic API key',
    type: 'api-key',
    prefixes: ['sk-ant-api03-', 'sk-ant-admin01-', 'sk-ant-oat01-', 'sk-ant-ort01-'],
    chars: 'A-Za-z0-9_-',
    charsText: 'letters, digits, "-" and "_"',
    expected: 'sk-ant-api03- (or sk-ant-admin01-, sk-ant-oat01-, sk-ant-ort01-) followed by 95 letters, digits, "-" and "_", ending in AA',
    min: 95,
    max: 95,
    extra: (body) => (body.endsWith('AA') ? undefined : 'this value does not end in AA'),
  }),
  prefixed({
    id: 'openai',
    provider: 'openai',
    label: 'OpenAI API key',
    type: 'api-key',
    prefixes: ['sk-proj-', 'sk-svcacct-', 'sk-admin-', 'sk-'],
    chars: 'A-Za-z0-9_-',
    charsText: 'letters, digits, "-" and "_"',
    expected: 'sk-proj-, sk-svcacct- or sk-admin- followed by 58 or 74 characters, T3BlbkFJ and 58 or 74 more (letters, digits, "-" and "_"), or a legacy sk- followed by 48 letters and digits',
    min: 48,
    max: 156,
    extra(body, prefix) {
      const at = body.indexOf('T3BlbkFJ');
      if (prefix === 'sk-') {
        if (body.length !== 48 || !/^[A-Za-z0-9]+$/.test(body)) return `this value has ${count(body.length)} after sk- (a legacy key has 48 letters and digits)`;
        return at === 20 ? undefined : 'this value has no T3BlbkFJ after the first 20 characters following sk-';
      }
      if (at < 0) return `this value has no T3BlbkFJ after ${prefix}`;
      const before = at;
      const after = body.length - at - 8;
      return (before === 74 || before === 58) && (after === 74 || after === 58)
        ? undefined
        : `this value has ${before} characters before T3BlbkFJ and ${after} after it (58 or 74 each)`;
    },
    // secretlint's openai pattern.
    pattern: /(?<![A-Za-z0-9_-])(?:sk-(?:proj|svcacct|admin)-(?:[A-Za-z0-9_-]{74}|[A-Za-z0-9_-]{58})T3BlbkFJ(?:[A-Za-z0-9_-]{74}|[A-Za-z0-9_-]{58})\b|sk-[a-zA-Z0-9]{20}T3BlbkFJ[a-zA-Z0-9]{20})(?![A-Za-z0-9_-])/g,
    secretlint: 'openai',
  }),
  custom({
    id: 'slack',
    provider: 'slack',
    label: 'Slack token',
    type: 'bearer',
    expected: 'xoxb-, xoxp-, xapp-, xoxa-, xoxo- or xoxr- followed by groups of letters and digits separated by "-"',
    prefixes: ['xoxb-', 'xoxp-', 'xapp-', 'xoxa-', 'xoxo-', 'xoxr-'],
    check(value) {
      const prefix = ['xoxb-', 'xoxp-', 'xapp-', 'xoxa-', 'xoxo-', 'xoxr-'].find((p) => value.startsWith(p));
      if (!prefix) return 'this value does not start with xoxb-, xoxp-, xapp-, xoxa-, xoxo- or xoxr-';
      const groups = value.slice(prefix.length).replace(/^\d-/, '').split('-');
      if (groups.length < 2) return `this value has one group after ${prefix}; a Slack token has several separated by "-"`;
      if (!groups.every((g) => /^[a-zA-Z0-9]{1,40}$/.test(g))) return `the groups after ${prefix} hold 1 to 40 letters and digits each, separated by single "-"`;
      return undefined;
    },
    // secretlint's slack token pattern.
    scan: { pattern: /\b(?:xoxb|xoxp|xapp|xoxa|xoxo|xoxr)-(?:\d-)?(?:[a-zA-Z0-9]{1,40}-)+[a-zA-Z0-9]{1,40}\b/g, hint: /xox|xapp-/ },
    secretlint: 'slack',
  }),
  custom({
    id: 'slack-webhook',
    provider: 'slack',
    label: 'Slack webhook URL',
    type: 'generic',
    expected: 'https://hooks.slack.com/services/T…/B…/ followed by the secret',
    prefixes: ['https://hooks.slack.com/services/'],
    check: (value) =>
      /^https:\/\/hooks\.slack\.com\/services\/T[A-Za-z0-9_]+\/B[A-Za-z0-9_]+\/[A-Za-z0-9_]{16,}$/.test(value) ? undefined : 'this value is not https://hooks.slack.com/services/T…/B…/<secret of at least 16 letters and digits>',
    scan: { pattern: /hooks\.slack\.com\/services\/(T[A-Za-z0-9_]+\/B[A-Za-z0-9_]+\/[A-Za-z0-9_]{16,})/dg, group: 1, hint: /hooks\.slack/ },
    secretlint: 'slack',
  }),
  prefixed({
    id: 'stripe',
    provider: 'stripe',
    label: 'Stripe secret key',
    type: 'api-key',
    prefixes: ['sk_live_', 'sk_test_', 'rk_live_', 'rk_test_'],
    chars: 'A-Za-z0-9',
    charsText: 'letters and digits',
    min: 24,
    max: 247,
  }),
  prefixed({
    id: 'stripe-webhook',
    provider: 'stripe',
    label: 'Stripe webhook signing secret',
    type: 'generic',
    prefixes: ['whsec_'],
    chars: 'A-Za-z0-9',
    charsText: 'letters and digits',
    min: 32,
    max: 128,
  }),
  prefixed({
    id: 'aws-access-key',
    provider: 'aws',
    label: 'AWS access key ID',
    type: 'api-key',
    prefixes: ['AKIA', 'ASIA', 'ABIA', 'ACCA'],
    chars: 'A-Z0-9',
    charsText: 'upper-case letters and digits',
    min: 16,
    max: 16,
  }),
  custom({
    id: 'aws-secret-key',
    provider: 'aws',
    label: 'AWS secret access key',
    type: 'api-key',
    expected: '40 letters, digits, "+" and "/"',
    check: (value) => (/^[A-Za-z0-9+/]*$/.test(value) ? (value.length === 40 ? undefined : `this value has ${count(value.length)}`) : 'this value has characters other than letters, digits, "+" and "/"'),
    // Any 40 base64 characters: found only by context (secretlint's aws rule looks for it next to its name).
    generic: true,
  }),
  prefixed({
    id: 'google-api-key',
    provider: 'google',
    label: 'Google API key',
    type: 'api-key',
    prefixes: ['AIza'],
    chars: '0-9A-Za-z_-',
    charsText: 'letters, digits, "-" and "_"',
    min: 35,
    max: 35,
  }),
  prefixed({
    id: 'google-oauth',
    provider: 'google',
    label: 'Google OAuth access token',
    type: 'bearer',
    prefixes: ['ya29.'],
    chars: '0-9A-Za-z_-',
    charsText: 'letters, digits, "-" and "_"',
    min: 20,
    max: 4096,
  }),
  prefixed({
    id: 'gitlab',
    provider: 'gitlab',
    label: 'GitLab token',
    type: 'bearer',
    prefixes: ['glpat-', 'gldt-', 'glrt-', 'glptt-', 'glft-', 'glsoat-', 'gloas-'],
    chars: 'A-Za-z0-9_.-',
    charsText: 'letters, digits, ".", "-" and "_"',
    min: 20,
    max: 255,
  }),
  prefixed({
    id: 'huggingface',
    provider: 'huggingface',
    label: 'Hugging Face token',
    type: 'api-key',
    prefixes: ['hf_'],
    chars: 'A-Za-z0-9',
    charsText: 'letters and digits',
    min: 34,
    max: 34,
  }),
  prefixed({
    id: 'npm',
    provider: 'npm',
    label: 'npm token',
    type: 'bearer',
    prefixes: ['npm_'],
    chars: 'A-Za-z0-9',
    charsText: 'letters and digits',
    min: 36,
    max: 36,
    secretlint: 'npm',
  }),
  custom({
    id: 'sendgrid',
    provider: 'sendgrid',
    label: 'SendGrid API key',
    type: 'api-key',
    expected: 'SG. followed by 22 characters, "." and 43 characters (letters, digits, "-" and "_")',
    prefixes: ['SG.'],
    check: (value) => (!value.startsWith('SG.') ? 'this value does not start with SG.' : /^SG\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}$/.test(value) ? undefined : 'this value is not SG. + 22 characters + "." + 43 characters'),
    scan: { pattern: /\bSG\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}\b/g, hint: /SG\./ },
    secretlint: 'sendgrid',
  }),
  custom({
    id: 'proxmox',
    provider: 'proxmox',
    label: 'Proxmox VE API token',
    type: 'api-key',
    expected: 'PVEAPIToken=USER@REALM!TOKENID=UUID (the PVEAPIToken= prefix is optional)',
    prefixes: ['PVEAPIToken='],
    check: checkProxmox,
    scan: { pattern: new RegExp(`(?<![A-Za-z0-9._-])(?:PVEAPIToken=)?[A-Za-z0-9._-]{1,64}@[A-Za-z][A-Za-z0-9.-]{0,31}![A-Za-z][A-Za-z0-9._-]{0,63}=${UUID}(?![0-9A-Za-z-])`, 'g'), hint: /@[A-Za-z][A-Za-z0-9.-]*![A-Za-z]/ },
  }),
  custom({
    id: 'jwt',
    provider: 'jwt',
    label: 'JSON Web Token',
    type: 'bearer',
    expected: 'three base64url parts separated by dots (header.payload.signature), the first two JSON',
    prefixes: ['eyJ'],
    check: checkJwt,
    scan: { pattern: /\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}/g, hint: /eyJ/ },
  }),
  custom({
    id: 'private-key',
    label: 'private key',
    type: 'generic',
    expected: 'a PEM private key (-----BEGIN … PRIVATE KEY-----)',
    check: (value) => (/-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY-----/.test(value) ? undefined : 'this value has no -----BEGIN … PRIVATE KEY----- line'),
    scan: { pattern: /-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY-----/g, hint: /PRIVATE KEY/ },
    secretlint: 'privatekey',
  }),
  custom({
    id: 'url-password',
    label: 'password in a URL',
    type: 'basic',
    expected: 'scheme://user:password@host',
    check: (value) => (/^[a-z][a-z0-9+.-]*:\/\/[^\s:@/"]+:[^\s@/"]{3,}@/i.test(value) ? undefined : 'this value is not scheme://user:password@host'),
    scan: { pattern: /\b[a-z][a-z0-9+.-]*:\/\/[^\s:@/"]+:([^\s@/"$]{3,})@/dgi, group: 1, hint: /:\/\/[^@\s]*@/ },
    // secretlint's basicauth rule reports the http(s) and ftp ones; this one any scheme (postgres://…).
    secretlint: 'basicauth',
  }),
  custom({ id: 'basic', provider: 'basic', label: 'user:password pair', type: 'basic', expected: 'user:password (a user name, ":", a password)', check: checkBasic, generic: true }),
  custom({ id: 'url', provider: 'url', label: 'URL', type: 'generic', expected: 'an absolute URL such as https://host/path', check: checkUrl, generic: true }),
  custom({ id: 'host', provider: 'host', label: 'host name', type: 'generic', expected: 'a host name or IP address, optionally with a port (example.com, 10.0.0.5:8006, [::1]:8443)', check: checkHost, generic: true }),
];

/** The providers (and kinds) Set Token offers, in the order shown. */
export const PROVIDERS: readonly { readonly id: string; readonly label: string }[] = [
  { id: 'github', label: 'GitHub' },
  { id: 'openai', label: 'OpenAI' },
  { id: 'anthropic', label: 'Anthropic' },
  { id: 'slack', label: 'Slack' },
  { id: 'stripe', label: 'Stripe' },
  { id: 'aws', label: 'AWS' },
  { id: 'google', label: 'Google' },
  { id: 'gitlab', label: 'GitLab' },
  { id: 'huggingface', label: 'Hugging Face' },
  { id: 'npm', label: 'npm' },
  { id: 'sendgrid', label: 'SendGrid' },
  { id: 'proxmox', label: 'Proxmox VE' },
  { id: 'jwt', label: 'JWT (any issuer)' },
  { id: 'basic', label: 'user:password' },
  { id: 'url', label: 'URL' },
  { id: 'host', label: 'Host' },
];

export function providerLabel(provider: string): string {
  return PROVIDERS.find((p) => p.id === provider)?.label ?? provider;
}

export function rulesOf(provider: string): FormatRule[] {
  return FORMAT_RULES.filter((r) => r.provider === provider);
}

/** Every specific rule `value` fits (never the generic kinds url, host, basic), most specific first. */
export function identify(value: string): FormatRule[] {
  return FORMAT_RULES.filter((r) => r.provider && !r.generic && r.check(value) === undefined);
}

/** The provider a value's format names (`github` for ghp_…), if any. */
export function suggestProvider(value: string): string | undefined {
  return identify(value)[0]?.provider;
}

/** A rule whose prefix the value starts with (longest prefix wins): what it was probably meant to be. */
function startsLike(value: string, rules: readonly FormatRule[]): FormatRule | undefined {
  let best: FormatRule | undefined;
  let bestLen = 0;
  for (const r of rules) for (const p of r.prefixes ?? []) if (value.startsWith(p) && p.length > bestLen) [best, bestLen] = [r, p.length];
  return best;
}

function article(label: string): string {
  return /^(?:[aeio]|npm)/i.test(label) ? `an ${label}` : `a ${label}`;
}

export interface FormatCheck {
  /** The provider the value was checked for (none: only `looksLike` is meaningful, as a suggestion). */
  readonly provider?: string;
  /** The rule of the chosen provider the value fits. */
  readonly fits?: FormatRule;
  /** When the chosen provider has rules and the value fits none: the rule it was probably meant for, and what is wrong. */
  readonly meant?: FormatRule;
  /** "expected ghp_, … followed by 36 letters and digits; this value has 20 characters after ghp_". */
  readonly problem?: string;
  /** Rules of other providers the value fits ("this looks like an Anthropic API key"); a JWT only counts when no provider was chosen. */
  readonly looksLike: readonly FormatRule[];
}

/**
 * Checks a value against the rules of `provider` (or, without one, of the type `basic`, whose values
 * are `user:password`). A provider without rules (free text such as `notion`) checks nothing, but
 * still says when the value is another provider's (a JWT is many providers' format, so it is not).
 */
export function checkFormat(value: string, want: { provider?: string; type?: TokenType }): FormatCheck {
  const rules = want.provider ? rulesOf(want.provider) : want.type === 'basic' ? rulesOf('basic') : [];
  const others = identify(value).filter((r) => r.provider !== want.provider && (!want.provider || r.provider !== 'jwt'));
  const provider = want.provider;
  if (rules.length === 0) return { provider, looksLike: others };
  const fits = rules.find((r) => r.check(value) === undefined);
  if (fits) return { provider, fits, looksLike: others };
  const meant = startsLike(value, rules) ?? rules[0];
  return { provider, meant, problem: `expected ${meant.expected}; ${meant.check(value)}`, looksLike: others };
}

/**
 * The check in sentences, for a warning: "This does not look like an OpenAI API key: expected …;
 * this value does not start with sk-proj-, …. It looks like a GitHub token." Undefined when all is well.
 */
export function describeFormatCheck(check: FormatCheck): string | undefined {
  const other = check.looksLike[0];
  const like = other ? `It looks like ${article(other.label)}${other.provider ? ` (provider ${other.provider})` : ''}.` : '';
  if (check.meant && check.problem) return `This does not look like ${article(check.meant.label)}: ${check.problem}.${like ? ` ${like}` : ''}`;
  return check.provider && like ? `${like} You chose provider ${providerLabel(check.provider)}.` : undefined;
}

// ---- a value, as Set Token, Import and Generate see it --------------------------------------------

export interface ValueAssessment {
  /** The provider to record: the chosen one, else the one the format names. */
  readonly provider?: string;
  readonly format: FormatCheck;
  /** The format problem in a sentence (what was expected, what it looks like instead). */
  readonly formatProblem?: string;
  /** When the value is a JWT: what is kept in the metadata, its expiry, and whether it has expired. */
  readonly jwt?: JwtInfo;
  readonly jwtExpiresAt?: string;
  readonly jwtExpired?: boolean;
  /** `alg: none`: nothing vouches for the claims. */
  readonly jwtUnsigned?: boolean;
  /** Set when the value starts like a JWT but cannot be read. */
  readonly jwtError?: string;
}

/**
 * Everything the format rules and the JWT reader say about `value` for a token of `provider` and
 * `type` (both optional), at `now`. Never holds the value or any part of it.
 */
export function assessValue(value: string, want: { provider?: string; type?: TokenType }, now: Date): ValueAssessment {
  const format = checkFormat(value, want);
  const provider = want.provider || format.looksLike[0]?.provider;
  let jwt: JwtContents | undefined;
  let jwtError: string | undefined;
  if (looksLikeJwt(value.trim())) {
    const r = readJwt(value);
    if (r.ok) jwt = r.jwt;
    else jwtError = r.error;
  }
  return {
    provider,
    format,
    formatProblem: describeFormatCheck(format),
    jwt: jwt && jwtMetadata(jwt),
    jwtExpiresAt: jwt && jwtExpiry(jwt),
    jwtExpired: jwt ? jwtExpired(jwt, now) : undefined,
    jwtUnsigned: jwt ? isUnsigned(jwt) : undefined,
    jwtError,
  };
}

/** Problems of an assessment as short sentences (for import reports and logs); `[]` when none. */
export function assessmentProblems(a: ValueAssessment, now: Date): string[] {
  const out: string[] = [];
  if (a.formatProblem) out.push(a.formatProblem);
  if (a.jwtError) out.push(`It starts like a JWT but ${a.jwtError}.`);
  if (a.jwtExpired && a.jwtExpiresAt) out.push(`The JWT expired on ${a.jwtExpiresAt} (${Math.max(0, Math.round((now.getTime() - Date.parse(a.jwtExpiresAt)) / 86_400_000))} days ago).`);
  if (a.jwtUnsigned) out.push('The JWT is unsigned (alg: none): nothing vouches for its claims.');
  return out;
}
