/**
 * Token-using MCP servers in a real VS Code (code-server 1.139 + Chromium), served by our
 * McpServerDefinitionProvider from `.vscode/mcp.tokens.json`:
 *  - a stdio fixture server (SDK) receives the real value in its environment and arguments;
 *  - an HTTP fixture server on 127.0.0.1 receives `Authorization: Bearer <value>`;
 *  - the first start asks for consent in the real modal dialog (clicked here);
 *  - after rotation the restarted servers receive the new value;
 *  - with consent denied, with a missing token, or in an untrusted workspace, no value is delivered;
 *  - the audit log shows each use; moving a server out of VS Code's mcp.json is one edit;
 *  - afterwards no value is in plain text in any file of the run, and no fixture was ever launched
 *    with a literal `$<TOKEN:` / `${TOKEN:` (the fixtures record that, and only SHA-256 digests).
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { EXTENSION_ID, FIXTURES, launch, scanForPlaintext, testSecret, type VSCode } from './harness';

const sha = (s: string) => createHash('sha256').update(s).digest('hex');
const STDIO_V1 = testSecret('runtime-stdio-1');
const STDIO_V2 = testSecret('runtime-stdio-2');
const HTTP_V1 = testSecret('runtime-http-1');
const HTTP_V2 = testSecret('runtime-http-2');
const DENY_V = testSecret('runtime-deny');
const UNTRUSTED_V = testSecret('runtime-untrusted');
const ALL = [STDIO_V1, STDIO_V2, HTTP_V1, HTTP_V2, DENY_V, UNTRUSTED_V];

const scratch = mkdtempSync(join(tmpdir(), 'mcp-tokens-runtime-e2e-'));
const records = join(scratch, 'records.jsonl');
process.on('exit', () => {
  if (!process.env.MCP_TOKENS_E2E_KEEP) rmSync(scratch, { recursive: true, force: true });
});
const STDIO_SERVER = join(FIXTURES, 'mcp-servers', 'stdio-server.mjs');
const id = (label: string) => `${EXTENSION_ID}/${label}`;

interface FixtureRecord {
  kind: string;
  name: string;
  envTokenSha256?: string | null;
  argTokenSha256?: string | null;
  bearerSha256?: string | null;
  literalReference: boolean;
  accepted?: boolean;
}

function allRecords(): FixtureRecord[] {
  if (!existsSync(records)) return [];
  return readFileSync(records, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as FixtureRecord);
}

/** What the fixtures recorded at start (stdio) or per request (HTTP). */
function readRecords(): FixtureRecord[] {
  return allRecords().filter((r) => r.kind !== 'exit');
}

/** Stdio fixtures that exited. */
function readExits(): FixtureRecord[] {
  return allRecords().filter((r) => r.kind === 'exit');
}

async function waitFor<T>(what: string, probe: () => T | undefined | false, timeoutMs = 30_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = probe();
    if (v) return v;
    if (Date.now() > end) throw new Error(`Timed out waiting for ${what}.`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

function stdioServer(name: string, token: string) {
  return {
    command: process.execPath,
    args: [STDIO_SERVER, '--token', token],
    env: { FIXTURE_TOKEN: token.replace('$<', '${').replace('>', '}'), MCP_FIXTURE_RECORD: records, MCP_FIXTURE_NAME: name },
  };
}

function workspace(httpUrl: string): string {
  const dir = join(scratch, `ws-${Math.random().toString(36).slice(2)}`);
  mkdirSync(join(dir, '.vscode'), { recursive: true });
  const tokens = {
    servers: {
      'stdio-fixture': stdioServer('stdio-fixture', '$<TOKEN:bearer:e2e-stdio>'),
      'http-fixture': { type: 'http', url: httpUrl, headers: { Authorization: 'Bearer $<TOKEN:bearer:e2e-http>' } },
      'denied-fixture': stdioServer('denied-fixture', '$<TOKEN:bearer:e2e-deny>'),
      'missing-fixture': stdioServer('missing-fixture', '$<TOKEN:bearer:e2e-absent>'),
    },
  };
  writeFileSync(join(dir, '.vscode', 'mcp.tokens.json'), `// Token-aware servers of the runtime e2e test.\n${JSON.stringify(tokens, null, 2)}\n`);
  // mcp-cli's file (served because of mcpTokens.servers.mcpCliConfig: true), with the brace form.
  writeFileSync(join(dir, 'server_config.json'), JSON.stringify({ mcpServers: { 'cli-fixture': stdioServer('cli-fixture', '${TOKEN:bearer:e2e-stdio}') } }, null, 2));
  writeFileSync(
    join(dir, '.vscode', 'mcp.json'),
    `{\n\t"servers": {\n\t\t// moved by the test\n\t\t"to-move": { "command": "echo", "args": ["$<TOKEN:bearer:e2e-move>"] }, // trailing\n\t\t"stays": { "command": "true" }\n\t}\n}\n`,
  );
  return dir;
}

type Http = import('../fixtures/mcp-servers/http-server.mjs').HttpFixture;

/** The side bar rows, once one labelled `label` shows (or after 15 s). */
async function rowsWith(vs: VSCode, label: string, description?: RegExp) {
  const found = (rows: { label: string; description: string }[]) => rows.some((r) => r.label === label && (!description || description.test(r.description)));
  let rows = await vs.sideBarRows();
  for (let i = 0; i < 60 && !found(rows); i++) {
    if (i === 20) await vs.openActivity('MCP Tokens');
    await new Promise((r) => setTimeout(r, 250));
    rows = await vs.sideBarRows();
  }
  return rows;
}

/** Writes the user servers file (creating it through "Open User Servers File") with one fixture server. */
async function writeUserFile(vs: VSCode, name: string): Promise<void> {
  await vs.runCommand('mcpTokens.openUserServersFile');
  const userFile = join(vs.dirs.userData, 'User', 'globalStorage', EXTENSION_ID, 'mcp.tokens.json');
  await waitFor('the user servers file', () => existsSync(userFile));
  writeFileSync(userFile, JSON.stringify({ servers: { [name]: stdioServer(name, '$<TOKEN:bearer:e2e-stdio>') } }));
  await vs.runCommand('mcpTokens.refreshServers');
  await rowsWith(vs, name);
}

/**
 * Starts a server and waits for the modal it should open. VS Code may not know a provided server yet
 * right after activation (its registry updates asynchronously), so the start is retried a few times.
 */
async function startAsking(vs: VSCode, label: string, dialog: RegExp) {
  for (let attempt = 1; ; attempt++) {
    const started = start(vs, label);
    try {
      return { started, dialog: await vs.dialogs.waitFor(attempt < 4 ? 8_000 : 30_000, dialog) };
    } catch (e) {
      if (attempt >= 4) throw e;
      await started;
    }
  }
}

/** Starts `workbench.mcp.startServer` without awaiting (it may wait on our modal). */
function start(vs: VSCode, label: string): Promise<unknown> {
  return vs.runCommand('workbench.mcp.startServer', id(label)).catch((e: unknown) => e);
}

describe('MCP servers with tokens, trusted workspace', () => {
  let vs: VSCode;
  let http: Http;
  let expectedBearer = sha(HTTP_V1);

  before(async () => {
    const { startHttpFixture } = await import('../fixtures/mcp-servers/http-server.mjs');
    http = await startHttpFixture({ expectedSha256: () => expectedBearer, recordPath: records, name: 'http-fixture' });
    vs = await launch({
      name: 'runtime',
      workspace: workspace(http.url),
      settings: { 'mcpTokens.servers.restartOnTokenChange': 'always', 'mcpTokens.servers.mcpCliConfig': true, 'chat.mcp.autostart': 'never' },
    });
    for (const [name, value] of [
      ['e2e-stdio', STDIO_V1],
      ['e2e-http', HTTP_V1],
      ['e2e-deny', DENY_V],
    ]) {
      await vs.runCommand('mcpTokens.setToken', { namespace: 'bearer', name, type: 'bearer', value });
    }
  });

  after(async () => {
    await vs?.dispose();
    await http?.close();
    if (vs) {
      await vs.assertNoPlaintext(ALL);
      assert.deepEqual(await scanForPlaintext([scratch], ALL), [], 'the fixture records hold digests only');
    }
    const literal = readRecords().filter((r) => r.literalReference);
    assert.ok(readRecords().length > 0);
    assert.deepEqual(literal, [], 'no server was started with a literal token reference');
  });

  test('the Servers view lists the token-aware servers with their credential state', async () => {
    await vs.runCommand('mcpTokens.refreshServers');
    await vs.openActivity('MCP Tokens');
    const list = await rowsWith(vs, 'stdio-fixture');
    const byLabel = (l: string) => list.find((r) => r.label === l || r.ariaLabel.startsWith(l));
    await vs.screenshot('servers-view');
    assert.ok(byLabel('stdio-fixture'), `rows: ${list.map((r) => r.label).join(', ')}`);
    assert.match(byLabel('stdio-fixture')!.description, /consent needed/);
    assert.match(byLabel('missing-fixture')!.description, /token missing/);
  });

  test('a stdio server receives the value in env and args after the consent modal', async () => {
    const { started: p, dialog: dialog } = await startAsking(vs, 'stdio-fixture', /Allow the MCP server "stdio-fixture"/);
    assert.match(dialog.message, /\$<TOKEN:bearer:e2e-stdio>/);
    assert.deepEqual(dialog.buttons.filter((b) => /Allow|Deny/.test(b)).sort(), ['Allow Once', 'Always Allow', 'Deny']);
    await vs.screenshot('consent-modal');
    await vs.dialogs.click('Always Allow');
    await p;
    const rec = await waitFor('the stdio fixture record', () => readRecords().find((r) => r.name === 'stdio-fixture'));
    assert.equal(rec.envTokenSha256, sha(STDIO_V1));
    assert.equal(rec.argTokenSha256, sha(STDIO_V1));
    assert.equal(rec.literalReference, false);
  });

  test('an HTTP server on 127.0.0.1 receives Authorization: Bearer <value>', async () => {
    const { started: p } = await startAsking(vs, 'http-fixture', /Allow the MCP server "http-fixture"/);
    await vs.dialogs.click('Always Allow');
    await p;
    await waitFor('an accepted HTTP request', () => http.requests.find((r) => r.accepted && r.bearerSha256 === sha(HTTP_V1)));
    assert.ok(http.requests.every((r) => !r.literalReference));
  });

  test("an mcp-cli server_config.json server (${TOKEN:...}) is served when the setting asks for it", async () => {
    const { started: p } = await startAsking(vs, 'cli-fixture', /Allow the MCP server "cli-fixture"/);
    await vs.dialogs.click('Always Allow');
    await p;
    const rec = await waitFor('the mcp-cli fixture record', () => readRecords().find((r) => r.name === 'cli-fixture'));
    assert.equal(rec.envTokenSha256, sha(STDIO_V1));
    assert.equal(rec.argTokenSha256, sha(STDIO_V1));
  });

  test('after rotation the restarted servers receive the new values', async () => {
    const before = readRecords().filter((r) => r.name === 'stdio-fixture').length;
    await vs.runCommand('mcpTokens.rotateToken', { namespace: 'bearer', name: 'e2e-stdio', value: STDIO_V2 });
    const rec = await waitFor('a restarted stdio fixture', () => readRecords().filter((r) => r.name === 'stdio-fixture').slice(before).find((r) => r.envTokenSha256 === sha(STDIO_V2)));
    assert.equal(rec.argTokenSha256, sha(STDIO_V2));
    await waitFor('a restarted mcp-cli fixture', () => readRecords().find((r) => r.name === 'cli-fixture' && r.envTokenSha256 === sha(STDIO_V2)));

    expectedBearer = sha(HTTP_V2);
    await vs.runCommand('mcpTokens.rotateToken', { namespace: 'bearer', name: 'e2e-http', value: HTTP_V2 });
    await waitFor('an HTTP request with the new bearer', () => http.requests.find((r) => r.accepted && r.bearerSha256 === sha(HTTP_V2)));
    // No consent modal the second time (always allowed), and the old value is no longer accepted.
    assert.equal(await vs.dialogs.isOpen(), false);
  });

  test('consent denied: no value is delivered, and the denial is remembered', async () => {
    const { started: p } = await startAsking(vs, 'denied-fixture', /Allow the MCP server "denied-fixture"/);
    await vs.dialogs.click('Deny');
    await p;
    const again = start(vs, 'denied-fixture');
    await again;
    assert.equal(await vs.dialogs.isOpen(), false, 'a remembered denial does not ask again');
    await new Promise((r) => setTimeout(r, 2000));
    assert.deepEqual(readRecords().filter((r) => r.name === 'denied-fixture'), []);
  });

  test('a missing token asks to set it; cancelling starts nothing', async () => {
    const { started: p } = await startAsking(vs, 'missing-fixture', /Allow the MCP server "missing-fixture"/);
    await vs.dialogs.click('Allow Once');
    const d = await vs.dialogs.waitFor(30_000, /needs the token \$<TOKEN:bearer:e2e-absent>/);
    assert.ok(d.buttons.some((b) => /Set Token/.test(b)));
    await vs.dialogs.cancel();
    await p;
    await new Promise((r) => setTimeout(r, 1000));
    assert.deepEqual(readRecords().filter((r) => r.name === 'missing-fixture'), []);
  });

  test('the audit log shows each use and each refusal, never a value', async () => {
    const entries = await vs.runCommand<{ tokens?: string[]; actor: { server?: string; file?: string }; outcome: string; reason?: string }[]>('mcpTokens.showAuditLog', { kind: 'launch' });
    const count = (server: string, outcome: string, reason?: RegExp) => entries.filter((e) => e.actor.server === server && e.outcome === outcome && (!reason || reason.test(e.reason ?? ''))).length;
    assert.ok(count('stdio-fixture', 'ok') >= 2, JSON.stringify(entries));
    assert.ok(count('http-fixture', 'ok') >= 2);
    assert.ok(count('denied-fixture', 'denied') >= 2);
    assert.ok(count('missing-fixture', 'failed', /^missing/) >= 1);
    assert.ok(entries.every((e) => e.actor.file?.endsWith('mcp.tokens.json') || e.actor.file?.endsWith('server_config.json')));
    assert.ok(count('cli-fixture', 'ok') >= 2);
    const text = JSON.stringify(entries);
    for (const v of ALL) assert.ok(!text.includes(v));
    await vs.screenshot('audit-log');
    // The token's last-used time is recorded.
    const list = await vs.runCommand<{ name: string; lastUsedAt?: string }[]>('mcpTokens.listTokens', { noUi: true });
    assert.ok(list.find((t) => t.name === 'e2e-stdio')?.lastUsedAt);
  });

  test('allowed servers show under the token; revoking makes the server ask again; "Allow Once" is not remembered', async () => {
    // The Tokens view lists the decision under the token.
    await vs.page.locator('.monaco-list-row', { hasText: 'e2e-stdio' }).first().click();
    await vs.page.keyboard.press('ArrowRight');
    const rows = await rowsWith(vs, 'stdio-fixture', /allowed/);
    assert.ok(rows.some((r) => r.label === 'stdio-fixture' && /allowed/.test(r.description)), JSON.stringify(rows));
    await vs.screenshot('allowed-servers');

    assert.equal(await vs.runCommand('mcpTokens.revokeConsent', { namespace: 'bearer', name: 'e2e-stdio' }), true);
    await vs.runCommand('workbench.mcp.stopServer', id('stdio-fixture'));
    const before = readRecords().filter((r) => r.name === 'stdio-fixture').length;
    const { started: p } = await startAsking(vs, 'stdio-fixture', /Allow the MCP server "stdio-fixture"/);
    await vs.dialogs.click('Allow Once');
    await p;
    await waitFor('a started stdio fixture', () => readRecords().filter((r) => r.name === 'stdio-fixture').length > before);

    await vs.runCommand('workbench.mcp.stopServer', id('stdio-fixture'));
    const count = readRecords().length;
    const { started: q } = await startAsking(vs, 'stdio-fixture', /Allow the MCP server "stdio-fixture"/);
    await vs.dialogs.cancel();
    await q;
    await new Promise((r) => setTimeout(r, 1000));
    assert.equal(readRecords().length, count, 'dismissing the modal delivers nothing');
  });

  test('a server of the user servers file is served too', async () => {
    await writeUserFile(vs, 'user-fixture');
    const { started: p } = await startAsking(vs, 'user-fixture', /Allow the MCP server "user-fixture"/);
    await vs.dialogs.click('Allow Once');
    await p;
    const rec = await waitFor('the user fixture record', () => readRecords().find((r) => r.name === 'user-fixture'));
    assert.equal(rec.envTokenSha256, sha(STDIO_V2));
  });

  test('"Move Server to MCP Tokens" moves an entry with its comments in one edit', async () => {
    const ok = await vs.runCommand('mcpTokens.moveServerToTokenFile', { uri: { $file: '.vscode/mcp.json' }, serverName: 'to-move' });
    assert.equal(ok, true);
    const source = await vs.driver.read('.vscode/mcp.json');
    const target = await vs.driver.read('.vscode/mcp.tokens.json');
    assert.doesNotMatch(source, /to-move/);
    assert.match(source, /"stays"/);
    assert.match(target, /\/\/ moved by the test\n\s*"to-move": \{ "command": "echo", "args": \["\$<TOKEN:bearer:e2e-move>"\] \} \/\/ trailing/);
    await vs.runCommand('mcpTokens.refreshServers');
    const rows = await rowsWith(vs, 'to-move');
    assert.ok(rows.some((r) => r.label === 'to-move'), 'the moved server is served by MCP Tokens');
  });

  test('restartOnTokenChange "ask": a notification offers the restart', async () => {
    await vs.driver.config('mcpTokens', 'servers.restartOnTokenChange', 'ask');
    const before = http.requests.length;
    expectedBearer = sha(HTTP_V1);
    await vs.runCommand('mcpTokens.rotateToken', { namespace: 'bearer', name: 'e2e-http', value: HTTP_V1 });
    const text = await vs.notifications.waitFor(/changed\. Restart the MCP server/);
    assert.match(text, /\$<TOKEN:bearer:e2e-http>/);
    assert.match(text, /"http-fixture"/);
    await vs.notifications.click(/changed\. Restart the MCP server/, 'Restart');
    await waitFor('an HTTP request with the restored bearer', () => http.requests.slice(before).find((r) => r.accepted && r.bearerSha256 === sha(HTTP_V1)));
    await vs.driver.config('mcpTokens', 'servers.restartOnTokenChange', 'always');
  });

  test('deleting a token stops the servers that were started with it', async () => {
    // Running with $<TOKEN:bearer:e2e-stdio> now: cli-fixture and user-fixture (stdio-fixture was
    // stopped by the revocation test and not started again).
    const exits = (name: string) => readExits().filter((r) => r.name === name).length;
    const before = { cli: exits('cli-fixture'), user: exits('user-fixture') };
    const starts = readRecords().length;
    assert.equal(await vs.runCommand('mcpTokens.deleteToken', { namespace: 'bearer', name: 'e2e-stdio', force: true }), true);
    await waitFor('the fixtures using the token to stop', () => exits('cli-fixture') > before.cli && exits('user-fixture') > before.user);
    await new Promise((r) => setTimeout(r, 1500));
    assert.equal(readRecords().length, starts, 'nothing was started again');
    assert.equal(await vs.dialogs.isOpen(), false, 'a stop does not ask for the missing token');
  });
});

describe('MCP servers with tokens, untrusted workspace', () => {
  let vs: VSCode;
  let http: Http;

  before(async () => {
    const { startHttpFixture } = await import('../fixtures/mcp-servers/http-server.mjs');
    http = await startHttpFixture({ recordPath: records, name: 'http-untrusted' });
    vs = await launch({ name: 'runtime-untrusted', trust: 'untrusted', workspace: workspace(http.url), settings: { 'chat.mcp.autostart': 'never' } });
    await vs.runCommand('mcpTokens.setToken', { namespace: 'bearer', name: 'e2e-stdio', type: 'bearer', value: UNTRUSTED_V });
    await vs.runCommand('mcpTokens.setToken', { namespace: 'bearer', name: 'e2e-http', type: 'bearer', value: UNTRUSTED_V });
  });

  after(async () => {
    await vs?.dispose();
    await http?.close();
    if (vs) await vs.assertNoPlaintext(ALL);
  });

  test('no workspace-defined server is served and no value is delivered', async () => {
    assert.equal((await vs.driver.ping()).isTrusted, false);
    const before = readRecords().length;
    const p = start(vs, 'stdio-fixture');
    // VS Code may itself ask to trust the workspace for an extension's servers: refuse.
    if (await vs.dialogs.isOpen()) await vs.dialogs.cancel();
    await p;
    const q = start(vs, 'http-fixture');
    if (await vs.dialogs.isOpen()) await vs.dialogs.cancel();
    await q;
    await new Promise((r) => setTimeout(r, 3000));
    assert.equal(readRecords().length, before, 'no fixture was started');
    assert.equal(http.requests.length, 0, 'no HTTP request reached the server');
    await vs.runCommand('mcpTokens.refreshServers');
    await vs.openActivity('MCP Tokens');
    const rows = await rowsWith(vs, 'stdio-fixture');
    await vs.screenshot('untrusted-servers');
    const row = rows.find((r) => r.label === 'stdio-fixture');
    assert.ok(row, `rows: ${rows.map((r) => r.label).join(', ')}`);
    assert.match(row.description, /not trusted/);
    const audit = await vs.runCommand<{ outcome: string }[]>('mcpTokens.showAuditLog', { kind: 'launch' });
    assert.ok(audit.every((e) => e.outcome !== 'ok'));
  });

  test('a user-file server in an untrusted workspace: VS Code itself gates extension servers on trust', async () => {
    // VS Code 1.139 registers every extension-provided collection with workspace scope and asks for
    // workspace trust before starting one of its servers in Restricted Mode; refusing starts nothing.
    await writeUserFile(vs, 'user-fixture');
    const count = readRecords().length;
    const p = start(vs, 'user-fixture');
    await new Promise((r) => setTimeout(r, 3000));
    await vs.screenshot('untrusted-user-server');
    while (await vs.dialogs.isOpen()) await vs.dialogs.cancel();
    await p;
    await new Promise((r) => setTimeout(r, 1000));
    assert.equal(readRecords().length, count, 'nothing was started without workspace trust');
  });
});
