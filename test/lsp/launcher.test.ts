/**
 * "Run through MCP Tokens launcher" over real LSP (the bundled dist/server.js): offered on a
 * reference the file's client passes on as text, one edit of that server using the shim path the
 * extension recorded (pointer file), "Move Server to MCP Tokens" beside it in VS Code's own file;
 * once wrapped, the literal-reference diagnostic is gone.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parse } from 'jsonc-parser';
import type { CodeAction, Diagnostic, TextEdit } from 'vscode-languageserver-protocol/node';
import { TextDocument } from 'vscode-languageserver-textdocument';
import { TestClient } from './client';
import { DIAGNOSTIC_CODES } from '../../server/core/protocol';
import { pointerText, POINTER_FILE } from '../../server/core/launcherPointer';

const VSCODE_JSON = `{
  "servers": {
    "github": {
      "type": "stdio",
      "command": "npx",
      "args": ["-y", "@modelcontextprotocol/server-github", "--token=$<TOKEN:bearer:github>"],
      "env": { "GITHUB_TOKEN": "$<TOKEN:bearer:github>" }
    },
    "remote": {
      "type": "http",
      "url": "https://api.example.com/mcp",
      "headers": { "Authorization": "Bearer $<TOKEN:bearer:github>" }
    }
  }
}`;

const CLAUDE_JSON = `{ "mcpServers": { "claude": { "command": "uvx", "args": ["srv"], "env": { "T": "$<TOKEN:bearer:github>" } } } }`;

const unresolved = (ds: Diagnostic[]) => ds.filter((d) => d.code === DIAGNOSTIC_CODES.unresolvedByClient);

describe('launcher quick fix over LSP', () => {
  let c: TestClient;
  let dir: string;
  const savedHome = process.env.MCP_TOKENS_HOME;
  const shim = '/home/someone/.local/bin/mcp-tokens';

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'mcp-lsp-launcher-'));
    mkdirSync(join(dir, '.vscode'));
    mkdirSync(join(dir, 'home'));
    writeFileSync(join(dir, 'home', POINTER_FILE), pointerText({ node: process.execPath, bundle: '/ext/dist/cli/mcp-tokens.mjs', shim }));
    process.env.MCP_TOKENS_HOME = join(dir, 'home'); // inherited by the server process
    c = await TestClient.start();
    await c.initialize();
    await c.settings();
    await c.metadata({ tokens: [{ namespace: 'bearer', name: 'github', type: 'bearer', createdAt: '2026-01-02T03:04:05.000Z', updatedAt: '2026-01-02T03:04:05.000Z', backend: 'secretStorage' }], expiryWarningDays: 7 });
  });
  after(async () => {
    await c?.stop();
    if (savedHome === undefined) delete process.env.MCP_TOKENS_HOME;
    else process.env.MCP_TOKENS_HOME = savedHome;
    rmSync(dir, { recursive: true, force: true });
  });

  async function fixesFor(uri: string, d: Diagnostic): Promise<CodeAction[]> {
    return c.request<CodeAction[]>('textDocument/codeAction', { textDocument: { uri }, range: d.range, context: { diagnostics: [d], only: ['quickfix'] } });
  }
  function applied(text: string, uri: string, action: CodeAction): string {
    const edits = action.edit?.changes?.[uri] as TextEdit[];
    assert.equal(edits.length, 1, 'one edit');
    return TextDocument.applyEdits(TextDocument.create(uri, 'json', 1, text), edits);
  }

  it('wraps a stdio server of .vscode/mcp.json with the installed shim; the diagnostics go', async () => {
    const uri = pathToFileURL(join(dir, '.vscode', 'mcp.json')).toString();
    await c.open(uri, VSCODE_JSON);
    const { diagnostics } = await c.waitForDiagnostics(uri, 1);
    const flagged = unresolved(diagnostics);
    assert.equal(flagged.length, 3, JSON.stringify(flagged));
    assert.match(String(flagged[0].message), /mcp-tokens launcher \(quick fix\)/);
    const actions = await fixesFor(uri, flagged[1]);
    assert.deepEqual(actions.map((a) => a.title), ['Run through MCP Tokens launcher ("github")', 'Move Server to MCP Tokens ("github")']);
    const move = actions[1];
    assert.deepEqual(move.command, { title: move.title, command: 'mcpTokens.moveServerToTokenFile', arguments: [{ uri, serverName: 'github' }] });
    const text = applied(VSCODE_JSON, uri, actions[0]);
    assert.deepEqual(parse(text).servers.github, {
      type: 'stdio',
      command: shim,
      args: ['run', '--', 'npx', '-y', '@modelcontextprotocol/server-github', '--token=$<TOKEN:bearer:github>'],
      env: { GITHUB_TOKEN: '$<TOKEN:bearer:github>' },
    });
    await c.change(uri, 2, [{ text }]);
    const after = await c.waitForDiagnostics(uri, 2);
    const left = unresolved(after.diagnostics);
    assert.equal(left.length, 1, 'only the HTTP server is still flagged');
    assert.equal((left[0].data as { server?: string }).server, 'remote');

    // The HTTP server becomes a stdio server running the proxy.
    const proxy = (await fixesFor(uri, left[0]))[0];
    const text3 = applied(text, uri, proxy);
    assert.deepEqual(parse(text3).servers.remote, { type: 'stdio', command: shim, args: ['proxy', 'https://api.example.com/mcp', '--header', 'Authorization: Bearer $<TOKEN:bearer:github>'] });
    await c.change(uri, 3, [{ text: text3 }]);
    assert.equal(unresolved((await c.waitForDiagnostics(uri, 3)).diagnostics).length, 0);
  });

  it('a server already run through the launcher: env and args not flagged, a reference in cwd still is', async () => {
    const uri = pathToFileURL(join(dir, '.cursor', 'mcp.json')).toString();
    mkdirSync(join(dir, '.cursor'), { recursive: true });
    const text = JSON.stringify({ mcpServers: { w: { command: 'C:\\bin\\mcp-tokens.cmd', args: ['run', '--', 'x', '$<TOKEN:bearer:github>'], env: { T: '$<TOKEN:bearer:github>' }, cwd: '/p/$<TOKEN:bearer:github>' } } }, null, 2);
    await c.open(uri, text);
    const flagged = unresolved((await c.waitForDiagnostics(uri, 1)).diagnostics);
    assert.equal(flagged.length, 1);
    assert.equal(flagged[0].range.start.line, text.split('\n').findIndex((l) => l.includes('"cwd"')));
    assert.deepEqual((await fixesFor(uri, flagged[0])).map((a) => a.title), [], 'nothing to wrap: it already is');
  });

  it('in Claude Desktop / Claude Code files: the launcher fix only (no move to a VS Code file)', async () => {
    for (const file of ['claude_desktop_config.json', '.mcp.json']) {
      const uri = pathToFileURL(join(dir, file)).toString();
      await c.open(uri, CLAUDE_JSON);
      const flagged = unresolved((await c.waitForDiagnostics(uri, 1)).diagnostics);
      assert.equal(flagged.length, 1, file);
      const actions = await fixesFor(uri, flagged[0]);
      assert.deepEqual(actions.map((a) => a.title), ['Run through MCP Tokens launcher ("claude")'], file);
      assert.deepEqual(parse(applied(CLAUDE_JSON, uri, actions[0])).mcpServers.claude.args, ['run', '--', 'uvx', 'srv']);
    }
  });
});
