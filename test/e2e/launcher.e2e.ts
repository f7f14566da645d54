/**
 * The `mcp-tokens` launcher in a real VS Code (code-server + Chromium), issue 12:
 *  - "MCP Tokens: Install Command-Line Launcher" writes the shim (in the run's HOME);
 *  - a `.vscode/mcp.json` server (the stdio fixture, which records digests of what it received)
 *    holds `$<TOKEN:…>`, which VS Code would pass on as text: the language server flags it and the
 *    quick fix "Run through MCP Tokens launcher", picked in the real quick-fix widget, rewrites it;
 *  - VS Code itself starts it from "MCP: List Servers"; the launcher asks the extension over the
 *    channel; the consent modal is answered in the real dialog; the fixture receives the
 *    SecretStorage value in its environment and arguments;
 *  - a changed command asks again; a denied one never starts, and the MCP server's output says why;
 *  - the audit log has the launcher's resolutions (client, command); a use another launcher process
 *    appends to the shared log becomes the token's last use; no value is in any file.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { appendFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { FIXTURES, launch, scanForPlaintext, testSecret, waitFor, type VSCode } from './harness';

const sha = (s: string) => createHash('sha256').update(s).digest('hex');
const VALUE = testSecret('launcher-e2e');
const FILE = '.vscode/mcp.json';
const scratch = mkdtempSync(join(tmpdir(), 'mcp-tokens-launcher-e2e-'));
const records = join(scratch, 'records.jsonl');
process.on('exit', () => {
  if (!process.env.MCP_TOKENS_E2E_KEEP) rmSync(scratch, { recursive: true, force: true });
});
const STDIO_SERVER = join(FIXTURES, 'mcp-servers', 'stdio-server.mjs');

interface FixtureRecord {
  kind: string;
  name: string;
  envTokenSha256?: string | null;
  argTokenSha256?: string | null;
  literalReference: boolean;
}
const readRecords = (): FixtureRecord[] =>
  existsSync(records)
    ? readFileSync(records, 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as FixtureRecord)
        .filter((r) => r.kind !== 'exit')
    : [];

const TEXT = `{
  "servers": {
    "fixture": {
      "type": "stdio",
      "command": ${JSON.stringify(process.execPath)},
      "args": [${JSON.stringify(STDIO_SERVER)}, "--token", "$<TOKEN:bearer:e2e-launch>"],
      "env": { "FIXTURE_TOKEN": "$<TOKEN:bearer:e2e-launch>", "MCP_FIXTURE_RECORD": ${JSON.stringify(records)}, "MCP_FIXTURE_NAME": "fixture" }
    }
  }
}
`;

function workspace(): string {
  const dir = join(scratch, 'ws');
  mkdirSync(join(dir, '.vscode'), { recursive: true });
  writeFileSync(join(dir, FILE), TEXT);
  return dir;
}

let vs: VSCode;
let shim: string;

/** "MCP: List Servers" → the server → `action` (through the real quick picks). */
async function fromListServers(action: RegExp): Promise<void> {
  await vs.palette('MCP: List Servers');
  await vs.quickInput.waitOpen();
  await vs.quickInput.pick(/fixture/);
  await vs.quickInput.waitOpen();
  await vs.quickInput.pick(action);
}

/** VS Code may ask to trust a workspace MCP server before its first start: trust it. */
async function answerMcpTrust(): Promise<void> {
  const d = await vs.dialogs.waitFor(5_000, /trust/i).catch(() => undefined);
  if (d) await vs.dialogs.click(/^Trust/);
}

describe('mcp-tokens launcher in VS Code', () => {
  before(async () => {
    vs = await launch({ name: 'launcher', workspace: workspace(), settings: { 'chat.mcp.autostart': 'never' } });
    await vs.runCommand('mcpTokens.setToken', { namespace: 'bearer', name: 'e2e-launch', type: 'bearer', value: VALUE });
  });

  after(async () => {
    await vs?.dispose();
    if (vs) {
      await vs.assertNoPlaintext([VALUE]);
      assert.deepEqual(await scanForPlaintext([scratch], [VALUE]), [], 'the fixture records hold digests only');
      assert.ok(!vs.readLog().includes(VALUE));
    }
    assert.deepEqual(readRecords().filter((r) => r.literalReference), [], 'no server was started with a literal reference');
  });

  test('Install Command-Line Launcher (palette) writes the shim where picked and says where', async () => {
    const dir = join(vs.dirs.home, '.local', 'bin');
    shim = join(dir, 'mcp-tokens');
    await vs.palette('MCP Tokens: Install Command-Line Launcher');
    const pick = await vs.quickInput.waitOpen(/Where to put the mcp-tokens command/);
    assert.ok(pick.items.includes(dir), JSON.stringify(pick.items));
    assert.match(await vs.quickInput.row(dir).first().innerText(), /not on PATH/);
    await vs.quickInput.pick(dir);
    const note = await vs.notifications.waitFor(/Installed mcp-tokens at/);
    assert.ok(note.includes(shim), note);
    assert.match(note, /not on your PATH/);
    // The same through automation (a folder argument), which returns where and whether on PATH.
    assert.deepEqual(await vs.runCommand('mcpTokens.installLauncher', { directory: dir }), { path: shim, onPath: false });
    assert.match(readFileSync(shim, 'utf8'), /^#!\/bin\/sh/);
    const pointer = readFileSync(join(vs.dirs.home, '.mcp-tokens', 'launcher.pointer'), 'utf8');
    assert.match(pointer, new RegExp(`^shim=${shim.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`, 'm'));
    assert.match(pointer, /^bundle=.*dist\/cli\/mcp-tokens\.mjs$/m);
  });

  test('the quick fix, picked in the real widget, wraps the server; the warning goes', async () => {
    const lines = TEXT.split('\n');
    const line = lines.findIndex((l) => l.includes('"FIXTURE_TOKEN"'));
    const character = lines[line].indexOf('$<TOKEN:') + 3;
    await vs.driver.open(FILE, { line, character });
    await vs.driver.waitForDiagnostics(FILE, (d) => d.some((x) => x.code === 'reference-not-resolved'), 60_000);
    await vs.runCommand('workbench.action.focusActiveEditorGroup');
    await vs.page.keyboard.press('Control+.');
    const row = vs.page.locator('.action-widget .monaco-list-row', { hasText: 'Run through MCP Tokens launcher' });
    await row.first().waitFor({ state: 'visible', timeout: 20_000 });
    assert.ok(await vs.page.locator('.action-widget .monaco-list-row', { hasText: 'Move Server to MCP Tokens' }).count(), 'the move fix is offered beside it');
    await vs.screenshot('launcher-quick-fix');
    await row.first().click();
    let edited = '';
    for (let i = 0; i < 40 && !edited.includes('"run"'); i++) {
      edited = await vs.driver.read(FILE);
      await new Promise((r) => setTimeout(r, 250));
    }
    const server = JSON.parse(edited).servers.fixture;
    assert.equal(server.command, shim);
    assert.deepEqual(server.args, ['run', '--', process.execPath, STDIO_SERVER, '--token', '$<TOKEN:bearer:e2e-launch>']);
    assert.equal(server.env.FIXTURE_TOKEN, '$<TOKEN:bearer:e2e-launch>');
    await vs.runCommand('workbench.action.files.save');
    await vs.driver.waitForDiagnostics(FILE, (d) => !d.some((x) => x.code === 'reference-not-resolved'), 20_000);
    // Undo puts the server back in one step (one edit), redo wraps it again.
    await vs.runCommand('undo');
    assert.equal(JSON.parse(await vs.driver.read(FILE)).servers.fixture.command, process.execPath);
    await vs.runCommand('redo');
    assert.equal(JSON.parse(await vs.driver.read(FILE)).servers.fixture.command, shim);
    await vs.runCommand('workbench.action.files.save');
  });

  test('started by VS Code from MCP: List Servers, the server receives the value after the consent dialog', async () => {
    await fromListServers(/Start Server/);
    await answerMcpTrust();
    const dialog = await vs.dialogs.waitFor(60_000, /mcp-tokens launcher asks for \$<TOKEN:bearer:e2e-launch>/);
    assert.match(dialog.detail, new RegExp(`Runs: ${process.execPath.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
    assert.deepEqual(dialog.buttons.filter((b) => /Allow|Deny/.test(b)).sort(), ['Allow Once', 'Always Allow', 'Deny']);
    await vs.screenshot('launcher-consent');
    await vs.dialogs.click('Always Allow');
    const rec = await waitFor('the fixture record', 60_000, () => readRecords().find((r) => r.name === 'fixture'));
    assert.equal(rec.envTokenSha256, sha(VALUE));
    assert.equal(rec.argTokenSha256, sha(VALUE));
    assert.equal(rec.literalReference, false);
  });

  test('a changed command asks again; denied, it never starts and the MCP output says why', async () => {
    await fromListServers(/Stop Server/).catch(() => undefined);
    const wrapped = JSON.parse(await vs.driver.read(FILE));
    wrapped.servers.fixture.args.push('--changed');
    await vs.driver.edit(FILE, `${JSON.stringify(wrapped, null, 2)}\n`, true);
    const before = readRecords().length;
    await fromListServers(/Start Server/);
    await answerMcpTrust();
    const dialog = await vs.dialogs.waitFor(60_000, /mcp-tokens launcher asks for/);
    assert.match(dialog.detail, /--changed/);
    await vs.dialogs.click('Deny');
    await new Promise((r) => setTimeout(r, 3000));
    assert.equal(readRecords().length, before, 'the denied launch started nothing');
    // The server's output, as VS Code shows it (List Servers → the server → Show Output).
    await fromListServers(/Show Output/);
    const output = vs.page.locator('.part.panel .monaco-editor .view-lines');
    let out = '';
    for (let i = 0; i < 120 && !/refused \$<TOKEN:bearer:e2e-launch> \(denied\)/.test(out); i++) {
      out = (await output.first().innerText().catch(() => '')).replace(/\u00a0/g, ' ');
      await new Promise((r) => setTimeout(r, 250));
    }
    await vs.screenshot('launcher-denied-output');
    assert.match(out, /refused \$<TOKEN:bearer:e2e-launch> \(denied\)/);
    assert.ok(!out.includes(VALUE));
  });

  test('the audit log records the launcher resolutions with client and command, never a value', async () => {
    const entries = await vs.runCommand<{ kind: string; tokens?: string[]; actor: { server?: string; launcher?: string }; outcome: string }[]>('mcpTokens.showAuditLog', { kind: 'launcher' });
    const mine = entries.filter((e) => e.actor.server?.startsWith('mcp-tokens run:'));
    assert.ok(mine.some((e) => e.outcome === 'ok' && e.tokens?.includes('bearer:e2e-launch')), JSON.stringify(entries));
    assert.ok(mine.some((e) => e.outcome === 'denied' && e.actor.server?.includes('--changed')));
    assert.ok(mine.every((e) => typeof e.actor.launcher === 'string' && e.actor.launcher.length > 0));
    assert.ok(!JSON.stringify(entries).includes(VALUE));
  });

  test("a use the launcher appends to the shared audit log (as it does for keyring and Vault tokens) becomes the token's last use", async () => {
    const file = join(vs.dirs.userData, 'User', 'globalStorage', 'mcp-tokens.mcp-token-manager', 'audit.jsonl');
    assert.ok(existsSync(file), file);
    const at = new Date(Date.now() + 1000).toISOString();
    // The line another process (the launcher, run by Claude Desktop with VS Code open) appends.
    const line = { time: at, kind: 'launcher', tokens: ['bearer:e2e-launch'], actor: { server: 'mcp-tokens run: node other.js', file: scratch, launcher: 'claude' }, outcome: 'ok', reason: '$<TOKEN:bearer:e2e-launch> from keyring' };
    appendFileSync(file, `${JSON.stringify(line)}\n`);
    let meta: { lastUsedAt?: string } | undefined;
    for (let i = 0; i < 50 && meta?.lastUsedAt !== at; i++) {
      await new Promise((r) => setTimeout(r, 200));
      meta = await vs.runCommand<{ lastUsedAt?: string }>('mcpTokens.showToken', { namespace: 'bearer', name: 'e2e-launch' });
    }
    assert.equal(meta?.lastUsedAt, at, 'the Tokens view and the hover show this use');
  });
});
