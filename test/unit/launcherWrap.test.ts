/** "Run through MCP Tokens launcher": the pure rewrite of one server, and its recognition. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parse } from 'jsonc-parser';
import { applyEdit, isLauncherCommand, wrapServerEdit, wrappedServers } from '../../server/core/launcherWrap';

const VSCODE = `{
  // my servers
  "servers": {
    "github": {
      "type": "stdio",
      "command": "npx",
      "args": ["-y", "@modelcontextprotocol/server-github"],
      "env": { "GITHUB_TOKEN": "$<TOKEN:github:pat>" }
    },
    "remote": {
      "type": "http",
      "url": "https://mcp.example.com/mcp",
      "headers": { "Authorization": "Bearer $<TOKEN:bearer:remote>", "X-Team": "a" }
    }
  },
  "inputs": []
}
`;

test('a stdio server becomes `launcher run -- command args`, env and the rest kept, comments outside kept', () => {
  const edit = wrapServerEdit(VSCODE, 'github', '/home/u/.local/bin/mcp-tokens');
  assert.ok(edit);
  const out = applyEdit(VSCODE, edit);
  assert.ok(out.startsWith('{\n  // my servers\n'));
  const parsed = parse(out);
  assert.deepEqual(parsed.servers.github, {
    type: 'stdio',
    command: '/home/u/.local/bin/mcp-tokens',
    args: ['run', '--', 'npx', '-y', '@modelcontextprotocol/server-github'],
    env: { GITHUB_TOKEN: '$<TOKEN:github:pat>' },
  });
  assert.deepEqual(parsed.servers.remote, parse(VSCODE).servers.remote, 'the other server is untouched');
  assert.deepEqual(Object.keys(parsed.servers.github), ['type', 'command', 'args', 'env'], 'field order kept');
  assert.deepEqual([...wrappedServers(out)], ['github']);
  assert.equal(wrapServerEdit(out, 'github', 'mcp-tokens'), undefined, 'already wrapped');
});

test('an HTTP server becomes a stdio server running `proxy URL --header "Name: value"`', () => {
  const out = applyEdit(VSCODE, wrapServerEdit(VSCODE, 'remote', 'mcp-tokens')!);
  assert.deepEqual(parse(out).servers.remote, {
    type: 'stdio',
    command: 'mcp-tokens',
    args: ['proxy', 'https://mcp.example.com/mcp', '--header', 'Authorization: Bearer $<TOKEN:bearer:remote>', '--header', 'X-Team: a'],
  });
  assert.deepEqual([...wrappedServers(out)], ['remote']);
});

test('Claude-style mcpServers, tabs kept; unknown server or shape: no edit', () => {
  const claude = '{\n\t"mcpServers": {\n\t\t"s": { "command": "uvx", "args": ["srv"], "env": { "K": "${TOKEN:a:b}" } }\n\t}\n}\n';
  const out = applyEdit(claude, wrapServerEdit(claude, 's', 'mcp-tokens')!);
  assert.deepEqual(parse(out).mcpServers.s, { command: 'mcp-tokens', args: ['run', '--', 'uvx', 'srv'], env: { K: '${TOKEN:a:b}' } });
  assert.match(out, /\n\t\t"s": \{\n\t\t\t"command"/);
  assert.equal(wrapServerEdit(claude, 'nope', 'mcp-tokens'), undefined);
  assert.equal(wrapServerEdit('{"mcpServers":{"x":{"foo":1}}}', 'x', 'mcp-tokens'), undefined);
});

test('launcher commands are recognised by name, path or .cmd; run/proxy only', () => {
  for (const c of ['mcp-tokens', '/home/u/.local/bin/mcp-tokens', 'C:\\Users\\u\\bin\\mcp-tokens.cmd']) assert.equal(isLauncherCommand(c), true, c);
  for (const c of ['npx', 'mcp-tokens-fake', 42]) assert.equal(isLauncherCommand(c), false, String(c));
  assert.deepEqual([...wrappedServers('{"servers":{"a":{"command":"mcp-tokens","args":["list"]},"b":{"command":"mcp-tokens","args":["proxy","http://x"]}}}')], ['b']);
});
