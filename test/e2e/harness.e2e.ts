/**
 * The harness itself, in the real code-server: workspace trust modes, the driver's endpoints, where
 * code-server keeps SecretStorage (browser localStorage, sealed with a key half in the user-data-dir;
 * it survives a reload), that the plaintext scan finds what it must, and that every process stops.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { DRIVER_ID, launch, position, scanForPlaintext, testSecret, type VSCode } from './harness';

/** Processes whose command line mentions `marker` (our temp root), by pid. */
function processesMentioning(marker: string): number[] {
  const out: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes(marker)) out.push(Number(entry));
    } catch {
      // Gone.
    }
  }
  return out;
}

async function withVSCode<T>(options: Parameters<typeof launch>[0], body: (vs: VSCode) => Promise<T>): Promise<{ vs: VSCode; result: T }> {
  const vs = await launch(options);
  try {
    return { vs, result: await body(vs) };
  } finally {
    await vs.dispose();
  }
}

describe('e2e harness', () => {
  test('untrusted: the folder opens in Restricted Mode and our extension still activates', async () => {
    const { vs } = await withVSCode({ name: 'harness-untrusted', trust: 'untrusted' }, async (vs) => {
      const ping = await vs.driver.ping();
      assert.equal(ping.isTrusted, false);
      assert.equal(ping.uiKind, 'web');
      assert.match(ping.vscodeVersion, /^1\.139\./);
      assert.ok(ping.activeExtensions.includes('mcp-tokens.mcp-token-manager'));
      assert.ok(ping.activeExtensions.includes(DRIVER_ID));
      await vs.screenshot('restricted-mode');
    });
    assert.deepEqual(processesMentioning(vs.dirs.root), [], 'every process stopped after dispose()');
  });

  test('disabled trust: no prompt, trusted', async () => {
    await withVSCode({ name: 'harness-trust-disabled', trust: 'disabled', vsix: null, waitForExtension: DRIVER_ID }, async (vs) => {
      assert.equal((await vs.driver.ping()).isTrusted, true);
      assert.equal(await vs.dialogs.isOpen(), false);
    });
  });

  test('driver endpoints, SecretStorage location and persistence, plaintext scan, clean stop', async () => {
    const value = testSecret('harness');
    const planted = testSecret('planted');
    let root = '';
    const { vs } = await withVSCode(
      { name: 'harness-driver', env: { MCP_E2E_HARNESS_PROBE: 'reaches-the-extension-host' }, settings: { 'mcpTokens.expiryWarningDays': 5 } },
      async (vs) => {
        root = vs.dirs.root;
        // Environment given to launch() reaches the extension host.
        assert.equal(await vs.driver.eval('return process.env.MCP_E2E_HARNESS_PROBE'), 'reaches-the-extension-host');
        // Files, editors, settings.
        await vs.driver.write('notes/a.txt', 'hello\nworld\n');
        assert.equal(await vs.driver.read('notes/a.txt'), 'hello\nworld\n');
        const opened = await vs.driver.open('notes/a.txt', { line: 1, character: 2 });
        assert.equal(opened.languageId, 'plaintext');
        assert.equal((await vs.driver.edit('notes/a.txt', 'changed\n')).applied, true);
        assert.equal(await vs.driver.read('notes/a.txt'), 'changed\n');
        assert.ok((await vs.driver.editors()).tabs.some((t) => t.startsWith('a.txt')));
        assert.equal((await vs.driver.config('mcpTokens', 'expiryWarningDays'))?.globalValue, 5);
        await vs.driver.config('mcpTokens', 'expiryWarningDays', 9);
        assert.equal((await vs.driver.config('mcpTokens', 'expiryWarningDays'))?.globalValue, 9);
        // Language features on the fixture's mcp.json (JSON with comments: built-in JSON support at least).
        await vs.driver.open('.vscode/mcp.json');
        const diags = await vs.driver.diagnostics('.vscode/mcp.json');
        assert.ok(Array.isArray(diags));
        const completions = await vs.driver.completions('.vscode/mcp.json', 3, 4);
        assert.ok(Array.isArray(completions.items));
        assert.ok(Array.isArray(await vs.runCommand('vscode.executeHoverProvider', { $file: '.vscode/mcp.json' }, position(8, 40))));
        // Errors come back as rejections with VS Code's message.
        await assert.rejects(vs.runCommand('no.such.command'), /command 'no.such.command' not found/);

        // SecretStorage in code-server: browser localStorage "secrets.provider", sealed (AES-GCM) with
        // a key whose server half is <user-data-dir>/serve-web-key-half.
        await vs.runCommand('mcpTokens.setToken', { namespace: 'bearer', name: 'probe', type: 'bearer', value });
        // The provider seals and saves asynchronously after set() resolves.
        const sealedHandle = await vs.page.waitForFunction(() => (globalThis as any).localStorage.getItem('secrets.provider'), undefined, { timeout: 10_000 });
        const sealed = (await sealedHandle.jsonValue()) as string | null;
        assert.ok(sealed && sealed.length > 60, 'secrets are in localStorage');
        assert.ok(!sealed.includes(value));
        const keyHalf = join(vs.dirs.userData, 'serve-web-key-half');
        assert.equal(statSync(keyHalf).size, 32);
        // They survive a window reload (a new extension host reads them back).
        await vs.reload();
        const after = await vs.runCommand<{ name: string }[]>('mcpTokens.listTokens', { noUi: true });
        assert.deepEqual(after.map((t) => t.name), ['probe']);
        // Clipboard through the extension host and through the browser agree.
        await vs.driver.call('clipboard', { write: 'clip-check' });
        assert.equal(await vs.readClipboard(), 'clip-check');

        // A planted plaintext file is found (positive control for the scan).
        writeFileSync(join(vs.dirs.workspace!, 'planted.txt'), `x=${planted}\n`);
      },
    );
    assert.deepEqual(processesMentioning(root), [], 'every process stopped after dispose()');
    const hits = await scanForPlaintext(vs.scanRoots(), [value, planted]);
    assert.deepEqual(
      hits.map((h) => [h.file.slice(root.length), h.secretIndex]),
      [['/workspace/planted.txt', 1]],
      'only the planted file holds a value',
    );
    assert.ok(existsSync(join(vs.dirs.profile, 'Default', 'Local Storage')), 'the Chromium profile (with localStorage) is under the scanned root');
  });
});
