/**
 * A coordinator without a browser: the same `CoordinatorHost` and `CoordinatorCore` as the
 * coordinator page, in Node, over the Node transport (peerjs over node-datachannel), with its
 * state in one SQLite file in a data directory. A restart on the same directory resumes as a
 * reloaded coordinator tab does (the host's restore path: jobs, shards, volunteer ids, leases).
 *
 * It registers with the signaling server at `server`, or, with `serve`, serves the built app and
 * signaling itself (server/app.ts) on one port. It prints the join links the page shows, logs as
 * JSON lines, serves `/metrics` (Prometheus), and on SIGTERM/SIGINT writes what is pending and
 * exits 0.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { startServer, type RunningServer } from '../../server/app.ts';
import type { IceServer } from '../../server/config.ts';
import { CoordinatorHost } from '../host/coordinatorHost.ts';
import { ModelInspector } from '../host/modelInspector.ts';
import { isValidNetworkName } from '../host/networkId.ts';
import { SqliteCoordinatorStore, openCoordinatorSqlite, type SqliteDb, type SqliteStoreOptions } from '../persistence/sqliteCoordinatorStore.node.ts';
import { errorMessage } from '../protocol/errorMessage.ts';
import { createOrtNodeEngine } from '../runtime/ortNodeEngine.node.ts';
import type { LogLine } from '../model/log.ts';
import { initialState } from '../model/state.ts';
import { memoryViewPort } from '../model/viewPort.ts';
import { closeNodeTransport, nodeEndpointFactory, signalingForServer } from '../transport/nodeTransport.node.ts';
import { claimingFactory } from '../host/coordinatorIdClaim.ts';
import { TransportError, type EndpointFactory } from '../transport/transport.ts';
import { coordinatorKeyIn, databasePath, prepareDataDir, requesterKeyIn } from './dataDir.node.ts';
import type { CoordinatorIdentity } from '../host/coordinatorKey.ts';
import type { JobLimits } from '../core/jobChecks.ts';
import { joinLinks, type JoinLinks } from './joinLinks.ts';
import { METRICS_CONTENT_TYPE, RateMeter, renderMetrics } from './metrics.ts';

export interface HeadlessCoordinatorOptions {
  /** The network's name (1-40 letters, digits, - or _): volunteers find the coordinator by it. */
  readonly network: string;
  /** Where the database and the requester key live; created (owner-only) if missing. */
  readonly dataDir: string;
  /** Serve the built app and signaling from this process (then `server` is not used). */
  readonly serve?: boolean;
  /** With `serve`: the port to serve on (default 8080; 0 picks a free one). */
  readonly port?: number;
  /** With `serve`: the address to bind (default 0.0.0.0). */
  readonly host?: string;
  /** With `serve`: the built app (default dist/). */
  readonly distDir?: string;
  /** Without `serve`: the Quorum server whose signaling (at /peerjs) this coordinator registers with. */
  readonly server?: string;
  /** Without `serve`: serve /metrics on this port (127.0.0.1 unless `host` says otherwise; 0 picks one). */
  readonly metricsPort?: number;
  readonly iceServers?: readonly IceServer[];
  /**
   * [J-4] Job limits to apply and save with the network, as the coordinator page saves its own:
   * the ones left out stay as saved (or the defaults), and a restart without them keeps them.
   */
  readonly jobLimits?: Partial<JobLimits>;
  /** Receives one JSON text per log record (the command writes each as a line on stdout). */
  readonly log: (line: string) => void;
  /** Stop cleanly on SIGTERM and SIGINT and exit the process (default true; in-process tests say false). */
  readonly handleSignals?: boolean;
  /** [N-7] How the store commits (default: group commit); the scale benchmark's baseline turns it off. */
  readonly store?: SqliteStoreOptions;
}

export interface HeadlessCoordinator {
  readonly host: CoordinatorHost;
  readonly links: JoinLinks;
  /** The app's origin the links point at. */
  readonly origin: string;
  /** Where /metrics is served, or null when nowhere. */
  readonly metricsUrl: string | null;
  /** Writes what is pending, closes the database, signaling and servers. Idempotent. */
  stop(): Promise<void>;
}

/** Raised for options that cannot work; the message says what to give instead. */
export class HeadlessOptionsError extends Error {
  override readonly name = 'HeadlessOptionsError';
}

/** How long, in all, a restarted coordinator waits for its killed predecessor's peer id to free. */
const ID_TAKEN_WAIT_MS = 30_000;
const ID_TAKEN_RETRY_MS = 500;
/** The results/s gauge is sampled this often, not only on scrapes, so a rare scrape still sees a recent rate. */
const RATE_SAMPLE_MS = 1_000;

/**
 * After a SIGKILL the signaling server holds the old process's registration until it sees the
 * socket closed (usually at once, at worst its alive timeout): the network's id is "taken" by a
 * coordinator that no longer exists, so registering is tried again for a while.
 */
function retryingWhileIdTaken(factory: EndpointFactory, log: (level: LogLine['level'], text: string) => void): EndpointFactory {
  return async (id, handlers) => {
    const deadline = Date.now() + ID_TAKEN_WAIT_MS;
    for (;;) {
      try {
        return await factory(id, handlers);
      } catch (e) {
        if (!(e instanceof TransportError && e.kind === 'id-taken') || Date.now() >= deadline) throw e;
        log('info', `the peer id ${id ?? ''} is still registered (a coordinator that just stopped?): trying again`);
        await new Promise((r) => setTimeout(r, ID_TAKEN_RETRY_MS));
      }
    }
  };
}

function listen(server: http.Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

export async function runHeadlessCoordinator(options: HeadlessCoordinatorOptions): Promise<HeadlessCoordinator> {
  const { network } = options;
  if (!isValidNetworkName(network)) throw new HeadlessOptionsError(`"${network}" is not a valid network name: use 1-40 letters, digits, - or _.`);
  if (!options.serve && options.server === undefined)
    throw new HeadlessOptionsError('Say where signaling is: --server URL of a running Quorum server, or --serve to serve the app and signaling here.');

  const emit = (level: LogLine['level'], msg: string, extra: Record<string, unknown> = {}): void =>
    options.log(JSON.stringify({ time: new Date().toISOString(), level, msg, network, ...extra }));

  const dir = prepareDataDir(options.dataDir);
  const requesterKey = requesterKeyIn(dir);
  const db: SqliteDb = openCoordinatorSqlite(databasePath(dir));
  const store = new SqliteCoordinatorStore(db, network, undefined, undefined, options.store);

  // The host reports through its view (what a page would show: log and status): each new line becomes a JSON line.
  let lastLine: LogLine | undefined;
  let lastSignaling: string | null = null;
  const view = memoryViewPort(initialState.coordinator, (v) => {
    const line = v.log.at(-1);
    if (line !== undefined && line !== lastLine) {
      lastLine = line;
      emit(line.level, line.text);
    }
    if (v.signaling !== lastSignaling) {
      lastSignaling = v.signaling;
      if (lastSignaling !== null) emit(lastSignaling === 'connected' ? 'info' : 'warn', `signaling ${lastSignaling}`);
    }
  });

  const meter = new RateMeter();
  let resultsPerSecond = 0;
  let host: CoordinatorHost | null = null;
  let identity: CoordinatorIdentity | null = null;
  let jobLimits: JobLimits | null = null;
  const sampleRate = (): void => {
    if (host) resultsPerSecond = meter.sample(Date.now(), host.core.verificationTotals().results);
  };
  const metricsText = (): string => {
    sampleRate();
    const core = (host as CoordinatorHost).core;
    return renderMetrics({
      peers: core.peerSummaries(),
      activeLeases: core.activeLeaseCount(),
      jobs: core.jobStatuses(),
      totals: core.verificationTotals(),
      storageFailure: core.storageFailure(),
      pendingWrites: view.get().storage.pendingWrites,
      resultsPerSecond,
    });
  };
  const serveMetrics = (res: http.ServerResponse): void => {
    res.writeHead(200, { 'Content-Type': METRICS_CONTENT_TYPE, 'Cache-Control': 'no-store' });
    res.end(metricsText());
  };

  let app: RunningServer | null = null;
  let origin: string;
  let metricsUrl: string | null = null;
  const cleanup: (() => Promise<void> | void)[] = [
    () => {
      db.close();
    },
  ];
  try {
    if (options.serve) {
      app = await startServer({
        port: options.port ?? 8080,
        host: options.host ?? '0.0.0.0',
        ...(options.distDir !== undefined ? { distDir: options.distDir } : {}),
        ...(options.iceServers ? { iceServers: [...options.iceServers] } : {}),
        routes: (express) => express.get('/metrics', (_req, res) => serveMetrics(res)),
      });
      const running = app;
      cleanup.unshift(() => running.close());
      origin = app.url;
      metricsUrl = `${origin}/metrics`;
    } else {
      origin = (options.server as string).replace(/\/+$/, '');
    }
    // Checked before anything registers: a bad --server URL is a usage error, not a retry loop.
    const signaling = signalingForServer(origin, (options.iceServers ?? []) as RTCIceServer[]);
    if (!options.serve && options.metricsPort !== undefined) {
      const server = http.createServer((req, res) => {
        if (req.method === 'GET' && (req.url ?? '').split('?')[0] === '/metrics') return serveMetrics(res);
        res.writeHead(404, { 'Content-Type': 'text/plain' }).end('Not found: this port serves /metrics only\n');
      });
      const bindHost = options.host ?? '127.0.0.1';
      const port = await listen(server, options.metricsPort, bindHost);
      cleanup.unshift(() => new Promise<void>((r) => server.close(() => r())));
      metricsUrl = `http://${bindHost.includes(':') ? `[${bindHost}]` : bindHost}:${port}/metrics`;
    }

    const saved = await store.jobLimits();
    jobLimits = options.jobLimits ? await store.putJobLimits({ ...saved, ...options.jobLimits }) : saved;
    identity = await coordinatorKeyIn(dir);
    host = new CoordinatorHost({
      networkId: network,
      factory: retryingWhileIdTaken(claimingFactory(signaling, identity, nodeEndpointFactory), emit), // [K-7]
      store,
      config: { requesterKey },
      jobLimits,
      inspector: new ModelInspector(() => createOrtNodeEngine()),
      identity, // [K-1] the same key on every restart: clients have pinned it
      view,
    });
    await host.start();
    const state = view.get();
    if (state.state !== 'connected') throw new Error(state.error ?? 'the coordinator did not start');
  } catch (e) {
    host?.stop();
    for (const c of cleanup) await c();
    closeNodeTransport();
    throw e;
  }

  const running = host;
  const rateTimer = setInterval(sampleRate, RATE_SAMPLE_MS);
  rateTimer.unref();
  const links = joinLinks(origin, network, requesterKey, identity?.fingerprint ?? null);
  emit('info', 'coordinator ready', {
    links,
    metrics: metricsUrl,
    dataDir: dir,
    peerId: view.get().peerId,
    jobLimits,
  });

  let stopping: Promise<void> | null = null;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      clearInterval(rateTimer);
      await running.shutdown();
      for (const c of cleanup) await c();
      closeNodeTransport();
      emit('info', 'coordinator stopped: every write is stored');
    })();
    return stopping;
  };

  if (options.handleSignals ?? true) {
    const onSignal = (signal: NodeJS.Signals): void => {
      if (stopping) {
        emit('warn', `${signal} again: exiting now`);
        process.exit(1);
      }
      emit('info', `${signal}: writing what is pending, then exiting`);
      stop().then(
        () => process.exit(0),
        (err: unknown) => {
          emit('error', `error while stopping: ${errorMessage(err)}`);
          process.exit(1);
        },
      );
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
  }

  return { host: running, links, origin, metricsUrl, stop };
}
