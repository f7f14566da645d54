/** Document links on references, "find all references" across the workspace, and rename. */
import { ResponseError, ErrorCodes, type DocumentLink, type Location, type Position, type Range, type TextEdit, type WorkspaceEdit } from 'vscode-languageserver/node';
import type { TextDocument } from 'vscode-languageserver-textdocument';
import { keyId, nameError, namespaceError, parseKeyId, type ParsedReference, type TokenKey } from '../core/reference';
import { EXTENSION_COMMANDS, commandUri } from '../core/protocol';
import { referenceAt, toRange, type FeatureContext } from './common';

export function documentLinks(ctx: FeatureContext, doc: TextDocument): DocumentLink[] {
  const analysis = ctx.workspace.analyze(doc);
  if (!analysis) return [];
  const out: DocumentLink[] = [];
  for (const ref of analysis.scan.references) {
    if (ref.kind !== 'reference') continue;
    const arg = { namespace: ref.namespace, name: ref.name };
    const known = ctx.catalog.has(arg);
    out.push({
      range: toRange(doc, ref.start, ref.end),
      target: commandUri(known ? EXTENSION_COMMANDS.reveal : EXTENSION_COMMANDS.setToken, arg),
      tooltip: known ? `Reveal ${keyId(arg)} in MCP Tokens` : `Create token ${keyId(arg)}`,
    });
  }
  return out;
}

function parsedAt(doc: TextDocument, position: Position): ParsedReference | undefined {
  const ref = referenceAt(doc.getText(), doc.offsetAt(position));
  return ref?.kind === 'reference' ? ref : undefined;
}

export function references(ctx: FeatureContext, doc: TextDocument, position: Position): Location[] | null {
  if (!ctx.workspace.classify(doc.uri)) return null;
  const ref = parsedAt(doc, position);
  if (!ref) return null;
  return ctx.workspace.referencesTo(ref).map(({ analysis, ref: r }) => ({ uri: analysis.uri, range: toRange(analysis.document, r.start, r.end) }));
}

/** The `namespace:name` part of the reference under the cursor. */
export function prepareRename(ctx: FeatureContext, doc: TextDocument, position: Position): { range: Range; placeholder: string } | null {
  if (!ctx.workspace.classify(doc.uri)) return null;
  const ref = parsedAt(doc, position);
  if (!ref) return null;
  return { range: toRange(doc, ref.namespaceStart, ref.nameStart + ref.name.length), placeholder: keyId(ref) };
}

/** The new key from what the user typed: `namespace:name`, or a name alone (same namespace). */
export function parseNewKey(from: TokenKey, newName: string): TokenKey {
  const trimmed = newName.trim();
  if (trimmed.includes(':')) {
    const key = parseKeyId(trimmed);
    if (!key) {
      const [ns, ...rest] = trimmed.split(':');
      const problem = namespaceError(ns) ?? nameError(rest.join(':')) ?? 'Use namespace:name.';
      throw new ResponseError(ErrorCodes.InvalidParams, `"${trimmed}" is not a valid token key. ${problem}`);
    }
    return key;
  }
  const problem = nameError(trimmed);
  if (problem) throw new ResponseError(ErrorCodes.InvalidParams, problem);
  return { namespace: from.namespace, name: trimmed };
}

/** The edit renaming every reference to `from` in the workspace's MCP config files. */
export function renameEdit(ctx: FeatureContext, from: TokenKey, to: TokenKey): WorkspaceEdit {
  const changes: Record<string, TextEdit[]> = {};
  for (const { analysis, ref } of ctx.workspace.referencesTo(from)) {
    (changes[analysis.uri] ??= []).push({ range: toRange(analysis.document, ref.namespaceStart, ref.nameStart + ref.name.length), newText: keyId(to) });
  }
  return { changes };
}

export function referenceKeyAt(ctx: FeatureContext, doc: TextDocument, position: Position): TokenKey | undefined {
  if (!ctx.workspace.classify(doc.uri)) return undefined;
  const ref = parsedAt(doc, position);
  return ref ? { namespace: ref.namespace, name: ref.name } : undefined;
}
