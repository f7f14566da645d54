/**
 * Fuzz: at least 100,000 random and mutated MCP config documents through every feature of the
 * language service in-process (diagnostics with secretlint, completion, hover, code actions, links,
 * references, prepare-rename), and through the config reader the MCP server provider uses
 * (parseMcpConfig, both flavors; configReaderCheck.ts). No exception may escape, and every range
 * returned must lie inside the document. Deterministic: FUZZ_SEED picks the sequence, FUZZ_DOCS the count.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { TextDocument } from 'vscode-languageserver-textdocument';
import type { Range } from 'vscode-languageserver-protocol/node';
import { McpTokensLanguageService } from '../../server/service';
import type { TokenMetadata } from '../../server/core/model';
import { SMALL_DOC_BOUND_MS, checkConfigReader, newReaderStats } from './configReaderCheck';

const DOCS = Number(process.env.FUZZ_DOCS ?? 100_000);
const SEED = Number(process.env.FUZZ_SEED ?? 0x5eed);

/** mulberry32: a small seeded PRNG, so a failure can be replayed. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const URIS = [
  'file:///w/.vscode/mcp.json',
  'file:///w/.vscode/mcp.tokens.json',
  'file:///w/server_config.json',
  'file:///w/.mcp.json',
  'file:///w/.cursor/mcp.json',
  'vscode-userdata:/home/u/.config/Code/User/mcp.json',
  'file:///w/claude_desktop_config.json',
];

const FRAGMENTS = [
  '$<TOKEN:', '${TOKEN:', '$<TOKEN:bearer:github>', '${TOKEN:api-key:openai}', '$<token:a:b>', '$<TOKEN:a:b:c>', '$<TOKEN::>', '$<', '${', '$',
  '"', '\\', '\\"', '\\u', '\\uD83D', '{', '}', '[', ']', ':', ',', '//', '/*', '*/', '\n', '\r\n', '\t', ' ',
  '\uD83D', '\uDE00', '😀', '\u0000', '\u2028', 'é', '\u200B', 'ghp_a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8', 'Bearer ', 'sk-ant-api03-' + 'x'.repeat(30),
  '"servers"', '"mcpServers"', '"env"', '"headers"', '"args"', '"url"', '"inputs"', 'null', 'true', '1e999', '-0',
  'https://u:p4ssw0rd@h/?api_key=abcdefgh123', 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NSJ9.abcdefghijklmnop',
];

function pick<T>(r: () => number, list: readonly T[]): T {
  return list[Math.floor(r() * list.length)];
}

function randomString(r: () => number): string {
  const n = Math.floor(r() * 6);
  let s = '';
  for (let i = 0; i < n; i++) s += r() < 0.5 ? pick(r, FRAGMENTS) : String.fromCharCode(Math.floor(r() * (r() < 0.9 ? 128 : 0xffff)));
  return s;
}

function jsonString(r: () => number): string {
  return JSON.stringify(randomString(r) + (r() < 0.3 ? pick(r, ['$<TOKEN:bearer:github>', '${TOKEN:bearer:x}', 'ghp_a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8', 'Bearer q8Zr2LmXv9Tb4Nw7Kc1Yd6Hf']) : ''));
}

/** A structurally valid config with random content. */
function generated(r: () => number): string {
  const root = r() < 0.5 ? 'servers' : 'mcpServers';
  const servers: string[] = [];
  const n = Math.floor(r() * 4);
  for (let i = 0; i < n; i++) {
    const env = Array.from({ length: Math.floor(r() * 4) }, () => `${jsonString(r)}: ${jsonString(r)}`).join(', ');
    const args = Array.from({ length: Math.floor(r() * 4) }, () => (r() < 0.8 ? jsonString(r) : String(r()))).join(', ');
    servers.push(`${jsonString(r)}: { "command": ${jsonString(r)}, "args": [${args}], "env": { ${env} }, "headers": { "Authorization": ${jsonString(r)} }, "url": ${jsonString(r)} }`);
  }
  return `{ ${r() < 0.3 ? '// c\n' : ''}"${root}": { ${servers.join(',\n')} }${r() < 0.3 ? ', "inputs": [{ "id": ' + jsonString(r) + ' }]' : ''} }`;
}

function mutate(r: () => number, text: string): string {
  let t = text;
  const n = 1 + Math.floor(r() * 5);
  for (let i = 0; i < n; i++) {
    const at = Math.floor(r() * (t.length + 1));
    const op = r();
    if (op < 0.4) t = t.slice(0, at) + pick(r, FRAGMENTS) + t.slice(at);
    else if (op < 0.7) t = t.slice(0, at) + t.slice(at + 1 + Math.floor(r() * 8));
    else if (op < 0.85) t = t.slice(0, at) + String.fromCharCode(Math.floor(r() * 0xffff)) + t.slice(at + 1);
    else t = t.slice(0, at) + t.slice(Math.floor(r() * t.length));
  }
  return t;
}

function randomTokens(r: () => number): TokenMetadata[] {
  const out: TokenMetadata[] = [];
  const n = Math.floor(r() * 30);
  for (let i = 0; i < n; i++) {
    out.push({
      namespace: pick(r, ['bearer', 'api-key', 'oauth', 'team.x']),
      name: pick(r, ['github', 'openai', 'x', 'a-b', 'n' + i]),
      type: pick(r, ['bearer', 'api-key', 'oauth', 'basic', 'generic'] as const),
      createdAt: '2026-01-01T00:00:00.000Z',
      updatedAt: '2026-01-01T00:00:00.000Z',
      expiresAt: r() < 0.5 ? new Date(Date.now() + (r() - 0.5) * 30 * 86_400_000).toISOString() : undefined,
      backend: 'secretStorage',
      description: r() < 0.3 ? randomString(r) : undefined,
    });
  }
  return out;
}

function assertRange(doc: TextDocument, range: Range, what: string): void {
  const lines = doc.lineCount;
  for (const p of [range.start, range.end]) {
    assert.ok(p.line >= 0 && p.line < lines && p.character >= 0, `${what}: position outside the document`);
  }
  assert.ok(doc.offsetAt(range.start) <= doc.offsetAt(range.end), `${what}: range reversed`);
}

describe('language service fuzz', () => {
  it(`survives ${DOCS} random and mutated documents through every feature`, async () => {
    const r = prng(SEED);
    const service = new McpTokensLanguageService();
    const corpus: string[] = [generated(r), generated(r)];
    const started = Date.now();
    let checks = 0;
    const reader = newReaderStats();
    let readerMs = 0;
    for (let i = 0; i < DOCS; i++) {
      if (i % 500 === 0) service.catalog.update({ tokens: randomTokens(r), expiryWarningDays: Math.floor(r() * 30) });
      const mode = r();
      const text = mode < 0.35 ? generated(r) : mode < 0.85 ? mutate(r, pick(r, corpus)) : randomString(r) + randomString(r);
      if (mode < 0.35 && corpus.length < 200) corpus.push(text);
      else if (mode < 0.35) corpus[Math.floor(r() * corpus.length)] = text;
      const uri = pick(r, URIS);
      const doc = TextDocument.create(uri, 'jsonc', i, text);
      try {
        service.workspace.didOpen(doc);
        const diagnostics = await service.diagnostics(doc);
        for (const d of diagnostics) assertRange(doc, d.range, 'diagnostic');
        for (let k = 0; k < 3; k++) {
          const offset = Math.floor(r() * (text.length + 1));
          const position = r() < 0.95 ? doc.positionAt(offset) : { line: Math.floor(r() * 5), character: Math.floor(r() * 500) };
          const completion = service.complete(doc, position);
          for (const item of completion?.items ?? []) if (item.textEdit && 'range' in item.textEdit) assertRange(doc, item.textEdit.range, 'completion');
          const editRange = completion?.itemDefaults?.editRange;
          if (editRange && 'start' in editRange) assertRange(doc, editRange, 'completion default');
          if (completion?.items.length && r() < 0.2) service.resolveCompletion(completion.items[Math.floor(r() * completion.items.length)]);
          const hover = service.hover(doc, position);
          if (hover?.range) assertRange(doc, hover.range, 'hover');
          const range = { start: position, end: position };
          const actions = service.codeActions(doc, range, { diagnostics: diagnostics.filter(() => r() < 0.5) });
          for (const a of actions) for (const edits of Object.values(a.edit?.changes ?? {})) for (const e of edits) assertRange(doc, e.range, 'code action');
          for (const l of service.references(doc, position) ?? []) if (l.uri === uri) assertRange(doc, l.range, 'reference');
          const rename = service.prepareRename(doc, position);
          if (rename) assertRange(doc, rename.range, 'rename');
          checks++;
        }
        for (const l of service.documentLinks(doc)) assertRange(doc, l.range, 'link');
        const t0 = performance.now();
        checkConfigReader(text, `document #${i} (seed ${SEED})`, reader);
        readerMs += performance.now() - t0;
      } catch (e) {
        assert.fail(`document #${i} (seed ${SEED}, ${uri}) failed: ${e instanceof Error ? e.stack : String(e)}\n--- document (JSON-escaped, first 2000 chars) ---\n${JSON.stringify(text.slice(0, 2000))}`);
      } finally {
        service.workspace.didClose(uri);
      }
    }
    const seconds = (Date.now() - started) / 1000;
    console.log(`fuzz: ${DOCS} documents, ${checks} position checks, seed ${SEED}, ${seconds.toFixed(1)} s`);
    console.log(`fuzz: config reader on the same ${reader.documents} documents × 2 flavors: ${reader.servers} servers read, ${(readerMs / 1000).toFixed(1)} s in all, slowest ${reader.slowestMs.toFixed(1)} ms`);
    assert.equal(reader.documents, DOCS);
    assert.ok(reader.slowestMs < SMALL_DOC_BOUND_MS, `the config reader's slowest document took ${reader.slowestMs.toFixed(1)} ms (bound ${SMALL_DOC_BOUND_MS} ms)`);
  });
});
