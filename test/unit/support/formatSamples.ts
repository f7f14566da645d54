/**
 * Real-looking credential samples for the format rules, built at run time from parts (a prefix and
 * deterministic pseudo-random characters), so no secret-looking literal is in the repository for a
 * secret scanner to trip over. Pure.
 */
const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const UPPER_DIGITS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
const URLSAFE = ALNUM + '-_';
const HEX = '0123456789abcdef';

/** `n` characters of `alphabet`, the same for the same seed. */
export function chars(n: number, alphabet = ALNUM, seed = 7): string {
  let x = seed * 2654435761 >>> 0 || 1;
  let out = '';
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    out += alphabet[x % alphabet.length];
  }
  return out;
}

const b64url = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');

/** A JWT with the given header and payload (signature: random base64url, or none). */
export function jwt(payload: Record<string, unknown>, header: Record<string, unknown> = { alg: 'HS256', typ: 'JWT' }, signature = chars(43, URLSAFE, 3)): string {
  return `${b64url(header)}.${b64url(payload)}.${signature}`;
}

const uuid = (seed: number) => {
  const h = chars(32, HEX, seed);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20)}`;
};

const join = (...parts: string[]) => parts.join('');

/** One valid sample per rule id (several for some), and the prefix that names it. */
export const VALID: Record<string, string[]> = {
  github: [join('gh', 'p_', chars(36, ALNUM, 1)), join('gh', 'o_', chars(36, ALNUM, 2)), join('gh', 's_', chars(36, ALNUM, 3))],
  'github-fine-grained': [join('github', '_pat_', chars(22, ALNUM, 4), '_', chars(59, ALNUM, 5))],
  anthropic: [join('sk-', 'ant-', 'api03-', chars(93, URLSAFE, 6), 'AA'), join('sk-', 'ant-', 'admin01-', chars(93, URLSAFE, 7), 'AA')],
  openai: [
    join('sk-', 'proj-', chars(74, URLSAFE, 8), 'T3Blbk', 'FJ', chars(74, URLSAFE, 9)),
    join('sk-', 'svcacct-', chars(58, URLSAFE, 10), 'T3Blbk', 'FJ', chars(58, URLSAFE, 11)),
    join('sk-', chars(20, ALNUM, 12), 'T3Blbk', 'FJ', chars(20, ALNUM, 13)),
  ],
  slack: [join('xo', 'xb-', '123456789012-', '1234567890123-', chars(24, ALNUM, 14)), join('xa', 'pp-', '1-', 'A0123456789-', '1234567890123-', chars(40, HEX, 15))],
  'slack-webhook': [join('https://hooks.', 'slack.com/services/', 'T', chars(10, UPPER_DIGITS, 16), '/B', chars(10, UPPER_DIGITS, 17), '/', chars(24, ALNUM, 18))],
  stripe: [join('sk', '_live_', chars(24, ALNUM, 19)), join('rk', '_test_', chars(99, ALNUM, 20))],
  'stripe-webhook': [join('wh', 'sec_', chars(32, ALNUM, 21))],
  'aws-access-key': [join('AK', 'IA', chars(16, UPPER_DIGITS, 22)), join('AS', 'IA', chars(16, UPPER_DIGITS, 23))],
  'aws-secret-key': [chars(40, ALNUM + '+/', 24)],
  'google-api-key': [join('AI', 'za', 'Sy', chars(33, URLSAFE, 25))],
  'google-oauth': [join('ya', '29.', chars(120, URLSAFE, 26))],
  gitlab: [join('gl', 'pat-', chars(20, URLSAFE, 27))],
  huggingface: [join('h', 'f_', chars(34, ALNUM, 28))],
  npm: [join('np', 'm_', chars(36, ALNUM, 29))],
  sendgrid: [join('S', 'G.', chars(22, URLSAFE, 30), '.', chars(43, URLSAFE, 31))],
  proxmox: [join('PVEAPI', 'Token=', 'automation@pve!', 'mcp=', uuid(32)), join('root@', 'pam!', 'ci-token=', uuid(33))],
  jwt: [jwt({ sub: 'user-1', iss: 'https://issuer.example', exp: 4102444800 })],
  'private-key': [join('-----BEGIN ', 'RSA PRIVATE', ' KEY-----\nMIIE', chars(60, ALNUM, 34), '\n', chars(64, ALNUM, 37), '\n-----END ', 'RSA PRIVATE', ' KEY-----')],
  'url-password': [join('https://', 'deploy:', chars(12, ALNUM, 38), '@git.internal.net/repo'), join('postgres://', 'admin:', chars(12, ALNUM, 35), '@db.internal:5432/app')],
  basic: [join('alice', ':', chars(16, ALNUM, 36))],
  url: ['https://mcp.example.com/v1/sse', 'http://127.0.0.1:8080/'],
  host: ['example.com', '10.0.0.5:8006', '[::1]:8443', 'pve.lan'],
};

/** A valid sample with its body cut short (kept for each rule whose length is fixed or bounded below). */
export function truncated(sample: string, keep = 20): string {
  return sample.slice(0, keep);
}

export { uuid };
