/**
 * What the features share for localized text (README, "Localization"). Every user-visible string
 * goes through `vscode.l10n.t` at its call site (so `@vscode/l10n-dev export` finds it); this module
 * only joins finished sentences, which languages do differently (no space between sentences in
 * Chinese or Japanese), so the joiner is a translatable string too.
 */
import * as vscode from 'vscode';

/** Finished sentences one after the other ("Stored x. Its expiry comes from the JWT."); empty parts are left out. */
export function sentences(...parts: readonly (string | undefined)[]): string {
  return parts
    .filter((p): p is string => Boolean(p))
    .reduce((a, b) => (a ? vscode.l10n.t({ message: '{0} {1}', args: [a, b], comment: ['Two sentences, one after the other ({0} first)'] }) : b), '');
}
