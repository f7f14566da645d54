/**
 * The embedded default backend: VS Code's SecretStorage (the OS credential store behind Electron's
 * safeStorage on desktop). Values live under `mcpTokens/v1/value/<namespace>:<name>`, the value
 * before the last rotation under `mcpTokens/v1/previous/<namespace>:<name>`, and the metadata index
 * beside them under `mcpTokens/v1/index`.
 */
import type * as vscode from 'vscode';
import type { TokenMetadata } from '../../server/core/model';
import { keyId, type TokenKey } from '../../server/core/reference';
import { Emitter, type Disposable } from '../util/event';
import { BackendError, type BackendHealth, type IndexStorage, type SecretBackend } from './backend';

const PREFIX = 'mcpTokens/v1/';
const VALUE = `${PREFIX}value/`;
const PREVIOUS = `${PREFIX}previous/`;
export const INDEX_KEY = `${PREFIX}index`;

type Secrets = Pick<vscode.SecretStorage, 'get' | 'store' | 'delete' | 'onDidChange'> & { keys?: () => Thenable<string[]> };

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

  async health(): Promise<BackendHealth> {
    try {
      await this.secrets.get(INDEX_KEY);
      return { backend: this.id, available: true, active: true, healthy: true, detail: 'Values are stored by VS Code (encrypted with the OS credential store on desktop).' };
    } catch (e) {
      return {
        backend: this.id,
        available: true,
        active: true,
        healthy: false,
        cause: `VS Code SecretStorage failed: ${e instanceof Error ? e.message : String(e)}`,
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
      throw new BackendError(this.id, `VS Code SecretStorage could not ${op} a value: ${e instanceof Error ? e.message : String(e)}`, true);
    }
  }
}

/** The metadata index, kept in SecretStorage beside the values (it shares their lifetime and sync). */
export class SecretStorageIndex implements IndexStorage, Disposable {
  private lastSaved: string | undefined;
  private readonly changed = new Emitter<void>();
  private readonly subscription: Disposable;
  readonly onDidChange = this.changed.event;

  constructor(private readonly secrets: Secrets) {
    this.subscription = secrets.onDidChange(async (e) => {
      if (e.key !== INDEX_KEY) return;
      const now = await secrets.get(INDEX_KEY);
      if (now !== this.lastSaved) {
        this.lastSaved = now;
        this.changed.fire();
      }
    });
  }

  dispose(): void {
    this.subscription.dispose();
    this.changed.dispose();
  }

  async load(): Promise<string | undefined> {
    this.lastSaved = await this.secrets.get(INDEX_KEY);
    return this.lastSaved;
  }

  async save(json: string): Promise<void> {
    this.lastSaved = json;
    try {
      await this.secrets.store(INDEX_KEY, json);
    } catch (e) {
      throw new BackendError('secretStorage', `VS Code SecretStorage could not save the token index: ${e instanceof Error ? e.message : String(e)}`, true);
    }
  }
}
