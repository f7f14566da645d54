/** Words and Markdown that describe a token's metadata (never its value). Pure. */
import { BACKEND_LABELS, TOKEN_TYPE_LABELS, describeExpiry, expiryState, verifiedRows, type TokenMetadata } from '../../server/core/model';
import { providerLabel } from '../../server/core/formats';
import { jwtRows } from '../../server/core/jwt';
import { escapeMarkdown } from '../../server/core/markdown';
import { formatReference } from '../../server/core/reference';

function when(iso: string | undefined): string {
  return iso ? new Date(iso).toLocaleString() : '—';
}

/** One line for tree items and quick picks: "Bearer token · expires in 3 days". */
export function shortDescription(meta: TokenMetadata, now: Date): string {
  const parts = [TOKEN_TYPE_LABELS[meta.type]];
  if (meta.expiresAt) parts.push(describeExpiry(meta, now));
  if (meta.oauth?.signInRequired) parts.push('sign-in required');
  if (meta.lastVerified) parts.push(meta.lastVerified.ok ? `✓ ${meta.lastVerified.identity ?? 'verified'}` : '✗ verify failed');
  return parts.join(' · ');
}

/** Plain-text lines, for a modal's detail. */
export function detailLines(meta: TokenMetadata, now: Date): string[] {
  return [
    `Reference: ${formatReference(meta)}`,
    `Type: ${TOKEN_TYPE_LABELS[meta.type]}`,
    `Backend: ${BACKEND_LABELS[meta.backend]}`,
    `Created: ${when(meta.createdAt)}`,
    `Updated: ${when(meta.updatedAt)}`,
    `Expires: ${meta.expiresAt ? `${when(meta.expiresAt)} (${describeExpiry(meta, now)})` : 'never'}`,
    `Last used: ${when(meta.lastUsedAt)}`,
    ...(meta.provider ? [`Provider: ${providerLabel(meta.provider)}`] : []),
    ...(meta.description ? [`Description: ${meta.description}`] : []),
    ...jwtRows(meta.jwt).map(([k, v]) => `${k}: ${v}`),
    ...(meta.hasPrevious ? ['A previous value is kept and can be restored.'] : []),
    ...(meta.oauth?.issuer ? [`OAuth issuer: ${meta.oauth.issuer}`] : []),
    ...(meta.oauth?.scopes?.length ? [`Scopes: ${meta.oauth.scopes.join(' ')}`] : []),
    ...(meta.lastVerified ? verifiedRows(meta.lastVerified, when).map(([k, v]) => `${k}: ${v}`) : []),
  ];
}

/** A Markdown table of the metadata, for tooltips and hovers. */
export function markdownDescription(meta: TokenMetadata, now: Date, soonDays: number): string {
  const state = expiryState(meta, now, soonDays);
  const rows: [string, string][] = [
    ['Type', TOKEN_TYPE_LABELS[meta.type]],
    ['Namespace', meta.namespace],
    ['Backend', BACKEND_LABELS[meta.backend]],
    ['Created', when(meta.createdAt)],
    ['Updated', when(meta.updatedAt)],
    ['Expires', meta.expiresAt ? `${when(meta.expiresAt)} (${describeExpiry(meta, now)})` : 'never'],
    ['Last used', when(meta.lastUsedAt)],
  ];
  if (meta.provider) rows.push(['Provider', providerLabel(meta.provider)]);
  if (meta.description) rows.push(['Description', meta.description]);
  rows.push(...jwtRows(meta.jwt));
  if (meta.oauth?.issuer) rows.push(['Issuer', meta.oauth.issuer]);
  if (meta.oauth?.scopes?.length) rows.push(['Scopes', meta.oauth.scopes.join(' ')]);
  if (meta.lastVerified) rows.push(...verifiedRows(meta.lastVerified, when));
  const warn = state === 'expired' ? '\n\n$(warning) **Expired.** Rotate or set a new value.' : state === 'soon' ? '\n\n$(clock) **Expires soon.**' : '';
  return (
    `**${escapeMarkdown(meta.namespace)}:${escapeMarkdown(meta.name)}**  \n\`${formatReference(meta)}\`\n\n| | |\n|---|---|\n` +
    rows.map(([k, v]) => `| ${k} | ${escapeMarkdown(v)} |`).join('\n') +
    warn
  );
}
