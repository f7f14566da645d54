/**
 * The dispatch of `mcp-tokens` (the entry is extension/cli.ts), the command-line launcher
 * (docs/launcher.md): starts MCP servers with the references of their environment, arguments or headers resolved from the OS keyring, Vault, or (through the
 * running extension) VS Code's SecretStorage, for MCP clients that do not resolve references
 * themselves (Claude Desktop, Claude Code, Cursor, VS Code's own mcp.json). Bundled to
 * dist/cli/mcp-tokens.mjs; reaches no `vscode` import (test/unit/boundaries.test.ts).
 *
 *   mcp-tokens run [--] COMMAND ARGS…
 *   mcp-tokens proxy URL [--header "Name: value"]…
 *   mcp-tokens list [--json]
 *   mcp-tokens get NS:NAME [--show-value]
 *   mcp-tokens set NS:NAME [--stdin | --file PATH] [--backend keyring|vault] [--type TYPE]
 *
 * Exit codes: the child's for `run`; 0 success, 1 failure (a missing or refused token: nothing was
 * started), 2 usage. Messages go to stderr, never a value; stdout carries only the MCP traffic
 * (`run`, `proxy`) or what was asked (`list`, `get --show-value`).
 */
import { version } from '../../package.json';
import type { Launcher } from './context';
import type { ChildEnd } from './run';
import { errorText } from '../../server/core/errors';

export const USAGE = `mcp-tokens ${version}: start MCP servers with tokens from MCP Token Manager.

Usage:
  mcp-tokens run [--] COMMAND ARGS…        resolve $<TOKEN:ns:name> / \${TOKEN:ns:name} in the
                                           environment and arguments, then run COMMAND (stdio passed through)
  mcp-tokens proxy URL [--header "Name: value"]…
                                           bridge stdio to a Streamable HTTP MCP server; header values
                                           may hold references; oauth: tokens are refreshed
  mcp-tokens list [--json]                 tokens of the OS keyring and Vault (metadata only)
  mcp-tokens get NS:NAME [--show-value]    where a token is stored; its value only with --show-value
  mcp-tokens set NS:NAME [--stdin | --file PATH] [--backend keyring|vault] [--type TYPE]
                                           store a value (hidden prompt on a terminal)
  mcp-tokens --help | --version

Values come from the OS keyring, then Vault (VAULT_ADDR / VAULT_TOKEN, or the mcpTokens.vault.*
settings of VS Code), then VS Code's SecretStorage through the running extension (it asks you first).
Docs: docs/launcher.md
`;

type Command = (argv: readonly string[], launcher: Launcher) => Promise<ChildEnd>;

const COMMANDS: Record<string, () => Promise<Command>> = {
  run: async () => (await import('./run')).runCommand,
  proxy: async () => (await import('./proxy')).proxyCommand,
  list: async () => (await import('./tokens')).listCommand,
  get: async () => (await import('./tokens')).getCommand,
  set: async () => (await import('./tokens')).setCommand,
};

export async function main(argv: readonly string[], launcher: Launcher): Promise<ChildEnd> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    (name === undefined ? process.stderr : process.stdout).write(USAGE);
    return { code: name === undefined ? 2 : 0 };
  }
  if (name === '--version' || name === '-v') {
    launcher.io.out(`${version}\n`);
    return { code: 0 };
  }
  const load = COMMANDS[name];
  if (!load) {
    launcher.io.error(`unknown command "${name.slice(0, 64)}". Run mcp-tokens --help.`);
    return { code: 2 };
  }
  try {
    return await (await load())(rest, launcher);
  } catch (e) {
    launcher.io.error(errorText(e));
    return { code: 1 };
  } finally {
    launcher.dispose();
  }
}

