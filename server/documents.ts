/**
 * Which documents are MCP config files, and their analyses: one scan per document version, cached.
 * Holds the open documents (kept up to date by the server's TextDocuments) and the workspace's
 * other MCP config files (read from disk), which "find references", rename and hovers look at.
 */
import { TextDocument, type TextDocumentContentChangeEvent } from 'vscode-languageserver-textdocument';
import { classifyUri, type ClassifyOptions, type McpFileClass } from './core/mcpFiles';
import { EditSpan, rescanChunks, scanChunks, type ChunkedScan, type ReferenceSite } from './core/configScan';
import { keyId, type ParsedReference, type TokenKey } from './core/reference';

export interface Analysis {
  readonly uri: string;
  readonly version: number;
  readonly document: TextDocument;
  readonly cls: McpFileClass;
  /**
   * The document as chunks (one per server entry): each chunk's possible hard-coded secrets
   * (`strings`, candidates only) until the diagnostics have what they need from them (then they are
   * dropped: ~30,000 objects in a 5,000-server file), its references and its name. A new version
   * re-scans only the chunks its edits touched and shares the others with the previous one.
   */
  readonly chunks: ChunkedScan;
  /** Whether `chunks` came from re-scanning only what the edits since the previous analysis touched. */
  readonly incremental: boolean;
  /** The well-formed references to `key`, with document offsets (found in the chunks on first use; no copy of the other references). */
  referencesOf(key: TokenKey): readonly ParsedReferenceSite[];
}

export type ParsedReferenceSite = ParsedReference & ReferenceSite;

/**
 * How long diagnostics wait after an edit of a document of `length` code units. A pass after an edit
 * re-analyses only the server entries the edit touched, but still walks every chunk and publishes
 * every diagnostic: about 1 ms per 64 K characters here (15–25 ms for the benchmark's 2.4 MB file).
 * So a small file is checked almost at once (25 ms: the keystrokes of one word still make one pass)
 * and a large one waits a little longer, at most `max` (the client's setting, 150 ms), so that fast
 * typing does not queue passes.
 */
export function diagnosticsDelayFor(length: number, max: number): number {
  return Math.max(0, Math.min(max, Math.round(25 + length / 65536)));
}

/** Files above this size are not read from disk (open documents are always analysed). */
export const MAX_DISK_FILE_BYTES = 8 * 1024 * 1024;

/** The edits of an open document since its last analysis, as one span (undefined: a full-text change, or unknown). */
interface EditLog {
  readonly document: TextDocument;
  /** The version the span starts from. */
  readonly from: number;
  span: EditSpan | undefined;
  /** False after a change that is not a range edit: the next analysis scans everything. */
  valid: boolean;
}

export class McpWorkspace {
  private readonly edits = new Map<string, EditLog>();
  /** Per open document, the line its last range edit started on (kept across analyses). */
  private readonly lastEdits = new Map<string, number>();
  private options: ClassifyOptions = {};
  private readonly classes = new Map<string, McpFileClass | null>();
  private readonly open = new Map<string, Analysis>();
  private readonly openDocs = new Map<string, TextDocument>();
  private readonly disk = new Map<string, Analysis>();
  /** The workspace files last listed, and how to read one (an open document's file is read again when it closes). */
  private listed = new Set<string>();
  private read: ((uri: string) => Promise<string | undefined>) | undefined;

  configure(options: ClassifyOptions): void {
    this.options = options;
    this.classes.clear();
    this.open.clear();
    for (const [uri, a] of [...this.disk]) {
      const cls = this.classify(uri);
      if (cls) this.disk.set(uri, makeAnalysis(a.document, cls, 'none'));
      else this.disk.delete(uri);
    }
  }

  classify(uri: string): McpFileClass | undefined {
    let c = this.classes.get(uri);
    if (c === undefined) {
      c = classifyUri(uri, this.options) ?? null;
      if (this.classes.size > 10_000) this.classes.clear();
      this.classes.set(uri, c);
    }
    return c ?? undefined;
  }

  /**
   * Applies an LSP `didChange` to an open document (what the server's document sync calls), and
   * remembers where it changed, so that the next analysis re-scans only that part.
   */
  update(doc: TextDocument, changes: readonly TextDocumentContentChangeEvent[], version: number): TextDocument {
    let log = this.edits.get(doc.uri);
    const analysed = this.open.get(doc.uri);
    if (!log || log.document !== doc) {
      log = { document: doc, from: analysed?.document === doc ? analysed.version : -1, span: undefined, valid: analysed?.document === doc && analysed.version === doc.version };
      this.edits.set(doc.uri, log);
    }
    for (const change of changes) {
      if ('range' in change) {
        this.lastEdits.set(doc.uri, change.range.start.line);
        // Offsets before this change (TextDocument.update applies the changes one after the other, too).
        const a = doc.offsetAt(change.range.start);
        const b = doc.offsetAt(change.range.end);
        const [start, end] = a <= b ? [a, b] : [b, a];
        log.span = log.span ? log.span.add(start, end, change.text.length) : EditSpan.of(start, end, change.text.length);
        doc = TextDocument.update(doc, [change], version);
      } else {
        log.valid = false;
        doc = TextDocument.update(doc, [change], version);
      }
    }
    if (doc !== log.document) this.edits.delete(doc.uri);
    return doc;
  }

  /** The line the last edit of an open document started on; undefined before its first edit. */
  lastEditLine(uri: string): number | undefined {
    return this.lastEdits.get(uri);
  }

  /** The analysis of `doc` at its current version (scanned once per version; only the edited part when the edits are known). */
  analyze(doc: TextDocument): Analysis | undefined {
    const cached = this.open.get(doc.uri);
    if (cached && cached.version === doc.version && cached.document === doc) return cached;
    const cls = this.classify(doc.uri);
    if (!cls) return undefined;
    const log = this.edits.get(doc.uri);
    const prev = cached && log && log.valid && log.document === doc && cached.document === doc && log.from === cached.version ? { chunks: cached.chunks, span: log.span } : undefined;
    const a = makeAnalysis(doc, cls, 'candidates', prev);
    if (this.openDocs.has(doc.uri)) {
      this.open.set(doc.uri, a);
      this.edits.set(doc.uri, { document: doc, from: a.version, span: undefined, valid: true });
    }
    return a;
  }

  /** The last analysis of an open document, even if it is a version behind (cheap lookups: hover). */
  latest(uri: string): Analysis | undefined {
    return this.open.get(uri) ?? this.disk.get(uri);
  }

  /** An open document replaces its file's copy from disk (one text and one scan per file, not two). */
  didOpen(doc: TextDocument): void {
    this.openDocs.set(doc.uri, doc);
    this.disk.delete(doc.uri);
  }

  didClose(uri: string): void {
    this.openDocs.delete(uri);
    this.open.delete(uri);
    this.edits.delete(uri);
    this.lastEdits.delete(uri);
    if (this.listed.has(uri) && this.read) void this.readFromDisk(uri, this.read);
  }

  /** Replaces the set of workspace files read from disk. `read` returns undefined for unreadable files. */
  async setWorkspaceFiles(uris: readonly string[], read: (uri: string) => Promise<string | undefined>): Promise<void> {
    const wanted = new Set(uris.filter((u) => this.classify(u)));
    this.listed = wanted;
    this.read = read;
    for (const uri of [...this.disk.keys()]) if (!wanted.has(uri)) this.disk.delete(uri);
    await Promise.all([...wanted].filter((uri) => !this.openDocs.has(uri)).map((uri) => this.readFromDisk(uri, read)));
  }

  private async readFromDisk(uri: string, read: (uri: string) => Promise<string | undefined>): Promise<void> {
    const text = await read(uri).catch(() => undefined);
    const cls = this.classify(uri);
    // Opened meanwhile: the open document is what counts.
    if (this.openDocs.has(uri)) return;
    if (text === undefined || !cls) {
      this.disk.delete(uri);
      return;
    }
    const prev = this.disk.get(uri);
    if (prev && prev.document.getText() === text) return;
    this.disk.set(uri, makeAnalysis(TextDocument.create(uri, 'jsonc', (prev?.version ?? 0) + 1, text), cls, 'none'));
  }

  /** Current analyses of every known MCP config file: open documents first, then files on disk. */
  *allAnalyses(): Generator<Analysis> {
    for (const doc of this.openDocs.values()) {
      const a = this.analyze(doc);
      if (a) yield a;
    }
    for (const [uri, a] of this.disk) if (!this.openDocs.has(uri)) yield a;
  }

  /** Like allAnalyses, but without re-scanning open documents that changed since their last scan. */
  *latestAnalyses(): Generator<Analysis> {
    for (const uri of this.openDocs.keys()) {
      const a = this.open.get(uri) ?? this.analyze(this.openDocs.get(uri)!);
      if (a) yield a;
    }
    for (const [uri, a] of this.disk) if (!this.openDocs.has(uri)) yield a;
  }

  /** Every well-formed reference to `key` in the workspace's MCP config files. */
  referencesTo(key: TokenKey, fresh = true): { analysis: Analysis; ref: ParsedReferenceSite }[] {
    const out: { analysis: Analysis; ref: ParsedReferenceSite }[] = [];
    for (const analysis of fresh ? this.allAnalyses() : this.latestAnalyses()) {
      for (const ref of analysis.referencesOf(key)) out.push({ analysis, ref });
    }
    return out;
  }
}

/**
 * `strings`: `candidates` for open documents (their diagnostics need them), `none` for files read
 * from disk (no diagnostics). `prev`: the previous analysis' chunks and the edits since (one span),
 * when they are known: then only what the edits touched is scanned again.
 */
function makeAnalysis(document: TextDocument, cls: McpFileClass, strings: 'candidates' | 'none', prev?: { chunks: ChunkedScan; span: EditSpan | undefined }): Analysis {
  const text = document.getText();
  let chunks: ChunkedScan | undefined;
  if (prev && !prev.span && prev.chunks.length === text.length) chunks = prev.chunks; // a version without a change
  else if (prev?.span) chunks = rescanChunks(prev.chunks, text, prev.span, { strings });
  const incremental = chunks !== undefined;
  chunks ??= scanChunks(text, { strings });
  const version = document.version;
  const byKey = new Map<string, ParsedReferenceSite[]>();
  const result: Analysis = {
    uri: document.uri,
    version,
    document,
    cls,
    chunks,
    incremental,
    /** Per key, on first use (references, rename, hover "used by"): diagnostics do not need it. */
    referencesOf(key: TokenKey): readonly ParsedReferenceSite[] {
      const id = keyId(key);
      let list = byKey.get(id);
      if (list) return list;
      list = [];
      chunks.chunks.forEach((c, i) => {
        const base = chunks.starts[i];
        for (const r of c.references) {
          if (r.kind !== 'reference' || r.namespace !== key.namespace || r.name !== key.name) continue;
          const site = { ...r.site, start: r.site.start + base, end: r.site.end + base };
          list!.push({ ...r, start: r.start + base, end: r.end + base, namespaceStart: r.namespaceStart + base, nameStart: r.nameStart + base, site });
        }
      });
      if (byKey.size > 256) byKey.clear();
      byKey.set(id, list);
      return list;
    },
  };
  return result;
}
