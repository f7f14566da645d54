/**
 * Diagnostics with exact ranges: malformed references, unknown namespaces and tokens ("did you
 * mean"), expired and soon-expiring tokens, references their file's client will not resolve, the
 * wrong form or a partial value in mcp-cli files, and hard-coded secrets.
 */
import { DiagnosticSeverity, type Diagnostic } from 'vscode-languageserver/node';
import { expiryState, describeExpiry, type TokenType } from '../core/model';
import { findReferences, formatReference, keyId, type TokenKey } from '../core/reference';
import { DIAGNOSTIC_CODES, DIAGNOSTIC_SOURCE, type DiagnosticCode } from '../core/protocol';
import { TOKEN_AWARE_USER_FILE, TOKEN_AWARE_WORKSPACE_FILE } from '../core/mcpFiles';
import { wrappedServers } from '../core/launcherWrap';
import { detectSecrets, mergeFindings, suggestKey, type SecretFinding } from '../core/secrets';
import { isSecretCandidate, type StringSite } from '../core/configScan';
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

/**
 * Every diagnostic of the document. When secretlint has values it has not seen yet (a document just
 * opened: seconds for a large one), `early` first receives everything without secretlint's findings,
 * so the editor shows the references' diagnostics at once; the result then adds secretlint's.
 */
export async function computeDiagnostics(ctx: FeatureContext, analysis: Analysis, secretlint?: SecretlintScanner, early?: (diagnostics: Diagnostic[]) => unknown): Promise<Diagnostic[]> {
  const out = referenceDiagnostics(ctx, analysis);
  const candidates = secretCandidates(analysis);
  const values = candidates.map((s) => s.raw);
  if (early && secretlint && !secretlint.cached(values)) await early([...out, ...secretDiagnostics(ctx, analysis, candidates)]);
  const extra = secretlint ? await secretlint.scan(values) : undefined;
  out.push(...secretDiagnostics(ctx, analysis, candidates, extra));
  return out;
}

/** Everything except hard-coded secrets (synchronous). */
export function referenceDiagnostics(ctx: FeatureContext, analysis: Analysis): Diagnostic[] {
  const { document: doc, cls } = analysis;
  const { catalog } = ctx;
  const now = ctx.now();
  const out: Diagnostic[] = [];
  const diag = (start: number, end: number, severity: DiagnosticSeverity, code: DiagnosticCode, message: string, data?: unknown): void => {
    out.push({ range: toRange(doc, start, end), severity, code, source: DIAGNOSTIC_SOURCE, message, data });
  };
  const expiry = new Map<object, ReturnType<typeof expiryState>>();
  const tokenAwareFile = cls.scope === 'user' ? `the user-level ${TOKEN_AWARE_USER_FILE}` : TOKEN_AWARE_WORKSPACE_FILE;
  // Servers run through the mcp-tokens launcher, which resolves the references of its env and args.
  let wrapped: Set<string> | undefined;
  const launcherResolves = (site: { server?: string; section?: string }) =>
    site.server !== undefined && (site.section === 'env' || site.section === 'args') && (wrapped ??= wrappedServers(doc.getText())).has(site.server);

  for (const ref of analysis.scan.references) {
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
    let state = expiry.get(meta);
    if (state === undefined) expiry.set(meta, (state = expiryState(meta, now, catalog.expiryWarningDays)));
    if (state === 'expired') {
      diag(ref.start, ref.end, DiagnosticSeverity.Warning, DIAGNOSTIC_CODES.expired, `Token ${keyId(key)} ${describeExpiry(meta, now)}: rotate it.`, { key } satisfies KeyData);
    } else if (state === 'soon') {
      diag(ref.start, ref.end, DiagnosticSeverity.Information, DIAGNOSTIC_CODES.expiringSoon, `Token ${keyId(key)} ${describeExpiry(meta, now)}.`, { key } satisfies KeyData);
    }
  }
  return out;
}

/** String values that may hold a hard-coded secret: env, headers, args and url of a server. */
export function secretCandidates(analysis: Analysis): StringSite[] {
  return analysis.secretCandidates().filter(isSecretCandidate);
}

export function secretDiagnostics(ctx: FeatureContext, analysis: Analysis, candidates: readonly StringSite[], extra?: readonly (readonly SecretFinding[])[]): Diagnostic[] {
  const doc = analysis.document;
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

  candidates.forEach((site, i) => {
    let findings = detectSecrets(site.raw, { section: site.section, key: site.key, prevArg: site.prevArg });
    const more = extra?.[i];
    if (more?.length) findings = mergeFindings([...findings, ...more]);
    if (!findings.length) return;
    const localRefs = site.raw.includes('$') ? findReferences(site.raw) : [];
    for (const f of findings) {
      // A finding overlapping a reference is the reference itself, not a literal.
      if (localRefs.some((r) => r.start < f.end && r.end > f.start)) continue;
      const start = site.start + f.start;
      const end = site.start + f.end;
      const key = suggest(f, { server: site.server, key: site.key });
      taken.add(keyId(key));
      const where = site.key ? `${site.section} ${site.key}` : site.section;
      out.push({
        range: toRange(doc, start, end),
        severity: DiagnosticSeverity.Warning,
        code: DIAGNOSTIC_CODES.hardCodedSecret,
        source: DIAGNOSTIC_SOURCE,
        message: `Hard-coded ${f.label} in ${where} of server "${site.server}": move it to MCP Tokens and reference it as ${formatReference(key, analysis.cls.preferredForm)}.`,
        data: { key, type: f.type, provider: f.provider, server: site.server } satisfies SecretData,
      });
    }
  });
  return out;
}
