/**
 * Markdown escaping for text that comes from users or the outside world (token names, descriptions,
 * providers, server names, error messages): shown in hovers, completion details and tooltips, it must
 * render as the text it is, never as links, emphasis, tables, HTML or theme icons. Pure: the one
 * escaper of both processes (the language server's hovers, the extension's tree tooltips).
 */

/**
 * The ASCII punctuation Markdown gives a meaning to (emphasis, code, links, headings, lists, tables,
 * HTML, strike-through; an escaped `(` also defeats VS Code's `$(icon)` syntax), each backslash-escaped.
 */
const SPECIAL = /[\\`*_{}[\]()#+\-.!|<>~]/g;

/** `text` as Markdown that renders exactly as `text`; line breaks become hard breaks so its lines stay. */
export function escapeMarkdown(text: string): string {
  return text.replace(SPECIAL, '\\$&').replace(/\r?\n/g, '  \n');
}

/**
 * `text` as a Markdown code span. Backslash escapes do not apply inside code, so the fence is one
 * backtick longer than the longest run of backticks in `text`, and padded when `text` starts or ends
 * with one; line breaks become spaces (a code span is one line).
 */
export function codeSpan(text: string): string {
  const flat = text.replace(/\r?\n/g, ' ');
  const longest = Math.max(0, ...(flat.match(/`+/g) ?? []).map((run) => run.length));
  const fence = '`'.repeat(longest + 1);
  const pad = flat.startsWith('`') || flat.endsWith('`') ? ' ' : '';
  return `${fence}${pad}${flat}${pad}${fence}`;
}
