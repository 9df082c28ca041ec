/**
 * Where a request comes from. Browsers send `Origin` on WebSocket upgrades and on cross-origin (and
 * same-origin POST) fetches, and `Sec-Fetch-Site` on every request; clients that are not browsers
 * (curl, Node, a future headless volunteer) send neither and cannot be told apart by them.
 */
import type { IncomingMessage } from 'node:http';
import type { TLSSocket } from 'node:tls';

/** The origin this server answered the request on: scheme from the socket, host from `Host`. */
export function ownOrigin(req: IncomingMessage): string | null {
  const host = req.headers.host;
  if (!host) return null;
  const scheme = (req.socket as Partial<TLSSocket>).encrypted ? 'https' : 'http';
  try {
    return new URL(`${scheme}://${host}`).origin;
  } catch {
    return null;
  }
}

/**
 * True when the request carries no Origin (not a browser page), or the app's own origin, or one
 * of `allowed`. An opaque origin ("null": sandboxed frames, file: pages) is never allowed.
 */
export function originAllowed(req: IncomingMessage, allowed: readonly string[] = []): boolean {
  const origin = req.headers.origin;
  if (origin === undefined) return true;
  if (origin === ownOrigin(req)) return true;
  return allowed.includes(origin);
}

/** For state-changing requests: Origin (when sent) is our own, and Sec-Fetch-Site (when sent) says so too. */
export function isCrossOrigin(req: IncomingMessage): boolean {
  if (!originAllowed(req)) return true;
  const site = req.headers['sec-fetch-site'];
  return site !== undefined && site !== 'same-origin' && site !== 'none';
}
