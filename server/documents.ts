/**
 * Which documents are MCP config files, and their analyses: one scan per document version, cached.
 * Holds the open documents (kept up to date by the server's TextDocuments) and the workspace's
 * other MCP config files (read from disk), which "find references", rename and hovers look at.
 */
import { TextDocument } from 'vscode-languageserver-textdocument';
import { classifyUri, type ClassifyOptions, type McpFileClass } from './core/mcpFiles';
import { scanConfig, type ReferenceSite, type ScanResult, type StringSite } from './core/configScan';
import { keyId, type ParsedReference, type TokenKey } from './core/reference';

export interface Analysis {
  readonly uri: string;
  readonly version: number;
  readonly document: TextDocument;
  readonly cls: McpFileClass;
  /** References and servers (`scan.strings` is empty: see `secretCandidates`). */
  readonly scan: ScanResult;
  /**
   * The string values that may hold a hard-coded secret. Kept from the analysis' scan until
   * `releaseCandidates` (the server calls it after a diagnostics pass: they are ~30,000 objects in
   * a 5,000-server file and nothing else needs them); scanned again when asked for after that.
   */
  secretCandidates(): readonly StringSite[];
  releaseCandidates(): void;
  /** Well-formed references by `namespace:name`. */
  readonly byKey: ReadonlyMap<string, readonly ParsedReferenceSite[]>;
}

export type ParsedReferenceSite = ParsedReference & ReferenceSite;

/**
 * How long diagnostics wait after an edit of a document of `length` code units: a pass costs about
 * 1 ms per 16 K characters here, so a small file is checked almost at once (25 ms: the keystrokes of
 * one word still make one pass), a large one waits up to `max` (the client's setting, 150 ms) so that
 * fast typing does not queue passes.
 */
export function diagnosticsDelayFor(length: number, max: number): number {
  return Math.max(0, Math.min(max, Math.round(25 + length / 16384)));
}

/** Files above this size are not read from disk (open documents are always analysed). */
export const MAX_DISK_FILE_BYTES = 8 * 1024 * 1024;

export class McpWorkspace {
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
      if (cls) this.disk.set(uri, makeAnalysis(a.document, cls, false));
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

  /** The analysis of `doc` at its current version (scanned once per version). */
  analyze(doc: TextDocument): Analysis | undefined {
    const cached = this.open.get(doc.uri);
    if (cached && cached.version === doc.version && cached.document === doc) return cached;
    const cls = this.classify(doc.uri);
    if (!cls) return undefined;
    const a = makeAnalysis(doc, cls);
    if (this.openDocs.has(doc.uri)) this.open.set(doc.uri, a);
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
    this.disk.set(uri, makeAnalysis(TextDocument.create(uri, 'jsonc', (prev?.version ?? 0) + 1, text), cls, false));
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
    const id = keyId(key);
    for (const analysis of fresh ? this.allAnalyses() : this.latestAnalyses()) {
      for (const ref of analysis.byKey.get(id) ?? []) out.push({ analysis, ref });
    }
    return out;
  }
}

/** `keepCandidates`: false for files read from disk, which get no diagnostics. */
function makeAnalysis(document: TextDocument, cls: McpFileClass, keepCandidates = true): Analysis {
  const full = scanConfig(document.getText(), { strings: 'candidates' });
  const scan: ScanResult = { strings: [], servers: full.servers, references: full.references, complete: full.complete };
  const version = document.version;
  let candidates: readonly StringSite[] | undefined = keepCandidates ? full.strings : undefined;
  let byKey: Map<string, ParsedReferenceSite[]> | undefined;
  return {
    uri: document.uri,
    version,
    document,
    cls,
    scan,
    secretCandidates(): readonly StringSite[] {
      if (candidates) return candidates;
      // TextDocument.update changes the document in place: a stale analysis has nothing to offer.
      return document.version === version ? scanConfig(document.getText(), { strings: 'candidates' }).strings : [];
    },
    releaseCandidates(): void {
      candidates = undefined;
    },
    /** Built on first use (references, rename, hover): diagnostics do not need it. */
    get byKey(): ReadonlyMap<string, readonly ParsedReferenceSite[]> {
      if (!byKey) {
        byKey = new Map();
        for (const r of scan.references) {
          if (r.kind !== 'reference') continue;
          const id = keyId(r);
          let list = byKey.get(id);
          if (!list) byKey.set(id, (list = []));
          list.push(r);
        }
      }
      return byKey;
    },
  };
}
