/**
 * The coordinator's brain: leases shards to volunteers, verifies their results by quorum, and
 * re-leases work that expires, disagrees, or whose volunteer leaves. Pure and deterministic:
 * time (`now`) and randomness (`rng`) come in as parameters, I/O goes out as effects.
 *
 * State is mutated in place rather than copied per event: the core must process tens of
 * thousands of results per second, and the host never shares these objects with the views
 * (views get snapshots from the query methods).
 *
 * Rule ids ([L-n] leasing, [R-n] results, [J-n] jobs, [P-n] peers) refer to core/SPEC.md.
 */
import type { JobId, LeaseId, ModelHash, PeerId, ShardId } from '../../protocol/ids.ts';
import { shardIdOf } from '../../protocol/ids.ts';
import { LIMITS } from '../../protocol/limits.ts';
import type { FromCoordinator, JobSpec, JobStatus, PeerSummary, ToCoordinator, VerifiedShard } from '../../protocol/messages.ts';
import { PROTOCOL_VERSION, REFUSED_ID_TAKEN } from '../../protocol/messages.ts';
import { resolvePolicy, type ResolvedPolicy } from '../../protocol/policy.ts';
import type { ProtocolError } from '../../protocol/parse.ts';
import type { WireTensor } from '../../protocol/tensor.ts';
import { randomTag, seededRng, type Rng } from '../rng.ts';
import type { PeerSample } from '../telemetry/aggregator.ts';
import { BackendPairCounter } from '../telemetry/backendPairs.ts';
import type { BackendPairCount } from '../../protocol/telemetry.ts';
import { DEFAULT_TRUST, ReputationBook } from '../reputation/reputation.ts';
import { CanaryPool } from '../verification/canaries.ts';
import { compareOutputs } from '../verification/compare.ts';
import { decideQuorum } from '../verification/quorum.ts';
import type { CoordinatorEffect } from './effects.ts';
import { JobScheduler, normalisePriority } from './jobScheduler.ts';
import { batchSizeOf, sliceRows } from './shardInputs.ts';
import { ShardQueue } from './shardQueue.ts';
import type {
  AcceptedResult,
  CoordinatorConfig,
  JobRecord,
  LeaseRecord,
  LeaseState,
  PeerRecord,
  PeerState,
  Replica,
  ShardState,
  Standing,
  VerificationTotals,
} from './state.ts';

type Msg<T extends ToCoordinator['t']> = Extract<ToCoordinator, { t: T }>;
type Out = FromCoordinator;

/** Remembered after a lease ends, so a late result can still be recognised. */
interface RetiredLease {
  readonly shardId: ShardId;
  readonly volunteer: PeerId;
  readonly issuedAtMs: number;
  readonly deadlineMs: number;
  /** [C-2] A canary lease, and the acceptance of its shard it tests. */
  readonly canary: boolean;
  readonly epoch: number;
}

/** Per-job shard counts kept up to date, so status and completion never scan every shard. [J-3] */
interface JobCounts {
  verified: number;
  unverifiable: number;
  /** Open shards with a lease or a replica. */
  inFlight: number;
  disagreements: number;
  /** [S-2] Verified shards whose acceptance is in storage. */
  durable: number;
}

/** [L-1] How many shards the volunteer is involved in that a lease may skip over in one job. */
const MAX_SKIPPED_SHARDS = 1024;
const STATUS_CHANGED: CoordinatorEffect = { kind: 'status-changed' };

const MAX_RETIRED_LEASES = 100_000;
/** [X-4] Outvotes remembered per volunteer; a liar gives more than enough evidence in fewer. */
const MAX_OUTVOTED = 16;
/** [A-3] Connected volunteers (not quarantined) a network needs before anyone computes alone: a canary for one must come from two others. */
const MIN_LONE_NETWORK = 3;
/** [A-7] Results returned while owing a canary, remembered per volunteer until one is vouched for. */
const MAX_VOUCHING = 16;

/** [S-3] Why a submission is refused while storage fails (README, errors table). */
export const STORAGE_REJECT_REASON = 'the coordinator cannot store new jobs right now (its storage failed): try again later';

export class CoordinatorCore {
  private readonly peers = new Map<PeerId, PeerState>();
  private readonly jobs = new Map<JobId, JobRecord>();
  /** Shards of each job, by index. */
  private readonly shards = new Map<JobId, ShardState[]>();
  private readonly shardById = new Map<ShardId, ShardState>();
  private readonly leases = new Map<LeaseId, LeaseState>();
  private readonly retired = new Map<LeaseId, RetiredLease>();
  private readonly models = new Map<ModelHash, ArrayBuffer>();
  private readonly backendPairs = new BackendPairCounter();
  /** [L-6] Which job's shard the next lease goes to, by priority. */
  private readonly scheduler = new JobScheduler<JobId>();
  /** [L-1] Per job: open shards that may want another lease, lowest index first. */
  private readonly queues = new Map<JobId, ShardQueue<ShardState>>();
  private readonly counts = new Map<JobId, JobCounts>();
  private readonly policies = new Map<JobId, ResolvedPolicy>();
  /** [A-1] What each volunteer's results earned it; outlives its connections. */
  readonly reputation: ReputationBook;
  private readonly canaries: CanaryPool;
  /** [X-3] Every shard each volunteer holds a replica in, for retroactive re-verification. */
  private readonly contributions = new Map<PeerId, ShardState[]>();
  /** [C-1] Shards each volunteer was already given as a canary: never the same one twice. */
  private readonly canaried = new Map<PeerId, Set<ShardId>>();
  /**
   * [X-4] Per volunteer, the acceptances (shard and epoch) that outvoted it and may yet become
   * established, oldest first, at most MAX_OUTVOTED.
   */
  private readonly outvoted = new Map<PeerId, { readonly shard: ShardState; readonly epoch: number }[]>();
  /**
   * [A-7] Per volunteer owing a canary, the shards it returned a result for meanwhile and the
   * `owed` count then, oldest first, at most MAX_VOUCHING: one accepted with it and since
   * established stands in for the canary it may never be served.
   */
  private readonly vouching = new Map<PeerId, { readonly shard: ShardState; readonly owed: number }[]>();
  private readonly totals: VerificationTotals = {
    results: 0,
    canaryLeases: 0,
    canaryResults: 0,
    spotChecks: 0,
    loneAccepted: 0,
    reopened: 0,
    quarantined: 0,
  };
  private leaseCounter = 0;
  private effects: CoordinatorEffect[] = [];
  /** [P-7] Volunteers whose standing changed through results: reported on the next due `tick`. */
  private readonly touched = new Set<PeerId>();
  /** [P-7] Volunteers whose own action (pause, caps) or quarantine changed their standing: reported at once. */
  private readonly touchedNow = new Set<PeerId>();
  private nextStandingReportMs = 0;
  /**
   * [S-4] Live leases restored after a reload, per volunteer, not yet delivered. A volunteer asks
   * for work only after delivering what it held and finishing the run it had in hand ([W-16]),
   * so any of these left at its first request after reconnecting is one it no longer holds
   * (e.g. a queued lease it dropped on the disconnect): released then, not at its deadline.
   */
  private readonly orphanLeases = new Map<PeerId, Set<LeaseId>>();
  /** [I-1] The resume token of every volunteer id this coordinator has welcomed (or restored). */
  private readonly tokens = new Map<PeerId, string>();
  /** [I-1] Standing counters of volunteers not connected now, for when they come back. */
  private readonly standing = new Map<PeerId, Standing>();
  /** [L-8] Smoothed milliseconds per item, per volunteer id. */
  private readonly msPerItem = new Map<PeerId, number>();
  /**
   * [L-8] When each volunteer's last result arrived: a lease queued behind another ([W-18]) only
   * starts then, so its time is counted from there, not from its issue.
   */
  private readonly lastResultMs = new Map<PeerId, number>();
  /** [S-1] What changed since the last `persist` effect (flushed on `tick`). */
  private readonly dirtyLeases = new Set<LeaseId>();
  private readonly dirtyPeers = new Set<PeerId>();
  private readonly dirtyOpenShards = new Set<ShardState>();
  /**
   * [L-9] Volunteers told `no-work` since their last lease or nudge. Without a nudge each would
   * sit out `noWorkRetryMs` after work appears, which delays every new job's first shards.
   */
  private readonly waitingForWork = new Set<PeerId>();
  /** [L-9] Work appeared during this event: the waiting volunteers are told once, when it is flushed. */
  private workAppeared = false;
  /** [S-3] Why storage fails, or null while it works. */
  private storageProblem: string | null = null;

  /**
   * @param tokenRng [I-1] Where resume tokens come from: a stream of its own, so that issuing
   * tokens leaves the scheduling and sampling draws of `rng` as they were. The host passes one
   * seeded from `crypto.getRandomValues`; the default has a fixed seed, which keeps tests and
   * simulations replayable ([D-1]).
   */
  constructor(
    readonly config: CoordinatorConfig,
    private readonly rng: Rng,
    private readonly tokenRng: Rng = seededRng(0x51ed_7a11),
  ) {
    this.reputation = new ReputationBook({ ...DEFAULT_TRUST, ...config.trust });
    this.canaries = new CanaryPool(this.reputation, (cap) => this.knownVolunteers(cap));
  }

  // -------------------------------------------------------------------------------------------
  // Events in
  // -------------------------------------------------------------------------------------------

  /**
   * A new connection. [I-1] A state left for the same id (its old channel not yet seen closed) is
   * dropped first, its leases released at once ([P-2]): the new connection starts afresh.
   */
  connect(peer: PeerId, now: number): CoordinatorEffect[] {
    if (this.peers.has(peer)) {
      this.log('info', `${peer} connected again; its previous connection is dropped`);
      this.dropPeer(peer, now);
    }
    this.peers.set(peer, {
      id: peer,
      connectedAtMs: now,
      lastSeenMs: now,
      role: null,
      label: '',
      caps: null,
      leases: new Set(),
      leasesIssued: 0,
      resultsReturned: 0,
      shardsAccepted: 0,
      resultsRejected: 0,
      paused: false,
      pauseReason: '',
    });
    return this.flush();
  }

  /** [P-2] A disconnect releases the peer's leases at once, so its shards go to others. */
  disconnect(peer: PeerId, now: number): CoordinatorEffect[] {
    this.dropPeer(peer, now);
    return this.flush();
  }

  private dropPeer(peer: PeerId, now: number): void {
    const state = this.peers.get(peer);
    if (!state) return;
    for (const leaseId of [...state.leases]) this.endLease(leaseId, 'volunteer disconnected', now);
    // [I-1] Its standing waits for the volunteer to come back under its id.
    if (state.role === 'volunteer') this.standing.set(peer, standingOf(state));
    this.peers.delete(peer);
    this.waitingForWork.delete(peer);
    this.emit({ kind: 'status-changed' });
  }

  /** [P-3] Malformed frames are dropped with a logged reason; another version gets a refusal. */
  protocolError(peer: PeerId, error: ProtocolError, _now: number): CoordinatorEffect[] {
    if (error.kind === 'version') {
      this.refuse(peer, error.reason);
    } else {
      this.log('warn', `dropped a frame from ${peer}: ${error.reason}`);
    }
    return this.flush();
  }

  handle(peer: PeerId, msg: ToCoordinator, now: number): CoordinatorEffect[] {
    const state = this.peers.get(peer);
    if (!state) {
      this.log('warn', `frame from unknown peer ${peer} dropped`);
      return this.flush();
    }
    state.lastSeenMs = now;
    if (msg.t === 'ping') {
      this.send(peer, { v: PROTOCOL_VERSION, t: 'pong' });
      return this.flush();
    }
    if (msg.t === 'hello') {
      this.onHello(state, msg);
      return this.flush();
    }
    if (state.role === null) {
      // [P-1] Nothing but hello is served before hello.
      this.refuse(peer, `"${msg.t}" before "hello": say hello first`);
      return this.flush();
    }
    if (state.role === 'observer') {
      // [O-1] Observers are read-only: beyond hello and ping, their frames are dropped (a
      // submission is answered, so a confused client learns why nothing happens).
      this.log('warn', `observer ${peer} sent "${msg.t}"; observers are read-only, dropped`);
      if (msg.t === 'submit-job') {
        this.send(peer, { v: PROTOCOL_VERSION, t: 'job-rejected', ref: msg.ref, reason: 'only requesters may submit jobs; observers are read-only' });
      }
      return this.flush();
    }
    switch (msg.t) {
      case 'lease-request':
        this.onLeaseRequest(state, now);
        break;
      case 'model-request':
        this.onModelRequest(state, msg);
        break;
      case 'result':
        this.onResult(state, msg, now);
        break;
      case 'lease-abandon':
        this.onLeaseAbandon(state, msg, now);
        break;
      case 'volunteer-state':
        this.onVolunteerState(state, msg);
        break;
      case 'caps':
        this.onCaps(state, msg);
        break;
      case 'submit-job':
        this.onSubmitJob(state, msg);
        break;
      case 'results-request':
        this.onResultsRequest(state, msg);
        break;
    }
    return this.flush();
  }

  /** [L-4] Leases past their deadline end; their shards are offered to other volunteers. */
  tick(now: number): CoordinatorEffect[] {
    for (const lease of [...this.leases.values()]) {
      if (lease.deadlineMs <= now) this.endLease(lease.id, 'lease expired', now);
    }
    if (this.touched.size > 0 && now >= this.nextStandingReportMs) {
      this.reportVolunteers(this.touched);
      this.nextStandingReportMs = now + this.config.standingReportMs;
    }
    this.persistDirty();
    // [P-4] A peer that has gone silent is gone: its leases are released and its channel closed.
    for (const peer of [...this.peers.values()]) {
      if (now - peer.lastSeenMs > this.config.peerTimeoutMs) {
        this.log('warn', `${peer.role ?? 'peer'} ${peer.id} silent for ${now - peer.lastSeenMs} ms; dropping it`);
        this.emit({ kind: 'close', peer: peer.id, reason: 'silent' });
        this.dropPeer(peer.id, now);
      }
    }
    return this.flush();
  }

  /**
   * [S-1] Leases and open shards' replicas now rather than on the next tick. The host calls it
   * shortly after leases changed (`hasUnsavedLeases`), so a lease issued just before a reload is
   * stored and its result still counts after it, while a burst of leases still costs one write.
   * Volunteer ids wait for the tick: snapshotting every busy volunteer's reputation five times as
   * often cost more than the rest of the batch, and a lost reputation update costs no result.
   * Replicas go with the leases, so a lease forgotten for its result never lands without them.
   */
  persist(_now: number): CoordinatorEffect[] {
    this.persistDirty(false);
    return this.flush();
  }

  /** [S-1] Leases issued, ended or answered since the last `persist` effect. */
  hasUnsavedLeases(): boolean {
    return this.dirtyLeases.size > 0;
  }

  /**
   * [J-2] Second half of a submission, once the host has hashed the model: create the job and its
   * shards. The hash is computed by this coordinator; a requester's claim is never trusted.
   */
  admitJob(peer: PeerId, ref: string, spec: JobSpec, modelHash: ModelHash, now: number): CoordinatorEffect[] {
    // [S-3] Storage failed while the model was being checked: the job could not be kept.
    if (this.storageProblem !== null) {
      this.send(peer, { v: PROTOCOL_VERSION, t: 'job-rejected', ref, reason: STORAGE_REJECT_REASON });
      return this.flush();
    }
    const items = batchSizeOf(spec.inputs);
    if (typeof items === 'string') {
      this.send(peer, { v: PROTOCOL_VERSION, t: 'job-rejected', ref, reason: items });
      return this.flush();
    }
    // Math.floor: a fractional clock would put a '.' in the id, which no peer's parser accepts.
    const id = `j${Math.floor(now).toString(36)}${randomTag(this.rng, 6)}` as JobId;
    const shardCount = Math.ceil(items / spec.shardSize);
    const job: JobRecord = {
      id,
      name: spec.name,
      modelHash,
      modelBytes: spec.model.byteLength,
      inputs: spec.inputs,
      items,
      shardSize: spec.shardSize,
      shardCount,
      policy: spec.policy,
      createdAtMs: now,
      submittedBy: peer,
      priority: normalisePriority(spec.priority),
    };
    if (!this.models.has(modelHash)) {
      this.models.set(modelHash, spec.model);
      this.emit({ kind: 'store-model', hash: modelHash, bytes: spec.model });
    }
    this.addJob(job);
    this.emit({ kind: 'store-job', job });
    this.log('info', `job ${id} "${job.name}": ${items} items in ${shardCount} shards, model ${modelHash.slice(0, 12)}`);
    this.send(peer, { v: PROTOCOL_VERSION, t: 'job-accepted', ref, jobId: id, shards: shardCount });
    this.emit({ kind: 'status-changed' });
    return this.flush();
  }

  /** Loads a stored job (and its model) back, e.g. after a reload. Shards start open. */
  restoreJob(job: JobRecord, model: ArrayBuffer): void {
    this.models.set(job.modelHash, model);
    this.addJob(job);
  }

  /**
   * Puts a stored shard back after a reload: its outcome, and [S-1] its replicas (an open shard's
   * results so far; a decided shard's, so a quarantine can still re-verify it, [X-3]) and epoch.
   * Open shards are leased again as they need.
   */
  restoreShard(
    jobId: JobId,
    index: number,
    status: ShardState['status'],
    accepted: AcceptedResult | null,
    disagreements: number,
    more: { readonly replicas?: readonly Replica[] | undefined; readonly epoch?: number | undefined } = {},
  ): void {
    const shard = this.shards.get(jobId)?.[index];
    if (!shard) return;
    if (more.epoch !== undefined) shard.epoch = Math.max(shard.epoch, more.epoch);
    if (more.replicas && shard.replicas.length === 0) {
      for (const r of more.replicas) {
        if (shard.replicas.some((x) => x.volunteer === r.volunteer)) continue; // [R-2]
        shard.replicas.push(r);
        let mine = this.contributions.get(r.volunteer);
        if (!mine) this.contributions.set(r.volunteer, (mine = []));
        mine.push(shard);
      }
      this.syncInFlight(shard);
    }
    if (status === 'open') return;
    if (status === 'verified' && !accepted) return;
    const counts = this.countsOf(jobId);
    if (shard.status === 'verified') counts.verified--;
    else if (shard.status === 'unverifiable') counts.unverifiable--;
    counts.disagreements += disagreements - shard.disagreements;
    if (shard.durable) counts.durable--;
    shard.status = status;
    shard.accepted = accepted;
    shard.disagreements = disagreements;
    // It was read back from storage: durable by definition ([S-2]).
    shard.durable = status === 'verified';
    if (status === 'verified') counts.verified++;
    else counts.unverifiable++;
    if (shard.durable) counts.durable++;
    this.syncInFlight(shard);
  }

  /**
   * [S-1] Puts a stored lease back after a reload. One still before its deadline stays valid
   * (its volunteer may deliver once it reconnects under its id, [I-1]); one past it, or for a
   * shard decided since, is retired: its shard is offered again, a late result still counts.
   */
  restoreLease(record: LeaseRecord, now: number): void {
    const shard = this.shards.get(record.jobId)?.[record.shardIndex];
    if (!shard) {
      this.dirtyLeases.add(record.id); // its job is gone: forget it
      return;
    }
    if (this.leases.has(record.id) || this.retired.has(record.id)) return;
    const live = !record.retired && record.deadlineMs > now && (record.canary || shard.status === 'open');
    if (!live) {
      this.retire(record.id, { shardId: shard.id, volunteer: record.volunteer, issuedAtMs: record.issuedAtMs, deadlineMs: record.deadlineMs, canary: record.canary, epoch: record.epoch });
      if (!record.retired) this.dirtyLeases.add(record.id);
      return;
    }
    const lease: LeaseState = {
      id: record.id,
      shardId: shard.id,
      shard,
      volunteer: record.volunteer,
      issuedAtMs: record.issuedAtMs,
      deadlineMs: record.deadlineMs,
      canary: record.canary,
      epoch: record.epoch,
    };
    // Not attached to a peer: its volunteer is not connected now. It ends when its volunteer
    // delivers, at its deadline, or at that volunteer's next lease request ([S-4]).
    this.leases.set(lease.id, lease);
    let orphans = this.orphanLeases.get(record.volunteer);
    if (!orphans) this.orphanLeases.set(record.volunteer, (orphans = new Set()));
    orphans.add(lease.id);
    if (record.canary) {
      let seen = this.canaried.get(record.volunteer);
      if (!seen) this.canaried.set(record.volunteer, (seen = new Set()));
      seen.add(shard.id);
    } else {
      shard.leases.add(lease.id);
      this.syncInFlight(shard);
    }
  }

  /** [I-1] [S-1] Puts a stored volunteer id back: its token, reputation and standing. */
  restorePeer(record: PeerRecord): void {
    this.tokens.set(record.peerId, record.token);
    this.reputation.restore(record.peerId, record.reputation);
    this.standing.set(record.peerId, { ...record.standing });
  }

  /**
   * [S-1] After the restore calls: open shards whose stored replicas already reach a quorum are
   * decided (a decision whose write was lost), and the restore itself is not written back.
   */
  settleRestored(now: number): CoordinatorEffect[] {
    for (const [jobId, list] of this.shards) {
      const job = this.jobs.get(jobId);
      if (!job) continue;
      for (const shard of list) if (shard.status === 'open' && shard.replicas.length > 0) this.evaluate(job, shard, now, false);
    }
    this.reputation.takeDirty();
    this.dirtyOpenShards.clear();
    return this.flush();
  }

  /**
   * [S-3] The host could not write to storage: until `storageRecovered`, no lease is issued and
   * no job admitted, since neither could be kept. Results already in are kept in memory.
   */
  storageFailed(reason: string, _now: number): CoordinatorEffect[] {
    if (this.storageProblem === null) this.log('warn', `storage failed (${reason}): no new leases or jobs until it works again`);
    this.storageProblem = reason;
    this.emit(STATUS_CHANGED);
    return this.flush();
  }

  /** [S-3] Storage works again (the host's retry wrote everything that was waiting). */
  storageRecovered(_now: number): CoordinatorEffect[] {
    if (this.storageProblem !== null) {
      this.log('info', 'storage works again: taking work');
      this.workAppeared = true; // [L-9] those told no-work meanwhile may ask at once
    }
    this.storageProblem = null;
    this.emit(STATUS_CHANGED);
    return this.flush();
  }

  /** [S-3] Why storage fails, or null. */
  storageFailure(): string | null {
    return this.storageProblem;
  }

  /**
   * [S-2] The host wrote a shard, with strict durability, as it stood at `epoch`. If that is its
   * current acceptance, the shard now counts as verified to requesters and the page.
   */
  shardStored(jobId: JobId, index: number, epoch: number): CoordinatorEffect[] {
    const shard = this.shards.get(jobId)?.[index];
    if (shard && shard.status === 'verified' && shard.epoch === epoch && !shard.durable) {
      shard.durable = true;
      this.countsOf(jobId).durable++;
      this.emit(STATUS_CHANGED);
    }
    return this.flush();
  }

  // -------------------------------------------------------------------------------------------
  // Queries (snapshots for hosts and views)
  // -------------------------------------------------------------------------------------------

  jobStatuses(): JobStatus[] {
    return [...this.jobs.values()].map((job) => this.jobStatus(job));
  }

  /** [J-3] Every shard is in exactly one of verified, unverifiable, in flight, pending. */
  jobStatus(job: JobRecord): JobStatus {
    // Kept up to date at every change (syncInFlight, evaluate, reopen), so this is O(1).
    const counts = this.countsOf(job.id);
    const { unverifiable, disagreements } = counts;
    // [S-2] An acceptance not yet in storage is still in flight to whoever watches.
    const verified = this.config.awaitDurableWrites === true ? counts.durable : counts.verified;
    const inFlight = counts.inFlight + counts.verified - verified;
    const pending = job.shardCount - verified - unverifiable - inFlight;
    return {
      jobId: job.id,
      name: job.name,
      createdAtMs: job.createdAtMs,
      items: job.items,
      shards: job.shardCount,
      verified,
      inFlight,
      pending,
      unverifiable,
      disagreements,
      done: verified + unverifiable === job.shardCount,
      priority: normalisePriority(job.priority),
    };
  }

  peerSummaries(): PeerSummary[] {
    const out: PeerSummary[] = [];
    for (const p of this.peers.values()) {
      if (p.role === null) continue;
      out.push({
        peerId: p.id,
        role: p.role,
        label: p.label,
        backend: p.caps?.backend ?? null,
        adapter: adapterLabel(p.caps),
        shardsDone: p.shardsAccepted,
        activeLeases: p.leases.size,
        connectedAtMs: p.connectedAtMs,
        ...(p.role === 'volunteer'
          ? { trusted: p.caps !== null && this.reputation.isTrusted(p.id, p.caps.backend), quarantined: this.reputation.isQuarantined(p.id), paused: p.paused }
          : {}),
      });
    }
    return out;
  }

  /** [T-1] Per-peer counters for the telemetry aggregator (see core/telemetry/). */
  peerSamples(): PeerSample[] {
    const out: PeerSample[] = [];
    for (const p of this.peers.values()) {
      if (p.role === null) continue;
      out.push({
        peerId: p.id,
        role: p.role,
        label: p.label,
        backend: p.caps?.backend ?? null,
        adapter: adapterLabel(p.caps),
        connectedAtMs: p.connectedAtMs,
        activeLeases: p.leases.size,
        leasesIssued: p.leasesIssued,
        resultsReturned: p.resultsReturned,
        shardsAccepted: p.shardsAccepted,
        rejected: p.resultsRejected,
        quarantined: this.reputation.isQuarantined(p.id),
        paused: p.paused,
        // [A-2] Progress towards trust on its backend, 0..1 (1 = trusted streak reached).
        reputation: p.role === 'volunteer' ? this.reputation.trustLevel(p.id, p.caps?.backend ?? null) : null,
      });
    }
    return out;
  }

  /** [T-5] Agreement per pair of backends over every accepted shard. */
  backendAgreement(): BackendPairCount[] {
    return this.backendPairs.list();
  }

  /** Peers that should hear about job progress: requesters. Observers get telemetry instead ([T-1]). */
  watchers(): PeerId[] {
    return [...this.peers.values()].filter((p) => p.role === 'requester').map((p) => p.id);
  }

  /** [T-1] Peers that get telemetry frames. */
  observers(): PeerId[] {
    return [...this.peers.values()].filter((p) => p.role === 'observer').map((p) => p.id);
  }

  verifiedShards(jobId: JobId): VerifiedShard[] {
    const out: VerifiedShard[] = [];
    for (const s of this.shards.get(jobId) ?? []) {
      if (s.status !== 'verified' || !s.accepted) continue;
      if (this.config.awaitDurableWrites === true && !s.durable) continue; // [S-2]
      out.push({
        index: s.index,
        start: s.start,
        count: s.count,
        outputs: [...s.accepted.outputs],
        volunteers: [...s.accepted.volunteers],
        backends: [...s.accepted.backends],
        ...(s.accepted.adapters ? { adapters: [...s.accepted.adapters] } : {}),
        ...(s.accepted.ortVersions ? { ortVersions: [...s.accepted.ortVersions] } : {}),
      });
    }
    return out;
  }

  shardsOf(jobId: JobId): readonly ShardState[] {
    return this.shards.get(jobId) ?? [];
  }

  job(jobId: JobId): JobRecord | undefined {
    return this.jobs.get(jobId);
  }

  activeLeaseCount(): number {
    return this.leases.size;
  }

  /** Running totals of verification work (canaries, spot-checks, re-openings, quarantines). */
  verificationTotals(): Readonly<VerificationTotals> {
    return { ...this.totals };
  }

  /**
   * [A-5] [A-6] Connected volunteers that still owe a canary (suspects, and trusted ones whose
   * lone results no canary has backed yet): while any remain, an audit is pending even if every
   * job is done.
   */
  pendingAudits(): number {
    let n = 0;
    for (const p of this.peers.values()) if (p.role === 'volunteer' && this.reputation.owesCanary(p.id)) n++;
    return n;
  }

  // -------------------------------------------------------------------------------------------
  // Handlers
  // -------------------------------------------------------------------------------------------

  private onHello(state: PeerState, msg: Msg<'hello'>): void {
    if (state.role !== null && state.role !== msg.role) {
      this.refuse(state.id, `already said hello as ${state.role}`);
      return;
    }
    const first = state.role === null;
    // [I-1] An id this coordinator knows is only served to the holder of its token.
    const known = this.tokens.get(state.id);
    if (first && known !== undefined && msg.resume !== known) {
      this.refuse(state.id, `peer id ${state.id} belongs to another volunteer: reconnect under a new id`, REFUSED_ID_TAKEN);
      return;
    }
    state.role = msg.role;
    state.label = msg.label;
    state.caps = msg.caps;
    let token = known;
    if (msg.role === 'volunteer' && token === undefined) {
      token = randomTag(this.tokenRng, 24);
      this.tokens.set(state.id, token);
      this.dirtyPeers.add(state.id);
    } else if (first && known !== undefined) {
      // [I-1] The volunteer is back: it keeps its standing (its reputation is kept per id anyway).
      const before = this.standing.get(state.id);
      if (before) {
        state.shardsAccepted = before.shardsAccepted;
        state.resultsReturned = before.resultsReturned;
        state.resultsRejected = before.resultsRejected;
      }
      if (msg.role === 'volunteer') this.touchedNow.add(state.id);
    }
    this.send(state.id, {
      v: PROTOCOL_VERSION,
      t: 'welcome',
      networkId: this.config.networkId,
      you: state.id,
      ...(msg.role === 'volunteer' && token !== undefined ? { token } : {}),
    });
    const what = msg.caps ? ` on ${msg.caps.backend} (onnxruntime-web ${msg.caps.ortVersion})` : '';
    this.log('info', `${msg.role} ${state.id} joined${what}`);
    this.emit({ kind: 'status-changed' });
  }

  /** [L-1] A volunteer gets a shard it has not computed and does not hold, from the oldest job. */
  private onLeaseRequest(state: PeerState, now: number): void {
    if (state.role !== 'volunteer') {
      this.log('warn', `${state.role} ${state.id} asked for a lease; only volunteers get work`);
      return;
    }
    // [S-4] Restored leases this volunteer did not deliver before asking again are not in its hands.
    const orphans = this.orphanLeases.size > 0 ? this.orphanLeases.get(state.id) : undefined;
    if (orphans) {
      this.orphanLeases.delete(state.id);
      for (const id of orphans) this.endLease(id, 'its volunteer reconnected without it', now);
    }
    // [X-4] An outvote whose answer has since become established is a strike (it may quarantine).
    if (this.outvoted.has(state.id)) this.judgeOutvotes(state.id, now);
    // [A-7] A result returned while owing a canary, in an answer since established, stands in for one.
    if (this.vouching.has(state.id)) this.judgeVouching(state.id);
    // [X-2] A quarantined volunteer keeps its connection (so its id stays taken) but never works again.
    if (this.reputation.isQuarantined(state.id)) {
      this.send(state.id, { v: PROTOCOL_VERSION, t: 'no-work', retryInMs: this.reputation.config.quarantineRetryMs });
      return;
    }
    // [L-7] A paused volunteer gets no lease (it should not ask; a request that crossed its pause is answered so).
    // [S-3] No lease whose result could not be kept while storage fails.
    if (state.paused || state.leases.size >= this.config.maxLeasesPerVolunteer || this.storageProblem !== null) {
      if (!state.paused) this.waitingForWork.add(state.id); // [L-9]
      this.send(state.id, { v: PROTOCOL_VERSION, t: 'no-work', retryInMs: this.config.noWorkRetryMs });
      return;
    }
    const pick = this.pickShard(state.id);
    // [C-1] Some leases are canaries: a shard of the same job whose answer is established. A
    // suspect is tested even when there is no other work ([A-5]).
    const canary = this.drawCanary(state, pick?.job ?? null);
    if (canary) {
      this.issueLease(state, canary, now, true);
      return;
    }
    if (!pick) {
      this.waitingForWork.add(state.id); // [L-9]
      this.send(state.id, { v: PROTOCOL_VERSION, t: 'no-work', retryInMs: this.config.noWorkRetryMs });
      return;
    }
    this.decideLone(state, pick.job, pick.shard);
    this.issueLease(state, pick.shard, now, false);
  }

  /** Sends a lease: a work lease counts towards the shard's replicas, a canary does not ([C-2]). */
  private issueLease(state: PeerState, shard: ShardState, now: number, canary: boolean): void {
    const job = this.jobs.get(shard.jobId) as JobRecord;
    let id = `l${(++this.leaseCounter).toString(36)}${randomTag(this.rng, 4)}` as LeaseId;
    // After a reload the counter starts again: never reuse an id a restored lease still has.
    while (this.leases.has(id) || this.retired.has(id)) id = `l${(++this.leaseCounter).toString(36)}${randomTag(this.rng, 4)}` as LeaseId;
    // [L-8] A lease queued behind others the volunteer holds ([W-18]) starts only after them.
    let ahead = 0;
    for (const held of state.leases) ahead += this.leases.get(held)?.shard.count ?? 0;
    const deadlineInMs = this.leaseDeadlineMs(state.id, shard.count + ahead);
    const lease: LeaseState = {
      id,
      shardId: shard.id,
      shard,
      volunteer: state.id,
      issuedAtMs: now,
      deadlineMs: now + deadlineInMs,
      canary,
      epoch: shard.epoch,
    };
    this.leases.set(lease.id, lease);
    this.dirtyLeases.add(lease.id);
    if (canary) {
      this.totals.canaryLeases++;
      let seen = this.canaried.get(state.id);
      if (!seen) this.canaried.set(state.id, (seen = new Set()));
      seen.add(shard.id);
    } else {
      shard.leases.add(lease.id);
      this.syncInFlight(shard);
    }
    state.leases.add(lease.id);
    state.leasesIssued++;
    if (this.waitingForWork.size > 0) this.waitingForWork.delete(state.id); // [L-9] it is working again
    // [C-2] The same frame, field for field, whether or not it is a canary.
    this.send(state.id, {
      v: PROTOCOL_VERSION,
      t: 'lease',
      leaseId: lease.id,
      jobId: job.id,
      shardId: shard.id,
      modelHash: job.modelHash,
      modelBytes: job.modelBytes,
      inputs: job.inputs.map((t) => sliceRows(t, shard.start, shard.count)),
      outputNames: [],
      deadlineInMs,
    });
    this.emit(STATUS_CHANGED);
  }

  /** [L-6] Among the jobs with a shard for this volunteer, the scheduler picks by priority. */
  private pickShard(volunteer: PeerId): { job: JobRecord; shard: ShardState } | null {
    const candidates: { id: JobId; priority: number; job: JobRecord; shard: ShardState }[] = [];
    for (const job of this.jobs.values()) {
      const shard = this.pickShardOf(job, volunteer);
      if (shard) candidates.push({ id: job.id, priority: normalisePriority(job.priority), job, shard });
    }
    return this.scheduler.pick(candidates);
  }

  /**
   * [L-1] Within a job: the lowest open shard that still needs a replica from this volunteer. The
   * job's queue holds every shard that may want a lease; entries that no longer do are dropped as
   * they surface, and shards this volunteer is involved in are skipped ([L-2]) and put back, so a
   * lease costs O(log shards), not a scan.
   */
  private pickShardOf(job: JobRecord, volunteer: PeerId): ShardState | null {
    const queue = this.queues.get(job.id);
    if (!queue) return null;
    let skipped: ShardState[] | null = null;
    let found: ShardState | null = null;
    for (let top = queue.peek(); top !== undefined; top = queue.peek()) {
      if (!wantsLease(top)) {
        queue.pop();
        continue;
      }
      if (!this.involved(top, volunteer)) {
        found = top;
        break;
      }
      skipped ??= [];
      if (skipped.length >= MAX_SKIPPED_SHARDS) break;
      skipped.push(queue.pop() as ShardState);
    }
    if (skipped) for (const s of skipped) queue.push(s);
    return found;
  }

  /** [L-1] Puts a shard (back) in its job's queue if it wants another lease. */
  private offer(shard: ShardState): void {
    if (!wantsLease(shard)) return;
    // [L-9] Even a shard still queued is news: a volunteer may have been told no-work because it
    // was involved in the shards that were open then ([L-2]).
    this.workAppeared = true;
    if (!shard.queued) this.queues.get(shard.jobId)?.push(shard);
  }

  private involved(shard: ShardState, volunteer: PeerId): boolean {
    if (hasReplicaOf(shard, volunteer)) return true;
    for (const id of shard.leases) if (this.leases.get(id)?.volunteer === volunteer) return true;
    return false;
  }

  /** [L-5] Model bytes go only to volunteers that hold a lease needing that model. */
  private onModelRequest(state: PeerState, msg: Msg<'model-request'>): void {
    const bytes = this.models.get(msg.hash);
    const needs = [...state.leases].some((id) => {
      const lease = this.leases.get(id);
      const shard = lease && this.shardById.get(lease.shardId);
      return shard !== undefined && this.jobs.get(shard.jobId)?.modelHash === msg.hash;
    });
    if (!bytes || !needs) {
      this.send(state.id, {
        v: PROTOCOL_VERSION,
        t: 'model-unavailable',
        hash: msg.hash,
        reason: bytes ? 'you hold no lease that needs this model' : 'this coordinator has no such model',
      });
      return;
    }
    for (let offset = msg.offset; offset < bytes.byteLength; offset += LIMITS.modelChunkBytes) {
      this.send(state.id, {
        v: PROTOCOL_VERSION,
        t: 'model-chunk',
        hash: msg.hash,
        offset,
        total: bytes.byteLength,
        bytes: bytes.slice(offset, Math.min(bytes.byteLength, offset + LIMITS.modelChunkBytes)),
      });
    }
  }

  private onResult(state: PeerState, msg: Msg<'result'>, now: number): void {
    this.touched.add(state.id); // [P-7] whatever happens to it, its counters or reputation may change
    const ack = (outcome: 'received' | 'duplicate' | 'unknown-lease' | 'rejected', reason = ''): void =>
      this.send(state.id, { v: PROTOCOL_VERSION, t: 'result-ack', leaseId: msg.leaseId, outcome, reason });

    const lease = this.leases.get(msg.leaseId);
    const retired = lease ? undefined : this.retired.get(msg.leaseId);
    const owner = lease?.volunteer ?? retired?.volunteer;
    const shardId = lease?.shardId ?? retired?.shardId;
    if (owner === undefined || shardId === undefined) return ack('unknown-lease', 'no such lease');
    // [R-1] Only the volunteer a lease was issued to may answer it.
    if (owner !== state.id) {
      this.log('warn', `${state.id} sent a result for a lease of ${owner}; dropped`);
      return ack('rejected', 'this lease is not yours');
    }
    const canary = lease?.canary ?? retired?.canary ?? false;
    const epoch = lease?.epoch ?? retired?.epoch ?? 0;
    const issuedAtMs = lease?.issuedAtMs ?? retired?.issuedAtMs ?? now;
    const previous = this.lastResultMs.get(state.id);
    this.lastResultMs.set(state.id, now);
    const startedMs = previous !== undefined && previous > issuedAtMs ? previous : issuedAtMs;
    this.measureSpeed(state.id, now - startedMs, (lease?.shard ?? this.shardById.get(shardId))?.count ?? 0);
    if (lease) this.endLease(lease.id, null, now);
    this.retired.delete(msg.leaseId);
    this.dirtyLeases.add(msg.leaseId);
    const shard = lease?.shard ?? this.shardById.get(shardId);
    const job = shard && this.jobs.get(shard.jobId);
    if (!shard || !job) return ack('unknown-lease', 'the job is gone');
    const shapeError = checkOutputShape(msg.outputs, shard.count);
    if (canary) return this.onCanaryResult(state, msg, shard, job, epoch, shapeError, ack, now);
    // [R-2] A result counts once: late copies after acceptance, or a second one from the same
    // volunteer, are recognised and ignored.
    const returned = hasReplicaOf(shard, state.id);
    if (shard.status !== 'open' || returned) {
      // [R-6] [X-1] ... but a late result is still judged against the accepted answer.
      if (shard.status === 'verified' && !shapeError && !returned) {
        this.judgeLateResult(state, msg, shard, job, now);
      }
      return ack('duplicate', shard.status === 'open' ? 'you already returned this shard' : `shard is already ${shard.status}`);
    }
    if (shapeError) {
      state.resultsRejected++;
      this.reputation.invalid(state.id); // [A-1] a broken result is an invalid one
      if (shard.lone && shard.replicas.length === 0 && shard.leases.size === 0) this.endLone(shard, this.policyOf(job));
      this.offer(shard); // [R-5] the slot is offered again
      this.log('warn', `result for ${shard.id} from ${state.id} rejected: ${shapeError}`);
      ack('rejected', shapeError);
      this.emit(STATUS_CHANGED);
      return;
    }
    state.resultsReturned++;
    this.totals.results++;
    shard.replicas.push({
      volunteer: state.id,
      backend: msg.backend,
      adapter: msg.backend === 'webgpu' ? adapterOf(state) : null,
      ortVersion: state.caps?.ortVersion ?? '',
      outputs: msg.outputs,
      receivedAtMs: now,
    });
    this.syncInFlight(shard);
    let mine = this.contributions.get(state.id);
    if (!mine) this.contributions.set(state.id, (mine = []));
    mine.push(shard);
    ack('received');
    // [A-7] Not a lone shard's: accepted alone, it is a new debt, not evidence.
    if (!shard.lone && this.reputation.owesCanary(state.id)) this.noteVouching(state.id, shard);
    this.evaluate(job, shard, now, true);
    // [S-1] Still open: its replicas so far go to storage with the next batch.
    if (shard.status === 'open') this.dirtyOpenShards.add(shard);
    this.emit(STATUS_CHANGED);
  }

  /**
   * [R-3] Decide a shard once enough replicas are in. `judge`: this decision is news about its
   * volunteers ([A-1]); a re-decision after a re-opening ([X-3]) is not.
   */
  private evaluate(job: JobRecord, shard: ShardState, now: number, judge: boolean): void {
    const policy = this.policyOf(job);
    const { maxReplicas, comparator, outputComparators } = policy;
    // [A-3] A lone shard stays lone only while its one result comes from a volunteer still trusted
    // on the backend it used; otherwise it is cross-checked like any other.
    if (shard.lone) {
      const only = shard.replicas[0];
      if (shard.replicas.length > 1 || (only !== undefined && !this.reputation.isTrusted(only.volunteer, only.backend))) {
        this.endLone(shard, policy);
      }
    }
    const quorum = shard.lone ? 1 : policy.quorum;
    if (shard.replicas.length < Math.min(quorum, shard.target)) return;
    const decision = decideQuorum(shard.replicas, comparator, quorum, maxReplicas, outputComparators);
    const counts = this.countsOf(job.id);
    if (decision.kind === 'accept') {
      // One pass over the agreeing replicas (this runs for every accepted shard).
      const k = decision.agreeing.length;
      const agreeing = new Array<Replica>(k);
      const volunteers = new Array<PeerId>(k);
      const backends = new Array<Replica['backend']>(k);
      const adapters = new Array<string | null>(k);
      const ortVersions = new Array<string>(k);
      for (let j = 0; j < k; j++) {
        const r = shard.replicas[decision.agreeing[j]!]!;
        agreeing[j] = r;
        volunteers[j] = r.volunteer;
        backends[j] = r.backend;
        adapters[j] = r.adapter;
        ortVersions[j] = r.ortVersion;
      }
      const rep = agreeing[0]!;
      shard.status = 'verified';
      shard.epoch++;
      shard.durable = false; // [S-2] until the host reports this epoch's write
      shard.accepted = { outputs: rep.outputs, volunteers, backends, adapters, ortVersions, acceptedAtMs: now };
      shard.disagreements += decision.dissenting.length;
      counts.verified++;
      counts.disagreements += decision.dissenting.length;
      this.syncInFlight(shard);
      if (judge) this.judgeDecision(shard, agreeing, decision.dissenting);
      for (const r of agreeing) {
        const p = this.peers.get(r.volunteer);
        if (p) p.shardsAccepted++;
        this.touched.add(r.volunteer);
      }
      for (const i of decision.dissenting) {
        const p = this.peers.get(shard.replicas[i]!.volunteer);
        if (p) p.resultsRejected++;
        this.touched.add(shard.replicas[i]!.volunteer);
      }
      this.backendPairs.recordDecision(backends, decision.dissenting.length === 0 ? NO_BACKENDS : decision.dissenting.map((i) => shard.replicas[i]!.backend));
      this.emit({ kind: 'store-shard', jobId: job.id, shard });
      if (counts.verified + counts.unverifiable === job.shardCount) this.log('info', `job ${job.id} "${job.name}" complete`);
    } else if (decision.kind === 'unverifiable') {
      shard.status = 'unverifiable';
      shard.epoch++;
      const outvoted = shard.replicas.length - decision.largestClass;
      shard.disagreements += outvoted;
      counts.unverifiable++;
      counts.disagreements += outvoted;
      this.syncInFlight(shard);
      // [A-5] Nobody can tell who lied, but someone did: everyone involved gets tested.
      for (const r of shard.replicas) this.reputation.suspect(r.volunteer);
      this.log('warn', `shard ${shard.id} is unverifiable: no ${quorum} of ${shard.replicas.length} results agree`);
      this.emit({ kind: 'store-shard', jobId: job.id, shard });
    } else {
      // [R-4] Disagreement asks for more replicas, up to maxReplicas.
      const wanted = Math.min(maxReplicas, shard.replicas.length + decision.more);
      if (decision.disagreement && wanted > shard.target) {
        this.log('info', `shard ${shard.id}: results disagree, asking for replica ${wanted}`);
      }
      shard.target = Math.max(shard.target, wanted);
      this.offer(shard);
    }
  }

  /**
   * [P-5] [L-7] A volunteer paused or resumed. Leases it holds stay until it hands them back
   * (`lease-abandon`) or delivers: a result that crossed the pause still counts.
   */
  private onVolunteerState(state: PeerState, msg: Msg<'volunteer-state'>): void {
    if (state.role !== 'volunteer') return;
    if (state.paused !== msg.paused) this.log('info', `volunteer ${state.id} ${msg.paused ? `paused (${msg.reason || 'no reason given'})` : 'resumed'}`);
    state.paused = msg.paused;
    state.pauseReason = msg.paused ? msg.reason : '';
    this.touchedNow.add(state.id);
    this.emit(STATUS_CHANGED);
  }

  /** [P-6] New capabilities (e.g. WebGPU lost, now WASM): later replicas record them. */
  private onCaps(state: PeerState, msg: Msg<'caps'>): void {
    if (state.role !== 'volunteer') return;
    const before = state.caps?.backend;
    state.caps = msg.caps;
    if (before !== msg.caps.backend) this.log('info', `volunteer ${state.id} now runs on ${msg.caps.backend}: ${msg.caps.backendReason}`);
    this.touchedNow.add(state.id);
    this.emit(STATUS_CHANGED);
  }

  /** [P-7] Tells each volunteer whose standing changed what the coordinator now knows of it. */
  private reportVolunteers(ids: Set<PeerId>): void {
    for (const id of ids) {
      const p = this.peers.get(id);
      if (!p || p.role !== 'volunteer') continue;
      const backend = p.caps?.backend ?? null;
      const rec = this.reputation.get(id);
      this.send(id, {
        v: PROTOCOL_VERSION,
        t: 'volunteer-status',
        shardsAccepted: p.shardsAccepted,
        resultsReturned: p.resultsReturned,
        resultsRejected: p.resultsRejected,
        paused: p.paused,
        trusted: backend !== null && this.reputation.isTrusted(id, backend),
        streak: backend !== null && rec ? rec.streak[backend] : 0,
        trustLevel: this.reputation.trustLevel(id, backend),
        quarantined: this.reputation.isQuarantined(id),
      });
      this.touched.delete(id);
      this.dirtyPeers.add(id); // [S-1] its standing changed: stored with the next batch
    }
    ids.clear();
  }

  private onLeaseAbandon(state: PeerState, msg: Msg<'lease-abandon'>, now: number): void {
    const lease = this.leases.get(msg.leaseId);
    if (!lease || lease.volunteer !== state.id) return;
    this.endLease(lease.id, `abandoned: ${msg.reason}`, now);
    this.retired.delete(lease.id); // an abandoned lease will not deliver late
    this.dirtyLeases.add(lease.id);
  }

  /** [J-1] Checks that need no hashing happen here, before the host does any work. */
  private onSubmitJob(state: PeerState, msg: Msg<'submit-job'>): void {
    const reject = (reason: string): void => {
      this.log('warn', `job "${msg.spec.name}" from ${state.id} refused: ${reason}`);
      this.send(state.id, { v: PROTOCOL_VERSION, t: 'job-rejected', ref: msg.ref, reason });
    };
    if (state.role !== 'requester') return reject('only requesters may submit jobs');
    if (this.storageProblem !== null) return reject(STORAGE_REJECT_REASON); // [S-3]
    if (this.config.requesterKey !== '' && msg.spec.requesterKey !== this.config.requesterKey) {
      return reject('wrong requester key: copy the key shown on the coordinator page');
    }
    const items = batchSizeOf(msg.spec.inputs);
    if (typeof items === 'string') return reject(items);
    if (items > LIMITS.maxItemsPerJob) return reject(`${items} items is more than the limit of ${LIMITS.maxItemsPerJob}`);
    const inputBytes = msg.spec.inputs.reduce((n, t) => n + t.data.byteLength, 0);
    if (inputBytes > LIMITS.maxJobInputBytes) return reject(`inputs of ${inputBytes} bytes exceed ${LIMITS.maxJobInputBytes}`);
    if (msg.spec.model.byteLength === 0) return reject('the model file is empty');
    this.emit({ kind: 'hash-model', peer: state.id, ref: msg.ref, spec: msg.spec });
  }

  private onResultsRequest(state: PeerState, msg: Msg<'results-request'>): void {
    if (!this.jobs.has(msg.jobId)) {
      this.log('warn', `${state.id} asked for results of unknown job ${msg.jobId}`);
      return;
    }
    this.send(state.id, { v: PROTOCOL_VERSION, t: 'job-results', jobId: msg.jobId, shards: this.verifiedShards(msg.jobId) });
  }

  // -------------------------------------------------------------------------------------------
  // Verification: adaptive replication, canaries, quarantine ([A-n], [C-n], [X-n] in SPEC.md)
  // -------------------------------------------------------------------------------------------

  /**
   * [A-3] [A-4] A fresh shard leased to a volunteer trusted on its backend, in a job that allows
   * adaptive replication, is computed by that volunteer alone, unless drawn for a spot-check.
   * Never while fewer than 3 volunteers (not quarantined) are connected: with two, every new
   * canary source would include the one asking, so its lone results could never be audited
   * ([A-6]) and its debt would stay owed for good. Connected, not known ([C-4]): one that left
   * computes no new shard a canary could come from.
   */
  private decideLone(state: PeerState, job: JobRecord, shard: ShardState): void {
    const policy = this.policyOf(job);
    if (!policy.adaptive || shard.replicas.length > 0 || shard.leases.size > 0 || shard.lone) return;
    const backend = state.caps?.backend;
    if (backend === undefined || !this.reputation.isTrusted(state.id, backend)) return;
    if (this.connectedVolunteers(MIN_LONE_NETWORK) < MIN_LONE_NETWORK) return;
    if (this.reputation.spotCheck(state.id, policy.spotCheckRate, this.rng)) {
      shard.spotChecked = true;
      this.totals.spotChecks++;
      return;
    }
    shard.lone = true;
    shard.target = 1;
  }

  /** [A-3] Back to the policy's replication: the shard is cross-checked like any other. */
  private endLone(shard: ShardState, policy: ResolvedPolicy): void {
    shard.lone = false;
    shard.target = Math.max(shard.target, policy.replication);
    this.offer(shard);
  }

  /**
   * [C-1] Whether this lease is a canary, and which: with the volunteer's canary rate, an
   * established shard of the job it would work on that it never computed, holds or was tested
   * on. With no other work, a suspect ([A-5]) or a volunteer whose lone results are not yet
   * backed by a canary ([A-6]) gets one from any job.
   */
  private drawCanary(state: PeerState, job: JobRecord | null): ShardState | null {
    if (job) {
      const rate = this.reputation.canaryRate(state.id, this.policyOf(job).canaryRate);
      if (rate <= 0 || this.rng.next() >= rate) return null;
    } else if (!this.reputation.owesCanary(state.id)) {
      return null;
    }
    const excluded = (shard: ShardState): boolean =>
      this.canaried.get(state.id)?.has(shard.id) === true || this.involvedAny(shard, state.id);
    if (job) return this.canaries.pick(job.id, excluded, this.rng);
    const jobs = this.canaries.jobs();
    for (let i = jobs.length - 1; i >= 0; i--) {
      const shard = this.canaries.pick(jobs[i] as JobId, excluded, this.rng);
      if (shard) return shard;
    }
    return null;
  }

  /**
   * [C-4] Distinct volunteers the network knows and has not quarantined — every one with a
   * reputation record (whether or not still connected: a coalition member that left still vouched
   * for its partners) and every connected one without a record yet — counted up to `cap`.
   */
  private knownVolunteers(cap: number): number {
    let n = this.reputation.activeCount(cap);
    if (n >= cap) return n;
    for (const p of this.peers.values()) {
      if (p.role === 'volunteer' && this.reputation.get(p.id) === undefined && ++n >= cap) break;
    }
    return n;
  }

  /** [A-3] Connected volunteers not quarantined, counted up to `cap`. */
  private connectedVolunteers(cap: number): number {
    let n = 0;
    for (const p of this.peers.values()) if (p.role === 'volunteer' && !this.reputation.isQuarantined(p.id) && ++n >= cap) break;
    return n;
  }

  /** [L-2] [C-1] Computed it, or holds any lease on it (a canary lease included). */
  private involvedAny(shard: ShardState, volunteer: PeerId): boolean {
    if (this.involved(shard, volunteer)) return true;
    const state = this.peers.get(volunteer);
    if (state) for (const id of state.leases) if (this.leases.get(id)?.shardId === shard.id) return true;
    return false;
  }

  /**
   * [C-3] A canary's answer is compared with the shard's established answer and changes nothing
   * about the shard. Passing is a valid result; failing quarantines ([X-1]). The ack is the same
   * as for any result, so the volunteer learns nothing.
   */
  private onCanaryResult(
    state: PeerState,
    msg: Msg<'result'>,
    shard: ShardState,
    job: JobRecord,
    epoch: number,
    shapeError: string | null,
    ack: (outcome: 'received' | 'rejected', reason?: string) => void,
    now: number,
  ): void {
    if (shapeError) {
      state.resultsRejected++;
      this.reputation.invalid(state.id);
      ack('rejected', shapeError);
      this.emit(STATUS_CHANGED);
      return;
    }
    state.resultsReturned++;
    this.totals.results++;
    this.totals.canaryResults++;
    ack('received');
    // A shard re-opened since the lease has no known answer any more: the result tests nothing.
    if (shard.status === 'verified' && shard.epoch === epoch && shard.accepted) {
      const policy = this.policyOf(job);
      const verdict = compareOutputs(shard.accepted.outputs, msg.outputs, policy.comparator, policy.outputComparators);
      if (verdict.agree) this.reputation.canaryPassed(state.id, msg.backend, shard.accepted.volunteers);
      else this.caught(state.id, shard, `failed a canary (${shard.id}): ${verdict.reason}`, now);
    }
    this.emit(STATUS_CHANGED);
  }

  /**
   * [R-6] A late result on a verified shard changes nothing about the shard, but says something
   * about its volunteer: agreeing with the accepted answer is a valid result; contradicting it is
   * an invalid one ([A-1]), and a lie for certain if the answer is established ([X-1]).
   */
  private judgeLateResult(state: PeerState, msg: Msg<'result'>, shard: ShardState, job: JobRecord, now: number): void {
    if (!shard.accepted) return;
    const policy = this.policyOf(job);
    const verdict = compareOutputs(shard.accepted.outputs, msg.outputs, policy.comparator, policy.outputComparators);
    if (verdict.agree) this.reputation.valid(state.id, msg.backend, shard.accepted.volunteers);
    else if (this.canaries.isEstablished(shard)) this.caught(state.id, shard, `contradicted the established answer of ${shard.id}: ${verdict.reason}`, now);
    else this.reputation.invalid(state.id);
  }

  /**
   * [X-1] [C-3] A volunteer contradicted an established answer: a strike against it, and the
   * source is burnt. The volunteers the answer rested on become suspects: one side lied, and a
   * canary of their own will tell which. Enough strikes quarantine.
   */
  private caught(peer: PeerId, shard: ShardState, reason: string, now: number): void {
    for (const v of this.canaries.burn(shard)) if (v !== peer) this.reputation.suspect(v);
    if (this.reputation.strike(peer)) this.quarantine(peer, reason, now);
    else this.log('warn', `volunteer ${peer} struck: ${reason}`);
  }

  /**
   * [A-1] An acceptance by ≥ 2 agreeing volunteers is a valid result for each (and may later
   * make a canary, [C-1]); outvoted results are invalid. A lone acceptance proves nothing.
   */
  private judgeDecision(shard: ShardState, agreeing: readonly Replica[], dissenting: readonly number[]): void {
    if (agreeing.length >= 2) {
      // The accepted answer's own list (never mutated): one array less per acceptance.
      const volunteers = shard.accepted?.volunteers ?? agreeing.map((r) => r.volunteer);
      for (const r of agreeing) this.reputation.valid(r.volunteer, r.backend, volunteers);
      this.canaries.add(shard, volunteers, this.rng);
    } else {
      for (const r of agreeing) this.reputation.lone(r.volunteer);
      this.totals.loneAccepted++;
    }
    for (const i of dissenting) {
      const v = (shard.replicas[i] as Replica).volunteer;
      this.reputation.invalid(v);
      // [X-4] Outvoted by ≥ 2 agreeing volunteers: evidence against it once their answer is established.
      if (agreeing.length < 2) continue;
      let list = this.outvoted.get(v);
      if (!list) this.outvoted.set(v, (list = []));
      if (list.length >= MAX_OUTVOTED) list.shift();
      list.push({ shard, epoch: shard.epoch });
    }
  }

  /**
   * [X-4] An outvoted result contradicted the accepted answer as surely as a late one ([R-6]):
   * once that answer is established ([C-1], [C-4]), the outvote is a strike. Nobody else is
   * suspected: the answer was already the quorum's and has since been vouched for, and the source
   * stays usable. Outvotes whose acceptance was undone or can no longer establish are dropped.
   */
  private judgeOutvotes(peer: PeerId, now: number): void {
    const list = this.outvoted.get(peer);
    if (!list) return;
    const need = this.canaries.need();
    for (let i = 0; i < list.length; ) {
      const { shard, epoch } = list[i] as { shard: ShardState; epoch: number };
      const state = this.canaries.stateOf(shard, epoch, need);
      if (state === 'pending') {
        i++;
        continue;
      }
      list.splice(i, 1);
      if (state !== 'established') continue;
      const reason = `was outvoted on ${shard.id}, whose answer is now established`;
      if (this.reputation.strike(peer, true)) {
        this.outvoted.delete(peer);
        this.quarantine(peer, reason, now);
        return;
      }
      this.log('warn', `volunteer ${peer} struck: ${reason}`);
    }
    if (list.length === 0) this.outvoted.delete(peer);
  }

  /**
   * [A-7] Remembers a result returned while owing a canary, with the `owed` count before its shard
   * is decided: an outvote it leads to counts as a new owed event, which makes it stale.
   */
  private noteVouching(peer: PeerId, shard: ShardState): void {
    let list = this.vouching.get(peer);
    if (!list) this.vouching.set(peer, (list = []));
    if (list.length >= MAX_VOUCHING) list.shift();
    list.push({ shard, owed: this.reputation.owedCount(peer) });
  }

  /**
   * [A-7] A volunteer owing a canary is cleared, as by passing one, when a result it returned
   * since it last came to owe one was accepted by ≥ 2 agreeing volunteers, itself among them, and
   * that answer is now established ([C-1], [C-4]). It computed that result blind, as it would a
   * canary, and establishment is the bar a canary's answer meets: every member, this one
   * included, has since agreed with enough partners, with no invalid result, and none is
   * quarantined. So a coalition clears its members no more than it can make canaries of its
   * lies. Needed where canaries cannot be served: in a network of two or three volunteers every
   * established shard includes the one asking, and a fast volunteer in a slightly larger one
   * computed nearly all of them. Results from before its latest suspicion, invalid result or lone
   * acceptance are stale and dropped, as are those outvoted or in an acceptance that died.
   */
  private judgeVouching(peer: PeerId): void {
    const list = this.vouching.get(peer);
    if (!list) return;
    if (!this.reputation.owesCanary(peer)) {
      this.vouching.delete(peer);
      return;
    }
    const owed = this.reputation.owedCount(peer);
    const need = this.canaries.need();
    for (let i = 0; i < list.length; ) {
      const { shard, owed: at } = list[i] as { shard: ShardState; owed: number };
      if (at === owed && shard.status === 'open') {
        i++; // not decided yet (or re-opened, [X-3]): it may still be accepted with this result
        continue;
      }
      const state = at === owed && shard.status === 'verified' && shard.accepted !== null && shard.accepted.volunteers.includes(peer) ? this.canaries.stateOf(shard, shard.epoch, need) : 'dead';
      if (state === 'pending') {
        i++;
        continue;
      }
      if (state === 'established' && this.reputation.vouched(peer, owed)) {
        this.vouching.delete(peer);
        this.log('info', `volunteer ${peer} cleared: its result on ${shard.id} agrees with an established answer`);
        return;
      }
      list.splice(i, 1);
    }
    if (list.length === 0) this.vouching.delete(peer);
  }

  /**
   * [X-1] [X-2] [X-3] Quarantine a volunteer caught lying: no more work, its leases ended, and
   * every shard it holds a replica in loses that replica. Each accepted shard it was part of and
   * each unverifiable one is re-opened and decided again from the remaining replicas (asking for
   * more where they fall short), so no result that rests on its word stays accepted. Its partners
   * in those acceptances become suspects ([A-5]).
   */
  private quarantine(peer: PeerId, reason: string, now: number): void {
    if (!this.reputation.quarantine(peer, reason)) return;
    this.totals.quarantined++;
    this.touchedNow.add(peer);
    this.log('warn', `volunteer ${peer} quarantined: ${reason}`);
    const state = this.peers.get(peer);
    if (state) {
      for (const leaseId of [...state.leases]) {
        this.endLease(leaseId, 'volunteer quarantined', now);
        this.retired.delete(leaseId); // its late results are not wanted
        this.dirtyLeases.add(leaseId);
      }
    }
    const shards = this.contributions.get(peer) ?? [];
    this.contributions.delete(peer);
    let reopened = 0;
    for (const shard of shards) {
      const at = shard.replicas.findIndex((r) => r.volunteer === peer);
      if (at < 0) continue;
      const accepted = shard.status === 'verified' && shard.accepted !== null && shard.accepted.volunteers.includes(peer);
      if (accepted) for (const v of shard.accepted!.volunteers) if (v !== peer) this.reputation.suspect(v);
      shard.replicas.splice(at, 1);
      if (accepted || shard.status === 'unverifiable') {
        this.reopen(shard, now);
        reopened++;
      } else {
        this.syncInFlight(shard);
        this.offer(shard);
      }
    }
    if (reopened > 0) this.log('warn', `${reopened} shard(s) ${peer} took part in re-opened for verification`);
    this.emit(STATUS_CHANGED);
  }

  /** [X-3] Decide a shard again without a quarantined volunteer's replica. */
  private reopen(shard: ShardState, now: number): void {
    const job = this.jobs.get(shard.jobId);
    if (!job) return;
    const policy = this.policyOf(job);
    const counts = this.countsOf(job.id);
    if (shard.status === 'verified') counts.verified--;
    else if (shard.status === 'unverifiable') counts.unverifiable--;
    if (shard.durable) counts.durable--;
    shard.durable = false;
    shard.status = 'open';
    shard.accepted = null;
    shard.epoch++;
    shard.lone = false;
    shard.target = Math.max(policy.replication, shard.replicas.length);
    this.totals.reopened++;
    this.syncInFlight(shard);
    this.evaluate(job, shard, now, false);
    // evaluate reports a new decision itself; an open shard is re-persisted as open here.
    if (shard.status === 'open') {
      this.emit({ kind: 'store-shard', jobId: job.id, shard });
      this.offer(shard);
    }
  }

  // -------------------------------------------------------------------------------------------
  // Helpers
  // -------------------------------------------------------------------------------------------

  private addJob(job: JobRecord): void {
    this.jobs.set(job.id, job);
    const policy = resolvePolicy(job.policy);
    this.policies.set(job.id, policy);
    this.counts.set(job.id, { verified: 0, unverifiable: 0, inFlight: 0, disagreements: 0, durable: 0 });
    const queue = new ShardQueue<ShardState>();
    this.queues.set(job.id, queue);
    const list: ShardState[] = [];
    for (let index = 0; index < job.shardCount; index++) {
      const start = index * job.shardSize;
      const shard: ShardState = {
        id: shardIdOf(job.id, index),
        jobId: job.id,
        index,
        start,
        count: Math.min(job.shardSize, job.items - start),
        status: 'open',
        target: policy.replication,
        replicas: [],
        leases: new Set(),
        accepted: null,
        disagreements: 0,
        lone: false,
        spotChecked: false,
        epoch: 0,
        queueKey: index,
        queued: false,
        inFlight: false,
        durable: false,
      };
      list.push(shard);
      this.shardById.set(shard.id, shard);
      queue.push(shard); // in index order, so each push is O(1)
    }
    this.shards.set(job.id, list);
    this.workAppeared = true; // [L-9] admitted or restored
  }

  private policyOf(job: JobRecord): ResolvedPolicy {
    return this.policies.get(job.id) as ResolvedPolicy;
  }

  private countsOf(jobId: JobId): JobCounts {
    return this.counts.get(jobId) as JobCounts;
  }

  /** [J-3] Keeps the job's in-flight count equal to its open shards with a lease or a replica. */
  private syncInFlight(shard: ShardState): void {
    const inFlight = shard.status === 'open' && (shard.leases.size > 0 || shard.replicas.length > 0);
    if (inFlight === shard.inFlight) return;
    shard.inFlight = inFlight;
    this.countsOf(shard.jobId).inFlight += inFlight ? 1 : -1;
  }

  /** Ends a lease. With a reason (expiry, disconnect), it is remembered for a late result. */
  private endLease(leaseId: LeaseId, reason: string | null, _now: number): void {
    const lease = this.leases.get(leaseId);
    if (!lease) return;
    this.leases.delete(leaseId);
    const shard = lease.shard;
    if (!lease.canary) {
      shard.leases.delete(leaseId);
      this.syncInFlight(shard);
      // [A-3] A lone shard whose volunteer did not deliver goes back to the policy's replication.
      if (shard.lone && shard.replicas.length === 0 && shard.leases.size === 0 && reason !== null) {
        const job = this.jobs.get(shard.jobId);
        if (job) this.endLone(shard, this.policyOf(job));
      }
      if (reason !== null) this.offer(shard);
    }
    this.peers.get(lease.volunteer)?.leases.delete(leaseId);
    if (this.orphanLeases.size > 0) {
      const orphans = this.orphanLeases.get(lease.volunteer);
      if (orphans?.delete(leaseId) && orphans.size === 0) this.orphanLeases.delete(lease.volunteer);
    }
    this.dirtyLeases.add(leaseId);
    if (reason !== null) {
      // [L-3] The shard is offered again; a late result from this lease may still count.
      this.retire(leaseId, {
        shardId: lease.shardId,
        volunteer: lease.volunteer,
        issuedAtMs: lease.issuedAtMs,
        deadlineMs: lease.deadlineMs,
        canary: lease.canary,
        epoch: lease.epoch,
      });
      this.log('info', `lease ${leaseId} of ${lease.shardId} released: ${reason}`);
      this.emit({ kind: 'status-changed' });
    }
  }

  /** [L-3] Remembers an ended lease (up to MAX_RETIRED_LEASES, oldest forgotten first). */
  private retire(leaseId: LeaseId, retired: RetiredLease): void {
    this.retired.set(leaseId, retired);
    if (this.retired.size > MAX_RETIRED_LEASES) {
      const oldest = this.retired.keys().next().value;
      if (oldest !== undefined) {
        this.retired.delete(oldest);
        this.dirtyLeases.add(oldest);
      }
    }
  }

  /**
   * [L-8] A volunteer's lease deadline: scaled to its measured time per item when there is one,
   * clamped to [floor, leaseTimeoutMs]; a volunteer not yet measured gets `leaseTimeoutMs`.
   */
  private leaseDeadlineMs(volunteer: PeerId, items: number): number {
    const cap = this.config.leaseTimeoutMs;
    const tuning = this.config.leaseDeadline;
    const perItem = this.msPerItem.get(volunteer);
    if (!tuning || perItem === undefined) return cap;
    const scaled = tuning.factor * perItem * items + tuning.slackMs;
    return Math.round(Math.min(cap, Math.max(Math.min(tuning.floorMs, cap), scaled)));
  }

  /** [L-8] Folds one lease's time (from its issue, or the volunteer's previous result if later) into its smoothed time per item. */
  private measureSpeed(volunteer: PeerId, elapsedMs: number, items: number): void {
    const tuning = this.config.leaseDeadline;
    if (!tuning || items <= 0 || !(elapsedMs >= 0)) return;
    const sample = elapsedMs / items;
    const before = this.msPerItem.get(volunteer);
    this.msPerItem.set(volunteer, before === undefined ? sample : before + tuning.alpha * (sample - before));
  }

  /** [S-1] One `persist` effect with every lease, volunteer id and open shard changed since the last. */
  private persistDirty(withPeers = true): void {
    const peerIds = withPeers ? this.reputation.takeDirty() : [];
    if (withPeers) {
      for (const id of this.dirtyPeers) peerIds.push(id);
      this.dirtyPeers.clear();
    }
    if (this.dirtyLeases.size === 0 && peerIds.length === 0 && this.dirtyOpenShards.size === 0) return;
    const leases: LeaseRecord[] = [];
    const forgetLeases: LeaseId[] = [];
    for (const id of this.dirtyLeases) {
      const live = this.leases.get(id);
      const retired = live ? undefined : this.retired.get(id);
      const shard = live?.shard ?? (retired && this.shardById.get(retired.shardId));
      const r = live ?? retired;
      if (!r || !shard) {
        forgetLeases.push(id);
        continue;
      }
      leases.push({
        id,
        jobId: shard.jobId,
        shardIndex: shard.index,
        volunteer: r.volunteer,
        issuedAtMs: r.issuedAtMs,
        deadlineMs: r.deadlineMs,
        canary: r.canary,
        epoch: r.epoch,
        retired: !live,
      });
    }
    this.dirtyLeases.clear();
    const peers: PeerRecord[] = [];
    for (const id of new Set(peerIds)) {
      const token = this.tokens.get(id);
      if (token === undefined) continue; // only volunteers that were welcomed have an id to keep
      const p = this.peers.get(id);
      const standing = p && p.role === 'volunteer' ? standingOf(p) : (this.standing.get(id) ?? { shardsAccepted: 0, resultsReturned: 0, resultsRejected: 0 });
      peers.push({ peerId: id, token, reputation: this.reputation.snapshot(id) ?? null, standing });
    }
    const openShards = [...this.dirtyOpenShards].filter((s) => s.status === 'open');
    this.dirtyOpenShards.clear();
    this.emit({ kind: 'persist', leases, forgetLeases, peers, openShards });
  }

  /**
   * [L-9] Once per event that made work appear: every volunteer waiting after `no-work` that
   * could be leased now hears `work-available`, and is forgotten until its next `no-work` — so a
   * burst of re-offered shards costs each volunteer one frame. A paused, quarantined or full one
   * is dropped unnudged: it asks by itself when it resumes or a lease ends. While storage fails
   * nobody is leased anything, so they wait for `storageRecovered`.
   */
  private nudgeWaiting(): void {
    if (this.storageProblem !== null) return;
    this.workAppeared = false;
    if (this.waitingForWork.size === 0) return;
    for (const id of this.waitingForWork) {
      const p = this.peers.get(id);
      if (!p || p.role !== 'volunteer' || p.paused || p.leases.size >= this.config.maxLeasesPerVolunteer) continue;
      if (this.reputation.isQuarantined(id)) continue;
      this.send(id, { v: PROTOCOL_VERSION, t: 'work-available' });
    }
    this.waitingForWork.clear();
  }

  /** `code`: [I-1] machine-readable, so a volunteer can act on it without parsing `reason`. */
  private refuse(peer: PeerId, reason: string, code?: string): void {
    this.send(peer, { v: PROTOCOL_VERSION, t: 'refused', reason, expectedVersion: PROTOCOL_VERSION, ...(code !== undefined ? { code } : {}) });
    this.emit({ kind: 'close', peer, reason });
    this.log('warn', `refused ${peer}: ${reason}`);
  }

  private send(to: PeerId, msg: Out): void {
    this.emit({ kind: 'send', to, msg });
  }

  private log(level: 'info' | 'warn', text: string): void {
    this.emit({ kind: 'log', level, text });
  }

  private emit(e: CoordinatorEffect): void {
    this.effects.push(e);
  }

  private flush(): CoordinatorEffect[] {
    if (this.touchedNow.size > 0) this.reportVolunteers(this.touchedNow);
    if (this.workAppeared) this.nudgeWaiting();
    const out = this.effects;
    this.effects = [];
    return out;
  }
}

function standingOf(p: PeerState): Standing {
  return { shardsAccepted: p.shardsAccepted, resultsReturned: p.resultsReturned, resultsRejected: p.resultsRejected };
}

/** [R-5] Every output must have one row per item of the shard. */
function checkOutputShape(outputs: readonly WireTensor[], items: number): string | null {
  if (outputs.length === 0) return 'no outputs';
  for (const t of outputs) {
    if (t.dims[0] !== items) return `output "${t.name}" has ${t.dims[0] ?? 'no'} rows, the shard has ${items} items`;
  }
  return null;
}

const NO_BACKENDS: readonly Replica['backend'][] = [];

/** [R-2] Whether `volunteer` has a replica of the shard (a loop: this runs for every result). */
function hasReplicaOf(shard: ShardState, volunteer: PeerId): boolean {
  const replicas = shard.replicas;
  for (let i = 0; i < replicas.length; i++) if ((replicas[i] as Replica).volunteer === volunteer) return true;
  return false;
}

/** [L-1] Open, with fewer replicas and leases than it needs now. */
function wantsLease(shard: ShardState): boolean {
  return shard.status === 'open' && shard.replicas.length + shard.leases.size < shard.target;
}

const adapterNames = new WeakMap<object, string | null>();

/** How provenance names a volunteer's adapter: "vendor architecture", null on WASM (cached per hello). */
function adapterOf(state: PeerState): string | null {
  const caps = state.caps;
  if (!caps) return null;
  let name = adapterNames.get(caps);
  if (name === undefined) {
    const a = caps.adapter;
    name = a && caps.backend === 'webgpu' ? `${a.vendor} ${a.architecture}`.trim() || a.description || 'unnamed adapter' : null;
    adapterNames.set(caps, name);
  }
  return name;
}

/** How a volunteer's WebGPU adapter is named in summaries and telemetry; null on WASM. */
function adapterLabel(caps: PeerState['caps']): string | null {
  return caps?.adapter ? `${caps.adapter.vendor} ${caps.adapter.architecture}`.trim() : null;
}
