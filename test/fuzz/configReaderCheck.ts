/**
 * The config reader's checks for the fuzz tests: parseMcpConfig (the provider's reader) on a
 * document in both flavors never throws, answers within SMALL_DOC_BOUND_MS (the best of up to 4 timings
 * of a document over it), and reports spans inside
 * the document. Used inside languageServer.fuzz.test.ts's loop, so that the reader sees the same
 * 100,000 documents as the language service.
 */
import assert from 'node:assert/strict';
import { parseMcpConfig, type ParsedMcpConfig } from '../../server/core/mcpConfig';

/** Per generated document (< 4 KB): measured ≤ 25 ms with other suites running; generous for a loaded CI machine. */
export const SMALL_DOC_BOUND_MS = 200;

export function checkReaderSpans(text: string, parsed: ParsedMcpConfig, what: string): void {
  for (const p of parsed.problems) {
    assert.ok(p.span.start >= 0 && p.span.end >= p.span.start && p.span.end <= text.length, `${what}: problem span ${p.span.start}-${p.span.end} outside the document (length ${text.length}): ${p.message}`);
  }
  for (const s of parsed.servers) assert.ok(s.span.start >= 0 && s.span.end <= text.length && s.nameSpan.end <= s.span.end, `${what}: server span outside the document`);
}

export interface ReaderStats {
  documents: number;
  servers: number;
  slowestMs: number;
}

export function newReaderStats(): ReaderStats {
  return { documents: 0, servers: 0, slowestMs: 0 };
}

/** Throws (an assertion) when the reader throws, is too slow, or reports a span outside `text`. */
export function checkConfigReader(text: string, what: string, stats: ReaderStats): void {
  for (const flavor of ['vscode', 'mcp-cli'] as const) {
    const t0 = performance.now();
    let parsed: ParsedMcpConfig;
    try {
      parsed = parseMcpConfig(text, flavor);
    } catch (e) {
      assert.fail(`${what}: the config reader (${flavor}) threw: ${e instanceof Error ? e.stack : String(e)}`);
    }
    let ms = performance.now() - t0;
    // Over the bound: timed again (the best of 3), so that a GC pause or a busy machine is not taken
    // for a slow document; a document the reader is really slow on stays over it.
    for (let i = 0; i < 3 && ms >= SMALL_DOC_BOUND_MS; i++) {
      const t1 = performance.now();
      parseMcpConfig(text, flavor);
      ms = Math.min(ms, performance.now() - t1);
    }
    stats.slowestMs = Math.max(stats.slowestMs, ms);
    stats.servers += parsed.servers.length;
    checkReaderSpans(text, parsed, `${what} (${flavor})`);
  }
  stats.documents++;
}
