/**
 * The consent modals: a served server's launch (provider.ts) and a request of the `mcp-tokens`
 * launcher (launcherAccess.ts). One question, a detail naming the launch as it will run, and the
 * same three answers; never a value.
 */
import * as vscode from 'vscode';
import { formatReference, type TokenKey } from '../../server/core/reference';
import type { ServerIdentity } from './consent';
import type { ConsentChoice } from './launcherAccess';

/**
 * Asks `question` in a modal with Allow Once / Always Allow / Deny; `detail` gets the translated
 * "Always Allow" label to name it. Undefined when the modal is dismissed.
 */
export async function consentModal(question: string, detail: (always: string) => string): Promise<ConsentChoice> {
  const once = vscode.l10n.t('Allow Once');
  const always = vscode.l10n.t('Always Allow');
  const deny = vscode.l10n.t('Deny');
  const choice = await vscode.window.showWarningMessage(question, { modal: true, detail: detail(always) }, once, always, deny);
  return choice === once ? 'once' : choice === always ? 'always' : choice === deny ? 'deny' : undefined;
}

/** The launcher's request: its command line and the program that started it (identity.target). */
export function askLauncherConsent(identity: ServerIdentity, keys: readonly TokenKey[]): Promise<ConsentChoice> {
  return consentModal(vscode.l10n.t('The mcp-tokens launcher asks for {0}. Allow?', keys.map((k) => formatReference(k)).join(', ')), (always) =>
    [
      identity.target,
      vscode.l10n.t(
        'The value goes to exactly this command line, started by the program named above. "{0}" is remembered until you revoke it under the token in the Tokens view; any change to the command, its arguments, its directory or the program that starts it asks again.',
        always,
      ),
    ].join('\n\n'),
  );
}
