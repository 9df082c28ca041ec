/**
 * The coordinator tab's shell: registers the network's well-known peer id, feeds connections
 * and parsed frames into `CoordinatorCore`, and carries out the effects it returns (send, hash,
 * store, log). It owns the timers; the core owns every decision.
 */
import { CoordinatorCore } from '../core/coordinator/coordinator.ts';
import type { CoordinatorEffect } from '../core/coordinator/effects.ts';
import { DEFAULT_COORDINATOR_CONFIG, type CoordinatorConfig } from '../core/coordinator/state.ts';
import { TelemetryAggregator } from '../core/telemetry/aggregator.ts';
import { seededRng } from '../core/rng.ts';
import { checkInputsAgainstSignature, checkJobLimits, DEFAULT_JOB_LIMITS, type JobLimits } from '../core/jobChecks.ts';
import { asModelHash, type PeerId } from '../protocol/ids.ts';
import { LIMITS } from '../protocol/limits.ts';
import { PROTOCOL_VERSION, type JobSpec } from '../protocol/messages.ts';
import { parseToCoordinator } from '../protocol/parse.ts';
import type { CoordinatorStore } from '../persistence/coordinatorStore.ts';
import { sha256Hex } from '../runtime/sha256.ts';
import { appendLog } from '../stores/logSlice.ts';
import { patch } from '../stores/store.ts';
import type { Endpoint, EndpointFactory } from '../transport/transport.ts';
import type { ModelInspector } from './modelInspector.ts';
import { coordinatorPeerId } from './networkId.ts';

const TICK_MS = 500;
/** Progress pushes to requesters and observers are throttled to this period. */
const BROADCAST_MS = 250;
/** [T-1] One telemetry frame per observer per period, whatever the network's size. */
export const TELEMETRY_MS = 500;
/** Time for a refusal to leave before its connection is closed. */
const CLOSE_DELAY_MS = 200;

export interface CoordinatorHostOptions {
  readonly networkId: string;
  readonly factory: EndpointFactory;
  readonly store: CoordinatorStore;
  readonly config?: Partial<Omit<CoordinatorConfig, 'networkId'>>;
  readonly now?: () => number;
  /**
   * [J-4] Loads every submitted model in this coordinator's own engine and checks the inputs
   * against its signature before admitting the job. Without one, only the size limits are checked.
   */
  readonly inspector?: ModelInspector;
  /** [J-4] This coordinator's job size limits (settable later with `setJobLimits`). */
  readonly jobLimits?: JobLimits;
}

export class CoordinatorHost {
  readonly core: CoordinatorCore;
  private endpoint: Endpoint | null = null;
  private tickTimer: ReturnType<typeof setInterval> | null = null;
  private broadcastTimer: ReturnType<typeof setTimeout> | null = null;
  private telemetryTimer: ReturnType<typeof setInterval> | null = null;
  private readonly telemetry = new TelemetryAggregator();
  /** Store writes run one after another, in the order the core asked for them. */
  private writes: Promise<void> = Promise.resolve();
  private readonly now: () => number;
  private jobLimits: JobLimits;

  constructor(private readonly options: CoordinatorHostOptions) {
    this.now = options.now ?? (() => Date.now());
    this.jobLimits = options.jobLimits ?? DEFAULT_JOB_LIMITS;
    const seed = (this.now() ^ (Math.random() * 0x7fffffff)) >>> 0;
    this.core = new CoordinatorCore({ ...DEFAULT_COORDINATOR_CONFIG, ...options.config, networkId: options.networkId }, seededRng(seed));
  }

  async start(): Promise<void> {
    patch('coordinator', { state: 'starting', networkId: this.options.networkId, error: null });
    await this.restore();
    const id = coordinatorPeerId(this.options.networkId);
    try {
      this.endpoint = await this.options.factory(id, {
        open: (peer) => this.apply(this.core.connect(peer, this.now())),
        data: (peer, raw) => this.onData(peer, raw),
        close: (peer) => this.apply(this.core.disconnect(peer, this.now())),
        signaling: (state) => patch('coordinator', { signaling: state }),
        error: (error) => this.log('warn', error.message),
      });
    } catch (e) {
      const message = e instanceof Error ? e.message : String(e);
      patch('coordinator', { state: 'error', error: message });
      this.log('error', message);
      return;
    }
    patch('coordinator', { state: 'connected', peerId: this.endpoint.selfId, signaling: 'connected' });
    this.log('info', `coordinating network "${this.options.networkId}" as ${this.endpoint.selfId}`);
    this.tickTimer = setInterval(() => this.apply(this.core.tick(this.now())), TICK_MS);
    this.telemetryTimer = setInterval(() => this.sendTelemetry(), TELEMETRY_MS);
    this.refresh();
  }

  stop(): void {
    if (this.tickTimer) clearInterval(this.tickTimer);
    if (this.broadcastTimer) clearTimeout(this.broadcastTimer);
    if (this.telemetryTimer) clearInterval(this.telemetryTimer);
    this.endpoint?.destroy();
    this.endpoint = null;
  }

  /** Resolves when every store write asked for so far has finished. */
  flushWrites(): Promise<void> {
    return this.writes;
  }

  private async restore(): Promise<void> {
    try {
      const jobs = await this.options.store.loadJobs();
      for (const { job } of jobs) {
        const model = await this.options.store.loadModel(job.modelHash);
        if (!model) {
          this.log('warn', `job ${job.id}: its model is missing from storage; not restored`);
          continue;
        }
        this.core.restoreJob(job, model);
        for (const s of await this.options.store.loadShards(job.id)) {
          this.core.restoreShard(job.id, s.index, s.status, s.accepted, s.disagreements);
        }
      }
      if (jobs.length > 0) this.log('info', `restored ${jobs.length} job(s) from storage`);
    } catch (e) {
      this.log('error', `could not read stored jobs: ${e instanceof Error ? e.message : String(e)}`);
    }
  }

  private onData(peer: PeerId, raw: unknown): void {
    const parsed = parseToCoordinator(raw);
    const now = this.now();
    this.apply(parsed.ok ? this.core.handle(peer, parsed.msg, now) : this.core.protocolError(peer, parsed.error, now));
  }

  private apply(effects: readonly CoordinatorEffect[]): void {
    for (const e of effects) {
      switch (e.kind) {
        case 'send':
          this.endpoint?.send(e.to, e.msg);
          break;
        case 'close':
          setTimeout(() => this.endpoint?.close(e.peer), CLOSE_DELAY_MS);
          break;
        case 'hash-model':
          void this.checkAndAdmit(e.peer, e.ref, e.spec).catch((err: unknown) => {
            this.log('error', `checking a submitted job failed: ${String(err)}`);
            this.rejectJob(e.peer, e.ref, e.spec.name, 'the coordinator failed while checking this job; try again');
          });
          break;
        case 'store-model':
          this.write(() => this.options.store.putModel(e.hash, e.bytes, this.now()), `model ${e.hash.slice(0, 12)}`);
          break;
        case 'store-job':
          this.write(() => this.options.store.putJob(e.job), `job ${e.job.id}`);
          break;
        case 'store-shard':
          this.write(() => this.options.store.putShard(e.jobId, e.shard), `shard ${e.shard.id}`);
          break;
        case 'log':
          this.log(e.level, e.text);
          break;
        case 'status-changed':
          this.scheduleBroadcast();
          break;
      }
    }
  }

  /** [J-4] Applies to submissions from now on. */
  setJobLimits(limits: JobLimits): void {
    this.jobLimits = limits;
  }

  /**
   * [J-4] The host's half of [J-1]: this coordinator's size limits, then the model in its own
   * engine (is it ONNX, does it load) and the inputs against the model's real signature. The
   * hash comes from here too, never from the requester. Only then is the job admitted.
   */
  private async checkAndAdmit(peer: PeerId, ref: string, spec: JobSpec): Promise<void> {
    const limitProblems = checkJobLimits({ modelBytes: spec.model.byteLength, inputs: spec.inputs }, this.jobLimits);
    if (limitProblems.length > 0) return this.rejectJob(peer, ref, spec.name, limitProblems.join(' '));
    const inspector = this.options.inspector;
    if (!inspector) {
      this.apply(this.core.admitJob(peer, ref, spec, asModelHash(await sha256Hex(spec.model)), this.now()));
      return;
    }
    const inspection = await inspector.inspect(spec.model);
    if (!inspection.ok) return this.rejectJob(peer, ref, spec.name, inspection.reason);
    const problems = checkInputsAgainstSignature(inspection.signature, spec.inputs, spec.shardSize);
    if (problems.length > 0) return this.rejectJob(peer, ref, spec.name, problems.join(' '));
    this.apply(this.core.admitJob(peer, ref, spec, inspection.hash, this.now()));
  }

  private rejectJob(peer: PeerId, ref: string, name: string, reason: string): void {
    const max = LIMITS.maxReasonLength;
    const text = reason.length > max ? `${reason.slice(0, max - 1)}…` : reason;
    this.log('warn', `job "${name}" from ${peer} refused: ${reason}`);
    this.endpoint?.send(peer, { v: PROTOCOL_VERSION, t: 'job-rejected', ref, reason: text });
  }

  private write(op: () => Promise<void>, what: string): void {
    this.writes = this.writes.then(op).catch((err: unknown) => {
      const message = `could not store ${what}: ${err instanceof Error ? err.message : String(err)}`;
      patch('coordinator', { error: message });
      this.log('error', message);
    });
  }

  private scheduleBroadcast(): void {
    if (this.broadcastTimer) return;
    this.broadcastTimer = setTimeout(() => {
      this.broadcastTimer = null;
      this.refresh();
    }, BROADCAST_MS);
  }

  /** Updates this page and tells requesters how jobs and peers stand (observers get telemetry, [T-1]). */
  private refresh(): void {
    const jobs = this.core.jobStatuses();
    const peers = this.core.peerSummaries();
    patch('coordinator', { jobs, peers, activeLeases: this.core.activeLeaseCount() });
    if (!this.endpoint) return;
    for (const w of this.core.watchers()) {
      this.endpoint.send(w, { v: PROTOCOL_VERSION, t: 'job-status', jobs });
      this.endpoint.send(w, { v: PROTOCOL_VERSION, t: 'network', peers });
    }
  }

  /**
   * [T-1] Ticks the aggregator (always, so every frame's flows cover exactly one period) and
   * sends the frame to each observer.
   */
  private sendTelemetry(): void {
    const observers = this.endpoint ? this.core.observers() : [];
    // Job statuses cost a pass over every shard: only worth it when someone will see them.
    const jobs = observers.length > 0 ? this.core.jobStatuses() : [];
    const frame = this.telemetry.tick({ peers: this.core.peerSamples(), jobs, backendPairs: this.core.backendAgreement() }, this.now());
    for (const o of observers) this.endpoint?.send(o, frame);
  }

  private log(level: 'info' | 'warn' | 'error', text: string): void {
    if (level !== 'info') console.warn(`[coordinator] ${text}`);
    patch('coordinator', (prev) => ({ log: appendLog(prev.log, { atMs: this.now(), level, text }) }));
  }
}
