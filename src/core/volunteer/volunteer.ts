/**
 * The volunteer's state machine: say hello, ask for a shard, get the model (from the local cache
 * or in chunks from the coordinator, sha256-checked before use), run the shard, return the result,
 * rest if a CPU cap says so, ask again. It can be paused (work in hand is handed back) and
 * resumed, and it tells the coordinator when it pauses or its backend changes. A result is
 * recorded in an outbox before it is sent and leaves it only when the coordinator acknowledges
 * it, so a result finished while the coordinator was gone (or before a reload of this tab) is
 * delivered after the next welcome. While a shard runs it asks for the next one, so that shard's
 * inputs travel during the compute and it starts the moment the run ends ([W-18]). Pure and deterministic: the host performs the effects (send,
 * hash, cache, infer, timers, the stored outbox) and reports back. Rule ids ([W-n]) refer to
 * core/SPEC.md.
 */
import type { JobFile } from '../../protocol/jobFiles.ts';
import type { Answer, Pipeline } from '../../protocol/pipeline.ts';
import type { Backend, Capabilities } from '../../protocol/capabilities.ts';
import type { LeaseId, ModelHash, ShardId } from '../../protocol/ids.ts';
import { LIMITS } from '../../protocol/limits.ts';
import { LEASE_PROGRESS_INTERVAL_MS, PROTOCOL_VERSION, REFUSED_ID_TAKEN, type FromCoordinator, type ToCoordinator } from '../../protocol/messages.ts';
import type { ProtocolError } from '../../protocol/parse.ts';
import type { WireTensor } from '../../protocol/tensor.ts';
import { restAfterShardMs } from './controls.ts';
import { ModelDownload } from './modelDownload.ts';
import { BadFrameTally } from '../../protocol/badFrameTally.ts';
import { PEER_BUDGETS } from '../../protocol/peerBudgets.ts';

const ABANDON_BACKOFF_MS = 1_000;
/** The `lease-abandon` reason of work handed back at a pause ([W-11]). */
export const PAUSED_REASON = 'paused';

export type LeaseMsg = Extract<FromCoordinator, { t: 'lease' }>;
export type ResultMsg = Extract<ToCoordinator, { t: 'result' }>;

/** [W-15] A result the coordinator has not acknowledged yet: the exact frame, and its shard for the page. */
export interface OutboxEntry {
  readonly leaseId: LeaseId;
  readonly shardId: ShardId;
  readonly frame: ResultMsg;
}

export interface VolunteerCoreOptions {
  /** [W-17] The token a coordinator gave this peer id before (kept by the tab): sent as `hello.resume`. */
  readonly resumeToken?: string | null;
  /**
   * [W-18] Leases to hold queued behind the running one (default 1: at most two held); 0 = one
   * lease at a time, as before pipelining (the bench compares the two).
   */
  readonly prefetch?: number;
}

/** [W-18] One lease queued behind the running one: its inputs arrive while that one computes. */
export const DEFAULT_PREFETCH = 1;
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
      /**
       * [W-22] A job of files: the shard's files and the pipeline that decodes them into the
       * model's input, in the inference Worker. A file that cannot be decoded fails the run
       * (`inferenceFailed`, naming the file), and the lease goes back.
       */
      readonly files?: readonly JobFile[];
      readonly pipeline?: Pipeline;
    }
  /**
   * [W-15] Record this result before it is sent: the host sends the frames after this one only
   * once the write has finished (or failed: a storage failure must not lose the result), in the
   * order they were emitted — also those of later calls. Other effects need not wait: the next
   * queued shard starts while the result is written ([W-18]).
   */
  | { readonly kind: 'outbox-put'; readonly entry: OutboxEntry }
  /** [W-15] The coordinator acknowledged this result: forget it. */
  | { readonly kind: 'outbox-delete'; readonly leaseId: LeaseId }
  /** [W-17] Keep this resume token with this tab's peer id. */
  | { readonly kind: 'save-token'; readonly token: string }
  /**
   * [W-20] The coordinator says this peer id belongs to another volunteer: register under a fresh
   * id and connect again (the host then calls `identityChanged`, which drops the old token).
   */
  | { readonly kind: 'renew-id' }
  /** Call `wake` at this time (or later). */
  | { readonly kind: 'wake-at'; readonly atMs: number }
  /** [W-21] Call `progressDue` at this time (or later). A timer of its own: it never wakes an idle volunteer. */
  | { readonly kind: 'progress-at'; readonly atMs: number }
  | { readonly kind: 'log'; readonly level: 'info' | 'warn' | 'error'; readonly text: string }
  | { readonly kind: 'status-changed' };

export interface VolunteerStats {
  readonly phase: VolunteerPhase;
  /** The shard in hand (being fetched, checked or run); queued ones are not it ([W-18]). */
  readonly currentShard: string | null;
  /** [W-18] Leases received while a shard ran, waiting their turn. */
  readonly queuedLeases: number;
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
  /** The last result finished: which shard, which backend really ran it, how long it took. */
  readonly lastResult: { readonly shardId: string; readonly backend: Backend; readonly inferMs: number } | null;
  /** [W-15] Results waiting for the coordinator's acknowledgement. */
  readonly outbox: number;
  /** [W-16] Held-back results (finished while disconnected, unacknowledged at a disconnect, or restored after a reload) sent after a welcome. */
  readonly heldBackSent: number;
  /** [W-16] ...and those the coordinator acknowledged as `received`. */
  readonly heldBackDelivered: number;
}

/** [W-21] A lease held (in hand or queued): when it arrived, and when progress on it was last said. */
interface HeldLease {
  readonly receivedAtMs: number;
  saidAtMs: number;
}

interface Held {
  readonly entry: OutboxEntry;
  /** Not delivered on the connection it was finished on: its delivery counts as held back. */
  heldBack: boolean;
}

export class VolunteerCore {
  private phase: VolunteerPhase = 'connecting';
  /** The lease in hand: its model is being fetched or checked, or it runs. */
  private lease: LeaseMsg | null = null;
  /** [W-18] Leases waiting behind it, oldest first. */
  private queued: LeaseMsg[] = [];
  /** [W-18] A `lease-request` for a queued lease is unanswered. */
  private prefetching = false;
  private readonly prefetchDepth: number;
  private download: ModelDownload | null = null;
  /** [B-8] Unparseable frames from the coordinator, counted per connection. */
  private badFrames: BadFrameTally | null = null;
  private resultsDelivered = 0;
  private computeMs = 0;
  private refusal: string | null = null;
  private paused = false;
  private pauseReason = '';
  private cpuCapPercent = 100;
  /** When the pending `wake-at` is due (idle or resting); an earlier wake waits for it. */
  private wakeAtMs = 0;
  /** [W-19] Idle because the coordinator had no work (not a back-off): `work-available` ends it. */
  private idleAfterNoWork = false;
  private peerId: string | null = null;
  private standing: VolunteerStanding | null = null;
  private lastResult: VolunteerStats['lastResult'] = null;
  /** A connection to the coordinator is open (phases alone cannot say: a run outlives a disconnect). */
  private online = false;
  /** ...and the coordinator welcomed us on it: results and requests may go out. */
  private welcomed = false;
  /** [W-15] Unacknowledged results, in the order they were finished. */
  private readonly outbox = new Map<LeaseId, Held>();
  private heldBackSent = 0;
  private heldBackDelivered = 0;
  private token: string | null;
  /** [W-21] Leases held, for their progress frames; entries of leases no longer held are pruned. */
  private readonly progress = new Map<LeaseId, HeldLease>();
  /** [W-21] When the earliest `progress-at` asked for is due; null when none is pending. */
  private progressTimerAtMs: number | null = null;
  /** Latest time seen in any event, for back-off timers started by results of async work. */
  private now = 0;
  private effects: VolunteerEffect[] = [];

  constructor(
    private caps: Capabilities,
    private readonly label: string,
    options: VolunteerCoreOptions = {},
  ) {
    this.token = options.resumeToken ?? null;
    const depth = options.prefetch ?? DEFAULT_PREFETCH;
    this.prefetchDepth = Number.isFinite(depth) ? Math.max(0, Math.floor(depth)) : DEFAULT_PREFETCH;
  }

  stats(): VolunteerStats {
    return {
      phase: this.phase,
      currentShard: this.lease?.shardId ?? null,
      queuedLeases: this.queued.length,
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
      outbox: this.outbox.size,
      heldBackSent: this.heldBackSent,
      heldBackDelivered: this.heldBackDelivered,
    };
  }

  capabilities(): Capabilities {
    return this.caps;
  }

  /**
   * [W-1] Every connection starts with hello and the backend that really runs; [W-17] with the
   * resume token, when this peer id has one. [W-2] A run that outlived the disconnect goes on.
   */
  connected(now: number): VolunteerEffect[] {
    this.now = Math.max(this.now, now);
    this.online = true;
    this.welcomed = false;
    this.badFrames = null; // [B-8] a new connection, a new count
    this.standing = null;
    if (this.lease) this.effects.push({ kind: 'status-changed' });
    else this.setPhase('greeting');
    const resume = this.token !== null ? { resume: this.token } : {};
    this.send({ v: PROTOCOL_VERSION, t: 'hello', role: 'volunteer', caps: this.caps, label: this.label, ...resume });
    // [W-11] A volunteer paused before it connected says so at once, so it is never leased work.
    if (this.paused) this.send({ v: PROTOCOL_VERSION, t: 'volunteer-state', paused: true, reason: this.pauseReason });
    return this.flush();
  }

  /**
   * [W-2] A lost connection keeps a lease whose model is in hand: the run goes on and its result
   * waits in the outbox ([W-15]). A model download from the coordinator cannot go on: that lease
   * is dropped (the coordinator re-leases it). Nothing is asked for until the next welcome.
   */
  disconnected(_now: number): VolunteerEffect[] {
    this.online = false;
    this.welcomed = false;
    // Sent but not acknowledged: whether it arrived is unknown, so it goes again after the next welcome.
    for (const held of this.outbox.values()) held.heldBack = true;
    // [W-18] The coordinator releases a gone peer's leases at once ([P-2]): queued ones have not
    // started, so running them would only produce late duplicates of re-leased shards.
    this.prefetching = false;
    if (this.queued.length > 0) {
      this.log('info', `lost the coordinator: dropped ${this.queued.length} queued lease(s) (${this.queued.map((l) => l.shardId).join(', ')})`);
      this.queued = [];
    }
    if (this.lease && this.download) {
      this.log('info', `lost the coordinator while downloading the model for ${this.lease.shardId}: dropped it`);
      this.lease = null;
      this.download = null;
    }
    if (this.lease) this.log('info', `lost the coordinator while computing ${this.lease.shardId}: finishing it; the result waits for the coordinator`);
    else if (this.phase !== 'refused') this.setPhase('connecting');
    return this.flush();
  }

  /**
   * [W-15] Results stored by this tab before a reload (for this peer id), not yet acknowledged:
   * delivered after the next welcome, or at once when already welcomed. Already known ones are
   * skipped.
   */
  restoreOutbox(entries: readonly OutboxEntry[], now: number): VolunteerEffect[] {
    this.now = Math.max(this.now, now);
    const restored: Held[] = [];
    for (const entry of entries) {
      if (entry.frame.leaseId !== entry.leaseId || this.outbox.has(entry.leaseId)) continue;
      const held: Held = { entry, heldBack: true };
      this.outbox.set(entry.leaseId, held);
      restored.push(held);
    }
    if (restored.length === 0) return this.flush();
    this.log('info', `${restored.length} result(s) from before this tab reloaded wait for the coordinator`);
    if (this.welcomed) for (const held of restored) this.resend(held);
    this.effects.push({ kind: 'status-changed' });
    return this.flush();
  }

  /**
   * [W-17] The link had to register under a fresh peer id (the old one stayed taken): the old
   * id's token means nothing now, and results computed under the old id cannot be delivered under
   * the new one ([R-1]: only the holder answers), nor can the lease in hand. They are forgotten
   * here; the stored copies stay under the old id until they expire.
   */
  identityChanged(now: number): VolunteerEffect[] {
    this.now = Math.max(this.now, now);
    this.token = null;
    // [W-20] A refusal of the old id says nothing about the new one.
    this.refusal = null;
    if (this.outbox.size > 0) this.log('warn', `${this.outbox.size} held-back result(s) belong to this tab's old peer id and cannot be delivered`);
    this.outbox.clear();
    this.dropQueued();
    if (this.lease) {
      this.lease = null;
      this.download = null;
      this.settleWithoutLease();
    }
    this.effects.push({ kind: 'status-changed' });
    return this.flush();
  }

  /**
   * [B-8] A frame from the coordinator that did not parse: counted, and logged at once for the
   * first, then in one line per period, never a log entry (and a re-render) per frame.
   */
  protocolError(error: ProtocolError, now: number): VolunteerEffect[] {
    this.now = Math.max(this.now, now);
    this.badFrames ??= new BadFrameTally(PEER_BUDGETS, now);
    const verdict = this.badFrames.note(error.reason, now);
    const line = verdict.log ?? verdict.drop;
    if (line !== null) this.log('warn', `frames from the coordinator: ${line}`);
    return this.flush();
  }

  receive(msg: FromCoordinator, now: number): VolunteerEffect[] {
    this.now = Math.max(this.now, now);
    switch (msg.t) {
      case 'welcome':
        this.onWelcome(msg);
        break;
      case 'refused':
        // [W-9] The coordinator will not take a result any more: drop the lease so a run that
        // finishes now neither sends nor asks for more work. The outbox stays for a later connection.
        this.refusal = msg.reason;
        this.welcomed = false;
        this.lease = null;
        this.download = null;
        this.dropQueued();
        this.setPhase('refused');
        this.log('error', `the coordinator refused this volunteer: ${msg.reason}`);
        if (msg.code === REFUSED_ID_TAKEN) {
          // [W-20] Refused for good under this id (another tab's, or a token the coordinator no
          // longer matches): staying would mean never working again, so move to a fresh id.
          this.token = null;
          this.log('warn', 'this peer id belongs to another volunteer here: moving to a fresh one');
          this.effects.push({ kind: 'renew-id' });
        }
        break;
      case 'lease':
        this.onLease(msg);
        break;
      case 'no-work':
        // [W-8] Wait as long as the coordinator says, then ask again.
        if (this.phase === 'asking') {
          this.sleepUntil('idle', now + msg.retryInMs);
          this.idleAfterNoWork = true;
        }
        // [W-18] Nothing to queue: the next request goes out when the next shard starts or ends.
        else if (this.prefetching) this.prefetching = false;
        break;
      case 'work-available':
        // [W-19] Ask now rather than at the end of the no-work wait. Only then: a back-off after a
        // failed shard, a rest under the CPU cap, a pause or a request in flight are left alone,
        // and a stale timer of the wait re-arms nothing (it finds the phase changed).
        if (this.phase === 'idle' && this.idleAfterNoWork && this.welcomed && !this.paused) this.askForWork();
        break;
      case 'model-chunk':
        this.onModelChunk(msg);
        break;
      case 'model-unavailable':
        if (this.lease && this.lease.modelHash === msg.hash) this.abandon(`model unavailable: ${msg.reason}`);
        break;
      case 'result-ack': {
        // [W-15] Any acknowledgement is final: sending again would get the same answer.
        const held = this.outbox.get(msg.leaseId);
        if (held) {
          this.outbox.delete(msg.leaseId);
          this.effects.push({ kind: 'outbox-delete', leaseId: msg.leaseId });
        }
        // [W-10] Only a result the coordinator took in counts as delivered.
        if (msg.outcome === 'received') {
          this.resultsDelivered++;
          // [W-16]
          if (held?.heldBack) this.heldBackDelivered++;
        } else this.log('warn', `result for lease ${msg.leaseId} not counted (${msg.outcome}): ${msg.reason}`);
        this.effects.push({ kind: 'status-changed' });
        break;
      }
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
      else this.next();
    }
    return this.flush();
  }

  /**
   * [W-21] Timer from a `progress-at` effect: each lease held (in hand, whatever its phase, or
   * queued) for a whole interval since it arrived or was last reported gets a `lease-progress`
   * frame, so the coordinator keeps a slow shard's lease ([L-10]). Nothing is sent while not
   * welcomed; the timer goes on while a lease is held and stops when none is.
   */
  progressDue(now: number): VolunteerEffect[] {
    this.now = Math.max(this.now, now);
    // This is the pending timer (one is asked for only when none is pending), even if it fired
    // early by the host's clock: forget it, and ask again below for whatever is still due.
    this.progressTimerAtMs = null;
    const held = this.heldLeases();
    if (this.welcomed) {
      for (const id of held) {
        const p = this.progress.get(id);
        if (!p || now - p.saidAtMs < LEASE_PROGRESS_INTERVAL_MS) continue;
        p.saidAtMs = now;
        this.send({ v: PROTOCOL_VERSION, t: 'lease-progress', leaseId: id, elapsedMs: Math.max(0, now - p.receivedAtMs) });
      }
    }
    this.armProgress(held);
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
    if (this.online && this.phase !== 'refused') {
      this.send({ v: PROTOCOL_VERSION, t: 'volunteer-state', paused, reason: why });
    }
    if (paused && !wasPaused) {
      // [W-18] Every lease held goes back: the one in hand and those queued behind it.
      const held = [...(this.lease ? [this.lease] : []), ...this.queued];
      this.prefetching = false;
      if (held.length > 0) {
        this.log('info', `paused (${why}): handed ${held.map((l) => l.shardId).join(', ')} back`);
        // Offline, the coordinator has already let the leases go ([P-2]).
        if (this.online) for (const l of held) this.send({ v: PROTOCOL_VERSION, t: 'lease-abandon', leaseId: l.leaseId, reason: PAUSED_REASON });
        this.lease = null;
        this.queued = [];
        this.download = null;
      } else {
        this.log('info', `paused (${why})`);
      }
      if (this.phase !== 'refused') this.settleWithoutLease();
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
    if (this.phase === 'resting' && this.cpuCapPercent >= 100) this.next();
    else this.maybePrefetch();
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
    if (this.online && this.phase !== 'refused') this.send({ v: PROTOCOL_VERSION, t: 'caps', caps });
    this.effects.push({ kind: 'status-changed' });
    return this.flush();
  }

  modelFromCache(hash: ModelHash, bytes: ArrayBuffer | null): VolunteerEffect[] {
    const lease = this.lease;
    if (!lease || lease.modelHash !== hash || this.phase !== 'fetching-model') return this.flush();
    if (bytes) {
      this.startRun(lease, bytes);
    } else if (!this.online) {
      // [W-2] The lease outlived a disconnect, but its model has to come from the coordinator.
      this.log('info', `lost the coordinator before the model for ${lease.shardId} arrived: dropped it`);
      this.lease = null;
      this.settleWithoutLease();
    } else if (lease.modelBytes > LIMITS.maxModelBytes) {
      this.abandon(`model of ${lease.modelBytes} bytes exceeds this volunteer's limit`);
    } else {
      this.download = new ModelDownload(hash, lease.modelBytes);
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
   * [W-4] Results carry the backend that really produced them. [W-15] Each goes into the outbox
   * before it is sent; one finished while disconnected (or before the welcome) waits there for the
   * next welcome. [W-12] Under a CPU cap the next request waits for the rest the cap asks for.
   * `now` is when the run finished (defaults to the latest time seen). A pipeline job's result is
   * its `answers`, one per item, with no outputs ([V-12]).
   */
  inferenceDone(
    leaseId: LeaseId,
    outputs: readonly WireTensor[],
    backend: Backend,
    inferMs: number,
    now?: number,
    answers?: readonly Answer[],
  ): VolunteerEffect[] {
    if (now !== undefined) this.now = Math.max(this.now, now);
    const lease = this.lease;
    if (!lease || lease.leaseId !== leaseId) return this.flush();
    this.computeMs += inferMs;
    const frame: ResultMsg = answers
      ? { v: PROTOCOL_VERSION, t: 'result', leaseId, outputs: [], answers: [...answers], backend, inferMs }
      : { v: PROTOCOL_VERSION, t: 'result', leaseId, outputs: [...outputs], backend, inferMs };
    const entry: OutboxEntry = { leaseId, shardId: lease.shardId, frame };
    const deliverNow = this.welcomed;
    this.outbox.set(leaseId, { entry, heldBack: !deliverNow });
    this.effects.push({ kind: 'outbox-put', entry });
    if (backend !== this.caps.backend) {
      this.log('warn', `backend changed from ${this.caps.backend} to ${backend}`);
      this.caps = {
        ...this.caps,
        backend,
        adapter: backend === 'wasm' ? null : this.caps.adapter,
        backendReason: `a shard ran on ${backend}, not ${this.caps.backend}`,
      };
      if (this.online) this.send({ v: PROTOCOL_VERSION, t: 'caps', caps: this.caps });
    }
    this.lastResult = { shardId: lease.shardId, backend, inferMs };
    this.lease = null;
    if (!deliverNow) {
      this.log('info', `finished ${lease.shardId} while the coordinator was away: held back until the next welcome`);
      this.settleWithoutLease();
      return this.flush();
    }
    this.send(frame);
    const rest = restAfterShardMs(inferMs, this.cpuCapPercent);
    if (rest > 0) this.sleepUntil('resting', this.now + rest);
    else this.next();
    return this.flush();
  }

  inferenceFailed(leaseId: LeaseId, reason: string): VolunteerEffect[] {
    if (this.lease && this.lease.leaseId === leaseId) this.abandon(`inference failed: ${reason}`);
    return this.flush();
  }

  // -------------------------------------------------------------------------------------------

  /**
   * [W-16] A welcome first re-sends every unacknowledged result, then asks for work — unless a
   * run that outlived the disconnect is still going (its result, then the request, follow).
   */
  private onWelcome(msg: Extract<FromCoordinator, { t: 'welcome' }>): void {
    this.log('info', `joined network "${msg.networkId}" as ${msg.you}`);
    this.peerId = msg.you;
    this.welcomed = true;
    if (msg.token !== undefined && msg.token !== this.token) {
      // [W-17]
      this.token = msg.token;
      this.effects.push({ kind: 'save-token', token: msg.token });
    }
    const held = [...this.outbox.values()];
    if (held.length > 0) this.log('info', `delivering ${held.length} held-back result(s)`);
    for (const h of held) this.resend(h);
    if (this.lease) this.effects.push({ kind: 'status-changed' });
    else if (this.paused) this.setPhase('paused');
    else this.askForWork();
  }

  private resend(held: Held): void {
    held.heldBack = true;
    this.heldBackSent++;
    this.send(held.entry.frame);
  }

  /** A volunteer left without a lease waits for a connection or a welcome, stays paused, or asks for work. */
  private settleWithoutLease(): void {
    if (!this.online) this.setPhase('connecting');
    else if (!this.welcomed) this.setPhase('greeting');
    else if (this.paused) this.setPhase('paused');
    else this.next();
  }

  private onLease(msg: LeaseMsg): void {
    if (!this.paused && this.phase === 'asking' && !this.lease) {
      this.begin(msg);
      this.holding(msg);
      return;
    }
    if (!this.paused && this.prefetching) {
      // [W-18] Asked for while a shard runs (or rests): it waits its turn, its inputs in hand.
      this.prefetching = false;
      this.queued.push(msg);
      this.holding(msg);
      this.effects.push({ kind: 'status-changed' });
      this.maybePrefetch();
      return;
    }
    // [W-5] Not asked for (or asked for before a pause): hand it straight back so the
    // coordinator can re-lease it.
    const reason = this.paused ? PAUSED_REASON : 'not requested';
    this.send({ v: PROTOCOL_VERSION, t: 'lease-abandon', leaseId: msg.leaseId, reason });
  }

  /** [W-21] A lease taken (in hand or queued): its progress is due one interval from now. */
  private holding(lease: LeaseMsg): void {
    this.progress.set(lease.leaseId, { receivedAtMs: this.now, saidAtMs: this.now });
    this.armProgress(this.heldLeases());
  }

  /** [W-21] The leases held now, in hand first; progress entries of any other are dropped. */
  private heldLeases(): LeaseId[] {
    const held = [...(this.lease ? [this.lease.leaseId] : []), ...this.queued.map((l) => l.leaseId)];
    if (this.progress.size > held.length) {
      for (const id of this.progress.keys()) if (!held.includes(id)) this.progress.delete(id);
    }
    return held;
  }

  /** [W-21] Asks for a `progress-at` when the next report falls due, unless an earlier timer is pending. */
  private armProgress(held: readonly LeaseId[]): void {
    let due = Infinity;
    for (const id of held) {
      const p = this.progress.get(id);
      if (p) due = Math.min(due, p.saidAtMs + LEASE_PROGRESS_INTERVAL_MS);
    }
    if (due === Infinity || (this.progressTimerAtMs !== null && this.progressTimerAtMs <= due)) return;
    this.progressTimerAtMs = due;
    this.effects.push({ kind: 'progress-at', atMs: due });
  }

  /** Takes a lease in hand: its model comes from the cache, or else from the coordinator. */
  private begin(lease: LeaseMsg): void {
    this.lease = lease;
    this.setPhase('fetching-model');
    this.effects.push({ kind: 'load-cached-model', hash: lease.modelHash });
  }

  /**
   * [W-18] After a run, a rest or a back-off: the oldest queued lease starts at once; without
   * one, an unanswered prefetch request becomes the request for work, or a new one goes out.
   */
  private next(): void {
    const queued = this.queued.shift();
    if (queued) this.begin(queued);
    else if (this.prefetching) {
      this.prefetching = false;
      this.setPhase('asking');
    } else this.askForWork();
  }

  /**
   * [W-18] While a shard runs, ask for the next so its inputs arrive during the compute. Not
   * under a CPU cap (the rest would leave a queued lease waiting), paused, or before a welcome.
   */
  private maybePrefetch(): void {
    if (this.phase !== 'running' || this.prefetching || !this.welcomed || this.paused || this.cpuCapPercent < 100) return;
    if (this.queued.length >= this.prefetchDepth) return;
    this.prefetching = true;
    this.send({ v: PROTOCOL_VERSION, t: 'lease-request' });
  }

  /** [W-9] [W-17] Queued leases that can no longer be delivered are forgotten (the coordinator lets them expire). */
  private dropQueued(): void {
    this.prefetching = false;
    this.queued = [];
  }

  private onModelChunk(msg: Extract<FromCoordinator, { t: 'model-chunk' }>): void {
    const d = this.download;
    if (!d || d.hash !== msg.hash || this.phase !== 'fetching-model') return;
    // [W-6] Chunks are placed by offset: the transport interleaves messages, so they need not
    // arrive in order; anything off the protocol's grid is a broken or hostile sender.
    const refused = d.place(msg.offset, msg.total, msg.bytes);
    if (refused !== null) {
      this.abandon(refused);
      return;
    }
    this.effects.push({ kind: 'status-changed' });
    if (d.complete) {
      this.download = null;
      this.setPhase('verifying-model');
      this.effects.push({ kind: 'check-model', hash: d.hash, bytes: d.bytes.buffer });
    }
  }

  private startRun(lease: LeaseMsg, model: ArrayBuffer): void {
    this.setPhase('running');
    const items = lease.files && lease.pipeline ? { files: lease.files, pipeline: lease.pipeline } : {}; // [W-22]
    this.effects.push({ kind: 'run', leaseId: lease.leaseId, hash: lease.modelHash, model, inputs: lease.inputs, ...items });
    this.maybePrefetch();
  }

  /** [W-7] Giving a lease back always comes with a back-off, so a failing shard is no hot loop. */
  private abandon(reason: string): void {
    if (!this.lease) return;
    this.log('warn', `gave back ${this.lease.shardId}: ${reason}`);
    if (this.online) this.send({ v: PROTOCOL_VERSION, t: 'lease-abandon', leaseId: this.lease.leaseId, reason });
    this.lease = null;
    this.download = null;
    // Not welcomed (a run that outlived a disconnect failed): the next welcome asks for work.
    if (!this.welcomed) {
      this.settleWithoutLease();
      return;
    }
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
    this.idleAfterNoWork = false;
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
