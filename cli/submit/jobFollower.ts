/**
 * Follows one job for `quorum submit` (which submits it first) and `quorum results` (which picks
 * it up by id): prints its progress, asks for the verified shards whenever more are verified, and
 * writes them into the output folder, until every shard is finished. Resolves with the exit code:
 * 0 when every shard is verified; 1 when the coordinator refuses the job or the connection, does
 * not know the job, presents an untrusted key, or leaves shards unverifiable.
 */
import type { CoordinatorTrust } from '../../src/host/coordinatorTrust.ts';
import { addSample, finishedItems, rateOf, type RateSample } from '../../src/model/jobRates.ts';
import { keyAlarmMessage } from '../../src/protocol/coordinatorProof.ts';
import { errorMessage } from '../../src/protocol/errorMessage.ts';
import type { JobId } from '../../src/protocol/ids.ts';
import type { JobSpec, JobStatus, VerifiedShard } from '../../src/protocol/messages.ts';
import type { EndpointFactory } from '../../src/transport/transport.ts';
import { assembleResults } from '../../src/workloads/export/assemble.ts';
import type { SignedReceipt } from '../../src/protocol/receipt.ts';
import { progressLine } from './progressLine.ts';
import { RequesterClient } from '../../src/host/requesterClient.ts';
import { writeJobRecord, writeResults } from './resultsFolder.ts';

/** Where the progress line and messages go (stdout, or a test's recorder). */
export interface Output {
  readonly isTTY?: boolean;
  write(text: string): unknown;
}

/**
 * Shards are fetched at most this often: each answer carries every shard verified so far, and
 * each write rewrites the exports, so a big job is not refetched for every shard.
 */
const RESULTS_EVERY_MS = 1_000;
/**
 * `quorum results`: job-status frames without the job before it is called unknown. The
 * coordinator reports every job it holds to a requester right after its hello.
 */
const UNKNOWN_AFTER_STATUSES = 1;

export interface FollowOptions {
  readonly server: string;
  readonly network: string;
  readonly outDir: string;
  readonly factory: EndpointFactory;
  readonly trust: CoordinatorTrust;
  /** Submit this job first; absent: follow `jobId`. */
  readonly spec?: JobSpec;
  readonly jobId?: JobId;
  /** [K-1] Recorded in job.json so a resumed run trusts the same key. */
  readonly fingerprint: string | null;
  /** [J-11] The network's requester key, proved in the hello: only its holders read a job's progress and results. Never written to disk. */
  readonly requesterKey: string;
  readonly out: Output;
  /** Where a failure's message goes (default: `out`). */
  readonly err?: Output;
  readonly now?: () => number;
}

export class JobFollower {
  private readonly client: RequesterClient;
  private readonly now: () => number;
  private jobId: JobId | null;
  private ref: string | null = null;
  private status: JobStatus | null = null;
  private samples: RateSample[] = [];
  private written = 0;
  private requesting = false;
  private lastRequestAt = -Infinity;
  private requestTimer: ReturnType<typeof setTimeout> | null = null;
  private statusesWithout = 0;
  private lastLine = '';
  private finished = false;
  private resolveDone: (code: number) => void = () => undefined;
  /** Resolves with the exit code once the job is finished (or cannot be). */
  readonly done: Promise<number>;

  constructor(private readonly options: FollowOptions) {
    this.now = options.now ?? (() => Date.now());
    this.jobId = options.jobId ?? null;
    this.done = new Promise((resolve) => (this.resolveDone = resolve));
    this.client = new RequesterClient(
      options.factory,
      options.trust,
      {
        welcome: () => this.onConnected(),
        linkState: (state, detail) => {
          if (state === 'connecting') this.say(`… ${detail}`);
        },
        lost: () => this.say('… lost the coordinator; reconnecting'),
        accepted: (ref, jobId, shards) => {
          if (ref !== this.ref) return;
          this.jobId = jobId;
          this.say(`job ${jobId} accepted: ${shards} shards; results go to ${options.outDir} (resume with: quorum results ${jobId} --out ${options.outDir})`);
          this.record();
        },
        rejected: (ref, reason) => {
          if (ref === this.ref) this.finish(1, `the coordinator refused the job: ${reason}`);
        },
        unsent: (ref, reason) => {
          if (ref === this.ref) this.finish(1, `the job was not sent: ${reason}`);
        },
        refused: (reason) => this.finish(1, `the coordinator refused the connection: ${reason}`),
        status: (jobs) => this.onStatus(jobs),
        results: (jobId, shards, itemNames, receipt) => {
          if (jobId === this.jobId) this.onResults(shards, itemNames, receipt);
        },
        untrusted: (alarm) =>
          this.finish(1, `${keyAlarmMessage(alarm)} (here: pass the right --fp, or delete the network's line in pins.json to trust a new key)`),
        protocolError: (reason) => this.say(`warning: dropped a frame from the coordinator: ${reason}`),
      },
      'quorum submit',
      () => options.requesterKey,
    );
  }

  start(): Promise<number> {
    this.client.start();
    return this.done;
  }

  /** Stops following (Ctrl-C): the job goes on at the coordinator, and `quorum results` picks it up. */
  interrupt(): void {
    const resume = this.jobId ? `; resume with: quorum results ${this.jobId} --out ${this.options.outDir}` : '';
    this.finish(130, `interrupted${resume}`);
  }

  private onConnected(): void {
    this.say(`connected to network "${this.options.network}"`);
    this.statusesWithout = 0;
    if (this.jobId !== null) {
      // A reconnect: what was verified meanwhile is fetched now. `quorum results` waits for the
      // first report instead, which gives the job's name and size for the exports.
      if (this.status !== null) this.requestResults(true);
      return;
    }
    if (this.ref !== null || !this.options.spec) return;
    const ref = `cli${Math.floor(this.now()).toString(36)}`;
    const sent = this.client.submit(ref, this.options.spec);
    if (!sent.ok) {
      this.finish(1, `the job was not sent: ${sent.reason}`);
      return;
    }
    this.ref = ref;
    this.say(`submitted "${this.options.spec.name}"; waiting for the coordinator to admit it`);
  }

  private onStatus(jobs: readonly JobStatus[]): void {
    if (this.jobId === null) return;
    const job = jobs.find((j) => j.jobId === this.jobId);
    if (!job) {
      // Submitted here: the job is known since `job-accepted`. Followed by id: the coordinator
      // would have listed it in its first report.
      if (!this.options.spec && ++this.statusesWithout >= UNKNOWN_AFTER_STATUSES) {
        this.finish(1, `the coordinator of network "${this.options.network}" does not know job ${this.jobId}: check the job id, --network and --key`);
      }
      return;
    }
    const fresh = this.status === null;
    this.status = job;
    if (fresh) this.record();
    this.samples = addSample(this.samples, { atMs: this.now(), finishedItems: finishedItems(job) });
    this.progress(progressLine(job, rateOf(this.samples, job)));
    if (job.verified > this.written) this.requestResults(false);
    else this.finishIfDone();
  }

  private requestResults(now: boolean): void {
    if (this.requesting || this.finished || this.jobId === null) return;
    const wait = now ? 0 : this.lastRequestAt + RESULTS_EVERY_MS - this.now();
    if (wait > 0) {
      this.requestTimer ??= setTimeout(() => {
        this.requestTimer = null;
        this.requestResults(true);
      }, wait);
      return;
    }
    if (!this.client.requestResults(this.jobId)) return; // the link is down: asked again on reconnect
    this.requesting = true;
    this.lastRequestAt = this.now();
  }

  private onResults(shards: readonly VerifiedShard[], itemNames: readonly string[] | undefined, receipt: SignedReceipt | undefined): void {
    this.requesting = false;
    const job = this.status;
    if (shards.length > 0 && shards.length > this.written) {
      const items = job?.items ?? shards.reduce((n, s) => Math.max(n, s.start + s.count), 0);
      try {
        // [AU-6] The exports carry the coordinator's signed receipt over exactly these shards.
        const results = { ...assembleResults(this.jobId as string, job?.name ?? (this.jobId as string), items, shards, itemNames), receipt: receipt ?? null };
        writeResults(this.options.outDir, results);
        this.written = shards.length;
        this.record();
      } catch (e) {
        this.finish(1, `job ${this.jobId}: the verified results could not be written: ${errorMessage(e)}`);
        return;
      }
    }
    if (job && job.verified > this.written) this.requestResults(false);
    else this.finishIfDone();
  }

  private finishIfDone(): void {
    const job = this.status;
    if (!job?.done || job.verified > this.written || this.requesting) return;
    // job.json says done: a report saying so may come after the last results were written.
    this.record();
    const where = `${this.written} verified shard(s) of ${job.shards} in ${this.options.outDir}`;
    if (job.unverifiable > 0) {
      this.finish(1, `job ${job.jobId} finished with ${job.unverifiable} unverifiable shard(s) (the volunteers did not agree): ${where}`);
    } else this.finish(0, `job ${job.jobId} done: ${where}`);
  }

  private record(): void {
    if (this.jobId === null) return;
    const job = this.status;
    writeJobRecord(this.options.outDir, {
      jobId: this.jobId,
      name: job?.name ?? this.options.spec?.name ?? this.jobId,
      items: job?.items ?? 0,
      server: this.options.server,
      network: this.options.network,
      fingerprint: this.options.fingerprint,
      shards: job?.shards ?? 0,
      verifiedShards: this.written,
      done: job !== null && job.done && this.written >= job.verified,
    });
  }

  /** On a terminal the progress line is redrawn in place; elsewhere each new one is a line. */
  private progress(line: string): void {
    if (line === this.lastLine) return;
    this.lastLine = line;
    this.options.out.write(this.options.out.isTTY ? `\r\x1b[2K${line}` : `${line}\n`);
  }

  private say(text: string): void {
    const clear = this.options.out.isTTY && this.lastLine !== '' ? '\r\x1b[2K' : '';
    this.options.out.write(`${clear}${text}\n`);
    if (clear) this.options.out.write(this.lastLine);
  }

  private finish(code: number, message: string): void {
    if (this.finished) return;
    this.finished = true;
    if (this.requestTimer) clearTimeout(this.requestTimer);
    this.client.stop();
    if (this.options.out.isTTY && this.lastLine !== '') this.options.out.write('\n');
    this.lastLine = '';
    if (code === 0) this.say(message);
    else (this.options.err ?? this.options.out).write(`quorum: ${message}\n`);
    this.resolveDone(code);
  }
}
