/** The command-line client (the conformance suite's client under test) against the local OAuth server. */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { startTestOAuthServer, type TestOAuthServer } from './fixtures/oauthServer';

const ROOT = join(__dirname, '..', '..');
const servers: TestOAuthServer[] = [];
after(async () => {
  for (const s of servers) await s.close();
});

function runCli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'extension/oauth/cli.ts'), ...args], { cwd: ROOT, env: { ...process.env, MCP_CONFORMANCE_CONTEXT: '' } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

test('signs in headlessly, lists the tools and calls one', async () => {
  const s = await startTestOAuthServer();
  servers.push(s);
  const r = await runCli(['--call', 'whoami', s.mcpUrl]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout.trim(), 'whoami');
  assert.equal(s.grants.authorization_code, 1);
  assert.ok(s.accepted.length >= 3, 'initialize, tools/list and tools/call carried the bearer token');
  for (const t of s.accessTokens.keys()) assert.ok(!r.stdout.includes(t) && !r.stderr.includes(t), 'no token in the output');
});

test('a refused sign-in exits 1 with the reason and no secret', async () => {
  const s = await startTestOAuthServer({ metadata: ({ code_challenge_methods_supported: _omit, ...m }) => m });
  servers.push(s);
  const r = await runCli([s.mcpUrl]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /does not advertise PKCE/);
  assert.equal(r.stdout, '');
});

test('MCP-Protocol-Version is sent on every MCP request after initialization', async () => {
  const s = await startTestOAuthServer();
  servers.push(s);
  const r = await runCli(['--call', 'whoami', s.mcpUrl]);
  assert.equal(r.code, 0, r.stderr);
  const mcp = s.requests.filter((q) => q.path === '/mcp');
  const initialized = mcp.findIndex((q) => q.body.method === 'notifications/initialized');
  assert.ok(initialized > 0, 'the client sent notifications/initialized');
  const after = mcp.slice(initialized);
  assert.ok(after.some((q) => q.body.method === 'tools/call'));
  for (const q of after) assert.ok(q.protocolVersion, `${q.method} ${String(q.body.method ?? '')} lacks MCP-Protocol-Version`);
  // The metadata requests of the sign-in carry it too (the SDK's discovery sends it).
  for (const q of s.requests.filter((x) => x.path.startsWith('/.well-known/'))) assert.ok(q.protocolVersion, `${q.path} lacks MCP-Protocol-Version`);
});
