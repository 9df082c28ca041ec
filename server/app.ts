/**
 * The production server: the built app (dist/) with SPA fallback, cross-origin isolation headers
 * on every response, /config.json, /healthz, and PeerJS signaling at /peerjs, all on one origin.
 */
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import type { Duplex } from 'node:stream';
import express from 'express';
import { DEFAULT_HOST, DEFAULT_PORT, SIGNALING_LIMITS, parseIceServers, type IceServer, type SignalingLimits, type TlsFiles } from './config.ts';
import { apiMiddleware, isolationHeaders, pathnameOf } from './middleware.ts';
import { SIGNALING_PATH, SIGNALING_WS_PATH, type Signaling } from './signaling.ts';
import { createSignalingControl, type SignalingControl } from './signalingControl.ts';
import { adminMiddleware } from './admin.ts';
import { presenceMiddleware } from './presence.ts';
import { createCoordinatorIds } from './coordinatorIds.ts';

export { attachSignaling } from './signaling.ts';

/** Folders (under the app's origin) that are never answered with index.html. */
const NO_FALLBACK_PREFIXES = ['/assets/', '/ort/', '/models/', `${SIGNALING_PATH}/`];

function setStaticHeaders(res: http.ServerResponse, filePath: string, distDir: string): void {
  const rel = path.relative(distDir, filePath).split(path.sep).join('/');
  if (rel.startsWith('assets/')) {
    // Vite puts a content hash in every file name under assets/.
    res.setHeader('Cache-Control', 'public, max-age=31536000, immutable');
  } else {
    res.setHeader('Cache-Control', 'no-cache');
  }
  if (filePath.endsWith('.wasm')) res.setHeader('Content-Type', 'application/wasm');
  else if (filePath.endsWith('.mjs') || filePath.endsWith('.js')) res.setHeader('Content-Type', 'text/javascript; charset=utf-8');
}

export interface AppOptions {
  iceServers: IceServer[];
  health?: () => Record<string, unknown>;
}

/** The express app without signaling (signaling needs the HTTP server: see attachSignaling). */
export function createApp({ iceServers, health }: AppOptions): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.use(isolationHeaders);
  app.use(apiMiddleware({ iceServers, ...(health ? { health } : {}) }));
  return app;
}

/** Static files and the SPA fallback; mounted after signaling. */
export function addStatic(app: express.Express, distDir: string): void {
  const indexHtml = path.join(distDir, 'index.html');
  app.use(
    express.static(distDir, {
      index: 'index.html',
      setHeaders: (res, filePath) => setStaticHeaders(res, filePath, distDir),
    }),
  );
  app.use((req, res, next) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') return next();
    const pathname = pathnameOf(req.url);
    if (NO_FALLBACK_PREFIXES.some((p) => pathname.startsWith(p)) || pathname === SIGNALING_PATH) return next();
    // Deep links without a file extension get the app; missing files stay 404s.
    if (path.posix.extname(pathname) !== '') return next();
    res.setHeader('Cache-Control', 'no-cache');
    res.sendFile(indexHtml, (err) => {
      if (err) next(err);
    });
  });
  app.use((_req, res) => {
    res.status(404).type('text/plain').send('Not found');
  });
}

export interface StartOptions {
  port?: number;
  host?: string;
  distDir?: string;
  /** Defaults to QUORUM_ICE_SERVERS from the environment (invalid JSON there: the promise rejects). */
  iceServers?: IceServer[];
  tls?: TlsFiles | null;
  /** Log signaling connects/disconnects. */
  logSignaling?: boolean;
  /**
   * Serve POST /admin/signaling/{stop,start} to loopback clients that send this token (for
   * operators and fault tests); no token, no admin endpoints.
   */
  adminToken?: string | null;
  /** Overrides of SIGNALING_LIMITS (defaults: server/config.ts). */
  signalingLimits?: Partial<SignalingLimits>;
  /** Page origins besides the app's own that may open signaling sockets (QUORUM_ALLOWED_ORIGINS). */
  allowedOrigins?: readonly string[];
  /** [K-7] Coordinator ids reserved by the operator for their keys (QUORUM_COORDINATOR_KEYS). */
  coordinatorKeys?: ReadonlyMap<string, string>;
  /** More routes (e.g. a headless coordinator's /metrics), mounted before the app's files and its fallback. */
  routes?: (app: express.Express) => void;
}

export interface RunningServer {
  /** Base URL, e.g. http://127.0.0.1:8080 (a wildcard host is reported as localhost). */
  url: string;
  port: number;
  host: string;
  httpServer: http.Server | https.Server;
  /** The current signaling instance. */
  readonly signaling: Signaling;
  /** Stop/start signaling without stopping the app server. */
  signalingControl: SignalingControl;
  close(): Promise<void>;
}

export function urlHost(host: string): string {
  if (host === '0.0.0.0' || host === '::' || host === '') return 'localhost';
  return host.includes(':') ? `[${host}]` : host;
}

export async function startServer(options: StartOptions = {}): Promise<RunningServer> {
  const distDir = path.resolve(options.distDir ?? 'dist');
  const host = options.host ?? DEFAULT_HOST;
  const port = options.port ?? DEFAULT_PORT;
  const iceServers = options.iceServers ?? parseIceServers(process.env['QUORUM_ICE_SERVERS']);
  if (!fs.existsSync(path.join(distDir, 'index.html'))) {
    throw new Error(`No index.html in ${distDir}: build the app first (npm run build, or vite build --mode test for dist-test/)`);
  }

  let control: SignalingControl | null = null;
  const app = createApp({
    iceServers,
    health: () => ({ signalingClients: control?.running() ? control.current().clientCount() : 0, signaling: control?.running() ?? false }),
  });
  const httpServer = options.tls
    ? https.createServer({ cert: fs.readFileSync(options.tls.certFile), key: fs.readFileSync(options.tls.keyFile) }, app)
    : http.createServer(app);
  if (options.adminToken) app.use(adminMiddleware(options.adminToken, () => control));
  app.use(
    presenceMiddleware({
      registered: (id) => control?.running() === true && control.current().registered(id),
      limits: { ...SIGNALING_LIMITS, ...options.signalingLimits },
    }),
  );
  const sigControl = createSignalingControl(httpServer, app, {
    log: options.logSignaling ?? false,
    ...(options.signalingLimits ? { limits: options.signalingLimits } : {}),
    ...(options.allowedOrigins ? { allowedOrigins: options.allowedOrigins } : {}),
    coordinatorIds: createCoordinatorIds(options.coordinatorKeys),
  });
  control = sigControl;
  options.routes?.(app);
  addStatic(app, distDir);
  // This server has no WebSockets but signaling's: refuse the rest instead of leaving them hanging.
  httpServer.on('upgrade', (req: http.IncomingMessage, socket: Duplex) => {
    if (sigControl.running() && pathnameOf(req.url) === SIGNALING_WS_PATH) return;
    socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
  });

  await new Promise<void>((resolve, reject) => {
    const onError = (err: Error): void => reject(err);
    httpServer.once('error', onError);
    httpServer.listen(port, host, () => {
      httpServer.off('error', onError);
      resolve();
    });
  }).catch(async (err: unknown) => {
    await sigControl.stop();
    throw err;
  });

  const actualPort = (httpServer.address() as AddressInfo).port;
  const scheme = options.tls ? 'https' : 'http';
  let closing: Promise<void> | null = null;
  const running: RunningServer = {
    url: `${scheme}://${urlHost(host)}:${actualPort}`,
    port: actualPort,
    host,
    httpServer,
    get signaling() {
      return sigControl.current();
    },
    signalingControl: sigControl,
    close: () => {
      closing ??= (async () => {
        const closed = new Promise<void>((resolve) => httpServer.close(() => resolve()));
        await sigControl.stop();
        httpServer.closeAllConnections();
        await closed;
      })();
      return closing;
    },
  };
  return running;
}
