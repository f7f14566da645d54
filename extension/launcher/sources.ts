/**
 * Where the launcher gets values, without VS Code: the OS keyring and Vault directly, with the
 * extension's own backend classes and layouts (mcp-cli's keyring layout and registry, the Vault KV v2
 * layouts), and SecretStorage through the running extension (channelClient.ts). No `vscode`.
 *
 * Order, for each reference (docs/launcher.md, "Where values come from"):
 *  1. A namespace the user's settings pin (`mcpTokens.backend.namespaces`) is looked up in that backend
 *     only (`secretStorage`: only through VS Code).
 *  2. Otherwise the OS keyring, then Vault (when an address is configured), then VS Code's
 *     SecretStorage through the channel: the first that holds a value wins.
 * All references still missing after the local backends go to VS Code in one request (one consent
 * dialog per launch). Any reference without a value ends the launch: nothing starts half-configured.
 */
import { BACKEND_LABELS, type BackendId } from '../../server/core/model';
import { formatReference, keyId, type TokenKey } from '../../server/core/reference';
import type { SecretBackend } from '../store/backend';
import { ChannelUnavailableError, requestValues, type ChannelClientOptions } from './channelClient';
import type { ChannelLaunch } from './channelProtocol';
import { pinnedBackend, type LauncherSettings } from './settings';
import { errorText } from '../../server/core/errors';

export type LocalBackendId = Extract<BackendId, 'keyring' | 'vault'>;

/** How messages name the backends (others by their label). */
const BACKEND_NAMES: Partial<Record<BackendId, string>> = { keyring: 'the OS keyring', vault: 'Vault', secretStorage: "VS Code's SecretStorage" };

/**
 * The backend objects, built by the composition root (extension/cli.ts) with the extension's own
 * classes: KeyringBackend (mcp-cli's layout and registry) and, when an address is configured,
 * VaultBackend.
 */
export interface LocalParts {
  readonly keyring: SecretBackend;
  readonly vault?: SecretBackend & { dispose(): void };
  /** Vault's address, for messages. */
  readonly vaultAddress?: string;
}

/** The keyring and (when configured) Vault backends of the launcher, in the lookup order of the settings. */
export class LocalBackends {
  readonly keyring: SecretBackend;
  readonly vault: (SecretBackend & { dispose(): void }) | undefined;
  readonly vaultAddress: string | undefined;

  constructor(
    readonly options: { readonly settings: LauncherSettings },
    parts: LocalParts,
  ) {
    this.keyring = parts.keyring;
    this.vault = parts.vault;
    this.vaultAddress = parts.vaultAddress;
  }

  /** The local backends that may hold `namespace`, in lookup order (see the header). */
  order(namespace: string): LocalBackendId[] {
    const pinned = pinnedBackend(this.options.settings, namespace);
    if (pinned === 'secretStorage') return [];
    if (pinned === 'vault') return this.vault ? ['vault'] : [];
    if (pinned === 'keyring') return ['keyring'];
    return this.vault ? ['keyring', 'vault'] : ['keyring'];
  }

  /** Whether VS Code's SecretStorage may hold `namespace` (not pinned to a local backend). */
  channelMayHold(namespace: string): boolean {
    const pinned = pinnedBackend(this.options.settings, namespace);
    return pinned === undefined || pinned === 'secretStorage';
  }

  backend(id: LocalBackendId): SecretBackend | undefined {
    return id === 'keyring' ? this.keyring : this.vault;
  }

  describe(id: BackendId): string {
    return id === 'vault' && this.vaultAddress ? `Vault at ${this.vaultAddress}` : (BACKEND_NAMES[id] ?? BACKEND_LABELS[id]);
  }

  dispose(): void {
    this.vault?.dispose();
  }
}

/** Where each value came from (`namespace:name` → backend). */
export interface Resolved {
  readonly values: Map<string, string>;
  readonly sources: Map<string, BackendId>;
  /** The keys asked of VS Code (the extension records those in its audit log). */
  readonly asked: ReadonlySet<string>;
}

/** Why a launch cannot get its values; `lines` name each reference and the fix, never a value. */
export class LaunchRefused extends Error {
  constructor(
    readonly lines: string[],
    /** Per reference, what happened (for the audit log). */
    readonly outcomes: ReadonlyMap<string, 'missing' | 'denied' | 'failed'>,
    readonly asked: ReadonlySet<string>,
    readonly sources: ReadonlyMap<string, BackendId>,
  ) {
    super(lines.join('\n'));
    this.name = 'LaunchRefused';
  }
}

export interface ResolveOptions {
  readonly channel?: ChannelClientOptions;
  /** The launch, as VS Code shows it in its consent dialog. */
  readonly launch: ChannelLaunch;
}

/** Reads every key (see the order in the header). Throws LaunchRefused when any stays without a value. */
export async function resolveKeys(backends: LocalBackends, keys: readonly TokenKey[], options: ResolveOptions): Promise<Resolved> {
  const values = new Map<string, string>();
  const sources = new Map<string, BackendId>();
  const notes = new Map<string, string[]>();
  const note = (key: TokenKey, text: string) => notes.set(keyId(key), [...(notes.get(keyId(key)) ?? []), text]);
  const looked = new Map<string, BackendId[]>();
  const remote: TokenKey[] = [];
  for (const key of keys) {
    const order = backends.order(key.namespace);
    looked.set(keyId(key), [...order]);
    let found = false;
    for (const id of order) {
      try {
        const value = await backends.backend(id)?.read(key);
        if (value !== undefined && value !== '') {
          values.set(keyId(key), value);
          sources.set(keyId(key), id);
          found = true;
          break;
        }
      } catch (e) {
        note(key, errorText(e));
      }
    }
    if (!found && backends.channelMayHold(key.namespace)) remote.push(key);
  }

  const lines: string[] = [];
  const outcomes = new Map<string, 'missing' | 'denied' | 'failed'>();
  if (remote.length) {
    for (const key of remote) looked.get(keyId(key))!.push('secretStorage');
    try {
      const answer = await requestValues({ refs: remote.map((k) => ({ namespace: k.namespace, name: k.name })), launch: options.launch }, options.channel);
      if (answer.ok) {
        for (const key of remote) {
          const v = answer.values[keyId(key)];
          if (v !== undefined) {
            values.set(keyId(key), v);
            sources.set(keyId(key), 'secretStorage');
          }
        }
      } else if (answer.code === 'missing') {
        for (const id of answer.missing ?? []) notes.set(id, [...(notes.get(id) ?? []), 'VS Code has no such token.']);
      } else {
        const fix =
          answer.code === 'denied'
            ? 'Start it again and choose "Allow" in VS Code, or change the consent with "MCP Tokens: Revoke Consent…".'
            : answer.code === 'unauthorized'
              ? 'The channel secret did not match: reload the VS Code window, then start it again.'
              : 'Check the launcher and the extension are the same version.';
        for (const key of remote) outcomes.set(keyId(key), answer.code === 'denied' ? 'denied' : 'failed');
        lines.push(`VS Code refused ${remote.map((k) => formatReference(k)).join(', ')} (${answer.code}): ${answer.message.slice(0, 500)} ${fix}`);
      }
    } catch (e) {
      if (!(e instanceof ChannelUnavailableError)) throw e;
      for (const key of remote) outcomes.set(keyId(key), 'failed');
      const local = [...new Set(remote.flatMap((k) => backends.order(k.namespace)))].map((b) => backends.describe(b));
      lines.push(`${remote.map((k) => formatReference(k)).join(', ')}: ${local.length ? `not in ${local.join(' or ')}` : 'kept in SecretStorage only'}, and ${e.message}`);
    }
  }
  for (const key of keys) {
    const id = keyId(key);
    if (values.has(id) || outcomes.has(id)) continue;
    outcomes.set(id, 'missing');
    const where = (looked.get(id) ?? []).map((b) => backends.describe(b)).join(', ') || 'no backend (its namespace is pinned to Vault, which is not configured)';
    const why = notes.get(id)?.length ? ` (${notes.get(id)!.join(' ').slice(0, 600)})` : '';
    lines.push(
      `${formatReference(key)} has no value: looked in ${where}${why}. Fix: store it with "MCP Tokens: Set Token…" in VS Code or \`mcp-tokens set ${id}\`, or correct the reference.`,
    );
  }
  const asked = new Set(remote.map(keyId));
  if (lines.length) throw new LaunchRefused(lines, outcomes, asked, sources);
  return { values, sources, asked };
}
