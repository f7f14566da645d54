/**
 * A hostile second extension (test/e2e/hostile), installed beside ours in the real VS Code, calls
 * every command that takes arguments with crafted ones: copy, export (also of hidden OAuth refresh
 * tokens), a move to a Vault it controls after pointing the setting at it, a sign-in that would send
 * a stored token as client secret to its authorization server, Vault credential replacement, and
 * every destroying command with `force`/`overwrite`, then tries to empty Recently Deleted; it also
 * points Verify Token at its own server (as the generic service, and by repointing a token's base URL).
 *
 * The user cancels every modal dialog that appears. Then: no value reached the hostile extension
 * (return values, error messages, clipboard), no export file exists, the Vault it controls received no
 * write, its HTTP server received no request at all, every dialog named what would leave and where,
 * and every token's original value can still be restored (a replaced value from its History, a deleted
 * token from Recently Deleted).
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { FakeVault } from '../fixtures/vault/server';
import { encryptExport } from '../../extension/backends/exportFormat';
import { launch, testExtensionVsix, testSecret, type VSCode } from './harness';
import type { DialogState } from './harness/ui';

const TOKENS = {
  'bearer:github': testSecret('github'),
  'api-key:openai': testSecret('openai'),
  'generic:deploy': testSecret('deploy'),
};
const HOSTILE_VALUE = testSecret('hostile-value');
const ENV_VALUE = testSecret('hostile-env');
const USER_VAULT_TOKEN = testSecret('user-vault-token');
const PASSPHRASE = 'hostile passphrase 1234';
const values = Object.values(TOKENS);

interface Attack {
  name: string;
  command: string;
  result?: unknown;
  error?: string;
  clipboard: string;
}
interface Deleted {
  id: string;
  namespace: string;
  name: string;
  reason: string;
  deletedAt: string;
}

const scratch = mkdtempSync(join(tmpdir(), 'mcp-tokens-hostile-'));
const exportFile = join(scratch, 'stolen.mcptokens');
let vs: VSCode;
let vault: FakeVault;
let server: Server;
const received: { method?: string; url?: string; body: string; headers: string }[] = [];
const dialogs: DialogState[] = [];
let attacks: Attack[] = [];

before(async () => {
  vault = new FakeVault();
  await vault.start();
  // The user's environment holds a Vault token (VAULT_TOKEN); the Vault the attacker controls would accept it.
  vault.addToken(USER_VAULT_TOKEN, { paths: { '*': ['create', 'read', 'update', 'delete', 'list'] }, ttl: 3600 });
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      received.push({ method: req.method, url: req.url, body, headers: JSON.stringify(req.headers) });
      res.writeHead(404).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const attackerUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  // What the attacker brings: a .env with its value, an export whose OAuth metadata points its
  // client secret at the user's GitHub token, and an export whose key derivation would cost minutes.
  const envFile = join(scratch, 'hostile.env');
  writeFileSync(envFile, `GITHUB_TOKEN=${ENV_VALUE}\n`);
  const craftedExport = join(scratch, 'crafted.mcptokens');
  writeFileSync(
    craftedExport,
    await encryptExport(
      [{ namespace: 'oauth', name: 'evil', type: 'oauth', value: HOSTILE_VALUE, oauth: { issuer: attackerUrl, serverUrl: `${attackerUrl}/mcp`, clientId: 'x', clientSecretRef: '$<TOKEN:bearer:github>' } }],
      PASSPHRASE,
    ),
  );
  // A decoy of the user's token travels in the file so the reference "is in the file"; importing with
  // `existing: 'skip'` would keep the user's real token under that name.
  const decoyExport = join(scratch, 'decoy.mcptokens');
  writeFileSync(
    decoyExport,
    await encryptExport(
      [
        { namespace: 'bearer', name: 'github', type: 'bearer', value: HOSTILE_VALUE },
        { namespace: 'oauth', name: 'evil2', type: 'oauth', value: HOSTILE_VALUE, oauth: { issuer: attackerUrl, clientId: 'x', clientSecretRef: '$<TOKEN:bearer:github>' } },
      ],
      PASSPHRASE,
    ),
  );
  const costly = JSON.parse(readFileSync(craftedExport, 'utf8'));
  Object.assign(costly.kdf, { N: 2 ** 20, r: 32, p: 16 });
  const costlyExport = join(scratch, 'costly.mcptokens');
  writeFileSync(costlyExport, JSON.stringify(costly));

  const hostileFile = join(scratch, 'hostile.json');
  writeFileSync(
    hostileFile,
    JSON.stringify({ exportFile, passphrase: PASSPHRASE, vaultUrl: vault.url, mcpUrl: `${attackerUrl}/mcp`, hostileValue: HOSTILE_VALUE, envFile, craftedExport, decoyExport, costlyExport }),
  );
  vs = await launch({
    name: 'hostile-extension',
    extraVsix: [testExtensionVsix('hostile')],
    env: { MCP_TOKENS_E2E_HOSTILE_FILE: hostileFile, VAULT_TOKEN: USER_VAULT_TOKEN },
  });
  for (const [id, value] of Object.entries(TOKENS)) {
    const [namespace, name] = id.split(':');
    await vs.runCommand('mcpTokens.setToken', { namespace, name, type: namespace === 'generic' ? 'generic' : namespace, value });
  }
});

after(async () => {
  await vs?.dispose();
  await vs?.assertNoPlaintext([...values, USER_VAULT_TOKEN]);
  await vault?.stop();
  await new Promise((r) => server?.close(r));
  if (!process.env.MCP_TOKENS_E2E_KEEP) rmSync(scratch, { recursive: true, force: true });
});

/** Runs `p` while cancelling every modal dialog (and closing every quick input) that appears. */
async function cancellingEverything<T>(p: Promise<T>): Promise<T> {
  let done = false;
  const settled = p.finally(() => (done = true));
  while (!done) {
    if (await vs.dialogs.isOpen()) {
      // The next attack may open its dialog at once: wait for this dialog's element to go, not for "no dialog".
      const shown = await vs.dialogs.box.first().elementHandle();
      dialogs.push(await vs.dialogs.state());
      await vs.page.keyboard.press('Escape');
      await shown?.waitForElementState('hidden', { timeout: 15_000 });
    } else if (await vs.quickInput.isOpen()) {
      await vs.quickInput.close();
    } else {
      await new Promise((r) => setTimeout(r, 150));
    }
  }
  return settled;
}

test('with every dialog cancelled, a hostile extension obtains no value and reaches no place of its own', async () => {
  const report = await cancellingEverything(vs.runCommand<{ listed: unknown[]; trashSeen: number; log: Attack[] }>('hostile.attack'));
  attacks = report.log;
  console.log(`[hostile] ${attacks.length} attacks, ${dialogs.length} dialogs cancelled, ${received.length} requests to its server, ${vault.requests.length} to its Vault`);
  for (const a of attacks) console.log(`[hostile] ${a.name}: ${a.error ? `error: ${a.error.slice(0, 160)}` : JSON.stringify(a.result).slice(0, 160)}`);
  assert.equal(report.listed.length, 3, 'metadata is readable (it is not secret)');

  const seen = JSON.stringify(attacks);
  for (const v of values) assert.ok(!seen.includes(v), 'no value in any result, error or clipboard the extension saw');
  assert.ok(attacks.every((a) => a.clipboard === 'hostile-clipboard-marker'), 'nothing was copied to the clipboard');
  assert.ok(!existsSync(exportFile), 'no export file was written');
  // The changed Vault address was never confirmed: not even a health check (or the Vault token) went there.
  assert.deepEqual(vault.requests, [], 'its Vault received no request');
  assert.match(attacks.find((a) => a.name === 'move to its Vault')!.error ?? '', /is not confirmed in this VS Code: nothing is sent to it/);
  assert.equal(received.length, 0, `its server received no request (no client secret, no metadata fetch): ${received.map((r) => `${r.method} ${r.url}`).join(', ')}`);

  // Each release asked, naming what and where; each irrecoverable change asked.
  const asked = (re: RegExp) => dialogs.some((d) => re.test(`${d.message}\n${d.detail}`));
  assert.ok(asked(/Copy the value of bearer:github to the clipboard\?/), 'copy asked');
  assert.ok(asked(new RegExp(`Export the values of 3 tokens .* to the file ${exportFile.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\?`)), 'export asked, naming the file');
  assert.ok(asked(new RegExp(`Send your Vault credentials and the values of tokens kept in Vault to HashiCorp Vault at ${vault.url.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`)), 'confirming its Vault asked, naming the address');
  assert.ok(asked(/Send the value of bearer:github \(as OAuth client secret\) to the authorization server of 127\.0\.0\.1:\d+\?/), 'sign-in asked, naming the host');
  assert.ok(asked(/Replace the stored Vault token\?/), 'Vault token replacement asked');
  assert.ok(asked(/Empty Recently Deleted|Delete permanently/i), 'permanent deletion asked');
  const copies = attacks.filter((a) => a.command === 'mcpTokens.copyToken');
  assert.ok(copies.every((a) => a.result === false || a.error), 'no copy succeeded');
  assert.match(attacks.find((a) => a.name === 'copy with flags')!.error ?? '', /invalid arguments/);
  assert.match(attacks.find((a) => a.name === 'export hidden refresh tokens')!.error ?? '', /no token oauth-refresh:e2e is stored/);
  assert.match(attacks.find((a) => a.name === 'import crafted export')!.error ?? '', /client secret refers to bearer:github, which the file does not contain/);
  assert.match(attacks.find((a) => a.name === 'import costly export')!.error ?? '', /kdf\.N: Too big/);
  assert.match(attacks.find((a) => a.name === 'import decoy export, skipping the decoy')!.error ?? '', /client secret of oauth:evil2 refers to a token this import would not write/);
  for (const name of ['write a refresh token', 'delete a refresh token', 'import .env into an internal namespace']) assert.match(attacks.find((a) => a.name === name)!.error ?? '', /internal namespace/, name);
  assert.ok(asked(/Replace the token bearer:github\?/), 'a sign-in over an existing token asked');
  // Verify: a host the user never confirmed is asked for, by name, every time; cancelled, nothing went there (received is empty above).
  assert.ok(asked(/Send the value of bearer:github to http:\/\/127\.0\.0\.1:\d+\?/), 'verify to its host asked, naming it');
  assert.ok(asked(/Send the value of api-key:openai to http:\/\/127\.0\.0\.1:\d+ \(OpenAI\)\?/), 'verify of the repointed token asked, naming the host');
  assert.match(attacks.find((a) => a.name === 'verify with flags')!.error ?? '', /invalid arguments/);
  for (const name of ['verify to its host', 'verify the repointed token']) assert.match(attacks.find((a) => a.name === name)!.error ?? '', /cancelled/, name);
  assert.deepEqual(attacks.find((a) => a.name === 'verify all')!.result, { ok: 0, failed: 0, skipped: 2, declined: 1 });
});

test('every token the hostile extension replaced or deleted is restored with its original value (History, Recently Deleted)', async () => {
  const deleted = await vs.runCommand<Deleted[]>('mcpTokens.listRecentlyDeleted');
  assert.ok(deleted.length >= 1, `Recently Deleted holds the deleted tokens (${deleted.length})`);
  assert.ok(deleted.every((d) => !JSON.stringify(d).includes(HOSTILE_VALUE)), 'metadata only');
  assert.equal((await vs.driver.config('mcpTokens', 'recentlyDeleted.days'))?.globalValue, 0, 'the hostile extension could write the setting…');
  type Listed = { namespace: string; name: string; history?: { id: string; replacedAt: string }[] };
  const versionsOf = async (namespace: string, name: string) =>
    ((await vs.runCommand<Listed[]>('mcpTokens.listTokens', { noUi: true })).find((t) => t.namespace === namespace && t.name === name)?.history ?? [])
      .slice()
      .sort((a, b) => a.replacedAt.localeCompare(b.replacedAt));
  /** Replaced values are versions in the token's History (oldest first: the first one replaced is the user's). */
  const fromHistory = async (namespace: string, name: string, original: string): Promise<boolean> => {
    for (const v of await versionsOf(namespace, name)) {
      await vs.runCommand('mcpTokens.restoreTokenVersion', { namespace, name, id: v.id });
      if ((await copyValue({ namespace, name })) === original) return true;
    }
    return false;
  };
  const restoredIds = new Set<string>();
  for (const [id, original] of Object.entries(TOKENS)) {
    const [namespace, name] = id.split(':');
    let restored = (await vs.runCommand<Listed[]>('mcpTokens.listTokens', { noUi: true })).some((t) => t.namespace === namespace && t.name === name) && (await fromHistory(namespace, name, original));
    // A deleted token is in Recently Deleted (with its History); oldest first.
    const candidates = deleted.filter((d) => d.namespace === namespace && d.name === name).sort((a, b) => a.deletedAt.localeCompare(b.deletedAt));
    for (const c of candidates) {
      if (restored) break;
      await vs.runCommand('mcpTokens.restoreDeletedToken', { id: c.id });
      restoredIds.add(c.id);
      restored = (await copyValue({ namespace, name })) === original || (await fromHistory(namespace, name, original));
    }
    assert.ok(restored, `${id} is restorable (${candidates.length} Recently Deleted entries)`);
  }
  // …but a retention below one day is not honoured: nothing was purged (every entry is still there, but those restored).
  const left = new Set((await vs.runCommand<Deleted[]>('mcpTokens.listRecentlyDeleted')).map((d) => d.id));
  assert.deepEqual(deleted.filter((d) => !restoredIds.has(d.id) && !left.has(d.id)), [], 'no entry was purged');
});

async function copyValue(key: { namespace: string; name: string }): Promise<string> {
  const p = vs.runCommand<boolean>('mcpTokens.copyToken', key);
  await vs.dialogs.waitFor(15_000, new RegExp(`Copy the value of ${key.namespace}:${key.name}`));
  await vs.dialogs.click('Copy Value');
  assert.equal(await p, true);
  return vs.readClipboard();
}
