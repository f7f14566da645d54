/**
 * A "browser" for authorization servers that approve without a person (the conformance suite's, the
 * tests'): follows the authorization redirects and delivers the final one to the loopback receiver.
 * Pure: no `vscode` import.
 */
import { OAuthFlowError } from './errors';

/** Follows the authorization server's redirects until one reaches the loopback receiver. */
export async function headlessBrowser(url: URL): Promise<void> {
  let current = url;
  for (let hop = 0; hop < 10; hop++) {
    const response = await fetch(current, { redirect: 'manual' });
    await response.body?.cancel().catch(() => undefined);
    const location = response.headers.get('location');
    if (response.status < 300 || response.status >= 400 || !location) {
      throw new OAuthFlowError('authorization_denied', `The authorization server answered HTTP ${response.status} instead of redirecting back; it needs a person: use --browser print.`);
    }
    const next = new URL(location, current);
    if (next.protocol === 'http:' && next.hostname === '127.0.0.1') {
      // The loopback receiver: deliver the authorization response to it.
      const delivered = await fetch(next, { redirect: 'manual' });
      await delivered.body?.cancel().catch(() => undefined);
      return;
    }
    current = next;
  }
  throw new OAuthFlowError('authorization_denied', 'Too many redirects from the authorization server.');
}

