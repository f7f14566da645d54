/**
 * `npm run demo` really starts: test/e2e/demo.sh (with a throw-away state dir and a free port)
 * prints its URL, serves the workbench with MCP Token Manager in it, and stops everything on Ctrl-C
 * (SIGINT). The printed URL (the trust page, test/e2e/demoTrust.mjs) trusts the sample folder in the
 * browser that opens it, and only that folder: the folder opens without a trust question and out of
 * Restricted Mode, and its seeded server "demo-echo" (.vscode/mcp.tokens.json, served only in trusted
 * folders) waits only for its token. Another folder opened in the same browser is not trusted: it is
 * in Restricted Mode, where its own mcp.tokens.json server is not served.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { chromium } from 'playwright-core';
import { REPO_ROOT, tools } from './harness';
import { Dialogs } from './harness/ui';

const stateDir = mkdtempSync(join(tmpdir(), 'mcp-tokens-e2e-demo-'));
let groupId: number | undefined;

function killGroup(signal: NodeJS.Signals): void {
  if (groupId === undefined) return;
  try {
    process.kill(-groupId, signal);
  } catch {
    // Gone.
  }
}
process.once('exit', () => killGroup('SIGKILL'));
after(() => {
  killGroup('SIGKILL');
  rmSync(stateDir, { recursive: true, force: true });
});

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const srv = createServer().listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}

function processesUsing(marker: string): number[] {
  return readdirSync('/proc')
    .filter((e) => /^\d+$/.test(e))
    .filter((e) => {
      try {
        return readFileSync(`/proc/${e}/cmdline`, 'utf8').includes(marker);
      } catch {
        return false;
      }
    })
    .map(Number);
}

test('npm run demo serves the workbench with the extension and stops on Ctrl-C', { timeout: 300_000 }, async () => {
  const port = await freePort();
  const started = Date.now();
  // detached: its own process group, like a terminal job, so SIGINT reaches the script as Ctrl-C does.
  const demo = spawn('bash', [join(REPO_ROOT, 'test/e2e/demo.sh')], {
    cwd: REPO_ROOT,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, MCP_TOKENS_DEMO_DIR: stateDir, MCP_TOKENS_DEMO_PORT: String(port) },
  });
  groupId = demo.pid;
  let output = '';
  demo.stdout.on('data', (c: Buffer) => (output += c.toString()));
  demo.stderr.on('data', (c: Buffer) => (output += c.toString()));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no URL printed within 240 s:\n${output}`)), 240_000);
    const check = () => {
      const m = /demo is running:\s+(http:\/\/127\.0\.0\.1:\d+\/proxy\/\d+\/)/.exec(output);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    };
    demo.stdout.on('data', check);
    demo.once('exit', (code) => reject(new Error(`demo.sh exited (${code}):\n${output}`)));
  });
  console.log(`[demo] URL after ${((Date.now() - started) / 1000).toFixed(1)} s: ${url}`);
  const origin = `http://127.0.0.1:${port}/`;
  assert.ok(url.startsWith(`${origin}proxy/`), url);
  assert.equal((await fetch(`${origin}healthz`)).status, 200);

  // A folder the demo did not make: opened in the same browser after the trust page, it must stay untrusted.
  const other = join(stateDir, 'other-folder');
  mkdirSync(join(other, '.vscode'), { recursive: true });
  writeFileSync(
    join(other, '.vscode', 'mcp.tokens.json'),
    JSON.stringify({ servers: { 'other-echo': { type: 'stdio', command: 'node', args: ['x.mjs'], env: { T: '$<TOKEN:bearer:github>' } } } }),
  );

  const browser = await chromium.launch({ executablePath: tools().chromium, headless: true, args: ['--no-sandbox', '--disable-gpu'] });
  try {
    const page = await browser.newPage();
    const restricted = page.locator('#workbench\\.parts\\.statusbar .statusbar-item', { hasText: /Restricted Mode/ }).first();
    const activity = page.locator('.part.activitybar .action-item a[aria-label^="MCP Tokens"], .part.activitybar .action-item[aria-label^="MCP Tokens"]').first();
    const serverRow = (name: string) =>
      page
        .locator('#workbench\\.parts\\.sidebar .pane')
        .filter({ has: page.locator('.pane-header .title', { hasText: /^\s*Servers\s*$/i }) })
        .locator('.monaco-list-row', { hasText: name })
        .first();
    const dialogs = new Dialogs(page);

    // The trust page records the trust and opens the sample folder: the workbench loads with the
    // MCP Tokens activity-bar entry, asks nothing about trust, and is not in Restricted Mode.
    await page.goto(url);
    await activity.waitFor({ timeout: 90_000 });
    assert.match(await page.title(), /demo-workspace/);
    assert.match(page.url(), /[?&]folder=/);
    const asked = await dialogs.waitFor(10_000, /trust/i).then((d) => d, () => undefined);
    assert.equal(asked, undefined, `the sample folder is trusted: no trust question (${JSON.stringify(asked)})`);
    assert.equal(await restricted.isVisible(), false, 'the sample folder is not in Restricted Mode');
    await page.screenshot({ path: join(REPO_ROOT, 'test-results', 'e2e', 'demo-workbench.png') });

    // The seeded server is served from the trusted folder's .vscode/mcp.tokens.json and waits only
    // for its token.
    await activity.click();
    const row = serverRow('demo-echo');
    await row.waitFor({ timeout: 60_000 });
    assert.equal((await row.locator('.label-description').textContent())?.trim(), 'stdio · token missing');
    await page.screenshot({ path: join(REPO_ROOT, 'test-results', 'e2e', 'demo-servers.png') });

    // Any other folder stays untrusted in this browser: Restricted Mode, and its mcp.tokens.json
    // server waits for trust.
    await page.goto(`${origin}?folder=${encodeURIComponent(other)}`);
    await activity.waitFor({ timeout: 90_000 });
    assert.match(await page.title(), /other-folder/);
    // VS Code asks about trust once per browser ("startupPrompt": "once"), so it may not ask here.
    if (await dialogs.waitFor(10_000, /trust/i).then(() => true, () => false)) await dialogs.click(/No, I don.t trust/i);
    await restricted.waitFor({ timeout: 30_000 });
    await activity.click();
    const otherRow = serverRow('other-echo');
    await otherRow.waitFor({ timeout: 60_000 });
    assert.match((await otherRow.locator('.label-description').textContent()) ?? '', /not trusted/);
  } finally {
    await browser.close();
  }

  const exited = new Promise<number | null>((resolve) => demo.once('exit', (code) => resolve(code)));
  process.kill(-demo.pid!, 'SIGINT');
  assert.equal(await exited, 130);
  const until = Date.now() + 10_000;
  while (processesUsing(stateDir).length && Date.now() < until) await new Promise((r) => setTimeout(r, 200));
  assert.deepEqual(processesUsing(stateDir), [], 'code-server stopped with the demo');
  groupId = undefined;
});
