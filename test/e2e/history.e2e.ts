/**
 * Version history, the audit trail and expiry in a real VS Code (code-server + Chromium): a token is
 * rotated through the UI and its History children appear in the Tokens view; a version is restored
 * through the tree's context menu and the real modal; Show Audit Log filters by token (the QuickPick
 * and the document); Export Audit Log writes them through the real save dialog; an expired token brings the status bar item and a notification, and the item
 * opens the Tokens view filtered to it. No value is found in any file of the run.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { launch, testSecret, type VSCode } from './harness';

let vs: VSCode;
const v1 = testSecret('hist-v1');
const v2 = testSecret('hist-v2');
const v3 = testSecret('hist-v3');
const other = testSecret('hist-other');
const old = testSecret('hist-expired');
const key = { namespace: 'bearer', name: 'hist' };

async function waitUntil(what: string, probe: () => Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > until) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}
const rows = async () => (await vs.sideBarRows('Tokens')).filter((r) => r.label);
const row = (label: string | RegExp) => vs.page.locator('#workbench\\.parts\\.sidebar .monaco-list-row').filter({ hasText: label }).first();

async function copyValue(k: { namespace: string; name: string }): Promise<string> {
  await vs.dialogs.answer(vs.runCommand('mcpTokens.copyToken', k), /Copy the value of/, 'Copy Value');
  return vs.readClipboard();
}

/** Rotates through the UI: the command with a key string (as a tree or hover link gives), the real password box. */
async function rotateUi(value: string): Promise<void> {
  const done = vs.runCommand('mcpTokens.rotateToken', 'bearer:hist');
  await vs.quickInput.waitOpen();
  assert.equal((await vs.quickInput.state()).password, true);
  await vs.quickInput.type(value);
  await done;
}

describe('history, audit trail and expiry (e2e)', { timeout: 600_000 }, () => {
  before(async () => {
    vs = await launch({ name: 'history', settings: { 'mcpTokens.clipboardClearSeconds': 0 } });
  });
  after(async () => {
    await vs?.dispose();
    await vs?.assertNoPlaintext([v1, v2, v3, other, old]);
  });

  test('rotating through the UI shows History children under the token', async () => {
    await vs.runCommand('mcpTokens.setToken', { ...key, type: 'bearer', value: v1 });
    await vs.runCommand('mcpTokens.setToken', { namespace: 'bearer', name: 'unrelated', type: 'bearer', value: other });
    await rotateUi(v2);
    await rotateUi(v3);
    await vs.openActivity('MCP Tokens');
    await waitUntil('the token in the tree', async () => (await rows()).some((r) => r.label === 'hist'));
    await row(/^hist/).click();
    await vs.page.keyboard.press('ArrowRight');
    await waitUntil('the History node', async () => (await rows()).some((r) => r.label === 'History' && /2 earlier values/.test(r.description)));
    await row(/^History/).click();
    await vs.page.keyboard.press('ArrowRight');
    await waitUntil('two version rows', async () => (await rows()).filter((r) => /^#\d · replaced by mcpTokens\.rotateToken \(ui\)/.test(r.description)).length === 2);
    const versions = (await rows()).filter((r) => /^#\d/.test(r.description));
    assert.deepEqual(versions.map((r) => r.description.slice(0, 2)), ['#1', '#2']);
    assert.ok(versions.every((r) => /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC$/.test(r.label)), JSON.stringify(versions));
    const body = await vs.page.evaluate(() => (globalThis as any).document.body.innerText as string);
    for (const v of [v1, v2, v3]) assert.ok(!body.includes(v), 'no value is displayed');
    await vs.screenshot('history-children');
  });

  test('a version is restored through the tree context menu and the real dialog', async () => {
    const oldest = vs.page.locator('#workbench\\.parts\\.sidebar .monaco-list-row').filter({ hasText: /#2 · replaced/ }).first();
    await vs.contextMenu(oldest, /^Restore This Version/, () => vs.screenshot('version-context-menu'));
    const d = await vs.dialogs.waitFor(15_000, /Restore the value of bearer:hist with version 2/);
    assert.match(d.detail, /kept in History/);
    await vs.screenshot('restore-version-dialog');
    await vs.dialogs.click('Restore');
    await waitUntil('three versions', async () => (await rows()).some((r) => r.label === 'History' && /3 earlier values/.test(r.description)));
    assert.equal(await copyValue(key), v1, 'version 2 (the first value) is current again');
    // The value it replaced is version 1 now: Restore Previous brings it back.
    await vs.runCommand('mcpTokens.restorePreviousToken', key);
    assert.equal(await copyValue(key), v3);
  });

  test('Show Audit Log filters by token (QuickPick, then the document)', async () => {
    const shown = vs.runCommand<unknown[]>('mcpTokens.showAuditLog');
    await vs.quickInput.waitOpen(/Which events/);
    await vs.quickInput.pick(/By token/);
    await vs.quickInput.waitOpen(/Events of which token/);
    await vs.quickInput.pick('bearer:hist');
    const events = (await shown) as Array<{ kind: string; tokens?: string[]; actor: { command?: string; via?: string }; outcome: string }>;
    assert.ok(events.length >= 5, JSON.stringify(events));
    assert.ok(events.every((e) => e.tokens?.includes('bearer:hist')), 'only events of bearer:hist');
    assert.ok(events.some((e) => e.kind === 'rotate' && e.actor.command === 'mcpTokens.rotateToken' && e.actor.via === 'ui' && e.outcome === 'ok'));
    assert.ok(events.some((e) => e.kind === 'restore' && e.actor.command === 'mcpTokens.restoreTokenVersion' && e.outcome === 'ok'));
    assert.ok(events.some((e) => e.kind === 'copy' && e.outcome === 'ok'));
    const editor = vs.page.locator('.editor-instance .view-lines').first();
    await waitUntil('the audit document', async () => /MCP Tokens audit log \(token bearer:hist\)/.test((await editor.innerText().catch(() => '')).replace(/\u00a0/g, ' ')));
    const text = (await editor.innerText()).replace(/\u00a0/g, ' ');
    assert.match(text, /rotate\s+ok\s+bearer:hist/);
    assert.ok(!text.includes('bearer:unrelated'), 'other tokens are filtered out');
    await vs.screenshot('audit-log-by-token');
    const all = await vs.runCommand<Array<{ tokens?: string[] }>>('mcpTokens.showAuditLog', {});
    assert.ok(all.some((e) => e.tokens?.includes('bearer:unrelated')), 'unfiltered, the other token is there');
    assert.ok(!JSON.stringify(all).includes(v1) && !JSON.stringify(all).includes(other));
  });

  test('Export Audit Log (palette, filter, the real save dialog) writes the filtered events as JSON lines, never a value', async () => {
    await vs.palette('MCP Tokens: Export Audit Log…');
    await vs.quickInput.waitOpen(/Which events/);
    await vs.quickInput.pick(/By token/);
    await vs.quickInput.waitOpen(/Events of which token/);
    await vs.quickInput.pick('bearer:hist');
    // code-server's save dialog is VS Code's simple file dialog: a quick input holding the path.
    await vs.quickInput.waitOpen(/Export the audit log to/);
    const suggested = /mcp-tokens-audit-\d{4}-\d\d-\d\d\.jsonl$/;
    await waitUntil('the suggested file name', async () => suggested.test((await vs.quickInput.state()).value), 5_000).catch(async (e) => {
      throw new Error(`${(e as Error).message}: the dialog holds ${JSON.stringify((await vs.quickInput.state()).value)}`);
    });
    await vs.screenshot('export-audit-save-dialog');
    // The suggested place (the workspace folder) is taken as it is: Enter, as a user would.
    const file = (await vs.quickInput.state()).value;
    assert.ok(vs.dirs.workspace && file.startsWith(vs.dirs.workspace), `${file} is in the workspace folder`);
    await vs.page.keyboard.press('Enter');
    await waitUntil('the exported file', async () => existsSync(file));
    await vs.notifications.waitFor(/Exported \d+ audit events? to /);
    const text = readFileSync(file, 'utf8');
    const lines = text.trim().split('\n').map((l) => JSON.parse(l) as { kind: string; tokens?: string[]; outcome: string; time: string });
    assert.ok(lines.length >= 5, text);
    assert.ok(lines.every((e) => e.tokens?.includes('bearer:hist')), 'only the picked token');
    assert.ok(lines.some((e) => e.kind === 'rotate') && lines.some((e) => e.kind === 'restore') && lines.some((e) => e.kind === 'copy'));
    for (const v of [v1, v2, v3, other]) assert.ok(!text.includes(v), 'no value in the export');
  });

  test('an expired token shows the status bar item and a notification; the item opens the filtered list', async () => {
    await vs.clearNotifications();
    await vs.runCommand('mcpTokens.setToken', { namespace: 'bearer', name: 'old', type: 'bearer', value: old, expiresAt: '2020-01-01T00:00:00Z' });
    const item = vs.page.locator('#workbench\\.parts\\.statusbar .statusbar-item').filter({ hasText: /1 MCP token/ }).first();
    await item.waitFor({ state: 'visible', timeout: 15_000 });
    await vs.notifications.waitFor(/MCP token bearer:old expired/);
    await vs.screenshot('expired-status-bar');
    await item.click();
    await waitUntil('the filtered Tokens view', async () => {
      const names = (await rows()).map((r) => r.label);
      return names.includes('old') && !names.includes('hist') && !names.includes('unrelated');
    });
    // The view's message is drawn after its rows.
    await waitUntil('the filter message', async () => /Showing 1 of 3 tokens \(expired or expiring soon\)/.test(await vs.view('Tokens').innerText()), 5_000).catch(async (e) => {
      throw new Error(`${(e as Error).message}: the view shows ${JSON.stringify(await vs.view('Tokens').innerText())}`);
    });
    await vs.screenshot('expired-filtered');
    await vs.runCommand('mcpTokens.clearFilter');
  });
});
