/**
 * `mcp-tokens list`, `get NS:NAME [--show-value]`, `set NS:NAME [--stdin | --file PATH]`: the
 * keyring and Vault tokens, without VS Code (the same backend classes and layouts as the extension,
 * so VS Code and mcp-cli see what is set here). A value goes to stdout only with `--show-value`.
 * No `vscode`.
 */
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { isInternalNamespace, TOKEN_TYPES, type TokenMetadata, type TokenType } from '../../server/core/model';
import { formatReference, keyId, parseKeyId, type TokenKey } from '../../server/core/reference';
import type { DiscoveredToken } from '../store/backend';
import type { Launcher } from './context';
import type { ChildEnd } from './run';
import type { LocalBackendId, LocalBackends } from './sources';
import { errorText } from '../../server/core/errors';

function keyArg(text: string | undefined, usage: string): TokenKey {
  const key = text ? parseKeyId(text.replace(/^\$<TOKEN:(.*)>$|^\$\{TOKEN:(.*)\}$/, '$1$2')) : undefined;
  if (!key) throw new Error(`${text ? `"${text.slice(0, 200)}" is not a token key` : 'a token key is needed'} (namespace:name). Usage: ${usage}`);
  return key;
}

export interface ListedToken extends DiscoveredToken {
  readonly backend: LocalBackendId;
}

/** The tokens of the keyring (mcp-cli's registry) and Vault, internal entries left out. */
export async function listTokens(backends: LocalBackends, warn: (m: string) => void): Promise<ListedToken[]> {
  const out: ListedToken[] = [];
  for (const id of ['keyring', 'vault'] as const) {
    const b = backends.backend(id);
    if (!b?.discover) continue;
    try {
      for (const t of await b.discover()) if (!isInternalNamespace(t.namespace)) out.push({ ...t, backend: id });
    } catch (e) {
      warn(`${backends.describe(id)}: ${errorText(e)}`);
    }
  }
  return out.sort((a, b) => keyId(a).localeCompare(keyId(b)));
}

/** The table `list` prints. Pure. */
export function formatList(tokens: readonly ListedToken[]): string {
  if (!tokens.length) return 'No token in the OS keyring or Vault. (Tokens in VS Code\'s SecretStorage are listed in VS Code.)\n';
  const rows = [['REFERENCE', 'TYPE', 'BACKEND', 'EXPIRES'], ...tokens.map((t) => [formatReference(t), t.type ?? 'generic', t.backend, t.expiresAt ?? '-'])];
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]))).join('  ')).join('\n') + '\n';
}

export async function listCommand(argv: readonly string[], launcher: Launcher): Promise<ChildEnd> {
  const { values } = parseArgs({ args: [...argv], options: { json: { type: 'boolean', default: false } } });
  const tokens = await listTokens(await launcher.backends(), (m) => launcher.io.error(m));
  launcher.io.out(values.json ? `${JSON.stringify(tokens, null, 2)}\n` : formatList(tokens));
  return { code: 0 };
}

export async function getCommand(argv: readonly string[], launcher: Launcher): Promise<ChildEnd> {
  const usage = 'mcp-tokens get NS:NAME [--show-value]';
  const { values, positionals } = parseArgs({ args: [...argv], allowPositionals: true, options: { 'show-value': { type: 'boolean', default: false } } });
  const key = keyArg(positionals[0], usage);
  if (values['show-value']) {
    const resolved = await launcher.resolve([key], { command: 'mcp-tokens', args: ['get', keyId(key), '--show-value'], cwd: process.cwd(), client: launcher.client(), kind: 'run' });
    if (!resolved) return { code: 1 };
    launcher.io.out(`${resolved.values.get(keyId(key))}\n`);
    return { code: 0 };
  }
  // Without --show-value only the local backends are asked (VS Code would have to ask for consent).
  const backends = await launcher.backends();
  for (const id of backends.order(key.namespace)) {
    try {
      if ((await backends.backend(id)?.read(key)) !== undefined) {
        launcher.io.out(`${formatReference(key)} is stored in ${backends.describe(id)}. Add --show-value to print the value.\n`);
        return { code: 0 };
      }
    } catch (e) {
      launcher.io.error(`${backends.describe(id)}: ${errorText(e)}`);
    }
  }
  launcher.io.out(`${formatReference(key)} is not in ${backends.order(key.namespace).map((b) => backends.describe(b)).join(' or ') || 'a local backend'}. If VS Code's SecretStorage holds it, --show-value asks VS Code for it.\n`);
  return { code: 1 };
}

/** Reads a line without echo from the terminal (stderr shows the prompt). */
function hiddenPrompt(prompt: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const stdin = process.stdin;
    process.stderr.write(prompt);
    let value = '';
    stdin.setRawMode(true);
    stdin.resume();
    stdin.setEncoding('utf8');
    const finish = (error?: Error) => {
      stdin.setRawMode(false);
      stdin.pause();
      stdin.off('data', onData);
      process.stderr.write('\n');
      if (error) reject(error);
      else resolve(value);
    };
    const onData = (chunk: string) => {
      for (const ch of chunk) {
        if (ch === '\r' || ch === '\n') return finish();
        if (ch === '\u0003' || ch === '\u0004') return finish(new Error('cancelled; nothing was stored.'));
        if (ch === '\u007f' || ch === '\b') value = value.slice(0, -1);
        else value += ch;
      }
    };
    stdin.on('data', onData);
  });
}

async function readAll(stream: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(typeof c === 'string' ? Buffer.from(c) : c);
  return Buffer.concat(chunks).toString('utf8');
}

/** One trailing line break (what `echo` and editors add) is not part of the value. Pure. */
export function trimValue(text: string): string {
  return text.replace(/\r?\n$/, '');
}

/** Where `set` writes: --backend, else the namespace's pinned backend, else where it is stored, else the default (keyring unless Vault is the default). */
export async function targetBackend(backends: LocalBackends, key: TokenKey, flag: string | undefined): Promise<LocalBackendId> {
  if (flag) {
    if (flag !== 'keyring' && flag !== 'vault') throw new Error(`--backend must be keyring or vault (the launcher cannot write VS Code's SecretStorage).`);
    if (flag === 'vault' && !backends.vault) throw new Error('Vault is not configured: set VAULT_ADDR (or "mcpTokens.vault.address" in VS Code).');
    return flag;
  }
  const pinned = backends.options.settings.namespaceBackends[key.namespace];
  if (pinned === 'secretStorage') throw new Error(`The namespace "${key.namespace}" is kept in VS Code's SecretStorage (mcpTokens.backend.namespaces); set it in VS Code, or pass --backend keyring|vault.`);
  if (pinned) {
    const only = backends.order(key.namespace)[0];
    if (!only) throw new Error(`The namespace "${key.namespace}" is kept in Vault, which is not configured: set VAULT_ADDR (or "mcpTokens.vault.address" in VS Code).`);
    return only;
  }
  for (const id of backends.order(key.namespace)) if ((await backends.backend(id)?.read(key).catch(() => undefined)) !== undefined) return id;
  return backends.options.settings.defaultBackend === 'vault' && backends.vault ? 'vault' : 'keyring';
}

export async function setCommand(argv: readonly string[], launcher: Launcher): Promise<ChildEnd> {
  const usage = 'mcp-tokens set NS:NAME [--stdin | --file PATH] [--backend keyring|vault] [--type generic|bearer|api-key|basic]';
  const { values, positionals } = parseArgs({
    args: [...argv],
    allowPositionals: true,
    options: { stdin: { type: 'boolean', default: false }, file: { type: 'string' }, backend: { type: 'string' }, type: { type: 'string', default: 'generic' }, description: { type: 'string' } },
  });
  const key = keyArg(positionals[0], usage);
  if (isInternalNamespace(key.namespace)) throw new Error(`The namespace "${key.namespace}" is the extension's own; choose another.`);
  const type = values.type as TokenType;
  if (!(TOKEN_TYPES as readonly string[]).includes(type) || type === 'oauth') throw new Error(`--type must be one of ${TOKEN_TYPES.filter((t) => t !== 'oauth').join(', ')}.`);
  let value: string;
  if (values.file) value = trimValue(await readFile(values.file, 'utf8'));
  else if (values.stdin) value = trimValue(await readAll(process.stdin));
  else if (process.stdin.isTTY) value = await hiddenPrompt(`Value of ${keyId(key)} (not shown): `);
  else throw new Error(`no value: give --stdin or --file PATH (stdin is not a terminal). Usage: ${usage}`);
  if (!value) throw new Error('the value is empty; nothing was stored.');
  launcher.secrets.add(value);

  const backends = await launcher.backends();
  const id = await targetBackend(backends, key, values.backend);
  const backend = backends.backend(id)!;
  const now = new Date().toISOString();
  const meta: TokenMetadata = { namespace: key.namespace, name: key.name, type, createdAt: now, updatedAt: now, backend: id, ...(values.description ? { description: values.description.slice(0, 1024) } : {}) };
  const old = await backend.read(key).catch(() => undefined);
  // The value replaced stays restorable ("MCP Tokens: Restore Previous Value"); Vault keeps versions itself.
  if (old !== undefined && !backend.versioned) await backend.writePrevious(key, old, meta);
  await backend.write(key, value, meta);
  launcher.io.error(`stored ${formatReference(key)} in ${backends.describe(id)}${old !== undefined ? ' (the previous value is kept)' : ''}.`);
  return { code: 0 };
}
