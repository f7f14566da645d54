/**
 * Diagnostics with exact ranges: malformed references, unknown namespaces and tokens ("did you
 * mean"), expired and soon-expiring tokens, references their file's client will not resolve, the
 * wrong form or a partial value in mcp-cli files, and hard-coded secrets.
 */
import { DiagnosticSeverity, type Diagnostic } from 'vscode-languageserver/node';
import { expiryState, describeExpiry, type TokenMetadata, type TokenType } from '../core/model';
import { findReferences, formatReference, keyId, type TokenKey } from '../core/reference';
import { DIAGNOSTIC_CODES, DIAGNOSTIC_SOURCE, type DiagnosticCode } from '../core/protocol';
import { TOKEN_AWARE_USER_FILE, TOKEN_AWARE_WORKSPACE_FILE } from '../core/mcpFiles';
import { detectSecrets, mergeFindings, suggestKey, type SecretFinding } from '../core/secrets';
import { isSecretCandidate, type ScanChunk, type StringSite } from '../core/configScan';
import type { McpFileClass } from '../core/mcpFiles';
import type { SecretlintScanner } from '../core/secretlintScan';
import type { Analysis } from '../documents';
import { toRange, type FeatureContext } from './common';

/** `Diagnostic.data` of each kind; code actions read it. */
export interface KeyData {
  readonly key: TokenKey;
  readonly suggestions?: readonly TokenKey[];
}
/** `Diagnostic.data` of `unresolvedByClient`: the server the reference is in (the launcher quick fix wraps it). */
export interface UnresolvedData extends KeyData {
  readonly server?: string;
}
export interface SecretData {
  readonly key: TokenKey;
  readonly type: TokenType;
  readonly provider?: string;
  readonly server?: string;
}

/** A diagnostic at offsets relative to its chunk; `meta`: an expiry check made at each pass (it depends on the time). */
interface ChunkDiagnostic {
  readonly start: number;
  readonly end: number;
  readonly severity: DiagnosticSeverity;
  readonly code: DiagnosticCode;
  readonly message: string;
  readonly data?: unknown;
}
interface ExpiryCheck {
  readonly start: number;
  readonly end: number;
  readonly key: TokenKey;
  readonly meta: TokenMetadata;
}
/** A hard-coded secret found in a chunk (offsets relative to it); its suggested key is chosen for the whole document. */
interface ChunkFinding {
  readonly start: number;
  readonly end: number;
  readonly finding: SecretFinding;
  readonly server?: string;
  readonly key?: string;
  readonly section?: string;
}

/**
 * What a pass keeps on each chunk (`ScanChunk.facts`), reused while the chunk is: its reference
 * diagnostics for one catalog version, file class and launcher state; its hard-coded secrets.
 */
interface ChunkFacts {
  refs?: { catalog: number; cls: McpFileClass; wrapped: boolean; items: (ChunkDiagnostic | ExpiryCheck)[] };
  secrets?: readonly ChunkFinding[];
}

const factsOf = (chunk: ScanChunk): ChunkFacts => (chunk.facts ??= {}) as ChunkFacts;
const NO_STRINGS: readonly StringSite[] = [];

/**
 * Every diagnostic of the document. When secretlint has values it has not seen yet (a document just
 * opened: seconds for a large one), `early` first receives everything without secretlint's findings,
 * so the editor shows the references' diagnostics at once; the result then adds secretlint's (and is
 * that same array when secretlint found nothing more).
 * Each chunk (server entry) keeps what the pass found in it (`ChunkFacts`): after an edit only the
 * chunks the edit touched are examined again; what depends on the whole document (the suggested
 * keys, which count up across it) and on the time (expiry) is redone at every pass.
 */
export async function computeDiagnostics(ctx: FeatureContext, analysis: Analysis, secretlint?: SecretlintScanner, early?: (diagnostics: Diagnostic[]) => unknown): Promise<Diagnostic[]> {
  const out = referenceDiagnostics(ctx, analysis);
  const { chunks } = analysis.chunks;
  // The chunks without secrets yet: their candidates, detected now, with secretlint's findings added below.
  const pending: { index: number; candidates: StringSite[] }[] = [];
  const values: string[] = [];
  chunks.forEach((chunk, index) => {
    if (factsOf(chunk).secrets) return;
    const candidates = chunk.strings.filter(isSecretCandidate);
    pending.push({ index, candidates });
    for (const c of candidates) values.push(c.raw);
  });
  let sync: Map<number, ChunkFinding[]> | undefined;
  let earlySet: Diagnostic[] | undefined;
  if (early && secretlint && !secretlint.cached(values)) {
    const findings = (sync = new Map(pending.map((p) => [p.index, chunkFindings(p.candidates)])));
    earlySet = [...out, ...secretDiagnostics(ctx, analysis, (i) => findings.get(i) ?? factsOf(chunks[i]).secrets ?? [])];
    await early(earlySet);
  }
  const extra = secretlint ? await secretlint.scan(values) : undefined;
  let at = 0;
  let added = false;
  for (const p of pending) {
    const chunk = chunks[p.index];
    const facts = factsOf(chunk);
    const more = extra?.slice(at, at + p.candidates.length);
    at += p.candidates.length;
    const moreFound = !!more?.some((m) => m.length);
    added ||= moreFound;
    // Without secretlint findings the chunk's secrets are what the early pass found.
    facts.secrets ??= !moreFound && sync?.has(p.index) ? sync.get(p.index)! : chunkFindings(p.candidates, more);
    chunk.strings = NO_STRINGS; // what the candidates had to say is in `facts.secrets` now
  }
  // secretlint found nothing the early set lacks: the early set is the result (the same array, so
  // the caller need not publish it again: 2.4 MB for the benchmark's document).
  if (earlySet && !added) return earlySet;
  out.push(...secretDiagnostics(ctx, analysis, (i) => factsOf(chunks[i]).secrets ?? []));
  return out;
}

/** The hard-coded secrets of a chunk's candidates (`extra[i]`: secretlint's findings for `candidates[i]`). */
function chunkFindings(candidates: readonly StringSite[], extra?: readonly (readonly SecretFinding[])[]): ChunkFinding[] {
  const out: ChunkFinding[] = [];
  candidates.forEach((site, i) => {
    let findings = detectSecrets(site.raw, { section: site.section, key: site.key, prevArg: site.prevArg });
    const more = extra?.[i];
    if (more?.length) findings = mergeFindings([...findings, ...more]);
    if (!findings.length) return;
    const localRefs = site.raw.includes('$') ? findReferences(site.raw) : [];
    for (const f of findings) {
      // A finding overlapping a reference is the reference itself, not a literal.
      if (localRefs.some((r) => r.start < f.end && r.end > f.start)) continue;
      out.push({ start: site.start + f.start, end: site.start + f.end, finding: f, server: site.server, key: site.key, section: site.section });
    }
  });
  return out;
}

/** Everything except hard-coded secrets (synchronous). */
export function referenceDiagnostics(ctx: FeatureContext, analysis: Analysis): Diagnostic[] {
  const { document: doc, cls } = analysis;
  const { chunks, starts } = analysis.chunks;
  const now = ctx.now();
  const out: Diagnostic[] = [];
  const expiry = new Map<object, ReturnType<typeof expiryState>>();
  // Servers run through the mcp-tokens launcher, which resolves the references of its env and args.
  let wrapped: Set<string> | undefined;
  if (!cls.resolvesReferences && cls.client) {
    wrapped = new Set();
    for (const c of chunks) if (c.wrapped && c.server) wrapped.add(c.server.name);
  }
  chunks.forEach((chunk, i) => {
    if (!chunk.references.length) return;
    const isWrapped = !!(wrapped && chunk.server && wrapped.has(chunk.server.name));
    const facts = factsOf(chunk);
    let refs = facts.refs;
    if (!refs || refs.catalog !== ctx.catalog.version || refs.cls !== cls || refs.wrapped !== isWrapped) {
      refs = facts.refs = { catalog: ctx.catalog.version, cls, wrapped: isWrapped, items: chunkReferenceDiagnostics(ctx, cls, chunk, isWrapped) };
    }
    const base = starts[i];
    for (const item of refs.items) {
      if ('message' in item) {
        out.push({ range: toRange(doc, base + item.start, base + item.end), severity: item.severity, code: item.code, source: DIAGNOSTIC_SOURCE, message: item.message, data: item.data });
        continue;
      }
      const { meta, key } = item;
      let state = expiry.get(meta);
      if (state === undefined) expiry.set(meta, (state = expiryState(meta, now, ctx.catalog.expiryWarningDays)));
      const range = () => toRange(doc, base + item.start, base + item.end);
      if (state === 'expired') {
        out.push({ range: range(), severity: DiagnosticSeverity.Warning, code: DIAGNOSTIC_CODES.expired, source: DIAGNOSTIC_SOURCE, message: `Token ${keyId(key)} ${describeExpiry(meta, now)}: rotate it.`, data: { key } satisfies KeyData });
      } else if (state === 'soon') {
        out.push({ range: range(), severity: DiagnosticSeverity.Information, code: DIAGNOSTIC_CODES.expiringSoon, source: DIAGNOSTIC_SOURCE, message: `Token ${keyId(key)} ${describeExpiry(meta, now)}.`, data: { key } satisfies KeyData });
      }
    }
  });
  return out;
}

/** A chunk's reference diagnostics at offsets relative to it; the expiry of existing tokens is left to each pass. */
function chunkReferenceDiagnostics(ctx: FeatureContext, cls: McpFileClass, chunk: ScanChunk, launcherResolvesHere: boolean): (ChunkDiagnostic | ExpiryCheck)[] {
  const { catalog } = ctx;
  const out: (ChunkDiagnostic | ExpiryCheck)[] = [];
  const diag = (start: number, end: number, severity: DiagnosticSeverity, code: DiagnosticCode, message: string, data?: unknown): void => {
    out.push({ start, end, severity, code, message, data });
  };
  const tokenAwareFile = cls.scope === 'user' ? `the user-level ${TOKEN_AWARE_USER_FILE}` : TOKEN_AWARE_WORKSPACE_FILE;
  const launcherResolves = (site: { server?: string; section?: string }) => launcherResolvesHere && site.server !== undefined && (site.section === 'env' || site.section === 'args');

  for (const ref of chunk.references) {
    if (ref.kind === 'malformed') {
      diag(ref.start, ref.end, DiagnosticSeverity.Error, DIAGNOSTIC_CODES.malformed, ref.message);
      continue;
    }
    const key = { namespace: ref.namespace, name: ref.name };
    const site = ref.site;
    const needsText = cls.readsVsCodeVariables || !cls.resolvesReferences || !cls.forms.includes(ref.form) || cls.wholeValueOnly;
    const text = needsText ? site.raw.slice(ref.start - site.start, ref.end - site.start) : '';

    // What the file's client does with it.
    if (ref.form === 'brace' && cls.readsVsCodeVariables && !cls.resolvesReferences) {
      diag(
        ref.start,
        ref.end,
        DiagnosticSeverity.Warning,
        DIAGNOSTIC_CODES.braceInVsCodeFile,
        `VS Code reads \${...} in this file as one of its own variables: it reports ${text} as an unknown variable and passes it to the server unresolved. Use ${formatReference(key, 'angle')} and serve this server from ${tokenAwareFile}, where MCP Token Manager resolves it at launch.`,
        { key } satisfies KeyData,
      );
    } else if (!cls.resolvesReferences && cls.client && !launcherResolves(site)) {
      diag(
        ref.start,
        ref.end,
        DiagnosticSeverity.Warning,
        DIAGNOSTIC_CODES.unresolvedByClient,
        cls.readsVsCodeVariables
          ? `VS Code starts the servers of this file itself and does not resolve token references: the server receives the literal text ${text}. Move the server to ${tokenAwareFile}, where MCP Token Manager resolves it at launch, or run it through the mcp-tokens launcher (quick fix).`
          : `${cls.client} starts the servers of this file without resolving token references: the server receives the literal text ${text}. Run it through the mcp-tokens launcher (quick fix), which resolves it at each start.`,
        { key, server: site.server } satisfies UnresolvedData,
      );
    } else if (cls.resolvesReferences && !cls.forms.includes(ref.form)) {
      diag(
        ref.start,
        ref.end,
        DiagnosticSeverity.Warning,
        DIAGNOSTIC_CODES.wrongForm,
        `${cls.client ?? 'This file\u2019s client'} only resolves ${formatReference(key, cls.preferredForm)}; ${text} is passed on as it is.`,
        { key } satisfies KeyData,
      );
    }
    if (cls.wholeValueOnly && (ref.start !== ref.site.start || ref.end !== ref.site.end)) {
      diag(
        ref.start,
        ref.end,
        DiagnosticSeverity.Warning,
        DIAGNOSTIC_CODES.notWholeValue,
        `${cls.client ?? 'This client'} only resolves a reference that is the whole string value; here ${text} is part of a longer value and is passed on as it is.`,
        { key } satisfies KeyData,
      );
    }

    // Whether the token exists.
    if (!catalog.received) continue;
    if (!catalog.hasNamespace(key.namespace)) {
      const ns = catalog.suggestNamespace(key.namespace);
      const suggestions = ns ? [{ namespace: ns, name: key.name }] : [];
      diag(
        ref.namespaceStart,
        ref.namespaceStart + key.namespace.length,
        DiagnosticSeverity.Warning,
        DIAGNOSTIC_CODES.unknownNamespace,
        `Unknown namespace "${key.namespace}": no token ${keyId(key)} is stored.${ns ? ` Did you mean "${ns}"?` : ''}`,
        { key, suggestions } satisfies KeyData,
      );
      continue;
    }
    const meta = catalog.get(key);
    if (!meta) {
      const suggestions = catalog.suggestKeys(key);
      diag(
        ref.nameStart,
        ref.nameStart + key.name.length,
        DiagnosticSeverity.Warning,
        DIAGNOSTIC_CODES.unknownToken,
        `No token ${keyId(key)} is stored.${suggestions.length ? ` Did you mean ${suggestions.map((s) => `"${keyId(s)}"`).join(' or ')}?` : ''}`,
        { key, suggestions } satisfies KeyData,
      );
      continue;
    }
    if (meta.expiresAt) out.push({ start: ref.start, end: ref.end, key, meta });
  }
  return out;
}

/**
 * The hard-coded secrets' diagnostics, in document order (`findingsOf(i)`: chunk i's). The suggested
 * keys count up across the document (`bearer:github`, `bearer:github-2`, …), so they are chosen here,
 * at every pass, not per chunk.
 */
export function secretDiagnostics(ctx: FeatureContext, analysis: Analysis, findingsOf: (chunk: number) => readonly ChunkFinding[]): Diagnostic[] {
  const doc = analysis.document;
  const { chunks, starts } = analysis.chunks;
  const out: Diagnostic[] = [];
  const taken = new Set<string>();
  const isTaken = (k: TokenKey) => taken.has(keyId(k)) || ctx.catalog.has(k);
  // Many literals of one provider want the same key: continue each base key's suffix where the
  // previous one stopped instead of probing from -2 each time.
  const nextSuffix = new Map<string, number>();
  const suggest = (f: SecretFinding, where: { server?: string; key?: string }): TokenKey => {
    const base = suggestKey(f, where, () => false);
    const id = keyId(base);
    let n = nextSuffix.get(id);
    let key: TokenKey = base;
    if (n === undefined) n = 2;
    else key = { namespace: base.namespace, name: `${base.name}-${n++}` };
    while (isTaken(key)) key = { namespace: base.namespace, name: `${base.name}-${n++}` };
    nextSuffix.set(id, n);
    return key;
  };

  for (let i = 0; i < chunks.length; i++) {
    const base = starts[i];
    for (const { start, end, finding: f, server, key: name, section } of findingsOf(i)) {
      const key = suggest(f, { server, key: name });
      taken.add(keyId(key));
      const where = name ? `${section} ${name}` : section;
      out.push({
        range: toRange(doc, base + start, base + end),
        severity: DiagnosticSeverity.Warning,
        code: DIAGNOSTIC_CODES.hardCodedSecret,
        source: DIAGNOSTIC_SOURCE,
        message: `Hard-coded ${f.label} in ${where} of server "${server}": move it to MCP Tokens and reference it as ${formatReference(key, analysis.cls.preferredForm)}.`,
        data: { key, type: f.type, provider: f.provider, server } satisfies SecretData,
      });
    }
  }
  return out;
}

/**
 * VS Code shows at most this many diagnostics per file and per source (ExtHostDiagnostics'
 * `_maxDiagnosticsPerFile`): it keeps the first ones by severity, errors first, drops the rest and adds
 * an "N more" marker.
 */
export const EDITOR_DIAGNOSTICS_PER_FILE = 1000;

/**
 * What the server publishes for a file: all of `diagnostics` when VS Code can show them all; else as
 * many as it shows, one fewer, chosen by severity (errors first, as VS Code chooses) and then by
 * nearness to `focusLine` (the line of the last edit: where the user is looking; the top of the file
 * when it has not been edited), and a summary at the top of the file naming how many there are.
 * Sending the thousands VS Code drops would only cost time on both sides of the connection and in
 * the extension host (a 5,000-server file has about 6,000: 2.4 MB per publish), and VS Code, keeping
 * the first thousand in the order given, would not show the ones where the user types. Code actions
 * are computed from the diagnostics VS Code shows, so nothing is lost.
 */
export function forEditor(diagnostics: Diagnostic[], focusLine = 0, max = EDITOR_DIAGNOSTICS_PER_FILE): Diagnostic[] {
  if (diagnostics.length <= max) return diagnostics;
  const rank = (d: Diagnostic) => d.severity ?? DiagnosticSeverity.Error;
  const distance = (d: Diagnostic) => Math.abs(d.range.start.line - focusLine);
  const byPosition = (a: Diagnostic, b: Diagnostic) => a.range.start.line - b.range.start.line || a.range.start.character - b.range.start.character;
  // Array sort is stable: equal diagnostics keep the order they came in.
  const shown = [...diagnostics]
    .sort((a, b) => rank(a) - rank(b) || distance(a) - distance(b) || byPosition(a, b))
    .slice(0, max - 1)
    .sort(byPosition);
  const which = focusLine > 0 ? `the ${thousands(shown.length)} nearest the last edit, by severity,` : `the first ${thousands(shown.length)} by severity`;
  shown.unshift({
    range: { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } },
    severity: DiagnosticSeverity.Information,
    code: DIAGNOSTIC_CODES.moreDiagnostics,
    source: DIAGNOSTIC_SOURCE,
    message: `${thousands(diagnostics.length)} MCP Tokens problems in this file: ${which} are shown (VS Code shows at most ${thousands(max)} per file).`,
  });
  return shown;
}

/** 5958 → "5,958" (not `toLocaleString`, which loads ICU data into the server). */
const thousands = (n: number) => String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
