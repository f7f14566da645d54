/**
 * What the expiry watch shows: the tokens that have expired and those about to, the status bar text,
 * and which of them to notify about (once per token, state and session). Pure (no `vscode`), for
 * unit tests with an injected clock.
 */
import { describeExpiry, expiryState, renewsItself, type TokenMetadata } from '../../server/core/model';
import { keyId } from '../../server/core/reference';

export interface ExpiryNotice {
  readonly token: TokenMetadata;
  readonly state: 'expired' | 'soon';
  /** "MCP token bearer:x expired 2 days ago." */
  readonly message: string;
  /** The key of the notice in the session's "notified" set: a token that goes from soon to expired is notified again. */
  readonly id: string;
}

export interface ExpiryReport {
  readonly expired: TokenMetadata[];
  readonly soon: TokenMetadata[];
  /** Undefined: the status bar item is hidden. */
  readonly statusText?: string;
  readonly tooltipLines: string[];
  readonly notices: ExpiryNotice[];
}

/** The report for `tokens` at `now`; `notified` holds the notice ids already shown this session. */
export function expiryReport(tokens: readonly TokenMetadata[], now: Date, soonDays: number, notified: ReadonlySet<string>): ExpiryReport {
  // OAuth tokens with a refresh token renew themselves; only their sign-in state matters.
  const watched = tokens.filter((t) => !renewsItself(t));
  const expired = watched.filter((t) => expiryState(t, now, soonDays) === 'expired');
  const soon = watched.filter((t) => expiryState(t, now, soonDays) === 'soon');
  const total = expired.length + soon.length;
  const notices: ExpiryNotice[] = [
    ...expired.map((t) => ({ token: t, state: 'expired' as const })),
    ...soon.map((t) => ({ token: t, state: 'soon' as const })),
  ]
    .map((n) => ({ ...n, id: `${keyId(n.token)}#${n.state}#${n.token.expiresAt ?? ''}`, message: `MCP token ${keyId(n.token)} ${describeExpiry(n.token, now)}.` }))
    .filter((n) => !notified.has(n.id));
  return {
    expired,
    soon,
    statusText: total ? `$(${expired.length ? 'warning' : 'clock'}) ${total} MCP token${total === 1 ? '' : 's'}` : undefined,
    tooltipLines: [...expired.map((t) => `$(warning) \`${keyId(t)}\` ${describeExpiry(t, now)}`), ...soon.map((t) => `$(clock) \`${keyId(t)}\` ${describeExpiry(t, now)}`)],
    notices,
  };
}
