/**
 * Rename of a token from one of its references: the `namespace:name` part is the rename range; the
 * new key is what the user typed (`namespace:name`, or a name alone in the same namespace). A stored
 * token is renamed in the store first (RenameTokenRequest to the extension: value, previous value and
 * metadata move together); then every reference in the workspace's MCP config files is rewritten in
 * one workspace edit. A reference to a token that is not stored is only rewritten.
 */
import { ErrorCodes, LSPErrorCodes, ResponseError, type Position, type Range, type TextEdit, type WorkspaceEdit } from 'vscode-languageserver/node';
import type { TextDocument } from 'vscode-languageserver-textdocument';
import { sameKey } from '../core/model';
import { RenameTokenRequest, type RequestSender } from '../core/protocol';
import { keyId, nameError, namespaceError, parseKeyId, type TokenKey } from '../core/reference';
import { parsedReferenceAt, toRange, type FeatureContext } from './common';

/** The `namespace:name` part of the reference under the cursor. */
export function prepareRename(ctx: FeatureContext, doc: TextDocument, position: Position): { range: Range; placeholder: string } | null {
  if (!ctx.workspace.classify(doc.uri)) return null;
  const ref = parsedReferenceAt(doc, position);
  if (!ref) return null;
  return { range: keyRange(doc, ref), placeholder: keyId(ref) };
}

/**
 * Renames the token referenced at `position` to `newName`: asks the extension to rename a stored
 * token, then returns the edit of every reference. Throws a ResponseError the editor shows when the
 * new key is invalid, already taken, or the store refused.
 */
export async function rename(ctx: FeatureContext, extension: RequestSender, doc: TextDocument, position: Position, newName: string): Promise<WorkspaceEdit | null> {
  if (!ctx.workspace.classify(doc.uri)) return null;
  const ref = parsedReferenceAt(doc, position);
  if (!ref) return null;
  const from: TokenKey = { namespace: ref.namespace, name: ref.name };
  const to = parseNewKey(from, newName);
  if (sameKey(from, to)) return { changes: {} };
  if (ctx.catalog.has(from)) {
    if (ctx.catalog.has(to)) throw new ResponseError(ErrorCodes.InvalidRequest, `A token ${keyId(to)} already exists.`);
    const result = await extension.send(RenameTokenRequest, { from, to });
    if (!result.renamed) throw new ResponseError(LSPErrorCodes.RequestFailed, result.message ?? `The token ${keyId(from)} was not renamed.`);
  }
  return renameEdit(ctx, from, to);
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
function renameEdit(ctx: FeatureContext, from: TokenKey, to: TokenKey): WorkspaceEdit {
  const changes: Record<string, TextEdit[]> = {};
  for (const { analysis, ref } of ctx.workspace.referencesTo(from)) (changes[analysis.uri] ??= []).push({ range: keyRange(analysis.document, ref), newText: keyId(to) });
  return { changes };
}

function keyRange(doc: TextDocument, ref: { namespaceStart: number; nameStart: number; name: string }): Range {
  return toRange(doc, ref.namespaceStart, ref.nameStart + ref.name.length);
}
