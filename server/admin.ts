/**
 * Operator endpoints, off unless the server is started with QUORUM_ADMIN=1, and answered only to
 * clients on this machine (loopback):
 *   POST /admin/signaling/stop    stop signaling (open WebRTC channels live on)
 *   POST /admin/signaling/start   start it again; every tab reconnects on its own
 * `kill -HUP <server pid>` restarts signaling the same way without any endpoint.
 */
import { pathnameOf, type Middleware } from './middleware.ts';
import type { SignalingControl } from './signalingControl.ts';

const LOOPBACK = new Set(['127.0.0.1', '::1', '::ffff:127.0.0.1']);

export function adminMiddleware(control: () => SignalingControl | null): Middleware {
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
    return send(404, { error: 'no such admin endpoint' });
  };
}
