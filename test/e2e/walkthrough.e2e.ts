/**
 * The Get Started walkthrough in a real VS Code: it opens on the Welcome page with its five steps in
 * order (store, reference, serve, sign in, pick a backend), each with its media, and a step is ticked
 * off by its completion event (running Check Backends from the command palette).
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { EXTENSION_ID, REPO_ROOT, launch, type VSCode } from './harness';

const pkg = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as {
  contributes: { walkthroughs: { id: string; title: string; steps: { id: string; title: string }[] }[] };
};
const nls = JSON.parse(readFileSync(join(REPO_ROOT, 'package.nls.json'), 'utf8')) as Record<string, string>;
const text = (s: string) => nls[s.replace(/^%|%$/g, '')] ?? s;
const walkthrough = pkg.contributes.walkthroughs[0];

let vs: VSCode;
before(async () => {
  vs = await launch({ name: 'walkthrough' });
});
after(async () => {
  await vs?.dispose();
});

test('the walkthrough opens and lists its steps', async () => {
  assert.equal(walkthrough.steps.length, 5);
  void vs.runCommand('workbench.action.openWalkthrough', `${EXTENSION_ID}#${walkthrough.id}`, false);
  const titles = vs.page.locator('.gettingStartedSlideDetails h3.step-title');
  await titles.nth(walkthrough.steps.length - 1).waitFor({ timeout: 60_000 });
  assert.deepEqual(
    (await titles.allTextContents()).map((t) => t.trim()),
    walkthrough.steps.map((s) => text(s.title)),
  );
  assert.match(await vs.page.locator('.gettingStartedSlideDetails').innerText(), new RegExp(text(walkthrough.title)));
  await vs.screenshot('walkthrough');
});

test('a step is ticked off by its completion event', async () => {
  const step = walkthrough.steps.find((s) => s.id === 'mcpTokens.pickBackend')!;
  const box = vs.page.locator(`[data-done-step-id$="${step.id}"]`);
  assert.equal(await box.getAttribute('aria-checked'), 'false');
  await vs.palette('MCP Tokens: Check Backends');
  await vs.page.waitForFunction((id) => (globalThis as any).document.querySelector(`[data-done-step-id$="${id}"]`)?.getAttribute('aria-checked') === 'true', step.id, { timeout: 30_000 });
  await vs.screenshot('walkthrough-step-done');
});
