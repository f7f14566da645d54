/**
 * Keeps the server's resident memory near what it really holds while a large document is open.
 *
 * Every edit of a 2.4 MB document leaves the previous text (a 2.4 MB string) behind, every
 * diagnostics pass the previous version's scan; V8 keeps such garbage, and the pages it freed,
 * resident until its heap limit grows into them (130 MB and more while typing in the benchmark's
 * document). When the process runs with `--expose-gc` (server/core/launch.ts):
 * - once the editor has been quiet for a second after a pass over a large document (or a metadata
 *   push of a large store), a collection
 *   that reduces the memory footprint: on V8 12 and later (Node.js 22+, VS Code's Electron, and the
 *   Node.js 24 code-server runs extensions on) `gc({ flavor: 'last-resort' })`, which also returns
 *   V8's pooled pages (a plain `gc()` there keeps the ~35 MB of pages a pass over the benchmark's
 *   document emptied mapped and resident: 112 MB idle instead of about 75); on older V8, which has
 *   no flavor (and collects less when given options), two plain full collections (the second
 *   returns the pages the first one emptied);
 * - after the first diagnostics of a large document were sent, before the rest of the pass
 *   (`afterEarlyPublish`);
 * - while a large document changes (or large metadata pushes follow each other), one plain
 *   collection whenever the heap has grown by `GROWTH_BYTES` since the last one (every ten or so
 *   keystrokes in a 2.4 MB file; about 20–30 ms each now that the server no longer runs with
 *   `--compact-on-every-full-gc`, see server/core/launch.ts).
 * Without the flag (tests, debugging) nothing happens.
 */
import { getHeapStatistics, setFlagsFromString } from 'node:v8';
import { v8Major } from './core/launch';

/** Documents at least this long (UTF-16 code units) get the collections above. */
export const LARGE_DOCUMENT = 512 * 1024;
const GROWTH_BYTES = 24 * 1024 * 1024;
/** Metadata pushes of at least this many tokens get the idle collection too. */
export const LARGE_CATALOG = 200;
const IDLE_MS = 1000;

type Gc = (options?: { type: 'major'; execution: 'sync'; flavor?: 'regular' | 'last-resort' }) => void;

/** Whether this V8's `gc()` takes `flavor: 'last-resort'` (V8 12+; older versions ignore it and collect less). */
export function hasMemoryReducingGc(v8Version = process.versions.v8): boolean {
  return v8Major(v8Version) >= 12;
}

export class MemoryKeeper {
  private readonly collect = (globalThis as { gc?: Gc }).gc;
  private readonly reducing = hasMemoryReducingGc();
  private timer: NodeJS.Timeout | undefined;
  private baseline = 0;

  /** `busy`: a diagnostics pass is scheduled or running (then the idle collection waits for the next). */
  constructor(private readonly busy: () => boolean) {}

  /** After a diagnostics pass over a document of `length` code units. */
  afterPass(length: number): void {
    if (length >= LARGE_DOCUMENT) this.whenIdle();
  }

  /**
   * After the first diagnostics of a document of `length` code units were sent while the rest of its
   * pass (secretlint's findings) still runs: one plain collection for a large document, which frees
   * what the first part of the pass left behind (the scan's tokens, every diagnostic before the cut to
   * what the editor shows) before secretlint and the editor's document-links request, which follows an
   * open, add theirs. The first diagnostics are already on their way, so the collection does not delay
   * them (benchmark's document, in-process: peak 98.1–98.9 MB instead of 102.9–103.1).
   */
  afterEarlyPublish(length: number): void {
    if (length >= LARGE_DOCUMENT) this.run();
  }

  /**
   * After the extension pushed the metadata of `tokens` tokens. Each push of a large store leaves its
   * message and the previous catalog behind; a run of them (1,000 sets in a row) grew the server from
   * 66 to 107 MB resident before any document was open.
   */
  afterCatalog(tokens: number): void {
    if (!this.collect || tokens < LARGE_CATALOG) return;
    this.collectOnGrowth();
    this.whenIdle();
  }

  /** The idle collection, once the editor has been quiet for `IDLE_MS`. */
  private whenIdle(): void {
    if (!this.collect) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      if (this.busy()) return;
      this.reduce();
    }, IDLE_MS);
    this.timer.unref();
  }

  /** After a change to a document of `length` code units. */
  afterChange(length: number): void {
    if (!this.collect || length < LARGE_DOCUMENT) return;
    this.collectOnGrowth();
  }

  /** A collection when the heap has grown by `GROWTH_BYTES` since the last one. */
  private collectOnGrowth(): void {
    if (getHeapStatistics().used_heap_size > this.baseline + GROWTH_BYTES) this.run();
  }

  private run(): void {
    this.collect?.();
    this.baseline = getHeapStatistics().used_heap_size;
  }

  /** The idle collection: as much as V8 can return to the OS (about 100 ms on the benchmark's heap). */
  private reduce(): void {
    if (!this.reducing) {
      // Compacting collections only here, at idle: compacting every full collection (V8's own too)
      // needs room for all survivors while it copies them, the server's highest resident memory.
      setFlagsFromString('--compact-on-every-full-gc');
      try {
        this.run();
        this.run();
      } finally {
        setFlagsFromString('--no-compact-on-every-full-gc');
      }
      return;
    }
    this.collect?.({ type: 'major', execution: 'sync', flavor: 'last-resort' });
    this.baseline = getHeapStatistics().used_heap_size;
  }

  dispose(): void {
    clearTimeout(this.timer);
  }
}
