/**
 * mcp-cli's registry (`~/.chuk_oauth/token_registry.json`) under faults: a file that does not parse
 * is kept byte for byte (and backed up beside it), never replaced; concurrent writers (two instances,
 * two processes, a python3 writer doing what mcp-cli's TokenRegistry does) lose no entry; internal
 * namespaces are never written.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { McpCliRegistry } from '../../extension/backends/mcpCliRegistry';

const dir = mkdtempSync(join(tmpdir(), 'mcp-registry-'));
after(() => rmSync(dir, { recursive: true, force: true }));

let n = 0;
function fresh(): string {
  const d = join(dir, `case-${n++}`, '.chuk_oauth');
  mkdirSync(d, { recursive: true });
  return join(d, 'token_registry.json');
}

const keysOf = (path: string) => Object.keys(JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>).sort();

function run(cmd: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'inherit', 'pipe'] });
    let err = '';
    child.stderr.on('data', (c) => (err += c));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`${cmd} exited ${code}: ${err}`))));
  });
}

const WRITER = join(__dirname, 'support', 'registryWriter.ts');

for (const [label, text] of [
  ['truncated JSON', '{\n  "bearer:kept": {\n    "name": "kept",\n    "type": "bearer",\n    "namespa'],
  ['not JSON at all', 'this is not json \u0000\u00ff'],
  ['JSON that is not an object', '["bearer:kept"]'],
] as const) {
  test(`a registry file that does not parse (${label}) is kept byte for byte and backed up, not replaced`, async () => {
    const path = fresh();
    writeFileSync(path, text, { mode: 0o600 });
    const before = readFileSync(path);
    const registry = new McpCliRegistry(path);
    await assert.rejects(registry.register({ namespace: 'bearer', name: 'new' }, { type: 'bearer' }), (e: Error) => {
      assert.match(e.message, /does not parse|not a JSON object/);
      assert.match(e.message, /not registered/);
      assert.ok(e.message.includes(path), e.message);
      return true;
    });
    await assert.rejects(registry.unregister({ namespace: 'bearer', name: 'kept' }));
    assert.deepEqual(readFileSync(path), before, 'the file is unchanged');
    const backups = readdirSync(join(path, '..')).filter((f) => f.startsWith('token_registry.json.') && f.endsWith('.bak'));
    assert.equal(backups.length, 1, `one backup beside it: ${readdirSync(join(path, '..')).join(', ')}`);
    assert.deepEqual(readFileSync(join(path, '..', backups[0])), before, 'the backup holds the same bytes');
    assert.deepEqual(await registry.list(), []);
  });
}

test('two registries in one process, each adding 100 entries concurrently, lose none', async () => {
  const path = fresh();
  const a = new McpCliRegistry(path);
  const b = new McpCliRegistry(path);
  await Promise.all([
    ...Array.from({ length: 100 }, (_, i) => a.register({ namespace: 'bearer', name: `a-${i}` }, { type: 'bearer' })),
    ...Array.from({ length: 100 }, (_, i) => b.register({ namespace: 'bearer', name: `b-${i}` }, { type: 'bearer' })),
  ]);
  assert.equal(keysOf(path).length, 200);
  if (process.platform !== 'win32') assert.equal(statSync(path).mode & 0o777, 0o600);
  assert.deepEqual(readdirSync(join(path, '..')).sort(), ['token_registry.json'], 'no lock or temporary file is left behind');
});

test('two processes, each adding 100 entries concurrently, lose none', { timeout: 120_000 }, async () => {
  const path = fresh();
  await Promise.all([run(process.execPath, ['--import', 'tsx', WRITER, path, 'p1', '100']), run(process.execPath, ['--import', 'tsx', WRITER, path, 'p2', '100'])]);
  const keys = keysOf(path);
  assert.equal(keys.filter((k) => k.startsWith('bearer:p1-')).length, 100);
  assert.equal(keys.filter((k) => k.startsWith('bearer:p2-')).length, 100);
  assert.deepEqual(readdirSync(join(path, '..')).sort(), ['token_registry.json']);
});

/** mcp-cli's TokenRegistry (chuk_mcp_client_oauth/token_registry.py): load, set, `open(path, "w")` + json.dump, chmod 600. No lock. */
const PY_MCP_CLI = `
import json, os, random, sys, time
path, prefix, count, lock = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4] == "lock"
def load():
    try:
        with open(path) as f:
            return json.load(f)
    except (json.JSONDecodeError, FileNotFoundError):
        return {}
for i in range(count):
    if lock:
        # A cooperating writer: the same lock file as the extension (O_EXCL create, removed after).
        while True:
            try:
                fd = os.open(path + ".lock", os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
                os.write(fd, json.dumps({"pid": os.getpid(), "host": os.uname().nodename, "nonce": str(random.random())}).encode())
                os.close(fd)
                break
            except FileExistsError:
                time.sleep(0.002)
    entries = load()
    name = f"{prefix}-{i}"
    entries[f"bearer:{name}"] = {"name": name, "type": "bearer", "namespace": "bearer", "registered_at": time.time(), "metadata": {}}
    with open(path, "w") as f:
        json.dump(entries, f, indent=2)
    os.chmod(path, 0o600)
    if lock:
        os.unlink(path + ".lock")
    time.sleep(random.random() * 0.004)
`;

for (const mode of ['lock', 'nolock'] as const) {
  test(`a python3 writer in mcp-cli's way (${mode === 'lock' ? 'honouring our lock file' : 'no lock, as mcp-cli does'}) and ours, 100 entries each`, { timeout: 120_000 }, async (t) => {
    const path = fresh();
    const ours = new McpCliRegistry(path);
    const python = run('python3', ['-c', PY_MCP_CLI, path, 'py', '100', mode]);
    for (let i = 0; i < 100; i++) {
      await ours.register({ namespace: 'bearer', name: `ext-${i}` }, { type: 'bearer' });
      await new Promise((r) => setTimeout(r, Math.random() * 4));
    }
    await python;
    const keys = keysOf(path);
    const py = keys.filter((k) => k.startsWith('bearer:py-')).length;
    const ext = keys.filter((k) => k.startsWith('bearer:ext-')).length;
    t.diagnostic(`python entries kept ${py}/100, ours kept ${ext}/100`);
    console.log(`registry ${mode}: python entries kept ${py}/100, extension entries kept ${ext}/100`);
    if (mode === 'lock') {
      assert.equal(py, 100);
      assert.equal(ext, 100);
    } else {
      // mcp-cli takes no lock and writes in place; what it wrote meanwhile is merged (re-read before
      // the rename, and the replaced file read after it). What is left: an mcp-cli process that loaded
      // the file before our rename and saves after it drops our entry (it never re-reads), and vice
      // versa within about a millisecond. Measured: 99–100 of 100 kept on each side (before: 23 and 4).
      assert.ok(py >= 90, `python entries kept ${py}/100`);
      assert.ok(ext >= 90, `our entries kept ${ext}/100`);
    }
    assert.ok(!existsSync(`${path}.lock`));
  });
}

test('internal namespaces are never written into the registry', async () => {
  const path = fresh();
  const registry = new McpCliRegistry(path);
  await registry.register({ namespace: 'bearer', name: 'visible' }, { type: 'bearer' });
  await registry.register({ namespace: 'oauth-refresh', name: 'x' }, { type: 'generic' });
  await registry.register({ namespace: 'oauth-client', name: 'x' }, { type: 'generic' });
  assert.deepEqual(keysOf(path), ['bearer:visible']);
});
