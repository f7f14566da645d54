/**
 * secretlint's recommended preset (`@secretlint/secretlint-rule-preset-recommend`) over many string
 * values at once: the values are joined one per line into a few large sources (`BATCH_CHARS` each),
 * each linted in one call, and the hits mapped back. Results are cached per value, so after an edit only new values are linted.
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

  /** `cacheLimit`: values kept before the cache starts over (tests give a small one). */
  constructor(private readonly cacheLimit = CACHE_LIMIT) {}

  /** True when `scan(values)` would answer from the cache alone (no value secretlint has not seen). */
  cached(values: readonly string[]): boolean {
    return values.every((v) => !mayMatch(v) || this.cache.has(v));
  }

  /**
   * Findings for each value (offsets into that value), in the order given. Never throws. The answers
   * are collected in this call's own map, the cached ones before the first batch: another scan that
   * runs while this one yields (another document) may clear the shared cache meanwhile.
   */
  async scan(values: readonly string[]): Promise<SecretFinding[][]> {
    const answers = new Map<string, SecretFinding[]>();
    const pending: string[] = [];
    for (const v of values) {
      if (!mayMatch(v) || answers.has(v)) continue;
      const hit = this.cache.get(v);
      answers.set(v, hit ?? NONE);
      if (!hit) pending.push(v);
    }
    if (pending.length) {
      if (this.cache.size + pending.length > this.cacheLimit) this.cache.clear();
      await this.lint(pending, answers);
    }
    return values.map((v) => answers.get(v) ?? NONE);
  }

  /**
   * Lints `values` in batches of about `BATCH_CHARS`, yielding to the event loop before each: a large
   * document's first pass hands secretlint tens of thousands of values (a second or more of work in a
   * busy editor), and meanwhile the server must flush the diagnostics it already sent (the IPC socket
   * takes a few hundred KB at a time: without a turn of the event loop the rest waited for the whole
   * scan) and answer the editor's requests.
   */
  private async lint(values: string[], answers: Map<string, SecretFinding[]>): Promise<void> {
    for (let i = 0; i < values.length; ) {
      let j = i;
      let chars = 0;
      while (j < values.length && (j === i || chars + values[j].length < BATCH_CHARS)) chars += values[j++].length + 1;
      await new Promise<void>((resolve) => setImmediate(resolve));
      await this.lintBatch(values.slice(i, j), answers);
      i = j;
    }
  }

  private async lintBatch(values: string[], answers: Map<string, SecretFinding[]>): Promise<void> {
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
    // Keys are copied: a value sliced from a document would keep that whole document version alive.
    values.forEach((v, i) => {
      const found = hits[i].length ? hits[i] : NONE;
      answers.set(v, found);
      this.cache.set(detach(v), found);
    });
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
