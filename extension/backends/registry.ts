/**
 * The registry of secret backends: one descriptor per backend (id, label, the settings section and
 * the SecretStorage keys it owns, how it is created, where it sends values, what fixes it), read by
 * the settings (config.ts), the TokenStore's construction (index.ts), the Backends view and the
 * backend commands, so none of them names a backend. Ids and labels come from the pure list in
 * server/core/model.ts (`BACKENDS`), which the language server reads too.
 *
 * A backend marked `testOnly` there (the in-memory one) is listed only when the test switch, the
 * environment variable MCP_TOKENS_TEST_BACKENDS (comma-separated ids), names it; it is read once, in
 * store/backendIds.ts (which config.ts reads too), and is never a setting. Adding a backend:
 * docs/adding-a-backend.md.
 *
 * No runtime `vscode` import: the unit tests build registries with and without the switch.
 */
import { BACKENDS, BACKEND_LABELS, type BackendId } from '../../server/core/model';
import { WINDOW_BACKEND_IDS, parseBackendId } from '../store/backendIds';
import type { Config } from '../config';
import type { Disposable } from '../platform/event';
import type { BackendHealth, SecretBackend } from '../store/backend';
import { KeyringBackend, readKeyringSettings, type KeyringModule } from './keyring';
import { loadPackagedKeyring } from './keyringNative';
import { McpCliRegistry } from './mcpCliRegistry';
import { InMemoryBackend } from './memory';
import { SecretStorageBackend } from './secretStorage';
import { VAULT_SECRET_ID_SECRET, VAULT_SECRET_PREFIX, VAULT_TOKEN_SECRET, VaultBackend, confirmedVaultTargets, readVaultSettings } from './vault';

/** What a descriptor reads of the settings. */
export type BackendConfig = Pick<Config, 'section' | 'onDidChange' | 'historyLimits'>;

/** What a backend is created with: the extension's SecretStorage and state, its settings and log. */
export interface BackendSetup {
  /** VS Code SecretStorage (the embedded backend's store, and where backends keep their credentials). */
  readonly secrets: ConstructorParameters<typeof SecretStorageBackend>[0];
  readonly globalState: { get<T>(key: string): T | undefined };
  readonly config: BackendConfig;
  readonly log: (level: 'info' | 'warn' | 'error', message: string) => void;
  /** Whether the default, a namespace or a stored token uses this backend. */
  readonly isActive: () => boolean;
  /** Disposed when the extension stops: the backend and the subscriptions it takes. */
  readonly subscriptions: { push(...items: Disposable[]): unknown };
  /**
   * Where the package keeps its native modules (`dist/native`) and where they are unpacked (the
   * extension's global storage); without it (unit tests) the keyring loads `@napi-rs/keyring` itself.
   */
  readonly native?: { readonly dir: string; readonly cacheDir: string };
}

/** One thing a user can do about an unhealthy backend: a command to run. */
export interface BackendFix {
  readonly label: string;
  readonly command: string;
  readonly args?: readonly unknown[];
}

export interface BackendDescriptor {
  readonly id: BackendId;
  readonly label: string;
  /** Listed only under the test switch. */
  readonly testOnly: boolean;
  /** Its settings, `mcpTokens.<section>.*`: a change reconfigures it and discovers its tokens again. */
  readonly section?: string;
  /** The SecretStorage keys of its own credentials start with this (a change refreshes the Backends view). */
  readonly secretPrefix?: string;
  create(setup: BackendSetup): SecretBackend;
  /** Where it keeps values, with its address: what the gate names as the destination. */
  destination(config: BackendConfig): string;
  /** What the user can do when it is unhealthy, best first (at least one). */
  fixes(health: BackendHealth): BackendFix[];
}

type Spec = Omit<BackendDescriptor, 'id' | 'label' | 'testOnly' | 'fixes'> & { fixes?: BackendDescriptor['fixes'] };

function descriptor(id: BackendId, spec: Spec): BackendDescriptor {
  const settings: BackendFix = { label: `Open ${BACKEND_LABELS[id]} Settings`, command: 'workbench.action.openSettings', args: [`mcpTokens.${spec.section ?? 'backend'}`] };
  const entry = BACKENDS.find((b) => b.id === id);
  return { id, label: BACKEND_LABELS[id], testOnly: entry !== undefined && 'testOnly' in entry, fixes: () => [settings], ...spec };
}

/** Every backend, in the order they are listed. */
const DESCRIPTORS: readonly BackendDescriptor[] = [
  descriptor('secretStorage', {
    create: ({ secrets, subscriptions }) => {
      const backend = new SecretStorageBackend(secrets);
      subscriptions.push(backend);
      return backend;
    },
    destination: () => 'VS Code SecretStorage on this machine',
  }),

  descriptor('keyring', {
    section: 'keyring',
    create: ({ config, log, isActive, subscriptions, native }) => {
      const options = () => {
        const k = readKeyringSettings(config.section('keyring'));
        return { service: k.service, registryPath: k.registryPath, registry: k.syncRegistry ? new McpCliRegistry(k.registryPath) : undefined };
      };
      // The native module loads on first use: the package's own binary (none in the universal package).
      const load = native
        ? () =>
            loadPackagedKeyring({
              nativeDir: native.dir,
              cacheDir: native.cacheDir,
              // eslint-disable-next-line @typescript-eslint/no-require-imports
              fallback: () => require('@napi-rs/keyring') as KeyringModule,
            })
        : undefined;
      const keyring = new KeyringBackend({ ...options(), load, isActive, log });
      subscriptions.push(config.onDidChange(() => keyring.configure(options()), 'keyring'));
      return keyring;
    },
    destination: (config) => `the OS keyring (service "${readKeyringSettings(config.section('keyring')).service}")`,
  }),

  descriptor('vault', {
    section: 'vault',
    secretPrefix: VAULT_SECRET_PREFIX,
    create: ({ secrets, globalState, config, log, isActive, subscriptions }) => {
      const vault = new VaultBackend({
        settings: () => readVaultSettings(config.section('vault')),
        credentials: {
          getToken: async () => (await secrets.get(VAULT_TOKEN_SECRET)) || undefined,
          getSecretId: async () => (await secrets.get(VAULT_SECRET_ID_SECRET)) || undefined,
        },
        isActive,
        log,
        // Each secret keeps as many KV versions as the History may list (the earlier values and the current one).
        keepVersions: () => config.historyLimits().maxVersions + 1,
        // Only to an address (and TLS settings) the user confirmed: settings are writable by any extension.
        isConfirmed: (id) => confirmedVaultTargets(globalState).includes(id),
      });
      subscriptions.push(
        vault,
        config.onDidChange(() => vault.reset(), 'vault'),
        secrets.onDidChange((e) => (e.key.startsWith(VAULT_SECRET_PREFIX) ? vault.reset() : undefined)),
      );
      return vault;
    },
    destination: (config) => {
      const v = readVaultSettings(config.section('vault'));
      const path = [v.mount, v.pathPrefix].filter(Boolean).join('/');
      return `HashiCorp Vault at ${v.address || '(no address set)'}${v.namespace ? ` (namespace ${v.namespace})` : ''}, path ${path}/`;
    },
    fixes: (h) => {
      const settings: BackendFix = { label: 'Open Vault Settings', command: 'workbench.action.openSettings', args: ['mcpTokens.vault'] };
      if (!h.available) return [settings];
      return [
        { label: 'Set Vault Token…', command: 'mcpTokens.setVaultToken' },
        { label: 'Vault Login (AppRole)…', command: 'mcpTokens.vaultLogin' },
        { label: 'Use HashiCorp Vault at This Address…', command: 'mcpTokens.useVault' },
        settings,
      ];
    },
  }),

  descriptor('memory', {
    create: () => new InMemoryBackend(),
    destination: () => 'memory of this window (a test-only backend: values are lost when it closes)',
  }),
];

export interface BackendRegistry {
  /** The backends of this window, in order. */
  readonly descriptors: readonly BackendDescriptor[];
  readonly ids: readonly BackendId[];
  get(id: BackendId): BackendDescriptor | undefined;
  /** A setting's value as a listed backend id, or undefined. */
  parseId(value: unknown): BackendId | undefined;
}

/** The registry of the backends `ids` (store/backendIds.ts: this window's, or an environment's in tests). */
export function registryFor(ids: readonly BackendId[]): BackendRegistry {
  const descriptors = DESCRIPTORS.filter((d) => ids.includes(d.id));
  const listed = descriptors.map((d) => d.id);
  return {
    descriptors,
    ids: listed,
    get: (id) => descriptors.find((d) => d.id === id),
    parseId: (value) => parseBackendId(value, listed),
  };
}

/** Creates every backend of `registry`, each told whether it is in use (`uses`). */
export function createBackends(registry: BackendRegistry, setup: Omit<BackendSetup, 'isActive'>, uses: (id: BackendId) => boolean): SecretBackend[] {
  return registry.descriptors.map((d) => d.create({ ...setup, isActive: () => uses(d.id) }));
}

/** This window's registry. */
export const backendRegistry: BackendRegistry = registryFor(WINDOW_BACKEND_IDS);
