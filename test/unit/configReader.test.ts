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
