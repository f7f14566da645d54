/**
 * Hover on a reference: the token's metadata, the servers in the workspace that use it, and command
 * links to reveal, rotate and copy the reference. Never the value.
 */
import { MarkupKind, type Hover, type Position } from 'vscode-languageserver/node';
import type { TextDocument } from 'vscode-languageserver-textdocument';
import { formatReference, keyId } from '../core/reference';
import { EXTENSION_COMMANDS, commandUri } from '../core/protocol';
import { codeSpan, escapeMarkdown } from '../core/markdown';
import { metadataMarkdown, referenceAt, shortPath, toRange, type FeatureContext } from './common';

const MAX_USERS = 10;

export function hover(ctx: FeatureContext, doc: TextDocument, position: Position): Hover | null {
  if (!ctx.workspace.classify(doc.uri)) return null;
  const text = doc.getText();
  const ref = referenceAt(text, doc.offsetAt(position));
  if (!ref) return null;
  const range = toRange(doc, ref.start, ref.end);
  if (ref.kind === 'malformed') {
    return { range, contents: { kind: MarkupKind.Markdown, value: `**Malformed token reference**\n\n${escapeMarkdown(ref.message)}` } };
  }
  const key = { namespace: ref.namespace, name: ref.name };
  const arg = { namespace: key.namespace, name: key.name };
  const title = `**${escapeMarkdown(formatReference(key, ref.form))}**`;
  const meta = ctx.catalog.get(key);
  if (!meta) {
    const known = ctx.catalog.received ? `No token \`${keyId(key)}\` is stored.` : 'The token list is not loaded yet.';
    return {
      range,
      contents: { kind: MarkupKind.Markdown, value: `${title}\n\n${known}\n\n[Create token…](${commandUri(EXTENSION_COMMANDS.setToken, arg)})` },
    };
  }
  const users = new Map<string, string>();
  for (const { analysis, ref: r } of ctx.workspace.referencesTo(key, false)) {
    const label = r.site.server ? `${codeSpan(r.site.server)} (${escapeMarkdown(shortPath(analysis.uri))})` : escapeMarkdown(shortPath(analysis.uri));
    users.set(label, label);
  }
  const list = [...users.keys()];
  const usedBy = list.length
    ? `Used by ${list.slice(0, MAX_USERS).join(', ')}${list.length > MAX_USERS ? ` and ${list.length - MAX_USERS} more` : ''}.`
    : 'Not used by any server in the workspace.';
  const links = [
    `[Reveal in MCP Tokens](${commandUri(EXTENSION_COMMANDS.reveal, arg)})`,
    // The key as a `namespace:name` string: the command runs as the user would run it (it asks for the new value).
    `[Rotate…](${commandUri(EXTENSION_COMMANDS.rotate, keyId(key))})`,
    `[Copy reference](${commandUri(EXTENSION_COMMANDS.copyReference, { ...arg, form: ref.form })})`,
  ].join(' · ');
  return {
    range,
    contents: { kind: MarkupKind.Markdown, value: `${title}\n\n${metadataMarkdown(meta, ctx.now())}\n\n${usedBy}\n\n${links}` },
  };
}
