/**
 * Tokens mcp-cli set in the keyring before the store starts (python3-keyring in mcp-cli's layout, with
 * its registry lines) are listed right after `ready()`, without Refresh. Run by test/keyring/run.sh.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { makeKeyringStore, python } from './support';

describe('keyring discovery at startup', () => {
  it('tokens mcp-cli stored before the store starts are listed after ready(), without Refresh', async () => {
    python(`
import json, keyring, os, time
path = os.path.expanduser("~/.chuk_oauth/token_registry.json")
os.makedirs(os.path.dirname(path), exist_ok=True)
reg = json.load(open(path)) if os.path.exists(path) else {}
for ns, name, typ, data in [("bearer", "cli-startup", "bearer", {"token": "py-startup-bearer"}),
                            ("api-key", "cli-openai", "api_key", {"provider": "openai", "key": "sk-py-startup"})]:
    keyring.set_password("mcp-cli", f"{ns}:{name}", json.dumps({"token_type": typ, "name": name, "data": data, "metadata": {"namespace": ns}}))
    reg[f"{ns}:{name}"] = {"name": name, "type": typ, "namespace": ns, "registered_at": time.time(), "metadata": {"provider": "openai"} if typ == "api_key" else {}}
with open(path, "w") as f: json.dump(reg, f, indent=2)
os.chmod(path, 0o600)
`);
    const { store } = makeKeyringStore();
    await store.ready();
    const listed = store.list().map((t) => [`${t.namespace}:${t.name}`, t.backend, t.type]);
    assert.deepEqual(listed, [
      ['api-key:cli-openai', 'keyring', 'api-key'],
      ['bearer:cli-startup', 'keyring', 'bearer'],
    ]);
    assert.equal(await store.getValue({ namespace: 'bearer', name: 'cli-startup' }), 'py-startup-bearer');
    assert.equal(await store.getValue({ namespace: 'api-key', name: 'cli-openai' }), 'sk-py-startup');
    store.dispose();
  });
});
