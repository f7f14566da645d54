import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parse, type ParseError } from 'jsonc-parser';
import { moveServer, MoveServerError } from '../../extension/runtime/moveServer';

function valid(text: string): unknown {
  const errors: ParseError[] = [];
  const value = parse(text, errors, { allowTrailingComma: true, disallowComments: false });
  assert.deepEqual(errors, [], `not valid JSONC:\n${text}`);
  return value;
}

const SOURCE = `{
\t// VS Code's own servers
\t"servers": {
\t\t"keep": { "command": "a" }, // about keep
\t\t// The GitHub server
\t\t// needs a token
\t\t"github": {
\t\t\t"command": "node", // inline comment
\t\t\t"args": ["srv.js", "\${input:pw}", "$<TOKEN:bearer:gh>"]
\t\t}, // after github
\t\t"last": { "url": "http://127.0.0.1:1/mcp" }
\t},
\t"inputs": [ { "type": "promptString", "id": "pw", "password": true }, { "type": "promptString", "id": "other" } ]
}
`;

test('moves a middle entry with its comments into a new file, copying the inputs it uses', () => {
  const r = moveServer(SOURCE, undefined, 'github');
  const src = valid(r.source) as { servers: Record<string, unknown>; inputs: unknown[] };
  assert.deepEqual(Object.keys(src.servers), ['keep', 'last']);
  assert.equal(src.inputs.length, 2, 'inputs stay in the source (other servers may use them)');
  assert.match(r.source, /"keep": \{ "command": "a" \}, \/\/ about keep\n\t\t"last"/);
  assert.doesNotMatch(r.source, /GitHub|after github|inline comment/);

  const tgt = valid(r.target) as { servers: Record<string, { args: string[] }>; inputs: { id: string }[] };
  assert.deepEqual(Object.keys(tgt.servers), ['github']);
  assert.deepEqual(tgt.servers.github.args, ['srv.js', '${input:pw}', '$<TOKEN:bearer:gh>']);
  assert.match(r.target, /\t\t\/\/ The GitHub server\n\t\t\/\/ needs a token\n\t\t"github": \{\n\t\t\t"command": "node", \/\/ inline comment/);
  assert.match(r.target, /\} \/\/ after github/);
  assert.deepEqual(tgt.inputs.map((i) => i.id), ['pw']);
  assert.deepEqual(r.copiedInputs, ['pw']);
});

test('moving the last entry removes the comma before it', () => {
  const r = moveServer(SOURCE, undefined, 'last');
  const src = valid(r.source) as { servers: Record<string, unknown> };
  assert.deepEqual(Object.keys(src.servers), ['keep', 'github']);
  assert.match(r.source, /\t\t\} \/\/ after github\n\t\}/);
  assert.deepEqual(r.copiedInputs, []);
});

test('moving the only entry leaves an empty servers object', () => {
  const r = moveServer('{ "servers": { "only": { "command": "x" } } }', undefined, 'only');
  assert.deepEqual(valid(r.source), { servers: {} });
});

test('appends to an existing file with servers (adding the missing comma) and keeps its comments', () => {
  const target = `{
  // mine
  "servers": {
    "mine": { "command": "m" } // trailing
  }
}`;
  const r = moveServer(SOURCE, target, 'keep');
  const tgt = valid(r.target) as { servers: Record<string, unknown> };
  assert.deepEqual(Object.keys(tgt.servers), ['mine', 'keep']);
  assert.match(r.target, /"mine": \{ "command": "m" \}, \/\/ trailing\n    "keep": \{ "command": "a" \} \/\/ about keep\n  \}/);
  assert.match(r.target, /\/\/ mine/);
});

test('adds servers to a file that has none, and fills an empty servers object', () => {
  const a = moveServer(SOURCE, '{\n\t"inputs": []\n}\n', 'keep');
  assert.deepEqual(Object.keys((valid(a.target) as { servers: object }).servers), ['keep']);
  const b = moveServer(SOURCE, '{ "servers": {} }', 'github');
  const tgt = valid(b.target) as { servers: object; inputs: unknown[] };
  assert.deepEqual(Object.keys(tgt.servers), ['github']);
  assert.equal(tgt.inputs.length, 1);
});

test('does not copy an input the target already has', () => {
  const r = moveServer(SOURCE, '{ "servers": {}, "inputs": [ { "type": "promptString", "id": "pw" } ] }', 'github');
  assert.deepEqual(r.copiedInputs, []);
  assert.equal((valid(r.target) as { inputs: unknown[] }).inputs.length, 1);
});

test('refuses unknown servers, name clashes and broken targets', () => {
  assert.throws(() => moveServer(SOURCE, undefined, 'nope'), MoveServerError);
  assert.throws(() => moveServer(SOURCE, '{ "servers": { "keep": {} } }', 'keep'), /already has a server "keep"/);
  assert.throws(() => moveServer(SOURCE, '[1]', 'keep'), /not a JSON object/);
  assert.throws(() => moveServer(SOURCE, '{ "servers": [] }', 'keep'), /not an object/);
});

test('a source or target nested deeper than the config reader allows is refused, not a stack overflow', () => {
  const deep = `{"servers": {"a": {"command": "x"}}, "x": ${'['.repeat(100_000)}${']'.repeat(100_000)}}`;
  assert.throws(() => moveServer(deep, undefined, 'a'), (e: unknown) => e instanceof MoveServerError && /nested more than 256 levels/.test(e.message));
  assert.throws(() => moveServer('{"servers": {"a": {"command": "x"}}}', deep, 'a'), (e: unknown) => e instanceof MoveServerError && /The MCP Tokens file is nested/.test(e.message));
});
