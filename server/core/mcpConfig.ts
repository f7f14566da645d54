/**
 * MCP server config files, parsed. Pure: no `vscode`, no `vscode-languageserver`; used by the MCP
 * server provider (extension/runtime) and available to the language server.
 *
 * Two shapes are read:
 *  - VS Code's `mcp.json` shape (`servers`, `inputs`), used by the token-aware files
 *    `.vscode/mcp.tokens.json` and the user-level `mcp.tokens.json`;
 *  - mcp-cli's `server_config.json` (`mcpServers`).
 *
 * Files are JSONC (comments, trailing commas). One invalid server does not hide the others: each
 * entry is validated on its own with zod and its problems are reported with the entry's offsets.
 *
 * Bounds (the reader never throws, whatever the file): jsonc-parser's `parseTree` and `getNodeValue`
 * recurse once per nesting level and overflow the stack at a few thousand levels, so a linear,
 * iterative scan first measures the nesting; a file nested deeper than MAX_CONFIG_DEPTH is not
 * parsed (one error problem at the first too-deep bracket, no servers). A file longer than
 * MAX_CONFIG_CHARS is not parsed either. At most MAX_SYNTAX_PROBLEMS syntax errors are reported.
 */
import { z } from 'zod';
import { createScanner, findNodeAtLocation, getNodeValue, parseTree, printParseErrorCode, type Node, type ParseError } from 'jsonc-parser';
import { isInternalNamespace } from './model';
import { parseWholeReference, type TokenKey } from './reference';

/** The name of the per-workspace-folder token-aware file, relative to the folder. */
export const WORKSPACE_TOKENS_FILE = '.vscode/mcp.tokens.json';
/** The name of the user-level token-aware file (in the extension's global storage folder). */
export const USER_TOKENS_FILE = 'mcp.tokens.json';
/** mcp-cli's config file name, read from the workspace root when `mcpTokens.servers.mcpCliConfig` is `true`. */
export const MCP_CLI_CONFIG_FILE = 'server_config.json';

export type ConfigFlavor = 'vscode' | 'mcp-cli';

export interface Span {
  readonly start: number;
  readonly end: number;
}

interface EntryBase {
  readonly name: string;
  /** The property (key and value) in the file. */
  readonly span: Span;
  /** The key (with quotes). */
  readonly nameSpan: Span;
}

export interface StdioServerEntry extends EntryBase {
  readonly kind: 'stdio';
  readonly command: string;
  readonly args: readonly string[];
  /** `null` removes a variable from the inherited environment. */
  readonly env: Readonly<Record<string, string | null>>;
  readonly cwd?: string;
  readonly envFile?: string;
}

export interface HttpServerEntry extends EntryBase {
  readonly kind: 'http';
  readonly url: string;
  readonly headers: Readonly<Record<string, string>>;
  /** A pre-registered OAuth client for this server (used when its `oauth:` token needs a sign-in). */
  readonly oauth?: OAuthClientConfig;
}

/**
 * `servers.<name>.oauth` of an HTTP server: an OAuth client registered out of band with the
 * authorization server. The secret is never written in the file: `clientSecret` is one whole token
 * reference, resolved from the store when the server starts.
 */
export interface OAuthClientConfig {
  readonly clientId: string;
  /** The reference as written (`$<TOKEN:ns:name>` or `${TOKEN:ns:name}`). */
  readonly clientSecret?: string;
  /** The token `clientSecret` names. */
  readonly clientSecretKey?: TokenKey;
  /** Used only when the authorization server publishes no metadata (both or neither). */
  readonly authorizationUrl?: string;
  readonly tokenUrl?: string;
  /** Requested when neither the server's challenge nor its resource metadata names scopes. */
  readonly scopes?: readonly string[];
}

export type ServerEntry = StdioServerEntry | HttpServerEntry;

export interface PromptInput {
  readonly type: 'promptString';
  readonly id: string;
  readonly description?: string;
  readonly password: boolean;
  readonly default?: string;
}

export interface PickInput {
  readonly type: 'pickString';
  readonly id: string;
  readonly description?: string;
  readonly options: readonly string[];
  readonly default?: string;
}

export type InputDefinition = PromptInput | PickInput;

export interface ConfigProblem {
  readonly message: string;
  readonly span: Span;
  readonly severity: 'error' | 'warning';
}

export interface ParsedMcpConfig {
  readonly flavor: ConfigFlavor;
  readonly servers: readonly ServerEntry[];
  readonly inputs: readonly InputDefinition[];
  readonly problems: readonly ConfigProblem[];
}

const stringMap = z.record(z.string(), z.string());

const stdioSchema = z.object({
  type: z.literal('stdio').optional(),
  command: z.string().min(1, 'The command is empty.'),
  args: z.array(z.string()).optional(),
  env: z.record(z.string(), z.union([z.string(), z.number(), z.null()])).optional(),
  cwd: z.string().optional(),
  envFile: z.string().optional(),
});

const httpUrl = z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' });

/** Namespaces a client secret may not live in: the OAuth feature's own (hidden or with OAuth semantics). */
const RESERVED_SECRET_NAMESPACES = ['oauth'];

export const oauthClientSchema = z
  .object({
    clientId: z.string().min(1, 'The client id is empty.').max(512),
    // Never echo the value in a message: it may be a secret pasted by mistake.
    clientSecret: z
      .string()
      .optional()
      .superRefine((v, ctx) => {
        if (v === undefined) return;
        const ref = parseWholeReference(v.trim());
        if (!ref) {
          ctx.addIssue({ code: 'custom', message: 'must be one token reference such as $<TOKEN:api-key:my-client-secret>, never the secret itself' });
        } else if (RESERVED_SECRET_NAMESPACES.includes(ref.namespace) || isInternalNamespace(ref.namespace)) {
          ctx.addIssue({ code: 'custom', message: `must name a token in a namespace of your own (e.g. api-key), not "${ref.namespace}", which the OAuth feature uses for its own entries` });
        }
      }),
    authorizationUrl: httpUrl.optional(),
    tokenUrl: httpUrl.optional(),
    scopes: z.array(z.string().min(1).regex(/^\S+$/, 'a scope has no spaces')).optional(),
  })
  .strict()
  .refine((o) => (o.authorizationUrl === undefined) === (o.tokenUrl === undefined), { message: 'authorizationUrl and tokenUrl go together (both or neither)' });

const httpSchema = z.object({
  type: z.enum(['http', 'sse']).optional(),
  url: z.string().min(1, 'The url is empty.'),
  headers: stringMap.optional(),
  oauth: oauthClientSchema.optional(),
});

function toOAuthClient(o: z.infer<typeof oauthClientSchema>): OAuthClientConfig {
  const ref = o.clientSecret === undefined ? undefined : parseWholeReference(o.clientSecret.trim());
  return {
    clientId: o.clientId,
    ...(o.clientSecret !== undefined ? { clientSecret: o.clientSecret.trim() } : {}),
    ...(ref ? { clientSecretKey: { namespace: ref.namespace, name: ref.name } } : {}),
    ...(o.authorizationUrl ? { authorizationUrl: o.authorizationUrl, tokenUrl: o.tokenUrl } : {}),
    ...(o.scopes?.length ? { scopes: o.scopes } : {}),
  };
}

const inputSchema = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('promptString'),
    id: z.string().min(1),
    description: z.string().optional(),
    password: z.boolean().optional(),
    default: z.string().optional(),
  }),
  z.object({
    type: z.literal('pickString'),
    id: z.string().min(1),
    description: z.string().optional(),
    options: z.array(z.union([z.string(), z.object({ value: z.string() }).transform((o) => o.value)])).min(1),
    default: z.string().optional(),
  }),
]);

function issues(error: z.ZodError): string {
  return error.issues.map((i) => (i.path.length ? `${i.path.join('.')}: ${i.message}` : i.message)).join('; ');
}

function spanOf(node: Node): Span {
  return { start: node.offset, end: node.offset + node.length };
}

/** Deeper nesting is refused (real MCP configs nest 4–6 levels; jsonc-parser overflows the stack at ~3,000). */
export const MAX_CONFIG_DEPTH = 256;
/** Longer files are refused (8 Mi characters, the language server's bound for files on disk). */
export const MAX_CONFIG_CHARS = 8 * 1024 * 1024;
/** Syntax errors reported per file (a file of 8 MB of commas has millions). */
export const MAX_SYNTAX_PROBLEMS = 100;

const PARSE_OPTIONS = { allowTrailingComma: true, disallowComments: false, allowEmptyContent: true } as const;

/**
 * The offset of the first `[` or `{` nested deeper than `limit`, or -1. Iterative (jsonc-parser's
 * scanner: strings and comments are skipped as tokens), linear in the text's length.
 */
export function tooDeepAt(text: string, limit = MAX_CONFIG_DEPTH): number {
  const scanner = createScanner(text, true);
  let depth = 0;
  // SyntaxKind: 1 `{`, 2 `}`, 3 `[`, 4 `]`, 17 EOF (a const enum, which isolated modules cannot read).
  for (let kind: number = scanner.scan(); kind !== 17; kind = scanner.scan()) {
    if (kind === 1 || kind === 3) {
      if (++depth > limit) return scanner.getTokenOffset();
    } else if ((kind === 2 || kind === 4) && depth > 0) depth--;
  }
  return -1;
}

/** The parse tree when the text is within the bounds, else the problem that says why not. */
function boundedTree(text: string, errors: ParseError[]): { root: Node | undefined; refused?: ConfigProblem } {
  if (text.length > MAX_CONFIG_CHARS) {
    return { root: undefined, refused: { message: `The file is too large to read (${(text.length / 2 ** 20).toFixed(1)} Mi characters; the limit is ${MAX_CONFIG_CHARS / 2 ** 20} Mi). None of its servers is served.`, span: { start: 0, end: 0 }, severity: 'error' } };
  }
  const deep = tooDeepAt(text);
  if (deep >= 0) {
    return { root: undefined, refused: { message: `Arrays and objects are nested more than ${MAX_CONFIG_DEPTH} levels deep here; the file is not read. None of its servers is served.`, span: { start: deep, end: deep + 1 }, severity: 'error' } };
  }
  return { root: parseTree(text, errors, PARSE_OPTIONS) };
}

/** Parses `text` as a config of the given flavor. Never throws (see the bounds above). */
export function parseMcpConfig(text: string, flavor: ConfigFlavor = 'vscode'): ParsedMcpConfig {
  try {
    return clampSpans(parseBounded(text, flavor), text.length);
  } catch (e) {
    // Not expected within the bounds; a file must never take the other files' servers with it.
    const why = e instanceof Error ? `${e.name}: ${e.message}` : 'unknown error';
    return { flavor, servers: [], inputs: [], problems: [{ message: `The file could not be read (${why.slice(0, 200)}). None of its servers is served.`, span: { start: 0, end: 0 }, severity: 'error' }] };
  }
}

/**
 * Every span inside [0, length]: jsonc-parser gives a node or an error that ends in an unterminated
 * comment a length reaching past the end of the text.
 */
function clampSpans(parsed: ParsedMcpConfig, length: number): ParsedMcpConfig {
  const c = (s: Span): Span => {
    const start = Math.min(Math.max(0, s.start), length);
    return s.start === start && s.end >= start && s.end <= length ? s : { start, end: Math.min(Math.max(start, s.end), length) };
  };
  return {
    ...parsed,
    problems: parsed.problems.map((p) => ({ ...p, span: c(p.span) })),
    servers: parsed.servers.map((e) => ({ ...e, span: c(e.span), nameSpan: c(e.nameSpan) })),
  };
}

function parseBounded(text: string, flavor: ConfigFlavor): ParsedMcpConfig {
  const errors: ParseError[] = [];
  const { root, refused } = boundedTree(text, errors);
  // jsonc-parser may report an error reaching past the end (an unterminated comment): clamp.
  const clamp = (start: number, length: number): Span => {
    const a = Math.min(Math.max(0, start), text.length);
    return { start: a, end: Math.min(Math.max(a, start + length), text.length) };
  };
  const problems: ConfigProblem[] = errors.slice(0, MAX_SYNTAX_PROBLEMS).map((e) => ({
    message: `JSON syntax: ${printParseErrorCode(e.error)}`,
    span: clamp(e.offset, e.length),
    severity: 'error',
  }));
  if (errors.length > MAX_SYNTAX_PROBLEMS) {
    const last = errors[errors.length - 1];
    problems.push({ message: `JSON syntax: ${errors.length - MAX_SYNTAX_PROBLEMS} more errors not listed.`, span: clamp(last.offset, last.length), severity: 'error' });
  }
  if (refused) problems.push(refused);
  const servers: ServerEntry[] = [];
  const inputs: InputDefinition[] = [];
  if (!root) return { flavor, servers, inputs, problems };
  if (root.type !== 'object') {
    problems.push({ message: 'The file must contain a JSON object.', span: spanOf(root), severity: 'error' });
    return { flavor, servers, inputs, problems };
  }
  const serversKey = flavor === 'vscode' ? 'servers' : 'mcpServers';
  const serversNode = findNodeAtLocation(root, [serversKey]);
  if (serversNode && serversNode.type !== 'object') {
    problems.push({ message: `"${serversKey}" must be an object of servers by name.`, span: spanOf(serversNode), severity: 'error' });
  } else if (serversNode) {
    const seen = new Set<string>();
    for (const prop of serversNode.children ?? []) {
      const [keyNode, valueNode] = prop.children ?? [];
      if (!keyNode || !valueNode) continue;
      const name = String(keyNode.value);
      if (seen.has(name)) {
        problems.push({ message: `The server "${name}" is defined twice; the first definition is used.`, span: spanOf(keyNode), severity: 'warning' });
        continue;
      }
      seen.add(name);
      const entry = parseServer(name, prop, keyNode, valueNode, problems);
      if (entry) servers.push(entry);
    }
  }
  const inputsNode = flavor === 'vscode' ? findNodeAtLocation(root, ['inputs']) : undefined;
  if (inputsNode && inputsNode.type !== 'array') {
    problems.push({ message: '"inputs" must be an array.', span: spanOf(inputsNode), severity: 'error' });
  } else if (inputsNode) {
    for (const item of inputsNode.children ?? []) {
      const value = getNodeValue(item) as unknown;
      if (value && typeof value === 'object' && (value as { type?: unknown }).type === 'command') {
        problems.push({
          message: 'Inputs of type "command" are not supported in token-aware files: VS Code would keep their values in plain text. Store the secret as a token and reference it as $<TOKEN:namespace:name>.',
          span: spanOf(item),
          severity: 'error',
        });
        continue;
      }
      const parsed = inputSchema.safeParse(value);
      if (!parsed.success) {
        problems.push({ message: `Invalid input: ${issues(parsed.error)}`, span: spanOf(item), severity: 'error' });
        continue;
      }
      const d = parsed.data;
      inputs.push(
        d.type === 'promptString'
          ? { type: 'promptString', id: d.id, description: d.description, password: d.password ?? false, default: d.default }
          : { type: 'pickString', id: d.id, description: d.description, options: d.options, default: d.default },
      );
    }
  }
  return { flavor, servers, inputs, problems };
}

function parseServer(name: string, prop: Node, keyNode: Node, valueNode: Node, problems: ConfigProblem[]): ServerEntry | undefined {
  const base = { name, span: spanOf(prop), nameSpan: spanOf(keyNode) };
  const raw = getNodeValue(valueNode) as unknown;
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) {
    problems.push({ message: `The server "${name}" must be an object.`, span: spanOf(valueNode), severity: 'error' });
    return undefined;
  }
  const obj = raw as Record<string, unknown>;
  const isHttp = obj.type === 'http' || obj.type === 'sse' || (obj.type === undefined && typeof obj.url === 'string' && obj.command === undefined);
  if (isHttp) {
    const parsed = httpSchema.safeParse(obj);
    if (!parsed.success) {
      problems.push({ message: `Server "${name}": ${issues(parsed.error)}`, span: spanOf(valueNode), severity: 'error' });
      return undefined;
    }
    return {
      ...base,
      kind: 'http',
      url: parsed.data.url,
      headers: parsed.data.headers ?? {},
      ...(parsed.data.oauth ? { oauth: toOAuthClient(parsed.data.oauth) } : {}),
    };
  }
  const parsed = stdioSchema.safeParse(obj);
  if (!parsed.success) {
    problems.push({ message: `Server "${name}": ${issues(parsed.error)}`, span: spanOf(valueNode), severity: 'error' });
    return undefined;
  }
  const env: Record<string, string | null> = {};
  for (const [k, v] of Object.entries(parsed.data.env ?? {})) env[k] = v === null ? null : String(v);
  return {
    ...base,
    kind: 'stdio',
    command: parsed.data.command,
    args: parsed.data.args ?? [],
    env,
    cwd: parsed.data.cwd,
    envFile: parsed.data.envFile,
  };
}

/**
 * Every string of an entry that may hold references or variables, with where it goes. An HTTP
 * server's `oauth.clientSecret` comes first: it is needed (for the sign-in) before the headers'
 * OAuth token can be obtained; it goes to the authorization server, never into the launch.
 */
export function entryStrings(entry: ServerEntry): { field: string; value: string }[] {
  if (entry.kind === 'http') {
    return [
      ...(entry.oauth?.clientSecret !== undefined ? [{ field: 'oauth.clientSecret', value: entry.oauth.clientSecret }] : []),
      { field: 'url', value: entry.url },
      ...Object.entries(entry.headers).map(([k, v]) => ({ field: `headers.${k}`, value: v })),
    ];
  }
  const out = [{ field: 'command', value: entry.command }, ...entry.args.map((a, i) => ({ field: `args[${i}]`, value: a }))];
  for (const [k, v] of Object.entries(entry.env)) if (v !== null) out.push({ field: `env.${k}`, value: v });
  if (entry.cwd !== undefined) out.push({ field: 'cwd', value: entry.cwd });
  return out;
}

/** The JSON node of `servers.<name>` (or `mcpServers.<name>`), for edits. */
export function findServerNode(text: string, name: string, flavor: ConfigFlavor = 'vscode'): { root: Node; property: Node } | undefined {
  const { root } = boundedTree(text, []);
  if (!root) return undefined;
  const value = findNodeAtLocation(root, [flavor === 'vscode' ? 'servers' : 'mcpServers', name]);
  if (!value?.parent) return undefined;
  return { root, property: value.parent };
}
