/**
 * The `envFile` of a stdio server: a dotenv file whose variables are added to the server's
 * environment (its `env` wins over the file). Pure (no `vscode`): provider.ts reads the file at each
 * start and hands the text in; its path and a hash of its content are part of the consent
 * fingerprint, so an edited file asks again.
 *
 * Parsed with `dotenv` (as "Import Tokens from Environment or .env File" does): `KEY=value`,
 * `export KEY=value`, `#` comments, quoted values. Values are used as written: references and
 * `${...}` in them are not resolved (a value that looks like a reference is refused at launch).
 */
import { createHash } from 'node:crypto';
import { parse } from 'dotenv';

/** The variables of a dotenv text (a later line overrides an earlier one). */
export function parseEnvFile(text: string): Record<string, string> {
  return parse(text.replace(/^\uFEFF/, ''));
}

/** SHA-256 (hex) of the file's content: in the fingerprint instead of the values themselves. */
export function envFileDigest(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}
