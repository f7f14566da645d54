/**
 * The gate every value passes before it leaves the store through a command (copy, export, move to
 * another backend, a sign-in that sends a stored client secret) and every irrecoverable destruction.
 * It shows a modal dialog that names what leaves and where it goes; nothing a caller passes can skip
 * it: there is no option, flag or setting for that. The launch of an MCP server has its own gate,
 * the consent dialog of the runtime feature.
 *
 * One kind of release may be agreed to once: `releaseRemembered` (Verify Token sending a token to
 * its service) remembers each agreed key (a token and the origin it goes to) in the extension's
 * globalState, which no other extension can write, and asks again for any key not agreed to (another
 * token, another host).
 */
import * as vscode from 'vscode';
import { z } from 'zod';
import type { TokenKey } from '../../server/core/reference';
import type { TokenStore } from '../store/tokenStore';
import type { AuditKind, AuditTrail } from './audit';
import { actorState } from './actor';

export interface Release {
  /** The verb of the question: "Copy", "Export", "Move", "Send". */
  readonly verb: string;
  /** What leaves, in words: "the value of bearer:github", "3 tokens (bearer:a, bearer:b, …)". */
  readonly what: string;
  /** Where it goes, naming the place: "the clipboard", "the file /home/me/x.mcptokens", a backend's address, a host. */
  readonly to: string;
  /** The confirming button, e.g. "Copy Value", "Export". */
  readonly action: string;
  /** More about the consequence. */
  readonly detail?: string;
  /** True when the command came with an automation argument (maybe another extension's). */
  readonly automation?: boolean;
}

export interface Destruction {
  /** What is replaced or deleted: "the token bearer:github", "Vault's stored token". */
  readonly what: string;
  readonly action: string;
  readonly detail?: string;
  /** The old value is kept in Recently Deleted (or can otherwise be had back). */
  readonly recoverable: boolean;
  /** Where the old value is kept when `recoverable` (default "Recently Deleted"; "History" for a version restore). */
  readonly keptIn?: 'Recently Deleted' | 'History';
  /** The caller asked not to be asked (`force`, `overwrite`). Honoured only when `recoverable`. */
  readonly skipQuestion?: boolean;
}

/** The audit kind of a release, by its verb. */
const RELEASE_KINDS: Record<string, AuditKind> = { Copy: 'copy', Export: 'export', Move: 'move', Send: 'sign-in', Verify: 'verify' };


/** Reads values; handed to a release only after the user agreed. */
export interface ValueReader {
  value(key: TokenKey): Promise<string | undefined>;
  previous(key: TokenKey): Promise<string | undefined>;
}

/** The texts of a release modal (`what`, `to` and `detail` come translated from the caller). */
export function releaseText(r: Release): { message: string; detail: string } {
  const callerNote = vscode.l10n.t('This was requested through a command with arguments: another extension may have asked for it. Cancel unless you started it.');
  return {
    message: releaseQuestion(r),
    detail: [vscode.l10n.t('{0} will leave MCP Tokens and go to {1}.', capitalize(r.what), r.to), r.detail, r.automation ? callerNote : undefined].filter(Boolean).join('\n\n'),
  };
}

/** "Copy the value of bearer:x to the clipboard?": one whole sentence per verb, for translators. */
function releaseQuestion(r: Release): string {
  switch (r.verb) {
    case 'Copy': return vscode.l10n.t('Copy {0} to {1}?', r.what, r.to);
    case 'Export': return vscode.l10n.t('Export {0} to {1}?', r.what, r.to);
    case 'Move': return vscode.l10n.t('Move {0} to {1}?', r.what, r.to);
    case 'Send': return vscode.l10n.t('Send {0} to {1}?', r.what, r.to);
    default: return vscode.l10n.t('{0} {1} to {2}?', r.verb, r.what, r.to);
  }
}

function capitalize(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

/** Where the agreed keys of `releaseRemembered` live in globalState: key → when it was agreed. */
export const REMEMBERED_STATE_KEY = 'mcpTokens.gate.remembered';
const rememberedSchema = z.record(z.string().max(4096), z.string().max(64));

export class Gate {
  constructor(
    private readonly store: TokenStore,
    private readonly log: vscode.LogOutputChannel,
    private readonly audit?: AuditTrail,
    /** The extension's globalState (the memory of `releaseRemembered`). */
    private readonly memory?: vscode.Memento,
  ) {}

  private remembered(): Record<string, string> {
    const parsed = rememberedSchema.safeParse(this.memory?.get(REMEMBERED_STATE_KEY) ?? {});
    return parsed.success ? parsed.data : {};
  }

  /** True when the user agreed to the release `key` before. */
  isRemembered(key: string): boolean {
    return Object.hasOwn(this.remembered(), key);
  }

  /** Forgets the agreed keys `match` selects (a token was deleted or replaced). */
  async forget(match: (key: string) => boolean): Promise<void> {
    const all = this.remembered();
    const kept = Object.fromEntries(Object.entries(all).filter(([k]) => !match(k)));
    if (Object.keys(kept).length !== Object.keys(all).length) await this.memory?.update(REMEMBERED_STATE_KEY, kept);
  }

  /**
   * Like `release`, but the question is asked only for keys the user did not agree to before: when
   * every key in `keys` was agreed to, `work` runs at once; otherwise the modal asks (for everything
   * `r` names), and agreeing remembers every key. Without a memory it asks every time.
   */
  async releaseRemembered<T>(r: Release, keys: readonly string[], work: (read: ValueReader) => Promise<T>): Promise<T | undefined> {
    if (this.memory && keys.length && keys.every((k) => this.isRemembered(k))) {
      this.log.info(`Allowed (agreed before): ${r.verb.toLowerCase()} ${r.what} to ${r.to}.`);
      return work(this.reader());
    }
    return this.release(r, async (read) => {
      if (this.memory) {
        const at = new Date().toISOString();
        await this.memory.update(REMEMBERED_STATE_KEY, { ...this.remembered(), ...Object.fromEntries(keys.map((k) => [k, at])) });
      }
      return work(read);
    });
  }

  private reader(): ValueReader {
    return { value: (k) => this.store.getValue(k), previous: (k) => this.store.getPreviousValue(k) };
  }

  /**
   * Notes a refusal for the audit trail: inside a command, its one event says "denied" (commands.ts
   * records it); outside one (a launch's sign-in), the gate records its own event.
   */
  private refused(kind: AuditKind, reason: string, allowed: boolean): void {
    const state = actorState();
    if (state) {
      if (!allowed) state.denied = reason;
      return;
    }
    this.audit?.record({ kind, outcome: allowed ? 'ok' : 'denied', reason });
  }

  /**
   * Asks before values leave the store; only when the user chose `action` does `work` run, with the
   * one reader of values a command gets. Resolves undefined when the user declined.
   */
  async release<T>(r: Release, work: (read: ValueReader) => Promise<T>): Promise<T | undefined> {
    const { message, detail } = releaseText(r);
    const answer = await vscode.window.showWarningMessage(message, { modal: true, detail }, r.action);
    const kind = RELEASE_KINDS[r.verb] ?? 'command';
    if (answer !== r.action) {
      this.log.info(`Declined: ${r.verb.toLowerCase()} ${r.what} to ${r.to}.`);
      this.refused(kind, `declined: ${r.verb.toLowerCase()} ${r.what} to ${r.to}`, false);
      return undefined;
    }
    this.log.info(`Allowed: ${r.verb.toLowerCase()} ${r.what} to ${r.to}.`);
    this.refused(kind, `${r.verb.toLowerCase()} ${r.what} to ${r.to}`, true);
    return work(this.reader());
  }

  /**
   * Asks before a value is replaced or deleted. A recoverable change may skip the question when the
   * caller asked so; an irrecoverable one always asks.
   */
  async destroy(d: Destruction): Promise<boolean> {
    if (d.recoverable && d.skipQuestion) return true;
    const kept = d.keptIn === 'History' ? vscode.l10n.t('The old value is kept in History in the Tokens view.') : vscode.l10n.t('The old value is kept in Recently Deleted in the Tokens view.');
    const detail = [d.detail, d.recoverable ? kept : vscode.l10n.t('This cannot be undone.')].filter(Boolean).join('\n\n');
    const answer = await vscode.window.showWarningMessage(vscode.l10n.t('{0} {1}?', d.action, d.what), { modal: true, detail }, d.action);
    if (answer !== d.action) this.refused('command', `declined: ${d.action.toLowerCase()} ${d.what}`, false);
    return answer === d.action;
  }
}
