/**
 * Completion inside string values: `$`/`$<` offers the reference snippet, `$<TOKEN:` the namespaces
 * (with counts) and every stored key, `$<TOKEN:ns:` the names of `ns`. Works from the current line
 * only (no parse), and each item replaces exactly the part of the reference being typed.
 */
import { CompletionItemKind, InsertTextFormat, MarkupKind, type CompletionItem, type CompletionList, type Position, type Range } from 'vscode-languageserver/node';
import type { TextDocument } from 'vscode-languageserver-textdocument';
import { TOKEN_TYPE_LABELS, describeExpiry, type TokenMetadata } from '../core/model';
import { formatReference, type ReferenceForm } from '../core/reference';
import { stringAtOffset } from '../core/configScan';
import { escapeMarkdown } from '../core/markdown';
import { metadataMarkdown, toRange, type FeatureContext } from './common';

export const TRIGGER_CHARACTERS = ['$', '<', '{', ':'];
const RETRIGGER = { title: 'Suggest', command: 'editor.action.triggerSuggest' };
const SEGMENT = /[A-Za-z0-9._-]/;
const CLOSE: Record<ReferenceForm, string> = { angle: '>', brace: '}' };

export function complete(ctx: FeatureContext, doc: TextDocument, position: Position): CompletionList | null {
  const cls = ctx.workspace.classify(doc.uri);
  if (!cls) return null;
  const text = doc.getText();
  const offset = doc.offsetAt(position);
  const str = stringAtOffset(text, offset);
  if (!str || str.isKey) return null;
  const prefix = text.slice(str.start, offset);
  const dollar = prefix.lastIndexOf('$');
  if (dollar < 0) return null;
  const tail = prefix.slice(dollar);
  const refStart = str.start + dollar;

  // Stage 1: "$", "$<", "${", "$<TOK"...
  const opening = /^\$([<{]?)([A-Za-z]*)$/.exec(tail);
  if (opening) {
    if (!'TOKEN'.startsWith(opening[2].toUpperCase())) return null;
    const typed: ReferenceForm | undefined = opening[1] === '<' ? 'angle' : opening[1] === '{' ? 'brace' : undefined;
    const form = typed && cls.forms.includes(typed) ? typed : cls.preferredForm;
    // Incomplete: once `$<TOKEN:` is typed the list changes to namespaces, so the editor must ask again
    // as the user types on, not filter this list.
    return { isIncomplete: true, items: snippetItems(doc, refStart, offset, form, tail) };
  }

  // Stage 2 and 3: "$<TOKEN:ns" / "$<TOKEN:ns:name"
  const body = /^\$([<{])TOKEN:([A-Za-z0-9._-]*)(?::([A-Za-z0-9._-]*))?$/.exec(tail);
  if (!body) return null;
  const form: ReferenceForm = body[1] === '<' ? 'angle' : 'brace';
  const nsStart = refStart + 8;
  const segEnd = (from: number) => {
    let i = from;
    while (i < str.end && SEGMENT.test(text[i])) i++;
    return i;
  };
  const defaults = ctx.completionItemDefaults === true;
  if (body[3] === undefined) {
    const nsEnd = segEnd(offset);
    const hasName = text[nsEnd] === ':';
    let refEnd = hasName ? segEnd(nsEnd + 1) : nsEnd;
    if (text[refEnd] === CLOSE[form]) refEnd++;
    const nsRange = toRange(doc, nsStart, nsEnd);
    const items: CompletionItem[] = ctx.catalog.namespaces().map(([ns, count]) => ({
      label: ns,
      kind: CompletionItemKind.Module,
      detail: `${count} token${count === 1 ? '' : 's'}`,
      sortText: `0${ns}`,
      textEdit: { range: nsRange, newText: hasName ? ns : `${ns}:` },
      command: hasName ? undefined : RETRIGGER,
    }));
    const keyRange = toRange(doc, nsStart, refEnd);
    const keys = cachedItems(ctx, `keys|${form}`, () =>
      [...ctx.catalog.all()].map((meta) => {
        const id = `${meta.namespace}:${meta.name}`;
        return { ...tokenItem(ctx, meta, id), sortText: `1${id}`, filterText: id, textEditText: `${id}${CLOSE[form]}` };
      }),
    );
    if (defaults) return { isIncomplete: false, itemDefaults: { editRange: keyRange }, items: items.concat(keys) };
    for (const k of keys) items.push(withEdit(k, keyRange));
    return { isIncomplete: false, items };
  }
  const namespace = body[2];
  const nameStart = offset - body[3].length;
  let refEnd = segEnd(offset);
  if (text[refEnd] === CLOSE[form]) refEnd++;
  const range = toRange(doc, nameStart, refEnd);
  const names = cachedItems(ctx, `names|${form}|${namespace}`, () =>
    ctx.catalog.tokensIn(namespace).map((meta) => ({ ...tokenItem(ctx, meta, meta.name), sortText: meta.name, textEditText: `${meta.name}${CLOSE[form]}` })),
  );
  if (defaults) return { isIncomplete: false, itemDefaults: { editRange: range }, items: names as CompletionItem[] };
  return { isIncomplete: false, items: names.map((k) => withEdit(k, range)) };
}

/** An item with its own text edit, for clients without `itemDefaults.editRange`. */
function withEdit(item: CompletionItem, range: Range): CompletionItem {
  const { textEditText, ...rest } = item;
  return { ...rest, textEdit: { range, newText: textEditText ?? (typeof item.label === 'string' ? item.label : '') } };
}

/**
 * Token items do not depend on the position (the range goes in `itemDefaults.editRange`), so they
 * are built once per catalog version and minute (the expiry text) and reused: completion in a
 * 1,000-token store allocates almost nothing.
 */
/** A map kept per catalog, emptied when the catalog's version or the minute (expiry texts) changes. */
type MinuteCache<K, V> = WeakMap<object, { version: number; minute: number; entries: Map<K, V> }>;

function entriesFor<K, V>(caches: MinuteCache<K, V>, ctx: FeatureContext): Map<K, V> {
  const minute = Math.floor(ctx.now().getTime() / 60_000);
  let cache = caches.get(ctx.catalog);
  if (!cache || cache.version !== ctx.catalog.version || cache.minute !== minute) {
    cache = { version: ctx.catalog.version, minute, entries: new Map() };
    caches.set(ctx.catalog, cache);
  }
  return cache.entries;
}

const listCache: MinuteCache<string, readonly CompletionItem[]> = new WeakMap();

function cachedItems(ctx: FeatureContext, key: string, build: () => CompletionItem[]): readonly CompletionItem[] {
  const lists = entriesFor(listCache, ctx);
  let list = lists.get(key);
  if (!list) {
    if (lists.size > 1000) lists.clear();
    lists.set(key, (list = build()));
  }
  return list;
}

/** Label-independent parts of a token's item, cached per catalog version and minute (expiry text). */
interface TokenItemBase {
  readonly detail: string;
}
const baseCache: MinuteCache<TokenMetadata, TokenItemBase> = new WeakMap();

function tokenItem(ctx: FeatureContext, meta: TokenMetadata, label: string): CompletionItem {
  const items = entriesFor(baseCache, ctx);
  let base = items.get(meta);
  if (!base) {
    base = { detail: [TOKEN_TYPE_LABELS[meta.type], describeExpiry(meta, ctx.now()), meta.provider].filter(Boolean).join(' · ') };
    items.set(meta, base);
  }
  // Documentation is filled in by completionItem/resolve (see resolveCompletion), for the item shown.
  const data: CompletionData = { namespace: meta.namespace, name: meta.name };
  return { label, kind: CompletionItemKind.Value, detail: base.detail, data };
}

export interface CompletionData {
  readonly namespace: string;
  readonly name: string;
}

/** Adds the Markdown documentation of a token item (completionItem/resolve). */
export function resolveCompletion(ctx: FeatureContext, item: CompletionItem): CompletionItem {
  const data = item.data as Partial<CompletionData> | undefined;
  if (!data || typeof data.namespace !== 'string' || typeof data.name !== 'string') return item;
  const meta = ctx.catalog.get({ namespace: data.namespace, name: data.name });
  if (!meta) return item;
  return { ...item, documentation: { kind: MarkupKind.Markdown, value: `**${escapeMarkdown(formatReference(meta))}**\n\n${metadataMarkdown(meta, ctx.now())}` } };
}

function snippetItems(doc: TextDocument, start: number, end: number, form: ReferenceForm, typed: string): CompletionItem[] {
  const open = form === 'angle' ? '$<' : '${';
  const close = CLOSE[form];
  const range = toRange(doc, start, end);
  const filterText = `${typed.slice(0, 2)}TOKEN:`;
  return [
    {
      label: `${open}TOKEN:…${close}`,
      kind: CompletionItemKind.Reference,
      detail: 'MCP Tokens: reference a stored token',
      documentation: { kind: MarkupKind.Markdown, value: `Inserts \`${open}TOKEN:\` and lists the stored namespaces and tokens.` },
      filterText,
      sortText: '0',
      textEdit: { range, newText: `${open}TOKEN:` },
      command: RETRIGGER,
    },
    {
      label: formatReference({ namespace: 'namespace', name: 'name' }, form),
      kind: CompletionItemKind.Snippet,
      detail: 'MCP Tokens: reference snippet',
      filterText,
      sortText: '1',
      insertTextFormat: InsertTextFormat.Snippet,
      textEdit: { range, newText: `\\${open}TOKEN:\${1:namespace}:\${2:name}${form === 'brace' ? '\\}' : close}$0` },
    },
  ];
}
