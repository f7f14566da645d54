import { test } from 'node:test';
import assert from 'node:assert/strict';
import { entryStrings, findServerNode, parseMcpConfig } from '../../server/core/mcpConfig';

const VSCODE = `{
  // comment
  "servers": {
    "gh": { "command": "npx", "args": ["-y", "server", "--token", "$<TOKEN:bearer:gh>"], "env": { "A": "1", "N": 5, "DROP": null }, "cwd": "\${workspaceFolder}" },
    "remote": { "type": "http", "url": "https://api.example.com/mcp", "headers": { "Authorization": "Bearer \${TOKEN:bearer:remote}" } },
    "implicitHttp": { "url": "http://127.0.0.1:9/mcp" },
    "broken": { "args": ["x"] },
    "notObject": 3,
  },
  "inputs": [
    { "type": "promptString", "id": "pw", "password": true, "description": "Password" },
    { "type": "pickString", "id": "region", "options": ["eu", { "value": "us" }] },
    { "type": "command", "id": "cmd", "command": "x" },
    { "type": "promptString" }
  ]
}`;

test('parses stdio and HTTP servers of the mcp.json shape, one bad entry does not hide the others', () => {
  const parsed = parseMcpConfig(VSCODE);
  assert.deepEqual(
    parsed.servers.map((s) => [s.name, s.kind]),
    [
      ['gh', 'stdio'],
      ['remote', 'http'],
      ['implicitHttp', 'http'],
    ],
  );
  const gh = parsed.servers[0];
  assert.equal(gh.kind, 'stdio');
  if (gh.kind !== 'stdio') return;
  assert.deepEqual(gh.args, ['-y', 'server', '--token', '$<TOKEN:bearer:gh>']);
  assert.deepEqual(gh.env, { A: '1', N: '5', DROP: null });
  assert.equal(gh.cwd, '${workspaceFolder}');
  assert.equal(VSCODE.slice(gh.nameSpan.start, gh.nameSpan.end), '"gh"');
  assert.ok(VSCODE.slice(gh.span.start, gh.span.end).startsWith('"gh": {'));
  const remote = parsed.servers[1];
  assert.equal(remote.kind === 'http' && remote.headers.Authorization, 'Bearer ${TOKEN:bearer:remote}');
  const messages = parsed.problems.map((p) => p.message).join('\n');
  assert.match(messages, /Server "broken": command/);
  assert.match(messages, /"notObject" must be an object/);
  assert.match(messages, /type "command" are not supported/);
  assert.match(messages, /Invalid input/);
});

test('parses inputs; pickString options may be objects', () => {
  const { inputs } = parseMcpConfig(VSCODE);
  assert.deepEqual(inputs, [
    { type: 'promptString', id: 'pw', description: 'Password', password: true, default: undefined },
    { type: 'pickString', id: 'region', description: undefined, options: ['eu', 'us'], default: undefined },
  ]);
});

test('reads mcp-cli server_config.json (mcpServers) and ignores `servers` there', () => {
  const text = JSON.stringify({ mcpServers: { cli: { command: 'uvx', args: ['x'], env: { KEY: '${TOKEN:api-key:openai}' } } }, servers: { no: { command: 'y' } } });
  const parsed = parseMcpConfig(text, 'mcp-cli');
  assert.deepEqual(parsed.servers.map((s) => s.name), ['cli']);
  assert.deepEqual(parsed.inputs, []);
  assert.deepEqual(entryStrings(parsed.servers[0]).map((x) => x.field), ['command', 'args[0]', 'env.KEY']);
});

test('reports syntax errors and a non-object root; empty text is an empty config', () => {
  assert.match(parseMcpConfig('{ "servers": { ').problems[0].message, /JSON syntax/);
  assert.match(parseMcpConfig('[]').problems[0].message, /JSON object/);
  assert.deepEqual(parseMcpConfig('').servers, []);
  assert.equal(parseMcpConfig('{"servers": []}').problems[0].message, '"servers" must be an object of servers by name.');
});

test('duplicate server names: the first wins, with a warning', () => {
  const parsed = parseMcpConfig('{"servers": {"a": {"command": "one"}, "a": {"command": "two"}}}');
  assert.equal(parsed.servers.length, 1);
  assert.equal(parsed.servers[0].kind === 'stdio' && parsed.servers[0].command, 'one');
  assert.equal(parsed.problems[0].severity, 'warning');
});

test('findServerNode locates a server property', () => {
  const found = findServerNode(VSCODE, 'remote');
  assert.ok(found);
  assert.ok(VSCODE.slice(found.property.offset).startsWith('"remote"'));
  assert.equal(findServerNode(VSCODE, 'nope'), undefined);
});
