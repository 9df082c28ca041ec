/**
 * `npm start` (after `vite build`): serves dist/ and PeerJS signaling on one port.
 * Env: PORT (8080), HOST (0.0.0.0), QUORUM_DIST (dist), QUORUM_ICE_SERVERS ([]),
 * QUORUM_TLS_CERT + QUORUM_TLS_KEY (optional https), QUORUM_LOG_SIGNALING=1 (log peers),
 * QUORUM_ADMIN=1 + QUORUM_ADMIN_TOKEN (loopback-only POST /admin/signaling/{stop,start}),
 * QUORUM_ALLOWED_ORIGINS, QUORUM_SIGNALING_* (signaling limits, see config.ts),
 * QUORUM_COORDINATOR_KEYS (network=fingerprint,…: coordinator ids reserved for those keys, [K-7]).
 * SIGHUP restarts signaling.
 */
import { ConfigError, loadConfig, type ServerConfig } from './config.ts';
import { startServer } from './app.ts';
import { describeUrls } from './urls.ts';
import { parseCoordinatorKeys } from './coordinatorIds.ts';

async function main(): Promise<void> {
  let config: ServerConfig;
  let coordinatorKeys: Map<string, string>;
  try {
    config = loadConfig();
    coordinatorKeys = parseCoordinatorKeys(process.env['QUORUM_COORDINATOR_KEYS']);
  } catch (e) {
    if (e instanceof ConfigError) {
      console.error(`quorum: configuration error: ${e.message}`);
      process.exit(2);
    }
    throw e;
  }

  const server = await startServer({
    port: config.port,
    host: config.host,
    distDir: config.distDir,
    iceServers: config.iceServers,
    tls: config.tls,
    logSignaling: process.env['QUORUM_LOG_SIGNALING'] === '1',
    adminToken: config.adminToken,
    allowedOrigins: config.allowedOrigins,
    signalingLimits: config.signalingLimits,
    coordinatorKeys,
  });
  // SIGHUP restarts signaling alone: the app keeps serving and every tab reconnects by itself.
  process.on('SIGHUP', () => {
    console.log('quorum: SIGHUP, restarting signaling');
    void server.signalingControl.stop().then(() => server.signalingControl.start());
  });

  const scheme = config.tls ? 'https' : 'http';
  console.log(`Quorum is serving ${config.distDir} at ${server.url} (signaling at /peerjs, ${config.iceServers.length} ICE servers)`);
  for (const line of describeUrls(scheme, config.host, server.port)) console.log(line);

  let stopping = false;
  const stop = (signal: NodeJS.Signals): void => {
    if (stopping) {
      console.log(`quorum: ${signal} again, exiting now`);
      process.exit(1);
    }
    stopping = true;
    console.log(`quorum: ${signal}, shutting down`);
    const force = setTimeout(() => {
      console.error('quorum: shutdown took over 5 s, exiting');
      process.exit(1);
    }, 5000);
    force.unref();
    server.close().then(
      () => process.exit(0),
      (err: unknown) => {
        console.error('quorum: error while shutting down:', err);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

main().catch((err: unknown) => {
  const e = err as NodeJS.ErrnoException;
  if (e.code === 'EADDRINUSE') console.error(`quorum: port already in use (${e.message}); set PORT to another port`);
  else console.error(`quorum: failed to start: ${e.message ?? String(err)}`);
  process.exit(1);
});
