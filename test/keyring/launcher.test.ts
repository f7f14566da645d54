/**
 * `mcp-tokens` against a real Secret Service (gnome-keyring under dbus-run-session, test/keyring/run.sh),
 * with Debian's python3-keyring standing in for mcp-cli, through the built launcher bundle (whose
 * keyring native module loads from beside it, as the extension's does):
 *  - `run`: the SDK's stdio client (standing in for Claude Desktop) starts the fixture MCP server
 *    through the launcher; the server receives a token mcp-cli stored and one `mcp-tokens set` stored
 *    (which mcp-cli's library reads back); values never appear in the launcher's output.
 *  - `proxy`: the SDK client over stdio → the proxy → the OAuth-protected SDK Streamable HTTP server of
 *    test/oauth/fixtures (127.0.0.1): the expired mcp-cli OAuth token is refreshed before the first
 *    request and written back in mcp-cli's layout; a tool call succeeds; a 401 after the refresh is a
 *    clear error the client receives.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startTestOAuthServer, type TestOAuthServer } from '../oauth/fixtures/oauthServer';
import { buildLauncher, connectThroughLauncher, launcherEnv, records, runLauncher, STDIO_FIXTURE } from '../launcher/support';
import { CLIENT, mcpCliSignedIn, python, readRegistryFile } from './support';

const sha = (s: string) => createHash('sha256').update(s).digest('hex');
const PY_VALUE = 'py-keyring-VALUE-51aa09e3';
const CLI_VALUE = 'cli-set-VALUE-88d2f1c4';

let cli: string;
let removeBuild: () => void;
const servers: TestOAuthServer[] = [];
let n = 0;

function env(extra: Record<string, string> = {}) {
  n++;
  const base = join(homedir(), 'launcher');
  const d = { channel: join(base, 'no-vscode'), audit: join(base, 'audit.jsonl'), userDir: join(base, 'User'), record: join(base, `record-${n}.jsonl`) };
  mkdirSync(d.userDir, { recursive: true });
  return { d, env: launcherEnv(d, { HOME: homedir(), DBUS_SESSION_BUS_ADDRESS: process.env.DBUS_SESSION_BUS_ADDRESS ?? '', ...extra }) };
}

async function oauthServer(options: Parameters<typeof startTestOAuthServer>[0] = {}) {
  const s = await startTestOAuthServer({
    clients: [{ client_id: CLIENT, redirect_uris: ['http://127.0.0.1/callback'], token_endpoint_auth_method: 'none', grant_types: ['authorization_code', 'refresh_token'] }],
    ...options,
  });
  servers.push(s);
  return s;
}

before(async () => {
  ({ cli, remove: removeBuild } = await buildLauncher());
});
after(async () => {
  for (const s of servers) await s.close();
  removeBuild();
});

describe('mcp-tokens run with the OS keyring (gnome-keyring, python3-keyring as mcp-cli)', () => {
  it('the server receives a token mcp-cli stored and one set with mcp-tokens; mcp-cli reads the latter back', async () => {
    // mcp-cli's layout, written by its library: service mcp-cli, account team:py, a bearer StoredToken, and its registry line.
    python(`
import json, keyring, os, time
keyring.set_password("mcp-cli", "team:py", json.dumps({"token_type": "bearer", "name": "py", "data": {"token": ${JSON.stringify(PY_VALUE)}}, "metadata": {"namespace": "team"}}))
path = os.path.expanduser("~/.chuk_oauth/token_registry.json")
os.makedirs(os.path.dirname(path), exist_ok=True)
reg = json.load(open(path)) if os.path.exists(path) else {}
reg["team:py"] = {"name": "py", "type": "bearer", "namespace": "team", "registered_at": time.time(), "metadata": {}}
with open(path, "w") as f: json.dump(reg, f)
`);
    const { d, env: e } = env();
    const set = await runLauncher(cli, ['set', 'team:cli', '--stdin'], e, CLI_VALUE);
    assert.equal(set.code, 0, set.stderr);
    assert.match(set.stderr, /stored \$<TOKEN:team:cli> in the OS keyring/);
    const back = JSON.parse(python("import keyring; print(keyring.get_password('mcp-cli', 'team:cli'))"));
    assert.equal(back.data.token, CLI_VALUE, "mcp-cli's library reads the value mcp-tokens set");
    assert.equal(readRegistryFile()['team:cli']?.namespace, 'team', "and mcp-cli's registry lists it");

    const list = await runLauncher(cli, ['list'], e);
    assert.match(list.stdout, /\$<TOKEN:team:cli> +generic +keyring/);
    assert.match(list.stdout, /\$<TOKEN:team:py> +bearer +keyring/);

    const c = await connectThroughLauncher(cli, ['run', '--', process.execPath, STDIO_FIXTURE, '--token', '$<TOKEN:team:py>'], { ...e, FIXTURE_TOKEN: '${TOKEN:team:cli}' });
    try {
      const info = JSON.parse(((await c.client.callTool({ name: 'fixture_info', arguments: {} })).content as Array<{ text: string }>)[0].text);
      assert.equal(info.argTokenSha256, sha(PY_VALUE));
      assert.equal(info.envTokenSha256, sha(CLI_VALUE));
      assert.equal(info.literalReference, false);
    } finally {
      await c.close();
    }
    for (const text of [c.stderr(), set.stderr, set.stdout, list.stdout, list.stderr, readFileSync(d.audit, 'utf8')]) {
      assert.ok(!text.includes(PY_VALUE) && !text.includes(CLI_VALUE), 'no value in the output or the audit log');
    }
    const audit = readFileSync(d.audit, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    assert.deepEqual(audit.filter((a) => a.kind === 'launcher' && a.outcome === 'ok').map((a) => [a.tokens, a.actor.launcher, a.reason]).sort(), [
      [['team:cli'], 'node', '$<TOKEN:team:cli> from keyring'],
      [['team:py'], 'node', '$<TOKEN:team:py> from keyring'],
    ]);
  });

  it('a token the keyring does not have (and no VS Code running) ends it before the server starts', async () => {
    const { d, env: e } = env();
    const r = await runLauncher(cli, ['run', '--', process.execPath, STDIO_FIXTURE, '--token', '$<TOKEN:team:absent>'], e);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /\$<TOKEN:team:absent>: not in the OS keyring, and VS Code is not running with MCP Tokens/);
    assert.deepEqual(records(d.record), [], 'the server never started');
  });
});

describe('mcp-tokens proxy to an OAuth-protected Streamable HTTP server (token in the keyring, by mcp-cli)', () => {
  it('refreshes the expired token first, then the tool call succeeds; the new tokens are written back for mcp-cli', async () => {
    const s = await oauthServer();
    const access = 'at-expired-proxy-1f0a';
    const refresh = 'rt-proxy-4c2b';
    // Expired at the server and in mcp-cli's entry (issued 3700 s ago, valid 3600 s).
    s.refreshTokens.set(refresh, { clientId: CLIENT, scopes: ['mcp:read'], resource: s.mcpUrl, expiresAt: Number.MAX_SAFE_INTEGER });
    mcpCliSignedIn('proxied', access, refresh, true);
    const { env: e } = env();
    const c = await connectThroughLauncher(cli, ['proxy', s.mcpUrl, '--header', 'Authorization: Bearer $<TOKEN:oauth:proxied>'], e);
    let newAccess: string;
    try {
      const tools = await c.client.listTools();
      assert.deepEqual(tools.tools.map((t) => t.name), ['whoami']);
      const result = await c.client.callTool({ name: 'whoami', arguments: {} });
      assert.ok(!result.isError);
      assert.match(JSON.stringify(result.content), new RegExp(CLIENT));
    } finally {
      await c.close();
    }
    assert.equal(s.grants.refresh_token, 1, 'one refresh');
    // (The refresh discovers the authorization server first: an unauthenticated probe of /mcp.)
    const firstMcp = s.requests.findIndex((r) => r.path === '/mcp' && r.authorization);
    const tokenCall = s.requests.findIndex((r) => r.path === '/token');
    assert.ok(tokenCall >= 0 && tokenCall < firstMcp, 'the refresh came before the first MCP request');
    assert.ok(!s.requests.some((r) => r.authorization === `Bearer ${access}`), 'the expired token was never sent');
    newAccess = s.accepted[0];
    assert.ok(newAccess && newAccess !== access);
    assert.ok(s.requests.filter((r) => r.path === '/mcp' && r.authorization).every((r) => r.protocolVersion), 'every MCP request carries MCP-Protocol-Version');
    const entry = JSON.parse(python("import keyring; print(keyring.get_password('mcp-cli', 'oauth:proxied'))"));
    assert.equal(entry.data.access_token, newAccess, "written back in mcp-cli's entry");
    assert.ok(entry.data.refresh_token !== refresh && s.refreshTokens.has(entry.data.refresh_token), 'with the rotated refresh token');
    for (const secret of [access, refresh, newAccess, entry.data.refresh_token as string]) assert.ok(!c.stderr().includes(secret), 'no token in the proxy output');
  });

  it('a 401 after the refresh is a clear error the client receives', async () => {
    // Every access token this server issues is expired at once: the refreshed one is refused too.
    const s = await oauthServer({ accessTtl: 0 });
    const refresh = 'rt-proxy-ttl0-7a3e';
    s.refreshTokens.set(refresh, { clientId: CLIENT, scopes: ['mcp:read'], resource: s.mcpUrl, expiresAt: Number.MAX_SAFE_INTEGER });
    mcpCliSignedIn('refused', 'at-refused-0d9c', refresh, true);
    const { env: e } = env();
    const failure = await connectThroughLauncher(cli, ['proxy', s.mcpUrl, '--header', 'Authorization: Bearer $<TOKEN:oauth:refused>'], e).then(
      async (c) => (await c.close(), undefined),
      (err: Error) => err,
    );
    assert.ok(failure, 'initialize failed');
    assert.match(failure.message, /mcp-tokens proxy: http:\/\/127\.0\.0\.1:\d+ refused the credentials \(401 Unauthorized\) again after a refresh\. Fix: sign in again/);
    assert.ok(s.grants.refresh_token >= 1, 'it refreshed before giving up');
    assert.deepEqual(s.accepted, []);
    for (const t of [...s.accessTokens.keys(), ...s.refreshTokens.keys(), refresh]) assert.ok(!failure.message.includes(t));
  });
});
