/**
 * The MCP runtime feature: token-aware server files, the server definition provider, consent,
 * audit, the Servers view, and the commands around them. `registerMcpRuntime(services)` is the one
 * call `activate` makes.
 */
import * as vscode from 'vscode';
import { formatReference, parseKeyId, type TokenKey } from '../../server/core/reference';
import { ArgumentError, inputKey, registerCommandGroup, type CommandInput } from '../platform/commands';
import type { ArgsOf } from '../platform/commandTable';
import type { Services } from '../services';
import { ConsentStore } from './consent';
import { ServerFiles, userServersFile } from './files';
import { McpRuntime, PROVIDER_ID } from './provider';
import { moveServer, MoveServerError } from './moveServer';
import { registerServersView } from './view';
import { LauncherGate } from './launcherAccess';
import { askLauncherConsent } from './consentPrompt';
import type { LauncherAccess } from '../platform/launcherAccess';
import { WORKSPACE_TOKENS_FILE } from '../../server/core/mcpConfig';

const USER_FILE_TEMPLATE = `{
\t// MCP servers served by MCP Token Manager, with $<TOKEN:namespace:name> references resolved at
\t// each start. Same schema as VS Code's mcp.json; VS Code does not read this file itself.
\t"servers": {},
\t"inputs": []
}
`;


/** The runtime, and what it offers the launcher's channel (handed to it by `activate`). */
export function registerMcpRuntime(s: Services): { runtime: McpRuntime; launcherAccess: LauncherAccess } {
  const files = new ServerFiles(s);
  const consent = new ConsentStore(s.context.globalState);
  const runtime = new McpRuntime(s, files, consent);
  s.context.subscriptions.push(files, consent, runtime);
  // The launcher's channel (extension/launcher) reaches consent, values and audit through this.
  const launcherAccess = new LauncherGate({ store: s.store, consent, audit: s.audit, prompt: askLauncherConsent, ensureFresh: (key, name) => s.oauth.ensureFresh(key, { name }), log: s.log });

  const lm = vscode.lm as Partial<typeof vscode.lm>;
  if (typeof lm.registerMcpServerDefinitionProvider === 'function') {
    s.context.subscriptions.push(lm.registerMcpServerDefinitionProvider(PROVIDER_ID, runtime));
  } else {
    s.log.warn('This VS Code has no MCP server definition provider API; token-aware MCP servers are not served.');
  }

  registerCommandGroup(s, {
    openUserServersFile: async () => {
      const uri = userServersFile(s.context);
      await ensureFile(uri, USER_FILE_TEMPLATE);
      await vscode.window.showTextDocument(await vscode.workspace.openTextDocument(uri));
    },
    openWorkspaceServersFile: async () => {
      const folders = vscode.workspace.workspaceFolders ?? [];
      const folder = folders.length <= 1 ? folders[0] : await vscode.window.showWorkspaceFolderPick();
      if (!folder) {
        if (folders.length === 0) void vscode.window.showInformationMessage(vscode.l10n.t('Open a folder first; the workspace servers file is .vscode/mcp.tokens.json in it.'));
        return;
      }
      const uri = vscode.Uri.joinPath(folder.uri, WORKSPACE_TOKENS_FILE);
      await ensureFile(uri, USER_FILE_TEMPLATE);
      await vscode.window.showTextDocument(await vscode.workspace.openTextDocument(uri));
    },
    moveServerToTokenFile: (input) => moveServerCommand(s, input),
    // Consent: revocation (the "Allowed servers" under each token in the Tokens view, or a pick).
    revokeConsent: async (input) => {
      let key: TokenKey;
      let fp: string | undefined;
      const given = inputKey(input);
      if (given) {
        key = given;
        const data = input.via === 'ui' ? input.element?.data : input.args.fingerprint;
        fp = typeof data === 'string' ? data : undefined;
      } else {
        const picks = consent.tokens().flatMap((id) => {
          const k = parseKeyId(id);
          return k ? consent.listForToken(k).map((r) => ({ label: `${r.server}`, description: `${r.decision} · ${formatReference(k)}`, detail: `${r.target.replace(/\n/g, ' · ')} · ${r.file}`, key: k, fp: r.fingerprint })) : [];
        });
        if (picks.length === 0) {
          void vscode.window.showInformationMessage(vscode.l10n.t('No server has been allowed or denied a token yet.'));
          return false;
        }
        const pick = await vscode.window.showQuickPick(picks, { placeHolder: vscode.l10n.t('Forget the decision for…') });
        if (!pick) return false;
        key = pick.key;
        fp = pick.fp;
      }
      const done = await consent.revoke(key, fp);
      if (done) s.log.info(`Revoked consent for ${formatReference(key)}${fp ? ` (server ${fp.slice(0, 12)})` : ' (all servers)'}.`);
      return done;
    },
  });
  hookAllowedServers(s, consent);

  registerServersView(s, runtime);
  return { runtime, launcherAccess };
}

/** Adds "Allowed servers" children under each token in the Tokens view. */
function hookAllowedServers(s: Services, consent: ConsentStore): void {
  s.context.subscriptions.push(
    s.tokensView.addChildSource((token) =>
      consent.listForToken(token).map((r) => ({
        id: `consent:${r.fingerprint}`,
        label: r.server,
        description: r.decision === 'always' ? vscode.l10n.t('allowed') : vscode.l10n.t('denied'),
        // The launch the decision covers, as the consent dialog showed it (no value in it).
        tooltip: [
          r.decision === 'always' ? vscode.l10n.t('Allowed on {0}', r.decidedAt) : vscode.l10n.t('Denied on {0}', r.decidedAt),
          r.target,
          vscode.l10n.t('File: {0}', r.file),
        ].join('\n'),
        icon: r.decision === 'always' ? 'pass' : 'circle-slash',
        contextValue: 'consent',
        data: r.fingerprint,
      })),
    ),
    consent.onDidChange(() => s.tokensView.refresh()),
  );
}

async function ensureFile(uri: vscode.Uri, template: string): Promise<void> {
  try {
    await vscode.workspace.fs.stat(uri);
  } catch {
    await vscode.workspace.fs.createDirectory(vscode.Uri.joinPath(uri, '..'));
    await vscode.workspace.fs.writeFile(uri, new TextEncoder().encode(template));
  }
}

/** Where a server moved out of `source` goes: the folder's `.vscode/mcp.tokens.json`, else the user file. */
export function moveTarget(s: Services, source: vscode.Uri): vscode.Uri {
  if (source.path.endsWith('/.vscode/mcp.json')) return vscode.Uri.joinPath(source, '..', 'mcp.tokens.json');
  return userServersFile(s.context);
}

async function readText(uri: vscode.Uri): Promise<string | undefined> {
  const open = vscode.workspace.textDocuments.find((d) => d.uri.toString() === uri.toString());
  if (open) return open.getText();
  try {
    return new TextDecoder().decode(await vscode.workspace.fs.readFile(uri));
  } catch {
    return undefined;
  }
}

async function moveServerCommand(s: Services, input: CommandInput<ArgsOf<'moveServerToTokenFile'>>): Promise<boolean> {
  let uri: vscode.Uri;
  let serverName: string;
  if (input.via === 'args') {
    const given = input.args.uri;
    if (typeof given === 'string') uri = vscode.Uri.parse(given);
    else if (given instanceof vscode.Uri) uri = given;
    else throw new ArgumentError('mcpTokens.moveServerToTokenFile expects {uri, serverName}: uri is a string or a Uri.');
    serverName = input.args.serverName;
    // The same files the interactive command works on: an MCP client's `mcp.json`, nothing else.
    if (!/(^|\/)mcp\.json$/.test(uri.path)) throw new ArgumentError('mcpTokens.moveServerToTokenFile moves a server out of an mcp.json file only.');
  } else {
    const editor = vscode.window.activeTextEditor;
    if (!editor || !/mcp\.json$/.test(editor.document.uri.path)) {
      void vscode.window.showInformationMessage(vscode.l10n.t('Open the mcp.json that defines the server, then run "Move Server to MCP Tokens" again.'));
      return false;
    }
    uri = editor.document.uri;
    const { parseMcpConfig } = await import('../../server/core/mcpConfig');
    const names = parseMcpConfig(editor.document.getText()).servers.map((x) => x.name);
    const pick = await vscode.window.showQuickPick(names, { placeHolder: vscode.l10n.t('Server to move to the MCP Tokens file') });
    if (!pick) return false;
    serverName = pick;
  }
  const sourceText = await readText(uri);
  if (sourceText === undefined) throw new Error(vscode.l10n.t('Cannot read {0}.', uri.toString()));
  const target = moveTarget(s, uri);
  const targetText = await readText(target);
  let result;
  try {
    result = moveServer(sourceText, targetText, serverName);
  } catch (e) {
    if (e instanceof MoveServerError) {
      void vscode.window.showErrorMessage(e.message);
      return false;
    }
    throw e;
  }
  const edit = new vscode.WorkspaceEdit();
  const whole = (text: string) => {
    const lines = text.split('\n');
    return new vscode.Range(0, 0, lines.length - 1, lines[lines.length - 1].length);
  };
  edit.replace(uri, whole(sourceText), result.source);
  if (targetText === undefined) {
    edit.createFile(target, { ignoreIfExists: true, contents: new TextEncoder().encode(result.target) });
  } else {
    edit.replace(target, whole(targetText), result.target);
  }
  const ok = await vscode.workspace.applyEdit(edit, { isRefactoring: true });
  if (!ok) throw new Error(vscode.l10n.t('The edit could not be applied.'));
  // Save both so VS Code stops serving the server and MCP Tokens starts serving it.
  for (const u of [uri, target]) await vscode.workspace.textDocuments.find((d) => d.uri.toString() === u.toString())?.save();
  s.log.info(`Moved MCP server "${serverName}" to ${vscode.workspace.asRelativePath(target)}${result.copiedInputs.length ? ` with inputs ${result.copiedInputs.join(', ')}` : ''}.`);
  return true;
}
