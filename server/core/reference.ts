/**
 * The token reference grammar, in one place. Pure: no `vscode`, no `vscode-languageserver`.
 *
 *   reference  = angle / brace
 *   angle      = "$<TOKEN:" namespace ":" name ">"     ; canonical, VS Code leaves it alone
 *   brace      = "${TOKEN:" namespace ":" name "}"     ; mcp-cli's form
 *   namespace  = ALNUM *63( ALNUM / "-" / "_" / "." )
 *   name       = ALNUM *127( ALNUM / "-" / "_" / "." )
 *
 * Parsing works on JavaScript strings (UTF-16 code units); every offset returned is a code-unit
 * offset into the string that was scanned, so callers can map it onto a document directly.
 */

export type ReferenceForm = 'angle' | 'brace';

export const NAMESPACE_MAX = 64;
export const NAME_MAX = 128;
/** One segment (namespace or name): starts with a letter or digit, then letters, digits, `-`, `_`, `.`. */
export const SEGMENT_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

const OPEN: Record<ReferenceForm, string> = { angle: '$<', brace: '${' };
const CLOSE: Record<ReferenceForm, string> = { angle: '>', brace: '}' };
const KEYWORD = 'TOKEN';

export interface TokenKey {
  readonly namespace: string;
  readonly name: string;
}

export interface ParsedReference extends TokenKey {
  readonly kind: 'reference';
  readonly form: ReferenceForm;
  /** Offset of `$`. */
  readonly start: number;
  /** Offset just past the closing `>` or `}`. */
  readonly end: number;
  readonly namespaceStart: number;
  readonly nameStart: number;
}

export interface MalformedReference {
  readonly kind: 'malformed';
  readonly form: ReferenceForm;
  readonly start: number;
  readonly end: number;
  readonly message: string;
}

export type ReferenceMatch = ParsedReference | MalformedReference;

/** Why a namespace is not valid, or undefined when it is. */
export function namespaceError(namespace: string): string | undefined {
  return segmentError(namespace, 'namespace', NAMESPACE_MAX);
}

/** Why a name is not valid, or undefined when it is. */
export function nameError(name: string): string | undefined {
  return segmentError(name, 'name', NAME_MAX);
}

function segmentError(value: string, what: string, max: number): string | undefined {
  if (value.length === 0) return `The ${what} is empty.`;
  if (value.length > max) return `The ${what} is longer than ${max} characters.`;
  if (!SEGMENT_PATTERN.test(value)) {
    return `The ${what} "${value}" may only contain letters, digits, "-", "_" and "." and must start with a letter or digit.`;
  }
  return undefined;
}

export function isValidKey(key: TokenKey): boolean {
  return namespaceError(key.namespace) === undefined && nameError(key.name) === undefined;
}

/** `namespace:name`, the key used in stores, logs and the mcp-cli keyring account. */
export function keyId(key: TokenKey): string {
  return `${key.namespace}:${key.name}`;
}

/** Splits `namespace:name`; undefined when it is not a valid key. */
export function parseKeyId(id: string): TokenKey | undefined {
  const colon = id.indexOf(':');
  if (colon < 0) return undefined;
  const key = { namespace: id.slice(0, colon), name: id.slice(colon + 1) };
  return isValidKey(key) ? key : undefined;
}

export function formatReference(key: TokenKey, form: ReferenceForm = 'angle'): string {
  return `${OPEN[form]}${KEYWORD}:${key.namespace}:${key.name}${CLOSE[form]}`;
}

/** Characters that can never be part of a reference body: a scan stops at them. */
function isBodyStop(ch: string): boolean {
  return ch === '"' || ch === "'" || ch === '`' || ch === '$' || ch === '<' || ch === '{' || /\s/.test(ch);
}

/**
 * Finds every token reference in `text`, well-formed or not. A `${...}` that is not a TOKEN
 * reference (for example `${workspaceFolder}` or `${env:HOME}`) is not reported.
 */
export function findReferences(text: string): ReferenceMatch[] {
  const out: ReferenceMatch[] = [];
  let i = text.indexOf('$');
  while (i >= 0 && i < text.length - 1) {
    const next = text[i + 1];
    const form: ReferenceForm | undefined = next === '<' ? 'angle' : next === '{' ? 'brace' : undefined;
    if (!form) {
      i = text.indexOf('$', i + 1);
      continue;
    }
    const match = matchAt(text, i, form);
    if (match) {
      out.push(match);
      i = text.indexOf('$', Math.max(match.end, i + 1));
    } else {
      i = text.indexOf('$', i + 2);
    }
  }
  return out;
}

/** Only the well-formed references of `text`. */
export function parseReferences(text: string): ParsedReference[] {
  return findReferences(text).filter((m): m is ParsedReference => m.kind === 'reference');
}

/** When the whole of `text` is one well-formed reference, that reference. */
export function parseWholeReference(text: string): ParsedReference | undefined {
  const refs = findReferences(text);
  if (refs.length !== 1) return undefined;
  const [ref] = refs;
  return ref.kind === 'reference' && ref.start === 0 && ref.end === text.length ? ref : undefined;
}

function matchAt(text: string, start: number, form: ReferenceForm): ReferenceMatch | undefined {
  const kwStart = start + 2;
  const keyword = text.slice(kwStart, kwStart + KEYWORD.length);
  if (keyword.toUpperCase() !== KEYWORD || text[kwStart + KEYWORD.length] !== ':') {
    return undefined; // `$<foo>`, `${env:X}`: not ours
  }
  const close = CLOSE[form];
  const bodyStart = kwStart + KEYWORD.length + 1;
  let j = bodyStart;
  while (j < text.length && text[j] !== close && !isBodyStop(text[j])) j++;
  const closed = j < text.length && text[j] === close;
  const end = closed ? j + 1 : j;
  const malformed = (message: string): MalformedReference => ({ kind: 'malformed', form, start, end, message });
  if (keyword !== KEYWORD) {
    return malformed(`The keyword must be written "${KEYWORD}" in capitals: ${OPEN[form]}${KEYWORD}:namespace:name${close}.`);
  }
  if (!closed) {
    return malformed(`The reference is not closed: expected "${close}" after ${OPEN[form]}${KEYWORD}:namespace:name.`);
  }
  const body = text.slice(bodyStart, j);
  const parts = body.split(':');
  if (parts.length !== 2) {
    return malformed(
      parts.length < 2
        ? `The reference needs a namespace and a name: ${OPEN[form]}${KEYWORD}:namespace:name${close}.`
        : `The reference has too many ":" parts; expected ${OPEN[form]}${KEYWORD}:namespace:name${close}.`,
    );
  }
  const [namespace, name] = parts;
  const problem = namespaceError(namespace) ?? nameError(name);
  if (problem) return malformed(problem);
  return { kind: 'reference', form, start, end, namespace, name, namespaceStart: bodyStart, nameStart: bodyStart + namespace.length + 1 };
}

/**
 * Replaces every well-formed reference in `text` by `resolve(key)` (the `mcp-tokens` launcher's
 * arguments and environment). References for which `resolve` returns undefined are collected in
 * `missing` and left as they are.
 */
export function substituteReferences(
  text: string,
  resolve: (key: TokenKey, ref: ParsedReference) => string | undefined,
): { text: string; missing: ParsedReference[]; replaced: ParsedReference[] } {
  const missing: ParsedReference[] = [];
  const replaced: ParsedReference[] = [];
  let out = '';
  let last = 0;
  for (const ref of parseReferences(text)) {
    const value = resolve(ref, ref);
    if (value === undefined) {
      missing.push(ref);
      continue;
    }
    out += text.slice(last, ref.start) + value;
    last = ref.end;
    replaced.push(ref);
  }
  return { text: out + text.slice(last), missing, replaced };
}
