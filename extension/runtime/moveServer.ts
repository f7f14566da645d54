/**
 * "Move server to MCP Tokens": the text computation. Pure (jsonc-parser only): given VS Code's
 * `mcp.json` text and the token-aware file's text (or undefined when it does not exist yet), it
 * returns both new texts. The entry keeps its comments (the lines above it and a comment at the end
 * of its last line); `${input:...}` inputs it uses are copied along. The caller applies both texts
 * in one WorkspaceEdit, so the move is one undo step.
 */
import { applyEdits, findNodeAtLocation, getNodeValue, modify, parseTree, type Node } from 'jsonc-parser';
import { MAX_CONFIG_DEPTH, findServerNode, tooDeepAt } from '../../server/core/mcpConfig';

export class MoveServerError extends Error {
  override name = 'MoveServerError';
}

export interface MoveResult {
  readonly source: string;
  readonly target: string;
  /** Ids of inputs copied into the target file. */
  readonly copiedInputs: string[];
}

const PARSE = { allowTrailingComma: true, disallowComments: false, allowEmptyContent: true } as const;

function lineStart(text: string, at: number): number {
  return text.lastIndexOf('\n', at - 1) + 1;
}

/** The whitespace that starts the line holding `at`. */
function indentOf(text: string, at: number): string {
  return /^[ \t]*/.exec(text.slice(lineStart(text, at), at))![0];
}

/** Position after `from` skipping spaces/tabs and, if present, a `//` comment up to the line end. */
function skipTrailingComment(text: string, from: number): number {
  let i = from;
  while (i < text.length && (text[i] === ' ' || text[i] === '\t')) i++;
  if (text.startsWith('//', i)) {
    const nl = text.indexOf('\n', i);
    return nl < 0 ? text.length : nl;
  }
  if (text.startsWith('/*', i)) {
    const close = text.indexOf('*/', i + 2);
    const nl = text.indexOf('\n', i);
    if (close >= 0 && (nl < 0 || close < nl)) return skipTrailingComment(text, close + 2);
  }
  return from;
}

/** Skips whitespace and comments from `from`; returns the next significant offset. */
function skipTrivia(text: string, from: number): number {
  let i = from;
  for (;;) {
    while (i < text.length && /\s/.test(text[i])) i++;
    if (text.startsWith('//', i)) {
      const nl = text.indexOf('\n', i);
      i = nl < 0 ? text.length : nl;
    } else if (text.startsWith('/*', i)) {
      const close = text.indexOf('*/', i + 2);
      i = close < 0 ? text.length : close + 2;
    } else return i;
  }
}

interface PropertySpan {
  /** Where the property's leading comments start (just after the previous line's end). */
  leadStart: number;
  start: number;
  /** End of the value. */
  valueEnd: number;
  /** Offset of a comma right after the value, if any. */
  comma?: number;
  /** End including the comma and a comment at the end of the line. */
  end: number;
}

function propertySpan(text: string, object: Node, index: number): PropertySpan {
  const props = object.children ?? [];
  const prop = props[index];
  const start = prop.offset;
  const valueEnd = prop.offset + prop.length;
  // What precedes: the `{` or the comma after the previous property, and that line's own comment.
  const before = index === 0 ? object.offset + 1 : propertySpan(text, object, index - 1).end;
  const afterPrevLine = skipTrailingComment(text, before);
  const leadStart = afterPrevLine;
  const next = skipTrivia(text, valueEnd);
  const comma = text[next] === ',' ? next : undefined;
  const end = skipTrailingComment(text, comma !== undefined ? comma + 1 : valueEnd);
  return { leadStart, start, valueEnd, comma, end };
}

function detectIndentUnit(text: string): string {
  const m = /\n([ \t]+)"/.exec(text);
  if (!m) return '\t';
  return m[1].startsWith('\t') ? '\t' : m[1].length >= 4 && m[1].length % 4 === 0 ? '    ' : '  ';
}

function reindent(block: string, fromIndent: string, toIndent: string): string {
  return block
    .split('\n')
    .map((line) => (line.startsWith(fromIndent) ? toIndent + line.slice(fromIndent.length) : line.trim() === '' ? '' : toIndent + line.trimStart()))
    .join('\n');
}

/** The texts after moving `serverName` from `sourceText` (VS Code's mcp.json) into `targetText`. */
export function moveServer(sourceText: string, targetText: string | undefined, serverName: string): MoveResult {
  // jsonc-parser's tree recurses once per level: refuse what the config reader refuses, before parsing.
  for (const [text, what] of [[sourceText, 'This file'], [targetText ?? '', 'The MCP Tokens file']] as const) {
    if (tooDeepAt(text) >= 0) throw new MoveServerError(`${what} is nested more than ${MAX_CONFIG_DEPTH} levels deep; fix it first.`);
  }
  const found = findServerNode(sourceText, serverName);
  if (!found) throw new MoveServerError(`There is no server "${serverName}" in this file.`);
  const serversNode = found.property.parent!;
  const index = (serversNode.children ?? []).indexOf(found.property);
  const span = propertySpan(sourceText, serversNode, index);
  const isLast = index === (serversNode.children ?? []).length - 1;

  // The block that moves: leading comment lines, the property, a trailing comment (no comma).
  const leading = sourceText.slice(span.leadStart, span.start).replace(/^[^\n]*\n/, '');
  const leadingLines = leading.trim() === '' ? '' : leading.replace(/\s+$/, '') + '\n';
  const propIndent = indentOf(sourceText, span.start);
  const trailing = sourceText.slice(span.comma !== undefined ? span.comma + 1 : span.valueEnd, span.end);
  const block = leadingLines + propIndent + sourceText.slice(span.start, span.valueEnd) + trailing.replace(/^[ \t]*/, trailing.trim() ? ' ' : '');

  // The source without the property.
  let source: string;
  if (isLast && index > 0 && span.comma === undefined) {
    const prev = propertySpan(sourceText, serversNode, index - 1);
    const removed = sourceText.slice(0, span.leadStart) + sourceText.slice(span.end);
    source = prev.comma !== undefined ? removed.slice(0, prev.comma) + removed.slice(prev.comma + 1) : removed;
  } else {
    source = sourceText.slice(0, span.leadStart) + sourceText.slice(span.end);
  }

  // Inputs the server uses.
  const inputIds = new Set<string>();
  for (const m of sourceText.slice(span.start, span.valueEnd).matchAll(/\$\{input:([^}]+)\}/g)) inputIds.add(m[1]);
  const sourceRoot = parseTree(sourceText, [], PARSE);
  const sourceInputs = (sourceRoot && (getNodeValue(findNodeAtLocation(sourceRoot, ['inputs']) ?? ({} as Node)) as unknown)) || [];

  const unit = detectIndentUnit(sourceText);
  let target = targetText !== undefined && targetText.trim() !== '' ? targetText : `{\n${unit}"servers": {}\n}\n`;
  let targetRoot = parseTree(target, [], PARSE);
  if (!targetRoot || targetRoot.type !== 'object') throw new MoveServerError('The MCP Tokens file is not a JSON object; fix it first.');
  const existingServers = findNodeAtLocation(targetRoot, ['servers']);
  if (existingServers && existingServers.type !== 'object') throw new MoveServerError('"servers" in the MCP Tokens file is not an object; fix it first.');
  if (existingServers && findNodeAtLocation(existingServers, [serverName])) {
    throw new MoveServerError(`The MCP Tokens file already has a server "${serverName}"; rename one of them first.`);
  }
  const fmt = { formattingOptions: { insertSpaces: unit !== '\t', tabSize: unit === '\t' ? 1 : unit.length, eol: '\n' } };
  if (!existingServers) {
    target = applyEdits(target, modify(target, ['servers'], {}, fmt));
    targetRoot = parseTree(target, [], PARSE)!;
  }
  const serversTarget = findNodeAtLocation(targetRoot, ['servers'])!;
  const children = serversTarget.children ?? [];
  const serversIndent = indentOf(target, serversTarget.parent!.offset);
  const childIndent = children.length ? indentOf(target, children[0].offset) : serversIndent + unit;
  const moved = reindent(block, propIndent, childIndent);
  if (children.length) {
    const last = propertySpan(target, serversTarget, children.length - 1);
    const insertAt = last.end;
    const insertion = '\n' + moved;
    target = target.slice(0, insertAt) + insertion + target.slice(insertAt);
    if (last.comma === undefined) target = target.slice(0, last.valueEnd) + ',' + target.slice(last.valueEnd);
  } else {
    const open = serversTarget.offset + 1;
    const close = serversTarget.offset + serversTarget.length - 1;
    const inner = target.slice(open, close);
    const keep = inner.trim() === '' ? '' : inner.replace(/\s+$/, '');
    target = target.slice(0, open) + keep + '\n' + moved + '\n' + serversIndent + target.slice(close);
  }

  // Copy the inputs the server uses that the target lacks.
  const copiedInputs: string[] = [];
  if (inputIds.size && Array.isArray(sourceInputs)) {
    for (const id of inputIds) {
      const def = sourceInputs.find((i: unknown) => (i as { id?: unknown })?.id === id);
      if (!def) continue;
      const root = parseTree(target, [], PARSE)!;
      const targetInputs = getNodeValue(findNodeAtLocation(root, ['inputs']) ?? ({} as Node)) as unknown;
      if (Array.isArray(targetInputs) && targetInputs.some((i: unknown) => (i as { id?: unknown })?.id === id)) continue;
      const path = Array.isArray(targetInputs) ? ['inputs', targetInputs.length] : ['inputs'];
      target = applyEdits(target, modify(target, path, Array.isArray(targetInputs) ? def : [def], { ...fmt, isArrayInsertion: Array.isArray(targetInputs) }));
      copiedInputs.push(id);
    }
  }
  return { source, target, copiedInputs };
}
