/**
 * Which backends this window has: every backend of `BACKENDS` (server/core/model.ts), and the
 * test-only ones (the in-memory backend) only when the test switch names them: the environment
 * variable MCP_TOKENS_TEST_BACKENDS (comma-separated ids), read once, when this module loads, and
 * never a setting. Below the features, so config.ts and the backend registry read the same list.
 * Pure apart from that one read of `process.env` (no `vscode`).
 */
import { BACKENDS, type BackendId } from '../../server/core/model';

/** The environment variable that adds test-only backends (the in-memory one). */
export const TEST_BACKENDS_SWITCH = 'MCP_TOKENS_TEST_BACKENDS';

/** The backends an environment gives: every one users have, and the test-only ones its switch names. */
export function backendIdsFor(env: Readonly<Record<string, string | undefined>>): readonly BackendId[] {
  const named = new Set((env[TEST_BACKENDS_SWITCH] ?? '').split(',').map((s) => s.trim()).filter(Boolean));
  return BACKENDS.filter((b) => !('testOnly' in b) || named.has(b.id)).map((b) => b.id);
}

/** This window's backends (the switch is read once, here). */
export const WINDOW_BACKEND_IDS: readonly BackendId[] = backendIdsFor(process.env);

/** A setting's value as one of `ids` (this window's backends), or undefined. */
export function parseBackendId(value: unknown, ids: readonly BackendId[] = WINDOW_BACKEND_IDS): BackendId | undefined {
  return typeof value === 'string' ? ids.find((id) => id === value) : undefined;
}
