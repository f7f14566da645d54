/** What every feature receives, and helpers they share. */
import type { Position, Range } from 'vscode-languageserver/node';
import type { TextDocument } from 'vscode-languageserver-textdocument';
import { BACKEND_LABELS, TOKEN_TYPE_LABELS, describeExpiry, verifiedRows, type TokenMetadata } from '../core/model';
import { findReferences, type ParsedReference, type ReferenceMatch } from '../core/reference';
import { jwtRows } from '../core/jwt';
import { stringAtOffset } from '../core/configScan';
import { escapeMarkdown } from '../core/markdown';
import { uriPath } from '../core/mcpFiles';
import type { TokenCatalog } from '../catalog';
import type { McpWorkspace } from '../documents';

export interface FeatureContext {
  readonly catalog: TokenCatalog;
  readonly workspace: McpWorkspace;
  readonly now: () => Date;
  /** The client takes `CompletionList.itemDefaults.editRange` (LSP 3.17), so items need no own range. */
  readonly completionItemDefaults?: boolean;
}

export function toRange(doc: TextDocument, start: number, end: number): Range {
  return { start: doc.positionAt(start), end: doc.positionAt(end) };
}

/** The well-formed reference under `position`, if any. */
export function parsedReferenceAt(doc: TextDocument, position: Position): ParsedReference | undefined {
  const ref = referenceAt(doc.getText(), doc.offsetAt(position));
  return ref?.kind === 'reference' ? ref : undefined;
}

/** The reference (well-formed or not) under `offset`, found from the current line only. */
export function referenceAt(text: string, offset: number): ReferenceMatch | undefined {
  const str = stringAtOffset(text, offset);
  if (!str || str.isKey) return undefined;
  const raw = text.slice(str.start, str.end);
  if (raw.indexOf('$') < 0) return undefined;
  for (const m of findReferences(raw)) {
    const start = m.start + str.start;
    const end = m.end + str.start;
    if (offset >= start && offset <= end && (offset < end || m.kind === 'malformed' || offset === end)) {
      return m.kind === 'reference'
        ? { ...m, start, end, namespaceStart: m.namespaceStart + str.start, nameStart: m.nameStart + str.start }
        : { ...m, start, end };
    }
  }
  return undefined;
}

/** `.vscode/mcp.json`: the last two segments of a URI's path, for messages. */
export function shortPath(uri: string): string {
  const p = uriPath(uri) ?? uri;
  const parts = p.split('/').filter(Boolean);
  return parts.slice(-2).join('/');
}

function formatDate(iso: string | undefined): string {
  if (!iso) return 'never';
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? 'unknown' : d.toISOString().replace('T', ' ').replace(/:\d\d\.\d+Z$/, ' UTC');
}

/** Markdown table of a token's metadata (never its value). */
export function metadataMarkdown(meta: TokenMetadata, now: Date): string {
  const rows: [string, string][] = [
    ['Type', TOKEN_TYPE_LABELS[meta.type]],
    ['Namespace', `\`${meta.namespace}\``],
    ['Backend', BACKEND_LABELS[meta.backend]],
  ];
  if (meta.provider) rows.push(['Provider', escapeMarkdown(meta.provider)]);
  rows.push(['Created', formatDate(meta.createdAt)], ['Updated', formatDate(meta.updatedAt)]);
  rows.push(['Expires', meta.expiresAt ? `${formatDate(meta.expiresAt)} (${describeExpiry(meta, now)})` : 'no expiry']);
  rows.push(['Last used', formatDate(meta.lastUsedAt)]);
  if (meta.oauth?.signInRequired) rows.push(['OAuth', 'sign-in required']);
  for (const [k, v] of jwtRows(meta.jwt)) rows.push([k, escapeMarkdown(v)]);
  if (meta.lastVerified) rows.push(...verifiedRows(meta.lastVerified, formatDate).map(([k, v]): [string, string] => [k, escapeMarkdown(v)]));
  const table = ['| | |', '|---|---|', ...rows.map(([k, v]) => `| ${k} | ${v} |`)].join('\n');
  return meta.description ? `${table}\n\n${escapeMarkdown(meta.description)}` : table;
}
