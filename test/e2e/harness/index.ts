/**
 * The end-to-end harness: MCP Token Manager in a real VS Code (code-server 4.139.1 = VS Code 1.139)
 * driven by a real Chromium through playwright-core. See docs/testing.md for the API and an example.
 *
 *   const vs = await launch({ name: 'my-test', settings: { 'mcpTokens.clipboardClearSeconds': 2 } });
 *   try { await vs.palette('MCP Tokens: Set Token…'); … } finally { await vs.dispose(); }
 *
 * Every run gets a fresh temp root holding code-server's user-data-dir, extensions dir, a copy of
 * the workspace fixture, a HOME (and XDG dirs, TMPDIR) and the Chromium profile; code-server and
 * Chromium are killed on dispose(), on process exit, and by a detached reaper if this process dies.
 */
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, createWriteStream, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium, type BrowserContext, type Locator, type Page } from 'playwright-core';
import { ProcessGroup, childPidsWith } from './processes';
import { assertNoPlaintext } from './plaintext';
import { DriverClient } from './driver';
import { QuickInput, Dialogs, Notifications } from './ui';

export { assertNoPlaintext, scanForPlaintext, type PlaintextHit } from './plaintext';
export { DriverClient, fileArg, position, range, uriArg } from './driver';

export const REPO_ROOT = resolve(__dirname, '..', '..', '..');
export const EXTENSION_ID = 'mcp-tokens.mcp-token-manager';
export const DRIVER_ID = 'mcp-tokens-test.mcp-tokens-e2e-driver';
/** `npm run package`'s output; MCP_TOKENS_E2E_VSIX overrides it (e.g. a private copy while others rebuild dist/). */
export const DEFAULT_VSIX = process.env.MCP_TOKENS_E2E_VSIX ?? join(REPO_ROOT, 'dist', 'mcp-token-manager.vsix');
export const FIXTURES = join(REPO_ROOT, 'test', 'fixtures');

/**
 * How the workspace is trusted:
 * - `trusted` (default): trust is ON and the folder is trusted (the harness answers VS Code's
 *   startup trust dialog with "Yes, I trust the authors"), so `workspace.isTrusted` is true.
 * - `untrusted`: trust is ON and the startup prompt is off (`security.workspace.trust.startupPrompt:
 *   never`), so the folder opens in Restricted Mode: `workspace.isTrusted` is false.
 * - `disabled`: code-server runs with `--disable-workspace-trust` (no trust feature; everything trusted).
 */
export type TrustMode = 'trusted' | 'untrusted' | 'disabled';

export interface LaunchOptions {
  /** Names the results folder test-results/e2e/<name>/ (screenshots, logs). */
  readonly name: string;
  /** A folder copied as the workspace (default test/fixtures/demo-workspace); `null`: no folder. */
  readonly workspace?: string | null;
  readonly trust?: TrustMode;
  /** User settings merged over the harness defaults (written to <user-data-dir>/User/settings.json). */
  readonly settings?: Record<string, unknown>;
  /** Extra environment for code-server and so the extension host (e.g. MCP_TOKENS_E2E_*). */
  readonly env?: Record<string, string>;
  /** Our .vsix (default dist/mcp-token-manager.vsix, built by `npm run package`). `null`: don't install. */
  readonly vsix?: string | null;
  /** More .vsix files to install. */
  readonly extraVsix?: readonly string[];
  /** Wait until this extension is active before returning (default: ours; `null`: don't wait). */
  readonly waitForExtension?: string | null;
  readonly viewport?: { width: number; height: number };
  /** Hard deadline after which the reaper kills everything (default 20 min, env MCP_TOKENS_E2E_DEADLINE_S). */
  readonly deadlineMs?: number;
  /** Runs after the folders exist and before code-server starts (e.g. to put files in `home` as another tool would). */
  readonly beforeStart?: (dirs: { root: string; home: string; userData: string }) => void | Promise<void>;
}

export interface Timings {
  installMs: number;
  /** From spawning code-server until it answers /healthz. */
  serverStartMs: number;
  /** From opening the page until the workbench, the driver and our extension are ready. */
  workbenchReadyMs: number;
}

export interface VSCode {
  readonly page: Page;
  readonly context: BrowserContext;
  /** http://127.0.0.1:PORT/ */
  readonly url: string;
  readonly port: number;
  readonly dirs: { root: string; userData: string; extensions: string; workspace: string | null; home: string; profile: string; results: string };
  readonly driver: DriverClient;
  readonly quickInput: QuickInput;
  readonly dialogs: Dialogs;
  readonly notifications: Notifications;
  readonly timings: Timings;
  /** Saves a PNG as test-results/e2e/<name>/<NN>-<label>.png and returns its path. */
  screenshot(label: string, target?: Locator): Promise<string>;
  /** Runs a command in the extension host through the driver; resolves to its JSON-safe result. */
  runCommand<T = unknown>(id: string, ...args: unknown[]): Promise<T>;
  /** Reloads the window (new extension host) and waits until the driver and our extension are back. */
  reload(): Promise<void>;
  /** Runs a command through the real command palette (F1), picking the row labelled `label`. */
  palette(label: string): Promise<void>;
  /** Opens a view container / view by clicking its activity-bar icon (aria-label, e.g. "MCP Tokens"). */
  openActivity(title: string): Promise<void>;
  /** The body of the side-bar view whose header title is `title` (e.g. "Tokens"). */
  view(title: string): Locator;
  /** Opens `row`'s context menu (right click) and runs the item whose label matches `item` (`onOpen` runs while the menu is open, e.g. a screenshot). */
  contextMenu(row: Locator, item: RegExp, onOpen?: () => Promise<unknown>): Promise<void>;
  /** Rows of the tree/list views in the side bar (or only of view `title`): label, description, aria-label. */
  sideBarRows(title?: string): Promise<{ label: string; description: string; ariaLabel: string }[]>;
  /** Dismisses every notification (toasts pile up: VS Code shows at most 3). */
  clearNotifications(): Promise<void>;
  /** The browser's clipboard (what a paste would give). */
  readClipboard(): Promise<string>;
  writeClipboard(text: string): Promise<void>;
  /** The text of our "MCP Tokens" log output channel (and any other log file whose name contains `name`). */
  readLog(name?: string): string;
  /** Every directory the run wrote to (for plaintext scans). */
  scanRoots(): string[];
  /** Fails naming file paths (never the value) if any of `values` is found in any file of the run. */
  assertNoPlaintext(values: readonly string[]): Promise<void>;
  /**
   * Opens another VS Code window on the same code-server and browser profile (a second tab: same
   * user-data dir, same SecretStorage), on `folder` (a path; default: a fresh copy of the workspace
   * fixture beside the first one), and waits until its extension host, driver and our extension run.
   */
  openWindow(options?: { folder?: string }): Promise<VSCodeWindow>;
  /** Stops Chromium and code-server (idempotent). Files stay until the test process exits. */
  dispose(): Promise<void>;
}

/** Another window of a launch (see `VSCode.openWindow`): its own page and extension host. */
export interface VSCodeWindow {
  readonly page: Page;
  readonly driver: DriverClient;
  readonly folder: string;
  runCommand<T = unknown>(id: string, ...args: unknown[]): Promise<T>;
  openActivity(title: string): Promise<void>;
  view(title: string): Locator;
  sideBarRows(title?: string): Promise<{ label: string; description: string; ariaLabel: string }[]>;
  screenshot(label: string): Promise<string>;
  /** Closes the tab (its extension host stops). */
  close(): Promise<void>;
}

const BASE_SETTINGS: Record<string, unknown> = {
  'workbench.startupEditor': 'none',
  'workbench.tips.enabled': false,
  'workbench.welcomePage.walkthroughs.openOnInstall': false,
  'workbench.enableExperiments': false,
  'workbench.secondarySideBar.defaultVisibility': 'hidden',
  'workbench.layoutControl.enabled': false,
  'telemetry.telemetryLevel': 'off',
  'update.mode': 'none',
  'extensions.autoUpdate': false,
  'extensions.autoCheckUpdates': false,
  'extensions.ignoreRecommendations': true,
  'git.enabled': false,
  'editor.accessibilitySupport': 'off',
  'window.confirmBeforeClose': 'never',
  'files.hotExit': 'off',
};

/** The tools installed by test/e2e/setup.sh (read from its env.sh). */
export function tools(): { node24: string; codeServer: string; chromium: string } {
  const cache = process.env.MCP_TOKENS_CACHE ?? join(process.env.HOME ?? '/root', '.cache', 'mcp-tokens-e2e');
  const envFile = join(cache, 'env.sh');
  if (!existsSync(envFile)) throw new Error(`${envFile} is missing: run \`bash test/e2e/setup.sh\` first.`);
  const vars: Record<string, string> = {};
  for (const m of readFileSync(envFile, 'utf8').matchAll(/^export (\w+)="([^"]*)"$/gm)) vars[m[1]] = m[2];
  const node24 = join(process.env.MCP_TOKENS_NODE24_BIN ?? vars.MCP_TOKENS_NODE24_BIN, 'node');
  const codeServer = process.env.MCP_TOKENS_CODE_SERVER ?? vars.MCP_TOKENS_CODE_SERVER;
  const chromiumPath = process.env.MCP_TOKENS_CHROMIUM ?? vars.MCP_TOKENS_CHROMIUM;
  for (const p of [node24, codeServer, chromiumPath]) if (!p || !existsSync(p)) throw new Error(`e2e tool missing: ${p}; run test/e2e/setup.sh`);
  return { node24, codeServer, chromium: chromiumPath };
}

/** Packs the test-only extension in test/e2e/<dir> into a .vsix (cached under test-results/e2e/.<dir>, rebuilt when a source changes). */
export function testExtensionVsix(dir: 'driver' | 'hostile'): string {
  const src = join(REPO_ROOT, 'test', 'e2e', dir);
  const outDir = join(REPO_ROOT, 'test-results', 'e2e', `.${dir}`);
  const out = join(outDir, `${dir}.vsix`);
  const newest = Math.max(...readdirSync(src).map((f) => statSync(join(src, f)).mtimeMs));
  if (existsSync(out) && statSync(out).mtimeMs > newest) return out;
  // Several test processes may pack at once: stage and write privately, then rename into place.
  const stage = join(outDir, `stage-${process.pid}`);
  const tmp = join(outDir, `${dir}-${process.pid}.vsix`);
  rmSync(stage, { recursive: true, force: true });
  mkdirSync(stage, { recursive: true });
  cpSync(src, stage, { recursive: true });
  const r = spawnSync(
    process.execPath,
    [join(REPO_ROOT, 'node_modules', '@vscode', 'vsce', 'vsce'), 'package', '--no-dependencies', '--allow-missing-repository',
      '--skip-license', '--allow-star-activation', '-o', tmp],
    { cwd: stage, encoding: 'utf8' },
  );
  rmSync(stage, { recursive: true, force: true });
  if (r.status !== 0) throw new Error(`Packing the e2e ${dir} extension failed:\n${r.stdout}\n${r.stderr}`);
  renameSync(tmp, out);
  return out;
}

/** The e2e driver (test/e2e/driver), installed in every launch. */
export function driverVsix(): string {
  return testExtensionVsix('driver');
}

function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const srv = createServer();
    srv.once('error', rej);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = addr && typeof addr === 'object' ? addr.port : 0;
      srv.close(() => res(port));
    });
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** Like sleep, but does not keep the process alive. */
const sleepUnref = (ms: number) => new Promise((r) => setTimeout(r, ms).unref());

/** Polls `probe` until it gives a value (not undefined, null or false), or fails after `timeoutMs` naming `what`. */
export async function waitFor<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined> | T | undefined, everyMs = 200): Promise<T> {
  const until = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v !== undefined && v !== null && (v as unknown) !== false) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > until) throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${last instanceof Error ? last.message : String(last)}` : ''}`);
    await sleep(everyMs);
  }
}

/** The error lines the extension host logged for a failed activation of `id`, if any. */
export function extensionActivationError(userData: string, id: string): string | undefined {
  const logs = join(userData, 'logs');
  const files: string[] = [];
  const walk = (d: string) => {
    for (const e of existsSync(d) ? readdirSync(d, { withFileTypes: true }) : []) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name === 'exthost.log' || e.name === 'remoteexthost.log') files.push(p);
    }
  };
  walk(logs);
  for (const f of files) {
    const lines = readFileSync(f, 'utf8').split('\n');
    const i = lines.findIndex((l) => l.includes(`Activating extension ${id} failed`));
    if (i >= 0) return lines.slice(i, i + 6).join('\n');
  }
  return undefined;
}

/** The side-bar helpers of a workbench page (shared by the first window and `openWindow`). */
function pageHelpers(page: Page) {
  const view = (title: string) =>
    page
      .locator('#workbench\\.parts\\.sidebar .pane')
      .filter({ has: page.locator('.pane-header .title', { hasText: new RegExp(`^\\s*${title.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\s*$`, 'i') }) })
      .locator('.pane-body');
  return {
    async openActivity(title: string) {
      await page.locator(`.part.activitybar .action-item a[aria-label^="${title}"], .part.activitybar .action-item[aria-label^="${title}"]`).first().click();
    },
    view,
    async contextMenu(row: Locator, item: RegExp, onOpen?: () => Promise<unknown>) {
      await row.click({ button: 'right' });
      const entry = page.locator('.context-view .action-item').filter({ has: page.locator('.action-label', { hasText: item }) }).first();
      await entry.waitFor({ state: 'visible', timeout: 10_000 });
      await onOpen?.();
      // The item is picked the way the keyboard does it (focus, Enter): a mouse click that lands while
      // the menu is still being laid out is sometimes lost (the menu stays open and nothing runs).
      await entry.hover();
      for (let i = 0; i < 50 && !(await entry.evaluate((e: any) => e.classList.contains('focused'))); i++) await page.waitForTimeout(50);
      await page.keyboard.press('Enter');
      await page.locator('.context-view .monaco-menu').first().waitFor({ state: 'hidden', timeout: 10_000 });
    },
    async sideBarRows(title?: string) {
      const scope = title ? view(title) : page.locator('#workbench\\.parts\\.sidebar');
      return scope.locator('.monaco-list-row').evaluateAll((rows) =>
        rows.map((r) => ({
          label: (r.querySelector('.label-name')?.textContent ?? r.textContent ?? '').trim(),
          description: (r.querySelector('.label-description')?.textContent ?? '').trim(),
          ariaLabel: r.getAttribute('aria-label') ?? '',
        })),
      );
    },
  };
}

let cleanupRegistered = false;
const rootsToRemove: string[] = [];
const liveGroups = new Set<ProcessGroup>();

function safeName(name: string): string {
  return name.replace(/[^A-Za-z0-9._-]+/g, '-').slice(0, 80);
}

export async function launch(options: LaunchOptions): Promise<VSCode> {
  const t = tools();
  const name = safeName(options.name);
  const trust = options.trust ?? 'trusted';
  const root = mkdtempSync(join(tmpdir(), `mcp-tokens-e2e-${name}-`));
  if (process.env.MCP_TOKENS_E2E_KEEP !== '1') rootsToRemove.push(root);
  if (!cleanupRegistered) {
    cleanupRegistered = true;
    process.once('exit', () => {
      // Processes first (they may still write into the roots), then the files.
      for (const g of liveGroups) g.killSync('SIGKILL');
      for (const r of rootsToRemove) rmSync(r, { recursive: true, force: true, maxRetries: 3 });
    });
    // Turn termination signals into a normal exit, so every `exit` handler (kill, clean) runs.
    for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.once(sig, () => process.exit(128 + ({ SIGINT: 2, SIGTERM: 15, SIGHUP: 1 } as const)[sig]));
  }
  const dirs = {
    root,
    userData: join(root, 'user-data'),
    extensions: join(root, 'extensions'),
    workspace: options.workspace === null ? null : join(root, 'workspace'),
    home: join(root, 'home'),
    profile: join(root, 'chromium-profile'),
    results: join(REPO_ROOT, 'test-results', 'e2e', name),
  };
  for (const d of [dirs.userData, dirs.extensions, dirs.home, dirs.profile, join(root, 'tmp')]) mkdirSync(d, { recursive: true });
  rmSync(dirs.results, { recursive: true, force: true });
  mkdirSync(dirs.results, { recursive: true });
  if (dirs.workspace) cpSync(options.workspace ?? join(FIXTURES, 'demo-workspace'), dirs.workspace, { recursive: true });

  const settings: Record<string, unknown> = { ...BASE_SETTINGS };
  if (trust === 'untrusted') {
    Object.assign(settings, {
      'security.workspace.trust.enabled': true,
      'security.workspace.trust.startupPrompt': 'never',
      'security.workspace.trust.banner': 'never',
      'security.workspace.trust.emptyWindow': false,
    });
  } else if (trust === 'trusted') {
    Object.assign(settings, { 'security.workspace.trust.enabled': true, 'security.workspace.trust.startupPrompt': 'always' });
  }
  Object.assign(settings, options.settings ?? {});
  mkdirSync(join(dirs.userData, 'User'), { recursive: true });
  writeFileSync(join(dirs.userData, 'User', 'settings.json'), JSON.stringify(settings, null, 2));

  const driverFile = join(root, 'driver.json');
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (v !== undefined && !k.startsWith('VSCODE_') && !k.startsWith('ELECTRON_') && !k.startsWith('NODE_OPTIONS')) env[k] = v;
  }
  Object.assign(env, {
    PATH: `${join(t.node24, '..')}:${process.env.PATH ?? '/usr/bin:/bin'}`,
    HOME: dirs.home,
    XDG_CONFIG_HOME: join(dirs.home, '.config'),
    XDG_DATA_HOME: join(dirs.home, '.local', 'share'),
    XDG_CACHE_HOME: join(dirs.home, '.cache'),
    TMPDIR: join(root, 'tmp'),
    MCP_TOKENS_E2E_DRIVER_FILE: driverFile,
    ...options.env,
  });
  const common = ['--user-data-dir', dirs.userData, '--extensions-dir', dirs.extensions];

  // 1. Install our vsix and the driver.
  const installStarted = Date.now();
  const vsixList = [...(options.vsix === null ? [] : [options.vsix ?? DEFAULT_VSIX]), driverVsix(), ...(options.extraVsix ?? [])];
  // dist/ may be being rebuilt by a parallel `npm run package`: give it a moment.
  for (const v of vsixList) await waitFor(`${v} (run \`npm run package\`)`, 30_000, () => existsSync(v) || undefined, 500);
  const install = spawnSync(t.node24, [t.codeServer, ...common, ...vsixList.flatMap((v) => ['--install-extension', v])], {
    env,
    encoding: 'utf8',
    timeout: 120_000,
  });
  writeFileSync(join(root, 'install.log'), `${install.stdout}\n${install.stderr}`);
  if (install.status !== 0) throw new Error(`code-server --install-extension failed (${install.status}):\n${install.stdout}\n${install.stderr}`);
  const installMs = Date.now() - installStarted;

  await options.beforeStart?.({ root, home: dirs.home, userData: dirs.userData });

  // 2. Start code-server.
  const deadlineMs = options.deadlineMs ?? Number(process.env.MCP_TOKENS_E2E_DEADLINE_S ?? 1200) * 1000;
  const group = new ProcessGroup(join(root, 'pids'), deadlineMs, root);
  liveGroups.add(group);
  const port = await freePort();
  const url = `http://127.0.0.1:${port}/`;
  const args = [t.codeServer, '--auth', 'none', '--bind-addr', `127.0.0.1:${port}`, ...common, '--disable-telemetry', '--disable-update-check',
    '--disable-getting-started-override', '--ignore-last-opened'];
  if (trust === 'disabled') args.push('--disable-workspace-trust');
  if (dirs.workspace) args.push(dirs.workspace);
  const serverLog = createWriteStream(join(root, 'code-server.log'));
  const serverStarted = Date.now();
  const server = spawn(t.node24, args, { env, detached: true, stdio: ['ignore', 'pipe', 'pipe'], cwd: dirs.home });
  if (server.pid) group.addGroup(server.pid);
  server.stdout?.pipe(serverLog);
  server.stderr?.pipe(serverLog);
  let serverExit: string | undefined;
  server.once('exit', (code, signal) => (serverExit = `code-server exited (${code ?? signal})`));
  const disposers: (() => Promise<void>)[] = [];
  let disposed = false;
  const dispose = async () => {
    if (disposed) return;
    disposed = true;
    for (const d of disposers.reverse()) await d().catch(() => undefined);
    await group.stop();
    liveGroups.delete(group);
    serverLog.end();
  };

  try {
    await waitFor('code-server to serve', 60_000, async () => {
      if (serverExit) throw new Error(`${serverExit}; see ${join(root, 'code-server.log')}`);
      const r = await fetch(`${url}healthz`).catch(() => undefined);
      return r?.ok ? true : undefined;
    }, 100);
    const serverStartMs = Date.now() - serverStarted;

    // 3. Chromium.
    const context = await chromium.launchPersistentContext(dirs.profile, {
      executablePath: t.chromium,
      headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run',
        '--disable-default-apps', '--password-store=basic'],
      viewport: options.viewport ?? { width: 1400, height: 900 },
      permissions: ['clipboard-read', 'clipboard-write'],
      env: { ...env, HOME: dirs.home },
    });
    for (const pid of childPidsWith(process.pid, dirs.profile)) group.addProcess(pid);
    disposers.push(async () => void (await Promise.race([context.close(), sleepUnref(10_000)])));
    // tsx compiles with keepNames: functions passed to page.evaluate may call `__name`.
    await context.addInitScript('globalThis.__name = globalThis.__name || ((f) => f);');
    await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: url.replace(/\/$/, '') });
    const page = context.pages()[0] ?? (await context.newPage());
    const consoleLog = createWriteStream(join(root, 'browser-console.log'));
    page.on('console', (m) => consoleLog.write(`[${m.type()}] ${m.text()}\n`));
    page.on('pageerror', (e) => consoleLog.write(`[pageerror] ${e.message}\n`));
    disposers.push(async () => void consoleLog.end());

    const readyStarted = Date.now();
    const mark = (what: string) => process.env.MCP_TOKENS_E2E_DEBUG && console.log(`[harness] ${what} +${Date.now() - readyStarted} ms`);
    await page.goto(url, { waitUntil: 'domcontentloaded' });
    await page.locator('.monaco-workbench').waitFor({ state: 'visible', timeout: 60_000 });
    mark('workbench visible');
    const dialogs = new Dialogs(page);
    if (trust === 'trusted' && dirs.workspace && settings['security.workspace.trust.enabled'] !== false) {
      // Answer the startup trust prompt ("Do you trust the authors of the files in this folder?").
      await dialogs.waitFor(60_000, /trust/i);
      await dialogs.click(/Yes, I trust/i);
    }
    const readDriverFile = (notPid?: number) =>
      waitFor('the driver extension to start (extension host up)', 60_000, () => {
        if (!existsSync(driverFile)) return undefined;
        const d = JSON.parse(readFileSync(driverFile, 'utf8')) as { port: number; token: string; pid: number };
        return d.pid === notPid ? undefined : d;
      });
    mark('trust answered');
    const first = await readDriverFile();
    mark('driver up');
    let driverPid = first.pid;
    const driver = new DriverClient(first);
    const waitExt = options.waitForExtension === undefined ? (options.vsix === null ? null : EXTENSION_ID) : options.waitForExtension;
    const waitForExtension = async () => {
      if (!waitExt) return;
      await waitFor(`extension ${waitExt} to activate`, 60_000, async () => {
        const r = await driver.call<{ found: boolean; isActive?: boolean }>('extension', { id: waitExt });
        if (!r.found) throw new Error(`${waitExt} is not installed`);
        return r.isActive ? true : undefined;
      }, 250);
      // `isActive` is also true when activate() threw: the extension host log tells.
      const failure = extensionActivationError(dirs.userData, waitExt);
      if (failure) throw new Error(`activating ${waitExt} failed:\n${failure}`);
    };
    await waitForExtension();
    mark('extension active');
    const workbenchReadyMs = Date.now() - readyStarted;

    let shot = 0;
    let windows = 0;
    const quickInput = new QuickInput(page);
    const vs: VSCode = {
      page,
      context,
      url,
      port,
      dirs,
      driver,
      quickInput,
      dialogs,
      notifications: new Notifications(page, (id) => driver.command(id)),
      timings: { installMs, serverStartMs, workbenchReadyMs },
      async screenshot(label, target) {
        const file = join(dirs.results, `${String(++shot).padStart(2, '0')}-${safeName(label)}.png`);
        if (target) await target.screenshot({ path: file });
        else await page.screenshot({ path: file });
        return file;
      },
      runCommand: (id, ...cmdArgs) => driver.command(id, ...cmdArgs),
      async reload() {
        await page.reload({ waitUntil: 'domcontentloaded' });
        await page.locator('.monaco-workbench').waitFor({ state: 'visible', timeout: 60_000 });
        const next = await readDriverFile(driverPid);
        driverPid = next.pid;
        driver.reconnect(next);
        await waitForExtension();
      },
      async palette(label) {
        await quickInput.close();
        await page.keyboard.press('F1');
        await quickInput.waitOpen();
        await quickInput.type(`>${label}`, { submit: false });
        await quickInput.pick(label);
      },
      ...pageHelpers(page),
      async clearNotifications() {
        await driver.command('notifications.clearAll');
        await page.locator('.notification-toast').first().waitFor({ state: 'hidden', timeout: 5_000 }).catch(() => undefined);
      },
      async readClipboard() {
        await page.bringToFront();
        return page.evaluate(() => (globalThis as any).navigator.clipboard.readText() as Promise<string>);
      },
      async writeClipboard(text) {
        await page.bringToFront();
        await page.evaluate((s) => (globalThis as any).navigator.clipboard.writeText(s), text);
      },
      readLog(logName = 'MCP Tokens') {
        const logs = join(dirs.userData, 'logs');
        const found: string[] = [];
        const walk = (d: string) => {
          for (const e of existsSync(d) ? readdirSync(d, { withFileTypes: true }) : []) {
            const p = join(d, e.name);
            if (e.isDirectory()) walk(p);
            else if (e.name.includes(logName)) found.push(readFileSync(p, 'utf8'));
          }
        };
        walk(logs);
        return found.join('\n');
      },
      async openWindow(windowOptions = {}) {
        const folder = windowOptions.folder ?? join(root, `workspace-${++windows}`);
        if (!windowOptions.folder) cpSync(options.workspace ?? join(FIXTURES, 'demo-workspace'), folder, { recursive: true });
        const before = existsSync(driverFile) ? (JSON.parse(readFileSync(driverFile, 'utf8')) as { pid: number }).pid : undefined;
        const other = await context.newPage();
        other.on('console', (m) => consoleLog.write(`[window ${windows}] [${m.type()}] ${m.text()}\n`));
        await other.goto(`${url}?folder=${encodeURIComponent(folder)}`, { waitUntil: 'domcontentloaded' });
        await other.locator('.monaco-workbench').waitFor({ state: 'visible', timeout: 60_000 });
        if (trust === 'trusted' && settings['security.workspace.trust.enabled'] !== false) {
          // A folder not trusted yet asks; a trusted one does not.
          const otherDialogs = new Dialogs(other);
          if (await otherDialogs.waitFor(8_000, /trust/i).then(() => true, () => false)) await otherDialogs.click(/Yes, I trust/i);
        }
        const info = await readDriverFile(before);
        const otherDriver = new DriverClient(info);
        await waitFor(`extension ${EXTENSION_ID} to activate in the new window`, 60_000, async () => {
          const r = await otherDriver.call<{ found: boolean; isActive?: boolean }>('extension', { id: EXTENSION_ID });
          return r.isActive ? true : undefined;
        }, 250);
        const helpers = pageHelpers(other);
        return {
          page: other,
          driver: otherDriver,
          folder,
          runCommand: (id, ...cmdArgs) => otherDriver.command(id, ...cmdArgs),
          ...helpers,
          async screenshot(label) {
            const file = join(dirs.results, `${String(++shot).padStart(2, '0')}-${safeName(label)}.png`);
            await other.screenshot({ path: file });
            return file;
          },
          close: () => other.close(),
        };
      },
      scanRoots: () => [root],
      async assertNoPlaintext(values) {
        await assertNoPlaintext([root], values);
      },
      dispose,
    };
    return vs;
  } catch (e) {
    await dispose();
    throw new Error(`launch(${name}) failed: ${e instanceof Error ? e.message : String(e)}\n(root kept only with MCP_TOKENS_E2E_KEEP=1: ${root})`);
  }
}

/** Convenience for `node:test`: unique secret-looking values that are easy to scan for. */
export function testSecret(label: string): string {
  const rand = Buffer.from(Array.from({ length: 18 }, () => Math.floor(Math.random() * 256))).toString('base64url');
  return `e2e-${safeName(label)}-${rand}`;
}
