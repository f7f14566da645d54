/**
 * The keyring backend against a real Secret Service (gnome-keyring, unlocked), and interoperability
 * with mcp-cli's library, python3-keyring, both ways. Run by test/keyring/run.sh.
 */
import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { defaultRegistryPath } from '../../extension/backends/mcpCliRegistry';
import { makeKeyringStore, python, readRegistryFile } from './support';

describe('OS keyring backend (gnome-keyring, unlocked)', () => {
  it('is healthy', async () => {
    const { keyring } = makeKeyringStore();
    const h = await keyring.health();
    assert.equal(h.available, true);
    assert.equal(h.healthy, true, h.cause);
    assert.match(h.detail ?? '', /Secret Service .*"mcp-cli"/);
  });

  it('a token set by the extension is read by python keyring.get_password as mcp-cli JSON, and listed in the registry', async () => {
    const { store } = makeKeyringStore();
    await store.ready();
    await store.set({ namespace: 'bearer', name: 'name', type: 'bearer', value: 'vs-bearer-value' });
    const json = python("import keyring; print(keyring.get_password('mcp-cli', 'bearer:name'))");
    assert.deepEqual(JSON.parse(json), { token_type: 'bearer', name: 'name', data: { token: 'vs-bearer-value' }, metadata: { namespace: 'bearer' } });
    await store.set({ namespace: 'api-key', name: 'openai', type: 'api-key', value: 'sk-vs-key', provider: 'openai' });
    const api = JSON.parse(python("import keyring; print(keyring.get_password('mcp-cli', 'api-key:openai'))"));
    assert.equal(api.token_type, 'api_key');
    assert.deepEqual(api.data, { provider: 'openai', key: 'sk-vs-key' });
    const reg = readRegistryFile();
    assert.equal(reg['bearer:name'].type, 'bearer');
    assert.equal(reg['api-key:openai'].type, 'api_key');
    assert.equal(reg['api-key:openai'].metadata.provider, 'openai');
    assert.equal(statSync(defaultRegistryPath(homedir())).mode & 0o777, 0o600);
  });

  it('an entry written by python in mcp-cli\'s shape, plus its registry line, appears in the list and resolves', async () => {
    python(`
import json, keyring, os, time
stored = {"token_type": "bearer", "name": "from-python", "data": {"token": "py-bearer-value"}, "metadata": {"namespace": "bearer"}}
keyring.set_password("mcp-cli", "bearer:from-python", json.dumps(stored))
path = os.path.expanduser("~/.chuk_oauth/token_registry.json")
os.makedirs(os.path.dirname(path), exist_ok=True)
reg = json.load(open(path)) if os.path.exists(path) else {}
reg["bearer:from-python"] = {"name": "from-python", "type": "bearer", "namespace": "bearer", "registered_at": time.time(), "metadata": {}}
reg["provider:anthropic"] = {"name": "anthropic", "type": "api_key", "namespace": "provider", "registered_at": time.time(), "metadata": {"provider": "anthropic"}}
keyring.set_password("mcp-cli", "provider:anthropic", json.dumps({"token_type": "bearer", "name": "anthropic", "data": {"token": "sk-ant-py"}, "metadata": {"namespace": "provider"}}))
reg["bearer:registered-only"] = {"name": "registered-only", "type": "bearer", "namespace": "bearer", "registered_at": time.time(), "metadata": {}}
with open(path, "w") as f: json.dump(reg, f, indent=2)
os.chmod(path, 0o600)
`);
    const { store } = makeKeyringStore();
    await store.ready();
    await store.refresh();
    const t = store.get({ namespace: 'bearer', name: 'from-python' });
    assert.equal(t?.backend, 'keyring');
    assert.equal(t?.type, 'bearer');
    assert.equal(await store.getValue({ namespace: 'bearer', name: 'from-python' }), 'py-bearer-value');
    assert.equal(await store.getValue({ namespace: 'provider', name: 'anthropic' }), 'sk-ant-py');
    // A registry line without a keyring entry (e.g. stored in another mcp-cli backend) is not adopted.
    assert.equal(store.has({ namespace: 'bearer', name: 'registered-only' }), false);
  });

  it('rotates, restores the previous value, and deletes (keyring entry and registry line)', async () => {
    const { store } = makeKeyringStore();
    await store.ready();
    const key = { namespace: 'bearer', name: 'rot' };
    await store.set({ ...key, type: 'bearer', value: 'first-value' });
    await store.rotate(key, 'second-value');
    assert.equal(await store.getValue(key), 'second-value');
    assert.equal(await store.getPreviousValue(key), 'first-value');
    await store.restorePrevious(key);
    assert.equal(JSON.parse(python("import keyring; print(keyring.get_password('mcp-cli', 'bearer:rot'))")).data.token, 'first-value');
    await store.delete(key);
    assert.equal(python("import keyring; print(keyring.get_password('mcp-cli', 'bearer:rot'))"), 'None');
    assert.equal(python("import keyring; print(keyring.get_password('mcp-cli/previous', 'bearer:rot'))"), 'None');
    assert.equal(readRegistryFile()['bearer:rot'], undefined);
  });

  it('a token deleted by mcp-cli (python) reads as missing, not as an error', async () => {
    const { store } = makeKeyringStore();
    await store.ready();
    await store.set({ namespace: 'bearer', name: 'gone', type: 'bearer', value: 'gone-value' });
    python("import keyring; keyring.delete_password('mcp-cli', 'bearer:gone')");
    assert.equal(await store.getValue({ namespace: 'bearer', name: 'gone' }), undefined);
  });

  it('the registry file cannot be written: the token is still stored, with a warning', async () => {
    const path = defaultRegistryPath(homedir());
    // A directory where the file should be makes every registry write fail (even for root).
    rmSync(path, { force: true });
    mkdirSync(join(path, 'blocker'), { recursive: true });
    try {
      const { store, logs } = makeKeyringStore();
      await store.ready();
      await store.set({ namespace: 'bearer', name: 'noreg', type: 'bearer', value: 'noreg-value' });
      assert.equal(await store.getValue({ namespace: 'bearer', name: 'noreg' }), 'noreg-value');
      assert.ok(logs.some((l) => /could not register bearer:noreg in mcp-cli's registry/.test(l)), logs.join('\n'));
      assert.ok(!logs.join('\n').includes('noreg-value'));
    } finally {
      rmSync(path, { recursive: true, force: true });
    }
  });

  it('a registry file that does not parse is kept byte for byte and backed up; the token is stored, not registered, and python reads it', async () => {
    const path = defaultRegistryPath(homedir());
    mkdirSync(join(path, '..'), { recursive: true });
    rmSync(path, { recursive: true, force: true });
    const broken = '{\n  "bearer:theirs": {\n    "name": "theirs",\n    "type": "bear';
    writeFileSync(path, broken, { mode: 0o600 });
    try {
      const { store, logs } = makeKeyringStore();
      await store.ready();
      await store.set({ namespace: 'bearer', name: 'unreg', type: 'bearer', value: 'unreg-value-123' });
      assert.equal(await store.getValue({ namespace: 'bearer', name: 'unreg' }), 'unreg-value-123');
      assert.equal(readFileSync(path, 'utf8'), broken, 'the registry is left as it was');
      const copies = readdirSync(join(path, '..')).filter((f) => /^token_registry\.json\.unparsable-[0-9a-f]+\.bak$/.test(f));
      assert.equal(copies.length, 1);
      assert.equal(readFileSync(join(path, '..', copies[0]), 'utf8'), broken);
      assert.ok(logs.some((l) => /bearer:unreg is not registered/.test(l) && l.includes(path)), logs.join('\n'));
      assert.ok(!logs.join('\n').includes('unreg-value-123'));
      assert.match(python('import keyring, json; print(json.loads(keyring.get_password("mcp-cli", "bearer:unreg"))["data"]["token"])'), /^unreg-value-123$/);
    } finally {
      rmSync(path, { force: true });
      for (const f of readdirSync(join(path, '..')).filter((f) => f.endsWith('.bak'))) rmSync(join(path, '..', f), { force: true });
    }
  });
});
