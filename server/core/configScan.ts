/**
 * One pass over an MCP config document (JSON with comments): every string value with where it sits
 * (server, section, key), every server entry and every token reference, as document offsets.
 * Pure and tolerant: malformed JSON yields what could be read; nothing throws.
 *
 * Shapes: VS Code's `{ "servers": { name: {...} }, "inputs": [...] }` and the
 * `{ "mcpServers": { name: {...} } }` shape of Claude, Cursor and mcp-cli.
 */
import { createScanner } from 'jsonc-parser';
import { findReferences, type ReferenceMatch } from './reference';

export type Section = 'env' | 'headers' | 'args' | 'url' | 'command' | 'cwd' | 'other';

export interface StringSite {
  /** Offset of the first character inside the quotes. */
  readonly start: number;
  /** Offset of the closing quote (or of the end of an unterminated string). */
  readonly end: number;
  /** The source text between the quotes (escapes not decoded). */
  readonly raw: string;
  /** `servers` / `mcpServers` / `inputs` / another top-level property. */
  readonly root?: string;
  /** The server entry the string belongs to. */
  readonly server?: string;
  /** The server's field the string is in. */
  readonly section?: Section;
  /** The property name inside `env` / `headers`. */
  readonly key?: string;
  /** For `args`: the previous argument's source text. */
  readonly prevArg?: string;
  /** Characters of `raw` outside well-formed references (set when `raw` holds a `$`). */
  literalLength?: number;
}

export interface ServerSite {
  readonly name: string;
  readonly root: 'servers' | 'mcpServers';
  /** Offsets of the property name's content (inside its quotes). */
  readonly nameStart: number;
  readonly nameEnd: number;
}

/** A reference found in a string value; offsets are document offsets. */
export type ReferenceSite = ReferenceMatch & { readonly site: StringSite };

export interface ScanResult {
  /** Every string value, or with `{ strings: 'candidates' }` only the possible hard-coded secrets (see isSecretCandidate). */
  readonly strings: readonly StringSite[];
  readonly servers: readonly ServerSite[];
  readonly references: readonly ReferenceSite[];
  /** Always true since the walk is iterative (kept for callers that check it). */
  readonly complete: boolean;
}

/** jsonc-parser's `SyntaxKind` values (a const enum, which isolated modules cannot read). */
const K = { OpenBrace: 1, CloseBrace: 2, OpenBracket: 3, CloseBracket: 4, Comma: 5, Colon: 6, Null: 7, True: 8, False: 9, String: 10, Number: 11, EOF: 17 } as const;

const SECTIONS = new Set<string>(['env', 'headers', 'args', 'url', 'command', 'cwd']);
/** Sections whose values may hold a hard-coded secret. */
export const SECRET_SECTIONS: ReadonlySet<string> = new Set(['env', 'headers', 'args', 'url']);
/** Shorter literals are never reported as hard-coded secrets. */
export const MIN_SECRET_LENGTH = 8;

/** A string value that may hold a hard-coded secret: in a server's env, headers, args or url, with at least 8 literal characters. */
export function isSecretCandidate(s: StringSite): boolean {
  return s.server !== undefined && s.section !== undefined && SECRET_SECTIONS.has(s.section) && s.raw.length >= MIN_SECRET_LENGTH && (s.literalLength ?? s.raw.length) >= MIN_SECRET_LENGTH;
}

export interface ScanOptions {
  /**
   * `all` (default): every string value in `strings`. `candidates`: only the possible hard-coded
   * secrets (the language server keeps one scan per open document; the other strings' sites are
   * referenced only by their references).
   */
  readonly strings?: 'all' | 'candidates';
}
const SERVER_ROOTS = new Set<string>(['servers', 'mcpServers']);

interface Frame {
  readonly isArray: boolean;
  key: string | number | undefined;
  /** In an object: the next string is a property name. */
  expectKey: boolean;
}

/**
 * Walks `text` once with jsonc-parser's scanner and a small stack of containers (no recursion, so no
 * nesting depth can overflow the stack; no closure per value, so a 2 MB file is cheap). Tolerant:
 * an unmatched closer is ignored, a missing colon or comma is read as if it were there.
 */
export function scanConfig(text: string, options: ScanOptions = {}): ScanResult {
  const keepAll = options.strings !== 'candidates';
  const strings: StringSite[] = [];
  // Property names repeat (`env`, `API_TOKEN`, `Authorization` in every server): one copy each.
  const names = new Map<string, string>();
  const intern = (n: string): string => {
    const known = names.get(n);
    if (known !== undefined) return known;
    if (names.size < 10_000) names.set(n, n);
    return n;
  };
  const servers: ServerSite[] = [];
  const references: ReferenceSite[] = [];
  const frames: Frame[] = [];
  let prevArg: string | undefined;
  const scanner = createScanner(text, true);

  const onString = (offset: number, length: number) => {
    const closed = length >= 2 && text.charCodeAt(offset + length - 1) === 34 /* " */ && !escapedAt(text, offset + length - 1, offset + 1);
    const start = offset + 1;
    const end = closed ? offset + length - 1 : offset + length;
    const raw = text.slice(start, end);
    const root = frames.length > 0 && typeof frames[0].key === 'string' && !frames[0].isArray ? frames[0].key : undefined;
    let server: string | undefined;
    let section: Section | undefined;
    let key: string | undefined;
    let argPrev: string | undefined;
    if (root !== undefined && SERVER_ROOTS.has(root) && frames.length >= 2 && !frames[1].isArray && typeof frames[1].key === 'string') {
      server = frames[1].key;
      if (frames.length >= 3 && !frames[2].isArray && typeof frames[2].key === 'string') {
        section = SECTIONS.has(frames[2].key) ? (frames[2].key as Section) : 'other';
        if ((section === 'env' || section === 'headers') && frames.length >= 4 && !frames[3].isArray && typeof frames[3].key === 'string') {
          key = frames[3].key;
        }
        if (section === 'args' && frames.length === 4 && frames[3].isArray) {
          argPrev = prevArg;
          prevArg = raw;
        }
      }
    }
    const hasDollar = raw.indexOf('$') >= 0;
    if (!keepAll && !hasDollar && (server === undefined || section === undefined || !SECRET_SECTIONS.has(section) || raw.length < MIN_SECRET_LENGTH)) return;
    const site: StringSite = { start, end, raw, root, server, section, key, prevArg: argPrev, literalLength: undefined };
    if (keepAll || raw.length >= MIN_SECRET_LENGTH) strings.push(site);
    if (hasDollar) {
      let literal = raw.length;
      for (const m of findReferences(raw)) {
        if (m.kind === 'reference') literal -= m.end - m.start;
        references.push(
          m.kind === 'reference'
            ? { ...m, start: m.start + start, end: m.end + start, namespaceStart: m.namespaceStart + start, nameStart: m.nameStart + start, site }
            : { ...m, start: m.start + start, end: m.end + start, site },
        );
      }
      site.literalLength = literal;
      if (!keepAll && strings[strings.length - 1] === site && !isSecretCandidate(site)) strings.pop();
    }
  };

  /** After a value in an object the next string is a key, comma or not (tolerates a missing comma). */
  const afterValue = () => {
    const parent = frames[frames.length - 1];
    if (parent && !parent.isArray) parent.expectKey = true;
  };

  for (let kind: number = scanner.scan(); kind !== K.EOF; kind = scanner.scan()) {
    const top = frames[frames.length - 1];
    switch (kind) {
      case K.OpenBrace:
        frames.push({ isArray: false, key: undefined, expectKey: true });
        break;
      case K.CloseBrace:
        if (top && !top.isArray) {
          frames.pop();
          afterValue();
        }
        break;
      case K.OpenBracket:
        frames.push({ isArray: true, key: 0, expectKey: false });
        if (frames.length === 4) prevArg = undefined;
        break;
      case K.CloseBracket:
        if (top?.isArray) {
          frames.pop();
          afterValue();
        }
        break;
      case K.Comma:
        if (top?.isArray) top.key = (top.key as number) + 1;
        else if (top) top.expectKey = true;
        break;
      case K.Colon:
        if (top && !top.isArray) top.expectKey = false;
        break;
      case K.String: {
        const offset = scanner.getTokenOffset();
        const length = scanner.getTokenLength();
        if (top && !top.isArray && top.expectKey) {
          const property = frames.length === 2 ? scanner.getTokenValue() : intern(scanner.getTokenValue());
          top.key = property;
          top.expectKey = false;
          if (frames.length === 2 && typeof frames[0].key === 'string' && !frames[0].isArray && SERVER_ROOTS.has(frames[0].key)) {
            const closed = length >= 2 && text.charCodeAt(offset + length - 1) === 34;
            servers.push({ name: property, root: frames[0].key as 'servers' | 'mcpServers', nameStart: offset + 1, nameEnd: closed ? offset + length - 1 : offset + length });
          }
        } else {
          onString(offset, length);
          if (top && !top.isArray) top.expectKey = true;
        }
        break;
      }
      case K.Number:
      case K.True:
      case K.False:
      case K.Null:
        if (frames.length === 4 && top?.isArray) prevArg = undefined;
        if (top && !top.isArray) top.expectKey = true;
        break;
      default:
        break;
    }
  }
  return { strings, servers, references, complete: true };
}

/** True when the character at `index` is escaped by an odd run of backslashes (not before `floor`). */
function escapedAt(text: string, index: number, floor: number): boolean {
  let n = 0;
  for (let i = index - 1; i >= floor && text.charCodeAt(i) === 92; i--) n++;
  return n % 2 === 1;
}

/**
 * The string literal around `offset`, found from the current line only (JSON strings cannot span
 * lines), so completion and hover never need a parse. Undefined outside a string or in a comment.
 */
export interface StringAtOffset {
  /** Offset of the first character inside the quotes. */
  readonly start: number;
  /** Offset of the closing quote, or the end of the line when the string is not closed. */
  readonly end: number;
  /** The string is a property name (followed by `:`). */
  readonly isKey: boolean;
}

export function stringAtOffset(text: string, offset: number): StringAtOffset | undefined {
  if (offset < 0 || offset > text.length) return undefined;
  const lineStart = text.lastIndexOf('\n', offset - 1) + 1;
  let lineEnd = text.indexOf('\n', offset);
  if (lineEnd < 0) lineEnd = text.length;
  if (lineEnd > 0 && text.charCodeAt(lineEnd - 1) === 13) lineEnd--;
  if (offset > lineEnd) return undefined;
  let i = lineStart;
  while (i < lineEnd) {
    const c = text.charCodeAt(i);
    if (c === 47 /* / */ && text.charCodeAt(i + 1) === 47) return undefined; // line comment before offset
    if (c === 47 && text.charCodeAt(i + 1) === 42 /* * */) {
      const close = text.indexOf('*/', i + 2);
      if (close < 0 || close + 2 > lineEnd) return undefined;
      i = close + 2;
      if (i > offset) return undefined;
      continue;
    }
    if (c === 34) {
      const start = i + 1;
      let j = start;
      while (j < lineEnd) {
        const d = text.charCodeAt(j);
        if (d === 92) j += 2;
        else if (d === 34) break;
        else j++;
      }
      const end = Math.min(j, lineEnd);
      if (offset >= start && offset <= end) {
        let k = end + 1;
        while (k < lineEnd && (text.charCodeAt(k) === 32 || text.charCodeAt(k) === 9)) k++;
        return { start, end, isKey: end < lineEnd && text.charCodeAt(k) === 58 /* : */ };
      }
      i = end + 1;
      if (i > offset) return undefined;
      continue;
    }
    if (i >= offset) return undefined;
    i++;
  }
  return undefined;
}
