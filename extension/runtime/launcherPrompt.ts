/** The consent modal for a request of the `mcp-tokens` launcher (see launcherAccess.ts). */
import * as vscode from 'vscode';
import { formatReference, type TokenKey } from '../../server/core/reference';
import type { ServerIdentity } from './consent';
import type { ConsentChoice } from './launcherAccess';

export async function askLauncherConsent(identity: ServerIdentity, keys: readonly TokenKey[]): Promise<ConsentChoice> {
  const once = 'Allow Once';
  const always = 'Always Allow';
  const deny = 'Deny';
  const choice = await vscode.window.showWarningMessage(
    `The mcp-tokens launcher asks for ${keys.map((k) => formatReference(k)).join(', ')}. Allow?`,
    {
      modal: true,
      detail:
        `${identity.target}\n\n` +
        'The value goes to exactly this command line, started by the program named above. "Always Allow" is remembered until you revoke it under the token in the Tokens view; any change to the command, its arguments, its directory or the program that starts it asks again.',
    },
    once,
    always,
    deny,
  );
  return choice === once ? 'once' : choice === always ? 'always' : choice === deny ? 'deny' : undefined;
}
