/**
 * The universal package (no native keyring module) in a real VS Code: SecretStorage works; the
 * Backends health says the OS keyring needs the package of this platform; choosing the keyring in
 * `mcpTokens.backend.default` warns at once with that message.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { REPO_ROOT, launch, testSecret, type VSCode } from './harness';

interface Health {
  backend: string;
  available: boolean;
  cause?: string;
  fix?: string;
}

const scratch = mkdtempSync(join(tmpdir(), 'mcp-tokens-universal-e2e-'));
const value = testSecret('universal');
let vs: VSCode;

before(async () => {
  // Its own build of the universal package (the e2e step builds only this machine's).
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'scripts/package.ts', '--target', 'universal'], { cwd: REPO_ROOT, encoding: 'utf8' });
  assert.equal(r.status, 0, `${r.stdout}\n${r.stderr}`);
  const vsix = join(scratch, 'mcp-token-manager-universal.vsix');
  copyFileSync(join(REPO_ROOT, 'dist', 'mcp-token-manager-universal.vsix'), vsix);
  vs = await launch({ name: 'universal', vsix });
});
after(async () => {
  await vs?.dispose();
  await vs?.assertNoPlaintext([value]);
  rmSync(scratch, { recursive: true, force: true });
});

test('SecretStorage works in the universal package', async () => {
  await vs.runCommand('mcpTokens.setToken', { namespace: 'bearer', name: 'universal', type: 'bearer', value });
  const list = await vs.runCommand<{ name: string; backend: string }[]>('mcpTokens.listTokens', { noUi: true });
  assert.deepEqual(list.map((t) => [t.name, t.backend]), [['universal', 'secretStorage']]);
});

test('the keyring health says the package has no keyring module and which package to install', async () => {
  const health = await vs.runCommand<Health[]>('mcpTokens.checkBackends', { quiet: true });
  const keyring = health.find((h) => h.backend === 'keyring');
  assert.ok(keyring);
  assert.equal(keyring.available, false);
  assert.match(keyring.cause ?? '', /universal package of MCP Token Manager: it carries no native keyring module/);
  assert.match(keyring.fix ?? '', /Install the package built for linux-x64 \(mcp-token-manager-linux-x64\.vsix\)/);
  assert.equal(health.find((h) => h.backend === 'secretStorage')?.available, true);
});

test('choosing the keyring in mcpTokens.backend.default warns at once', async () => {
  await vs.driver.config('mcpTokens', 'backend.default', 'keyring');
  const text = await vs.notifications.waitFor(/now chooses OS keyring, which cannot be used here/);
  assert.match(text, /universal package/);
  await vs.screenshot('keyring-chosen-warning');
});
