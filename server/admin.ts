/**
 * Operator endpoints, off unless the server is started with QUORUM_ADMIN=1 and a
 * QUORUM_ADMIN_TOKEN, and answered only to clients on this machine (loopback) that send
 * `Authorization: Bearer <token>` and are not a page on another origin:
 *   POST /admin/signaling/stop    stop signaling (open WebRTC channels live on)
 *   POST /admin/signaling/start   start it again; every tab reconnects on its own
 *   POST /admin/signaling/release[?id=quorum-<network>]   [K-7] forget the key the id (without
 *                                 `id`: every id) was first claimed by, so a network whose key
 *                                 was lost claims it anew
 * `kill -HUP <server pid>` restarts signaling the same way without any endpoint.
 *
 * Loopback alone is no protection from a browser: any page the operator opens can POST to
 * 127.0.0.1. The token stops that (a page cannot send it without a CORS preflight, which this
 * server never approves), and the origin check refuses such requests even with it.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { pathnameOf, type Middleware } from './middleware.ts';
import { isCrossOrigin } from './origin.ts';
import type { SignalingControl } from './signalingControl.ts';

const LOOPBACK = new Set(['127.0.0.1', '::1', '::ffff:127.0.0.1']);

/** Constant-time comparison (of digests, so that lengths do not leak either). */
function sameSecret(a: string, b: string): boolean {
  const digest = (s: string): Buffer => createHash('sha256').update(s).digest();
  return timingSafeEqual(digest(a), digest(b));
}

export function adminMiddleware(token: string, control: () => SignalingControl | null): Middleware {
  return (req, res, next) => {
    const pathname = pathnameOf(req.url);
    if (!pathname.startsWith('/admin/')) return next();
    const send = (status: number, body: Record<string, unknown>): void => {
      res.statusCode = status;
      res.setHeader('Content-Type', 'application/json');
      res.setHeader('Cache-Control', 'no-store');
      res.end(JSON.stringify(body));
    };
    if (!LOOPBACK.has(req.socket.remoteAddress ?? '')) return send(403, { error: 'admin endpoints answer loopback clients only' });
    if (isCrossOrigin(req)) return send(403, { error: 'admin endpoints refuse cross-origin requests' });
    const auth = req.headers.authorization ?? '';
    const given = auth.startsWith('Bearer ') ? auth.slice('Bearer '.length).trim() : '';
    if (!sameSecret(given, token)) return send(401, { error: 'send the admin token (QUORUM_ADMIN_TOKEN) as "Authorization: Bearer <token>"' });
    if (req.method !== 'POST') return send(405, { error: 'use POST' });
    const c = control();
    if (!c) return send(503, { error: 'not ready' });
    if (pathname === '/admin/signaling/stop') {
      c.stop().then(
        () => send(200, { signaling: 'stopped' }),
        (err: unknown) => send(500, { error: String(err) }),
      );
      return;
    }
    if (pathname === '/admin/signaling/start') {
      c.start();
      return send(200, { signaling: 'running' });
    }
    if (pathname === '/admin/signaling/release') {
      const id = new URL(req.url ?? '', 'http://admin').searchParams.get('id');
      return send(200, { released: c.current().coordinatorIds.release(id) });
    }
    return send(404, { error: 'no such admin endpoint' });
  };
}
