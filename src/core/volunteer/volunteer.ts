/**
 * The volunteer's state machine: say hello, ask for a shard, get the model (from the local cache
 * or in chunks from the coordinator, sha256-checked before use), run the shard, return the result,
 * ask again. Pure and deterministic: the host performs the effects (send, hash, cache, infer,
 * timers) and reports back. Rule ids ([W-n]) refer to core/SPEC.md.
 */
import type { Backend, Capabilities } from '../../protocol/capabilities.ts';
import type { LeaseId, ModelHash } from '../../protocol/ids.ts';
import { LIMITS } from '../../protocol/limits.ts';
import { PROTOCOL_VERSION, type FromCoordinator, type ToCoordinator } from '../../protocol/messages.ts';
import type { ProtocolError } from '../../protocol/parse.ts';
import type { WireTensor } from '../../protocol/tensor.ts';

const ABANDON_BACKOFF_MS = 1_000;

export type LeaseMsg = Extract<FromCoordinator, { t: 'lease' }>;

export type VolunteerPhase =
  | 'connecting'
  | 'greeting'
  | 'idle'
  | 'asking'
  | 'fetching-model'
  | 'verifying-model'
  | 'running'
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
  /** Bytes of the model download in progress, for a progress bar. */
  readonly modelProgress: { readonly received: number; readonly total: number } | null;
  /** Results the coordinator took in (not yet necessarily verified). */
  readonly resultsDelivered: number;
  readonly computeMs: number;
  readonly refusal: string | null;
}

export class VolunteerCore {
  private phase: VolunteerPhase = 'connecting';
  private lease: LeaseMsg | null = null;
  private download: Download | null = null;
  private resultsDelivered = 0;
  private computeMs = 0;
  private refusal: string | null = null;
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
      modelProgress: this.download ? { received: this.download.received, total: this.download.total } : null,
      resultsDelivered: this.resultsDelivered,
      computeMs: this.computeMs,
      refusal: this.refusal,
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
    this.setPhase('greeting');
    this.send({ v: PROTOCOL_VERSION, t: 'hello', role: 'volunteer', caps: this.caps, label: this.label });
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
        this.askForWork();
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
        if (this.phase === 'asking') {
          this.setPhase('idle');
          this.effects.push({ kind: 'wake-at', atMs: now + msg.retryInMs });
        }
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
      default:
        // Requester and observer traffic is not for volunteers; ignore it.
        break;
    }
    return this.flush();
  }

  /** Timer from a `wake-at` effect. */
  wake(now: number): VolunteerEffect[] {
    this.now = Math.max(this.now, now);
    if (this.phase === 'idle') this.askForWork();
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

  /** [W-4] Results carry the backend that really produced them. */
  inferenceDone(leaseId: LeaseId, outputs: readonly WireTensor[], backend: Backend, inferMs: number): VolunteerEffect[] {
    if (!this.lease || this.lease.leaseId !== leaseId) return this.flush();
    this.computeMs += inferMs;
    if (backend !== this.caps.backend) {
      this.log('warn', `backend changed from ${this.caps.backend} to ${backend}`);
      this.caps = { ...this.caps, backend, adapter: backend === 'wasm' ? null : this.caps.adapter };
    }
    this.send({ v: PROTOCOL_VERSION, t: 'result', leaseId, outputs: [...outputs], backend, inferMs });
    this.lease = null;
    this.askForWork();
    return this.flush();
  }

  inferenceFailed(leaseId: LeaseId, reason: string): VolunteerEffect[] {
    if (this.lease && this.lease.leaseId === leaseId) this.abandon(`inference failed: ${reason}`);
    return this.flush();
  }

  // -------------------------------------------------------------------------------------------

  private onLease(msg: LeaseMsg): void {
    if (this.phase !== 'asking' || this.lease) {
      // [W-5] Not asked for: hand it straight back so the coordinator can re-lease it.
      this.send({ v: PROTOCOL_VERSION, t: 'lease-abandon', leaseId: msg.leaseId, reason: 'not requested' });
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
    this.setPhase('idle');
    this.effects.push({ kind: 'wake-at', atMs: this.now + ABANDON_BACKOFF_MS });
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
