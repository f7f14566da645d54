/** server/core/markdown.ts: the one Markdown escaper of the language server and the extension. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { codeSpan, escapeMarkdown } from '../../server/core/markdown';

describe('escapeMarkdown', () => {
  it('escapes every character Markdown gives a meaning to, and nothing else', () => {
    const special = '\\`*_{}[]()#+-.!|<>~';
    assert.equal(escapeMarkdown(special), [...special].map((c) => `\\${c}`).join(''));
    assert.equal(escapeMarkdown('GitHub PAT 42, ok: é; @user / "q" = %'), 'GitHub PAT 42, ok: é; @user / "q" = %');
  });

  it('defuses links, HTML, emphasis, tables, lists and theme icons', () => {
    assert.equal(escapeMarkdown('[x](command:evil)'), '\\[x\\]\\(command:evil\\)');
    assert.equal(escapeMarkdown('<img src=x>'), '\\<img src=x\\>');
    assert.equal(escapeMarkdown('a | b'), 'a \\| b');
    assert.equal(escapeMarkdown('- item'), '\\- item');
    assert.equal(escapeMarkdown('1. item'), '1\\. item');
    assert.equal(escapeMarkdown('$(warning)'), '$\\(warning\\)');
  });

  it('keeps line breaks as Markdown hard breaks', () => {
    assert.equal(escapeMarkdown('one\ntwo\r\nthree'), 'one  \ntwo  \nthree');
  });
});

describe('codeSpan', () => {
  it('fences the text with more backticks than it holds, unescaped', () => {
    assert.equal(codeSpan('my-server.prod'), '`my-server.prod`');
    assert.equal(codeSpan('a`b'), '``a`b``');
    assert.equal(codeSpan('``x'), '``` ``x ```');
    assert.equal(codeSpan('two\nlines'), '`two lines`');
  });
});
