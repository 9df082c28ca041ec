/**
 * `quorum coordinator`: a network's coordinator as a service — the coordinator page's core and
 * host in Node, its state in an SQLite database in the data directory (src/node/headlessCoordinator.node.ts).
 */
import { UsageError, parseFlags } from '../args.ts';
import { DEFAULT_JOB_LIMITS, HARD_JOB_LIMITS, type JobLimits } from '../../src/core/jobChecks.ts';
import { DataDirError } from '../../src/node/dataDir.node.ts';
import { HeadlessOptionsError, runHeadlessCoordinator, type HeadlessCoordinatorOptions } from '../../src/node/headlessCoordinator.node.ts';
import { SqliteStoreError } from '../../src/persistence/sqliteCoordinatorStore.node.ts';

const MIB = 1024 * 1024;

export const COORDINATOR_USAGE = `Usage: quorum coordinator --network NAME --data DIR [--serve] [--port P] [--host ADDR] [--server URL] [--metrics-port P]
                        [--max-model-mib M] [--max-inputs-mib M] [--max-items N]

Runs a network's coordinator headless: the coordinator page's core in Node, its jobs, leases and
results in DIR/coordinator.sqlite (kept across restarts; a SIGKILL loses nothing), its requester
key and its coordinator key in DIR (owner-only). Logs are JSON lines on stdout; the first
"coordinator ready" line holds the join links (volunteer, requester with key, network map).

  --network NAME      the network's name (1-40 letters, digits, - or _)
  --data DIR          the data directory (created owner-only if missing)
  --serve             also serve the app, signaling (/peerjs) and /metrics from this process
  --port P            with --serve: the port (default 8080)
  --host ADDR         the address to bind (default 0.0.0.0 with --serve, 127.0.0.1 for --metrics-port)
  --server URL        without --serve: the Quorum server whose signaling to register with
  --metrics-port P    without --serve: serve /metrics (Prometheus text) on this port

Job limits, as on the coordinator page: every submission over one is refused with the reason.
Given, they are saved with the network; left out, the saved ones (or the defaults) apply.
  --max-model-mib M   the largest model a job may send, in MiB (default ${DEFAULT_JOB_LIMITS.maxModelBytes / MIB}, at most ${HARD_JOB_LIMITS.maxModelBytes / MIB})
  --max-inputs-mib M  the most input bytes one job may send, in MiB (default ${DEFAULT_JOB_LIMITS.maxInputBytes / MIB}, at most ${HARD_JOB_LIMITS.maxInputBytes / MIB})
  --max-items N       the most items one job may hold (default ${DEFAULT_JOB_LIMITS.maxItems}, at most ${HARD_JOB_LIMITS.maxItems})

SIGTERM or Ctrl-C finishes pending writes and exits 0; a second one exits at once.`;

const port = (flag: string, value: string): number => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65_535) throw new UsageError(`${flag} must be a port number from 0 to 65535, not "${value}"`);
  return n;
};

/** A size flag in MiB (fractions allowed, as on the page) as whole bytes, within the protocol's cap. */
const mib = (flag: string, value: string, hardBytes: number): number => {
  const n = Number(value);
  const bytes = Math.round(n * MIB);
  if (value.trim() === '' || !Number.isFinite(n) || bytes < 1 || bytes > hardBytes)
    throw new UsageError(`${flag} must be a size in MiB above 0 and at most ${hardBytes / MIB}, not "${value}"`);
  return bytes;
};

const count = (flag: string, value: string, most: number): number => {
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || n < 1 || n > most) throw new UsageError(`${flag} must be a whole number from 1 to ${most}, not "${value}"`);
  return n;
};

/** [J-4] The job limits the command line gives, checked; only those given (the rest stay as saved). */
function jobLimitFlags(flags: ReadonlyMap<string, string>): Partial<JobLimits> | null {
  const limits: { -readonly [K in keyof JobLimits]?: number } = {};
  const model = flags.get('max-model-mib');
  const inputs = flags.get('max-inputs-mib');
  const items = flags.get('max-items');
  if (model !== undefined) limits.maxModelBytes = mib('--max-model-mib', model, HARD_JOB_LIMITS.maxModelBytes);
  if (inputs !== undefined) limits.maxInputBytes = mib('--max-inputs-mib', inputs, HARD_JOB_LIMITS.maxInputBytes);
  if (items !== undefined) limits.maxItems = count('--max-items', items, HARD_JOB_LIMITS.maxItems);
  return Object.keys(limits).length > 0 ? limits : null;
}

/** Reads `quorum coordinator`'s flags (`--serve` takes no value); throws UsageError naming what to fix. */
export function parseCoordinatorArgs(argv: readonly string[]): Omit<HeadlessCoordinatorOptions, 'log'> {
  const serve = argv.includes('--serve');
  const flags = parseFlags(
    argv.filter((a) => a !== '--serve'),
    ['network', 'data', 'port', 'host', 'server', 'metrics-port', 'max-model-mib', 'max-inputs-mib', 'max-items'],
  );
  const network = flags.get('network');
  const dataDir = flags.get('data');
  if (network === undefined) throw new UsageError('--network is required: the name of the network to coordinate, e.g. --network lab');
  if (dataDir === undefined) throw new UsageError('--data is required: the directory that keeps the database and keys, e.g. --data ./quorum-lab');
  if (serve && flags.has('server')) throw new UsageError('--serve runs its own signaling: leave out --server');
  if (!serve && !flags.has('server'))
    throw new UsageError('give --server URL (the Quorum server to register with), or --serve to serve the app and signaling here');
  const jobLimits = jobLimitFlags(flags);
  return {
    network,
    dataDir,
    serve,
    ...(flags.has('port') ? { port: port('--port', flags.get('port') as string) } : {}),
    ...(flags.has('host') ? { host: flags.get('host') as string } : {}),
    ...(flags.has('server') ? { server: flags.get('server') as string } : {}),
    ...(flags.has('metrics-port') ? { metricsPort: port('--metrics-port', flags.get('metrics-port') as string) } : {}),
    ...(jobLimits ? { jobLimits } : {}),
  };
}

/** Runs until a signal stops it (the headless coordinator exits the process itself); resolves 2 on a bad start. */
export async function coordinatorCommand(argv: readonly string[]): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(`${COORDINATOR_USAGE}\n`);
    return 0;
  }
  const options = parseCoordinatorArgs(argv);
  try {
    await runHeadlessCoordinator({ ...options, log: (line) => process.stdout.write(`${line}\n`) });
  } catch (e) {
    if (e instanceof HeadlessOptionsError || e instanceof DataDirError || e instanceof SqliteStoreError) {
      process.stderr.write(`quorum coordinator: ${e.message}\n`);
      return 2;
    }
    throw e;
  }
  // Keeps running: the process exits from the coordinator's signal handlers.
  return new Promise<number>(() => undefined);
}
