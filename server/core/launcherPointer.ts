/**
 * Where the installed `mcp-tokens` shim finds the launcher of the current extension version, and
 * where the language server learns the shim's path. Pure: no `vscode`; used by the extension
 * (writes it), the language server (reads `shim`) and described in the shim scripts.
 *
 * `<home>/launcher.pointer`, `<home>` = `$MCP_TOKENS_HOME` or `~/.mcp-tokens`; text lines `key=value`:
 *   node=<the JavaScript runtime the extension runs on>
 *   electron=1          (when that runtime is Electron: it runs as Node with ELECTRON_RUN_AS_NODE=1)
 *   bundle=<the extension's dist/cli/mcp-tokens.mjs>
 *   shim=<where "Install Command-Line Launcher" put the shim>   (once installed)
 * The extension rewrites it at each activation (temp file, then rename), so the shim keeps working
 * across extension updates.
 */
export const POINTER_FILE = 'launcher.pointer';

export interface LauncherPointer {
  readonly node?: string;
  readonly electron?: boolean;
  readonly bundle?: string;
  readonly shim?: string;
}

/** The folder of the pointer file (and the default channel directory's parent). */
export function launcherHome(env: Readonly<Record<string, string | undefined>>, home: string, platform: NodeJS.Platform = process.platform): string {
  if (env.MCP_TOKENS_HOME) return env.MCP_TOKENS_HOME;
  const sep = platform === 'win32' ? '\\' : '/';
  return `${home.replace(/[\\/]+$/, '')}${sep}.mcp-tokens`;
}

export function parsePointer(text: string): LauncherPointer {
  const out: { node?: string; electron?: boolean; bundle?: string; shim?: string } = {};
  for (const line of text.split(/\r?\n/)) {
    const eq = line.indexOf('=');
    if (eq <= 0) continue;
    const k = line.slice(0, eq);
    const v = line.slice(eq + 1);
    if (!v) continue;
    if (k === 'node' || k === 'bundle' || k === 'shim') out[k] = v;
    else if (k === 'electron') out.electron = v === '1';
  }
  return out;
}

/** The pointer's text; a path holding a line break cannot be written (it would forge a line). */
export function pointerText(p: LauncherPointer): string {
  const lines: string[] = [];
  for (const [k, v] of [['node', p.node], ['bundle', p.bundle], ['shim', p.shim]] as const) {
    if (v === undefined) continue;
    if (/[\r\n]/.test(v)) throw new Error(`The ${k} path holds a line break.`);
    lines.push(`${k}=${v}`);
    if (k === 'node' && p.electron) lines.push('electron=1');
  }
  return `${lines.join('\n')}\n`;
}
