#!/usr/bin/env node
/**
 * The entry of `mcp-tokens` (bundled to dist/cli/mcp-tokens.mjs, the package's `bin`): runs main.ts
 * and ends the way the command did. Every command's code is loaded only when that command runs (the
 * bundle is split per command), so `mcp-tokens run` starts a server quickly. Reaches no `vscode`
 * import (test/unit/boundaries.test.ts).
 */
import { main } from './main';

main(process.argv.slice(2)).then(
  (end) => {
    if ('signal' in end) {
      // End the way the child ended: by its signal (our handlers are gone by now).
      process.kill(process.pid, end.signal);
      setTimeout(() => process.exit(128 + 1), 1000).unref();
    } else {
      process.exitCode = end.code;
      // The bridge's streams may hold the loop open after it closed them: end shortly after.
      if (process.argv[2] === 'proxy') setTimeout(() => process.exit(end.code), 300);
    }
  },
  (e: unknown) => {
    process.stderr.write(`mcp-tokens: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(1);
  },
);
