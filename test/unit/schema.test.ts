/**
 * schemas/mcp.tokens.schema.json, the schema VS Code's JSON service reads for the token-aware
 * servers files: which entries are stdio and which http (`oneOf`, so that completion in a new server
 * offers the fields of both shapes), and the env value types.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import Ajv from 'ajv';

const schema = JSON.parse(readFileSync(join(__dirname, '../../schemas/mcp.tokens.schema.json'), 'utf8')) as object;
const validate = new Ajv({ allErrors: true, strict: false, validateFormats: false }).compile(schema);
const ok = (server: object) => validate({ servers: { s: server } });

test('stdio and http servers: each shape is accepted as the one it is, and a mix is refused', () => {
  assert.ok(ok({ command: 'node' }), JSON.stringify(validate.errors));
  assert.ok(ok({ type: 'stdio', command: 'node', args: ['a'], env: { A: '$<TOKEN:bearer:x>', N: 1, GONE: null }, cwd: '/', envFile: '.env' }), JSON.stringify(validate.errors));
  assert.ok(ok({ url: 'https://a.test/mcp' }), JSON.stringify(validate.errors));
  assert.ok(ok({ type: 'http', url: 'https://a.test/mcp', headers: { Authorization: 'Bearer $<TOKEN:bearer:x>' } }), JSON.stringify(validate.errors));
  assert.ok(ok({ type: 'sse', url: 'https://a.test/sse' }), JSON.stringify(validate.errors));
  assert.equal(ok({ type: 'http', command: 'node' }), false, 'http without url, with command');
  assert.equal(ok({ type: 'stdio', url: 'https://a.test' }), false, 'stdio with url');
  assert.equal(ok({ command: 'node', url: 'https://a.test' }), false, 'both command and url');
  assert.equal(ok({ command: 'node', headers: { A: 'b' } }), false, 'headers on a stdio server');
  assert.equal(ok({ args: [] }), false, 'neither command nor url');
  assert.equal(ok({ type: 'websocket', url: 'wss://a.test' }), false, 'unknown type');
});

test('env values are strings, numbers or null; headers are strings', () => {
  assert.equal(ok({ command: 'node', env: { A: true } }), false);
  assert.equal(ok({ command: 'node', env: { A: {} } }), false);
  assert.equal(ok({ url: 'https://a.test', headers: { A: 1 } }), false);
});
