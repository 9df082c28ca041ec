/**
 * The requester dashboard's shell: submits jobs, follows their progress (with throughput and time
 * left), fetches verified results when a job is done and keeps them exactly, in item order, for
 * export; for classifiers it also derives predictions (and accuracy, when labels are known).
 */
import type { SignedReceipt } from '../protocol/receipt.ts';
import { resolvePolicy } from '../protocol/policy.ts';
import { answerKindOf } from '../protocol/pipeline.ts';
import type { JobId } from '../protocol/ids.ts';
import { parseToCoordinator } from '../protocol/parse.ts';
import { PROTOCOL_VERSION, type FromCoordinator, type JobSpec, type JobStatus, type VerifiedShard } from '../protocol/messages.ts';
import { float32View } from '../protocol/tensor.ts';
import type { RequesterStorage } from '../persistence/requesterStore.ts';
import { appendLog } from '../stores/logSlice.ts';
import { patch, useQuorumStore, type JobResults, type Submission } from '../stores/store.ts';
import type { EndpointFactory } from '../transport/transport.ts';
import { assembleResults, type AssembledResults } from '../workloads/export/assemble.ts';
import { CoordinatorLink } from './coordinatorLink.ts';
import type { CoordinatorTrust } from './coordinatorTrust.ts';
import { keyTrustHandlers } from './keyAlarms.ts';
import { addSample, finishedItems, rateOf, type RateSample } from './jobRates.ts';
import { coordinatorPeerId } from './networkId.ts';
import { errorMessage } from '../protocol/errorMessage.ts';

export interface RequesterHostOptions {
  readonly networkId: string;
  readonly factory: EndpointFactory;
  readonly now?: () => number;
  /** [K-2] How the coordinator proves its key on each connection. */
  readonly trust: CoordinatorTrust;
  /** Where this tab keeps its jobs and their verified results across reloads; none: memory only. */
  readonly store?: RequesterStorage | null;
}

export class RequesterHost {
  private link: CoordinatorLink | null = null;
  private refCounter = 0;
  /** Labels of submitted built-in jobs, by submission ref and then by job id. */
  private readonly labelsByRef = new Map<string, Uint8Array>();
  private readonly labelsByJob = new Map<JobId, Uint8Array>();
  private readonly mine = new Set<JobId>();
  private readonly fetched = new Set<JobId>();
  private readonly samples = new Map<JobId, RateSample[]>();
  private readonly now: () => number;

  constructor(private readonly options: RequesterHostOptions) {
    this.now = options.now ?? (() => Date.now());
  }

  start(): void {
    patch('requester', { state: 'connecting', networkId: this.options.networkId, error: null });
    this.link = new CoordinatorLink(
      this.options.factory,
      coordinatorPeerId(this.options.networkId),
      {
        open: () => this.link?.send({ v: PROTOCOL_VERSION, t: 'hello', role: 'requester', caps: null, label: 'requester' }),
        frame: (msg) => this.onFrame(msg),
        protocolError: (error) => this.log('warn', `dropped a frame: ${error.reason}`),
        close: () => this.log('warn', 'lost the coordinator; reconnecting'),
        status: (state, detail) => {
          patch('requester', { state });
          if (state === 'connecting') this.log('info', detail);
        },
        ...keyTrustHandlers('requester', this.options.trust),
      },
      { trust: this.options.trust },
    );
    this.link.start();
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
        patch('requester', (prev) => ({ submissions: [submission, ...prev.submissions.filter((s) => s.jobId !== job.jobId)] }));
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
    this.link?.stop();
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
    patch('requester', (prev) => ({ submissions: [...prev.submissions, submission] }));
    const frame = { v: PROTOCOL_VERSION, t: 'submit-job', ref, spec } as const;
    // [J-1] The coordinator's own parser, here first: a job it would drop (a tensor over the
    // protocol's limit, say) is refused at once, with its reason, instead of being uploaded.
    const check = parseToCoordinator(frame);
    if (!check.ok) {
      this.updateSubmission(ref, { state: 'rejected', reason: check.error.reason });
      this.log('warn', `job not sent: ${check.error.reason}`);
      return ref;
    }
    const sent = this.link?.send(frame) ?? false;
    if (!sent) this.updateSubmission(ref, { state: 'rejected', reason: 'not connected to the coordinator: wait for "connected" and submit again' });
    return ref;
  }

  private onFrame(msg: FromCoordinator): void {
    switch (msg.t) {
      case 'welcome':
        patch('requester', { state: 'connected' });
        this.log('info', `connected to network "${msg.networkId}"`);
        break;
      case 'refused':
        patch('requester', { state: 'error', error: msg.reason });
        break;
      case 'job-accepted': {
        const labels = this.labelsByRef.get(msg.ref);
        if (labels) this.labelsByJob.set(msg.jobId, labels);
        this.mine.add(msg.jobId);
        this.updateSubmission(msg.ref, { state: 'accepted', jobId: msg.jobId });
        const name = useQuorumStore.getState().requester.submissions.find((s) => s.ref === msg.ref)?.name ?? msg.jobId;
        if (this.options.store) {
          this.persist(`job ${msg.jobId}`, this.options.store.putJob({ jobId: msg.jobId, name, acceptedAtMs: this.now(), ...(labels ? { labels } : {}) }));
        }
        this.log('info', `job ${msg.jobId} accepted: ${msg.shards} shards`);
        break;
      }
      case 'job-rejected':
        this.updateSubmission(msg.ref, { state: 'rejected', reason: msg.reason });
        this.log('warn', `job refused: ${msg.reason}`);
        break;
      case 'job-status':
        patch('requester', { jobs: msg.jobs, rates: this.updateRates(msg.jobs) });
        for (const j of msg.jobs) {
          // [AU-5] A job re-opened by a quarantine ([X-3]) is fetched again, with its new receipt, once done.
          if (!j.done) this.fetched.delete(j.jobId);
          if (j.done && this.mine.has(j.jobId) && !this.fetched.has(j.jobId)) {
            this.fetched.add(j.jobId);
            this.link?.send({ v: PROTOCOL_VERSION, t: 'results-request', jobId: j.jobId });
          }
        }
        break;
      case 'job-results': {
        const results = this.onResults(msg.jobId, msg.shards, msg.itemNames, undefined, msg.receipt);
        if (this.options.store && this.mine.has(msg.jobId)) {
          this.persist(`the results of job ${msg.jobId}`, this.options.store.putResults(msg.jobId, results.items, msg.shards, msg.itemNames, msg.receipt));
        }
        break;
      }
      default:
        break;
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
    const status = useQuorumStore.getState().requester.jobs.find((j) => j.jobId === jobId);
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
    const predictions = new Array<number>(items).fill(-1);
    let verifiedItems = 0;
    for (const s of shards) {
      // [V-12] A pipeline job's shard carries answers, one per item, and no outputs to rank.
      if (s.answers) {
        verifiedItems += Math.min(s.count, Math.max(0, items - s.start));
        continue;
      }
      const out = s.outputs[0];
      if (!out || out.dtype !== 'float32') continue;
      const classes = out.dims[out.dims.length - 1] ?? 1;
      const values = float32View(out);
      for (let row = 0; row < s.count && s.start + row < items; row++) {
        let best = 0;
        for (let c = 1; c < classes; c++) if ((values[row * classes + c] as number) > (values[row * classes + best] as number)) best = c;
        predictions[s.start + row] = best;
        verifiedItems++;
      }
    }
    const labels = this.labelsByJob.get(jobId);
    let accuracy: number | null = null;
    if (labels && verifiedItems > 0) {
      let correct = 0;
      predictions.forEach((p, i) => {
        if (p === labels[i]) correct++;
      });
      accuracy = correct / items;
    }
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
    patch('requester', (prev) => ({ results: { ...prev.results, [jobId]: results } }));
    const acc = accuracy === null ? '' : `, accuracy ${(accuracy * 100).toFixed(2)}%`;
    this.log('info', `job ${jobId}: ${verifiedItems}/${items} items verified${acc}`);
    return results;
  }

  private updateSubmission(ref: string, delta: Partial<Pick<Submission, 'state' | 'jobId' | 'reason'>>): void {
    patch('requester', (prev) => ({ submissions: prev.submissions.map((s) => (s.ref === ref ? { ...s, ...delta } : s)) }));
  }

  private log(level: 'info' | 'warn' | 'error', text: string): void {
    patch('requester', (prev) => ({ log: appendLog(prev.log, { atMs: this.now(), level, text }) }));
  }
}
