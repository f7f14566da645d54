/** Document links on references and "find all references" across the workspace (rename: rename.ts). */
import type { DocumentLink, Location, Position } from 'vscode-languageserver/node';
import type { TextDocument } from 'vscode-languageserver-textdocument';
import { keyId } from '../core/reference';
import { EXTENSION_COMMANDS, commandUri } from '../core/protocol';
import { parsedReferenceAt, toRange, type FeatureContext } from './common';

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

export function references(ctx: FeatureContext, doc: TextDocument, position: Position): Location[] | null {
  if (!ctx.workspace.classify(doc.uri)) return null;
  const ref = parsedReferenceAt(doc, position);
  if (!ref) return null;
  return ctx.workspace.referencesTo(ref).map(({ analysis, ref: r }) => ({ uri: analysis.uri, range: toRange(analysis.document, r.start, r.end) }));
}
