import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  findReferences,
  formatReference,
  keyId,
  nameError,
  namespaceError,
  parseKeyId,
  parseReferences,
  parseWholeReference,
} from '../../server/core/reference';

describe('reference grammar', () => {
  const wellFormed: [string, string, { form: string; namespace: string; name: string; start: number; end: number; namespaceStart: number; nameStart: number }][] = [
    ['canonical', '$<TOKEN:bearer:github>', { form: 'angle', namespace: 'bearer', name: 'github', start: 0, end: 22, namespaceStart: 8, nameStart: 15 }],
    ['mcp-cli form', '${TOKEN:api-key:openai}', { form: 'brace', namespace: 'api-key', name: 'openai', start: 0, end: 23, namespaceStart: 8, nameStart: 16 }],
    ['embedded', 'Bearer $<TOKEN:oauth:notion>', { form: 'angle', namespace: 'oauth', name: 'notion', start: 7, end: 28, namespaceStart: 15, nameStart: 21 }],
    ['dots and underscores', '$<TOKEN:custom-team:svc_1.prod>', { form: 'angle', namespace: 'custom-team', name: 'svc_1.prod', start: 0, end: 31, namespaceStart: 8, nameStart: 20 }],
    ['after a surrogate pair', '😀$<TOKEN:a:b>', { form: 'angle', namespace: 'a', name: 'b', start: 2, end: 14, namespaceStart: 10, nameStart: 12 }],
  ];
  for (const [title, text, expected] of wellFormed) {
    it(`parses ${title}`, () => {
      const refs = findReferences(text);
      assert.equal(refs.length, 1);
      assert.deepEqual({ ...refs[0] }, { kind: 'reference', ...expected });
      assert.equal(text.slice(refs[0].start, refs[0].end), formatReference(refs[0] as never, expected.form as never));
    });
  }

  const malformed: [string, string, RegExp, number, number][] = [
    ['missing name', '$<TOKEN:bearer>', /namespace and a name/, 0, 15],
    ['unterminated', 'x $<TOKEN:bearer:github', /not closed/, 2, 23],
    ['unterminated before a quote', '$<TOKEN:bearer:git" rest', /not closed/, 0, 18],
    ['empty namespace', '$<TOKEN::github>', /namespace is empty/, 0, 16],
    ['empty name', '${TOKEN:bearer:}', /name is empty/, 0, 16],
    ['too many parts', '$<TOKEN:a:b:c>', /too many/, 0, 14],
    ['bad character', '$<TOKEN:bearer:gi#hub>', /may only contain/, 0, 22],
    ['lower-case keyword', '$<token:bearer:github>', /capitals/, 0, 22],
    ['leading dash', '$<TOKEN:-x:y>', /must start/, 0, 13],
    ['long namespace', `$<TOKEN:${'n'.repeat(65)}:y>`, /longer than 64/, 0, 76],
  ];
  for (const [title, text, messagePattern, start, end] of malformed) {
    it(`reports ${title} with its range`, () => {
      const refs = findReferences(text);
      assert.equal(refs.length, 1, JSON.stringify(refs));
      const [m] = refs;
      assert.equal(m.kind, 'malformed');
      assert.match((m as { message: string }).message, messagePattern);
      assert.equal(m.start, start);
      assert.equal(m.end, end);
    });
  }

  it('ignores VS Code variables and other dollar text', () => {
    assert.deepEqual(findReferences('${workspaceFolder}/x ${env:HOME} $<foo> $ $$ ${input:pat} $<TOKENS:a:b>'), []);
  });

  it('finds several references and keeps going after a malformed one', () => {
    const text = '$<TOKEN:a:b>-$<TOKEN:bad-${TOKEN:c:d}';
    const refs = findReferences(text);
    assert.deepEqual(
      refs.map((r) => [r.kind, r.start, r.end]),
      [
        ['reference', 0, 12],
        ['malformed', 13, 25],
        ['reference', 25, 37],
      ],
    );
  });

  it('parseWholeReference only accepts a value that is exactly one reference', () => {
    assert.equal(parseWholeReference('$<TOKEN:a:b>')?.name, 'b');
    assert.equal(parseWholeReference(' $<TOKEN:a:b>'), undefined);
    assert.equal(parseWholeReference('$<TOKEN:a:b>$<TOKEN:a:c>'), undefined);
  });

  it('finds every reference of a text in order, both forms, each with its exact span', () => {
    // (Was a test of substituteReferences, which nothing used; the language server and the runtime read references through findReferences.)
    const text = 'A=$<TOKEN:a:b> B=${TOKEN:c:d} C=$<TOKEN:x> D=$<TOKEN:x:y>';
    const found = findReferences(text);
    assert.deepEqual(found.map((m) => [m.kind, m.form, text.slice(m.start, m.end)]), [
      ['reference', 'angle', '$<TOKEN:a:b>'],
      ['reference', 'brace', '${TOKEN:c:d}'],
      ['malformed', 'angle', '$<TOKEN:x>'],
      ['reference', 'angle', '$<TOKEN:x:y>'],
    ]);
    assert.deepEqual(found.flatMap((m) => (m.kind === 'reference' ? [keyId(m)] : [])), ['a:b', 'c:d', 'x:y']);
  });

  it('validates segments and key ids', () => {
    assert.equal(namespaceError('custom-team'), undefined);
    assert.equal(nameError('my.svc_2'), undefined);
    assert.ok(nameError('a b'));
    assert.ok(nameError(''));
    assert.ok(nameError('x'.repeat(129)));
    assert.equal(nameError('x'.repeat(128)), undefined);
    assert.deepEqual(parseKeyId('bearer:github'), { namespace: 'bearer', name: 'github' });
    assert.equal(parseKeyId('bearer'), undefined);
    assert.equal(parseKeyId('a:b:c'), undefined);
  });

  it('never throws and keeps offsets inside the string on random input', () => {
    const alphabet = ['$', '<', '>', '{', '}', 'T', 'O', 'K', 'E', 'N', ':', 'a', '-', ' ', '"', '😀', '\uD800'];
    let seed = 42;
    const rand = (n: number) => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) % n);
    for (let i = 0; i < 5000; i++) {
      let s = '';
      const len = rand(40);
      for (let j = 0; j < len; j++) s += rand(3) === 0 ? '$<TOKEN:' : alphabet[rand(alphabet.length)];
      for (const r of findReferences(s)) {
        assert.ok(r.start >= 0 && r.end <= s.length && r.start < r.end, `${JSON.stringify(s)} ${JSON.stringify(r)}`);
      }
      assert.equal(parseReferences(s).every((r) => s.slice(r.start, r.end) === formatReference(r, r.form)), true);
    }
  });
});
