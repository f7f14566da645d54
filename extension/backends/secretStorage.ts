/**
 * The embedded default backend: VS Code's SecretStorage (the OS credential store behind Electron's
 * safeStorage on desktop). Values live under `mcpTokens/v1/value/<namespace>:<name>`, the value
 * before the last rotation under `mcpTokens/v1/previous/<namespace>:<name>`, and the metadata index
 * beside them, one entry per token (METADATA_LAYOUT in server/core/model.ts; the old single index
 * `mcpTokens/v1/index` is kept as it was). Discovery lists the value keys (SecretStorage.keys()).
 */
import { errorText } from '../../server/core/errors';
import type * as vscode from 'vscode';
import { METADATA_LAYOUT, TRASH_NAMESPACE, type TokenMetadata } from '../../server/core/model';
import { keyId, parseKeyId, type TokenKey } from '../../server/core/reference';
import { Emitter, type Disposable, type Event } from '../platform/event';
import { BackendError, type BackendHealth, type DiscoveredToken, type MetadataStorage, type SecretBackend } from '../store/backend';

const PREFIX = 'mcpTokens/v1/';
const VALUE = `${PREFIX}value/`;
const PREVIOUS = `${PREFIX}previous/`;

type Secrets = Pick<vscode.SecretStorage, 'get' | 'store' | 'delete' | 'keys'> & { readonly onDidChange: Event<{ readonly key: string }> };

export class SecretStorageBackend implements SecretBackend, Disposable {
  readonly id = 'secretStorage' as const;
  private readonly changed = new Emitter<void>();
  private readonly subscription: Disposable;
  /** Keys this window just wrote, so its own writes are not reported as outside changes. */
  private readonly ownWrites = new Map<string, number>();
  readonly onDidChange = this.changed.event;

  constructor(private readonly secrets: Secrets) {
    this.subscription = secrets.onDidChange((e) => {
      if (!e.key.startsWith(VALUE)) return;
      const pending = this.ownWrites.get(e.key) ?? 0;
      if (pending > 0) {
        if (pending === 1) this.ownWrites.delete(e.key);
        else this.ownWrites.set(e.key, pending - 1);
        return;
      }
      this.changed.fire();
    });
  }

  dispose(): void {
    this.subscription.dispose();
    this.changed.dispose();
  }

  read(key: TokenKey): Promise<string | undefined> {
    return this.call('read', () => this.secrets.get(VALUE + keyId(key)));
  }

  async write(key: TokenKey, value: string, _meta: TokenMetadata): Promise<void> {
    this.expectOwn(VALUE + keyId(key));
    await this.call('write', () => this.secrets.store(VALUE + keyId(key), value));
  }

  async remove(key: TokenKey): Promise<void> {
    this.expectOwn(VALUE + keyId(key));
    await this.call('delete', () => this.secrets.delete(VALUE + keyId(key)));
    await this.call('delete', () => this.secrets.delete(PREVIOUS + keyId(key)));
  }

  readPrevious(key: TokenKey): Promise<string | undefined> {
    return this.call('read', () => this.secrets.get(PREVIOUS + keyId(key)));
  }

  async writePrevious(key: TokenKey, value: string | undefined): Promise<void> {
    await this.call('write', () => (value === undefined ? this.secrets.delete(PREVIOUS + keyId(key)) : this.secrets.store(PREVIOUS + keyId(key), value)));
  }

  /** Every value stored here (kept copies of the trash excluded): values without metadata are found again. */
  async discover(): Promise<DiscoveredToken[]> {
    const keys = await this.call('list', () => this.secrets.keys());
    return keys.flatMap((k) => {
      const key = k.startsWith(VALUE) ? parseKeyId(k.slice(VALUE.length)) : undefined;
      return key && key.namespace !== TRASH_NAMESPACE ? [key] : [];
    });
  }

  async health(): Promise<BackendHealth> {
    try {
      await this.secrets.get(METADATA_LAYOUT.migrated);
      return { backend: this.id, available: true, active: true, healthy: true, detail: 'Values are stored by VS Code (encrypted with the OS credential store on desktop).' };
    } catch (e) {
      return {
        backend: this.id,
        available: true,
        active: true,
        healthy: false,
        cause: `VS Code SecretStorage failed: ${errorText(e)}`,
        fix: 'On Linux, make sure a Secret Service (gnome-keyring or KWallet) is running and unlocked, or set "password-store" in argv.json.',
      };
    }
  }

  private expectOwn(key: string): void {
    this.ownWrites.set(key, (this.ownWrites.get(key) ?? 0) + 1);
  }

  private async call<T>(op: string, work: () => Thenable<T>): Promise<T> {
    try {
      return await work();
    } catch (e) {
      throw new BackendError(this.id, `VS Code SecretStorage could not ${op} a value: ${errorText(e)}`, true);
    }
  }
}

/**
 * The metadata entries, kept in SecretStorage beside the values (they share their lifetime and sync,
 * and every window of the machine sees them). Errors become BackendErrors naming SecretStorage.
 */
export class SecretStorageIndex implements MetadataStorage, Disposable {
  readonly onDidChange: Event<{ readonly key: string }>;

  constructor(private readonly secrets: Secrets) {
    this.onDidChange = secrets.onDidChange;
  }

  dispose(): void {
    // Nothing of its own: the subscriptions made through onDidChange are disposed by their owners.
  }

  get(key: string): Promise<string | undefined> {
    return this.call('read', () => this.secrets.get(key));
  }

  store(key: string, value: string): Promise<void> {
    return this.call('save', () => this.secrets.store(key, value));
  }

  delete(key: string): Promise<void> {
    return this.call('delete', () => this.secrets.delete(key));
  }

  keys(): Promise<string[]> {
    return this.call('list', () => this.secrets.keys());
  }

  private async call<T>(op: string, work: () => Thenable<T>): Promise<T> {
    try {
      return await work();
    } catch (e) {
      throw new BackendError('secretStorage', `VS Code SecretStorage could not ${op} the token metadata: ${errorText(e)}`, true);
    }
  }
}
