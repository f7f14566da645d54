/**
 * The OS keyring in the real VS Code: gnome-keyring (the Secret Service) on a D-Bus session bus of
 * this test's own, with Debian's python3-keyring standing in for mcp-cli. Tokens mcp-cli stored before
 * VS Code starts (keyring entries in its layout, and its registry ~/.chuk_oauth/token_registry.json)
 * appear in the Tokens view without any command, and resolve to their value.
 *
 * Everything this test starts stops by itself: the bus runs under `timeout`, and the keyring daemon
 * is stopped by its bus name at the end.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { launch, testSecret, type VSCode } from './harness';

const FROM_MCP_CLI = testSecret('from-mcp-cli');
const API_KEY = testSecret('mcp-cli-api-key');
const scratch = mkdtempSync(join(tmpdir(), 'mcp-tokens-keyring-e2e-'));
let bus: ChildProcess | undefined;
let busEnv: Record<string, string> = {};
let vs: VSCode;

/** Starts a session bus with an unlocked gnome-keyring; resolves to the bus address. */
async function startSecretService(): Promise<string> {
  const home = join(scratch, 'keyring-home');
  const run = join(home, 'run');
  mkdirSync(join(home, 'data'), { recursive: true });
  mkdirSync(run, { recursive: true, mode: 0o700 });
  busEnv = { HOME: home, XDG_DATA_HOME: join(home, 'data'), XDG_RUNTIME_DIR: run, PATH: process.env.PATH ?? '/usr/bin:/bin' };
  const script = 'echo "$DBUS_SESSION_BUS_ADDRESS"; echo -n "keyring-e2e-password" | gnome-keyring-daemon --unlock --components=secrets >/dev/null; echo ready; exec sleep 1200';
  bus = spawn('timeout', ['1300', 'dbus-run-session', '--', 'bash', '-c', script], { env: busEnv, detached: true, stdio: ['ignore', 'pipe', 'ignore'] });
  bus.unref();
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error('the Secret Service did not start')), 20_000);
    bus!.stdout!.on('data', (c) => {
      out += c;
      const lines = out.split('\n');
      if (lines.includes('ready')) {
        clearTimeout(timer);
        resolve(lines[0].trim());
      }
    });
  });
}

/** Debian's python3 with python3-keyring on the test's bus; values come in through `vars`, never in the code (or an error). */
function python(code: string, vars: Record<string, string> = {}): string {
  return execFileSync('/usr/bin/python3', ['-c', code], { encoding: 'utf8', env: { ...busEnv, ...vars }, timeout: 30_000 }).trim();
}

before(async () => {
  const address = await startSecretService();
  busEnv.DBUS_SESSION_BUS_ADDRESS = address;
  // mcp-cli's side, before VS Code starts: two entries in its StoredToken layout…
  python(
    `
import json, keyring, os
keyring.set_password("mcp-cli", "bearer:from-mcp-cli", json.dumps({"token_type": "bearer", "name": "from-mcp-cli", "data": {"token": os.environ["V1"]}, "metadata": {"namespace": "bearer"}}))
keyring.set_password("mcp-cli", "api-key:anthropic", json.dumps({"token_type": "api_key", "name": "anthropic", "data": {"provider": "anthropic", "key": os.environ["V2"]}, "metadata": {"namespace": "api-key"}}))
`,
    { V1: FROM_MCP_CLI, V2: API_KEY },
  );
  vs = await launch({
    name: 'keyring',
    settings: { 'mcpTokens.backend.default': 'keyring' },
    env: { DBUS_SESSION_BUS_ADDRESS: busEnv.DBUS_SESSION_BUS_ADDRESS },
    // …and its registry, in the HOME code-server runs with.
    beforeStart: ({ home }) => {
      mkdirSync(join(home, '.chuk_oauth'), { recursive: true });
      const now = Date.now() / 1000;
      writeFileSync(
        join(home, '.chuk_oauth', 'token_registry.json'),
        JSON.stringify({
          'bearer:from-mcp-cli': { name: 'from-mcp-cli', type: 'bearer', namespace: 'bearer', registered_at: now, metadata: {} },
          'api-key:anthropic': { name: 'anthropic', type: 'api_key', namespace: 'api-key', registered_at: now, metadata: { provider: 'anthropic' } },
        }),
        { mode: 0o600 },
      );
    },
  });
});

after(async () => {
  await vs?.dispose();
  await vs?.assertNoPlaintext([FROM_MCP_CLI, API_KEY]);
  try {
    const reply = execFileSync(
      'dbus-send',
      ['--session', '--print-reply', '--dest=org.freedesktop.DBus', '/', 'org.freedesktop.DBus.GetConnectionUnixProcessID', 'string:org.freedesktop.secrets'],
      { env: busEnv, encoding: 'utf8', timeout: 5000 },
    );
    const pid = Number(/uint32 (\d+)/.exec(reply)?.[1]);
    if (pid) process.kill(pid);
  } catch {
    /* already gone */
  }
  if (bus?.pid) {
    try {
      process.kill(-bus.pid, 'SIGTERM');
    } catch {
      /* already gone */
    }
  }
  if (!process.env.MCP_TOKENS_E2E_KEEP) rmSync(scratch, { recursive: true, force: true });
});

test('tokens mcp-cli stored in the keyring before VS Code started are in the Tokens view without any command', async () => {
  await vs.openActivity('MCP Tokens');
  const until = Date.now() + 20_000;
  let rows: { label: string; description: string }[] = [];
  while (Date.now() < until) {
    rows = await vs.sideBarRows('Tokens');
    if (rows.some((r) => r.label === 'from-mcp-cli') && rows.some((r) => r.label === 'anthropic')) break;
    await new Promise((r) => setTimeout(r, 250));
  }
  assert.ok(rows.some((r) => r.label === 'from-mcp-cli'), `rows: ${rows.map((r) => r.label).join(', ')}`);
  assert.ok(rows.some((r) => r.label === 'anthropic'));
  await vs.screenshot('keyring-tokens');
  const list = await vs.runCommand<{ namespace: string; name: string; backend: string }[]>('mcpTokens.listTokens', { noUi: true });
  assert.deepEqual(list.filter((t) => t.backend === 'keyring').map((t) => `${t.namespace}:${t.name}`).sort(), ['api-key:anthropic', 'bearer:from-mcp-cli']);
});

test('their values resolve from the keyring (copied after the confirmation)', async () => {
  for (const [key, value] of [[{ namespace: 'bearer', name: 'from-mcp-cli' }, FROM_MCP_CLI], [{ namespace: 'api-key', name: 'anthropic' }, API_KEY]] as const) {
    const copied = await vs.dialogs.answer(vs.runCommand<boolean>('mcpTokens.copyToken', key), new RegExp(`Copy the value of ${key.namespace}:${key.name} to the clipboard\\?`), 'Copy Value');
    assert.equal(copied, true);
    assert.equal(await vs.readClipboard(), value);
  }
});
