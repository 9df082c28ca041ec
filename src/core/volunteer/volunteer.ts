/**
 * The volunteer's state machine: say hello, ask for a shard, get the model (from the local cache
 * or in chunks from the coordinator, sha256-checked before use), run the shard, return the result,
 * rest if a CPU cap says so, ask again. It can be paused (work in hand is handed back) and
 * resumed, and it tells the coordinator when it pauses or its backend changes. Pure and
 * deterministic: the host performs the effects (send, hash, cache, infer, timers) and reports
 * back. Rule ids ([W-n]) refer to core/SPEC.md.
 */
import type { Backend, Capabilities } from '../../protocol/capabilities.ts';
import type { LeaseId, ModelHash } from '../../protocol/ids.ts';
import { LIMITS } from '../../protocol/limits.ts';
import { PROTOCOL_VERSION, type FromCoordinator, type ToCoordinator } from '../../protocol/messages.ts';
import type { ProtocolError } from '../../protocol/parse.ts';
import type { WireTensor } from '../../protocol/tensor.ts';
import { restAfterShardMs } from './controls.ts';

const ABANDON_BACKOFF_MS = 1_000;
/** The `lease-abandon` reason of work handed back at a pause ([W-11]). */
export const PAUSED_REASON = 'paused';

export type LeaseMsg = Extract<FromCoordinator, { t: 'lease' }>;
/** [P-7] What the coordinator last said about this volunteer. */
export type VolunteerStanding = Omit<Extract<FromCoordinator, { t: 'volunteer-status' }>, 'v' | 't'>;

export type VolunteerPhase =
  | 'connecting'
  | 'greeting'
  | 'idle'
  | 'asking'
  | 'fetching-model'
  | 'verifying-model'
  | 'running'
  /** [W-12] Resting after a shard, so the tab computes only its CPU cap's share of the time. */
  | 'resting'
  /** [W-11] Connected, but paused: asks for nothing. */
  | 'paused'
  | 'refused';

export type VolunteerEffect =
  | { readonly kind: 'send'; readonly msg: ToCoordinator }
  /** Look the model up in the local cache and call `modelFromCache`. */
  | { readonly kind: 'load-cached-model'; readonly hash: ModelHash }
  /** sha256 the downloaded bytes and call `modelChecked`. */
  | { readonly kind: 'check-model'; readonly hash: ModelHash; readonly bytes: ArrayBuffer }
  | { readonly kind: 'cache-model'; readonly hash: ModelHash; readonly bytes: ArrayBuffer }
  /** Run the shard and call `inferenceDone` or `inferenceFailed`. */
  | {
      readonly kind: 'run';
      readonly leaseId: LeaseId;
      readonly hash: ModelHash;
      readonly model: ArrayBuffer;
      readonly inputs: readonly WireTensor[];
    }
  /** Call `wake` at this time (or later). */
  | { readonly kind: 'wake-at'; readonly atMs: number }
  | { readonly kind: 'log'; readonly level: 'info' | 'warn' | 'error'; readonly text: string }
  | { readonly kind: 'status-changed' };

interface Download {
  readonly hash: ModelHash;
  readonly total: number;
  readonly bytes: Uint8Array;
  received: number;
}

export interface VolunteerStats {
  readonly phase: VolunteerPhase;
  readonly currentShard: string | null;
  /** sha256 of the model the shard in hand runs. */
  readonly currentModel: string | null;
  /** Bytes of the model download in progress, for a progress bar. */
  readonly modelProgress: { readonly received: number; readonly total: number } | null;
  /** Results the coordinator took in (not yet necessarily verified). */
  readonly resultsDelivered: number;
  readonly computeMs: number;
  readonly refusal: string | null;
  /** [W-11] Paused (the phase says 'paused' only while connected), and why. */
  readonly paused: boolean;
  readonly pauseReason: string;
  readonly cpuCapPercent: number;
  /** When a rest under the CPU cap ends ([W-12]); null when not resting. */
  readonly restingUntilMs: number | null;
  /** This volunteer's peer id, from the coordinator's welcome. */
  readonly peerId: string | null;
  /** [P-7] The coordinator's latest word on this volunteer (accepted shards, reputation). */
  readonly standing: VolunteerStanding | null;
  /** The last result sent: which shard, which backend really ran it, how long it took. */
  readonly lastResult: { readonly shardId: string; readonly backend: Backend; readonly inferMs: number } | null;
}

export class VolunteerCore {
  private phase: VolunteerPhase = 'connecting';
  private lease: LeaseMsg | null = null;
  private download: Download | null = null;
  private resultsDelivered = 0;
  private computeMs = 0;
  private refusal: string | null = null;
  private paused = false;
  private pauseReason = '';
  private cpuCapPercent = 100;
  /** When the pending `wake-at` is due (idle or resting); an earlier wake waits for it. */
  private wakeAtMs = 0;
  private peerId: string | null = null;
  private standing: VolunteerStanding | null = null;
  private lastResult: VolunteerStats['lastResult'] = null;
  /** Latest time seen in any event, for back-off timers started by results of async work. */
  private now = 0;
  private effects: VolunteerEffect[] = [];

  constructor(
    private caps: Capabilities,
    private readonly label: string,
  ) {}

  stats(): VolunteerStats {
    return {
      phase: this.phase,
      currentShard: this.lease?.shardId ?? null,
      currentModel: this.lease?.modelHash ?? null,
      modelProgress: this.download ? { received: this.download.received, total: this.download.total } : null,
      resultsDelivered: this.resultsDelivered,
      computeMs: this.computeMs,
      refusal: this.refusal,
      paused: this.paused,
      pauseReason: this.pauseReason,
      cpuCapPercent: this.cpuCapPercent,
      restingUntilMs: this.phase === 'resting' ? this.wakeAtMs : null,
      peerId: this.peerId,
      standing: this.standing,
      lastResult: this.lastResult,
    };
  }

  capabilities(): Capabilities {
    return this.caps;
  }

  /** [W-1] Every connection starts with hello and the backend that really runs. */
  connected(now: number): VolunteerEffect[] {
    this.now = Math.max(this.now, now);
    this.lease = null;
    this.download = null;
    this.standing = null;
    this.setPhase('greeting');
    this.send({ v: PROTOCOL_VERSION, t: 'hello', role: 'volunteer', caps: this.caps, label: this.label });
    // [W-11] A volunteer paused before it connected says so at once, so it is never leased work.
    if (this.paused) this.send({ v: PROTOCOL_VERSION, t: 'volunteer-state', paused: true, reason: this.pauseReason });
    return this.flush();
  }

  /** [W-2] A lost connection loses the lease in hand: the coordinator re-leases it. */
  disconnected(_now: number): VolunteerEffect[] {
    if (this.phase !== 'refused') this.setPhase('connecting');
    this.lease = null;
    this.download = null;
    return this.flush();
  }

  protocolError(error: ProtocolError): VolunteerEffect[] {
    this.log('warn', `dropped a frame from the coordinator: ${error.reason}`);
    return this.flush();
  }

  receive(msg: FromCoordinator, now: number): VolunteerEffect[] {
    this.now = Math.max(this.now, now);
    switch (msg.t) {
      case 'welcome':
        this.log('info', `joined network "${msg.networkId}" as ${msg.you}`);
        this.peerId = msg.you;
        if (this.paused) this.setPhase('paused');
        else this.askForWork();
        break;
      case 'refused':
        // [W-9] The coordinator will not take a result any more: drop the lease so a run that
        // finishes now neither sends nor asks for more work.
        this.refusal = msg.reason;
        this.lease = null;
        this.download = null;
        this.setPhase('refused');
        this.log('error', `the coordinator refused this volunteer: ${msg.reason}`);
        break;
      case 'lease':
        this.onLease(msg);
        break;
      case 'no-work':
        // [W-8] Wait as long as the coordinator says, then ask again.
        if (this.phase === 'asking') this.sleepUntil('idle', now + msg.retryInMs);
        break;
      case 'model-chunk':
        this.onModelChunk(msg);
        break;
      case 'model-unavailable':
        if (this.lease && this.lease.modelHash === msg.hash) this.abandon(`model unavailable: ${msg.reason}`);
        break;
      case 'result-ack':
        // [W-10] Only a result the coordinator took in counts as delivered.
        if (msg.outcome === 'received') this.resultsDelivered++;
        else this.log('warn', `result for lease ${msg.leaseId} not counted (${msg.outcome}): ${msg.reason}`);
        this.effects.push({ kind: 'status-changed' });
        break;
      case 'volunteer-status': {
        // [P-7] The coordinator's count of this volunteer's accepted shards, and its reputation.
        const { v: _v, t: _t, ...standing } = msg;
        this.standing = standing;
        this.effects.push({ kind: 'status-changed' });
        break;
      }
      default:
        // Requester and observer traffic is not for volunteers; ignore it.
        break;
    }
    return this.flush();
  }

  /** Timer from a `wake-at` effect. A stale timer (from before a pause, say) only re-arms the due one. */
  wake(now: number): VolunteerEffect[] {
    this.now = Math.max(this.now, now);
    if (this.phase === 'idle' || this.phase === 'resting') {
      if (now < this.wakeAtMs) this.effects.push({ kind: 'wake-at', atMs: this.wakeAtMs });
      else this.askForWork();
    }
    return this.flush();
  }

  /**
   * [W-11] Pause or resume. Pausing tells the coordinator (`volunteer-state`), hands back the lease
   * in hand at once (`lease-abandon` "paused", no back-off: the coordinator re-leases it to someone
   * else) and asks for nothing more; a result that finishes afterwards is dropped. Resuming tells
   * the coordinator and asks for work. A new reason while paused is passed on.
   */
  setPaused(paused: boolean, reason: string, now: number): VolunteerEffect[] {
    this.now = Math.max(this.now, now);
    const why = paused ? reason.slice(0, LIMITS.maxReasonLength) : '';
    if (paused === this.paused && why === this.pauseReason) return this.flush();
    const wasPaused = this.paused;
    this.paused = paused;
    this.pauseReason = why;
    // Before hello the coordinator would refuse the frame; `connected` sends it after hello instead.
    if (this.phase !== 'connecting' && this.phase !== 'refused') {
      this.send({ v: PROTOCOL_VERSION, t: 'volunteer-state', paused, reason: why });
    }
    if (paused && !wasPaused) {
      if (this.lease) {
        this.log('info', `paused (${why}): handed ${this.lease.shardId} back`);
        this.send({ v: PROTOCOL_VERSION, t: 'lease-abandon', leaseId: this.lease.leaseId, reason: PAUSED_REASON });
        this.lease = null;
        this.download = null;
      } else {
        this.log('info', `paused (${why})`);
      }
      if (this.phase !== 'connecting' && this.phase !== 'greeting' && this.phase !== 'refused') this.setPhase('paused');
    } else if (!paused && wasPaused) {
      this.log('info', 'resumed');
      if (this.phase === 'paused') this.askForWork();
    }
    this.effects.push({ kind: 'status-changed' });
    return this.flush();
  }

  /** [W-12] The share of time this tab may compute; applies from the next shard (a rest ends at once at 100 %). */
  setCpuCap(percent: number, now: number): VolunteerEffect[] {
    this.now = Math.max(this.now, now);
    this.cpuCapPercent = Number.isFinite(percent) ? Math.min(100, Math.max(1, percent)) : 100;
    if (this.phase === 'resting' && this.cpuCapPercent >= 100) this.askForWork();
    this.effects.push({ kind: 'status-changed' });
    return this.flush();
  }

  /**
   * [W-13] The engine now runs on another backend (e.g. its WebGPU device was lost): later hellos
   * carry the new capabilities, and a connected coordinator hears of them at once (`caps`).
   */
  capabilitiesChanged(caps: Capabilities, now: number): VolunteerEffect[] {
    this.now = Math.max(this.now, now);
    this.caps = caps;
    if (this.phase !== 'connecting' && this.phase !== 'refused') this.send({ v: PROTOCOL_VERSION, t: 'caps', caps });
    this.effects.push({ kind: 'status-changed' });
    return this.flush();
  }

  modelFromCache(hash: ModelHash, bytes: ArrayBuffer | null): VolunteerEffect[] {
    const lease = this.lease;
    if (!lease || lease.modelHash !== hash || this.phase !== 'fetching-model') return this.flush();
    if (bytes) {
      this.startRun(lease, bytes);
    } else if (lease.modelBytes > LIMITS.maxModelBytes) {
      this.abandon(`model of ${lease.modelBytes} bytes exceeds this volunteer's limit`);
    } else {
      this.download = { hash, total: lease.modelBytes, bytes: new Uint8Array(lease.modelBytes), received: 0 };
      this.send({ v: PROTOCOL_VERSION, t: 'model-request', hash, offset: 0 });
      this.effects.push({ kind: 'status-changed' });
    }
    return this.flush();
  }

  /** [W-3] A model is used only if its bytes hash to the id it was leased under. */
  modelChecked(hash: ModelHash, bytes: ArrayBuffer, ok: boolean): VolunteerEffect[] {
    const lease = this.lease;
    if (!lease || lease.modelHash !== hash || this.phase !== 'verifying-model') return this.flush();
    if (!ok) {
      this.abandon('model failed its sha256 check');
    } else {
      this.effects.push({ kind: 'cache-model', hash, bytes });
      this.startRun(lease, bytes);
    }
    return this.flush();
  }

  /**
   * [W-4] Results carry the backend that really produced them. [W-12] Under a CPU cap the next
   * request waits for the rest the cap asks for. `now` is when the run finished (defaults to the
   * latest time seen).
   */
  inferenceDone(leaseId: LeaseId, outputs: readonly WireTensor[], backend: Backend, inferMs: number, now?: number): VolunteerEffect[] {
    if (now !== undefined) this.now = Math.max(this.now, now);
    if (!this.lease || this.lease.leaseId !== leaseId) return this.flush();
    this.computeMs += inferMs;
    if (backend !== this.caps.backend) {
      this.log('warn', `backend changed from ${this.caps.backend} to ${backend}`);
      this.caps = {
        ...this.caps,
        backend,
        adapter: backend === 'wasm' ? null : this.caps.adapter,
        backendReason: `a shard ran on ${backend}, not ${this.caps.backend}`,
      };
      this.send({ v: PROTOCOL_VERSION, t: 'caps', caps: this.caps });
    }
    this.send({ v: PROTOCOL_VERSION, t: 'result', leaseId, outputs: [...outputs], backend, inferMs });
    this.lastResult = { shardId: this.lease.shardId, backend, inferMs };
    this.lease = null;
    const rest = restAfterShardMs(inferMs, this.cpuCapPercent);
    if (rest > 0) this.sleepUntil('resting', this.now + rest);
    else this.askForWork();
    return this.flush();
  }

  inferenceFailed(leaseId: LeaseId, reason: string): VolunteerEffect[] {
    if (this.lease && this.lease.leaseId === leaseId) this.abandon(`inference failed: ${reason}`);
    return this.flush();
  }

  // -------------------------------------------------------------------------------------------

  private onLease(msg: LeaseMsg): void {
    if (this.phase !== 'asking' || this.lease) {
      // [W-5] Not asked for (or asked for before a pause): hand it straight back so the
      // coordinator can re-lease it.
      const reason = this.paused ? PAUSED_REASON : 'not requested';
      this.send({ v: PROTOCOL_VERSION, t: 'lease-abandon', leaseId: msg.leaseId, reason });
      return;
    }
    this.lease = msg;
    this.setPhase('fetching-model');
    this.effects.push({ kind: 'load-cached-model', hash: msg.modelHash });
  }

  private onModelChunk(msg: Extract<FromCoordinator, { t: 'model-chunk' }>): void {
    const d = this.download;
    if (!d || d.hash !== msg.hash || this.phase !== 'fetching-model') return;
    // [W-6] Chunks arrive in order on a reliable channel; anything else is a broken or hostile sender.
    if (msg.total !== d.total || msg.offset !== d.received || msg.offset + msg.bytes.byteLength > d.total) {
      this.abandon(`model chunk out of order or oversized (offset ${msg.offset}, expected ${d.received})`);
      return;
    }
    d.bytes.set(new Uint8Array(msg.bytes), msg.offset);
    d.received += msg.bytes.byteLength;
    this.effects.push({ kind: 'status-changed' });
    if (d.received === d.total) {
      this.download = null;
      this.setPhase('verifying-model');
      this.effects.push({ kind: 'check-model', hash: d.hash, bytes: d.bytes.buffer as ArrayBuffer });
    }
  }

  private startRun(lease: LeaseMsg, model: ArrayBuffer): void {
    this.setPhase('running');
    this.effects.push({ kind: 'run', leaseId: lease.leaseId, hash: lease.modelHash, model, inputs: lease.inputs });
  }

  /** [W-7] Giving a lease back always comes with a back-off, so a failing shard is no hot loop. */
  private abandon(reason: string): void {
    if (!this.lease) return;
    this.log('warn', `gave back ${this.lease.shardId}: ${reason}`);
    this.send({ v: PROTOCOL_VERSION, t: 'lease-abandon', leaseId: this.lease.leaseId, reason });
    this.lease = null;
    this.download = null;
    // Back off before asking again, so a model that keeps failing does not become a hot loop.
    this.sleepUntil('idle', this.now + ABANDON_BACKOFF_MS);
  }

  private sleepUntil(phase: 'idle' | 'resting', atMs: number): void {
    this.wakeAtMs = atMs;
    this.setPhase(phase);
    this.effects.push({ kind: 'wake-at', atMs });
  }

  private askForWork(): void {
    this.setPhase('asking');
    this.send({ v: PROTOCOL_VERSION, t: 'lease-request' });
  }

  private setPhase(phase: VolunteerPhase): void {
    this.phase = phase;
    this.effects.push({ kind: 'status-changed' });
  }

  private send(msg: ToCoordinator): void {
    this.effects.push({ kind: 'send', msg });
  }

  private log(level: 'info' | 'warn' | 'error', text: string): void {
    this.effects.push({ kind: 'log', level, text });
  }

  private flush(): VolunteerEffect[] {
    const out = this.effects;
    this.effects = [];
    return out;
  }
}
