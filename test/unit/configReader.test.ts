/**
 * The config reader the MCP server provider uses never throws: deep nesting (6 KB of `[[[…`, 100,000
 * levels of arrays or objects) gives a problem for that file only, and the servers of the other files
 * are still served.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseMcpConfig } from '../../server/core/mcpConfig';

const GOOD = `{ "servers": { "gh": { "command": "npx", "args": ["-y", "server"], "env": { "T": "$<TOKEN:bearer:gh>" } } } }`;
const CLI = `{ "mcpServers": { "cli": { "command": "uvx", "args": ["x"] } } }`;

const deepArrays = (n: number) => '['.repeat(n) + ']'.repeat(n);
const deepObjects = (n: number) => '{"a":'.repeat(n) + '1' + '}'.repeat(n);

const CASES: Array<[string, string]> = [
  ['6 KB of [[[[ (unclosed)', '['.repeat(6 * 1024)],
  ['6 KB of [[[[ inside a server', `{ "servers": { "deep": { "command": "x", "args": ${'['.repeat(6 * 1024)} } } }`],
  ['100,000 nested arrays', deepArrays(100_000)],
  ['100,000 nested objects', deepObjects(100_000)],
  ['100,000 nested arrays in a server', `{ "servers": { "deep": { "command": "x", "args": ${deepArrays(100_000)} } }, "inputs": ${deepArrays(100_000)} }`],
  ['100,000 nested objects in a server', `{ "servers": { "deep": { "command": "x", "env": ${deepObjects(100_000)} } } }`],
];

for (const [label, text] of CASES) {
  test(`never throws on ${label}; the problem is reported; the other files' servers are still read`, () => {
    const started = Date.now();
    let parsed: ReturnType<typeof parseMcpConfig> | undefined;
    assert.doesNotThrow(() => {
      parsed = parseMcpConfig(text, 'vscode');
    });
    assert.ok(Date.now() - started < 2000, `answered in ${Date.now() - started} ms`);
    assert.deepEqual(parsed!.servers, []);
    assert.ok(parsed!.problems.some((p) => p.severity === 'error'), 'a problem says why nothing is served');
    assert.doesNotThrow(() => parseMcpConfig(text, 'mcp-cli'));
    // The other files of the same load are unaffected.
    assert.deepEqual(parseMcpConfig(GOOD).servers.map((s) => s.name), ['gh']);
    assert.deepEqual(parseMcpConfig(CLI, 'mcp-cli').servers.map((s) => s.name), ['cli']);
  });
}

// ---- the provider's loader: one broken file affects only its own servers ----------------------------

test('loadServerFiles: a deep, a huge, an unreadable and a throwing file each lose only their own servers, with a log line', async () => {
  const { loadServerFiles, MAX_CONFIG_BYTES } = await import('../../extension/runtime/serverFileLoad');
  type Loc = { id: string; flavor: 'vscode' | 'mcp-cli' };
  const files: Record<string, string | Error | Uint8Array> = {
    good: GOOD,
    deep6k: `{ "servers": { "deep": { "command": "x", "args": ${'['.repeat(6 * 1024)} } } }`,
    deep100k: deepObjects(100_000),
    huge: new Uint8Array(MAX_CONFIG_BYTES + 1),
    unreadable: new Error('EACCES: permission denied'),
    cli: CLI,
  };
  const locations: Loc[] = [{ id: 'good', flavor: 'vscode' }, { id: 'deep6k', flavor: 'vscode' }, { id: 'deep100k', flavor: 'vscode' }, { id: 'missing', flavor: 'vscode' }, { id: 'huge', flavor: 'vscode' }, { id: 'unreadable', flavor: 'vscode' }, { id: 'cli', flavor: 'mcp-cli' }];
  const logs: string[] = [];
  const started = Date.now();
  const loaded = await loadServerFiles(locations, {
    read: async (l) => {
      const f = files[l.id];
      if (f === undefined) return undefined;
      if (f instanceof Error) throw f;
      return typeof f === 'string' ? new TextEncoder().encode(f) : f;
    },
    name: (l) => `${l.id}.json`,
    warn: (m) => logs.push(m),
  });
  const ms = Date.now() - started;
  assert.ok(ms < 3000, `answered in ${ms} ms`);
  assert.deepEqual(loaded.map((f) => f.id), ['good', 'deep6k', 'deep100k', 'huge', 'unreadable', 'cli'], 'a missing file is skipped; every other file is listed');
  const served = loaded.flatMap((f) => f.parsed.servers.map((s) => `${f.id}/${s.name}`));
  assert.deepEqual(served, ['good/gh', 'cli/cli'], 'the other files\' servers are still served');
  for (const id of ['deep6k', 'deep100k', 'huge', 'unreadable']) {
    assert.ok(logs.some((l) => l.startsWith(`${id}.json: `)), `a log line for ${id}: ${logs.join('\n')}`);
    assert.ok(loaded.find((f) => f.id === id)!.parsed.problems.some((p) => p.severity === 'error'));
  }
  assert.ok(logs.some((l) => /deep6k\.json: .*nested more than 256 levels/.test(l)));
  assert.ok(logs.some((l) => /huge\.json: .*too large/.test(l)));
  assert.ok(!logs.some((l) => l.startsWith('good.json') || l.startsWith('cli.json')));
});

test('a file of 1 MB of commas reports a bounded number of problems and log lines', async () => {
  const { loadServerFiles, MAX_LOGGED_PROBLEMS } = await import('../../extension/runtime/serverFileLoad');
  const text = `{ "servers": { "a": { "command": "x" } }, ${','.repeat(1024 * 1024)} }`;
  const parsed = parseMcpConfig(text);
  assert.ok(parsed.problems.length <= 102, `${parsed.problems.length} problems`);
  const logs: string[] = [];
  await loadServerFiles([{ flavor: 'vscode' as const }], { read: async () => new TextEncoder().encode(text), name: () => 'commas.json', warn: (m) => logs.push(m) });
  assert.equal(logs.length, MAX_LOGGED_PROBLEMS + 1);
});

test('problem spans stay inside the document (an unterminated comment at the end; found by the fuzz test)', () => {
  for (const text of ['{/*', '{}/*', '[/* x', '{"servers": {} /*', '"abc" /*']) {
    for (const p of parseMcpConfig(text).problems) assert.ok(p.span.start >= 0 && p.span.end <= text.length, `${JSON.stringify(text)}: ${p.span.start}-${p.span.end}: ${p.message}`);
  }
});
