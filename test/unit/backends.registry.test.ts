/**
 * The backend registry (extension/backends/registry.ts): the test-only in-memory backend is listed
 * only under the switch, and what config.ts, createTokenStore, the Backends view and the backend
 * commands read of the registry (ids, factory, label, settings section, credential keys, destination,
 * fixes) covers it with no code of their own; the manifest lists exactly the user-visible backends.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { BACKENDS, BACKEND_LABELS, type BackendId } from '../../server/core/model';
import { COMMANDS } from '../../extension/platform/commandTable';
import { createBackends, registryFor, type BackendConfig, type BackendRegistry } from '../../extension/backends/registry';
import { TEST_BACKENDS_SWITCH, backendIdsFor, parseBackendId } from '../../extension/store/backendIds';
import type { Disposable } from '../../extension/platform/event';
import { settingsSection, type SettingsSection } from '../../extension/store/backend';
import { DEFAULT_VAULT_SETTINGS, readVaultSettings } from '../../extension/backends/vault';
import { readKeyringSettings } from '../../extension/backends/keyring';
import { MemoryIndex } from '../../extension/store/memoryStore';
import { TokenStore } from '../../extension/store/tokenStore';
import { SharedSecretStorage } from './support/sharedSecretStorage';

const root = join(__dirname, '..', '..');
const withSwitch = registryFor(backendIdsFor({ [TEST_BACKENDS_SWITCH]: 'memory' }));
const without = registryFor(backendIdsFor({}));

/** Settings as a user left them: every key at its fallback. */
const defaults: SettingsSection = { string: (_k, fallback = '') => fallback, boolean: (_k, fallback) => fallback, number: (_k, _min, _max, fallback) => fallback };
const config: BackendConfig = { section: () => defaults, onDidChange: () => ({ dispose: () => undefined }), historyLimits: () => ({ maxVersions: 10, maxAgeDays: 90 }) };

/** A store built from a registry the way createTokenStore builds it, with every token going to `to`. */
function storeOf(registry: BackendRegistry, to: BackendId) {
  const disposables: Disposable[] = [];
  const secrets = new SharedSecretStorage().window();
  const backends = createBackends(registry, { secrets, globalState: { get: () => undefined }, config, log: () => undefined, subscriptions: disposables }, (id) => id === to);
  const store = new TokenStore({ backends, index: new MemoryIndex(), backendFor: () => to });
  return { store, backends, dispose: () => [store, ...disposables].forEach((d) => d.dispose()) };
}

test('the in-memory backend is listed only when the switch names it', () => {
  assert.deepEqual(without.ids, ['secretStorage', 'keyring', 'vault']);
  assert.deepEqual(withSwitch.ids, ['secretStorage', 'keyring', 'vault', 'memory']);
  // Other values add nothing, and the switch cannot remove a backend users have.
  assert.deepEqual(backendIdsFor({ [TEST_BACKENDS_SWITCH]: 'vault, nonsense,' }), without.ids);
  assert.deepEqual(backendIdsFor({ [TEST_BACKENDS_SWITCH]: ' memory ' }), withSwitch.ids);
  // Every id of the pure list has a descriptor, and only test-only ones are left out without the switch.
  assert.deepEqual(withSwitch.ids, BACKENDS.map((b) => b.id));
  assert.deepEqual(without.ids, BACKENDS.filter((b) => !('testOnly' in b)).map((b) => b.id));
});

test('config.ts accepts a backend id only when the registry lists it (defaultBackend, namespaceBackends)', () => {
  // config.ts parses with parseBackendId over this window's ids, the list the registry is built from.
  const on = backendIdsFor({ [TEST_BACKENDS_SWITCH]: 'memory' });
  assert.equal(parseBackendId('memory', on), 'memory');
  assert.equal(parseBackendId('memory', backendIdsFor({})), undefined);
  assert.equal(parseBackendId('vault', backendIdsFor({})), 'vault');
  for (const bad of ['Vault', '', 42, null, undefined, {}]) assert.equal(parseBackendId(bad, on), undefined);
  assert.equal(withSwitch.parseId('memory'), 'memory');
  assert.equal(without.parseId('memory'), undefined);
});

test('createTokenStore builds the in-memory backend from its descriptor: tokens are kept in it, and it reports its health', async () => {
  const on = storeOf(withSwitch, 'memory');
  try {
    await on.store.ready();
    assert.deepEqual(on.store.backendIds(), ['secretStorage', 'keyring', 'vault', 'memory']);
    await on.store.set({ namespace: 'bearer', name: 'ci', type: 'bearer', value: 'memory-value-1' });
    assert.equal(on.store.get({ namespace: 'bearer', name: 'ci' })?.backend, 'memory');
    assert.equal(await on.store.getValue({ namespace: 'bearer', name: 'ci' }), 'memory-value-1');
    // (Its own health, as the store's health() collects it: the keyring's check would reach this machine's keyring.)
    const health = await on.backends.find((b) => b.id === 'memory')?.health();
    assert.equal(health?.healthy, true);
    assert.equal(health?.active, true);
    assert.match(health?.detail ?? '', /^1 value in this window's memory/);
  } finally {
    on.dispose();
  }
  const off = storeOf(without, 'memory');
  try {
    await off.store.ready();
    assert.deepEqual(off.store.backendIds(), ['secretStorage', 'keyring', 'vault']);
    await assert.rejects(off.store.set({ namespace: 'bearer', name: 'ci', type: 'bearer', value: 'x' }), /memory backend is not available/);
  } finally {
    off.dispose();
  }
});

test('the view and the commands read label, settings, credential keys, destination and fixes from each descriptor', () => {
  const memory = withSwitch.get('memory')!;
  assert.equal(memory.label, BACKEND_LABELS.memory);
  assert.equal(memory.testOnly, true);
  // No settings and no credentials: the view and rediscovery watch nothing of its own.
  assert.equal(memory.section, undefined);
  assert.equal(memory.secretPrefix, undefined);
  assert.match(memory.destination(config), /memory of this window/);
  // The default fix opens the backend settings.
  assert.deepEqual(memory.fixes({ backend: 'memory', available: true, active: true, healthy: false }), [
    { label: `Open ${BACKEND_LABELS.memory} Settings`, command: 'workbench.action.openSettings', args: ['mcpTokens.backend'] },
  ]);
  assert.equal(without.get('memory'), undefined);

  const vault = withSwitch.get('vault')!;
  assert.equal(vault.section, 'vault');
  assert.equal(vault.secretPrefix, 'mcpTokens/v1/vault/');
  assert.equal(vault.destination(config), 'HashiCorp Vault at (no address set), path secret/');
  assert.deepEqual(vault.fixes({ backend: 'vault', available: false, active: false, healthy: false }).map((f) => f.label), ['Open Vault Settings']);
  assert.deepEqual(vault.fixes({ backend: 'vault', available: true, active: true, healthy: false }).map((f) => f.command), [
    'mcpTokens.setVaultToken',
    'mcpTokens.vaultLogin',
    'mcpTokens.useVault',
    'workbench.action.openSettings',
  ]);
  assert.equal(withSwitch.get('keyring')!.destination(config), 'the OS keyring (service "mcp-cli")');
});

test('every fix runs a declared command, every section is a settings prefix of the manifest', () => {
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
  const settings = Object.keys(pkg.contributes.configuration.properties);
  const declared = new Set(Object.values(COMMANDS).map((c) => c.id));
  for (const d of withSwitch.descriptors) {
    for (const h of [true, false]) {
      const fixes = d.fixes({ backend: d.id, available: h, active: true, healthy: false });
      assert.ok(fixes.length >= 1, `${d.id} offers a fix`);
      for (const f of fixes) {
        if (f.command === 'workbench.action.openSettings') assert.ok(settings.some((k) => k.startsWith(`${f.args?.[0]}.`)), `${d.id}: ${f.args?.[0]} is a settings section`);
        else assert.ok(declared.has(f.command), `${d.id}: ${f.command} is in the command table`);
      }
    }
    if (d.section) assert.ok(settings.some((k) => k.startsWith(`mcpTokens.${d.section}.`)), `${d.id}: mcpTokens.${d.section}.* exists`);
  }
});

test('the manifest offers exactly the backends users have, each with its description', () => {
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
  const nls = JSON.parse(readFileSync(join(root, 'package.nls.json'), 'utf8'));
  const props = pkg.contributes.configuration.properties;
  assert.deepEqual(props['mcpTokens.backend.default'].enum, without.ids);
  assert.deepEqual(props['mcpTokens.backend.namespaces'].additionalProperties.enum, without.ids);
  assert.deepEqual(props['mcpTokens.backend.default'].enumDescriptions, without.ids.map((id) => `%config.backend.${id}%`));
  for (const id of without.ids) assert.equal(typeof nls[`config.backend.${id}`], 'string', id);
});

test('the in-memory backend is named only by its own file, the registry and the pure list', () => {
  const files = (dir: string): string[] =>
    readdirSync(dir).flatMap((e) => {
      const p = join(dir, e);
      return statSync(p).isDirectory() ? files(p) : p.endsWith('.ts') ? [p] : [];
    });
  const naming = [...files(join(root, 'extension')), ...files(join(root, 'server'))]
    .filter((f) => /['"`]memory['"`]/.test(readFileSync(f, 'utf8')))
    .map((f) => relative(root, f))
    .sort();
  assert.deepEqual(naming, ['extension/backends/memory.ts', 'extension/backends/registry.ts', 'server/core/model.ts']);
});

test('each backend parses its own settings section (what config.section reads)', () => {
  const of = (values: Record<string, unknown>) => settingsSection((key) => values[key]);
  assert.deepEqual(readVaultSettings(of({})), DEFAULT_VAULT_SETTINGS);
  const vault = readVaultSettings(
    of({ address: ' https://vault.test:8200 ', mount: '/kv/', layout: 'mcpCli', authMethod: 'approle', appRoleMount: '', tlsSkipVerify: 'yes', timeoutMs: 5, caFile: 7 }),
  );
  assert.equal(vault.address, 'https://vault.test:8200');
  assert.equal(vault.mount, 'kv');
  assert.equal(vault.layout, 'mcpCli');
  assert.equal(vault.authMethod, 'approle');
  assert.equal(vault.appRoleMount, 'approle');
  assert.equal(vault.tlsSkipVerify, false, 'only `true` turns verification off');
  assert.equal(vault.timeoutMs, 500, 'clamped');
  assert.equal(vault.caFile, '');
  assert.equal(readVaultSettings(of({ layout: 'other', timeoutMs: 1e9, tlsSkipVerify: true })).timeoutMs, 120_000);

  assert.deepEqual(readKeyringSettings(of({}), '/home/u'), { service: 'mcp-cli', syncRegistry: true, registryPath: join('/home/u', '.chuk_oauth', 'token_registry.json') });
  assert.deepEqual(readKeyringSettings(of({ service: '  ', mcpCliRegistry: false, registryPath: ' /tmp/r.json ' }), '/home/u'), { service: 'mcp-cli', syncRegistry: false, registryPath: '/tmp/r.json' });
  assert.equal(readKeyringSettings(of({ service: ' team ', mcpCliRegistry: 'no' })).syncRegistry, true);
});
