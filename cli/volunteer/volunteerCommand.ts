/**
 * `quorum volunteer`: N headless volunteers in one process, each with its own identity and state
 * directory, on onnxruntime-node, over the Node transport. The first SIGINT/SIGTERM hands every
 * held lease back and exits cleanly (0); a second one exits at once (130).
 */
import os from 'node:os';
import path from 'node:path';
import { isValidNetworkName } from '../../src/host/networkId.ts';
import type { InferenceEngine } from '../../src/runtime/engine.ts';
import { closeNodeTransport, nodeEndpointFactory, signalingForServer } from '../../src/transport/nodeTransport.node.ts';
import type { EndpointFactory } from '../../src/transport/transport.ts';
import { UsageError, parseFlags } from '../args.ts';
import { HeadlessVolunteer } from './headlessVolunteer.ts';
import { StatusBoard, type StatusSink } from './statusLine.ts';
import { CoordinatorTrust } from '../../src/host/coordinatorTrust.ts';
import { filePinStore } from './pinFile.ts';
import { errorMessage } from '../../src/protocol/errorMessage.ts';

export const VOLUNTEER_USAGE = `Usage: quorum volunteer --server URL --network NAME [--fp FINGERPRINT] [--count N] [--threads T] [--state DIR]

Runs headless volunteers: the volunteer of the browser tab, on onnxruntime-node's CPU provider
(backend "node-cpu"), over WebRTC like a tab.

  --server URL     the Quorum server (signaling at URL/peerjs), e.g. http://127.0.0.1:5173
  --network NAME   the network to volunteer for (its coordinator tab must be open)
  --fp FINGERPRINT the coordinator key's fingerprint, as its join links carry it (fp=…): only that key is
                   trusted; without it the first key seen is pinned in DIR/pins.json (trust on first use)
  --count N        volunteers in this process, each with its own identity (default 1; for load tests)
  --threads T      onnxruntime-node threads per shard (default: the CPU cores shared out among the volunteers)
  --state DIR      where identities, held-back results and verified models are kept (default .quorum):
                   volunteer i keeps its peer id, resume token and outbox in DIR/volunteer-NAME-i,
                   so a restart keeps its standing and delivers what it held back

Ctrl-C hands every lease back to the coordinator and exits; a second Ctrl-C exits at once.`;

const MAX_COUNT = 256;

export interface VolunteerCommandOptions {
  readonly server: string;
  readonly network: string;
  readonly count: number;
  readonly threads: number;
  readonly stateRoot: string;
  /** [K-1] The coordinator key's fingerprint from a join link; null: trust on first use. */
  readonly fingerprint: string | null;
}

const positiveInt = (flag: string, value: string, max: number): number => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > max) throw new UsageError(`${flag} must be a whole number from 1 to ${max}, not "${value}"`);
  return n;
};

/** Reads `quorum volunteer`'s flags; throws UsageError naming what to fix. */
export function parseVolunteerArgs(argv: readonly string[], cpus = os.availableParallelism()): VolunteerCommandOptions {
  const flags = parseFlags(argv, ['server', 'network', 'count', 'threads', 'state', 'fp']);
  const server = flags.get('server');
  const network = flags.get('network');
  if (server === undefined) throw new UsageError('--server is required: the Quorum server URL, e.g. --server http://127.0.0.1:5173');
  if (network === undefined) throw new UsageError('--network is required: the name of the network to volunteer for, e.g. --network default');
  if (!isValidNetworkName(network)) throw new UsageError(`--network "${network}" is not a network name: 1-40 letters, digits, - or _`);
  // A URL that cannot be used fails here, before any volunteer starts.
  try {
    signalingForServer(server);
  } catch (e) {
    throw new UsageError(`--server: ${errorMessage(e)}`);
  }
  const count = flags.has('count') ? positiveInt('--count', flags.get('count') as string, MAX_COUNT) : 1;
  // Volunteers of one process share its cores: more threads than that only contend.
  const threads = flags.has('threads') ? positiveInt('--threads', flags.get('threads') as string, 256) : Math.max(1, Math.floor(cpus / count));
  const fingerprint = flags.get('fp') ?? null;
  if (fingerprint !== null && !/^[A-Za-z0-9_-]{43}$/.test(fingerprint)) {
    throw new UsageError(`--fp "${fingerprint}" is not a key fingerprint: copy the fp=… value (43 letters, digits, - or _) from the coordinator's join link`);
  }
  return { server, network, count, threads, stateRoot: flags.get('state') ?? '.quorum', fingerprint };
}

/** Volunteer `index` (from 0) keeps its identity and outbox here. */
export function volunteerStateDir(stateRoot: string, network: string, index: number): string {
  return path.join(stateRoot, `volunteer-${network}-${index + 1}`);
}

/** Where a process's verified models are kept, shared by its volunteers (content-addressed). */
export const modelsDir = (stateRoot: string): string => path.join(stateRoot, 'models');

/** Where signals come from: the process, or a test's emitter. */
export interface SignalSource {
  on(signal: 'SIGINT' | 'SIGTERM', listener: () => void): unknown;
  off(signal: 'SIGINT' | 'SIGTERM', listener: () => void): unknown;
}

export interface VolunteerRunEnv {
  /** Default: the Node transport to `--server`'s signaling. */
  readonly factory?: EndpointFactory;
  readonly createEngine?: () => InferenceEngine;
  readonly out?: StatusSink;
  readonly signals?: SignalSource;
  /** Called for a second Ctrl-C: leave now (the process's exit by default). */
  readonly exitNow?: (code: number) => void;
}

export interface VolunteerRun {
  readonly volunteers: readonly HeadlessVolunteer[];
  /** Hands every lease back and stops every volunteer (what the first Ctrl-C does). */
  stop(): Promise<void>;
  /** Resolves with the exit code once the volunteers have stopped. */
  readonly done: Promise<number>;
}

/** Starts the volunteers; throws (after stopping those started) if an engine cannot start. */
export async function startVolunteers(options: VolunteerCommandOptions, env: VolunteerRunEnv = {}): Promise<VolunteerRun> {
  const out = env.out ?? process.stdout;
  const signals = env.signals ?? process;
  const ownTransport = env.factory === undefined;
  const factory = env.factory ?? nodeEndpointFactory(signalingForServer(options.server));
  const board = new StatusBoard(options.count, out);
  // [K-2] [K-4] One trust for the process: every volunteer checks the coordinator's proof against the same pin.
  const trust = new CoordinatorTrust({
    networkId: options.network,
    linkFingerprint: options.fingerprint,
    pins: filePinStore(options.stateRoot, (text) => board.log(0, 'warn', text)),
  });
  const volunteers = Array.from(
    { length: options.count },
    (_, i) =>
      new HeadlessVolunteer({
        networkId: options.network,
        factory,
        stateDir: volunteerStateDir(options.stateRoot, options.network, i),
        modelsDir: modelsDir(options.stateRoot),
        trust,
        threads: options.threads,
        // The hello's label holds 100 characters; a long host name is cut, not refused.
        label: (options.count === 1 ? `headless on ${os.hostname()}` : `headless ${i + 1}/${options.count} on ${os.hostname()}`).slice(0, 100),
        ...(env.createEngine ? { createEngine: env.createEngine } : {}),
        events: {
          log: (level, text) => board.log(i, level, text),
          status: (stats) => board.status(i, stats),
          ran: (shardId, items, inferMs) => board.shardDone(i, shardId, items, inferMs),
        },
      }),
  );

  let resolveDone: (code: number) => void = () => undefined;
  const done = new Promise<number>((resolve) => (resolveDone = resolve));
  let stopping: Promise<void> | null = null;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      signals.off('SIGINT', onSignal);
      signals.off('SIGTERM', onSignal);
      signals.on('SIGINT', onSecondSignal);
      signals.on('SIGTERM', onSecondSignal);
      await Promise.all(volunteers.map((v) => v.stop()));
      signals.off('SIGINT', onSecondSignal);
      signals.off('SIGTERM', onSecondSignal);
      board.close();
      // node-datachannel's threads keep a process alive until they are cleaned up.
      if (ownTransport) closeNodeTransport();
      resolveDone(0);
    })();
    return stopping;
  };
  const onSignal = (): void => {
    board.log(null, 'info', 'handing leases back and stopping (Ctrl-C again to quit at once)');
    void stop();
  };
  const onSecondSignal = (): void => {
    board.close();
    (env.exitNow ?? ((code: number) => process.exit(code)))(130);
  };
  signals.on('SIGINT', onSignal);
  signals.on('SIGTERM', onSignal);
  // On a terminal the line is redrawn each second, so items/s falls to 0 when work stops.
  const redraw = out.isTTY ? setInterval(() => board.refresh(), 1_000) : null;
  redraw?.unref();
  void done.then(() => {
    if (redraw) clearInterval(redraw);
  });

  try {
    const caps = await Promise.all(volunteers.map((v) => v.start()));
    const c = caps[0];
    if (c)
      board.log(
        0,
        'info',
        `${options.count} volunteer(s) on ${c.backend} (onnxruntime-node ${c.ortVersion}, ${c.threads} thread(s) each) for network "${options.network}"`,
      );
  } catch (e) {
    await stop();
    throw e;
  }
  return { volunteers, stop, done };
}

/** `quorum volunteer …`: runs until a signal; resolves with the exit code. */
export async function volunteerCommand(argv: readonly string[]): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(`${VOLUNTEER_USAGE}\n`);
    return 0;
  }
  const options = parseVolunteerArgs(argv);
  const run = await startVolunteers(options);
  return run.done;
}
