/**
 * Resolution of a server entry of a token-aware file into the launch VS Code starts. Pure: the
 * values of tokens and inputs are handed in by the caller (provider.ts), so this module is
 * unit-tested directly.
 *
 * One pass over each string: token references (`$<TOKEN:ns:name>`, `${TOKEN:ns:name}`) and the
 * variables VS Code's `mcp.json` allows (`${workspaceFolder}`, `${workspaceFolderBasename}`,
 * `${userHome}`, `${env:NAME}`, `${pathSeparator}`, `${/}`, `${input:id}`) are replaced where they
 * stand; a replaced value is never scanned again, so a value cannot inject another reference.
 *
 * A start resolves in two steps, so that consent is asked on the launch as it will really run:
 *  1. `planLaunch` resolves every variable and input and keeps each token reference (and each
 *     password input) as a placeholder: the plan is what the consent fingerprint is computed on;
 *  2. `finishLaunch` fills the placeholders with the token values, once the user has agreed.
 * Both steps use the same plan, so what was shown and allowed is exactly what is launched.
 */
import { createHash } from 'node:crypto';
import * as path from 'node:path';
import { findReferences, formatReference, keyId, type TokenKey } from '../../server/core/reference';
import { isInternalNamespace } from '../../server/core/model';
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
  | { readonly kind: 'token'; readonly key: TokenKey; readonly raw: string }
  | { readonly kind: 'variable'; readonly name: string; readonly arg?: string; readonly raw: string }
  | { readonly kind: 'malformed'; readonly raw: string; readonly message: string };

const VARIABLE = /\$\{([A-Za-z/][A-Za-z0-9_]*)(?::([^}]*))?\}/g;

/**
 * The last scans, by text: a start scans each string of its entry for its needs, its plan and its
 * fingerprint; the Servers view scans the same entries again on every refresh. Segments are never
 * changed by their users (readonly), so they are shared. Bounded: cleared when it reaches the limit.
 */
const scans = new Map<string, readonly Segment[]>();
const MAX_SCANS = 2000;

/** Splits `text` into literal text, token references and variables. */
export function scan(text: string): readonly Segment[] {
  let segments = scans.get(text);
  if (segments === undefined) {
    if (scans.size >= MAX_SCANS) scans.clear();
    scans.set(text, (segments = scanText(text)));
  }
  return segments;
}

function scanText(text: string): Segment[] {
  const marks: { start: number; end: number; seg: Segment }[] = [];
  for (const m of findReferences(text)) {
    marks.push({
      start: m.start,
      end: m.end,
      seg: m.kind === 'reference' ? { kind: 'token', key: { namespace: m.namespace, name: m.name }, raw: text.slice(m.start, m.end) } : { kind: 'malformed', raw: text.slice(m.start, m.end), message: m.message },
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
  const strings = entryStrings(entry).map((x) => x.value);
  if (entry.kind === 'stdio' && entry.envFile !== undefined) strings.push(entry.envFile);
  for (const value of strings) {
    for (const seg of scan(value)) {
      if (seg.kind === 'token') tokens.set(keyId(seg.key), seg.key);
      else if (seg.kind === 'variable' && seg.name === 'input' && seg.arg) inputs.add(seg.arg);
    }
  }
  return { tokens: [...tokens.values()], inputs: [...inputs] };
}

export interface InputSource {
  /** The value given for `${input:id}`, undefined when none was given. */
  input(id: string): string | undefined;
  /**
   * True for a `password: true` input: its value is kept out of the plan's description (it stands
   * there as `${input:id}`, like a token reference), so it is never shown, stored or hashed.
   */
  isSecretInput?(id: string): boolean;
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
 * One resolved string with its secrets left out: literal text (variables and ordinary inputs already
 * filled in), token references, and password inputs.
 */
export type Part =
  | { readonly kind: 'text'; readonly text: string }
  | { readonly kind: 'token'; readonly key: TokenKey; readonly raw: string }
  | { readonly kind: 'secret-input'; readonly id: string; readonly value: string };
export type Template = readonly Part[];

/** Resolves the variables and inputs of one string, keeping its secrets as parts. */
export function templateOf(text: string, field: string, ctx: VariableContext, inputs: InputSource, problems: string[]): Template {
  const out: Part[] = [];
  const pushText = (t: string) => {
    const last = out[out.length - 1];
    if (last?.kind === 'text') out[out.length - 1] = { kind: 'text', text: last.text + t };
    else out.push({ kind: 'text', text: t });
  };
  for (const seg of scan(text)) {
    switch (seg.kind) {
      case 'text':
        pushText(seg.text);
        break;
      case 'token':
        // Refresh tokens, client registrations and Recently Deleted values belong to the store, never to a server.
        if (isInternalNamespace(seg.key.namespace)) problems.push(`${field}: ${seg.raw} names an internal entry of MCP Tokens, which is never handed to a server.`);
        else out.push({ kind: 'token', key: seg.key, raw: seg.raw });
        break;
      case 'malformed':
        problems.push(`${field}: ${seg.message}`);
        break;
      case 'variable': {
        const v = variable(seg.name, seg.arg, ctx, inputs);
        if (typeof v !== 'string') problems.push(`${field}: ${v.problem}`);
        else if (seg.name === 'input' && seg.arg && inputs.isSecretInput?.(seg.arg)) out.push({ kind: 'secret-input', id: seg.arg, value: v });
        else pushText(v);
        break;
      }
    }
  }
  return out;
}

/** The template with every secret as its reference text: `$<TOKEN:ns:name>`, `${input:id}`. Never a value. */
export function placeholderText(t: Template): string {
  return t.map((p) => (p.kind === 'text' ? p.text : p.kind === 'token' ? p.raw : `\${input:${p.id}}`)).join('');
}

/** The template with the token values filled in (problems name the reference, never a value). */
export function fillTemplate(t: Template, field: string, token: (key: TokenKey) => string | undefined, problems: string[]): string {
  let out = '';
  for (const p of t) {
    if (p.kind === 'text') out += p.text;
    else if (p.kind === 'secret-input') out += p.value;
    else {
      const v = token(p.key);
      if (v === undefined) problems.push(`${field}: the token ${formatReference(p.key)} is not stored.`);
      else out += v;
    }
  }
  return out;
}

function variable(name: string, arg: string | undefined, ctx: VariableContext, values: InputSource): string | { problem: string } {
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
 * The directory a stdio server runs in: its `cwd` (variables resolved) against `baseDir`, or
 * `baseDir` itself. `baseDir` is the workspace folder for a workspace file and the user's home for
 * a user-level file, so a user-level server never runs inside whatever folder happens to be open.
 */
export function effectiveCwd(cwd: string | undefined, baseDir: string): string {
  return cwd === undefined || cwd === '' ? path.resolve(baseDir) : path.resolve(baseDir, cwd);
}

/** A launch with variables and inputs resolved and every secret still a placeholder (see the module doc). */
export type LaunchPlan =
  | {
      readonly kind: 'stdio';
      readonly command: Template;
      readonly args: readonly Template[];
      readonly env: Readonly<Record<string, Template | null>>;
      readonly cwd?: Template;
      /** What a relative or absent `cwd` (and a relative `envFile`) resolves against. */
      readonly baseDir: string;
      /** Absolute path of the `envFile`, if the entry names one. */
      readonly envFile?: string;
    }
  | {
      readonly kind: 'http';
      readonly url: Template;
      readonly headers: Readonly<Record<string, Template>>;
      /** The token endpoint of the entry's pre-registered OAuth client (its secret is sent there). */
      readonly tokenEndpoint?: string;
    };

/**
 * Step 1 of a start: resolves variables and inputs (throws ResolveError listing every problem).
 * `baseDir`: see `effectiveCwd`.
 */
export function planLaunch(entry: ServerEntry, ctx: VariableContext, inputs: InputSource, baseDir: string): LaunchPlan {
  const problems: string[] = [];
  const plan = planOf(entry, ctx, inputs, baseDir, problems);
  if (problems.length) throw new ResolveError(problems);
  return plan;
}

function planOf(entry: ServerEntry, ctx: VariableContext, inputs: InputSource, baseDir: string, problems: string[]): LaunchPlan {
  const t = (text: string, field: string) => templateOf(text, field, ctx, inputs, problems);
  if (entry.kind === 'http') {
    const headers: Record<string, Template> = {};
    for (const [k, v] of Object.entries(entry.headers)) headers[k] = t(v, `headers.${k}`);
    return { kind: 'http', url: t(entry.url, 'url'), headers, ...(entry.oauth?.tokenUrl ? { tokenEndpoint: entry.oauth.tokenUrl } : {}) };
  }
  const env: Record<string, Template | null> = {};
  for (const [k, v] of Object.entries(entry.env)) env[k] = v === null ? null : t(v, `env.${k}`);
  let envFile: string | undefined;
  if (entry.envFile !== undefined) {
    const parts = t(entry.envFile, 'envFile');
    if (parts.some((p) => p.kind !== 'text')) problems.push('envFile: a token reference or password input cannot name the environment file.');
    else envFile = effectiveCwd(placeholderText(parts), baseDir);
  }
  return {
    kind: 'stdio',
    command: t(entry.command, 'command'),
    args: entry.args.map((a, i) => t(a, `args[${i}]`)),
    env,
    ...(entry.cwd !== undefined ? { cwd: t(entry.cwd, 'cwd') } : {}),
    baseDir,
    ...(envFile !== undefined ? { envFile } : {}),
  };
}

/**
 * Step 2 of a start: fills in the token values. `envFileVars` are the variables of the plan's
 * `envFile` (read by the caller); the entry's `env` wins over them. The result never holds a
 * literal token reference (ResolveError otherwise), and its `cwd` is the effective one.
 */
export function finishLaunch(plan: LaunchPlan, token: (key: TokenKey) => string | undefined, envFileVars: Readonly<Record<string, string>> = {}): ResolvedLaunch {
  const problems: string[] = [];
  const f = (t: Template, field: string) => fillTemplate(t, field, token, problems);
  let launch: ResolvedLaunch;
  if (plan.kind === 'http') {
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(plan.headers)) headers[k] = f(v, `headers.${k}`);
    launch = { kind: 'http', url: f(plan.url, 'url'), headers };
  } else {
    const env: Record<string, string | null> = { ...envFileVars };
    for (const [k, v] of Object.entries(plan.env)) env[k] = v === null ? null : f(v, `env.${k}`);
    launch = {
      kind: 'stdio',
      command: f(plan.command, 'command'),
      args: plan.args.map((a, i) => f(a, `args[${i}]`)),
      env,
      cwd: effectiveCwd(plan.cwd === undefined ? undefined : f(plan.cwd, 'cwd'), plan.baseDir),
    };
  }
  if (problems.length) throw new ResolveError(problems);
  refuseLiteralReference(launch);
  return launch;
}

function refuseLiteralReference(launch: ResolvedLaunch): void {
  if (launchStrings(launch).some(containsLiteralReference)) {
    // Only possible when a stored value (or an envFile value) itself looks like a reference: refuse rather than pass it on.
    throw new ResolveError(['The resolved launch still contains a token reference; a stored value or an envFile value may itself be a reference.']);
  }
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
