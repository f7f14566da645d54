/**
 * Which URLs a value may be sent to without TLS: loopback only. Shared by the features that send
 * requests carrying secrets (OAuth, Verify). Pure: no `vscode`, no I/O.
 */

/** 127.0.0.0/8, ::1 and `localhost` (also `*.localhost`, RFC 6761). */
export function isLoopbackHost(hostname: string): boolean {
  const h = hostname.toLowerCase().replace(/^\[|\]$/g, '');
  if (h === 'localhost' || h.endsWith('.localhost')) return true;
  if (h === '::1' || h === '0:0:0:0:0:0:0:1') return true;
  const v4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(h);
  if (v4) return Number(v4[1]) === 127 && v4.slice(1).every((p) => Number(p) <= 255);
  // IPv4-mapped IPv6 loopback (::ffff:127.x.y.z, as WHATWG URL serialises it: ::ffff:7fxx:xxxx).
  const mapped = /^::ffff:([0-9a-f]{1,4}):[0-9a-f]{1,4}$/.exec(h);
  return !!mapped && parseInt(mapped[1], 16) >> 8 === 127;
}

/** Where a URL may be used without TLS: loopback only. */
export function isSecureUrl(url: URL): boolean {
  if (url.protocol === 'https:') return true;
  return url.protocol === 'http:' && isLoopbackHost(url.hostname);
}
