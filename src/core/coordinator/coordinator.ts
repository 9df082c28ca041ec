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
import { PROTOCOL_VERSION } from '../../protocol/messages.ts';
import type { ProtocolError } from '../../protocol/parse.ts';
import type { WireTensor } from '../../protocol/tensor.ts';
import { randomTag, type Rng } from '../rng.ts';
import { decideQuorum } from '../verification/quorum.ts';
import type { CoordinatorEffect } from './effects.ts';
import { batchSizeOf, sliceRows } from './shardInputs.ts';
import type { AcceptedResult, CoordinatorConfig, JobRecord, LeaseState, PeerState, ShardState } from './state.ts';

type Msg<T extends ToCoordinator['t']> = Extract<ToCoordinator, { t: T }>;
type Out = FromCoordinator;

/** Remembered after a lease ends, so a late result can still be recognised. */
interface RetiredLease {
  readonly shardId: ShardId;
  readonly volunteer: PeerId;
}

const MAX_RETIRED_LEASES = 100_000;

export class CoordinatorCore {
  private readonly peers = new Map<PeerId, PeerState>();
  private readonly jobs = new Map<JobId, JobRecord>();
  /** Shards of each job, by index. */
  private readonly shards = new Map<JobId, ShardState[]>();
  private readonly shardById = new Map<ShardId, ShardState>();
  private readonly leases = new Map<LeaseId, LeaseState>();
  private readonly retired = new Map<LeaseId, RetiredLease>();
  private readonly models = new Map<ModelHash, ArrayBuffer>();
  private leaseCounter = 0;
  private effects: CoordinatorEffect[] = [];

  constructor(
    readonly config: CoordinatorConfig,
    private readonly rng: Rng,
  ) {}

  // -------------------------------------------------------------------------------------------
  // Events in
  // -------------------------------------------------------------------------------------------

  connect(peer: PeerId, now: number): CoordinatorEffect[] {
    if (!this.peers.has(peer)) {
      this.peers.set(peer, {
        id: peer,
        connectedAtMs: now,
        lastSeenMs: now,
        role: null,
        label: '',
        caps: null,
        leases: new Set(),
        resultsReturned: 0,
        shardsAccepted: 0,
        resultsRejected: 0,
      });
    }
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
    this.peers.delete(peer);
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
   * [J-2] Second half of a submission, once the host has hashed the model: create the job and its
   * shards. The hash is computed by this coordinator; a requester's claim is never trusted.
   */
  admitJob(peer: PeerId, ref: string, spec: JobSpec, modelHash: ModelHash, now: number): CoordinatorEffect[] {
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

  /** Puts a stored shard outcome back after a reload; open shards are left to be leased again. */
  restoreShard(jobId: JobId, index: number, status: ShardState['status'], accepted: AcceptedResult | null, disagreements: number): void {
    const shard = this.shards.get(jobId)?.[index];
    if (!shard || status === 'open') return;
    if (status === 'verified' && !accepted) return;
    shard.status = status;
    shard.accepted = accepted;
    shard.disagreements = disagreements;
  }

  // -------------------------------------------------------------------------------------------
  // Queries (snapshots for hosts and views)
  // -------------------------------------------------------------------------------------------

  jobStatuses(): JobStatus[] {
    return [...this.jobs.values()].map((job) => this.jobStatus(job));
  }

  /** [J-3] Every shard is in exactly one of verified, unverifiable, in flight, pending. */
  jobStatus(job: JobRecord): JobStatus {
    let verified = 0;
    let inFlight = 0;
    let unverifiable = 0;
    let disagreements = 0;
    for (const s of this.shards.get(job.id) ?? []) {
      disagreements += s.disagreements;
      if (s.status === 'verified') verified++;
      else if (s.status === 'unverifiable') unverifiable++;
      else if (s.leases.size > 0 || s.replicas.length > 0) inFlight++;
    }
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
        adapter: p.caps?.adapter ? `${p.caps.adapter.vendor} ${p.caps.adapter.architecture}`.trim() : null,
        shardsDone: p.shardsAccepted,
        activeLeases: p.leases.size,
        connectedAtMs: p.connectedAtMs,
      });
    }
    return out;
  }

  /** Peers that should hear about job progress (requesters and observers). */
  watchers(): PeerId[] {
    return [...this.peers.values()].filter((p) => p.role === 'requester' || p.role === 'observer').map((p) => p.id);
  }

  verifiedShards(jobId: JobId): VerifiedShard[] {
    const out: VerifiedShard[] = [];
    for (const s of this.shards.get(jobId) ?? []) {
      if (s.status !== 'verified' || !s.accepted) continue;
      out.push({
        index: s.index,
        start: s.start,
        count: s.count,
        outputs: [...s.accepted.outputs],
        volunteers: [...s.accepted.volunteers],
        backends: [...s.accepted.backends],
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

  // -------------------------------------------------------------------------------------------
  // Handlers
  // -------------------------------------------------------------------------------------------

  private onHello(state: PeerState, msg: Msg<'hello'>): void {
    if (state.role !== null && state.role !== msg.role) {
      this.refuse(state.id, `already said hello as ${state.role}`);
      return;
    }
    state.role = msg.role;
    state.label = msg.label;
    state.caps = msg.caps;
    this.send(state.id, { v: PROTOCOL_VERSION, t: 'welcome', networkId: this.config.networkId, you: state.id });
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
    if (state.leases.size >= this.config.maxLeasesPerVolunteer) {
      this.send(state.id, { v: PROTOCOL_VERSION, t: 'no-work', retryInMs: this.config.noWorkRetryMs });
      return;
    }
    const pick = this.pickShard(state.id);
    if (!pick) {
      this.send(state.id, { v: PROTOCOL_VERSION, t: 'no-work', retryInMs: this.config.noWorkRetryMs });
      return;
    }
    const { job, shard } = pick;
    const lease: LeaseState = {
      id: `l${(++this.leaseCounter).toString(36)}${randomTag(this.rng, 4)}` as LeaseId,
      shardId: shard.id,
      volunteer: state.id,
      issuedAtMs: now,
      deadlineMs: now + this.config.leaseTimeoutMs,
    };
    this.leases.set(lease.id, lease);
    shard.leases.add(lease.id);
    state.leases.add(lease.id);
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
      deadlineInMs: this.config.leaseTimeoutMs,
    });
    this.emit({ kind: 'status-changed' });
  }

  private pickShard(volunteer: PeerId): { job: JobRecord; shard: ShardState } | null {
    for (const job of this.jobs.values()) {
      for (const shard of this.shards.get(job.id) ?? []) {
        if (shard.status !== 'open') continue;
        if (shard.replicas.length + shard.leases.size >= shard.target) continue;
        if (this.involved(shard, volunteer)) continue; // [L-2] replicas come from different volunteers
        return { job, shard };
      }
    }
    return null;
  }

  private involved(shard: ShardState, volunteer: PeerId): boolean {
    if (shard.replicas.some((r) => r.volunteer === volunteer)) return true;
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
    const ack = (outcome: 'received' | 'duplicate' | 'unknown-lease' | 'rejected', reason = ''): void =>
      this.send(state.id, { v: PROTOCOL_VERSION, t: 'result-ack', leaseId: msg.leaseId, outcome, reason });

    const lease = this.leases.get(msg.leaseId);
    const retired = lease ? undefined : this.retired.get(msg.leaseId);
    const owner = lease?.volunteer ?? retired?.volunteer;
    const shardId = lease?.shardId ?? retired?.shardId;
    if (owner === undefined || shardId === undefined) return ack('unknown-lease', 'no such lease');
    // Only the volunteer a lease was issued to may answer it.
    if (owner !== state.id) {
      this.log('warn', `${state.id} sent a result for a lease of ${owner}; dropped`);
      return ack('rejected', 'this lease is not yours');
    }
    if (lease) this.endLease(lease.id, null, now);
    this.retired.delete(msg.leaseId);
    const shard = this.shardById.get(shardId);
    const job = shard && this.jobs.get(shard.jobId);
    if (!shard || !job) return ack('unknown-lease', 'the job is gone');
    // A result counts once: late copies after acceptance, or a second one from the same
    // volunteer, are recognised and ignored.
    if (shard.status !== 'open' || shard.replicas.some((r) => r.volunteer === state.id)) {
      return ack('duplicate', shard.status === 'open' ? 'you already returned this shard' : `shard is already ${shard.status}`);
    }
    const shapeError = checkOutputShape(msg.outputs, shard.count);
    if (shapeError) {
      state.resultsRejected++;
      this.log('warn', `result for ${shard.id} from ${state.id} rejected: ${shapeError}`);
      ack('rejected', shapeError);
      this.emit({ kind: 'status-changed' });
      return;
    }
    state.resultsReturned++;
    shard.replicas.push({ volunteer: state.id, backend: msg.backend, outputs: msg.outputs, receivedAtMs: now });
    ack('received');
    this.evaluate(job, shard, now);
    this.emit({ kind: 'status-changed' });
  }

  /** Decide a shard once enough replicas are in. */
  private evaluate(job: JobRecord, shard: ShardState, now: number): void {
    const { quorum, maxReplicas, comparator } = job.policy;
    if (shard.replicas.length < Math.min(quorum, shard.target)) return;
    const decision = decideQuorum(shard.replicas, comparator, quorum, maxReplicas);
    if (decision.kind === 'accept') {
      const agreeing = decision.agreeing.map((i) => shard.replicas[i]!);
      const rep = agreeing[0]!;
      shard.status = 'verified';
      shard.accepted = {
        outputs: rep.outputs,
        volunteers: agreeing.map((r) => r.volunteer),
        backends: agreeing.map((r) => r.backend),
        acceptedAtMs: now,
      };
      shard.disagreements += decision.dissenting.length;
      for (const r of agreeing) {
        const p = this.peers.get(r.volunteer);
        if (p) p.shardsAccepted++;
      }
      for (const i of decision.dissenting) {
        const p = this.peers.get(shard.replicas[i]!.volunteer);
        if (p) p.resultsRejected++;
      }
      this.emit({ kind: 'store-shard', jobId: job.id, shard });
      if (this.jobStatus(job).done) this.log('info', `job ${job.id} "${job.name}" complete`);
    } else if (decision.kind === 'unverifiable') {
      shard.status = 'unverifiable';
      shard.disagreements += shard.replicas.length - decision.largestClass;
      this.log('warn', `shard ${shard.id} is unverifiable: no ${quorum} of ${shard.replicas.length} results agree`);
      this.emit({ kind: 'store-shard', jobId: job.id, shard });
    } else {
      // Disagreement asks for more replicas, up to maxReplicas.
      const wanted = Math.min(maxReplicas, shard.replicas.length + decision.more);
      if (decision.disagreement && wanted > shard.target) {
        this.log('info', `shard ${shard.id}: results disagree, asking for replica ${wanted}`);
      }
      shard.target = Math.max(shard.target, wanted);
    }
  }

  private onLeaseAbandon(state: PeerState, msg: Msg<'lease-abandon'>, now: number): void {
    const lease = this.leases.get(msg.leaseId);
    if (!lease || lease.volunteer !== state.id) return;
    this.endLease(lease.id, `abandoned: ${msg.reason}`, now);
    this.retired.delete(lease.id); // an abandoned lease will not deliver late
  }

  /** [J-1] Checks that need no hashing happen here, before the host does any work. */
  private onSubmitJob(state: PeerState, msg: Msg<'submit-job'>): void {
    const reject = (reason: string): void => {
      this.log('warn', `job "${msg.spec.name}" from ${state.id} refused: ${reason}`);
      this.send(state.id, { v: PROTOCOL_VERSION, t: 'job-rejected', ref: msg.ref, reason });
    };
    if (state.role !== 'requester') return reject('only requesters may submit jobs');
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
  // Helpers
  // -------------------------------------------------------------------------------------------

  private addJob(job: JobRecord): void {
    this.jobs.set(job.id, job);
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
        target: job.policy.replication,
        replicas: [],
        leases: new Set(),
        accepted: null,
        disagreements: 0,
      };
      list.push(shard);
      this.shardById.set(shard.id, shard);
    }
    this.shards.set(job.id, list);
  }

  /** Ends a lease. With a reason (expiry, disconnect), it is remembered for a late result. */
  private endLease(leaseId: LeaseId, reason: string | null, _now: number): void {
    const lease = this.leases.get(leaseId);
    if (!lease) return;
    this.leases.delete(leaseId);
    this.shardById.get(lease.shardId)?.leases.delete(leaseId);
    this.peers.get(lease.volunteer)?.leases.delete(leaseId);
    if (reason !== null) {
      // [L-3] The shard is offered again; a late result from this lease may still count.
      this.retired.set(leaseId, { shardId: lease.shardId, volunteer: lease.volunteer });
      if (this.retired.size > MAX_RETIRED_LEASES) {
        const oldest = this.retired.keys().next().value;
        if (oldest !== undefined) this.retired.delete(oldest);
      }
      this.log('info', `lease ${leaseId} of ${lease.shardId} released: ${reason}`);
      this.emit({ kind: 'status-changed' });
    }
  }

  private refuse(peer: PeerId, reason: string): void {
    this.send(peer, { v: PROTOCOL_VERSION, t: 'refused', reason, expectedVersion: PROTOCOL_VERSION });
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
    const out = this.effects;
    this.effects = [];
    return out;
  }
}

/** Every output must have one row per item of the shard. */
function checkOutputShape(outputs: readonly WireTensor[], items: number): string | null {
  if (outputs.length === 0) return 'no outputs';
  for (const t of outputs) {
    if (t.dims[0] !== items) return `output "${t.name}" has ${t.dims[0] ?? 'no'} rows, the shard has ${items} items`;
  }
  return null;
}
