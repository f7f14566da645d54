/**
 * Reading the token-aware server files for the MCP server provider (extension/runtime/files.ts),
 * one file at a time, so that one file can never take the others' servers with it. Pure (no `vscode`):
 * the reader and the log are handed in.
 *
 * A file that cannot be read (other than "does not exist"), is too large, nests too deep, or fails to
 * parse for any reason yields no servers and an error problem for that file alone, and one log line
 * per problem (at most MAX_LOGGED_PROBLEMS per file, then a count). parseMcpConfig never throws and
 * answers in time linear in the file's length (bounds in server/core/mcpConfig.ts).
 */
import { MAX_CONFIG_CHARS, parseMcpConfig, type ConfigFlavor, type ConfigProblem, type ParsedMcpConfig } from '../../server/core/mcpConfig';

/** Problems logged per file; the rest are counted in one line (they are all in `parsed.problems`). */
export const MAX_LOGGED_PROBLEMS = 10;
/** Bytes read at most; a larger file is refused unread (UTF-8: at most MAX_CONFIG_CHARS characters fit). */
export const MAX_CONFIG_BYTES = MAX_CONFIG_CHARS * 3;

export interface ServerFileIo<L> {
  /** The file's bytes, or undefined when it does not exist. May throw (unreadable). */
  read(location: L): Promise<Uint8Array | undefined>;
  /** The size in bytes without reading (optional: files above MAX_CONFIG_BYTES are then not read). */
  size?(location: L): Promise<number | undefined>;
  /** How the file is named in log lines (e.g. relative to the workspace). */
  name(location: L): string;
  warn(message: string): void;
}

export type LoadedServerFile<L> = L & { readonly text: string; readonly parsed: ParsedMcpConfig };

function refused(flavor: ConfigFlavor, message: string): ParsedMcpConfig {
  const problem: ConfigProblem = { message, span: { start: 0, end: 0 }, severity: 'error' };
  return { flavor, servers: [], inputs: [], problems: [problem] };
}

/** Reads and parses every existing file; never throws. Files keep the order of `locations`. */
export async function loadServerFiles<L extends { readonly flavor: ConfigFlavor }>(locations: readonly L[], io: ServerFileIo<L>): Promise<LoadedServerFile<L>[]> {
  const out: LoadedServerFile<L>[] = [];
  for (const loc of locations) {
    const loaded = await loadOne(loc, io);
    if (loaded) out.push(loaded);
  }
  return out;
}

async function loadOne<L extends { readonly flavor: ConfigFlavor }>(loc: L, io: ServerFileIo<L>): Promise<LoadedServerFile<L> | undefined> {
  let text = '';
  let parsed: ParsedMcpConfig;
  try {
    const size = io.size ? await io.size(loc).catch(() => undefined) : undefined;
    if (size !== undefined && size > MAX_CONFIG_BYTES) {
      parsed = refused(loc.flavor, `The file is too large to read (${(size / 2 ** 20).toFixed(1)} MiB; the limit is ${MAX_CONFIG_BYTES / 2 ** 20} MiB). None of its servers is served.`);
    } else {
      const bytes = await io.read(loc);
      if (bytes === undefined) return undefined; // does not exist
      if (bytes.byteLength > MAX_CONFIG_BYTES) {
        parsed = refused(loc.flavor, `The file is too large to read (${(bytes.byteLength / 2 ** 20).toFixed(1)} MiB; the limit is ${MAX_CONFIG_BYTES / 2 ** 20} MiB). None of its servers is served.`);
      } else {
        text = new TextDecoder().decode(bytes);
        parsed = parseMcpConfig(text, loc.flavor);
      }
    }
  } catch (e) {
    parsed = refused(loc.flavor, `The file could not be read (${e instanceof Error ? e.message.slice(0, 200) : 'unknown error'}). None of its servers is served.`);
  }
  const errors = parsed.problems.filter((p) => p.severity === 'error');
  const name = safeName(io, loc);
  for (const p of errors.slice(0, MAX_LOGGED_PROBLEMS)) io.warn(`${name}: ${p.message}`);
  if (errors.length > MAX_LOGGED_PROBLEMS) io.warn(`${name}: ${errors.length - MAX_LOGGED_PROBLEMS} more problems (shown in the file's diagnostics).`);
  return { ...loc, text, parsed };
}

function safeName<L>(io: ServerFileIo<L>, loc: L): string {
  try {
    return io.name(loc);
  } catch {
    return 'a server file';
  }
}
