/**
 * Vite plugin: the production server's same-origin extras on `vite` (dev) and `vite preview`:
 * cross-origin isolation headers on every response, GET /config.json and /healthz, and PeerJS
 * signaling at /peerjs (the same code as server/, attached to Vite's own HTTP server).
 */
import type { Server as HttpServer } from 'node:http';
import type { Plugin, PreviewServer, ViteDevServer } from 'vite';
import { SIGNALING_LIMITS, parseAllowedOrigins, parseIceServers, parseSignalingLimits, type IceServer, type SignalingLimits } from '../server/config.ts';
import { apiMiddleware, isolationHeaders } from '../server/middleware.ts';
import { attachSignaling, type Signaling } from '../server/signaling.ts';
import { presenceMiddleware } from '../server/presence.ts';
import { describeUrls } from '../server/urls.ts';

export interface SignalingPluginOptions {
  /** Defaults to QUORUM_ICE_SERVERS (invalid JSON there stops Vite with a clear message). */
  iceServers?: IceServer[];
  /** Print the four role URLs once listening (default true). */
  printRoleUrls?: boolean;
}

export function signalingPlugin(options: SignalingPluginOptions = {}): Plugin {
  let iceServers: IceServer[] = [];
  // The same signaling limits and allowed origins as `npm start`, from the same variables.
  let limits: SignalingLimits | null = null;
  let allowedOrigins: string[] = [];

  const setup = (server: ViteDevServer | PreviewServer): void => {
    const httpServer = server.httpServer as HttpServer | null;
    server.middlewares.use(isolationHeaders);
    let signaling: Signaling | null = null;
    server.middlewares.use(apiMiddleware({ iceServers, health: () => ({ signalingClients: signaling?.clientCount() ?? 0 }) }));
    // [E-4] Beside /peerjs, as on `npm start`: clients ask before they dial.
    server.middlewares.use(presenceMiddleware({ registered: (id) => signaling?.registered(id) ?? false, limits: limits ?? SIGNALING_LIMITS }));
    if (!httpServer) return; // middleware mode: the host server owns the sockets
    signaling = attachSignaling(httpServer, server.middlewares, { ...(limits ? { limits } : {}), allowedOrigins });
    httpServer.once('close', () => void signaling?.detach());
    if (options.printRoleUrls ?? true) {
      httpServer.once('listening', () => {
        const addr = httpServer.address();
        if (!addr || typeof addr === 'string') return;
        const host = typeof server.config.server.host === 'string' ? server.config.server.host : '0.0.0.0';
        const scheme = server.config.server.https ? 'https' : 'http';
        setTimeout(() => {
          server.config.logger.info(`  Quorum roles (signaling at /peerjs, ${iceServers.length} ICE servers):`);
          for (const line of describeUrls(scheme, host, addr.port)) server.config.logger.info(line);
        }, 50);
      });
    }
  };

  return {
    name: 'quorum:signaling',
    configResolved() {
      iceServers = options.iceServers ?? parseIceServers(process.env['QUORUM_ICE_SERVERS']);
      limits = parseSignalingLimits(process.env);
      allowedOrigins = parseAllowedOrigins(process.env['QUORUM_ALLOWED_ORIGINS']);
    },
    configureServer: setup,
    configurePreviewServer: setup,
  };
}
