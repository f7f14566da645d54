/**
 * Real VS Code windows on one code-server (tabs of one browser profile: one user-data dir, one
 * SecretStorage). A window opened after another window set tokens lists every one of them.
 *
 * Two windows writing at once do NOT converge in code-server 4.139.1, whatever the extension does:
 * its SecretStorage provider (LocalStorageSecretStorageProvider in the workbench) reads the sealed
 * blob from localStorage once per tab, keeps its own copy, and writes the whole copy back on every
 * change, and VS Code fires SecretStorage.onDidChange only in the tab that wrote. So each tab sees
 * only its own writes, and the tab that writes last replaces the other tab's secrets in the browser.
 * That test runs as a TODO (it reports, and prints what each window and a third window see) until the
 * platform shares secrets between tabs; desktop VS Code does (one store in the main process, change
 * events to every window), which the unit tests model (test/unit/store.windows.test.ts).
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { launch, testSecret, type VSCode, type VSCodeWindow } from './harness';

let vs: VSCode;
let other: VSCodeWindow;
const values: string[] = [];
type Listed = Array<{ namespace: string; name: string }>;
const names = async (w: { runCommand: VSCode['runCommand'] }) => ((await w.runCommand<Listed>('mcpTokens.listTokens', { noUi: true })) ?? []).map((t) => `${t.namespace}:${t.name}`).sort();

async function until<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>): Promise<{ value: T; ms: number }> {
  const started = Date.now();
  let last: unknown;
  while (Date.now() - started < timeoutMs) {
    const v = await probe().catch((e) => ((last = e), undefined));
    if (v !== undefined) return { value: v, ms: Date.now() - started };
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${String(last)}` : ''}`);
}

const set = (w: { runCommand: VSCode['runCommand'] }, prefix: string, n: number) =>
  Promise.all(
    Array.from({ length: n }, (_, i) => {
      const value = testSecret(`${prefix}-${i}`);
      values.push(value);
      return w.runCommand('mcpTokens.setToken', { namespace: 'bearer', name: `${prefix}-${i}`, type: 'bearer', value });
    }),
  );

before(async () => {
  vs = await launch({ name: 'store' });
});
after(async () => {
  await vs?.dispose();
  await vs?.assertNoPlaintext(values);
});

test('a window opened afterwards lists every token another window set', async () => {
  await set(vs, 'early', 8);
  const expected = await names(vs);
  assert.equal(expected.length, 8);
  const started = Date.now();
  other = await vs.openWindow();
  const openedMs = Date.now() - started;
  const listed = await names(other);
  console.log(`[store e2e] a second window opened after 8 sets (${openedMs} ms to open and activate) lists ${listed.length} of ${expected.length} tokens`);
  assert.deepEqual(listed, expected);
  await other.runCommand('workbench.view.extension.mcpTokens');
  const rows = await until('the second window\'s Tokens view to show them', 15_000, async () => {
    const r = await other.sideBarRows('Tokens');
    return r.some((x) => x.label === 'bearer') ? r : undefined;
  });
  assert.ok(rows.value.length > 0);
  await other.screenshot('second-window-lists-all');
});

test(
  'two windows setting tokens at once: both windows list every token',
  { todo: 'code-server keeps SecretStorage per tab and fires onDidChange only in the writing tab (see the header)' },
  async () => {
    const started = Date.now();
    await Promise.all([set(vs, 'first', 8), set(other, 'second', 8)]);
    const setMs = Date.now() - started;
    const expected = [...(await names(vs)), ...(await names(other))].filter((v, i, all) => all.indexOf(v) === i).sort();
    const wanted = [...Array.from({ length: 8 }, (_, i) => [`bearer:early-${i}`, `bearer:first-${i}`, `bearer:second-${i}`]).flat()].sort();
    const both = await until('both windows to list all 24 tokens', 20_000, async () => {
      const [a, b] = await Promise.all([names(vs), names(other)]);
      return JSON.stringify(a) === JSON.stringify(wanted) && JSON.stringify(b) === JSON.stringify(wanted) ? true : undefined;
    }).catch((e) => e as Error);
    const [a, b] = await Promise.all([names(vs), names(other)]);
    const third = await vs.openWindow();
    const c = await names(third);
    await third.close();
    console.log(
      `[store e2e] 16 sets in two windows at once: ${setMs} ms; first window lists ${a.length} of 24, second ${b.length}, a third window opened afterwards ${c.length} (union ${expected.length}); ` +
        (both instanceof Error ? 'no convergence within 20 s' : `converged ${both.ms} ms after the last set`),
    );
    assert.ok(!(both instanceof Error), `first window: ${a.length}, second window: ${b.length}, third: ${c.length}`);
  },
);
