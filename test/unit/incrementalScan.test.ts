/**
 * Incremental re-analysis (core/configScan.ts rescanChunks, documents.ts McpWorkspace.update): after
 * any sequence of edits, re-scanning only what the edits touched gives exactly what a full scan of
 * the new text gives, and the language service's diagnostics equal a fresh service's on the same
 * text. Property tests over random documents and random edits (seeded: INCREMENTAL_SEED).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { TextDocument } from 'vscode-languageserver-textdocument';
import { EditSpan, rescanChunks, scanChunks, type ChunkedScan } from '../../server/core/configScan';
import { McpTokensLanguageService } from '../../server/service';
import type { TokenMetadata } from '../../server/core/model';

const SEED = Number(process.env.INCREMENTAL_SEED ?? 20261201);

function prng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x / 4294967296;
  };
}
const pick = <T>(r: () => number, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)];

const VALUES = ['$<TOKEN:bearer:token-1>', '$<TOKEN:api-key:nope>', 'Bearer $<TOKEN:bearer:token-2>', '${TOKEN:bearer:token-3}', '$<TOKEN:bad', 'ghp_' + 'a1B2'.repeat(9), 'Bearer abcdefghijklmnop1234', 'info', 'https://x.example.com/?api_key=Zq8kW3mN5pR7tV9x', 'xoxb-123456789012-1234567890123-abcdefghijABCDEFGHIJabcd', 'mcp-tokens', 'run', 'plain value here'];
const KEYS = ['API_TOKEN', 'GITHUB_TOKEN', 'SERVICE_SECRET', 'LOG_LEVEL', 'Authorization', 'X-Api-Key'];

/** A random MCP config: both shapes, comments, odd spacing, some wrapped servers. */
function randomDocument(r: () => number): string {
  const root = r() < 0.7 ? 'servers' : 'mcpServers';
  const servers: string[] = [];
  const n = 1 + Math.floor(r() * 12);
  for (let i = 0; i < n; i++) {
    const env = Array.from({ length: Math.floor(r() * 4) }, () => `"${pick(r, KEYS)}": ${JSON.stringify(pick(r, VALUES))}`).join(', ');
    const wrapped = r() < 0.2;
    const command = wrapped ? '"mcp-tokens"' : '"npx"';
    const args = wrapped ? '["run", "--", "npx", "srv"]' : `["-y", ${JSON.stringify(pick(r, VALUES))}, "--api-key", ${JSON.stringify(pick(r, VALUES))}]`;
    const headers = r() < 0.5 ? `, "headers": { "Authorization": ${JSON.stringify(pick(r, VALUES))} }` : '';
    const comment = r() < 0.2 ? ' /* note */' : r() < 0.1 ? ' // line\n' : '';
    servers.push(`    "server-${i % 7}"${comment}: { "command": ${command}, "args": ${args}, "env": { ${env} }${headers} }`);
  }
  const inputs = r() < 0.5 ? `,\n  "inputs": [{ "id": ${JSON.stringify(pick(r, VALUES))} }]` : '';
  const second = r() < 0.15 ? `,\n  "mcpServers": { "late": { "env": { "K": ${JSON.stringify(pick(r, VALUES))} } } }` : '';
  return `{\n  "${root}": {\n${servers.join(',\n')}\n  }${inputs}${second}\n}\n`;
}

const PIECES = ['"', '{', '}', '[', ']', ',', ':', '\n', ' ', 'x', '$<TOKEN:', '>', '\\', '/*', '*/', '//', '"k": "v",', '"env": {"A": "$<TOKEN:bearer:token-9>"}', 'ghp_' + 'Zz9'.repeat(12), '1', 'true'];

/** A random edit of `text`: mostly small (typing), sometimes structural or a larger cut. */
function randomEdit(r: () => number, text: string): { start: number; end: number; insert: string } {
  const start = Math.floor(r() * (text.length + 1));
  const mode = r();
  const len = mode < 0.5 ? 0 : mode < 0.8 ? Math.floor(r() * 3) : Math.floor(r() * 80);
  const end = Math.min(text.length, start + len);
  const insert = r() < 0.3 ? '' : r() < 0.6 ? pick(r, PIECES) : String.fromCharCode(32 + Math.floor(r() * 90));
  return { start, end, insert };
}

/** A scan without the caches the language server keeps on chunks, for comparison. */
function plain(scan: ChunkedScan): unknown {
  return { starts: scan.starts, length: scan.length, chunks: scan.chunks.map(({ facts: _facts, ...c }) => c) };
}

describe('incremental re-scan', () => {
  it('equals a full scan after any sequence of random edits (2,000 documents)', () => {
    const r = prng(SEED);
    let incremental = 0;
    for (let d = 0; d < 2000; d++) {
      let text = randomDocument(r);
      let prev = scanChunks(text, { strings: 'candidates' });
      for (let step = 0; step < 6; step++) {
        let span: EditSpan | undefined;
        for (let k = 1 + Math.floor(r() * 3); k > 0; k--) {
          const { start, end, insert } = randomEdit(r, text);
          text = text.slice(0, start) + insert + text.slice(end);
          span = span ? span.add(start, end, insert.length) : EditSpan.of(start, end, insert.length);
        }
        const full = scanChunks(text, { strings: 'candidates' });
        const again = span ? rescanChunks(prev, text, span, { strings: 'candidates' }) : undefined;
        if (again) {
          incremental++;
          assert.deepEqual(plain(again), plain(full), `document ${d}, step ${step} (seed ${SEED}): ${JSON.stringify(text)}`);
        }
        prev = again ?? full;
      }
    }
    assert.ok(incremental > 5000, `most re-scans are incremental (${incremental})`);
  });

  it('re-scans only the server entry a one-character edit touched in a large document', () => {
    const servers = Object.fromEntries(Array.from({ length: 2000 }, (_, i) => [`s${i}`, { env: { T: `$<TOKEN:bearer:t${i}>`, S: 'ghp_' + 'a1'.repeat(18) } }]));
    const text = JSON.stringify({ servers }, null, 2);
    const prev = scanChunks(text, { strings: 'candidates' });
    const at = text.indexOf('$<TOKEN:bearer:t1000>') + 15;
    const next = text.slice(0, at) + 'x' + text.slice(at);
    const again = rescanChunks(prev, next, EditSpan.of(at, at, 1), { strings: 'candidates' })!;
    assert.ok(again);
    const fresh = again.chunks.filter((c) => !prev.chunks.includes(c));
    assert.equal(fresh.length, 1, 'only the edited entry is scanned again');
    assert.deepEqual(plain(again), plain(scanChunks(next, { strings: 'candidates' })));
  });
});

describe('incremental diagnostics', () => {
  const now = new Date('2026-06-01T00:00:00.000Z');
  const tokens: TokenMetadata[] = Array.from({ length: 12 }, (_, i) => ({
    namespace: 'bearer',
    name: `token-${i}`,
    type: 'bearer',
    createdAt: '2026-01-01T00:00:00.000Z',
    updatedAt: '2026-01-01T00:00:00.000Z',
    expiresAt: i % 3 === 0 ? '2026-06-03T00:00:00.000Z' : i % 3 === 1 ? '2026-05-01T00:00:00.000Z' : undefined,
    backend: 'secretStorage',
    provider: i % 2 ? 'github' : undefined,
  }));
  const URIS = ['file:///w/.vscode/mcp.tokens.json', 'file:///w/.vscode/mcp.json', 'file:///w/.mcp.json', 'file:///w/server_config.json'];

  it('equal a fresh service\'s full pass after each of many random edits (300 documents, secretlint on)', async () => {
    const r = prng(SEED + 1);
    const service = new McpTokensLanguageService({ now: () => now });
    service.catalog.update({ tokens, expiryWarningDays: 7 });
    let incremental = 0;
    for (let d = 0; d < 300; d++) {
      const uri = pick(r, URIS);
      const doc = TextDocument.create(uri, 'jsonc', 1, randomDocument(r));
      service.workspace.didOpen(doc);
      await service.diagnostics(doc);
      for (let step = 0; step < 5; step++) {
        const changes = Array.from({ length: 1 + Math.floor(r() * 2) }, () => {
          const { start, end, insert } = randomEdit(r, doc.getText());
          return { range: { start: doc.positionAt(start), end: doc.positionAt(end) }, text: insert };
        });
        // Changes of one didChange apply one after the other: the second's range is in the text after the first.
        for (const change of changes) service.workspace.update(doc, [change], doc.version + 1);
        if (r() < 0.1) service.catalog.update({ tokens: tokens.slice(0, 6 + Math.floor(r() * 6)), expiryWarningDays: 7 });
        const got = await service.diagnostics(doc);
        if (service.workspace.analyze(doc)?.incremental) incremental++;
        const fresh = new McpTokensLanguageService({ now: () => now });
        fresh.catalog.update({ tokens: [...service.catalog.tokensIn('bearer')], expiryWarningDays: 7 });
        const copy = TextDocument.create(uri, 'jsonc', doc.version, doc.getText());
        fresh.workspace.didOpen(copy);
        assert.deepEqual(got, await fresh.diagnostics(copy), `document ${d}, step ${step} (seed ${SEED}, ${uri}): ${JSON.stringify(doc.getText())}`);
      }
      service.workspace.didClose(uri);
    }
    assert.ok(incremental > 700, `most passes are incremental (${incremental})`);
  });
});
