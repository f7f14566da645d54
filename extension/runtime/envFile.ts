/**
 * The `envFile` of a stdio server: a dotenv file whose variables are added to the server's
 * environment (its `env` wins over the file). Pure (no `vscode`): provider.ts reads the file at each
 * start and hands the text in; its path and a hash of its content are part of the consent
 * fingerprint, so an edited file asks again.
 *
 * The format is the common dotenv subset: `KEY=value` lines, `export KEY=value`, `#` comments (whole
 * lines, or after an unquoted value), single-quoted values taken literally, double-quoted values
 * with `\n`, `\r`, `\t`, `\"` and `\\` escapes. Lines that are not assignments are ignored. Values
 * are used as written: references and `${...}` in them are not resolved.
 */
import { createHash } from 'node:crypto';

const LINE = /^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_.-]*)\s*=\s*(.*?)\s*$/;

/** The variables of a dotenv text, in file order (a later line overrides an earlier one). */
export function parseEnvFile(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.replace(/^\uFEFF/, '').split(/\r?\n/)) {
    const m = LINE.exec(line);
    if (!m) continue;
    out[m[1]] = value(m[2]);
  }
  return out;
}

function value(raw: string): string {
  if (raw.startsWith("'")) {
    const end = raw.indexOf("'", 1);
    return end > 0 ? raw.slice(1, end) : raw.slice(1);
  }
  if (raw.startsWith('"')) {
    let out = '';
    for (let i = 1; i < raw.length; i++) {
      const c = raw[i];
      if (c === '"') break;
      if (c === '\\' && i + 1 < raw.length) {
        const n = raw[++i];
        out += n === 'n' ? '\n' : n === 'r' ? '\r' : n === 't' ? '\t' : n;
      } else out += c;
    }
    return out;
  }
  const hash = raw.search(/\s#/);
  return (hash >= 0 ? raw.slice(0, hash) : raw).trim();
}

/** SHA-256 (hex) of the file's content: in the fingerprint instead of the values themselves. */
export function envFileDigest(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}
