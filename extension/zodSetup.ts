/**
 * zod's JIT probe reads the global `navigator` when a schema is built, which VS Code's extension host
 * reports as a pending-migration error on every activation. The interpreter mode needs no probe and is
 * fast enough for the extension's inputs. Imported first by extension.ts, before any schema exists.
 */
import { z } from 'zod';

z.config({ jitless: true });
