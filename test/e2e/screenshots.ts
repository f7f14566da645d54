/**
 * Regenerates the README screenshot media/screenshots/tokens-view.png: the Tokens view with a few
 * tokens (one expiring soon, one expired) beside the demo workspace's .vscode/mcp.json.
 * Not a test (it rewrites a committed file): run it by hand after `npm run package`:
 *   node --import tsx test/e2e/screenshots.ts
 */
import { mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT, launch, testSecret } from './harness';

const DAY = 86400e3;

async function main(): Promise<void> {
  const vs = await launch({ name: 'readme-screenshots', viewport: { width: 1200, height: 560 }, trust: 'disabled' });
  try {
    const now = Date.now();
    const tokens = [
      { namespace: 'bearer', name: 'github', type: 'bearer', expiresAt: new Date(now + 4 * DAY).toISOString(), provider: 'github' },
      { namespace: 'bearer', name: 'linear', type: 'bearer', expiresAt: new Date(now + 90 * DAY).toISOString() },
      { namespace: 'api-key', name: 'search', type: 'api-key', expiresAt: new Date(now - 2 * DAY).toISOString() },
      { namespace: 'api-key', name: 'openai', type: 'api-key' },
      { namespace: 'custom-team', name: 'jira', type: 'basic' },
    ];
    for (const t of tokens) await vs.runCommand('mcpTokens.setToken', { ...t, value: testSecret(t.name) });
    await vs.clearNotifications();
    await vs.driver.open('.vscode/mcp.json');
    await vs.openActivity('MCP Tokens');
    // Only the Tokens view expanded: collapse the other panes of the container.
    for (const header of await vs.page.locator('#workbench\\.parts\\.sidebar .pane-header.expanded').all()) {
      const title = ((await header.locator('.title').textContent()) ?? '').trim();
      if (title !== 'Tokens') await header.click();
    }
    await vs.page.locator('#workbench\\.parts\\.sidebar .monaco-list-row', { hasText: 'github' }).first().waitFor();
    // A wider side bar, so descriptions are not cut: drag the sash between side bar and editor.
    const sidebar = await vs.page.locator('#workbench\\.parts\\.sidebar').boundingBox();
    if (sidebar) {
      const x = sidebar.x + sidebar.width + 2;
      const y = sidebar.y + sidebar.height / 2;
      await vs.page.mouse.move(x, y);
      await vs.page.mouse.down();
      await vs.page.mouse.move(x + 110, y, { steps: 10 });
      await vs.page.mouse.up();
    }
    await vs.page.mouse.move(900, 500);
    await vs.page.waitForTimeout(800);
    const out = join(REPO_ROOT, 'media', 'screenshots', 'tokens-view.png');
    mkdirSync(join(out, '..'), { recursive: true });
    await vs.page.screenshot({ path: out });
    console.log(`${out}: ${Math.round(statSync(out).size / 1024)} KB`);
  } finally {
    await vs.dispose();
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
