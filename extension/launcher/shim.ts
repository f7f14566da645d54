/**
 * The stable `mcp-tokens` shim that "MCP Tokens: Install Command-Line Launcher" puts on the PATH.
 * Pure: no `vscode`. The shim holds no version and no path of the extension: it reads the pointer
 * file (server/core/launcherPointer.ts) that each activation rewrites, so it survives updates.
 * Runtime it starts the bundle with: `$MCP_TOKENS_NODE` if set, else the runtime the extension runs
 * on (Electron as Node for desktop VS Code), else `node` from the PATH.
 */
import * as path from 'node:path';
import { POINTER_FILE } from '../../server/core/launcherPointer';

/** A line every shim carries: a file without it is not overwritten. */
export const SHIM_MARKER = 'mcp-tokens shim written by MCP Token Manager';

export function shimFileName(platform: NodeJS.Platform): string {
  return platform === 'win32' ? 'mcp-tokens.cmd' : 'mcp-tokens';
}

/** `~/.local/bin` (Windows: `%USERPROFILE%\.mcp-tokens\bin`). */
export function defaultShimDir(home: string, platform: NodeJS.Platform): string {
  return platform === 'win32' ? path.win32.join(home, '.mcp-tokens', 'bin') : path.posix.join(home, '.local', 'bin');
}

/** Whether `dir` is one of the PATH's folders (Windows: case-insensitive, `;`). */
export function isOnPath(dir: string, envPath: string | undefined, platform: NodeJS.Platform): boolean {
  const p = platform === 'win32' ? path.win32 : path.posix;
  const norm = (d: string) => {
    const n = p.normalize(d).replace(/[\\/]+$/, '');
    return platform === 'win32' ? n.toLowerCase() : n;
  };
  const want = norm(dir);
  return (envPath ?? '').split(platform === 'win32' ? ';' : ':').some((d) => d.trim() !== '' && norm(d.trim()) === want);
}

export function shimText(platform: NodeJS.Platform): string {
  if (platform === 'win32') {
    return [
      '@echo off',
      `rem ${SHIM_MARKER}.`,
      'rem Runs the command-line launcher of the installed extension (read from the pointer file it rewrites).',
      'setlocal',
      'if defined MCP_TOKENS_HOME (set "MCPT_P=%MCP_TOKENS_HOME%\\' + POINTER_FILE + '") else (set "MCPT_P=%USERPROFILE%\\.mcp-tokens\\' + POINTER_FILE + '")',
      'set "MCPT_node=" & set "MCPT_bundle=" & set "MCPT_electron="',
      'if exist "%MCPT_P%" for /f "usebackq tokens=1,* delims==" %%a in ("%MCPT_P%") do set "MCPT_%%a=%%b"',
      'if not defined MCPT_bundle (echo mcp-tokens: MCP Token Manager was not found ^(%MCPT_P%^); open VS Code with the extension once. 1>&2 & exit /b 127)',
      'if defined MCP_TOKENS_NODE (set "MCPT_node=%MCP_TOKENS_NODE%" & set "MCPT_electron=")',
      'if not defined MCPT_node set "MCPT_node=node"',
      'if "%MCPT_electron%"=="1" set "ELECTRON_RUN_AS_NODE=1"',
      '"%MCPT_node%" "%MCPT_bundle%" %*',
      'exit /b %ERRORLEVEL%',
      '',
    ].join('\r\n');
  }
  return `#!/bin/sh
# ${SHIM_MARKER}.
# Runs the command-line launcher of the installed extension: the pointer file below is rewritten at
# each activation of the extension, so this shim keeps working across extension updates.
pointer="\${MCP_TOKENS_HOME:-$HOME/.mcp-tokens}/${POINTER_FILE}"
node=""; bundle=""; electron=""
if [ -r "$pointer" ]; then
  while IFS= read -r line || [ -n "$line" ]; do
    case "$line" in
      node=*) node="\${line#node=}" ;;
      bundle=*) bundle="\${line#bundle=}" ;;
      electron=*) electron="\${line#electron=}" ;;
    esac
  done < "$pointer"
fi
if [ -z "$bundle" ] || [ ! -f "$bundle" ]; then
  echo "mcp-tokens: MCP Token Manager was not found (no launcher in $pointer); open VS Code with the extension installed once, then try again." >&2
  exit 127
fi
if [ -n "$MCP_TOKENS_NODE" ]; then
  exec "$MCP_TOKENS_NODE" "$bundle" "$@"
fi
if [ -n "$node" ] && [ -x "$node" ]; then
  if [ "$electron" = "1" ]; then ELECTRON_RUN_AS_NODE=1 exec "$node" "$bundle" "$@"; fi
  exec "$node" "$bundle" "$@"
fi
exec node "$bundle" "$@"
`;
}
