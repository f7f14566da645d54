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
import { isLauncherCommand } from './launcherWrap';

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
   * referenced only by their references). `none`: no strings (files read from disk for references).
   */
  readonly strings?: 'all' | 'candidates' | 'none';
}
const SERVER_ROOTS = new Set<string>(['servers', 'mcpServers']);

/**
 * One piece of a document, with its offsets relative to its own start: a server entry of a
 * `servers` / `mcpServers` object (from the opening quote of its name up to the next entry's name,
 * or up to the object's closing brace), or the text around the entries (`other`: before the first
 * entry, and from a server object's closing brace on). Chunks cover the document without gaps.
 * Immutable once the scan is done except for the caches of the language server's diagnostics
 * (`facts`, set by server/features/diagnostics.ts), so an edit re-scans only the chunks it touched
 * and the others are reused as they are, shifted (see rescanChunks).
 */
export interface ScanChunk {
  readonly kind: 'entry' | 'other';
  /** What the chunk starts at: an entry's name, a server object's closing brace, or the document's start. */
  readonly begins: 'entry' | 'close' | 'start';
  /** `servers` / `mcpServers`: the object of the entry, or the one whose closing brace begins the chunk. */
  readonly root?: string;
  readonly length: number;
  /** The entry's name (offsets relative to the chunk). */
  readonly server?: ServerSite;
  /** The string values kept (see ScanOptions; relative offsets). The language server drops them once it has what it needs. */
  strings: readonly StringSite[];
  readonly references: readonly ReferenceSite[];
  /** The entry runs through the mcp-tokens launcher (`command` names it, `args[0]` is `run` or `proxy`). */
  readonly wrapped: boolean;
  /** Caches of the language server, valid as long as the chunk (its text) is. */
  facts?: unknown;
}

/** A document as chunks: `starts[i]` is the document offset of `chunks[i]`. */
export interface ChunkedScan {
  readonly chunks: readonly ScanChunk[];
  readonly starts: readonly number[];
  /** The document's length. */
  readonly length: number;
}

interface Frame {
  readonly isArray: boolean;
  key: string | number | undefined;
  /** In an object: the next string is a property name. */
  expectKey: boolean;
}

/** A chunk being built. */
class ChunkBuilder {
  readonly strings: StringSite[] = [];
  readonly references: ReferenceSite[] = [];
  server: ServerSite | undefined;
  command: string | undefined;
  argsIsArray = false;
  arg0: string | undefined;

  constructor(readonly start: number, readonly kind: 'entry' | 'other', readonly begins: ScanChunk['begins'], readonly root: string | undefined) {}

  finish(end: number): ScanChunk {
    const wrapped = this.kind === 'entry' && isLauncherCommand(this.command) && this.argsIsArray && (this.arg0 === 'run' || this.arg0 === 'proxy');
    return { kind: this.kind, begins: this.begins, root: this.root, length: end - this.start, server: this.server, strings: this.strings, references: this.references, wrapped };
  }
}

/** Where a re-scan may stop: a chunk boundary at `offset` of this kind; true when the rest is known. */
type Resync = (begins: 'entry' | 'close', offset: number, root: string) => boolean;

/**
 * Walks `text` once with jsonc-parser's scanner and a small stack of containers (no recursion, so no
 * nesting depth can overflow the stack; no closure per value, so a 2 MB file is cheap). Tolerant:
 * an unmatched closer is ignored, a missing colon or comma is read as if it were there.
 * From `from` with `frames` (a re-scan resumes at an entry's name), until the end or until `resync`
 * says the rest of the document is what an earlier scan found.
 */
function walk(text: string, options: ScanOptions, from: number, frames: Frame[], first: ChunkBuilder, resync?: Resync): { chunks: ScanChunk[]; starts: number[]; stoppedAt?: number } {
  const mode = options.strings ?? 'all';
  const keepAll = mode === 'all';
  const keepNone = mode === 'none';
  const chunks: ScanChunk[] = [];
  const starts: number[] = [];
  let chunk = first;
  // Property names repeat (`env`, `API_TOKEN`, `Authorization` in every server): one copy each.
  const names = new Map<string, string>();
  const intern = (n: string): string => {
    const known = names.get(n);
    if (known !== undefined) return known;
    const copy = detach(n);
    if (names.size < 10_000) names.set(copy, copy);
    return copy;
  };
  let prevArg: string | undefined;
  const scanner = createScanner(text, true);
  if (from > 0) scanner.setPosition(from);

  /** Ends the current chunk at `offset` and starts the next; true when `resync` says the rest is known. */
  const boundary = (begins: 'entry' | 'close', offset: number, root: string): boolean => {
    if (offset === chunk.start) return false; // the chunk a re-scan starts with
    chunks.push(chunk.finish(offset));
    starts.push(chunk.start);
    if (resync?.(begins, offset, root)) return true;
    chunk = new ChunkBuilder(offset, begins === 'entry' ? 'entry' : 'other', begins, root);
    return false;
  };

  const onString = (offset: number, length: number) => {
    const closed = length >= 2 && text.charCodeAt(offset + length - 1) === 34 /* " */ && !escapedAt(text, offset + length - 1, offset + 1);
    const start = offset + 1;
    const end = closed ? offset + length - 1 : offset + length;
    let raw = text.slice(start, end);
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
    if (hasDollar) {
      // Kept with its references for as long as the chunk.
      raw = detach(raw);
      if (argPrev !== undefined) argPrev = detach(argPrev);
    }
    if (!keepAll && !hasDollar && (keepNone || server === undefined || section === undefined || !SECRET_SECTIONS.has(section) || raw.length < MIN_SECRET_LENGTH)) return;
    const base = chunk.start;
    const site: StringSite = { start: start - base, end: end - base, raw, root, server, section, key, prevArg: argPrev, literalLength: undefined };
    const strings = chunk.strings;
    if (!keepNone && (keepAll || raw.length >= MIN_SECRET_LENGTH)) strings.push(site);
    if (hasDollar) {
      let literal = raw.length;
      const at = site.start;
      for (const m of findReferences(raw)) {
        if (m.kind === 'reference') literal -= m.end - m.start;
        chunk.references.push(
          m.kind === 'reference'
            ? { ...m, start: m.start + at, end: m.end + at, namespaceStart: m.namespaceStart + at, nameStart: m.nameStart + at, site }
            : { ...m, start: m.start + at, end: m.end + at, site },
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

  /** A value starts in a server entry: what says whether it runs through the launcher. */
  const entryValue = (kind: number) => {
    if (chunk.kind !== 'entry') return;
    const top = frames[frames.length - 1];
    if (frames.length === 3 && !top.isArray && !top.expectKey) {
      if (top.key === 'command') chunk.command = kind === K.String ? scanner.getTokenValue() : undefined;
      else if (top.key === 'args') {
        chunk.argsIsArray = kind === K.OpenBracket;
        chunk.arg0 = undefined;
      }
    } else if (frames.length === 4 && top.isArray && top.key === 0 && frames[2].key === 'args' && !frames[2].isArray) {
      chunk.arg0 = kind === K.String ? scanner.getTokenValue() : undefined;
    }
  };

  const inBlock = () => frames.length === 2 && typeof frames[0].key === 'string' && !frames[0].isArray && SERVER_ROOTS.has(frames[0].key);

  for (let kind: number = scanner.scan(); kind !== K.EOF; kind = scanner.scan()) {
    const top = frames[frames.length - 1];
    switch (kind) {
      case K.OpenBrace:
        entryValue(kind);
        frames.push({ isArray: false, key: undefined, expectKey: true });
        break;
      case K.CloseBrace:
        if (top && !top.isArray) {
          if (inBlock() && boundary('close', scanner.getTokenOffset(), frames[0].key as string)) return { chunks, starts, stoppedAt: scanner.getTokenOffset() };
          frames.pop();
          afterValue();
        }
        break;
      case K.OpenBracket:
        entryValue(kind);
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
          if (inBlock()) {
            const root = frames[0].key as string;
            if (boundary('entry', offset, root)) return { chunks, starts, stoppedAt: offset };
            const property = detach(scanner.getTokenValue());
            const closed = length >= 2 && text.charCodeAt(offset + length - 1) === 34;
            chunk.server = { name: property, root: root as 'servers' | 'mcpServers', nameStart: 1, nameEnd: (closed ? length - 1 : length) };
            top.key = property;
          } else {
            top.key = frames.length === 2 ? detach(scanner.getTokenValue()) : intern(scanner.getTokenValue());
          }
          top.expectKey = false;
        } else {
          entryValue(kind);
          onString(offset, length);
          if (top && !top.isArray) top.expectKey = true;
        }
        break;
      }
      case K.Number:
      case K.True:
      case K.False:
      case K.Null:
        entryValue(kind);
        if (frames.length === 4 && top?.isArray) prevArg = undefined;
        if (top && !top.isArray) top.expectKey = true;
        break;
      default:
        break;
    }
  }
  chunks.push(chunk.finish(text.length));
  starts.push(chunk.start);
  return { chunks, starts };
}

/** The whole document as chunks (see ScanChunk). */
export function scanChunks(text: string, options: ScanOptions = {}): ChunkedScan {
  const { chunks, starts } = walk(text, options, 0, [], new ChunkBuilder(0, 'other', 'start', undefined));
  return { chunks, starts, length: text.length };
}

/**
 * What an edit changed, as one span: the text `[oldStart, oldEnd)` of the previous version became
 * `[oldStart, newEnd)` of the new one (everything before is unchanged, everything after shifted).
 * Several edits make one span that covers them all (see EditSpan.add).
 */
export class EditSpan {
  private constructor(readonly oldStart: number, readonly oldEnd: number, readonly newEnd: number) {}

  static of(start: number, end: number, insertedLength: number): EditSpan {
    return new EditSpan(start, end, start + insertedLength);
  }

  /** By how much the text after the span moved. */
  get delta(): number {
    return this.newEnd - this.oldEnd;
  }

  /** This span followed by the edit `[start, end)` → `insertedLength` characters (offsets of the text after this span). */
  add(start: number, end: number, insertedLength: number): EditSpan {
    const delta = this.delta;
    const oldStart = Math.min(this.oldStart, start);
    const oldEnd = Math.max(this.oldEnd, end - delta);
    const newEnd = Math.max(this.newEnd, end) + insertedLength - (end - start);
    return new EditSpan(oldStart, oldEnd, newEnd);
  }
}

/** Index of the last chunk starting at or before `offset`. */
function chunkAt(starts: readonly number[], offset: number): number {
  let lo = 0;
  let hi = starts.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (starts[mid] <= offset) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

/**
 * The scan of `text`, the previous version's `prev` changed by `span`: only what the edit touched
 * is scanned again, from the name of the server entry before the change, until the scan reaches a
 * chunk boundary of the previous version after it (from there on, the text and the scanner's state
 * are what they were: those chunks are reused, shifted); the result equals `scanChunks(text)`.
 * Undefined when the change is not inside a server object (then scan the whole document).
 */
export function rescanChunks(prev: ChunkedScan, text: string, span: EditSpan, options: ScanOptions = {}): ChunkedScan | undefined {
  const delta = span.delta;
  if (text.length !== prev.length + delta || span.oldStart < 1 || span.oldEnd > prev.length) return undefined;
  // The chunk holding the character before the change: the tokens before it end where they did.
  const i = chunkAt(prev.starts, span.oldStart - 1);
  const from = prev.chunks[i];
  if (from.kind !== 'entry' || from.root === undefined) return undefined;
  const start = prev.starts[i];
  const frames: Frame[] = [
    { isArray: false, key: from.root, expectKey: false },
    { isArray: false, key: undefined, expectKey: true },
  ];
  let rest = -1;
  const resync: Resync = (begins, offset, root) => {
    if (offset < span.newEnd) return false;
    const old = offset - delta;
    const j = chunkAt(prev.starts, old);
    if (j <= i || prev.starts[j] !== old || prev.chunks[j].begins !== begins || prev.chunks[j].root !== root) return false;
    rest = j;
    return true;
  };
  const { chunks, starts } = walk(text, options, start, frames, new ChunkBuilder(start, 'entry', 'entry', from.root), resync);
  const allChunks = prev.chunks.slice(0, i).concat(chunks);
  const allStarts = prev.starts.slice(0, i).concat(starts);
  if (rest >= 0) {
    for (let j = rest; j < prev.chunks.length; j++) {
      allChunks.push(prev.chunks[j]);
      allStarts.push(prev.starts[j] + delta);
    }
  }
  return { chunks: allChunks, starts: allStarts, length: text.length };
}

/** The chunks' contents with document offsets. */
export function flattenChunks(scan: ChunkedScan): ScanResult {
  const strings: StringSite[] = [];
  const servers: ServerSite[] = [];
  const references: ReferenceSite[] = [];
  scan.chunks.forEach((c, i) => {
    const base = scan.starts[i];
    if (c.server) servers.push({ ...c.server, nameStart: c.server.nameStart + base, nameEnd: c.server.nameEnd + base });
    const moved = new Map<StringSite, StringSite>();
    const move = (s: StringSite): StringSite => {
      let m = moved.get(s);
      if (!m) moved.set(s, (m = { ...s, start: s.start + base, end: s.end + base }));
      return m;
    };
    for (const s of c.strings) strings.push(move(s));
    for (const r of c.references) {
      references.push(
        r.kind === 'reference'
          ? { ...r, start: r.start + base, end: r.end + base, namespaceStart: r.namespaceStart + base, nameStart: r.nameStart + base, site: move(r.site) }
          : { ...r, start: r.start + base, end: r.end + base, site: move(r.site) },
      );
    }
  });
  return { strings, servers, references, complete: true };
}

/** One pass over `text` (see walk): every string value (or only the candidates), servers and references, with document offsets. */
export function scanConfig(text: string, options: ScanOptions = {}): ScanResult {
  return flattenChunks(scanChunks(text, options));
}

/**
 * A copy of `s` that does not share the memory of a larger string it was sliced from. V8 keeps a
 * slice of 13 or more characters as a view into its parent: a name or value kept from a scan would
 * keep the whole document text of that version alive, and an incremental scan keeps chunks from
 * many versions (one 2.4 MB text per version in the benchmark's document).
 */
export function detach(s: string): string {
  return s.length < 13 ? s : (' ' + s).slice(1);
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
