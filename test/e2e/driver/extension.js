// @ts-check
/**
 * The e2e DRIVER: a test-only extension installed beside MCP Token Manager in code-server (never
 * shipped). On startup it serves a tiny JSON-over-HTTP API on 127.0.0.1:<random port> so the tests
 * can call the VS Code API from the extension host: run any command, query language features, open
 * and edit files, read diagnostics and settings, or evaluate a snippet with `vscode` in scope.
 *
 * Channel: code-server passes its environment to the extension host, so the harness sets
 * MCP_TOKENS_E2E_DRIVER_FILE when it starts code-server; the driver writes
 * `{"port": <n>, "token": "<random>"}` there (atomically). Every request must carry the header
 * `x-driver-token: <token>`. Protocol: POST /<endpoint> with a JSON body; the answer is
 * `{"ok": true, "result": …}` or `{"ok": false, "error": "<message>"}` (status 200 either way, so
 * a failing command is an answer, not a transport error).
 *
 * Arguments are revived: `{"$uri": "file:///…"}` → vscode.Uri, `{"$file": "rel/or/abs/path"}` → a file
 * Uri (relative to the first workspace folder), `{"$position": [line, character]}` → Position,
 * `{"$range": [l1, c1, l2, c2]}` → Range. Results are made JSON-safe: Uri → `{"$uri": "…"}`,
 * MarkdownString → `{"value": "…"}`, WorkspaceEdit → `{"entries": [[uri, edits]]}`, cycles cut.
 */
const vscode = require('vscode');
const http = require('node:http');
const fs = require('node:fs');
const path = require('node:path');
const crypto = require('node:crypto');

/** @type {http.Server | undefined} */
let server;

function workspaceRoot() {
  const f = vscode.workspace.workspaceFolders;
  return f && f.length ? f[0].uri : undefined;
}

/** @param {string} p */
function fileUri(p) {
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(p)) return vscode.Uri.parse(p);
  if (path.isAbsolute(p)) return vscode.Uri.file(p);
  const root = workspaceRoot();
  if (!root) throw new Error(`No workspace folder to resolve "${p}" against.`);
  return vscode.Uri.joinPath(root, p);
}

/** @param {any} v @returns {any} */
function revive(v) {
  if (Array.isArray(v)) return v.map(revive);
  if (v && typeof v === 'object') {
    if (typeof v.$uri === 'string') return vscode.Uri.parse(v.$uri);
    if (typeof v.$file === 'string') return fileUri(v.$file);
    if (Array.isArray(v.$position)) return new vscode.Position(v.$position[0], v.$position[1]);
    if (Array.isArray(v.$range)) return new vscode.Range(v.$range[0], v.$range[1], v.$range[2], v.$range[3]);
    /** @type {Record<string, any>} */
    const out = {};
    for (const [k, x] of Object.entries(v)) out[k] = revive(x);
    return out;
  }
  return v;
}

/** @param {any} v @param {WeakSet<object>} seen @param {number} depth @returns {any} */
function plain(v, seen = new WeakSet(), depth = 0) {
  if (v === undefined || v === null) return null;
  if (typeof v === 'bigint') return v.toString();
  if (typeof v === 'function' || typeof v === 'symbol') return undefined;
  if (typeof v !== 'object') return v;
  if (depth > 14) return '[depth]';
  if (v instanceof vscode.Uri) return { $uri: v.toString() };
  if (v instanceof vscode.Position) return { line: v.line, character: v.character };
  if (v instanceof vscode.Range) return { start: plain(v.start), end: plain(v.end) };
  if (v instanceof vscode.MarkdownString) return { value: v.value };
  if (v instanceof vscode.SnippetString) return { snippet: v.value };
  if (v instanceof vscode.CodeActionKind) return v.value;
  if (v instanceof vscode.WorkspaceEdit) return { entries: v.entries().map(([u, edits]) => [plain(u), plain(edits, seen, depth + 1)]) };
  if (seen.has(v)) return '[cycle]';
  seen.add(v);
  if (Array.isArray(v)) return v.map((x) => plain(x, seen, depth + 1));
  if (v instanceof Map) return plain(Object.fromEntries(v), seen, depth + 1);
  if (v instanceof Set) return plain([...v], seen, depth + 1);
  if (v instanceof Error) return { error: v.message };
  /** @type {Record<string, any>} */
  const out = {};
  for (const k of Object.keys(v)) {
    const x = plain(v[k], seen, depth + 1);
    if (x !== undefined) out[k] = x;
  }
  return out;
}

/** @param {vscode.Uri} uri */
async function readText(uri) {
  const open = vscode.workspace.textDocuments.find((d) => d.uri.toString() === uri.toString());
  if (open) return open.getText();
  return new TextDecoder().decode(await vscode.workspace.fs.readFile(uri));
}

/** @param {vscode.Diagnostic[]} list */
const plainDiagnostics = (list) =>
  list.map((d) => ({
    message: d.message,
    severity: ['error', 'warning', 'information', 'hint'][d.severity],
    source: d.source ?? null,
    code: d.code && typeof d.code === 'object' ? plain(d.code.value) : (d.code ?? null),
    range: plain(d.range),
    tags: d.tags ?? [],
  }));

/** @type {Record<string, (body: any, ctx: vscode.ExtensionContext) => Promise<any>>} */
const endpoints = {
  async ping() {
    return {
      isTrusted: vscode.workspace.isTrusted,
      workspaceFolders: (vscode.workspace.workspaceFolders ?? []).map((f) => f.uri.toString()),
      vscodeVersion: vscode.version,
      appName: vscode.env.appName,
      uiKind: vscode.env.uiKind === vscode.UIKind.Web ? 'web' : 'desktop',
      activeExtensions: vscode.extensions.all.filter((e) => e.isActive && !e.id.startsWith('vscode.')).map((e) => e.id),
    };
  },
  /** { command, args?: any[] } */
  async command(b) {
    return plain(await vscode.commands.executeCommand(b.command, ...revive(b.args ?? [])));
  },
  /** Commands whose name contains `filter` (or all). */
  async commands(b) {
    const all = await vscode.commands.getCommands(true);
    return b.filter ? all.filter((c) => c.includes(b.filter)) : all;
  },
  /** { id, activate?: boolean } */
  async extension(b) {
    const ext = vscode.extensions.getExtension(b.id);
    if (!ext) return { found: false };
    if (b.activate && !ext.isActive) await ext.activate();
    return { found: true, isActive: ext.isActive, version: ext.packageJSON.version, path: ext.extensionPath };
  },
  /** { code, args? }: `code` is the body of an async function of (vscode, args, helpers). */
  async eval(b, ctx) {
    // eslint-disable-next-line no-new-func
    const fn = new Function('vscode', 'args', 'helpers', `return (async () => {\n${b.code}\n})();`);
    return plain(await fn(vscode, revive(b.args), { fileUri, readText, plain, revive, context: ctx }));
  },
  /** { path, line?, character?, preview?, languageId? } */
  async open(b) {
    const doc = await vscode.workspace.openTextDocument(fileUri(b.path));
    if (b.languageId && doc.languageId !== b.languageId) await vscode.languages.setTextDocumentLanguage(doc, b.languageId);
    const pos = new vscode.Position(b.line ?? 0, b.character ?? 0);
    const editor = await vscode.window.showTextDocument(doc, { preview: b.preview ?? false, selection: new vscode.Range(pos, pos) });
    return { uri: doc.uri.toString(), languageId: editor.document.languageId, version: doc.version };
  },
  /** { path } → text (the open document's text when open, else the file on disk) */
  async read(b) {
    return readText(fileUri(b.path));
  },
  /** { path, text }: writes the file on disk (creating folders). */
  async write(b) {
    const uri = fileUri(b.path);
    await vscode.workspace.fs.createDirectory(vscode.Uri.joinPath(uri, '..'));
    await vscode.workspace.fs.writeFile(uri, new TextEncoder().encode(b.text));
    return { uri: uri.toString() };
  },
  /** { path, text, save? }: replaces the whole text of the document in its editor (unsaved unless save). */
  async edit(b) {
    const doc = await vscode.workspace.openTextDocument(fileUri(b.path));
    await vscode.window.showTextDocument(doc, { preview: false });
    const edit = new vscode.WorkspaceEdit();
    edit.replace(doc.uri, new vscode.Range(0, 0, doc.lineCount, 0), b.text);
    const applied = await vscode.workspace.applyEdit(edit);
    if (b.save) await doc.save();
    return { applied, version: doc.version };
  },
  /** { path? }: diagnostics of a file, or of every file when no path */
  async diagnostics(b) {
    if (b.path) return plainDiagnostics(vscode.languages.getDiagnostics(fileUri(b.path)));
    return vscode.languages.getDiagnostics().map(([u, d]) => ({ uri: u.toString(), diagnostics: plainDiagnostics(d) }));
  },
  /** { path, line, character, trigger? } */
  async completions(b) {
    const list = await vscode.commands.executeCommand(
      'vscode.executeCompletionItemProvider', fileUri(b.path), new vscode.Position(b.line, b.character), b.trigger);
    return plain(list);
  },
  /** { path, line, character } */
  async hover(b) {
    const hovers = /** @type {vscode.Hover[]} */ (await vscode.commands.executeCommand(
      'vscode.executeHoverProvider', fileUri(b.path), new vscode.Position(b.line, b.character)));
    return hovers.map((h) => ({
      range: plain(h.range),
      contents: h.contents.map((c) => (typeof c === 'string' ? c : 'value' in c ? c.value : String(c))),
    }));
  },
  /** { path, range: [l1,c1,l2,c2], kind? } */
  async codeActions(b) {
    const r = b.range;
    return plain(await vscode.commands.executeCommand(
      'vscode.executeCodeActionProvider', fileUri(b.path), new vscode.Range(r[0], r[1], r[2], r[3]), b.kind));
  },
  /** { path, range, title }: runs the code action with that title (its edit, then its command). */
  async applyCodeAction(b) {
    const r = b.range;
    /** @type {(vscode.CodeAction | vscode.Command)[]} */
    const actions = (await vscode.commands.executeCommand(
      'vscode.executeCodeActionProvider', fileUri(b.path), new vscode.Range(r[0], r[1], r[2], r[3]), b.kind, 100)) ?? [];
    const action = actions.find((a) => a.title === b.title);
    if (!action) throw new Error(`No code action titled "${b.title}"; got: ${actions.map((a) => a.title).join(' | ')}`);
    if ('edit' in action && action.edit) await vscode.workspace.applyEdit(action.edit);
    /** @type {any} */
    const a = action;
    // A bare Command (command: string) or a CodeAction whose `command` is a Command.
    const cmd = typeof a.command === 'string' ? a : a.command && typeof a.command === 'object' ? a.command : undefined;
    if (cmd && typeof cmd.command === 'string') {
      return plain(await vscode.commands.executeCommand(cmd.command, ...(cmd.arguments ?? [])));
    }
    return null;
  },
  /** { section, key, value?, target?: 'global'|'workspace'|'folder' }: sets when `value` is present (null resets). */
  async config(b) {
    const c = vscode.workspace.getConfiguration(b.section);
    if ('value' in b) {
      const target = { global: 1, workspace: 2, folder: 3 }[/** @type {'global'} */ (b.target ?? 'global')];
      await c.update(b.key, b.value === null ? undefined : b.value, target);
    }
    return plain(vscode.workspace.getConfiguration(b.section).inspect(b.key));
  },
  /** { write? }: the clipboard through vscode.env (the browser's clipboard in code-server). */
  async clipboard(b) {
    if (typeof b.write === 'string') await vscode.env.clipboard.writeText(b.write);
    return vscode.env.clipboard.readText();
  },
  async editors() {
    return {
      active: vscode.window.activeTextEditor?.document.uri.toString() ?? null,
      visible: vscode.window.visibleTextEditors.map((e) => e.document.uri.toString()),
      tabs: vscode.window.tabGroups.all.flatMap((g) => g.tabs.map((t) => t.label)),
    };
  },
};

/** @param {vscode.ExtensionContext} context */
async function activate(context) {
  const target = process.env.MCP_TOKENS_E2E_DRIVER_FILE;
  if (!target) return; // Installed somewhere else: stay inert.
  const token = crypto.randomBytes(24).toString('hex');
  server = http.createServer((req, res) => {
    const reply = (/** @type {number} */ status, /** @type {any} */ body) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (req.headers['x-driver-token'] !== token) return reply(403, { ok: false, error: 'bad driver token' });
    const name = (req.url ?? '/').replace(/^\/+/, '').split('?')[0];
    const endpoint = Object.prototype.hasOwnProperty.call(endpoints, name) ? endpoints[name] : undefined;
    if (req.method !== 'POST' || !endpoint) return reply(404, { ok: false, error: `unknown endpoint ${req.method} /${name}` });
    /** @type {Buffer[]} */
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', async () => {
      try {
        const body = chunks.length ? JSON.parse(Buffer.concat(chunks).toString('utf8')) : {};
        const result = await endpoint(body, context);
        reply(200, { ok: true, result: result === undefined ? null : result });
      } catch (e) {
        reply(200, { ok: false, error: e instanceof Error ? e.message : String(e) });
      }
    });
  });
  await new Promise((resolve, reject) => {
    server?.once('error', reject);
    server?.listen(0, '127.0.0.1', () => resolve(undefined));
  });
  const address = server.address();
  const port = address && typeof address === 'object' ? address.port : 0;
  const tmp = `${target}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, JSON.stringify({ port, token, pid: process.pid }), { mode: 0o600 });
  fs.renameSync(tmp, target);
  context.subscriptions.push({ dispose: () => server?.close() });
}

function deactivate() {
  server?.close();
}

module.exports = { activate, deactivate };
