/**
 * Resolution of a server entry of a token-aware file into the launch VS Code starts. Pure: the
 * values of tokens and inputs are handed in by the caller (provider.ts), so this module is
 * unit-tested directly.
 *
 * One pass over each string: token references (`$<TOKEN:ns:name>`, `${TOKEN:ns:name}`) and the
 * variables VS Code's `mcp.json` allows (`${workspaceFolder}`, `${workspaceFolderBasename}`,
 * `${userHome}`, `${env:NAME}`, `${pathSeparator}`, `${/}`, `${input:id}`) are replaced where they
 * stand; a replaced value is never scanned again, so a value cannot inject another reference.
 */
import { createHash } from 'node:crypto';
import { findReferences, formatReference, keyId, type TokenKey } from '../../server/core/reference';
import { entryStrings, type ServerEntry } from '../../server/core/mcpConfig';

export interface VariableContext {
  /** Path of the workspace folder the file belongs to; undefined for the user file without a folder. */
  readonly workspaceFolder?: string;
  readonly userHome: string;
  readonly pathSeparator: string;
  readonly env: Readonly<Record<string, string | undefined>>;
}

export type Segment =
  | { readonly kind: 'text'; readonly text: string }
  | { readonly kind: 'token'; readonly key: TokenKey }
  | { readonly kind: 'variable'; readonly name: string; readonly arg?: string; readonly raw: string }
  | { readonly kind: 'malformed'; readonly raw: string; readonly message: string };

const VARIABLE = /\$\{([A-Za-z/][A-Za-z0-9_]*)(?::([^}]*))?\}/g;

/** Splits `text` into literal text, token references and variables. */
export function scan(text: string): Segment[] {
  const marks: { start: number; end: number; seg: Segment }[] = [];
  for (const m of findReferences(text)) {
    marks.push({
      start: m.start,
      end: m.end,
      seg: m.kind === 'reference' ? { kind: 'token', key: { namespace: m.namespace, name: m.name } } : { kind: 'malformed', raw: text.slice(m.start, m.end), message: m.message },
    });
  }
  for (const m of text.matchAll(VARIABLE)) {
    const start = m.index;
    const end = start + m[0].length;
    if (marks.some((r) => start < r.end && end > r.start)) continue; // `${TOKEN:...}` is a token, not a variable
    marks.push({ start, end, seg: { kind: 'variable', name: m[1], arg: m[2], raw: m[0] } });
  }
  marks.sort((a, b) => a.start - b.start);
  const out: Segment[] = [];
  let last = 0;
  for (const mark of marks) {
    if (mark.start > last) out.push({ kind: 'text', text: text.slice(last, mark.start) });
    out.push(mark.seg);
    last = mark.end;
  }
  if (last < text.length) out.push({ kind: 'text', text: text.slice(last) });
  return out;
}

export interface Needs {
  /** Distinct tokens the entry references, in order of appearance. */
  readonly tokens: TokenKey[];
  /** Distinct `${input:id}` ids. */
  readonly inputs: string[];
}

export function needsOf(entry: ServerEntry): Needs {
  const tokens = new Map<string, TokenKey>();
  const inputs = new Set<string>();
  for (const { value } of entryStrings(entry)) {
    for (const seg of scan(value)) {
      if (seg.kind === 'token') tokens.set(keyId(seg.key), seg.key);
      else if (seg.kind === 'variable' && seg.name === 'input' && seg.arg) inputs.add(seg.arg);
    }
  }
  return { tokens: [...tokens.values()], inputs: [...inputs] };
}

export interface ValueSource {
  token(key: TokenKey): string | undefined;
  input(id: string): string | undefined;
}

export type ResolvedLaunch =
  | { readonly kind: 'stdio'; readonly command: string; readonly args: string[]; readonly env: Record<string, string | null>; readonly cwd?: string }
  | { readonly kind: 'http'; readonly url: string; readonly headers: Record<string, string> };

export class ResolveError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(problems.join(' '));
    this.name = 'ResolveError';
  }
}

/** True when `text` holds something that looks like a token reference (well-formed or not). */
export function containsLiteralReference(text: string): boolean {
  return /\$<TOKEN:|\$\{TOKEN:/i.test(text);
}

/**
 * Resolves one string. Problems name the field and the reference or variable, never a value.
 */
export function resolveString(text: string, field: string, ctx: VariableContext, values: ValueSource, problems: string[]): string {
  let out = '';
  for (const seg of scan(text)) {
    switch (seg.kind) {
      case 'text':
        out += seg.text;
        break;
      case 'token': {
        const v = values.token(seg.key);
        if (v === undefined) problems.push(`${field}: the token ${formatReference(seg.key)} is not stored.`);
        else out += v;
        break;
      }
      case 'malformed':
        problems.push(`${field}: ${seg.message}`);
        break;
      case 'variable': {
        const v = variable(seg.name, seg.arg, ctx, values);
        if (typeof v === 'string') out += v;
        else problems.push(`${field}: ${v.problem}`);
        break;
      }
    }
  }
  return out;
}

function variable(name: string, arg: string | undefined, ctx: VariableContext, values: ValueSource): string | { problem: string } {
  const raw = `\${${name}${arg === undefined ? '' : `:${arg}`}}`;
  const noArg = (v: string | undefined, why: string) => (arg !== undefined ? { problem: `${raw} takes no argument.` } : v === undefined ? { problem: why } : v);
  switch (name) {
    case 'workspaceFolder':
      return noArg(ctx.workspaceFolder, `${raw} cannot be resolved: no workspace folder is open.`);
    case 'workspaceFolderBasename':
      return noArg(ctx.workspaceFolder === undefined ? undefined : basename(ctx.workspaceFolder), `${raw} cannot be resolved: no workspace folder is open.`);
    case 'userHome':
      return noArg(ctx.userHome, `${raw} cannot be resolved.`);
    case 'pathSeparator':
    case '/':
      return noArg(ctx.pathSeparator, `${raw} cannot be resolved.`);
    case 'env':
      if (!arg) return { problem: `${raw} needs a variable name: \${env:NAME}.` };
      return ctx.env[arg] ?? '';
    case 'input': {
      if (!arg) return { problem: `${raw} needs an input id: \${input:id}.` };
      const v = values.input(arg);
      return v === undefined ? { problem: `${raw}: no value was given for the input "${arg}".` } : v;
    }
    default:
      return { problem: `${raw} is not supported in token-aware files (supported: \${workspaceFolder}, \${workspaceFolderBasename}, \${userHome}, \${env:NAME}, \${pathSeparator}, \${input:id}).` };
  }
}

/** The last segment of a path (either separator, so Windows paths work on any host). */
function basename(path: string): string {
  const parts = path.split(/[\\/]/).filter(Boolean);
  return parts[parts.length - 1] ?? path;
}

/**
 * Resolves every field of `entry`. Throws ResolveError listing every problem (missing tokens,
 * unknown variables, inputs without value) when anything is left unresolved; the result never
 * holds a literal token reference.
 */
export function resolveEntry(entry: ServerEntry, ctx: VariableContext, values: ValueSource): ResolvedLaunch {
  const problems: string[] = [];
  const r = (text: string, field: string) => resolveString(text, field, ctx, values, problems);
  let launch: ResolvedLaunch;
  if (entry.kind === 'http') {
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(entry.headers)) headers[k] = r(v, `headers.${k}`);
    launch = { kind: 'http', url: r(entry.url, 'url'), headers };
  } else {
    const env: Record<string, string | null> = {};
    for (const [k, v] of Object.entries(entry.env)) env[k] = v === null ? null : r(v, `env.${k}`);
    launch = {
      kind: 'stdio',
      command: r(entry.command, 'command'),
      args: entry.args.map((a, i) => r(a, `args[${i}]`)),
      env,
      cwd: entry.cwd === undefined ? undefined : r(entry.cwd, 'cwd'),
    };
  }
  if (problems.length) throw new ResolveError(problems);
  if (launchStrings(launch).some(containsLiteralReference)) {
    // Only possible when a stored value itself looks like a reference: refuse rather than pass it on.
    throw new ResolveError(['The resolved launch still contains a token reference; a stored value may itself be a reference.']);
  }
  return launch;
}

export function launchStrings(launch: ResolvedLaunch): string[] {
  if (launch.kind === 'http') return [launch.url, ...Object.values(launch.headers)];
  return [launch.command, ...launch.args, ...Object.values(launch.env).filter((v): v is string => v !== null), ...(launch.cwd ? [launch.cwd] : [])];
}

/**
 * What `provideMcpServerDefinitions` shows before resolution: the entry as written, with every
 * token reference replaced by a harmless marker, so even an unresolved launch could never carry a
 * literal reference to a server.
 */
export function unresolvedText(text: string): string {
  return scan(text)
    .map((s) => (s.kind === 'token' ? `<token ${keyId(s.key)}>` : s.kind === 'text' ? s.text : s.raw))
    .join('');
}

/**
 * The `version` of a provided definition: a hash of the entry as written (not of any value), so
 * VS Code stops a running server whose definition was edited, and nothing else changes it.
 */
export function definitionVersion(entry: ServerEntry): string {
  const { span: _span, nameSpan: _nameSpan, ...rest } = entry;
  void _span;
  void _nameSpan;
  return createHash('sha256').update(JSON.stringify(rest)).digest('hex').slice(0, 16);
}
