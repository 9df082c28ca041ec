/**
 * `quorum submit` and `quorum results`: a requester without a browser, over the Node transport.
 * The coordinator's key is checked as the dashboard checks it ([K-2]): against --fp or the
 * requester link's fp=, else against the key pinned in STATE/pins.json on first use ([K-4]).
 * Ctrl-C stops following (the job goes on at the coordinator); `quorum results` resumes.
 */
import type { SignalSource } from '../volunteer/volunteerCommand.ts';
import { CoordinatorTrust } from '../../src/host/coordinatorTrust.ts';
import type { JobId } from '../../src/protocol/ids.ts';
import type { JobSpec } from '../../src/protocol/messages.ts';
import { closeNodeTransport, nodeEndpointFactory, signalingForServer } from '../../src/transport/nodeTransport.node.ts';
import type { EndpointFactory } from '../../src/transport/transport.ts';
import { UsageError } from '../args.ts';
import { filePinStore } from '../volunteer/pinFile.ts';
import { buildJob } from './jobSource.ts';
import { JobFollower, type Output } from './jobFollower.ts';
import { readJobRecord } from './resultsFolder.ts';
import { parseResultsArgs, parseSubmitArgs, RESULTS_USAGE, SUBMIT_USAGE, type ResultsOptions, type SubmitOptions } from './submitArgs.ts';

export interface SubmitRunEnv {
  /** Default: the Node transport to the server's signaling (closed when done). */
  readonly factory?: EndpointFactory;
  readonly out?: Output;
  readonly err?: Output;
  readonly signals?: SignalSource;
}

/** Follows until the job is finished or the run is interrupted; stops the transport it opened. */
async function follow(
  options: { server: string; network: string; outDir: string; stateRoot: string; fingerprint: string | null; key: string },
  what: { readonly spec: JobSpec } | { readonly jobId: JobId },
  env: SubmitRunEnv,
): Promise<number> {
  const out = env.out ?? process.stdout;
  const err = env.err ?? process.stderr;
  const signals = env.signals ?? process;
  const factory = env.factory ?? nodeEndpointFactory(signalingForServer(options.server));
  const trust = new CoordinatorTrust({
    networkId: options.network,
    linkFingerprint: options.fingerprint,
    pins: filePinStore(options.stateRoot, (text) => err.write(`warning: ${text}\n`)),
  });
  const follower = new JobFollower({
    server: options.server,
    network: options.network,
    outDir: options.outDir,
    factory,
    trust,
    fingerprint: options.fingerprint,
    requesterKey: options.key,
    out,
    err,
    ...('jobId' in what ? { jobId: what.jobId } : { spec: what.spec }),
  });
  const onSignal = (): void => follower.interrupt();
  signals.on('SIGINT', onSignal);
  signals.on('SIGTERM', onSignal);
  try {
    return await follower.start();
  } finally {
    signals.off('SIGINT', onSignal);
    signals.off('SIGTERM', onSignal);
    // node-datachannel's threads keep a process alive until they are cleaned up.
    if (env.factory === undefined) closeNodeTransport();
  }
}

/** Builds and checks the job, then submits and follows it; resolves with the exit code. */
export async function runSubmit(options: SubmitOptions, env: SubmitRunEnv = {}): Promise<number> {
  const err = env.err ?? process.stderr;
  const built = await buildJob(options.source, options.form, options.key);
  if (!built.ok) {
    // The dashboard's messages, one per line, and nothing sent.
    err.write(`quorum: the job cannot be submitted:\n${built.problems.map((p) => `  - ${p}`).join('\n')}\n`);
    return 1;
  }
  return follow(options, { spec: built.spec }, env);
}

/** Fetches what is verified of a job and follows it to the end; what the flags leave out comes from DIR/job.json. */
export async function runResults(options: ResultsOptions, env: SubmitRunEnv = {}): Promise<number> {
  const recorded = readJobRecord(options.outDir);
  if (recorded?.jobId !== undefined && recorded.jobId !== options.jobId) {
    throw new UsageError(`${options.outDir} holds the results of job ${recorded.jobId}, not ${options.jobId}: choose another --out folder`);
  }
  const server = options.server ?? recorded?.server;
  const network = options.network ?? recorded?.network;
  if (server === undefined || network === undefined) {
    throw new UsageError(`${options.outDir} has no job.json to say where job ${options.jobId} runs: give --server and --network`);
  }
  const fingerprint = options.fingerprint ?? recorded?.fingerprint ?? null;
  return follow(
    { server, network, outDir: options.outDir, stateRoot: options.stateRoot, fingerprint, key: options.key },
    { jobId: options.jobId as JobId },
    env,
  );
}

export async function submitCommand(argv: readonly string[]): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(`${SUBMIT_USAGE}\n`);
    return 0;
  }
  return runSubmit(parseSubmitArgs(argv));
}

export async function resultsCommand(argv: readonly string[]): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(`${RESULTS_USAGE}\n`);
    return 0;
  }
  return runResults(parseResultsArgs(argv));
}
