/** The consent modal for a request of the `mcp-tokens` launcher (see launcherAccess.ts). */
import * as vscode from 'vscode';
import { formatReference, type TokenKey } from '../../server/core/reference';
import type { ServerIdentity } from './consent';
import type { ConsentChoice } from './launcherAccess';

export async function askLauncherConsent(identity: ServerIdentity, keys: readonly TokenKey[]): Promise<ConsentChoice> {
  const once = vscode.l10n.t('Allow Once');
  const always = vscode.l10n.t('Always Allow');
  const deny = vscode.l10n.t('Deny');
  const choice = await vscode.window.showWarningMessage(
    vscode.l10n.t('The mcp-tokens launcher asks for {0}. Allow?', keys.map((k) => formatReference(k)).join(', ')),
    {
      modal: true,
      detail: [
        identity.target,
        vscode.l10n.t(
          'The value goes to exactly this command line, started by the program named above. "{0}" is remembered until you revoke it under the token in the Tokens view; any change to the command, its arguments, its directory or the program that starts it asks again.',
          always,
        ),
      ].join('\n\n'),
    },
    once,
    always,
    deny,
  );
  return choice === once ? 'once' : choice === always ? 'always' : choice === deny ? 'deny' : undefined;
}
