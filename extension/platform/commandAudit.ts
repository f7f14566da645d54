/**
 * Which commands leave an audit event and what it says. Pure (no `vscode`): `commands.ts` calls
 * `commandAuditEvent` once per run, after the handler settled. Every command that uses or changes a
 * token (and every command of class metadata, release or destroy) is recorded; read-only commands
 * (lists, views, showing metadata) are not. The event names the tokens (from the argument, or the
 * handler's result), the actor (filled in by the audit trail from the running command), and the
 * outcome: `denied` when the gate was declined, `cancelled` when the user dismissed the flow (a
 * CancelledError, or no result), `failed` with the error text, else `ok`. Never a value: the error
 * text of a bad argument (which could quote it) is not recorded.
 */
import { errorText } from '../../server/core/errors';
import { parseKeyId, type TokenKey } from '../../server/core/reference';
import type { AuditKind, AuditRecord } from './audit';
import type { CommandInput } from './commandInput';
import type { CommandSpec } from './commandTable';

/** The audit kind of each command that uses or changes a token (others of class ≠ read are `command`). */
export const COMMAND_AUDIT_KINDS: Readonly<Record<string, AuditKind>> = {
  setToken: 'set',
  copyToken: 'copy',
  deleteToken: 'delete',
  clearTokens: 'delete',
  clearExpiredTokens: 'delete',
  rotateToken: 'rotate',
  restorePreviousToken: 'restore',
  restoreTokenVersion: 'restore',
  restoreDeletedToken: 'restore',
  deleteTokenPermanently: 'delete',
  emptyRecentlyDeleted: 'delete',
  generateToken: 'generate',
  importFromEnv: 'import',
  importTokens: 'import',
  exportTokens: 'export',
  moveTokensToBackend: 'move',
  resumeMigration: 'move',
  signIn: 'sign-in',
  signOut: 'sign-out',
  refreshToken: 'refresh',
  refreshAllTokens: 'refresh',
  revokeConsent: 'consent',
  // The Verify feature's commands (another branch); recorded as soon as they exist.
  verifyToken: 'verify',
  verifyAllTokens: 'verify',
};

export interface CommandEnd {
  readonly result?: unknown;
  readonly error?: unknown;
  /** The gate's refusal noted during the run (actor state). */
  readonly denied?: string;
  readonly describe?: (error: unknown) => string;
}

/** The audit event of one command run, or undefined for a command that is not recorded. */
export function commandAuditEvent(name: string, spec: CommandSpec, input: CommandInput<unknown> | undefined, end: CommandEnd): AuditRecord | undefined {
  const kind = COMMAND_AUDIT_KINDS[name] ?? (spec.class === 'read' ? undefined : 'command');
  if (!kind) return undefined;
  const tokens = tokensOf(input, end.result);
  const actor = { command: spec.id, via: input?.via === 'args' ? ('automation' as const) : ('ui' as const) };
  if (end.error !== undefined) {
    const e = end.error as { name?: string };
    if (e?.name === 'CancelledError') return { kind, tokens, actor, outcome: 'cancelled' };
    // A bad argument's message may quote the argument (which could be a value): not recorded.
    if (!input || e?.name === 'ArgumentError') return { kind, tokens, actor, outcome: 'failed', reason: 'invalid arguments' };
    return { kind, tokens, actor, outcome: 'failed', reason: (end.describe ? end.describe(end.error) : errorText(end.error)).slice(0, 500) };
  }
  if (end.denied) return { kind, tokens, actor, outcome: 'denied', reason: end.denied.slice(0, 500) };
  if (COMMAND_AUDIT_KINDS[name] && (end.result === undefined || end.result === false)) return { kind, tokens, actor, outcome: 'cancelled', reason: 'nothing was done (dismissed, declined or nothing to do)' };
  const count = Array.isArray(end.result) ? end.result.length : typeof end.result === 'number' ? end.result : undefined;
  return { kind, tokens, actor, outcome: 'ok', ...(count !== undefined ? { reason: `${count} item${count === 1 ? '' : 's'}` } : {}) };
}

function isKey(v: unknown): v is TokenKey {
  return typeof v === 'object' && v !== null && typeof (v as TokenKey).namespace === 'string' && typeof (v as TokenKey).name === 'string';
}

/** The tokens a run concerns: the argument's key or keys, else those its result names. */
function tokensOf(input: CommandInput<unknown> | undefined, result: unknown): TokenKey[] | undefined {
  if (!input) return undefined;
  if (input.via === 'ui') {
    if (input.key) return [input.key];
  } else {
    const a = input.args as { namespace?: unknown; name?: unknown; keys?: unknown };
    if (typeof a.namespace === 'string' && typeof a.name === 'string') return [{ namespace: a.namespace, name: a.name }];
    if (Array.isArray(a.keys)) return a.keys.flatMap((k) => (typeof k === 'string' ? (parseKeyId(k) ?? []) : isKey(k) ? [k] : []));
  }
  if (isKey(result)) return [{ namespace: result.namespace, name: result.name }];
  if (Array.isArray(result)) return result.filter(isKey).map((k) => ({ namespace: k.namespace, name: k.name }));
  return undefined;
}
