/**
 * The requester dashboard's shell: submits jobs, follows their progress (with throughput and time
 * left), fetches verified results when a job is done and keeps them exactly, in item order, for
 * export; for classifiers it also derives predictions (and accuracy, when labels are known).
 */
import type { SignedReceipt } from '../protocol/receipt.ts';
import { resolvePolicy } from '../protocol/policy.ts';
import { answerKindOf } from '../protocol/pipeline.ts';
import type { JobId } from '../protocol/ids.ts';
import type { JobSpec, JobStatus, VerifiedShard } from '../protocol/messages.ts';
import { float32View } from '../protocol/tensor.ts';
import type { RequesterStorage } from '../persistence/requesterStore.ts';
import { appendLog } from '../model/log.ts';
import type { KeyTrustView } from '../model/keyTrustView.ts';
import { initialState } from '../model/state.ts';
import { memoryViewPort, type ViewPort } from '../model/viewPort.ts';
import type { JobResults, RequesterView, Submission } from '../model/requesterView.ts';
import type { EndpointFactory } from '../transport/transport.ts';
import { assembleResults, type AssembledResults } from '../workloads/export/assemble.ts';
import { RequesterClient } from './requesterClient.ts';
import type { CoordinatorTrust } from './coordinatorTrust.ts';
import { keyTrustHandlers } from './keyAlarms.ts';
import { addSample, finishedItems, rateOf, type RateSample } from '../model/jobRates.ts';
import { errorMessage } from '../protocol/errorMessage.ts';
import { accuracy as scoreOf, argmaxRows } from '../workloads/mnist/holdout.ts';

export interface RequesterHostOptions {
  readonly networkId: string;
  readonly factory: EndpointFactory;
  readonly now?: () => number;
  /** [K-2] How the coordinator proves its key on each connection. */
  readonly trust: CoordinatorTrust;
  /** Where this tab keeps its jobs and their verified results across reloads; none: memory only. */
  readonly store?: RequesterStorage | null;
  /** [J-13] How long a submission waits for a connection before it fails (default 60 s). */
  readonly submitWaitMs?: number;
  /**
   * [J-11] The requester key this tab holds for the network (the one it remembers), read when
   * the link opens: its hello proves it, so the coordinator sends this tab its jobs' status and
   * results. Empty or absent: the tab proves nothing and reads nothing.
   */
  readonly requesterKey?: () => string;
  /** What the page shows; absent (Node, tests): kept in memory, readable as `view`. */
  readonly view?: ViewPort<RequesterView>;
  /** [K-4] Where the page shows the coordinator's key and its alarms; absent: kept in memory. */
  readonly keyTrust?: ViewPort<KeyTrustView>;
}

export class RequesterHost {
  private client: RequesterClient | null = null;
  private refCounter = 0;
  /** Labels of submitted built-in jobs, by submission ref and then by job id. */
  private readonly labelsByRef = new Map<string, Uint8Array>();
  private readonly labelsByJob = new Map<JobId, Uint8Array>();
  private readonly mine = new Set<JobId>();
  private readonly fetched = new Set<JobId>();
  private readonly samples = new Map<JobId, RateSample[]>();
  private readonly now: () => number;
  /** What the dashboard shows of this conversation (state, submissions, jobs, results, log). */
  readonly view: ViewPort<RequesterView>;

  constructor(private readonly options: RequesterHostOptions) {
    this.view = options.view ?? memoryViewPort(initialState.requester);
    this.now = options.now ?? (() => Date.now());
  }

  start(): void {
    this.view.patch({ state: 'connecting', networkId: this.options.networkId, error: null });
    const keys = keyTrustHandlers('requester', this.options.trust, this.options.keyTrust ?? memoryViewPort(initialState.keyTrust));
    this.client = new RequesterClient(
      this.options.factory,
      this.options.trust,
      {
        welcome: (networkId) => {
          this.view.patch({ state: 'connected' });
          this.log('info', `connected to network "${networkId}"`);
        },
        refused: (reason) => this.view.patch({ state: 'error', error: reason }),
        accepted: (ref, jobId, shards) => this.onAccepted(ref, jobId, shards),
        rejected: (ref, reason) => {
          this.updateSubmission(ref, { state: 'rejected', reason });
          this.log('warn', `job refused: ${reason}`);
        },
        unsent: (ref, reason) => {
          this.updateSubmission(ref, { state: 'rejected', reason });
          this.log('warn', `job not sent: ${reason}`);
        },
        sentLate: (ref, name) => this.log('info', `job "${name}" (${ref}) sent now that the coordinator is connected`),
        status: (jobs) => this.onStatus(jobs),
        results: (jobId, shards, itemNames, receipt) => {
          const results = this.onResults(jobId, shards, itemNames, undefined, receipt);
          if (this.options.store && this.mine.has(jobId)) {
            this.persist(`the results of job ${jobId}`, this.options.store.putResults(jobId, results.items, shards, itemNames, receipt));
          }
        },
        linkState: (state, detail) => {
          this.view.patch({ state });
          if (state === 'connecting') this.log('info', detail);
        },
        lost: () => this.log('warn', 'lost the coordinator; reconnecting'),
        protocolError: (reason) => this.log('warn', `dropped a frame: ${reason}`),
        untrusted: (alarm) => keys.untrusted?.(alarm),
        ...(keys.verified ? { verified: keys.verified } : {}),
      },
      'requester',
      () => this.options.requesterKey?.() ?? '',
      this.options.submitWaitMs,
    );
    this.client.start();
    void this.restore();
  }

  /**
   * The jobs this tab's network submitted before a reload: listed again, followed again, and their
   * verified results shown at once when they were stored; results not stored yet are fetched from
   * the coordinator when it reports the job done, as for a job submitted now.
   */
  private async restore(): Promise<void> {
    const store = this.options.store;
    if (!store) return;
    try {
      const jobs = await store.loadJobs();
      for (const job of jobs) {
        if (this.mine.has(job.jobId)) continue;
        this.mine.add(job.jobId);
        if (job.labels) this.labelsByJob.set(job.jobId, job.labels);
        const submission: Submission = { ref: `stored-${job.jobId}`, name: job.name, state: 'accepted', jobId: job.jobId, reason: null, bytes: 0, priority: 1 };
        this.view.patch((prev) => ({ submissions: [submission, ...prev.submissions.filter((s) => s.jobId !== job.jobId)] }));
        if (!job.results || this.fetched.has(job.jobId)) continue;
        const shards = await store.loadResults(job.jobId);
        if (shards.length === 0) continue;
        this.fetched.add(job.jobId);
        this.onResults(job.jobId, shards, job.results.itemNames, { items: job.results.items, name: job.name }, job.results.receipt);
      }
      if (jobs.length > 0) this.log('info', `restored ${jobs.length} job(s) of this tab from its storage`);
    } catch (e) {
      this.log('warn', `could not read this tab's stored jobs: ${errorMessage(e)}`);
    }
  }

  private persist(what: string, write: Promise<void>): void {
    write.catch((e: unknown) => this.log('warn', `could not store ${what} (it stays on this page until a reload): ${errorMessage(e)}`));
  }

  stop(): void {
    this.client?.stop();
  }

  /** Sends a job; returns its submission ref. Labels, if given, score the verified predictions. */
  submit(spec: JobSpec, labels: Uint8Array | null): string {
    const ref = `r${Math.floor(this.now()).toString(36)}${(++this.refCounter).toString(36)}`;
    if (labels) this.labelsByRef.set(ref, labels);
    const bytes =
      spec.model.byteLength + spec.inputs.reduce((n, t) => n + t.data.byteLength, 0) + (spec.files ?? []).reduce((n, f) => n + f.bytes.byteLength, 0); // [J-7]
    const priority = spec.priority ?? 1;
    // Listed before sending: a large frame takes a while to leave, and the page shows "sending…".
    const policy = resolvePolicy(spec.policy, spec.pipeline ? answerKindOf(spec.pipeline) : null);
    const submission: Submission = { ref, name: spec.name, state: 'sending', jobId: null, reason: null, bytes, priority, policy };
    this.view.patch((prev) => ({ submissions: [...prev.submissions, submission] }));
    const sent = this.client?.submit(ref, spec) ?? { ok: false, reason: 'the requester is stopped: reload the page and submit again' };
    if (!sent.ok) {
      this.updateSubmission(ref, { state: 'rejected', reason: sent.reason });
      this.log('warn', `job not sent: ${sent.reason}`);
    } else if (sent.waiting) {
      this.log('info', `job "${spec.name}" waits for the connection to the coordinator; it is sent once connected`);
    }
    return ref;
  }

  private onAccepted(ref: string, jobId: JobId, shards: number): void {
    const labels = this.labelsByRef.get(ref);
    if (labels) this.labelsByJob.set(jobId, labels);
    this.mine.add(jobId);
    this.updateSubmission(ref, { state: 'accepted', jobId });
    const name = this.view.get().submissions.find((s) => s.ref === ref)?.name ?? jobId;
    if (this.options.store) {
      this.persist(`job ${jobId}`, this.options.store.putJob({ jobId, name, acceptedAtMs: this.now(), ...(labels ? { labels } : {}) }));
    }
    this.log('info', `job ${jobId} accepted: ${shards} shards`);
  }

  private onStatus(jobs: readonly JobStatus[]): void {
    this.view.patch({ jobs: [...jobs], rates: this.updateRates(jobs) });
    for (const j of jobs) {
      // [AU-5] A job re-opened by a quarantine ([X-3]) is fetched again, with its new receipt, once done.
      if (!j.done) this.fetched.delete(j.jobId);
      if (j.done && this.mine.has(j.jobId) && !this.fetched.has(j.jobId)) {
        this.fetched.add(j.jobId);
        this.client?.requestResults(j.jobId);
      }
    }
  }

  /** Throughput and ETA of the jobs this tab submitted, from the last few seconds of reports. */
  private updateRates(jobs: readonly JobStatus[]): Record<string, ReturnType<typeof rateOf>> {
    const now = this.now();
    const rates: Record<string, ReturnType<typeof rateOf>> = {};
    for (const j of jobs) {
      if (!this.mine.has(j.jobId)) continue;
      const prev = this.samples.get(j.jobId) ?? [];
      const last = prev[prev.length - 1];
      const samples = last && last.finishedItems === finishedItems(j) && j.done ? prev : addSample(prev, { atMs: now, finishedItems: finishedItems(j) });
      this.samples.set(j.jobId, samples);
      rates[j.jobId] = rateOf(samples, j);
    }
    return rates;
  }

  private onResults(
    jobId: JobId,
    shards: readonly VerifiedShard[],
    itemNames: readonly string[] | undefined,
    known?: { readonly items: number; readonly name: string },
    receipt?: SignedReceipt,
  ): JobResults {
    const status = this.view.get().jobs.find((j) => j.jobId === jobId);
    const items = known?.items ?? status?.items ?? shards.reduce((n, s) => Math.max(n, s.start + s.count), 0);
    let assembled: AssembledResults | null = null;
    let assembleError: string | null = null;
    try {
      // [J-6] Names come from the coordinator, so a reloaded tab or another device has them too.
      assembled = { ...assembleResults(jobId, known?.name ?? status?.name ?? jobId, items, shards, itemNames), receipt: receipt ?? null };
    } catch (e) {
      assembleError = errorMessage(e);
      this.log('error', `job ${jobId}: verified results could not be put together: ${assembleError}`);
    }
    // One arg-max and one accuracy for the dashboard and the reference run (workloads/mnist):
    // a NaN never wins a row, and an item without a verified row of scores predicts -1.
    const predictions = new Array<number>(items).fill(-1);
    let verifiedItems = 0;
    for (const s of shards) {
      const rows = Math.min(s.count, Math.max(0, items - s.start));
      // [V-12] A pipeline job's shard carries answers, one per item, and no outputs to rank.
      if (s.answers) {
        verifiedItems += rows;
        continue;
      }
      const out = s.outputs[0];
      if (!out || out.dtype !== 'float32') continue;
      const classes = out.dims[out.dims.length - 1] ?? 1;
      if (classes <= 0) continue;
      const values = float32View(out);
      // Only the rows the output really holds: an item past them has no scores to rank.
      const ranked = argmaxRows(values.subarray(0, Math.min(rows, Math.floor(values.length / classes)) * classes), classes);
      ranked.forEach((p, row) => (predictions[s.start + row] = p));
      verifiedItems += ranked.length;
    }
    const labels = this.labelsByJob.get(jobId);
    // Labels for another number of items score nothing: matching them up would be a guess.
    const accuracy = labels && labels.length === items && verifiedItems > 0 ? scoreOf(predictions, labels) : null;
    const results: JobResults = {
      jobId,
      items,
      verifiedItems,
      predictions,
      accuracy,
      provenance: shards.map((s) => ({ start: s.start, count: s.count, volunteers: s.volunteers, backends: s.backends })),
      assembled,
      assembleError,
    };
    this.view.patch((prev) => ({ results: { ...prev.results, [jobId]: results } }));
    const acc = accuracy === null ? '' : `, accuracy ${(accuracy * 100).toFixed(2)}%`;
    this.log('info', `job ${jobId}: ${verifiedItems}/${items} items verified${acc}`);
    return results;
  }

  private updateSubmission(ref: string, delta: Partial<Pick<Submission, 'state' | 'jobId' | 'reason'>>): void {
    this.view.patch((prev) => ({ submissions: prev.submissions.map((s) => (s.ref === ref ? { ...s, ...delta } : s)) }));
  }

  private log(level: 'info' | 'warn' | 'error', text: string): void {
    this.view.patch((prev) => ({ log: appendLog(prev.log, { atMs: this.now(), level, text }) }));
  }
}
