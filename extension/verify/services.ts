/**
 * The services Verify Token knows: for each, the requests that ask the service who a token belongs
 * to, and the parser of its answers (zod). Pure: no `vscode`, no I/O; `client.ts` sends the requests.
 *
 * | service       | request                                                   | identity            | scopes                          |
 * |---------------|-----------------------------------------------------------|---------------------|---------------------------------|
 * | `github`      | `GET {base}/user`                                         | `login`             | `X-OAuth-Scopes` (classic PATs) |
 * | `openai`      | `GET {base}/v1/models`                                    | `openai-organization` header | —                      |
 * | `anthropic`   | `GET {base}/v1/models`, `x-api-key`, `anthropic-version`  | `anthropic-organization-id` header | —                |
 * | `slack`       | `POST {base}/auth.test`                                   | `user @ team`       | `x-oauth-scopes`                |
 * | `gitlab`      | `GET {base}/api/v4/user`, then `…/personal_access_tokens/self` | `username`     | the token's `scopes`            |
 * | `huggingface` | `GET {base}/api/whoami-v2`                                | `name`              | the token's `role`              |
 * | `generic`     | `GET {url}` with the metadata's header template           | `login`/`username`/`name`/`email` of a JSON answer | — |
 *
 * Every request of a service goes to one origin, the base URL's (or the generic URL's).
 */
import { z } from 'zod';
import type { TokenMetadata, VerifyServiceId, VerifySettings } from '../../server/core/model';

export interface VerifyRequest {
  readonly url: string;
  readonly method: 'GET' | 'POST';
  readonly headers: Readonly<Record<string, string>>;
  readonly body?: string;
  /** The answer is needed: when it fails, the verification fails (else it only adds facts such as scopes). */
  readonly required: boolean;
}

/** What came back for one request. */
export interface Answer {
  readonly status: number;
  header(name: string): string | undefined;
  /** The parsed JSON body, or undefined when it was not JSON. */
  readonly json: unknown;
}

/** What a service's answers say about the token. */
export interface Outcome {
  readonly ok: boolean;
  readonly identity?: string;
  readonly scopes?: string[];
  readonly missingScopes?: string[];
  readonly reason?: string;
  readonly status?: number;
}

export interface ServiceSpec {
  readonly id: VerifyServiceId;
  readonly label: string;
  /** The public API root; the metadata's `baseUrl` replaces it for an enterprise host. */
  readonly defaultBase?: string;
  /** What an enterprise base URL looks like, for the prompt. */
  readonly baseExample?: string;
  requests(base: string, value: string, settings: VerifySettings): VerifyRequest[];
  /** The answers, in the order of `requests` (undefined where a non-required request failed). */
  parse(answers: readonly (Answer | undefined)[]): Outcome;
}

const USER_AGENT = 'mcp-token-manager (Verify Token)';
const bearer = (value: string) => ({ Authorization: `Bearer ${value}`, Accept: 'application/json', 'User-Agent': USER_AGENT });

function join(base: string, path: string): string {
  return `${base.replace(/\/+$/, '')}${path}`;
}

/** "a, b" or "a b" → ["a", "b"]. */
export function splitScopes(text: string | undefined): string[] | undefined {
  if (text === undefined) return undefined;
  return text
    .split(/[,\s]+/)
    .map((s) => s.trim())
    .filter(Boolean);
}

const messageShapes = z.union([
  z.object({ error: z.object({ message: z.string() }) }), // OpenAI, Anthropic
  z.object({ message: z.string() }), // GitHub, GitLab
  z.object({ error_description: z.string() }),
  z.object({ error: z.string() }), // Hugging Face, Slack, GitLab scope errors
]);

/** The service's own words for a failure, when its body has them. */
function serviceMessage(json: unknown): string | undefined {
  const m = messageShapes.safeParse(json);
  if (!m.success) return undefined;
  const d = m.data;
  return 'message' in d ? d.message : 'error_description' in d ? d.error_description : typeof d.error === 'string' ? d.error : d.error.message;
}

/** The reason for a failed answer: what the status means, and the service's message. */
export function failure(a: Answer, missingScopes?: string[]): Outcome {
  const s = a.status;
  const what =
    s === 401
      ? 'rejected: the token is invalid, expired or revoked'
      : s === 403
        ? 'forbidden: the token lacks a permission'
        : s === 404
          ? 'not found: is the base URL right?'
          : s === 429
            ? 'rate limited'
            : s >= 500
              ? 'the service failed'
              : s >= 300 && s < 400
                ? 'redirected'
                : 'unexpected answer';
  const message = serviceMessage(a.json);
  const missing = missingScopes?.length ? `; missing scopes: ${missingScopes.join(', ')}` : '';
  return { ok: false, status: s, missingScopes: missingScopes?.length ? missingScopes : undefined, reason: `${what} (HTTP ${s})${missing}${message ? `: ${message}` : ''}` };
}

const isOk = (a: Answer | undefined): a is Answer => !!a && a.status >= 200 && a.status < 300;

/** A 2xx answer whose body does not have the expected shape. */
function malformed(a: Answer): Outcome {
  return { ok: false, status: a.status, reason: `the answer (HTTP ${a.status}) is not what this service sends: is the base URL right?` };
}

const modelList = z.object({ data: z.array(z.unknown()) });

function modelsService(id: 'openai' | 'anthropic', label: string, defaultBase: string, headers: (v: string) => Record<string, string>, orgHeader: string): ServiceSpec {
  return {
    id,
    label,
    defaultBase,
    baseExample: `${defaultBase} or a compatible gateway`,
    requests: (base, value) => [{ url: join(base, '/v1/models'), method: 'GET', headers: headers(value), required: true }],
    parse: ([a]) => {
      if (!isOk(a)) return failure(a!, id === 'openai' ? openAiMissingScopes(a!) : undefined);
      if (!modelList.safeParse(a.json).success) return malformed(a);
      const org = a.header(orgHeader);
      return { ok: true, status: a.status, identity: org ? `organization ${org}` : undefined };
    },
  };
}

/** OpenAI's 403 says "… Missing scopes: api.model.read." */
function openAiMissingScopes(a: Answer): string[] | undefined {
  const m = /missing scopes?:\s*([A-Za-z0-9._:, -]+)/i.exec(serviceMessage(a.json) ?? '');
  return m ? splitScopes(m[1].replace(/\.$/, '')) : undefined;
}

const IDENTITY_FIELDS = ['login', 'username', 'name', 'email'] as const;

export const SERVICES: Readonly<Record<VerifyServiceId, ServiceSpec>> = {
  github: {
    id: 'github',
    label: 'GitHub',
    defaultBase: 'https://api.github.com',
    baseExample: 'https://github.example.com/api/v3 (GitHub Enterprise Server)',
    requests: (base, value) => [
      { url: join(base, '/user'), method: 'GET', headers: { ...bearer(value), Accept: 'application/vnd.github+json', 'X-GitHub-Api-Version': '2022-11-28' }, required: true },
    ],
    parse: ([a]) => {
      const granted = splitScopes(a?.header('x-oauth-scopes'));
      if (!isOk(a)) {
        const accepted = splitScopes(a!.header('x-accepted-oauth-scopes'));
        return failure(a!, a!.status === 403 && accepted ? accepted.filter((s) => !granted?.includes(s)) : undefined);
      }
      const user = z.object({ login: z.string().min(1).max(256) }).safeParse(a.json);
      if (!user.success) return malformed(a);
      return { ok: true, status: a.status, identity: user.data.login, scopes: granted };
    },
  },
  openai: modelsService('openai', 'OpenAI', 'https://api.openai.com', (v) => bearer(v), 'openai-organization'),
  anthropic: modelsService(
    'anthropic',
    'Anthropic',
    'https://api.anthropic.com',
    (v) => ({ 'x-api-key': v, 'anthropic-version': '2023-06-01', Accept: 'application/json', 'User-Agent': USER_AGENT }),
    'anthropic-organization-id',
  ),
  slack: {
    id: 'slack',
    label: 'Slack',
    defaultBase: 'https://slack.com/api',
    baseExample: 'https://slack.com/api',
    requests: (base, value) => [
      { url: join(base, '/auth.test'), method: 'POST', headers: { ...bearer(value), 'Content-Type': 'application/x-www-form-urlencoded' }, body: '', required: true },
    ],
    parse: ([a]) => {
      if (!isOk(a)) return failure(a!);
      // Slack answers 200 with `ok: false` and an error code.
      const body = z
        .union([
          z.object({ ok: z.literal(true), user: z.string().max(128).optional(), team: z.string().max(128).optional(), user_id: z.string().max(64).optional() }),
          z.object({ ok: z.literal(false), error: z.string().max(128), needed: z.string().max(1024).optional() }),
        ])
        .safeParse(a.json);
      if (!body.success) return malformed(a);
      if (!body.data.ok) {
        const missing = splitScopes(body.data.needed);
        const rejected = ['invalid_auth', 'not_authed', 'token_revoked', 'token_expired', 'account_inactive'].includes(body.data.error);
        return {
          ok: false,
          status: a.status,
          missingScopes: missing?.length ? missing : undefined,
          reason: `${rejected ? 'rejected' : 'refused'}: ${body.data.error}${missing?.length ? `; missing scopes: ${missing.join(', ')}` : ''}`,
        };
      }
      const { user, team, user_id } = body.data;
      return { ok: true, status: a.status, identity: [user ?? user_id, team].filter(Boolean).join(' @ ') || undefined, scopes: splitScopes(a.header('x-oauth-scopes')) };
    },
  },
  gitlab: {
    id: 'gitlab',
    label: 'GitLab',
    defaultBase: 'https://gitlab.com',
    baseExample: 'https://gitlab.example.com (self-managed GitLab)',
    requests: (base, value) => [
      { url: join(base, '/api/v4/user'), method: 'GET', headers: bearer(value), required: true },
      // Only personal, project and group access tokens have this; an OAuth token gets a 4xx (no scopes shown).
      { url: join(base, '/api/v4/personal_access_tokens/self'), method: 'GET', headers: bearer(value), required: false },
    ],
    parse: ([a, self]) => {
      if (!isOk(a)) {
        const scope = z.object({ error: z.literal('insufficient_scope'), scope: z.string().max(1024).optional() }).safeParse(a!.json);
        return failure(a!, scope.success ? splitScopes(scope.data.scope) : undefined);
      }
      const user = z.object({ username: z.string().min(1).max(256) }).safeParse(a.json);
      if (!user.success) return malformed(a);
      const token = isOk(self) ? z.object({ scopes: z.array(z.string().max(128)).max(200) }).safeParse(self.json) : undefined;
      return { ok: true, status: a.status, identity: user.data.username, scopes: token?.success ? token.data.scopes : undefined };
    },
  },
  huggingface: {
    id: 'huggingface',
    label: 'Hugging Face',
    defaultBase: 'https://huggingface.co',
    baseExample: 'https://hf.example.com (a Hugging Face Enterprise Hub)',
    requests: (base, value) => [{ url: join(base, '/api/whoami-v2'), method: 'GET', headers: bearer(value), required: true }],
    parse: ([a]) => {
      if (!isOk(a)) return failure(a!);
      const who = z
        .object({ name: z.string().min(1).max(256), auth: z.object({ accessToken: z.object({ role: z.string().max(64).optional() }).optional() }).optional() })
        .safeParse(a.json);
      if (!who.success) return malformed(a);
      const role = who.data.auth?.accessToken?.role;
      return { ok: true, status: a.status, identity: who.data.name, scopes: role ? [role] : undefined };
    },
  },
  generic: {
    id: 'generic',
    label: 'Another service (a URL and a header)',
    requests: (_base, value, settings) => {
      const template = settings.header ?? 'Authorization: Bearer {{value}}';
      const colon = template.indexOf(':');
      const name = template.slice(0, colon).trim();
      const headerValue = template
        .slice(colon + 1)
        .trim()
        .replace('{{value}}', () => value);
      return [{ url: settings.url!, method: 'GET', headers: { [name]: headerValue, Accept: 'application/json', 'User-Agent': USER_AGENT }, required: true }];
    },
    parse: ([a]) => {
      if (!isOk(a)) return failure(a!);
      const body = z.record(z.string(), z.unknown()).safeParse(a.json);
      const field = body.success ? IDENTITY_FIELDS.map((f) => body.data[f]).find((v): v is string => typeof v === 'string' && v.length > 0) : undefined;
      return { ok: true, status: a.status, identity: field };
    },
  },
};

/**
 * The service a provider name stands for (`github`, `GitHub Enterprise`, `github-fine-grained`,
 * `hf`, `claude`, …), or undefined.
 */
export function serviceForProvider(provider: string | undefined): Exclude<VerifyServiceId, 'generic'> | undefined {
  const p = (provider ?? '').toLowerCase().replace(/[^a-z0-9]/g, '');
  if (!p) return undefined;
  if (p.startsWith('github') || p === 'gh') return 'github';
  if (p.startsWith('gitlab')) return 'gitlab';
  if (p.startsWith('openai')) return 'openai';
  if (p.startsWith('anthropic') || p === 'claude') return 'anthropic';
  if (p.startsWith('slack')) return 'slack';
  if (p.startsWith('huggingface') || p === 'hf') return 'huggingface';
  return undefined;
}

/** Where Verify would send `meta`: its own settings, else the service its provider names; undefined: none known. */
export function settingsFor(meta: Pick<TokenMetadata, 'verify' | 'provider'>): VerifySettings | undefined {
  if (meta.verify) return meta.verify;
  const service = serviceForProvider(meta.provider);
  return service ? { service } : undefined;
}

/** The URL whose origin receives the value: the generic URL, the base URL, or the service's public one. */
export function targetUrl(settings: VerifySettings): string {
  if (settings.service === 'generic') return settings.url ?? '';
  return settings.baseUrl ?? SERVICES[settings.service].defaultBase!;
}
