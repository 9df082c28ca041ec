/**
 * Plain Node middlewares shared by the production server (express) and the Vite dev/preview
 * servers (connect), so both answer the same way.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { IceServer } from './config.ts';

export type Next = (err?: unknown) => void;
export type Middleware = (req: IncomingMessage, res: ServerResponse, next: Next) => void;
/** Anything with connect/express-style `use(fn)`. */
export interface MiddlewareHost {
  use(fn: Middleware): unknown;
}

/**
 * Cross-origin isolation, needed for SharedArrayBuffer (onnxruntime-web threads). CORP on our own
 * responses keeps them loadable from our own isolated pages and nowhere else.
 */
export const ISOLATION_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
  'Cross-Origin-Resource-Policy': 'same-origin',
});

export const isolationHeaders: Middleware = (_req, res, next) => {
  for (const [name, value] of Object.entries(ISOLATION_HEADERS)) res.setHeader(name, value);
  next();
};

export function pathnameOf(url: string | undefined): string {
  const raw = url ?? '/';
  const q = raw.search(/[?#]/);
  return q === -1 ? raw : raw.slice(0, q);
}

export function sendJson(res: ServerResponse, status: number, body: unknown, method = 'GET'): void {
  const text = JSON.stringify(body);
  res.statusCode = status;
  res.setHeader('Content-Type', 'application/json; charset=utf-8');
  res.setHeader('Cache-Control', 'no-store');
  res.setHeader('Content-Length', Buffer.byteLength(text));
  res.end(method === 'HEAD' ? undefined : text);
}

/** What GET /config.json returns: runtime settings the app reads at start-up. */
export interface ClientConfig {
  iceServers: IceServer[];
}

export interface ApiOptions {
  iceServers: IceServer[];
  /** Extra fields for /healthz, e.g. the number of connected signaling clients. */
  health?: () => Record<string, unknown>;
}

/** GET /config.json and GET /healthz. */
export function apiMiddleware({ iceServers, health }: ApiOptions): Middleware {
  const startedAt = Date.now();
  const clientConfig: ClientConfig = { iceServers };
  return (req, res, next) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') return next();
    const pathname = pathnameOf(req.url);
    if (pathname === '/config.json') return sendJson(res, 200, clientConfig, req.method);
    if (pathname === '/healthz') {
      return sendJson(res, 200, { status: 'ok', uptimeS: Math.round((Date.now() - startedAt) / 1000), ...health?.() }, req.method);
    }
    next();
  };
}
