/**
 * `npm run bench` (launcher part): what `mcp-tokens run` adds to a server's start. The time from
 * spawn to the server's `initialize` answer (the SDK's stdio client connecting, as Claude Desktop
 * does), for the fixture stdio server started directly and through the launcher (the production
 * bundle, as the .vsix ships it): without references, and with one Vault reference resolved against
 * the Vault fake on 127.0.0.1 (one HTTP round trip). Cases interleaved, median of 30 each. Target of
 * issue 12: at most 150 ms more than the direct spawn. Prints a table and PASS/FAIL; exits non-zero
 * on a FAIL.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { FakeVault, ROOT_TOKEN } from '../fixtures/vault/server';
import { buildLauncher, launcherEnv, STDIO_FIXTURE, tempDir } from '../launcher/support';

const SAMPLES = 30;
const TARGET_MS = 150;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

/** ms from spawn to the initialize answer. */
async function startOnce(command: string, args: string[], env: Record<string, string>): Promise<number> {
  const t = performance.now();
  const transport = new StdioClientTransport({ command, args, env, stderr: 'ignore' });
  const client = new Client({ name: 'bench', version: '1.0.0' });
  await client.connect(transport);
  const ms = performance.now() - t;
  await client.close();
  return ms;
}

async function main(): Promise<void> {
  const tmp = tempDir('mcp-launcher-bench-');
  const vault = new FakeVault({ mounts: ['secret'] });
  await vault.start();
  vault.put('secret', 'mcp-tokens/bench/api', { value: 'bench-value-0123456789', type: 'api-key' });
  const { cli, remove } = await buildLauncher({ production: true });
  try {
    const userDir = join(tmp.path, 'User');
    mkdirSync(userDir, { recursive: true });
    writeFileSync(join(userDir, 'settings.json'), JSON.stringify({ 'mcpTokens.backend.namespaces': { bench: 'vault' } }));
    const env = launcherEnv({ channel: join(tmp.path, 'channel'), audit: join(tmp.path, 'audit.jsonl'), userDir, record: '' }, { HOME: tmp.path, VAULT_ADDR: vault.url, VAULT_TOKEN: ROOT_TOKEN });
    delete env.MCP_FIXTURE_RECORD;
    const cases = {
      direct: () => startOnce(process.execPath, [STDIO_FIXTURE], env),
      launcher: () => startOnce(process.execPath, [cli, 'run', '--', process.execPath, STDIO_FIXTURE], env),
      vault: () => startOnce(process.execPath, [cli, 'run', '--', process.execPath, STDIO_FIXTURE, '--token', '$<TOKEN:bench:api>'], env),
    };
    const times: Record<keyof typeof cases, number[]> = { direct: [], launcher: [], vault: [] };
    for (const c of Object.keys(cases) as (keyof typeof cases)[]) await cases[c](); // warm-up (file cache)
    for (let i = 0; i < SAMPLES; i++) for (const c of Object.keys(cases) as (keyof typeof cases)[]) times[c].push(await cases[c]());
    const direct = median(times.direct);
    const rows = [
      ['direct spawn', direct, 0],
      ['mcp-tokens run, no reference', median(times.launcher), median(times.launcher) - direct],
      ['mcp-tokens run, 1 Vault reference', median(times.vault), median(times.vault) - direct],
    ] as const;
    console.log(`\nLauncher overhead: spawn → initialize answer, median of ${SAMPLES} (load average ${(await import('node:os')).loadavg()[0].toFixed(1)})`);
    console.log('| Case | Median ms | Added ms |\n| --- | --- | --- |');
    for (const [name, ms, added] of rows) console.log(`| ${name} | ${ms.toFixed(0)} | ${added.toFixed(0)} |`);
    const worst = Math.max(...rows.map((r) => r[2]));
    const pass = worst <= TARGET_MS;
    console.log(`${pass ? 'PASS' : 'FAIL'}: the launcher adds at most ${worst.toFixed(0)} ms (target ≤ ${TARGET_MS} ms)`);
    if (!pass) process.exitCode = 1;
  } finally {
    remove();
    await vault.stop();
    tmp.remove();
  }
}

void main();
