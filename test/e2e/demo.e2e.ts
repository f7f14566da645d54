/**
 * `npm run demo` really starts: test/e2e/demo.sh (with a throw-away state dir and a free port)
 * prints its http://127.0.0.1:PORT/ URL, serves the workbench with MCP Token Manager in it, and
 * stops everything on Ctrl-C (SIGINT). Its seeded demo server can start right away: the Servers view
 * lists "demo-echo" waiting only for its token, not for workspace trust, even with the sample folder
 * left in Restricted Mode (the trust question answered "No").
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
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
      const m = /demo is running:\s+(http:\/\/127\.0\.0\.1:\d+\/)/.exec(output);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    };
    demo.stdout.on('data', check);
    demo.once('exit', (code) => reject(new Error(`demo.sh exited (${code}):\n${output}`)));
  });
  console.log(`[demo] URL after ${((Date.now() - started) / 1000).toFixed(1)} s: ${url}`);
  assert.equal(url, `http://127.0.0.1:${port}/`);
  assert.equal((await fetch(`${url}healthz`)).status, 200);

  // The workbench loads and shows the MCP Tokens activity-bar entry.
  const browser = await chromium.launch({ executablePath: tools().chromium, headless: true, args: ['--no-sandbox', '--disable-gpu'] });
  try {
    const page = await browser.newPage();
    await page.goto(url);
    const activity = page.locator('.part.activitybar .action-item a[aria-label^="MCP Tokens"], .part.activitybar .action-item[aria-label^="MCP Tokens"]').first();
    await activity.waitFor({ timeout: 90_000 });
    assert.match(await page.title(), /demo-workspace/);

    // The sample folder opens as VS Code decides: should it ask about trust, "No" keeps Restricted Mode.
    const dialogs = new Dialogs(page);
    if (await dialogs.waitFor(15_000, /trust/i).then(() => true, () => false)) await dialogs.click(/No, I don.t trust/i);
    await page.screenshot({ path: join(REPO_ROOT, 'test-results', 'e2e', 'demo-workbench.png') });
    await page.locator('#workbench\\.parts\\.statusbar .statusbar-item', { hasText: /Restricted Mode/ }).first().waitFor({ timeout: 30_000 });

    // The demo server is served from the seeded user servers file: it can start once its token is set.
    await activity.click();
    const servers = page
      .locator('#workbench\\.parts\\.sidebar .pane')
      .filter({ has: page.locator('.pane-header .title', { hasText: /^\s*Servers\s*$/i }) });
    const row = servers.locator('.monaco-list-row', { hasText: 'demo-echo' }).first();
    await row.waitFor({ timeout: 60_000 });
    const description = (await row.locator('.label-description').textContent())?.trim() ?? '';
    assert.equal(description, 'stdio · token missing');
    assert.doesNotMatch(description, /not trusted/);
    await page.screenshot({ path: join(REPO_ROOT, 'test-results', 'e2e', 'demo-servers.png') });
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
