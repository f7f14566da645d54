/** How a backend's health reads in the Backends view and in Check Backends. Pure (no `vscode`). */
import type { BackendHealth } from '../store/backend';

/** "healthy, in use", "unhealthy", "not available". */
export function healthSummary(h: BackendHealth): string {
  const state = !h.available ? 'not available' : h.healthy ? 'healthy' : 'unhealthy';
  return `${state}${h.active ? ', in use' : ''}`;
}

/** A codicon for quick picks. */
export function healthIcon(h: BackendHealth): string {
  if (!h.available) return '$(circle-slash)';
  return h.healthy ? '$(pass)' : '$(error)';
}
