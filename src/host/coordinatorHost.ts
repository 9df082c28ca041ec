/**
 * The coordinator tab's shell: registers the network's well-known peer id, feeds connections
 * and parsed frames into `CoordinatorCore`, and carries out the effects it returns (send, hash,
 * store, log). It owns the timers; the core owns every decision.
 */
import { CoordinatorCore } from '../core/coordinator/coordinator.ts';
import type { CoordinatorEffect } from '../core/coordinator/effects.ts';
import { DEFAULT_COORDINATOR_CONFIG, type CoordinatorConfig } from '../core/coordinator/state.ts';
import { seededRng } from '../core/rng.ts';
import type { PeerId } from '../protocol/ids.ts';
import { PROTOCOL_VERSION } from '../protocol/messages.ts';
import { parseToCoordinator } from '../protocol/parse.ts';
import type { CoordinatorStore } from '../persistence/coordinatorStore.ts';
import { sha256Hex } from '../runtime/sha256.ts';
import { appendLog } from '../stores/logSlice.ts';
import { patch } from '../stores/store.ts';
import type { Endpoint, EndpointFactory } from '../transport/transport.ts';
import { coordinatorPeerId } from './networkId.ts';

const TICK_MS = 500;
/** Progress pushes to requesters and observers are throttled to this period. */
const BROADCAST_MS = 250;
/** Time for a refusal to leave before its connection is closed. */
const CLOSE_DELAY_MS = 200;

export interface CoordinatorHostOptions {
  readonly networkId: string;
  readonly factory: EndpointFactory;
  readonly store: CoordinatorStore;
  readonly config?: Partial<Omit<CoordinatorConfig, 'networkId'>>;
  readonly now?: () => number;
}

export class CoordinatorHost {
  readonly core: CoordinatorCore;
  private endpoint: Endpoint | null = null;
  private tickTimer: ReturnType<typeof setInterval> | null = null;
  private broadcastTimer: ReturnType<typeof setTimeout> | null = null;
  /** Store writes run one after another, in the order the core asked for them. */
  private writes: Promise<void> = Promise.resolve();
  private readonly now: () => number;

  constructor(private readonly options: CoordinatorHostOptions) {
    this.now = options.now ?? (() => Date.now());
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
    this.refresh();
  }

  stop(): void {
    if (this.tickTimer) clearInterval(this.tickTimer);
    if (this.broadcastTimer) clearTimeout(this.broadcastTimer);
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
          void sha256Hex(e.spec.model).then(
            (hash) => this.apply(this.core.admitJob(e.peer, e.ref, e.spec, hash, this.now())),
            (err: unknown) => this.log('error', `hashing a submitted model failed: ${String(err)}`),
          );
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

  /** Updates this page and tells requesters and observers how jobs and peers stand. */
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

  private log(level: 'info' | 'warn' | 'error', text: string): void {
    if (level !== 'info') console.warn(`[coordinator] ${text}`);
    patch('coordinator', (prev) => ({ log: appendLog(prev.log, { atMs: this.now(), level, text }) }));
  }
}
