/** server/core/json.ts: JSON of a zod shape, failing as "not JSON" or "another shape", never echoing the text. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { z } from 'zod';
import { parseJsonAs } from '../../server/core/json';

const schema = z.object({ token: z.string(), n: z.number().int() }).strict();

test('a text of the shape gives the parsed value', () => {
  assert.deepEqual(parseJsonAs(schema, '{"token":"x","n":2}'), { ok: true, value: { token: 'x', n: 2 } });
});

test('text that is not JSON, JSON of another shape: each says which, and neither carries the text', () => {
  const secret = 'ghp_NOTJSON0123456789abcdefghijklmnopqrs';
  const notJson = parseJsonAs(schema, `{"token": ${secret}`);
  const otherShape = parseJsonAs(schema, JSON.stringify({ token: secret, n: 'two' }));
  assert.deepEqual(notJson, { ok: false, why: 'json' });
  assert.deepEqual(otherShape, { ok: false, why: 'shape' });
  assert.ok(!JSON.stringify([notJson, otherShape]).includes(secret));
});
