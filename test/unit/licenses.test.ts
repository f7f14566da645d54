/**
 * scripts/licenses.ts: a keyring binary's LICENSE.third-party.md with each license text given once.
 * Texts that are the same words (differing in line breaks and spacing only) are merged with every
 * crate that uses them; texts that differ in a word stay apart; the rest of the file is kept.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { dedupeLicenseTexts } from '../../scripts/licenses';

const text = (title: string, usedBy: string[], body: string) => `### ${title}\n\nUsed by: ${usedBy.map((c) => `\`${c}\``).join(', ')}\n\n\`\`\`text\n${body}\n\`\`\`\n`;
const APACHE = 'Apache License\nVersion 2.0, January 2004\n\nTERMS AND CONDITIONS';
const APACHE_REWRAPPED = 'Apache License Version 2.0,\n  January 2004\nTERMS   AND CONDITIONS';
const MIT_A = 'Copyright (c) 2025 A\n\nPermission is hereby granted';
const MIT_B = 'Copyright (c) 2025 B\n\nPermission is hereby granted';
const head = '# Third-party licenses\n\n## Crates\n\n| Crate | Version | License |\n| --- | --- | --- |\n| a | 1.0.0 | Apache-2.0 |\n\n## License texts\n\nWhere a crate offers a choice of licenses, the text below is the license elected for it.\n\n';
const tail = '## libdbus 1.14.4 (vendored C library)\n\nCopyright notices:\n\n```text\nCopyright (C) 2002 Red Hat\n```\n';

function file(tailPart = tail): string {
  return (
    head +
    [
      text('Apache License 2.0 (`Apache-2.0`)', ['a 1.0.0', 'b 2.0.0'], APACHE),
      text('MIT License (`MIT`)', ['m 1.0.0'], MIT_A),
      text('Apache License 2.0 (`Apache-2.0`)', ['c 3.0.0', 'b 2.0.0'], APACHE_REWRAPPED),
      text('MIT License (`MIT`)', ['n 1.0.0'], MIT_B),
    ].join('\n') +
    (tailPart ? `\n${tailPart}` : '')
  );
}

const sections = (s: string) => [...s.matchAll(/^### (.+)\n\nUsed by: (.+)$/gm)].map((m) => [m[1], m[2]]);

test('the same words are given once, with every crate that uses them, in order; a copyright line that differs keeps its own text', () => {
  const out = dedupeLicenseTexts(file());
  assert.deepEqual(sections(out), [
    ['Apache License 2.0 (`Apache-2.0`)', '`a 1.0.0`, `b 2.0.0`, `c 3.0.0`'],
    ['MIT License (`MIT`)', '`m 1.0.0`'],
    ['MIT License (`MIT`)', '`n 1.0.0`'],
  ]);
  assert.ok(out.includes(APACHE), 'the first text as published');
  assert.ok(!out.includes(APACHE_REWRAPPED));
  assert.ok(out.includes(MIT_A) && out.includes(MIT_B));
  assert.match(out, /4 texts in the file as published, 3 here/);
});

test('the crate table and the sections after the texts are kept as they are', () => {
  const out = dedupeLicenseTexts(file());
  assert.ok(out.startsWith(head.slice(0, head.indexOf('\n\nWhere a crate'))));
  assert.ok(out.endsWith(tail), 'the libdbus section, unchanged, at the end');
  const noTail = dedupeLicenseTexts(file(''));
  assert.equal(sections(noTail).length, 3);
  assert.ok(noTail.trimEnd().endsWith('```'));
});

test('a file with nothing to merge, or of another layout, is returned unchanged', () => {
  const single = head + text('MIT License (`MIT`)', ['m 1.0.0'], MIT_A);
  assert.equal(dedupeLicenseTexts(single), single);
  const other = '# Licenses\n\nMIT, see LICENSE.\n';
  assert.equal(dedupeLicenseTexts(other), other);
  const odd = head + '### MIT License\n\nno "Used by" line\n\n```text\nx\n```\n' + text('MIT License (`MIT`)', ['m 1.0.0'], MIT_A) + text('MIT License (`MIT`)', ['n 1.0.0'], MIT_A);
  assert.equal(dedupeLicenseTexts(odd), odd, 'a section of another shape: nothing is merged');
});
