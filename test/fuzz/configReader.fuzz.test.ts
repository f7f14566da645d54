/**
 * Fuzz: the config reader the MCP server provider uses (parseMcpConfig through loadServerFiles,
 * extension/runtime/serverFileLoad.ts) with nesting of arrays and objects up to 100,000 levels and
 * files at the size bound. (The same 100,000 random and mutated documents as the language service
 * go through the reader inside languageServer.fuzz.test.ts's loop, with checkConfigReader.) It never
 * throws, every problem's span lies inside the document, and each document is answered within a
 * stated bound.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { MAX_CONFIG_CHARS, MAX_CONFIG_DEPTH, parseMcpConfig } from '../../server/core/mcpConfig';
import { loadServerFiles } from '../../extension/runtime/serverFileLoad';
import { checkReaderSpans } from './configReaderCheck';
/** Per nested document up to 100,000 levels (≤ 600 KB): linear scan, no parse. */
const DEEP_BOUND_MS = 500;
/** A document at the size bound (8 Mi characters of valid servers). */
const HUGE_BOUND_MS = 15_000;

const check = checkReaderSpans;

describe('config reader fuzz', () => {
  it('nesting up to 100,000 levels (arrays, objects, mixed, unclosed, inside a server) never throws, within the bound', async () => {
    const shapes: Record<string, (n: number) => string> = {
      arrays: (n) => '['.repeat(n) + ']'.repeat(n),
      objects: (n) => '{"a":'.repeat(n) + '1' + '}'.repeat(n),
      mixed: (n) => '[{"k":'.repeat(Math.ceil(n / 2)) + '0' + '}]'.repeat(Math.ceil(n / 2)),
      unclosed: (n) => '['.repeat(n),
      inServer: (n) => `{ "servers": { "s": { "command": "x", "args": ${'['.repeat(n)}${']'.repeat(n)} } }, "mcpServers": { "m": { "command": ${'{"a":'.repeat(n)}1${'}'.repeat(n)} } } }`,
      commentsAndStrings: (n) => `{ "servers": {} /* ${'['.repeat(n)} */, "x": "${'{'.repeat(n)}" }`,
    };
    let worst = 0;
    for (const depth of [MAX_CONFIG_DEPTH - 10, MAX_CONFIG_DEPTH, MAX_CONFIG_DEPTH + 1, 1000, 3000, 6 * 1024, 10_000, 50_000, 100_000]) {
      for (const [name, make] of Object.entries(shapes)) {
        const text = make(depth);
        for (const flavor of ['vscode', 'mcp-cli'] as const) {
          const t0 = performance.now();
          const [file] = await loadServerFiles([{ flavor }], { read: async () => new TextEncoder().encode(text), name: () => name, warn: () => undefined });
          const ms = performance.now() - t0;
          worst = Math.max(worst, ms);
          assert.ok(ms < DEEP_BOUND_MS, `${name} × ${depth} (${flavor}): ${ms.toFixed(1)} ms`);
          check(text, file.parsed, `${name} × ${depth}`);
          const effective = name === 'mixed' ? 2 * Math.ceil(depth / 2) : name === 'inServer' ? depth + 3 : depth;
          if (name !== 'commentsAndStrings' && effective > MAX_CONFIG_DEPTH) {
            assert.ok(file.parsed.problems.some((p) => /nested more than/.test(p.message)), `${name} × ${depth}: the depth problem is reported`);
            assert.equal(file.parsed.servers.length, 0);
          }
          if (name === 'commentsAndStrings') assert.ok(!file.parsed.problems.some((p) => /nested more than/.test(p.message)), 'brackets in comments and strings do not count');
        }
      }
    }
    console.log(`config reader fuzz: nesting up to 100,000 levels, ${Object.keys(shapes).length} shapes × 9 depths × 2 flavors, slowest ${worst.toFixed(1)} ms`);
  });

  it(`a file at the size bound (${MAX_CONFIG_CHARS / 2 ** 20} Mi characters) is read within ${HUGE_BOUND_MS} ms; a larger one is refused unparsed`, () => {
    const server = (i: number) => `"s${i}": { "command": "npx", "args": ["-y", "pkg-${i}", "--token", "$<TOKEN:bearer:t${i}>"], "env": { "A": "${'x'.repeat(40)}" } }`;
    const parts: string[] = [];
    let length = 20;
    for (let i = 0; length < MAX_CONFIG_CHARS - 200; i++) {
      const p = server(i);
      parts.push(p);
      length += p.length + 2;
    }
    const text = `{ "servers": { ${parts.join(',\n')} } }`;
    assert.ok(text.length <= MAX_CONFIG_CHARS);
    let t0 = performance.now();
    const parsed = parseMcpConfig(text);
    const ms = performance.now() - t0;
    assert.equal(parsed.servers.length, parts.length);
    assert.ok(ms < HUGE_BOUND_MS, `${(text.length / 2 ** 20).toFixed(1)} Mi characters, ${parts.length} servers: ${ms.toFixed(0)} ms`);
    t0 = performance.now();
    const over = parseMcpConfig(text + ' '.repeat(MAX_CONFIG_CHARS));
    const overMs = performance.now() - t0;
    assert.equal(over.servers.length, 0);
    assert.ok(over.problems.some((p) => /too large/.test(p.message)));
    console.log(`config reader fuzz: ${(text.length / 2 ** 20).toFixed(1)} Mi characters with ${parts.length} servers read in ${ms.toFixed(0)} ms; ${((text.length + MAX_CONFIG_CHARS) / 2 ** 20).toFixed(1)} Mi refused in ${overMs.toFixed(1)} ms`);
  });
});
