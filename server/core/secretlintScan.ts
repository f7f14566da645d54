/**
 * secretlint's recommended preset (`@secretlint/secretlint-rule-preset-recommend`) over many string
 * values at once: the values are joined one per line into a single source, linted in one call, and
 * the hits mapped back. Results are cached per value, so after an edit only new values are linted.
 * Pure (no editor API); asynchronous because secretlint is.
 */
import { lintSource } from '@secretlint/core';
import { secretLintProfiler } from '@secretlint/profiler';
import { creator as recommendedPreset } from '@secretlint/secretlint-rule-preset-recommend';
import type { SecretFinding } from './secrets';
import { detach } from './configScan';

// secretlint's core records a `performance.mark` per rule and file in a process-wide profiler that
// is never cleared: in a long-running server that grows without bound (a million marks after the
// fuzz test). Profiling is not used here, so marking is turned off.
secretLintProfiler.mark = () => undefined;

const CONFIG = { rules: [{ id: recommendedPreset.meta.id, rule: recommendedPreset }] };

/** secretlint rule id suffix → provider and label. */
const RULES: Record<string, { provider?: string; label: string; type: SecretFinding['type'] }> = {
  github: { provider: 'github', label: 'GitHub token', type: 'bearer' },
  slack: { provider: 'slack', label: 'Slack token', type: 'bearer' },
  aws: { provider: 'aws', label: 'AWS credential', type: 'api-key' },
  gcp: { provider: 'google', label: 'Google Cloud credential', type: 'generic' },
  openai: { provider: 'openai', label: 'OpenAI API key', type: 'api-key' },
  npm: { provider: 'npm', label: 'npm token', type: 'bearer' },
  sendgrid: { provider: 'sendgrid', label: 'SendGrid API key', type: 'api-key' },
  shopify: { provider: 'shopify', label: 'Shopify token', type: 'api-key' },
  linear: { provider: 'linear', label: 'Linear API key', type: 'api-key' },
  '1password': { provider: '1password', label: '1Password service account token', type: 'bearer' },
  privatekey: { label: 'private key', type: 'generic' },
  basicauth: { label: 'password in a URL', type: 'basic' },
};

const CACHE_LIMIT = 100_000;
/** About this many characters of values per `lintSource` call (10–20 ms of work). */
export const BATCH_CHARS = 64 * 1024;
const NONE: SecretFinding[] = [];

/**
 * Every rule of the preset needs at least 20 characters (the shortest, an AWS access key ID, has 20)
 * except passwords in URLs (`://user:pass@`) and private key headers: shorter values without `@`
 * or `-----` are not sent to secretlint at all.
 */
function mayMatch(v: string): boolean {
  return v.length >= 20 || (v.length >= 8 && (v.includes('@') || v.includes('-----')));
}

export class SecretlintScanner {
  private readonly cache = new Map<string, SecretFinding[]>();

  /** True when `scan(values)` would answer from the cache alone (no value secretlint has not seen). */
  cached(values: readonly string[]): boolean {
    return values.every((v) => !mayMatch(v) || this.cache.has(v));
  }

  /** Findings for each value (offsets into that value), in the order given. Never throws. */
  async scan(values: readonly string[]): Promise<SecretFinding[][]> {
    const pending: string[] = [];
    const seen = new Set<string>();
    for (const v of values) {
      if (!mayMatch(v)) continue;
      if (!this.cache.has(v) && !seen.has(v)) {
        seen.add(v);
        pending.push(v);
      }
    }
    if (pending.length) await this.lint(pending);
    return values.map((v) => (mayMatch(v) ? (this.cache.get(v) ?? NONE) : NONE));
  }

  /**
   * Lints `values` in batches of about `BATCH_CHARS`, yielding to the event loop before each: a large
   * document's first pass hands secretlint tens of thousands of values (a second or more of work in a
   * busy editor), and meanwhile the server must flush the diagnostics it already sent (the IPC socket
   * takes a few hundred KB at a time: without a turn of the event loop the rest waited for the whole
   * scan) and answer the editor's requests.
   */
  private async lint(values: string[]): Promise<void> {
    for (let i = 0; i < values.length; ) {
      let j = i;
      let chars = 0;
      while (j < values.length && (j === i || chars + values[j].length < BATCH_CHARS)) chars += values[j++].length + 1;
      await new Promise<void>((resolve) => setImmediate(resolve));
      await this.lintBatch(values.slice(i, j));
      i = j;
    }
  }

  private async lintBatch(values: string[]): Promise<void> {
    // One value per line; line breaks inside a value (never in JSON source text) become spaces.
    const starts: number[] = [];
    let content = '';
    for (const v of values) {
      starts.push(content.length);
      content += v.replace(/[\r\n\u2028\u2029]/g, ' ') + '\n';
    }
    const hits: SecretFinding[][] = values.map(() => []);
    try {
      const result = await lintSource({
        source: { filePath: 'mcp-config-values.txt', content, contentType: 'text' },
        options: { config: CONFIG, maskSecrets: true },
      });
      for (const m of result.messages) {
        const [s, e] = m.range;
        const line = lineOf(starts, s);
        if (line < 0 || e > starts[line] + values[line].length) continue;
        const id = String(m.ruleId).replace(/^.*secretlint-rule-/, '');
        const rule = RULES[id] ?? { label: 'secret', type: 'generic' as const };
        hits[line].push({ start: s - starts[line], end: e - starts[line], ruleId: `secretlint/${id}`, label: rule.label, provider: rule.provider, type: rule.type });
      }
    } catch {
      // secretlint failed on this input: the curated rules still apply.
    }
    if (this.cache.size + values.length > CACHE_LIMIT) this.cache.clear();
    // Keys are copied: a value sliced from a document would keep that whole document version alive.
    values.forEach((v, i) => this.cache.set(detach(v), hits[i].length ? hits[i] : NONE));
  }
}

function lineOf(starts: readonly number[], offset: number): number {
  let lo = 0;
  let hi = starts.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (starts[mid] <= offset) lo = mid + 1;
    else hi = mid - 1;
  }
  return hi;
}
