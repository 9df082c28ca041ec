/**
 * PeerJS signaling (the `peer` package's PeerServer) mounted at /peerjs on an existing HTTP
 * server, so signaling shares the app's origin. Used by the production server and by the Vite
 * dev/preview plugin.
 *
 * Paths (peer 1.0.2 mounted with `path: '/'` under SIGNALING_PATH, key 'peerjs'):
 *   GET  /peerjs/               server info JSON
 *   GET  /peerjs/peerjs/id      a fresh random peer id (text)
 *   WS   /peerjs/peerjs?key=peerjs&id=..&token=..
 * which is what the peerjs client builds from
 *   { host: location.hostname, port: location.port, path: '/peerjs', key: 'peerjs', secure: location.protocol === 'https:' }.
 *
 * The WebSocket server runs in `noServer` mode behind our own 'upgrade' listener that only takes
 * /peerjs/peerjs: a plain `ws` server attached to the HTTP server would answer 400 to every other
 * upgrade and so break Vite's HMR socket. Everything is undone by `detach()`, so signaling can
 * later be restarted independently of the app server.
 *
 * Every upgrade, socket and message passes the budgets of signalingGuard.ts first.
 */
import type { Server as HttpServer, IncomingMessage } from 'node:http';
import type { Server as HttpsServer } from 'node:https';
import type { Duplex } from 'node:stream';
import express from 'express';
import { ExpressPeerServer, type IClient, type PeerServerEvents } from 'peer';
import { WebSocketServer, type ServerOptions } from 'ws';
import { SIGNALING_LIMITS, type SignalingLimits } from './config.ts';
import { createSignalingGuard, type SignalingStats } from './signalingGuard.ts';
import { createTimerScope } from './timerScope.ts';
import { pathnameOf, type Middleware, type MiddlewareHost } from './middleware.ts';
import { createCoordinatorIds, type CoordinatorIds } from './coordinatorIds.ts';
import { coordinatorIdRoutes } from './coordinatorIdRoutes.ts';

export const SIGNALING_PATH = '/peerjs';
export const PEERJS_KEY = 'peerjs';
/** The REST endpoint that hands out a fresh peer id. */
export const PEER_ID_PATH = `${SIGNALING_PATH}/${PEERJS_KEY}/id`;
/** The WebSocket endpoint peerjs clients connect to. */
export const SIGNALING_WS_PATH = `${SIGNALING_PATH}/${PEERJS_KEY}`;

export interface SignalingOptions {
  /** A peer that sends no heartbeat for this long is dropped (peer default 90 s; peerjs pings every 5 s). */
  aliveTimeoutMs?: number;
  /** Log connects/disconnects to the console. */
  log?: boolean;
  /** Overrides of SIGNALING_LIMITS (server/config.ts). */
  limits?: Partial<SignalingLimits>;
  /** Page origins besides the app's own that may open signaling sockets. */
  allowedOrigins?: readonly string[];
  /** [K-7] Coordinator ids reserved for their keys; pass one to keep them across restarts of signaling. */
  coordinatorIds?: CoordinatorIds;
}

export interface Signaling {
  readonly path: string;
  /** PeerServer events: 'connection', 'disconnect', 'message', 'error'. */
  readonly events: PeerServerEvents;
  /** False once detached. */
  readonly active: boolean;
  /** Open signaling WebSockets. */
  clientCount(): number;
  /** [E-4] Whether `id` is registered now (never while detached). */
  registered(id: string): boolean;
  /** What the budgets refused or dropped since this instance started. */
  stats(): SignalingStats;
  /** [K-7] Which coordinator ids are reserved for which keys. */
  readonly coordinatorIds: CoordinatorIds;
  /** Stops answering, closes every signaling socket and stops PeerServer's timers. Idempotent. */
  detach(): Promise<void>;
}

export function isSignalingUrl(url: string | undefined): boolean {
  const pathname = pathnameOf(url);
  return pathname === SIGNALING_PATH || pathname.startsWith(`${SIGNALING_PATH}/`);
}

const STATUS_TEXT: Record<number, string> = { 403: 'Forbidden', 429: 'Too Many Requests' };

function refuseUpgrade(socket: Duplex, status: number, reason: string): void {
  const body = `${reason}\n`;
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_TEXT[status] ?? 'Refused'}\r\nConnection: close\r\nContent-Type: text/plain; charset=utf-8\r\n` +
      `${status === 429 ? 'Retry-After: 1\r\n' : ''}Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  );
}

/** [K-7] Why the id this registration names may not be registered with its token, or null. */
function reservedIdProblem(ids: CoordinatorIds, req: IncomingMessage): string | null {
  const params = new URL(req.url ?? '', 'http://signaling').searchParams;
  const id = params.get('id');
  return id === null ? null : ids.admit(id, params.get('token'));
}

/** [K-8] Whether this registration is a coordinator's with a live ticket for its id. */
function claimedRegistration(ids: CoordinatorIds, req: IncomingMessage): boolean {
  const params = new URL(req.url ?? '', 'http://signaling').searchParams;
  const id = params.get('id');
  return id !== null && ids.ticketed(id, params.get('token'));
}

export function attachSignaling(httpServer: HttpServer | HttpsServer, app: MiddlewareHost, options: SignalingOptions = {}): Signaling {
  let wss: WebSocketServer | null = null;
  let detached = false;
  const timers = createTimerScope();
  const limits: SignalingLimits = { ...SIGNALING_LIMITS, ...options.limits };
  const guard = createSignalingGuard({ limits, ...(options.allowedOrigins ? { allowedOrigins: options.allowedOrigins } : {}) });
  const coordinatorIds = options.coordinatorIds ?? createCoordinatorIds();

  const peerApp = ExpressPeerServer(httpServer, {
    path: '/',
    key: PEERJS_KEY,
    allow_discovery: false,
    concurrent_limit: limits.maxClients,
    expire_timeout: limits.expireTimeoutMs,
    cleanup_out_msgs: limits.cleanupIntervalMs,
    ...(options.aliveTimeoutMs !== undefined ? { alive_timeout: options.aliveTimeoutMs } : {}),
    createWebSocketServer: (wsOptions: ServerOptions) => {
      // wsOptions.path is /peerjs/peerjs (mount path + '/' + 'peerjs'). ws closes a socket that
      // sends a larger message (1009) before anything reads it.
      wss = new WebSocketServer({ noServer: true, maxPayload: limits.maxMessageBytes, ...(wsOptions.path ? { path: wsOptions.path } : {}) });
      return wss;
    },
  });
  peerApp.disable('x-powered-by');
  // Errors come from clients (bad frames, oversized messages): throttled, so they cannot flood the log.
  peerApp.on('error', (err: Error) => guard.error(err));
  peerApp.on('connection', (client: IClient) => guard.connected(client.getId()));
  peerApp.on('disconnect', (client: IClient) => guard.disconnected(client.getId()));
  // [K-7] A reserved id's reservation does not lapse while its coordinator is registered.
  peerApp.on('connection', (client: IClient) => coordinatorIds.registered(client.getId()));
  peerApp.on('disconnect', (client: IClient) => coordinatorIds.left(client.getId()));
  if (options.log) {
    peerApp.on('connection', (client: IClient) => console.log(`[signaling] + ${client.getId()}`));
    peerApp.on('disconnect', (client: IClient) => console.log(`[signaling] - ${client.getId()}`));
  }

  // PeerServer initialises on its 'mount' event, using its mount path for the WebSocket path.
  // It is mounted on a holder app of its own so that we can gate it off on detach.
  const holder = express();
  holder.disable('x-powered-by');
  // [K-7] The claim endpoints sit under /peerjs too, so dev, preview and production all have them.
  holder.use(coordinatorIdRoutes(coordinatorIds));
  timers.run(() => holder.use(SIGNALING_PATH, peerApp));
  if (!wss) throw new Error('PeerServer did not create its WebSocket server on mount');
  const socketServer: WebSocketServer = wss;

  const onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
    if (detached || pathnameOf(req.url) !== SIGNALING_WS_PATH) return; // someone else's (e.g. Vite HMR)
    const refused = guard.checkUpgrade(req);
    if (refused) {
      refuseUpgrade(socket, refused.status, refused.reason);
      return;
    }
    socketServer.handleUpgrade(req, socket, head, (ws) => {
      // [K-7] A reserved coordinator id only with a ticket its key's claim earned.
      // [K-8] Its ticket also earns it the coordinator's signaling budget.
      const reason = guard.admit(ws, req, claimedRegistration(coordinatorIds, req)) ?? reservedIdProblem(coordinatorIds, req);
      if (reason === null) {
        socketServer.emit('connection', ws, req);
        return;
      }
      // The same ERROR message peer sends for a bad key, so peerjs clients show the reason.
      ws.send(JSON.stringify({ type: 'ERROR', payload: { msg: reason } }));
      ws.close(1008, 'refused');
    });
  };
  httpServer.on('upgrade', onUpgrade);

  const handler: Middleware = (req, res, next) => {
    if (detached || !isSignalingUrl(req.url)) return next();
    // Running an express app as a middleware re-prototypes req/res; undo that when it falls through.
    const reqProto: unknown = Object.getPrototypeOf(req);
    const resProto: unknown = Object.getPrototypeOf(res);
    const handle = (holder as unknown as { handle: (q: IncomingMessage, s: unknown, n: (err?: unknown) => void) => void }).handle;
    handle.call(holder, req, res, (err?: unknown) => {
      Object.setPrototypeOf(req, reqProto as object);
      Object.setPrototypeOf(res, resProto as object);
      next(err);
    });
  };
  app.use(handler);

  return {
    path: SIGNALING_PATH,
    events: peerApp,
    get active() {
      return !detached;
    },
    clientCount: () => socketServer.clients.size,
    registered: (id) => !detached && guard.registered(id),
    stats: () => guard.stats(),
    coordinatorIds,
    detach: async () => {
      if (detached) return;
      detached = true;
      httpServer.off('upgrade', onUpgrade);
      timers.dispose();
      for (const ws of socketServer.clients) ws.terminate();
      await new Promise<void>((resolve) => socketServer.close(() => resolve()));
    },
  };
}
