/**
 * Every job the coordinator holds: its shards, its running shard counts ([J-3]), its resolved
 * policy, its lease queue ([L-1]), the priority scheduler across jobs ([L-6]) and the model bytes
 * jobs share. Kept apart from the coordinator because these structures are created together (a
 * job and all its shards at once) and change together (counts follow shard status), and because
 * choosing the next shard to lease is self-contained once the caller says which shards a
 * volunteer is already involved in.
 */
import type { JobId, ModelHash, PeerId, ShardId } from '../../protocol/ids.ts';
import { shardIdOf } from '../../protocol/ids.ts';
import { resolvePolicy, type ResolvedPolicy } from '../../protocol/policy.ts';
import { answerKindOf } from '../../protocol/pipeline.ts';
import { JobScheduler, normalisePriority } from './jobScheduler.ts';
import { wantsLease } from './shardChecks.ts';
import { ShardQueue } from './shardQueue.ts';
import type { AcceptedResult, JobRecord, Replica, ShardState, ShardStatus } from './state.ts';
import { SPREAD_MAX_PAIRS, type Spread } from '../../protocol/spread.ts';
import { SpreadTally } from '../verification/spread.ts';

/** Per-job shard counts kept up to date, so status and completion never scan every shard. [J-3] */
export interface JobCounts {
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

export class JobBook {
  private readonly jobs = new Map<JobId, JobRecord>();
  /** Shards of each job, by index. */
  private readonly shards = new Map<JobId, ShardState[]>();
  private readonly byId = new Map<ShardId, ShardState>();
  private readonly models = new Map<ModelHash, ArrayBuffer>();
  /** [L-6] Which job's shard the next lease goes to, by priority. */
  private readonly scheduler = new JobScheduler<JobId>();
  /** [L-1] Per job: open shards that may want another lease, lowest index first. */
  private readonly queues = new Map<JobId, ShardQueue<ShardState>>();
  private readonly counts = new Map<JobId, JobCounts>();
  private readonly policies = new Map<JobId, ResolvedPolicy>();
  /** [V-13] Per job: the spread measured between replicas of its first shards. */
  private readonly spreads = new Map<JobId, SpreadTally>();

  /** Adds a job (admitted or restored) with all its shards open and queued. */
  add(job: JobRecord): void {
    this.jobs.set(job.id, job);
    const policy = resolvePolicy(job.policy, job.pipeline ? answerKindOf(job.pipeline) : null);
    this.policies.set(job.id, policy);
    this.spreads.set(job.id, new SpreadTally());
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
      this.byId.set(shard.id, shard);
      queue.push(shard); // in index order, so each push is O(1)
    }
    this.shards.set(job.id, list);
  }

  job(jobId: JobId): JobRecord | undefined {
    return this.jobs.get(jobId);
  }

  has(jobId: JobId): boolean {
    return this.jobs.has(jobId);
  }

  /** Every job, oldest first. */
  all(): IterableIterator<JobRecord> {
    return this.jobs.values();
  }

  shardsOf(jobId: JobId): readonly ShardState[] {
    return this.shards.get(jobId) ?? [];
  }

  shard(jobId: JobId, index: number): ShardState | undefined {
    return this.shards.get(jobId)?.[index];
  }

  shardById(id: ShardId): ShardState | undefined {
    return this.byId.get(id);
  }

  model(hash: ModelHash): ArrayBuffer | undefined {
    return this.models.get(hash);
  }

  hasModel(hash: ModelHash): boolean {
    return this.models.has(hash);
  }

  setModel(hash: ModelHash, bytes: ArrayBuffer): void {
    this.models.set(hash, bytes);
  }

  policyOf(job: JobRecord): ResolvedPolicy {
    return this.policies.get(job.id) as ResolvedPolicy;
  }

  /**
   * [V-13] Measures a new replica against one earlier replica of its shard — one on another
   * backend when there is one — while the job has measured fewer than `SPREAD_MAX_PAIRS` pairs.
   */
  measureSpread(shard: ShardState, replica: Replica): void {
    const tally = this.spreads.get(shard.jobId);
    const job = this.jobs.get(shard.jobId);
    if (!tally || !job || tally.pairs >= SPREAD_MAX_PAIRS) return;
    const earlier = shard.replicas.filter((r) => r !== replica);
    const other = earlier.find((r) => r.backend !== replica.backend) ?? earlier[0];
    if (other) tally.add(other, replica, other.backend !== replica.backend, this.policyOf(job));
  }

  /** [V-13] The job's measured spread so far, or undefined before any pair. */
  spreadOf(jobId: JobId): Spread | undefined {
    const tally = this.spreads.get(jobId);
    return tally && tally.pairs > 0 ? tally.snapshot() : undefined;
  }

  countsOf(jobId: JobId): JobCounts {
    return this.counts.get(jobId) as JobCounts;
  }

  /** [J-3] Keeps the job's in-flight count equal to its open shards with a lease or a replica. */
  syncInFlight(shard: ShardState): void {
    const inFlight = shard.status === 'open' && (shard.leases.size > 0 || shard.replicas.length > 0);
    if (inFlight === shard.inFlight) return;
    shard.inFlight = inFlight;
    this.countsOf(shard.jobId).inFlight += inFlight ? 1 : -1;
  }

  /**
   * [S-1] [S-2] A decided shard read back from storage takes its stored outcome; the job's counts
   * follow. It was read back from storage, so a verified one is durable by definition.
   */
  restoreOutcome(shard: ShardState, status: Exclude<ShardStatus, 'open'>, accepted: AcceptedResult | null, disagreements: number): void {
    const counts = this.countsOf(shard.jobId);
    if (shard.status === 'verified') counts.verified--;
    else if (shard.status === 'unverifiable') counts.unverifiable--;
    counts.disagreements += disagreements - shard.disagreements;
    if (shard.durable) counts.durable--;
    shard.status = status;
    shard.accepted = accepted;
    shard.disagreements = disagreements;
    shard.durable = status === 'verified';
    if (status === 'verified') counts.verified++;
    else counts.unverifiable++;
    if (shard.durable) counts.durable++;
    this.syncInFlight(shard);
  }

  /**
   * [L-6] Among the jobs with a shard for this volunteer, the scheduler picks by priority.
   * `involved`: [L-2] whether the volunteer computed or holds a lease on a shard already.
   */
  pick(volunteer: PeerId, involved: (shard: ShardState, volunteer: PeerId) => boolean): { job: JobRecord; shard: ShardState } | null {
    const candidates: { id: JobId; priority: number; job: JobRecord; shard: ShardState }[] = [];
    for (const job of this.jobs.values()) {
      const shard = this.pickShardOf(job, volunteer, involved);
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
  private pickShardOf(job: JobRecord, volunteer: PeerId, involved: (shard: ShardState, volunteer: PeerId) => boolean): ShardState | null {
    const queue = this.queues.get(job.id);
    if (!queue) return null;
    let skipped: ShardState[] | null = null;
    let found: ShardState | null = null;
    for (let top = queue.peek(); top !== undefined; top = queue.peek()) {
      if (!wantsLease(top)) {
        queue.pop();
        continue;
      }
      if (!involved(top, volunteer)) {
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

  /**
   * [L-1] Puts a shard (back) in its job's queue if it wants another lease. Returns whether it
   * does: even a shard still queued is news to volunteers told no-work ([L-9]).
   */
  offer(shard: ShardState): boolean {
    if (!wantsLease(shard)) return false;
    if (!shard.queued) this.queues.get(shard.jobId)?.push(shard);
    return true;
  }
}
