/**
 * The launcher with the Vault backend, against the Vault fake (test/fixtures/vault/server.ts, Vault's
 * KV v2 HTTP API on 127.0.0.1), configured the way the vault CLI and mcp-cli are (VAULT_ADDR,
 * VAULT_TOKEN) plus the user's VS Code settings: `set` writes in the extension's layout, `list` and
 * `get` read it, and the SDK's stdio client starts the fixture server through `mcp-tokens run` with the
 * value; the audit log records the use, never the value. No VS Code, no D-Bus.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { auditEventSchema } from '../../extension/platform/audit';
import { FakeVault, ROOT_TOKEN } from '../fixtures/vault/server';
import { buildLauncher, connectThroughLauncher, launcherEnv, records, runLauncher, STDIO_FIXTURE, tempDir } from './support';

const sha = (s: string) => createHash('sha256').update(s).digest('hex');
const VALUE = 'vault-VALUE-3c9d1e77aa';
const PREFIXED = 'mcp-tokens/team/api';

let cli: string;
let removeBuild: () => void;
let vault: FakeVault;
const tmp = tempDir('mcp-launcher-vault-');
let n = 0;

function env(extra: Record<string, string> = {}) {
  n++;
  const userDir = join(tmp.path, 'User');
  mkdirSync(userDir, { recursive: true });
  // The namespace "team" is pinned to Vault (no keyring lookup); the mount comes from the settings.
  writeFileSync(join(userDir, 'settings.json'), JSON.stringify({ 'mcpTokens.backend.namespaces': { team: 'vault' }, 'mcpTokens.vault.mount': 'kv' }));
  const d = { channel: join(tmp.path, 'no-vscode'), audit: join(tmp.path, 'audit.jsonl'), userDir, record: join(tmp.path, `record-${n}.jsonl`) };
  return { d, env: launcherEnv(d, { HOME: tmp.path, VAULT_ADDR: vault.url, VAULT_TOKEN: ROOT_TOKEN, ...extra }) };
}

before(async () => {
  vault = new FakeVault({ mounts: ['kv'] });
  await vault.start();
  ({ cli, remove: removeBuild } = await buildLauncher());
});
after(async () => {
  await vault.stop();
  removeBuild();
  tmp.remove();
});

describe('mcp-tokens with Vault (fake Vault)', () => {
  it('set --stdin writes the value in the extension layout; list shows metadata; get shows the value only with --show-value', async () => {
    const { env: e } = env();
    const set = await runLauncher(cli, ['set', 'team:api', '--stdin', '--type', 'api-key'], e, `${VALUE}\n`);
    assert.equal(set.code, 0, set.stderr);
    assert.match(set.stderr, /stored \$<TOKEN:team:api> in Vault at http:\/\/127\.0\.0\.1:\d+/);
    assert.ok(vault.paths('kv').includes(PREFIXED), `paths: ${vault.paths('kv').join(', ')}`);
    const stored = vault.versions('kv', PREFIXED).at(-1)!;
    assert.equal(stored.value, VALUE);
    assert.equal(stored.type, 'api-key');

    const list = await runLauncher(cli, ['list'], e);
    assert.equal(list.code, 0, list.stderr);
    assert.match(list.stdout, /\$<TOKEN:team:api> +api-key +vault/);
    assert.ok(!list.stdout.includes(VALUE) && !list.stderr.includes(VALUE));

    const get = await runLauncher(cli, ['get', 'team:api'], e);
    assert.equal(get.code, 0);
    assert.match(get.stdout, /is stored in Vault at .*Add --show-value/);
    assert.ok(!get.stdout.includes(VALUE));

    const show = await runLauncher(cli, ['get', 'team:api', '--show-value'], e);
    assert.equal(show.code, 0, show.stderr);
    assert.equal(show.stdout, `${VALUE}\n`);
    assert.ok(!show.stderr.includes(VALUE));
  });

  it('run: the server started by the SDK client receives the Vault value; the audit log records it without the value', async () => {
    vault.put('kv', PREFIXED, { value: VALUE, type: 'api-key' });
    const { d, env: e } = env({ FIXTURE_TOKEN: 'Bearer ${TOKEN:team:api}' });
    const c = await connectThroughLauncher(cli, ['run', '--', process.execPath, STDIO_FIXTURE, '--token', '$<TOKEN:team:api>'], e);
    try {
      const result = await c.client.callTool({ name: 'fixture_info', arguments: {} });
      const info = JSON.parse((result.content as Array<{ text: string }>)[0].text);
      assert.equal(info.argTokenSha256, sha(VALUE));
      assert.equal(info.envTokenSha256, sha(`Bearer ${VALUE}`));
      assert.equal(info.literalReference, false);
    } finally {
      await c.close();
    }
    assert.ok(!c.stderr().includes(VALUE));
    const text = readFileSync(d.audit, 'utf8');
    assert.ok(!text.includes(VALUE), 'no value in the audit log');
    const entries = text.trim().split('\n').map((l) => auditEventSchema.parse(JSON.parse(l)));
    const used = entries.filter((x) => x.kind === 'launcher' && x.outcome === 'ok' && x.actor.server?.includes(STDIO_FIXTURE));
    assert.equal(used.length, 1);
    assert.deepEqual(used[0].tokens, ['team:api']);
    assert.match(used[0].actor.server ?? '', /^mcp-tokens run: .* --token \$<TOKEN:team:api>$/);
    assert.equal(used[0].actor.launcher, 'node');
    assert.equal(used[0].reason, '$<TOKEN:team:api> from vault');
  });

  it('a token Vault does not have ends the launch before the server starts (and is audited as missing)', async () => {
    const { d, env: e } = env();
    const r = await runLauncher(cli, ['run', '--', process.execPath, STDIO_FIXTURE, '--token', '$<TOKEN:team:absent>'], e);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /\$<TOKEN:team:absent> has no value: looked in Vault at http:\/\/127\.0\.0\.1:\d+\. Fix: store it/);
    assert.deepEqual(records(d.record), [], 'the server never started');
    const last = JSON.parse(readFileSync(d.audit, 'utf8').trim().split('\n').at(-1)!);
    assert.deepEqual(last.tokens, ['team:absent']);
    assert.equal(last.outcome, 'failed');
    assert.equal(last.reason, '$<TOKEN:team:absent>: missing');
  });

  it('a refused Vault token is reported with the cause, not a value, and nothing starts', async () => {
    const { d, env: e } = env({ VAULT_TOKEN: 'not-a-valid-vault-token' });
    const r = await runLauncher(cli, ['run', '--', process.execPath, STDIO_FIXTURE, '--token', '$<TOKEN:team:api>'], e);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /403 permission denied/);
    assert.ok(!r.stderr.includes(VALUE));
    assert.deepEqual(records(d.record), []);
  });
});
