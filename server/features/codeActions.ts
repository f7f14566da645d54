/**
 * Code actions: create a missing token, replace an unknown reference by a suggestion, convert
 * between `${TOKEN:...}` and `$<TOKEN:...>`, and move a hard-coded secret into the store.
 * Store changes run as commands the server executes (protocol.ts SERVER_COMMANDS; features/commands.ts).
 */
import { CodeActionKind, type CodeAction, type CodeActionContext, type Diagnostic, type Range } from 'vscode-languageserver/node';
import type { TextDocument } from 'vscode-languageserver-textdocument';
import { formatReference, keyId, type ReferenceForm } from '../core/reference';
import { CreateTokenCommand, DIAGNOSTIC_CODES, DIAGNOSTIC_SOURCE, MoveSecretCommand, commandFor } from '../core/protocol';
import type { KeyData, SecretData, UnresolvedData } from './diagnostics';
import { referenceAt, shortPath, toRange, type FeatureContext } from './common';
import { wrapServerEdit } from '../core/launcherWrap';
import type { McpFileClass } from '../core/mcpFiles';
import { launcherCommand } from './launcherPath';

/** The extension's "Move Server to MCP Tokens" command (argument `{uri, serverName}`). */
const MOVE_SERVER_COMMAND = 'mcpTokens.moveServerToTokenFile';

export function codeActions(ctx: FeatureContext, doc: TextDocument, range: Range, context: CodeActionContext): CodeAction[] {
  const cls = ctx.workspace.classify(doc.uri);
  if (!cls) return [];
  const text = doc.getText();
  const out: CodeAction[] = [];
  const only = context.only;
  const wants = (kind: string) => !only || only.some((k) => kind === k || kind.startsWith(`${k}.`));

  for (const d of context.diagnostics) {
    if (d.source !== DIAGNOSTIC_SOURCE || !wants(CodeActionKind.QuickFix)) continue;
    const ref = referenceAt(text, doc.offsetAt(d.range.start));
    switch (d.code) {
      case DIAGNOSTIC_CODES.unknownNamespace:
      case DIAGNOSTIC_CODES.unknownToken: {
        const data = d.data as KeyData | undefined;
        if (!data?.key) break;
        for (const s of data.suggestions ?? []) {
          if (ref?.kind !== 'reference') break;
          out.push({
            title: `Change to ${formatReference(s, ref.form)}`,
            kind: CodeActionKind.QuickFix,
            diagnostics: [d],
            edit: { changes: { [doc.uri]: [{ range: toRange(doc, ref.start, ref.end), newText: formatReference(s, ref.form) }] } },
          });
        }
        const title = `Create token ${keyId(data.key)}…`;
        out.push({
          title,
          kind: CodeActionKind.QuickFix,
          diagnostics: [d],
          isPreferred: !data.suggestions?.length,
          command: commandFor(CreateTokenCommand, title, { key: data.key }),
        });
        break;
      }
      case DIAGNOSTIC_CODES.braceInVsCodeFile:
      case DIAGNOSTIC_CODES.wrongForm: {
        if (ref?.kind !== 'reference') break;
        const target: ReferenceForm = ref.form === 'angle' ? 'brace' : 'angle';
        out.push({
          title: `Convert to ${formatReference(ref, target)}`,
          kind: CodeActionKind.QuickFix,
          diagnostics: [d],
          isPreferred: true,
          edit: { changes: { [doc.uri]: [{ range: toRange(doc, ref.start, ref.end), newText: formatReference(ref, target) }] } },
        });
        break;
      }
      case DIAGNOSTIC_CODES.hardCodedSecret:
        out.push(moveSecretAction(doc, d, cls.preferredForm));
        break;
      case DIAGNOSTIC_CODES.unresolvedByClient:
        serverActions(doc, d, cls, out);
        break;
    }
  }

  // Refactoring: convert the reference under the cursor to the other form.
  if (wants(CodeActionKind.RefactorRewrite)) {
    const ref = referenceAt(text, doc.offsetAt(range.start));
    if (ref?.kind === 'reference') {
      const target: ReferenceForm = ref.form === 'angle' ? 'brace' : 'angle';
      const title = `Convert to ${formatReference(ref, target)}`;
      if (!out.some((a) => a.title === title)) {
        out.push({
          title,
          kind: CodeActionKind.RefactorRewrite,
          edit: { changes: { [doc.uri]: [{ range: toRange(doc, ref.start, ref.end), newText: formatReference(ref, target) }] } },
        });
      }
    }
  }
  return out;
}

/**
 * On a reference the file's client passes on as text: run the server through the launcher (one
 * edit of that server), and for VS Code's own mcp.json files move it to the token-aware file.
 * Once per server, however many of its references are flagged.
 */
function serverActions(doc: TextDocument, d: Diagnostic, cls: McpFileClass, out: CodeAction[]): void {
  const server = (d.data as UnresolvedData | undefined)?.server;
  if (!server) return;
  const wrapTitle = `Run through MCP Tokens launcher ("${server}")`;
  if (!out.some((a) => a.title === wrapTitle)) {
    const text = doc.getText();
    const edit = wrapServerEdit(text, server, launcherCommand());
    if (edit) {
      out.push({
        title: wrapTitle,
        kind: CodeActionKind.QuickFix,
        diagnostics: [d],
        isPreferred: true,
        edit: { changes: { [doc.uri]: [{ range: toRange(doc, edit.start, edit.end), newText: edit.newText }] } },
      });
    }
  }
  const moveTitle = `Move Server to MCP Tokens ("${server}")`;
  if ((cls.kind === 'vscode' || cls.kind === 'vscode-user') && !out.some((a) => a.title === moveTitle)) {
    out.push({
      title: moveTitle,
      kind: CodeActionKind.QuickFix,
      diagnostics: [d],
      command: { title: moveTitle, command: MOVE_SERVER_COMMAND, arguments: [{ uri: doc.uri, serverName: server }] },
    });
  }
}

function moveSecretAction(doc: TextDocument, d: Diagnostic, form: ReferenceForm): CodeAction {
  const data = d.data as SecretData;
  const replacement = formatReference(data.key, form);
  const title = `Move to MCP Tokens as ${keyId(data.key)}`;
  const command = commandFor(MoveSecretCommand, title, {
    uri: doc.uri,
    version: doc.version,
    range: d.range,
    key: data.key,
    type: data.type,
    provider: data.provider,
    replacement,
    description: `Moved from ${shortPath(doc.uri)}${data.server ? ` (server ${data.server})` : ''}`.slice(0, 1024),
  });
  return { title, kind: CodeActionKind.QuickFix, diagnostics: [d], isPreferred: true, command };
}
