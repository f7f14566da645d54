/**
 * `npm run bench` (runtime part): what resolving a server with 20 token references at launch costs,
 * against the 20 backend reads alone. Target of issue 14: at most 1.1 times the reads.
 *
 * Both sides run on the same SecretStorage stand-in (test/unit/support/sharedSecretStorage.ts, with
 * the latency per call it charges for the real one) holding 1,000 tokens:
 * - reads alone: the SecretStorage backend's `read` of each of the 20 tokens, one after the other;
 * - resolution: what the MCP provider does for a start once consent is given
 *   (extension/runtime/provider.ts `resolve`): `needsOf`, `planLaunch`, `store.getValue` of each
 *   token in turn, `finishLaunch`, and the launch's bookkeeping (`markUsed` of each token, which the
 *   provider runs after handing the launch over, so it is not part of the launch's wait).
 * Prints medians and one PASS/FAIL line; exits non-zero on a FAIL.
 */
import { SecretStorageBackend } from '../../extension/backends/secretStorage';
import { finishLaunch, needsOf, planLaunch } from '../../extension/runtime/resolve';
import { parseMcpConfig } from '../../server/core/mcpConfig';
import { keyId, type TokenKey } from '../../server/core/reference';
import { SharedSecretStorage } from '../unit/support/sharedSecretStorage';
import { openWindow } from '../unit/support/windows';

const REFERENCES = 20;
const STORED = 1000;
const SAMPLES = 200;
const COST = { latencyMs: [0.2, 0.4] as const, msPerKiB: 1, eventDelayMs: [1, 3] as const };

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

function serverText(keys: readonly TokenKey[]): string {
  const env: Record<string, string> = {};
  keys.forEach((k, i) => (env[`TOKEN_${i}`] = i % 2 ? `$<TOKEN:${keyId(k)}>` : `Bearer \${TOKEN:${keyId(k)}} (${i})`));
  return JSON.stringify({ servers: { bench: { type: 'stdio', command: 'node', args: ['server.js', '--home', '${userHome}'], env } } }, null, 2);
}

async function main(): Promise<void> {
  const shared = new SharedSecretStorage(COST);
  const w = openWindow(shared, { leaseSettleMs: 0 });
  const keys: TokenKey[] = [];
  for (let i = 0; i < STORED; i++) {
    const key = { namespace: 'bearer', name: `t-${i}` };
    await w.store.set({ ...key, type: 'bearer', value: `value-${i}-${'x'.repeat(40)}` });
    if (i % (STORED / REFERENCES) === 0) keys.push(key);
  }
  await w.store.ready();
  const entry = parseMcpConfig(serverText(keys)).servers[0];
  const ctx = { userHome: '/home/bench', pathSeparator: '/', env: {}, workspaceFolder: '/work/bench' };
  // The raw backend over the same window's SecretStorage (as extension/backends/index.ts builds it).
  const raw = new SecretStorageBackend(w.secrets);

  const readsAlone = async () => {
    for (const k of keys) if ((await raw.read(k)) === undefined) throw new Error('missing value');
  };
  let bookkeeping: Promise<unknown> = Promise.resolve();
  const resolution = async () => {
    const needs = needsOf(entry);
    const plan = planLaunch(entry, ctx, { input: () => undefined }, '/work/bench');
    const values = new Map<string, string>();
    for (const k of needs.tokens) {
      const v = await w.store.getValue(k);
      if (v === undefined) throw new Error('missing value');
      values.set(keyId(k), v);
    }
    const launch = finishLaunch(plan, (k) => values.get(keyId(k)));
    if (launch.kind !== 'stdio' || Object.keys(launch.env).length !== REFERENCES) throw new Error('wrong launch');
    // Bookkeeping after the launch is handed over (provider.ts): not part of the start's wait.
    bookkeeping = Promise.all(needs.tokens.map((k) => w.store.markUsed(k)));
    return launch;
  };

  // Warm up both, then alternate so that a busy machine disturbs both alike.
  for (let i = 0; i < 20; i++) {
    await readsAlone();
    await resolution();
    await bookkeeping;
  }
  await new Promise((r) => setTimeout(r, 200));
  const a: number[] = [];
  const b: number[] = [];
  for (let i = 0; i < SAMPLES; i++) {
    let t = performance.now();
    await readsAlone();
    a.push(performance.now() - t);
    t = performance.now();
    await resolution();
    b.push(performance.now() - t);
    await bookkeeping; // before the next sample, so that its writes do not slow the next reads
  }
  await new Promise((r) => setTimeout(r, 200));
  w.close();
  raw.dispose();

  const ratio = median(b) / median(a);
  console.log(`\nLaunch-time resolution, ${REFERENCES} references, ${STORED} tokens stored (SecretStorage stand-in, ${COST.latencyMs.join('–')} ms per call), median of ${SAMPLES}:`);
  console.log(`  ${REFERENCES} backend reads alone: ${median(a).toFixed(2)} ms`);
  console.log(`  resolution (plan, store reads, finish): ${median(b).toFixed(2)} ms`);
  console.log('\nTargets (issue 14, runtime):');
  console.log(`${ratio <= 1.1 ? 'PASS' : 'FAIL'}  resolution of a server with ${REFERENCES} references ≤ 1.1× the backend reads alone: ${ratio.toFixed(3)}× (${median(b).toFixed(2)} vs ${median(a).toFixed(2)} ms)`);
  if (ratio > 1.1) process.exitCode = 1;
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
