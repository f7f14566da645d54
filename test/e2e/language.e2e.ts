/**
 * The language server in a real VS Code (code-server + Chromium): typing `$<TOKEN:` in
 * .vscode/mcp.json opens the suggest widget with the stored namespaces and tokens (screenshot);
 * hover shows metadata and never the value; `languages.getDiagnostics` reports an unknown reference
 * and a hard-coded `ghp_...` token; the "Move to MCP Tokens" quick fix stores the literal and the
 * file then holds the reference; in a file with more problems than VS Code keeps (1,000), the server
 * publishes the ones nearest the last edit and a summary with the total.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { launch, testSecret, type VSCode } from './harness';

const FILE = '.vscode/mcp.json';
const GITHUB_VALUE = testSecret('lang-github');
const SEARCH_VALUE = testSecret('lang-search');
// A syntactically valid, fake GitHub token (ghp_ + 36 alphanumerics) that the test hard-codes.
const HARD_CODED = 'ghp_' + 'Zq7Lm2Xv9Tb4Nw7Kc1Yd6Hf3Rp8Sa5Ue0Gi2';

const TEXT = `{
  "servers": {
    "github": {
      "type": "http",
      "url": "https://api.githubcopilot.com/mcp/",
      "headers": { "Authorization": "Bearer $<TOKEN:bearer:github>" }
    },
    "search": {
      "type": "stdio",
      "command": "npx",
      "args": ["-y", "example-search-mcp"],
      "env": {
        "GITHUB_TOKEN": "${HARD_CODED}",
        "SEARCH_API_KEY": "$<TOKEN:api-key:serch>",
        "NEW": ""
      }
    }
  }
}
`;
const lineOf = (needle: string) => TEXT.split('\n').findIndex((l) => l.includes(needle));
const colOf = (needle: string) => TEXT.split('\n')[lineOf(needle)].indexOf(needle);

let vs: VSCode;

describe('language server in VS Code', () => {
  before(async () => {
    vs = await launch({ name: 'language' });
    await vs.runCommand('mcpTokens.setToken', { namespace: 'bearer', name: 'github', type: 'bearer', value: GITHUB_VALUE, provider: 'github', description: 'GitHub PAT' });
    await vs.runCommand('mcpTokens.setToken', { namespace: 'api-key', name: 'search', type: 'api-key', value: SEARCH_VALUE });
    await vs.driver.write(FILE, TEXT);
  });

  after(async () => {
    await vs?.dispose();
    // The stored values never reach a file; the hard-coded literal was written to the workspace by
    // the test itself, so it is checked separately (the file no longer holds it after the fix).
    await vs?.assertNoPlaintext([GITHUB_VALUE, SEARCH_VALUE]);
  });

  test('typing $<TOKEN: shows the stored namespaces and tokens in the suggest widget', async () => {
    const line = lineOf('"NEW"');
    const character = colOf('"NEW": ""') + '"NEW": "'.length;
    await vs.driver.open(FILE, { line, character });
    // Wait until the language server is up for this document (diagnostics arrive), then type.
    await vs.driver.waitForDiagnostics(FILE, (d) => d.some((x) => x.source === 'MCP Tokens'), 60_000);
    // Focus the editor without moving its cursor, then type with real key strokes.
    await vs.runCommand('workbench.action.focusActiveEditorGroup');
    await vs.page.keyboard.type('$<TOKEN:', { delay: 60 });
    const widget = vs.page.locator('.editor-widget.suggest-widget');
    try {
      await widget.waitFor({ state: 'visible', timeout: 20_000 });
    } catch (e) {
      await vs.screenshot('completion-widget-missing');
      throw new Error(`No suggest widget; the line reads ${JSON.stringify((await vs.driver.read(FILE)).split('\n')[line])}: ${e instanceof Error ? e.message : String(e)}`);
    }
    const rows = widget.locator('.monaco-list-row');
    await rows.first().waitFor({ state: 'visible', timeout: 10_000 });
    const labels = (await rows.allInnerTexts()).join('\n');
    await vs.screenshot('completion-widget');
    assert.match(labels, /api-key/);
    assert.match(labels, /bearer/);
    assert.match(labels, /bearer:github|api-key:search/);
    await vs.page.keyboard.press('Escape');

    // The same through the completion provider API, with details.
    const list = await vs.driver.completions(FILE, line, character + '$<TOKEN:'.length);
    const names = list.items.map((i) => (typeof i.label === 'string' ? i.label : i.label.label));
    assert.ok(names.includes('bearer') && names.includes('api-key'), names.join(', '));
    assert.ok(names.includes('bearer:github') && names.includes('api-key:search'), names.join(', '));
    const ns = list.items.find((i) => (typeof i.label === 'string' ? i.label : i.label.label) === 'bearer');
    assert.equal(ns?.detail, '1 token');
    // Put the document back as written.
    await vs.driver.edit(FILE, TEXT);
  });

  test('hover shows the metadata and the servers using the token, never the value', async () => {
    const line = lineOf('$<TOKEN:bearer:github>');
    const hovers = await vs.driver.hover(FILE, line, colOf('$<TOKEN:bearer:github>') + 10);
    const text = hovers.flatMap((h) => h.contents).join('\n');
    assert.match(text, /Bearer token/);
    assert.match(text, /VS Code SecretStorage/);
    assert.match(text, /GitHub PAT/);
    assert.match(text, /Used by `github`/);
    assert.match(text, /Reveal in MCP Tokens/);
    assert.ok(!text.includes(GITHUB_VALUE));
    await vs.page.keyboard.press('Escape');
  });

  test('diagnostics report the unknown reference and the hard-coded ghp_ token', async () => {
    const ds = await vs.driver.waitForDiagnostics(
      FILE,
      (d) => d.some((x) => x.code === 'unknown-token') && d.some((x) => x.code === 'hard-coded-secret'),
      30_000,
    );
    const unknown = ds.find((d) => d.code === 'unknown-token')!;
    assert.equal(unknown.severity, 'warning');
    assert.deepEqual(unknown.range.start, { line: lineOf('serch'), character: colOf('serch') });
    assert.match(unknown.message, /No token api-key:serch is stored\. Did you mean "api-key:search"\?/);
    const secret = ds.find((d) => d.code === 'hard-coded-secret')!;
    assert.deepEqual(secret.range, {
      start: { line: lineOf(HARD_CODED), character: colOf(HARD_CODED) },
      end: { line: lineOf(HARD_CODED), character: colOf(HARD_CODED) + HARD_CODED.length },
    });
    assert.ok(!secret.message.includes(HARD_CODED));
    await vs.runCommand('workbench.actions.view.problems');
    await vs.screenshot('problems');
  });

  test('the quick fix moves the literal into the store and the file holds the reference', async () => {
    const l = lineOf(HARD_CODED);
    const c = colOf(HARD_CODED);
    const actions = await vs.driver.codeActions(FILE, [l, c, l, c + 4], 'quickfix');
    const title = 'Move to MCP Tokens as bearer:github-2';
    assert.ok(actions.some((a) => a.title === title), actions.map((a) => a.title).join(' | '));
    await vs.driver.applyCodeAction(FILE, [l, c, l, c + 4], title);
    const text = await vs.driver.read(FILE);
    assert.ok(text.includes('"GITHUB_TOKEN": "$<TOKEN:bearer:github-2>"'), text);
    assert.ok(!text.includes(HARD_CODED));
    const tokens = await vs.runCommand<{ namespace: string; name: string; provider?: string; type: string }[]>('mcpTokens.listTokens', { noUi: true });
    const moved = tokens.find((t) => t.namespace === 'bearer' && t.name === 'github-2');
    assert.deepEqual(moved && { type: moved.type, provider: moved.provider }, { type: 'bearer', provider: 'github' });
    // The stored value is the literal: copy it through the modal and compare.
    const copy = vs.runCommand<boolean>('mcpTokens.copyToken', { namespace: 'bearer', name: 'github-2' });
    await vs.dialogs.waitFor(15_000, /Copy the value of bearer:github-2/);
    await vs.dialogs.click('Copy Value');
    assert.equal(await copy, true);
    assert.equal(await vs.readClipboard(), HARD_CODED);
    await vs.runCommand('workbench.action.files.save');
    await vs.driver.waitForDiagnostics(FILE, (d) => !d.some((x) => x.code === 'hard-coded-secret'), 20_000);
    await vs.screenshot('after-quick-fix');
  });

  test('a file with more problems than VS Code shows: the first ones, after typing the ones nearest the edit, and the total at the top', async () => {
    // 1,200 references to tokens that are not stored: one warning each, more than the 1,000 per file VS Code keeps.
    const MANY = '.vscode/mcp.tokens.json';
    const count = 1200;
    const lines = Array.from({ length: count }, (_, i) => `    "s${i}": { "command": "x", "env": { "T": "$<TOKEN:bearer:missing-${i}>" } }`);
    const text = `{\n  "servers": {\n${lines.join(',\n')}\n  }\n}\n`;
    await vs.driver.write(MANY, text);
    await vs.driver.open(MANY);
    const ours = <T extends { source?: string | null }>(d: T[]) => d.filter((x) => x.source === 'MCP Tokens');
    const names = (d: { message: string }[]) => new Set(d.flatMap((x) => /bearer:(missing-\d+x?)/.exec(x.message)?.[1] ?? []));
    const first = ours(await vs.driver.waitForDiagnostics(MANY, (d) => ours(d).length > 0, 60_000));
    assert.equal(first.length, 1000, 'as many as VS Code shows');
    const summary = first.find((d) => d.code === 'more-diagnostics');
    assert.deepEqual(summary && { severity: summary.severity, start: summary.range.start }, { severity: 'information', start: { line: 0, character: 0 } });
    assert.match(summary!.message, /^1,200 MCP Tokens problems in this file: the first 999 by severity are shown \(VS Code shows at most 1,000 per file\)\.$/);
    assert.ok(names(first).has('missing-0') && !names(first).has('missing-1199'), 'before any edit: the top of the file');

    // Type at the last server, with real key strokes: the shown problems move to where the user types.
    const line = lines.length + 1; // "{" and "servers" come first
    const character = lines[count - 1].indexOf('missing-1199') + 'missing-1199'.length;
    await vs.driver.open(MANY, { line, character });
    await vs.runCommand('workbench.action.focusActiveEditorGroup');
    await vs.page.keyboard.type('x', { delay: 60 });
    const after = ours(await vs.driver.waitForDiagnostics(MANY, (d) => names(d).has('missing-1199x'), 30_000));
    assert.equal(after.length, 1000);
    assert.match(after.find((d) => d.code === 'more-diagnostics')!.message, /^1,200 MCP Tokens problems in this file: the 999 nearest the last edit, by severity, are shown/);
    assert.ok(!names(after).has('missing-0'), 'the top of the file gave way to the lines around the edit');
    assert.ok(names(after).has('missing-201') && !names(after).has('missing-200'), 'the 999 nearest the edit, and no others');
    // The Problems view (the real widget): the file's 1,000 problems, from the lines around the edit.
    await vs.runCommand('workbench.actions.view.problems');
    const panel = vs.page.locator('.markers-panel');
    await panel.getByText('No token bearer:missing-201 is stored.').first().waitFor({ state: 'visible', timeout: 15_000 });
    const badges = await panel.locator('.monaco-count-badge').allInnerTexts();
    assert.ok(badges.map((t) => t.trim()).includes('1000'), `the file's count in the Problems view: ${badges.join(', ')}`);
    await vs.screenshot('problems-over-limit');
    await vs.runCommand('workbench.action.revertAndCloseActiveEditor');
  });
});
