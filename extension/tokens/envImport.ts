/**
 * Finding credentials in environment variables and `.env` files, and suggesting a reference for
 * each. Pure: no `vscode` import. Values are carried only to be stored; nothing here prints them.
 */
import { parse as parseDotenv } from 'dotenv';
import { defaultNamespaceFor, type TokenType } from '../../server/core/model';
import { nameError, namespaceError, type TokenKey } from '../../server/core/reference';

/** Variable-name endings that mark a credential, and the token type each suggests. */
const CREDENTIAL_SUFFIXES: readonly [RegExp, TokenType][] = [
  [/_API_?KEY$/, 'api-key'],
  [/_ACCESS_?KEY(_ID)?$/, 'api-key'],
  [/_SECRET(_ACCESS)?_?KEY$/, 'api-key'],
  [/_KEY$/, 'api-key'],
  [/_(ACCESS_|AUTH_|BEARER_|API_)?TOKEN$/, 'bearer'],
  [/_PAT$/, 'bearer'],
  [/_(CLIENT_)?SECRET$/, 'generic'],
  [/_PASSWORD$|_PASSWD$|_PWD$/, 'basic'],
  [/_CREDENTIALS?$/, 'generic'],
];

/** Prefixes that name a provider better than the variable's first word. */
const PROVIDERS: readonly [RegExp, string][] = [
  [/^(GITHUB|GH)_/, 'github'],
  [/^OPENAI_/, 'openai'],
  [/^ANTHROPIC_/, 'anthropic'],
  [/^SLACK_/, 'slack'],
  [/^AWS_/, 'aws'],
  [/^(GOOGLE|GCP|GEMINI)_/, 'google'],
  [/^STRIPE_/, 'stripe'],
  [/^NOTION_/, 'notion'],
  [/^GITLAB_/, 'gitlab'],
  [/^HF_|^HUGGING_?FACE_/, 'huggingface'],
];

export interface CredentialCandidate {
  readonly variable: string;
  readonly value: string;
  readonly type: TokenType;
  readonly provider?: string;
  /** The reference suggested for it, e.g. `bearer:github` for GITHUB_TOKEN. */
  readonly suggested: TokenKey;
}

export function looksLikeCredential(variable: string): TokenType | undefined {
  const upper = variable.toUpperCase();
  for (const [pattern, type] of CREDENTIAL_SUFFIXES) if (pattern.test(upper)) return type;
  return undefined;
}

export function suggestKey(variable: string, type: TokenType): { key: TokenKey; provider?: string } {
  const upper = variable.toUpperCase();
  const provider = PROVIDERS.find(([p]) => p.test(upper))?.[1];
  let name = provider;
  if (!name) {
    // GITHUB_TOKEN -> github; MY_SERVICE_API_KEY -> my-service
    const stripped = upper.replace(/_(API_?KEY|ACCESS_?KEY(_ID)?|SECRET(_ACCESS)?_?KEY|KEY|(ACCESS_|AUTH_|BEARER_|API_)?TOKEN|PAT|(CLIENT_)?SECRET|PASSWORD|PASSWD|PWD|CREDENTIALS?)$/, '');
    name = stripped.toLowerCase().replace(/_+/g, '-').replace(/^-+|-+$/g, '') || upper.toLowerCase();
  }
  if (nameError(name)) name = name.replace(/[^A-Za-z0-9._-]/g, '-').replace(/^[^A-Za-z0-9]+/, '') || 'imported';
  const namespace = defaultNamespaceFor(type);
  return { key: { namespace: namespaceError(namespace) ? 'generic' : namespace, name }, provider };
}

/** Credential-looking entries of an environment (non-empty values only), sorted by name. */
export function findCredentials(env: Record<string, string | undefined>): CredentialCandidate[] {
  const out: CredentialCandidate[] = [];
  for (const [variable, value] of Object.entries(env)) {
    if (!value) continue;
    const type = looksLikeCredential(variable);
    if (!type) continue;
    const { key, provider } = suggestKey(variable, type);
    out.push({ variable, value, type, provider, suggested: key });
  }
  return out.sort((a, b) => a.variable.localeCompare(b.variable));
}

/** Parses a `.env` file (dotenv's grammar: quotes, `export`, comments, multi-line values). */
export function parseEnvFile(text: string): Record<string, string> {
  return parseDotenv(text);
}

/** A candidate for a variable the user named explicitly, whatever its name looks like. */
export function candidateFor(variable: string, value: string | undefined): CredentialCandidate | undefined {
  if (!value) return undefined;
  const type = looksLikeCredential(variable) ?? 'generic';
  const { key, provider } = suggestKey(variable, type);
  return { variable, value, type, provider, suggested: key };
}
