/** The installed shim follows the pointer file the extension rewrites, so it survives updates. */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { defaultShimDir, isOnPath, shimFileName, shimText, SHIM_MARKER } from '../../extension/launcher/shim';
import { launcherHome, parsePointer, pointerText, POINTER_FILE } from '../../server/core/launcherPointer';

const root = mkdtempSync(join(tmpdir(), 'mcpt-shim-'));
after(() => rmSync(root, { recursive: true, force: true }));

test('pointer text round-trips and refuses a path with a line break', () => {
  const p = { node: '/usr/bin/node', electron: true, bundle: '/ext/a=b/dist/cli/mcp-tokens.mjs', shim: '/h/.local/bin/mcp-tokens' };
  assert.deepEqual(parsePointer(pointerText(p)), p);
  assert.throws(() => pointerText({ bundle: '/x\nshim=/evil' }), /line break/);
  assert.equal(launcherHome({}, '/h', 'linux'), '/h/.mcp-tokens');
  assert.equal(launcherHome({ MCP_TOKENS_HOME: '/t' }, '/h', 'linux'), '/t');
});

test('default folder, file name and PATH check per platform', () => {
  assert.equal(defaultShimDir('/h', 'linux'), '/h/.local/bin');
  assert.equal(defaultShimDir('C:\\Users\\a', 'win32'), 'C:\\Users\\a\\.mcp-tokens\\bin');
  assert.equal(shimFileName('win32'), 'mcp-tokens.cmd');
  assert.equal(isOnPath('/h/.local/bin/', '/usr/bin:/h/.local/bin', 'linux'), true);
  assert.equal(isOnPath('/h/.local/bin', '/usr/bin', 'linux'), false);
  assert.equal(isOnPath('C:\\Users\\A\\bin', 'c:\\windows;c:\\users\\a\\bin\\', 'win32'), true);
  assert.ok(shimText('win32').includes(SHIM_MARKER) && shimText('win32').includes('\r\n'));
});

test('the POSIX shim runs the bundle the pointer names, with the arguments, exit code, across an update', { skip: process.platform === 'win32' }, () => {
  const home = join(root, 'home');
  const shim = join(root, 'mcp-tokens');
  writeFileSync(shim, shimText('linux'));
  chmodSync(shim, 0o755);
  const bundle = (name: string, code: number) => {
    const f = join(root, `${name}.js`);
    writeFileSync(f, `process.stdout.write(JSON.stringify({ v: ${JSON.stringify(name)}, args: process.argv.slice(2) })); process.exit(${code});`);
    return f;
  };
  const env = { ...process.env, MCP_TOKENS_HOME: home };
  const missing = spawnSync(shim, ['list'], { env, encoding: 'utf8' });
  assert.equal(missing.status, 127);
  assert.match(missing.stderr, /MCP Token Manager was not found/);

  execFileSync('mkdir', ['-p', home]);
  writeFileSync(join(home, POINTER_FILE), pointerText({ node: process.execPath, bundle: bundle('v1', 0) }));
  assert.deepEqual(JSON.parse(execFileSync(shim, ['run', '--', 'x y', '$<TOKEN:a:b>'], { env, encoding: 'utf8' })), { v: 'v1', args: ['run', '--', 'x y', '$<TOKEN:a:b>'] });
  // An update rewrites the pointer; the same shim runs the new version and passes its exit code on.
  writeFileSync(join(home, POINTER_FILE), pointerText({ node: process.execPath, bundle: bundle('v2', 3), shim }));
  const r = spawnSync(shim, ['get'], { env, encoding: 'utf8' });
  assert.equal(r.status, 3);
  assert.deepEqual(JSON.parse(r.stdout), { v: 'v2', args: ['get'] });
});
