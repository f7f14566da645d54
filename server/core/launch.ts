/**
 * How the language server process is started: the extension (extension/language/client.ts) and the
 * benchmark (test/bench/language-server.bench.ts) both use these, so `npm run bench` measures the
 * process users get. Pure, no imports.
 *
 * A 2.4 MB config with 5,000 servers is the budget case (issue 3: at most 80 MB resident):
 * - `--max-semi-space-size=1`: V8's young generation grows to 2 × 16 MB semi-spaces after a large
 *   `didOpen` and stays resident; 1 MB semi-spaces keep it at 2 MB (short-lived objects are few
 *   here: the scan's results live as long as the document version).
 * - no `--compact-on-every-full-gc` (it was here until issue 14): it made every full collection, V8's
 *   own too, copy all survivors to fresh pages, and that copy was the server's highest resident
 *   memory (149.6 MB VmHWM on the benchmark's document in code-server, 119.9 MB without it). The idle
 *   collection of server/memory.ts compacts instead, once the editor is quiet.
 * - `--expose-gc`: lets server/memory.ts collect a large document's garbage once the editor is
 *   quiet, so the previous version's text and scan do not stay resident.
 * - `--max-opt=2`: V8's optimizing tiers stop at Maglev, without TurboFan (issue 14). TurboFan's
 *   compiler code in the Node.js binary becomes resident once it runs (file-backed pages counted in
 *   the process's RSS: 47.4 MB of the binary resident with it, 41.8 without) and it compiles in
 *   malloc'd zones; on the benchmark's document, on code-server's Node.js 24 (in-process probe,
 *   3 runs each): 75.6–77.7 MB idle with the document open instead of 80.8–81.7, peak 103.1–103.7
 *   instead of 107.7–109.0, the first diagnostics as fast (332–484 ms vs 263–453). `--max-opt=1`
 *   (no Maglev either) saved 6 MB more but took 1.0–1.2 s to the first diagnostics. Only where V8
 *   runs Maglev: V8 13 and later (the Electron of every VS Code this extension supports, Node.js 23+,
 *   code-server's Node.js 24) on x64 and arm64, Maglev's targets. Node.js 20 (V8 11) has no Maglev
 *   and Node.js 22 (V8 12.4, VS Code's remote server) builds it off since 22.9, so there the flag would
 *   leave the baseline compiler alone: on Node.js 20 the whole-document pass took 2.5 times as long
 *   (716 vs 283 ms in-process). They keep TurboFan.
 * - `MALLOC_ARENA_MAX=1`, `MALLOC_TRIM_THRESHOLD_`: glibc keeps the memory V8's parser and compiler
 *   free (in one arena per thread) instead of returning it; one arena and a low trim threshold give
 *   it back (about 8 MB). Ignored where malloc is not glibc's.
 *
 * Rejected after measuring: `--optimize-for-size` (−15 MB more, but the diagnostics pass takes
 * twice as long: 3.4× the bare parse in CPU time), `--heap-growing-percent` (same cost), `--no-opt`
 * and `--lite-mode` (first pass 7–10× slower), `--v8-pool-size=1` and `--single-threaded-gc` (no
 * measurable gain). Every flag here exists in Node.js 20 and 24 (V8 11.3 and 13.6; test/lsp starts the
 * server with them on the Node.js it runs on, the e2e tests on code-server's); an unknown V8
 * flag would stop the process from starting.
 */
export function serverExecArgv(v8Version: string = process.versions.v8, arch: string = process.arch): string[] {
  const maglev = v8Major(v8Version) >= 13 && (arch === 'x64' || arch === 'arm64');
  return ['--max-semi-space-size=1', ...(maglev ? ['--max-opt=2'] : []), '--expose-gc'];
}

/** `process.versions.v8` → its major version (0 when unreadable). */
export function v8Major(v8Version: string): number {
  return Number(/^(\d+)\./.exec(v8Version)?.[1] ?? 0);
}

export const SERVER_ENV: Readonly<Record<string, string>> = { MALLOC_ARENA_MAX: '1', MALLOC_TRIM_THRESHOLD_: '131072' };
