/**
 * `npm run bench` (store part): what a Set Token costs with 0 and with 1,000 tokens stored, and how
 * the cost grows with the number of windows writing at once.
 *
 * The SecretStorage stand-in (test/unit/support/sharedSecretStorage.ts) charges what the real one
 * does for a write: a base latency per call and a delay per KiB written (VS Code encrypts and
 * persists each value as a whole). Target of issue 10: a set at 1,000 tokens costs at most 1.5× a set
 * at none. The leases' settle wait (a fixed 50 ms in VS Code, the same whatever is stored) is set to
 * 0 for the ratio, so the ratio shows the cost of the index itself; the absolute time with it is
 * printed too. Prints a table and PASS/FAIL; exits non-zero on a FAIL.
 */
import { SharedSecretStorage } from '../unit/support/sharedSecretStorage';
import { openWindow, type StoreWindow } from '../unit/support/windows';

const SAMPLES = 60;
const COST = { latencyMs: [0.2, 0.4] as const, msPerKiB: 1, eventDelayMs: [1, 3] as const };
const value = () => `v-${Math.random().toString(36).slice(2)}${'x'.repeat(40)}`;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

async function seed(w: StoreWindow, n: number): Promise<void> {
  for (let i = 0; i < n; i++) await w.store.set({ namespace: 'bearer', name: `seed-${i}`, type: 'bearer', value: value(), provider: 'github', description: 'a token the benchmark stored first' });
}

/** Median ms of a set of a new token, by `windows` stores writing at once over one storage holding `stored` tokens. */
async function measure(stored: number, windows: number, leaseSettleMs: number): Promise<{ median: number; kibPerSet: number }> {
  const shared = new SharedSecretStorage(COST);
  const ws = Array.from({ length: windows }, () => openWindow(shared, { leaseSettleMs }));
  await Promise.all(ws.map((w) => w.store.ready()));
  await seed(ws[0], stored);
  await new Promise((r) => setTimeout(r, 50));
  const times: number[] = [];
  const bytesBefore = shared.bytesWritten;
  await Promise.all(
    ws.map(async (w, wi) => {
      for (let i = 0; i < SAMPLES; i++) {
        const t = performance.now();
        await w.store.set({ namespace: 'api-key', name: `w${wi}-${i}`, type: 'api-key', value: value(), provider: 'openai' });
        times.push(performance.now() - t);
      }
    }),
  );
  const kibPerSet = (shared.bytesWritten - bytesBefore) / 1024 / (SAMPLES * windows);
  for (const w of ws) w.close();
  return { median: median(times), kibPerSet };
}

async function main(): Promise<void> {
  const rows: string[][] = [];
  const at0 = await measure(0, 1, 0);
  const at1000 = await measure(1000, 1, 0);
  const ratio = at1000.median / at0.median;
  rows.push(['1 window, 0 tokens', at0.median.toFixed(2), at0.kibPerSet.toFixed(2)]);
  rows.push(['1 window, 1,000 tokens', at1000.median.toFixed(2), at1000.kibPerSet.toFixed(2)]);
  for (const n of [2, 4]) {
    const m = await measure(1000, n, 0);
    rows.push([`${n} windows at once, 1,000 tokens`, m.median.toFixed(2), m.kibPerSet.toFixed(2)]);
  }
  const real0 = await measure(0, 1, 50);
  const real1000 = await measure(1000, 1, 50);
  rows.push(['1 window, 0 tokens, 50 ms lease settle (VS Code default)', real0.median.toFixed(2), real0.kibPerSet.toFixed(2)]);
  rows.push(['1 window, 1,000 tokens, 50 ms lease settle', real1000.median.toFixed(2), real1000.kibPerSet.toFixed(2)]);
  const real4 = await measure(1000, 4, 50);
  rows.push(['4 windows at once, 1,000 tokens, 50 ms lease settle', real4.median.toFixed(2), real4.kibPerSet.toFixed(2)]);

  console.log(`\nStore: median Set Token (${SAMPLES} sets per window; stand-in: ${COST.latencyMs.join('–')} ms per call + ${COST.msPerKiB} ms per KiB written)\n`);
  console.log(`| case | median ms | KiB written per set |\n|---|---:|---:|`);
  for (const r of rows) console.log(`| ${r.join(' | ')} |`);
  const pass = ratio <= 1.5;
  console.log(`\n${pass ? 'PASS' : 'FAIL'} set at 1,000 tokens / set at 0 tokens = ${ratio.toFixed(2)}× (target ≤ 1.5×)`);
  if (!pass) process.exitCode = 1;
}

void main();
