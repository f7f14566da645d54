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
  // Straight from the chunks (offsets relative to each): a document-wide copy of the references,
  // made only for this, was 9,500 references and their sites kept per version of the benchmark's file.
  // One target and tooltip per token, shared by its references (9,500 references of 1,050 tokens there).
  const { chunks, starts } = analysis.chunks;
  const perKey = new Map<string, { target: string; tooltip: string }>();
  chunks.forEach((chunk, i) => {
    const base = starts[i];
    for (const ref of chunk.references) {
      if (ref.kind !== 'reference') continue;
      const id = keyId(ref);
      let link = perKey.get(id);
      if (!link) {
        const arg = { namespace: ref.namespace, name: ref.name };
        const known = ctx.catalog.has(arg);
        link = { target: commandUri(known ? EXTENSION_COMMANDS.reveal : EXTENSION_COMMANDS.setToken, arg), tooltip: known ? `Reveal ${id} in MCP Tokens` : `Create token ${id}` };
        perKey.set(id, link);
      }
      out.push({ range: toRange(doc, base + ref.start, base + ref.end), target: link.target, tooltip: link.tooltip });
    }
  });
  return out;
}

export function references(ctx: FeatureContext, doc: TextDocument, position: Position): Location[] | null {
  if (!ctx.workspace.classify(doc.uri)) return null;
  const ref = parsedReferenceAt(doc, position);
  if (!ref) return null;
  return ctx.workspace.referencesTo(ref).map(({ analysis, ref: r }) => ({ uri: analysis.uri, range: toRange(analysis.document, r.start, r.end) }));
}
