/**
 * Signaling that can be stopped and started again while the app server keeps serving: volunteers
 * and coordinators reconnect to it on their own, and their open WebRTC channels live through the
 * outage. One stable middleware slot (mounted before the static files) forwards to whichever
 * PeerServer instance is current; while none is, signaling URLs answer 503.
 */
import type { Server as HttpServer } from 'node:http';
import type { Server as HttpsServer } from 'node:https';
import { isSignalingUrl, attachSignaling, type Signaling, type SignalingOptions } from './signaling.ts';
import type { Middleware, MiddlewareHost } from './middleware.ts';
import { createCoordinatorIds } from './coordinatorIds.ts';

export interface SignalingControl {
  /** The current instance (the last one, detached, while stopped). */
  current(): Signaling;
  running(): boolean;
  /** Closes every signaling socket; the app keeps serving. Idempotent. */
  stop(): Promise<void>;
  /** Starts a fresh PeerServer on the same path. Idempotent. */
  start(): void;
}

export function createSignalingControl(httpServer: HttpServer | HttpsServer, app: MiddlewareHost, given: SignalingOptions = {}): SignalingControl {
  // [K-7] One registry for every instance: a restart of signaling must not free a reserved id.
  const options: SignalingOptions = { ...given, coordinatorIds: given.coordinatorIds ?? createCoordinatorIds() };
  let handler: Middleware | null = null;
  const slot: Middleware = (req, res, next) => {
    if (handler) return handler(req, res, next);
    if (!isSignalingUrl(req.url)) return next();
    res.statusCode = 503;
    res.setHeader('Content-Type', 'text/plain');
    res.setHeader('Retry-After', '1');
    res.end('Signaling is restarting; try again in a moment.');
  };
  app.use(slot);
  // attachSignaling mounts its handler through this host: into the slot, never after the static files.
  const host: MiddlewareHost = { use: (fn: Middleware) => (handler = fn) };

  let sig = attachSignaling(httpServer, host, options);
  return {
    current: () => sig,
    running: () => sig.active,
    stop: async () => {
      handler = null;
      await sig.detach();
    },
    start: () => {
      if (sig.active) return;
      sig = attachSignaling(httpServer, host, options);
    },
  };
}
