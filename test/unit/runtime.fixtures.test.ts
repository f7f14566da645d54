// The fixture MCP servers of the e2e tests, checked with the SDK's own client: they must record
// what they received (as digests only) and the HTTP one must demand a bearer token.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';

const dir = mkdtempSync(join(tmpdir(), 'mcp-fixtures-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const sha = (s: string) => createHash('sha256').update(s).digest('hex');
const FIXTURES = join(__dirname, '..', 'fixtures', 'mcp-servers');

test('the stdio fixture records digests of its env and argument token, and no literal reference', { timeout: 30_000 }, async () => {
  const recordPath = join(dir, 'stdio.jsonl');
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [join(FIXTURES, 'stdio-server.mjs'), '--token', 'arg-value-1'],
    env: { ...(process.env as Record<string, string>), FIXTURE_TOKEN: 'env-value-1', MCP_FIXTURE_RECORD: recordPath },
    stderr: 'ignore',
  });
  const client = new Client({ name: 'test', version: '1.0.0' });
  try {
    await client.connect(transport);
    const result = await client.callTool({ name: 'fixture_info', arguments: {} });
    const info = JSON.parse((result.content as { text: string }[])[0].text);
    assert.equal(info.envTokenSha256, sha('env-value-1'));
    assert.equal(info.argTokenSha256, sha('arg-value-1'));
    assert.equal(info.literalReference, false);
  } finally {
    await client.close();
  }
  const text = readFileSync(recordPath, 'utf8');
  assert.ok(!text.includes('env-value-1') && !text.includes('arg-value-1'), 'the record holds digests only');
  const lines = text.trim().split('\n').map((l) => JSON.parse(l));
  assert.equal(lines[0].envTokenSha256, sha('env-value-1'));
  assert.deepEqual(lines.slice(1).map((l) => l.kind), ['exit'], 'the fixture records its exit when the client closes');

  // A launch with a literal reference is flagged.
  const literal = new StdioClientTransport({
    command: process.execPath,
    args: [join(FIXTURES, 'stdio-server.mjs'), '--token', '$<TOKEN:bearer:x>'],
    env: { ...(process.env as Record<string, string>), MCP_FIXTURE_RECORD: recordPath },
    stderr: 'ignore',
  });
  const c2 = new Client({ name: 'test', version: '1.0.0' });
  try {
    await c2.connect(literal);
  } finally {
    await c2.close();
  }
  const started = readFileSync(recordPath, 'utf8').trim().split('\n').map((l) => JSON.parse(l)).filter((l) => l.kind === 'stdio');
  assert.equal(started.at(-1).literalReference, true);
});

test('the HTTP fixture listens on 127.0.0.1, records the bearer digest and rejects other requests', { timeout: 30_000 }, async () => {
  const { startHttpFixture } = await import('../fixtures/mcp-servers/http-server.mjs');
  const expected = sha('bearer-value-1');
  const fixture = await startHttpFixture({ expectedSha256: () => expected });
  try {
    assert.match(fixture.url, /^http:\/\/127\.0\.0\.1:\d+\/mcp$/);
    const client = new Client({ name: 'test', version: '1.0.0' });
    await client.connect(new StreamableHTTPClientTransport(new URL(fixture.url), { requestInit: { headers: { Authorization: 'Bearer bearer-value-1' } } }));
    const result = await client.callTool({ name: 'fixture_info', arguments: {} });
    assert.equal(JSON.parse((result.content as { text: string }[])[0].text).bearerSha256, expected);
    await client.close();
    assert.ok(fixture.requests.length >= 2);
    assert.ok(fixture.requests.every((r) => r.accepted && r.bearerSha256 === expected));

    const wrong = new Client({ name: 'test', version: '1.0.0' });
    await assert.rejects(wrong.connect(new StreamableHTTPClientTransport(new URL(fixture.url), { requestInit: { headers: { Authorization: 'Bearer other' } } })));
    await wrong.close().catch(() => undefined);
    assert.equal(fixture.requests.at(-1)?.accepted, false);
  } finally {
    await fixture.close();
  }
});
