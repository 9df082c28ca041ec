/**
 * The coordinator's brain: leases shards to volunteers, verifies their results by quorum, and
 * re-leases work that expires, disagrees, or whose volunteer leaves. Pure and deterministic:
 * time (`now`) and randomness (`rng`) come in as parameters, I/O goes out as effects.
 *
 * State is mutated in place rather than copied per event: the core must process tens of
 * thousands of results per second, and the host never shares these objects with the views
 * (views get snapshots from the query methods).
 *
 * This class takes the events in and answers them; each other concern lives beside it, owning
 * its own state: jobs and shards (jobBook.ts), leases (leaseBook.ts), lease deadlines
 * (leaseDeadlines.ts), shard decisions (shardDecider.ts), canaries and the evidence about each
 * volunteer (judgement.ts), reports and nudges owed to volunteers (volunteerNotices.ts), what is
 * still to be stored (persistTracker.ts) and what a reload puts back (restore.ts). Snapshots for
 * views are built in readModels.ts, submissions checked in jobAdmission.ts.
 *
 * Rule ids ([L-n] leasing, [R-n] results, [J-n] jobs, [P-n] peers) refer to core/SPEC.md.
 */
import type { JobId, LeaseId, ModelHash, PeerId, ShardId } from '../../protocol/ids.ts';
import { jobOfShard, resultAdapter } from '../../protocol/volunteerProof.ts';
import { LIMITS } from '../../protocol/limits.ts';
import type { FromCoordinator, JobSpec, JobStatus, PeerSummary, ToCoordinator, VerifiedShard } from '../../protocol/messages.ts';
import { PROTOCOL_VERSION, REFUSED_ID_TAKEN, type Role } from '../../protocol/messages.ts';
import type { ProtocolError } from '../../protocol/parse.ts';
import { BadFrameTally } from '../../protocol/badFrameTally.ts';
import { PEER_BUDGETS, type PeerBudgets } from '../../protocol/peerBudgets.ts';
import type { Rng } from '../rng.ts';
import { secretsEqual, testOnlySecrets, type NewSecret } from '../secrets.ts';
import type { PeerSample } from '../telemetry/aggregator.ts';
import type { BackendPairCount } from '../../protocol/telemetry.ts';
import { DEFAULT_TRUST, ReputationBook } from '../reputation/reputation.ts';
import type { CoordinatorEffect } from './effects.ts';
import { JobBook } from './jobBook.ts';
import { jobRecordOf, pipelineModelProblem, submissionProblem } from './jobAdmission.ts';
import { Judgement } from './judgement.ts';
import { LeaseBook } from './leaseBook.ts';
import { LeaseDeadlines } from './leaseDeadlines.ts';
import { adapterOf, connectedVolunteers, knownVolunteers, standingOf } from './peerFacts.ts';
import { PersistTracker } from './persistTracker.ts';
import { jobStatusOf, peerSamplesOf, peerSummariesOf, peersWithRole, pendingAuditsOf, verifiedShardsOf } from './readModels.ts';
import { restoreLeaseInto, restoreShardInto, type RestoreTarget } from './restore.ts';
import { ShardDecider } from './shardDecider.ts';
import { checkResultShape, hasReplicaOf } from './shardChecks.ts';
import { itemCountOf, shardItems } from './shardInputs.ts';
import {
  connectingPeer,
  type AcceptedResult,
  type CoordinatorConfig,
  type JobRecord,
  type LeaseRecord,
  type LeaseState,
  type OutputPort,
  type PeerRecord,
  type PeerState,
  type Replica,
  type ShardState,
  type SignatureCheck,
  type Standing,
  type VerificationTotals,
} from './state.ts';
import { VolunteerNotices } from './volunteerNotices.ts';
import { truncate } from '../format.ts';

type Msg<T extends ToCoordinator['t']> = Extract<ToCoordinator, { t: T }>;

/** [I-2] How an id that belongs to a key is kept where [I-1] kept its token: `key:<fingerprint>`. */
export const KEY_CREDENTIAL = 'key:';

const STATUS_CHANGED: CoordinatorEffect = { kind: 'status-changed' };

/** [S-3] Why a submission is refused while storage fails (README, errors table). */
export const STORAGE_REJECT_REASON = 'the coordinator cannot store new jobs right now (its storage failed): try again later';

export class CoordinatorCore {
  private readonly peers = new Map<PeerId, PeerState>();
  /** Every job with its shards, counts, policy and lease queue, and the models jobs share. */
  private readonly jobs = new JobBook();
  /** Leases out now, ended ones a late result may still answer, and restored ones not yet claimed. */
  private readonly leases: LeaseBook;
  /** [A-1] What each volunteer's results earned it; outlives its connections. */
  readonly reputation: ReputationBook;
  /** [C-1] [A-7] [X-3] [X-4] The canaries volunteers are served, and the evidence their results leave. */
  private readonly judgement: Judgement;
  /** [L-8] Each volunteer's measured speed, and the lease deadlines it gives. */
  private readonly deadlines: LeaseDeadlines;
  /** [S-1] What changed since the last `persist` effect (flushed on `tick`). */
  private readonly persistence: PersistTracker;
  /** [P-7] [L-9] Standing reports and work nudges owed to volunteers. */
  private readonly notices: VolunteerNotices;
  /** [R-3] [A-3] [X-3] Decides shards from their replicas. */
  private readonly decider: ShardDecider;
  /** [S-1] The books a reload restores into. */
  private readonly restoreTarget: RestoreTarget;
  private readonly totals: VerificationTotals = {
    results: 0,
    canaryLeases: 0,
    canaryResults: 0,
    spotChecks: 0,
    loneAccepted: 0,
    reopened: 0,
    quarantined: 0,
  };
  private effects: CoordinatorEffect[] = [];
  /** [I-1] The resume token of every volunteer id this coordinator has welcomed (or restored). */
  private readonly tokens = new Map<PeerId, string>();
  /** [I-1] Standing counters of volunteers not connected now, for when they come back. */
  private readonly standing = new Map<PeerId, Standing>();
  /** [L-5] Leases whose model has been sent: a model goes out at most once per lease. */
  private readonly modelSent = new Set<LeaseId>();
  /** [S-3] Why storage fails, or null while it works. */
  private storageProblem: string | null = null;
  /** [B-6] [B-7] [B-8] What one peer may cost. */
  private readonly budgets: PeerBudgets;
  /**
   * [J-1] [J-11] [J-12] The network's requester key now: it starts as the configured one and
   * changes when the coordinator page rotates it. Empty: the network takes jobs from anyone.
   */
  private currentRequesterKey: string;
  /** [B-7] [B-8] Each connected peer's malformed frames, counted and logged in aggregate. */
  private readonly badFrames = new Map<PeerId, BadFrameTally>();
  /**
   * [B-6] [B-7] Peers refused (over a budget, or for a frame [P-1] [M-2] [I-1] refuse) whose
   * connection the host is closing: whatever they send until it is closed is ignored without a
   * log line, so a flood costs nothing more.
   */
  private readonly closing = new Set<PeerId>();
  /** [L-2] `involved` and `involvedAny`, bound once: asked about every shard a lease looks at. */
  private readonly isInvolved = (shard: ShardState, volunteer: PeerId): boolean => this.involved(shard, volunteer);
  private readonly isInvolvedAny = (shard: ShardState, volunteer: PeerId): boolean => this.involvedAny(shard, volunteer);
  /** [A-6] A shard whose job is still here can be leased again. */
  private readonly isAuditable = (shard: ShardState): boolean => this.jobs.job(shard.jobId) !== undefined;

  /**
   * @param newSecret [I-1] Where resume tokens come from: a source of full-entropy secrets, never
   * `rng` (whose 32-bit state a brute force recovers), which also leaves the scheduling and
   * sampling draws of `rng` as they were. The host passes `crypto.getRandomValues`-backed
   * secrets; the default is the replayable test-only source, which keeps tests and simulations
   * deterministic ([D-1]).
   */
  constructor(
    readonly config: CoordinatorConfig,
    private readonly rng: Rng,
    private readonly newSecret: NewSecret = testOnlySecrets(0x51ed_7a11),
  ) {
    this.reputation = new ReputationBook({ ...DEFAULT_TRUST, ...config.trust });
    this.budgets = config.budgets ?? PEER_BUDGETS;
    this.currentRequesterKey = config.requesterKey;
    const known = (cap: number): number => knownVolunteers(this.peers, this.reputation, cap);
    this.judgement = new Judgement(this.reputation, known, rng, this.totals, {
      log: (level, text) => this.log(level, text),
      quarantine: (peer, reason, now) => this.quarantine(peer, reason, now),
      lift: (peer, reason) => this.lift(peer, reason),
    });
    this.deadlines = new LeaseDeadlines(config);
    this.leases = new LeaseBook((id) => this.persistence.leaseChanged(id));
    this.persistence = new PersistTracker({
      reputation: this.reputation,
      leases: this.leases,
      jobs: this.jobs,
      peers: this.peers,
      tokens: this.tokens,
      standing: this.standing,
    });
    this.notices = new VolunteerNotices(this.peers, this.reputation, config, this.persistence, (to, msg) => this.send(to, msg));
    this.decider = new ShardDecider(this.jobs, this.peers, this.reputation, this.judgement, this.notices, this.totals, rng, {
      emit: (effect) => this.emit(effect),
      log: (level, text) => this.log(level, text),
      offer: (shard) => this.offer(shard),
    });
    this.restoreTarget = { jobs: this.jobs, leases: this.leases, judgement: this.judgement, persistence: this.persistence };
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
    this.closing.delete(peer);
    this.badFrames.delete(peer);
    this.peers.set(peer, connectingPeer(peer, now));
    return this.flush();
  }

  /** [P-2] A disconnect releases the peer's leases at once, so its shards go to others. */
  disconnect(peer: PeerId, now: number): CoordinatorEffect[] {
    this.dropPeer(peer, now);
    this.closing.delete(peer);
    this.badFrames.delete(peer);
    return this.flush();
  }

  private dropPeer(peer: PeerId, now: number): void {
    const state = this.peers.get(peer);
    if (!state) return;
    for (const leaseId of [...state.leases]) this.endLease(leaseId, 'volunteer disconnected', now);
    // [I-1] Its standing waits for the volunteer to come back under its id.
    if (state.role === 'volunteer') this.standing.set(peer, standingOf(state));
    this.peers.delete(peer);
    this.notices.gone(peer);
    this.emit({ kind: 'status-changed' });
  }

  /**
   * [P-3] Malformed frames are dropped, [B-8] logged in aggregate; [B-7] a peer over its budget
   * of them is dropped. Another version gets a refusal.
   */
  protocolError(peer: PeerId, error: ProtocolError, now: number): CoordinatorEffect[] {
    if (this.closing.has(peer)) return this.flush();
    if (error.kind === 'version') {
      this.refuse(peer, error.reason);
    } else {
      const verdict = this.tallyOf(peer, now).note(error.reason, now);
      if (verdict.drop !== null) {
        this.dropOverBudget(peer, verdict.drop, now);
        return this.flush();
      }
      if (verdict.log !== null) this.log('warn', `${peer}: ${verdict.log}`);
      // [J-1] A malformed submission is refused by its ref: the requester must not wait forever.
      if (error.submissionRef !== undefined) {
        this.send(peer, { v: PROTOCOL_VERSION, t: 'job-rejected', ref: error.submissionRef, reason: truncate(error.reason, LIMITS.maxReasonLength) });
      }
    }
    return this.flush();
  }

  /**
   * One parsed frame. `checked` [I-2] [I-3]: for a volunteer's `hello` or `result`, what the host
   * found checking its signature (required when `config.volunteerKeys` is on).
   */
  handle(peer: PeerId, msg: ToCoordinator, now: number, checked?: SignatureCheck): CoordinatorEffect[] {
    if (this.closing.has(peer)) return this.flush();
    const state = this.peers.get(peer);
    if (!state) {
      this.log('warn', `frame from unknown peer ${peer} dropped`);
      return this.flush();
    }
    // [P-1] [B-6] Nothing but hello is answered before hello: a ping then gets no pong and is no
    // sign of life, so a peer that only pings is closed when its time to say hello is up.
    if (state.role === null && msg.t === 'ping') return this.flush();
    state.lastSeenMs = now;
    if (msg.t === 'ping') {
      this.send(peer, { v: PROTOCOL_VERSION, t: 'pong' });
      return this.flush();
    }
    if (msg.t === 'hello') {
      this.onHello(state, msg, checked);
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
        this.onResult(state, msg, now, checked);
        break;
      case 'lease-abandon':
        this.onLeaseAbandon(state, msg, now);
        break;
      case 'lease-progress':
        this.onLeaseProgress(state, msg, now);
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
    this.notices.reportDue(now);
    this.persistDirty();
    // [B-8] Bad frames counted since their last line get one line now.
    for (const [peer, tally] of this.badFrames) {
      const line = tally.flush(now);
      if (line !== null) this.log('warn', `${peer}: ${line}`);
    }
    // [P-4] A peer that has gone silent is gone: its leases are released and its channel closed.
    for (const peer of [...this.peers.values()]) {
      // [B-6] A peer that has not said hello in time is closed.
      if (peer.role === null && now - peer.connectedAtMs > this.budgets.helloTimeoutMs) {
        this.dropOverBudget(peer.id, `no "hello" within ${this.budgets.helloTimeoutMs} ms of connecting`, now);
        continue;
      }
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
    return this.persistence.hasUnsavedLeases();
  }

  /**
   * [J-2] Second half of a submission, once the host has hashed the model: create the job and its
   * shards. The hash is computed by this coordinator; a requester's claim is never trusted.
   * `outputSignature`: [R-7] the model's outputs as the host's engine reported them.
   */
  admitJob(peer: PeerId, ref: string, spec: JobSpec, modelHash: ModelHash, now: number, outputSignature?: readonly OutputPort[]): CoordinatorEffect[] {
    // [S-3] Storage failed while the model was being checked: the job could not be kept.
    if (this.storageProblem !== null) {
      this.send(peer, { v: PROTOCOL_VERSION, t: 'job-rejected', ref, reason: STORAGE_REJECT_REASON });
      return this.flush();
    }
    const items = itemCountOf(spec);
    const problem = typeof items === 'string' ? items : pipelineModelProblem(spec, modelHash); // [J-7]
    if (problem !== null || typeof items === 'string') {
      this.send(peer, { v: PROTOCOL_VERSION, t: 'job-rejected', ref, reason: problem ?? 'the job has no items' });
      return this.flush();
    }
    const record = jobRecordOf(spec, items, modelHash, peer, now, this.rng);
    // [R-7] Results will be checked against the signature the host's engine reported.
    const job: JobRecord = outputSignature ? { ...record, outputSignature } : record;
    const { id, shardCount } = job;
    if (!this.jobs.hasModel(modelHash)) {
      this.jobs.setModel(modelHash, spec.model);
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
    this.jobs.setModel(job.modelHash, model);
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
    restoreShardInto(this.restoreTarget, jobId, index, status, accepted, disagreements, more);
  }

  /**
   * [S-1] Puts a stored lease back after a reload. One still before its deadline stays valid
   * (its volunteer may deliver once it reconnects under its id, [I-1]); one past it, or for a
   * shard decided since, is retired: its shard is offered again, a late result still counts.
   */
  restoreLease(record: LeaseRecord, now: number): void {
    restoreLeaseInto(this.restoreTarget, record, now);
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
    for (const job of this.jobs.all()) {
      for (const shard of this.jobs.shardsOf(job.id)) if (shard.status === 'open' && shard.replicas.length > 0) this.decider.evaluate(job, shard, now, false);
    }
    this.persistence.discardRestored();
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
      this.notices.markWorkAppeared(); // [L-9] those told no-work meanwhile may ask at once
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
    const shard = this.jobs.shard(jobId, index);
    if (shard && shard.status === 'verified' && shard.epoch === epoch && !shard.durable) {
      shard.durable = true;
      this.jobs.countsOf(jobId).durable++;
      this.emit(STATUS_CHANGED);
    }
    return this.flush();
  }

  // -------------------------------------------------------------------------------------------
  // Queries (snapshots for hosts and views, built in readModels.ts)
  // -------------------------------------------------------------------------------------------

  jobStatuses(): JobStatus[] {
    return [...this.jobs.all()].map((job) => this.jobStatus(job));
  }

  /** [J-3] Every shard is in exactly one of verified, unverifiable, in flight, pending. */
  jobStatus(job: JobRecord): JobStatus {
    return jobStatusOf(job, this.jobs.countsOf(job.id), this.config.awaitDurableWrites === true, this.jobs.spreadOf(job.id));
  }

  peerSummaries(): PeerSummary[] {
    return peerSummariesOf(this.peers, this.reputation);
  }

  /** [T-1] Per-peer counters for the telemetry aggregator (see core/telemetry/). */
  peerSamples(): PeerSample[] {
    return peerSamplesOf(this.peers, this.reputation);
  }

  /** [T-5] Agreement per pair of backends over every accepted shard. */
  backendAgreement(): BackendPairCount[] {
    return this.decider.backendAgreement();
  }

  /**
   * Peers that should hear about job progress: [J-11] requesters that proved the requester key.
   * Observers get telemetry instead ([T-1]); a requester without the key, nothing about jobs.
   */
  watchers(): PeerId[] {
    return peersWithRole(this.peers, 'requester').filter((id) => this.peers.get(id)?.ownsJobs === true);
  }

  /** [J-11] Whether `peer` is a requester that proved the requester key (the host gives it a submission's allowance, [B-12]). */
  ownsJobs(peer: PeerId): boolean {
    const state = this.peers.get(peer);
    return state?.role === 'requester' && state.ownsJobs;
  }

  /** [J-12] The network's requester key now (the page shows it; join links carry it). */
  requesterKey(): string {
    return this.currentRequesterKey;
  }

  /**
   * [J-12] The coordinator page rotates the requester key (the host has stored it first, so a
   * reload keeps it). The old key stops working at once: no submission carries it any more, and
   * every requester loses its proof, connected tabs included — a key that leaked must stop
   * reading now, not at its holder's next reconnect. Honest tabs prove the new key in a new hello.
   * An empty key would open the network to anyone, which is no rotation: refused.
   */
  rotateRequesterKey(key: string, _now: number): CoordinatorEffect[] {
    if (key === '') throw new Error('a rotated requester key cannot be empty: that would let anyone submit and read jobs');
    this.currentRequesterKey = key;
    for (const peer of this.peers.values()) peer.ownsJobs = false;
    this.log('info', 'requester key rotated: the old key no longer submits or reads jobs');
    this.emit(STATUS_CHANGED);
    return this.flush();
  }

  /** [J-11] Whether a key proves the network's requester key (any key does when the network has none). */
  private keyProves(key: string | undefined): boolean {
    if (this.currentRequesterKey === '') return true;
    return key !== undefined && secretsEqual(key, this.currentRequesterKey);
  }

  /** [T-1] Peers that get telemetry frames. */
  observers(): PeerId[] {
    return peersWithRole(this.peers, 'observer');
  }

  verifiedShards(jobId: JobId): VerifiedShard[] {
    return verifiedShardsOf(this.jobs.shardsOf(jobId), this.config.awaitDurableWrites === true);
  }

  shardsOf(jobId: JobId): readonly ShardState[] {
    return this.jobs.shardsOf(jobId);
  }

  job(jobId: JobId): JobRecord | undefined {
    return this.jobs.job(jobId);
  }

  /**
   * [B-7] Whether frames from `peer` are ignored (it was refused or dropped and its connection is
   * closing): the host need not even parse them.
   */
  ignores(peer: PeerId): boolean {
    return this.closing.has(peer);
  }

  /** The role `peer` said hello as; null before hello or when not connected. */
  roleOf(peer: PeerId): Role | null {
    return this.peers.get(peer)?.role ?? null;
  }

  /**
   * [P-8] A chunk of a frame from `peer` arrived (the frame is not whole yet): it is sending, so it
   * is not silent ([P-4]), however long its frame takes. As with a ping ([P-1]), only after hello,
   * and never for a peer being closed. Returns nothing to do: no frame is answered yet.
   */
  heard(peer: PeerId, now: number): void {
    const state = this.peers.get(peer);
    if (state === undefined || state.role === null || this.closing.has(peer)) return;
    state.lastSeenMs = Math.max(state.lastSeenMs, now);
  }

  /** [B-3] Whether `peer` is connected and its hello was taken (its transport may then raise its limits). */
  hasSaidHello(peer: PeerId): boolean {
    return (this.peers.get(peer)?.role ?? null) !== null;
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
    return pendingAuditsOf(this.peers, this.reputation);
  }

  // -------------------------------------------------------------------------------------------
  // Handlers
  // -------------------------------------------------------------------------------------------

  private onHello(state: PeerState, msg: Msg<'hello'>, checked: SignatureCheck | undefined): void {
    if (state.role !== null && state.role !== msg.role) {
      this.refuse(state.id, `already said hello as ${state.role}`);
      return;
    }
    const first = state.role === null;
    if (msg.role === 'volunteer' && this.config.volunteerKeys === true) {
      if (first && !this.claimByKey(state, msg, checked)) return;
      state.role = msg.role;
      state.label = msg.label;
      state.caps = msg.caps;
      if (first) this.welcomeBack(state);
      this.send(state.id, { v: PROTOCOL_VERSION, t: 'welcome', networkId: this.config.networkId, you: state.id });
      this.log('info', `volunteer ${state.id} joined on ${msg.caps?.backend ?? '?'} (onnxruntime-web ${msg.caps?.ortVersion ?? '?'})`);
      this.emit({ kind: 'status-changed' });
      return;
    }
    // [I-1] An id this coordinator knows is only served to the holder of its token.
    const known = this.tokens.get(state.id);
    if (first && known !== undefined && !secretsEqual(msg.resume ?? '', known)) {
      this.refuse(state.id, `peer id ${state.id} belongs to another volunteer: reconnect under a new id`, REFUSED_ID_TAKEN);
      return;
    }
    state.role = msg.role;
    state.label = msg.label;
    state.caps = msg.caps;
    // [J-11] Each requester hello says afresh which key this connection holds: a wrong one (a
    // typo, or the key before a rotation) takes an earlier proof away rather than keeping it.
    if (msg.role === 'requester') state.ownsJobs = this.keyProves(msg.requesterKey);
    let token = known;
    if (msg.role === 'volunteer' && token === undefined) {
      token = this.newSecret();
      this.tokens.set(state.id, token);
      this.persistence.peerChanged(state.id);
    } else if (first && known !== undefined) {
      this.welcomeBack(state);
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

  /**
   * [I-2] A volunteer's first hello under an id, with keys required: the host checked its key
   * proof. An id no one holds becomes the key's; an id held by a key is served only to that key;
   * an id stored with an [I-1] token (before keys) needs the token once, and then is the key's.
   * Returns whether the hello may go on (otherwise it was refused).
   */
  private claimByKey(state: PeerState, msg: Msg<'hello'>, checked: SignatureCheck | undefined): boolean {
    if (!checked?.ok) {
      const why = checked ? checked.reason : 'the hello carries no key proof';
      this.refuse(state.id, `this network needs each volunteer to prove its key: ${why}. Update the volunteer and reconnect.`);
      return false;
    }
    const credential = `${KEY_CREDENTIAL}${checked.fingerprint}`;
    const known = this.tokens.get(state.id);
    const ownsIt = known === undefined || known === credential || (!known.startsWith(KEY_CREDENTIAL) && secretsEqual(msg.resume ?? '', known));
    if (!ownsIt) {
      this.refuse(state.id, `peer id ${state.id} belongs to another volunteer's key: reconnect under a new id`, REFUSED_ID_TAKEN);
      return false;
    }
    if (known !== credential) {
      this.tokens.set(state.id, credential);
      this.persistence.peerChanged(state.id);
    }
    state.volunteerKey = checked.publicKey;
    return true;
  }

  /** [I-1] [I-2] A volunteer back under its id keeps its standing (its reputation is kept per id anyway). */
  private welcomeBack(state: PeerState): void {
    const before = this.standing.get(state.id);
    if (!before) return;
    state.shardsAccepted = before.shardsAccepted;
    state.resultsReturned = before.resultsReturned;
    state.resultsRejected = before.resultsRejected;
    if (state.role === 'volunteer') this.notices.standingChangedNow(state.id);
  }

  /**
   * [I-3] What a result for `leaseId` from `peer` is about, as the host must check its signature:
   * the lease's job and shard and the adapter the replica will record; null for a lease that is
   * not `peer`'s (the core answers that itself).
   */
  resultSubject(peer: PeerId, leaseId: LeaseId, backend: string): { readonly jobId: JobId; readonly shardId: ShardId; readonly adapter: string | null } | null {
    const lease = this.leases.get(leaseId) ?? this.leases.retiredLease(leaseId);
    const state = this.peers.get(peer);
    if (!lease || !state || lease.volunteer !== peer) return null;
    const shard = this.jobs.shardById(lease.shardId);
    return { jobId: shard?.jobId ?? (jobOfShard(lease.shardId) as JobId), shardId: lease.shardId, adapter: resultAdapter(state.caps, backend) };
  }

  /** [L-1] A volunteer gets a shard it has not computed and does not hold, from the oldest job. */
  private onLeaseRequest(state: PeerState, now: number): void {
    if (state.role !== 'volunteer') {
      this.log('warn', `${state.role} ${state.id} asked for a lease; only volunteers get work`);
      return;
    }
    // [S-4] Restored leases this volunteer did not deliver before asking again are not in its hands.
    const orphans = this.leases.takeOrphans(state.id);
    if (orphans) for (const id of orphans) this.endLease(id, 'its volunteer reconnected without it', now);
    // [X-5] A strike whose small-network answer was contradicted since is withdrawn (it may lift a quarantine).
    this.judgement.reviewStrikes(state.id);
    // [X-4] An outvote whose answer has since become established is a strike (it may quarantine).
    this.judgement.judgeOutvotes(state.id, now);
    // [A-7] A result returned while owing a canary, in an answer since established, stands in for one.
    this.judgement.judgeVouching(state.id);
    // [X-2] A quarantined volunteer keeps its connection (so its id stays taken) but never works again.
    if (this.reputation.isQuarantined(state.id)) {
      // [X-5] One that may be lifted asks as often as any idle volunteer, so a lifted one is back at once.
      const retryInMs = this.judgement.mayBeLifted(state.id) ? this.config.noWorkRetryMs : this.reputation.config.quarantineRetryMs;
      this.send(state.id, { v: PROTOCOL_VERSION, t: 'no-work', retryInMs });
      return;
    }
    // [L-7] A paused volunteer gets no lease (it should not ask; a request that crossed its pause is answered so).
    // [S-3] No lease whose result could not be kept while storage fails.
    if (state.paused || state.leases.size >= this.config.maxLeasesPerVolunteer || this.storageProblem !== null) {
      if (!state.paused) this.notices.waiting(state.id); // [L-9]
      this.send(state.id, { v: PROTOCOL_VERSION, t: 'no-work', retryInMs: this.config.noWorkRetryMs });
      return;
    }
    // [L-6] Among the jobs with a shard for this volunteer, the scheduler picks by priority.
    const pick = this.jobs.pick(state.id, this.isInvolved);
    // [C-1] Some leases are canaries: a shard of the same job whose answer is established. A
    // suspect is tested even when there is no other work ([A-5]).
    const canary = this.judgement.drawCanary(state.id, pick?.job ?? null, pick ? this.jobs.policyOf(pick.job).canaryRate : 0, this.isInvolvedAny);
    if (canary) {
      this.issueLease(state, canary, now, true);
      return;
    }
    if (!pick) {
      // [A-6] Owing a canary none can be served (every established answer includes it): one of
      // its lone results is cross-checked by another volunteer instead, if one is connected.
      if (this.reputation.owesCanary(state.id) && connectedVolunteers(this.peers, this.reputation, 2) >= 2) {
        const audit = this.judgement.auditTarget(state.id, this.isAuditable);
        if (audit) this.decider.reopenForAudit(audit, now);
      }
      this.notices.waiting(state.id); // [L-9]
      this.send(state.id, { v: PROTOCOL_VERSION, t: 'no-work', retryInMs: this.config.noWorkRetryMs });
      return;
    }
    this.decider.decideLone(state, pick.job, pick.shard);
    this.issueLease(state, pick.shard, now, false);
  }

  /** Sends a lease: a work lease counts towards the shard's replicas, a canary does not ([C-2]). */
  private issueLease(state: PeerState, shard: ShardState, now: number, canary: boolean): void {
    const job = this.jobs.job(shard.jobId) as JobRecord;
    const id = this.leases.newId(this.rng);
    // [L-8] A lease queued behind others the volunteer holds ([W-18]) starts only after them.
    let ahead = 0;
    for (const held of state.leases) ahead += this.leases.get(held)?.shard.count ?? 0;
    const deadlineInMs = this.deadlines.deadlineMs(state.id, shard.count + ahead);
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
    this.leases.add(lease);
    this.persistence.leaseChanged(lease.id);
    if (canary) {
      this.totals.canaryLeases++;
      this.judgement.canaryServed(state.id, shard.id);
    } else {
      shard.leases.add(lease.id);
      this.jobs.syncInFlight(shard);
    }
    state.leases.add(lease.id);
    state.leasesIssued++;
    this.notices.working(state.id); // [L-9] it is working again
    // [C-2] The same frame, field for field, whether or not it is a canary.
    this.send(state.id, {
      v: PROTOCOL_VERSION,
      t: 'lease',
      leaseId: lease.id,
      jobId: job.id,
      shardId: shard.id,
      modelHash: job.modelHash,
      modelBytes: job.modelBytes,
      ...shardItems(job, shard.start, shard.count), // [J-7] tensor rows, or files and their pipeline
      deadlineInMs,
    });
    this.emit(STATUS_CHANGED);
  }

  /** [L-1] Puts a shard (back) in its job's queue if it wants another lease. */
  private offer(shard: ShardState): void {
    // [L-9] Even a shard still queued is news: a volunteer may have been told no-work because it
    // was involved in the shards that were open then ([L-2]).
    if (this.jobs.offer(shard)) this.notices.markWorkAppeared();
  }

  /** [L-2] Computed it, or holds a work lease on it. */
  private involved(shard: ShardState, volunteer: PeerId): boolean {
    if (hasReplicaOf(shard, volunteer)) return true;
    for (const id of shard.leases) if (this.leases.get(id)?.volunteer === volunteer) return true;
    return false;
  }

  /** [L-2] [C-1] Computed it, or holds any lease on it (a canary lease included). */
  private involvedAny(shard: ShardState, volunteer: PeerId): boolean {
    if (this.involved(shard, volunteer)) return true;
    const state = this.peers.get(volunteer);
    if (state) for (const id of state.leases) if (this.leases.get(id)?.shardId === shard.id) return true;
    return false;
  }

  /**
   * [L-5] Model bytes go only to volunteers that hold a lease needing that model, at most once per
   * lease: a repeated request would queue another full copy (a request storm would hold one copy
   * per request in the send queue). The chunks start at the grid point at or before the requested
   * offset ([W-6]: receivers place chunks only on the grid).
   */
  private onModelRequest(state: PeerState, msg: Msg<'model-request'>): void {
    const bytes = this.jobs.model(msg.hash);
    const needing = [...state.leases].filter((id) => {
      const lease = this.leases.get(id);
      const shard = lease && this.jobs.shardById(lease.shardId);
      return shard !== undefined && this.jobs.job(shard.jobId)?.modelHash === msg.hash;
    });
    const unsent = needing.filter((id) => !this.modelSent.has(id));
    if (!bytes || unsent.length === 0) {
      this.send(state.id, {
        v: PROTOCOL_VERSION,
        t: 'model-unavailable',
        hash: msg.hash,
        reason: !bytes
          ? 'this coordinator has no such model'
          : needing.length === 0
            ? 'you hold no lease that needs this model'
            : 'this model was already sent for your lease: a lease gets it once',
      });
      return;
    }
    // One copy serves every lease of this peer that needs the model.
    for (const id of needing) this.modelSent.add(id);
    const chunk = LIMITS.modelChunkBytes;
    for (let offset = msg.offset - (msg.offset % chunk); offset < bytes.byteLength; offset += chunk) {
      this.send(state.id, {
        v: PROTOCOL_VERSION,
        t: 'model-chunk',
        hash: msg.hash,
        offset,
        total: bytes.byteLength,
        bytes: bytes.slice(offset, Math.min(bytes.byteLength, offset + chunk)),
      });
    }
  }

  private onResult(state: PeerState, msg: Msg<'result'>, now: number, checked: SignatureCheck | undefined): void {
    this.notices.standingChanged(state.id); // [P-7] whatever happens to it, its counters or reputation may change
    const ack = (outcome: 'received' | 'duplicate' | 'unknown-lease' | 'rejected', reason = ''): void =>
      this.send(state.id, { v: PROTOCOL_VERSION, t: 'result-ack', leaseId: msg.leaseId, outcome, reason });

    const lease = this.leases.get(msg.leaseId);
    const retired = lease ? undefined : this.leases.retiredLease(msg.leaseId);
    const owner = lease?.volunteer ?? retired?.volunteer;
    const shardId = lease?.shardId ?? retired?.shardId;
    if (owner === undefined || shardId === undefined) return ack('unknown-lease', 'no such lease');
    // [R-1] Only the volunteer a lease was issued to may answer it.
    if (owner !== state.id) {
      this.log('warn', `${state.id} sent a result for a lease of ${owner}; dropped`);
      return ack('rejected', 'this lease is not yours');
    }
    // [I-3] Unsigned, or not signed by the key this volunteer proved: not its result. The lease
    // stays (it expires, or a signed copy arrives), nothing about the shard or the volunteer changes.
    if (this.config.volunteerKeys === true && !(checked?.ok === true && checked.publicKey === state.volunteerKey)) {
      const why = checked === undefined ? 'it is not signed' : checked.ok ? 'it is signed by another key' : checked.reason;
      this.log('warn', `result for lease ${msg.leaseId} from ${state.id} rejected: ${why}`);
      return ack('rejected', `the result's signature does not check (${why}): sign results with this volunteer's key`);
    }
    const signed =
      this.config.volunteerKeys === true && checked?.ok === true
        ? {
            volunteerKey: checked.publicKey,
            signature: checked.sig,
            signedLeaseId: msg.leaseId,
            ...(checked.outputDigest !== undefined ? { signedDigest: checked.outputDigest } : {}),
          }
        : {};
    const canary = lease?.canary ?? retired?.canary ?? false;
    const epoch = lease?.epoch ?? retired?.epoch ?? 0;
    const issuedAtMs = lease?.issuedAtMs ?? retired?.issuedAtMs ?? now;
    this.deadlines.resultArrived(state.id, issuedAtMs, now, (lease?.shard ?? this.jobs.shardById(shardId))?.count ?? 0);
    if (lease) this.endLease(lease.id, null, now);
    this.leases.forgetRetired(msg.leaseId);
    this.persistence.leaseChanged(msg.leaseId);
    const shard = lease?.shard ?? this.jobs.shardById(shardId);
    const job = shard && this.jobs.job(shard.jobId);
    if (!shard || !job) return ack('unknown-lease', 'the job is gone');
    const shapeError = checkResultShape(msg, shard.count, job);
    if (canary) return this.onCanaryResult(state, msg, shard, job, epoch, shapeError, ack, now);
    // [R-2] A result counts once: late copies after acceptance, or a second one from the same
    // volunteer, are recognised and ignored.
    const returned = hasReplicaOf(shard, state.id);
    if (shard.status !== 'open' || returned) {
      // [R-6] [X-1] ... but a late result is still judged against the accepted answer.
      if (shard.status === 'verified' && !shapeError && !returned) {
        this.judgement.judgeLateResult(state.id, msg, shard, this.jobs.policyOf(job), now);
      }
      return ack('duplicate', shard.status === 'open' ? 'you already returned this shard' : `shard is already ${shard.status}`);
    }
    if (shapeError) {
      state.resultsRejected++;
      this.reputation.invalid(state.id); // [A-1] a broken result is an invalid one
      if (shard.lone && shard.replicas.length === 0 && shard.leases.size === 0) this.decider.endLone(shard, this.jobs.policyOf(job));
      this.offer(shard); // [R-5] the slot is offered again
      this.log('warn', `result for ${shard.id} from ${state.id} rejected: ${shapeError}`);
      ack('rejected', shapeError);
      this.emit(STATUS_CHANGED);
      return;
    }
    state.resultsReturned++;
    this.totals.results++;
    const replica: Replica = {
      volunteer: state.id,
      backend: msg.backend,
      adapter: msg.backend === 'webgpu' ? adapterOf(state) : null,
      ortVersion: state.caps?.ortVersion ?? '',
      outputs: msg.outputs,
      ...(msg.answers ? { answers: msg.answers } : {}),
      receivedAtMs: now,
      ...signed,
    };
    shard.replicas.push(replica);
    this.jobs.measureSpread(shard, replica); // [V-13]
    this.jobs.syncInFlight(shard);
    this.judgement.contributed(state.id, shard);
    ack('received');
    // [A-7] Not a lone shard's: accepted alone, it is a new debt, not evidence.
    if (!shard.lone && this.reputation.owesCanary(state.id)) this.judgement.noteVouching(state.id, shard);
    this.decider.evaluate(job, shard, now, true);
    // [S-1] Still open: its replicas so far go to storage with the next batch.
    if (shard.status === 'open') this.persistence.openShardChanged(shard);
    this.emit(STATUS_CHANGED);
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
    this.notices.standingChangedNow(state.id);
    this.emit(STATUS_CHANGED);
  }

  /** [P-6] New capabilities (e.g. WebGPU lost, now WASM): later replicas record them. */
  private onCaps(state: PeerState, msg: Msg<'caps'>): void {
    if (state.role !== 'volunteer') return;
    const before = state.caps?.backend;
    state.caps = msg.caps;
    if (before !== msg.caps.backend) this.log('info', `volunteer ${state.id} now runs on ${msg.caps.backend}: ${msg.caps.backendReason}`);
    this.notices.standingChangedNow(state.id);
    this.emit(STATUS_CHANGED);
  }

  private onLeaseAbandon(state: PeerState, msg: Msg<'lease-abandon'>, now: number): void {
    const lease = this.leases.get(msg.leaseId);
    if (!lease || lease.volunteer !== state.id) return;
    this.endLease(lease.id, `abandoned: ${msg.reason}`, now);
    this.leases.forgetRetired(lease.id); // an abandoned lease will not deliver late
    this.persistence.leaseChanged(lease.id);
  }

  /**
   * [L-10] The holder of a live lease still works on it: its deadline moves later (bounded, see
   * `LeaseDeadlines.progressed`). Anyone else's frame, or one for an ended lease, changes nothing
   * and is not logged: it costs one lookup, so a flood of them costs little.
   */
  private onLeaseProgress(state: PeerState, msg: Msg<'lease-progress'>, now: number): void {
    const lease = this.leases.get(msg.leaseId);
    if (!lease || lease.volunteer !== state.id) return;
    if (this.deadlines.progressed(lease, now)) this.persistence.leaseChanged(lease.id); // [S-1] the later deadline survives a reload
  }

  /** [J-1] Checks that need no hashing happen here, before the host does any work. */
  private onSubmitJob(state: PeerState, msg: Msg<'submit-job'>): void {
    const reject = (reason: string): void => {
      this.log('warn', `job "${msg.spec.name}" from ${state.id} refused: ${reason}`);
      this.send(state.id, { v: PROTOCOL_VERSION, t: 'job-rejected', ref: msg.ref, reason });
    };
    if (state.role !== 'requester') return reject('only requesters may submit jobs');
    if (this.storageProblem !== null) return reject(STORAGE_REJECT_REASON); // [S-3]
    const problem = submissionProblem(msg.spec, this.currentRequesterKey);
    if (problem !== null) return reject(problem);
    // [J-11] The submission carried the key: its connection holds it, so it may read what it submits.
    state.ownsJobs = true;
    this.emit({ kind: 'hash-model', peer: state.id, ref: msg.ref, spec: msg.spec });
  }

  private onResultsRequest(state: PeerState, msg: Msg<'results-request'>): void {
    // [J-11] Results go to the holders of the key the jobs were submitted under, nobody else.
    // Nothing is sent back, as for an unknown job: a stranger learns not even that the job exists.
    if (!state.ownsJobs) {
      this.log('warn', `${state.role ?? 'peer'} ${state.id} asked for results of job ${msg.jobId} without proving the requester key; nothing sent`);
      return;
    }
    if (!this.jobs.has(msg.jobId)) {
      this.log('warn', `${state.id} asked for results of unknown job ${msg.jobId}`);
      return;
    }
    const itemNames = this.jobs.job(msg.jobId)?.itemNames; // [J-6]
    this.send(state.id, {
      v: PROTOCOL_VERSION,
      t: 'job-results',
      jobId: msg.jobId,
      shards: this.verifiedShards(msg.jobId),
      ...(itemNames ? { itemNames: [...itemNames] } : {}),
    });
  }

  // -------------------------------------------------------------------------------------------
  // Verification: canary results and quarantine ([C-n], [X-n] in SPEC.md). Shards are decided in
  // shardDecider.ts; what results say about each volunteer is weighed in judgement.ts.
  // -------------------------------------------------------------------------------------------

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
    this.judgement.judgeCanary(state.id, msg, shard, epoch, this.jobs.policyOf(job), now);
    this.emit(STATUS_CHANGED);
  }

  /**
   * [X-1] [X-2] [X-3] Quarantine a volunteer caught lying: no more work, its leases ended, and
   * every shard it holds a replica in loses that replica and is decided again (`withdraw`).
   */
  private quarantine(peer: PeerId, reason: string, now: number): void {
    if (!this.reputation.quarantine(peer, reason)) return;
    this.totals.quarantined++;
    this.notices.standingChangedNow(peer);
    this.log('warn', `volunteer ${peer} quarantined: ${reason}`);
    const state = this.peers.get(peer);
    if (state) {
      for (const leaseId of [...state.leases]) {
        this.endLease(leaseId, 'volunteer quarantined', now);
        this.leases.forgetRetired(leaseId); // its late results are not wanted
        this.persistence.leaseChanged(leaseId);
      }
    }
    this.decider.withdraw(peer, this.judgement.takeContributions(peer), now);
    this.emit(STATUS_CHANGED);
  }

  /**
   * [X-5] The strikes that quarantined a volunteer were withdrawn: it works again, as a suspect.
   * Nothing it lost comes back: its leases ended and its replicas were withdrawn ([X-3]).
   */
  private lift(peer: PeerId, reason: string): void {
    if (!this.reputation.release(peer)) return;
    this.notices.standingChangedNow(peer);
    this.log('warn', `volunteer ${peer}'s quarantine lifted: ${reason}`);
    this.emit(STATUS_CHANGED);
  }

  // -------------------------------------------------------------------------------------------
  // Helpers
  // -------------------------------------------------------------------------------------------

  private addJob(job: JobRecord): void {
    this.jobs.add(job);
    this.notices.markWorkAppeared(); // [L-9] admitted or restored
  }

  /** Ends a lease. With a reason (expiry, disconnect), it is remembered for a late result. */
  private endLease(leaseId: LeaseId, reason: string | null, _now: number): void {
    const lease = this.leases.get(leaseId);
    if (!lease) return;
    this.leases.remove(lease);
    this.modelSent.delete(leaseId);
    const shard = lease.shard;
    if (!lease.canary) {
      shard.leases.delete(leaseId);
      this.jobs.syncInFlight(shard);
      // [A-3] A lone shard whose volunteer did not deliver goes back to the policy's replication.
      if (shard.lone && shard.replicas.length === 0 && shard.leases.size === 0 && reason !== null) {
        const job = this.jobs.job(shard.jobId);
        if (job) this.decider.endLone(shard, this.jobs.policyOf(job));
      }
      if (reason !== null) this.offer(shard);
    }
    this.peers.get(lease.volunteer)?.leases.delete(leaseId);
    this.persistence.leaseChanged(leaseId);
    if (reason !== null) {
      // [L-3] The shard is offered again; a late result from this lease may still count.
      this.leases.retire(leaseId, {
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

  /** [S-1] One `persist` effect with every lease, volunteer id and open shard changed since the last. */
  private persistDirty(withPeers = true): void {
    const batch = this.persistence.collect(withPeers);
    if (batch) this.emit(batch);
  }

  /** [B-7] [B-8] The peer's bad-frame tally, made at its first bad frame. */
  private tallyOf(peer: PeerId, now: number): BadFrameTally {
    let tally = this.badFrames.get(peer);
    if (!tally) {
      tally = new BadFrameTally(this.budgets, now);
      this.badFrames.set(peer, tally);
    }
    return tally;
  }

  /**
   * [B-6] [B-7] A peer over a budget: told why (`refused`), its connection closed, its leases
   * released at once ([P-2]), and anything it sends until the close is ignored.
   */
  private dropOverBudget(peer: PeerId, reason: string, now: number): void {
    this.refuse(peer, `dropped: ${reason}`);
    this.dropPeer(peer, now);
  }

  /**
   * `code`: [I-1] machine-readable, so a volunteer can act on it without parsing `reason`.
   * [B-7] A refusal is final for the connection: until the host has closed it, whatever the peer
   * sends is ignored unlogged, so a flood of refusable frames costs one refusal, not one each.
   */
  private refuse(peer: PeerId, reason: string, code?: string): void {
    this.send(peer, { v: PROTOCOL_VERSION, t: 'refused', reason, expectedVersion: PROTOCOL_VERSION, ...(code !== undefined ? { code } : {}) });
    this.emit({ kind: 'close', peer, reason });
    this.log('warn', `refused ${peer}: ${reason}`);
    this.closing.add(peer);
  }

  private send(to: PeerId, msg: FromCoordinator): void {
    this.emit({ kind: 'send', to, msg });
  }

  private log(level: 'info' | 'warn', text: string): void {
    this.emit({ kind: 'log', level, text });
  }

  private emit(e: CoordinatorEffect): void {
    this.effects.push(e);
  }

  private flush(): CoordinatorEffect[] {
    this.notices.flush(this.storageProblem !== null);
    const out = this.effects;
    this.effects = [];
    return out;
  }
}
