/**
 * Read models: the snapshots hosts, views, telemetry and volunteers get of the coordinator's
 * state (job statuses, peer summaries and samples, verified shards, a volunteer's standing).
 * Functions over just the state each needs, apart from the coordinator because they only read
 * and copy: nothing here may change what the coordinator decides, and the copies share nothing
 * mutable with it.
 */
import type { PeerId } from '../../protocol/ids.ts';
import type { Spread } from '../../protocol/spread.ts';
import type { FromCoordinator, JobStatus, PeerSummary, Role, VerifiedShard } from '../../protocol/messages.ts';
import { PROTOCOL_VERSION } from '../../protocol/messages.ts';
import type { ReputationBook } from '../reputation/reputation.ts';
import type { PeerSample } from '../telemetry/aggregator.ts';
import type { JobCounts } from './jobBook.ts';
import { normalisePriority } from './jobScheduler.ts';
import { adapterLabel } from './peerFacts.ts';
import type { JobRecord, PeerState, ShardState } from './state.ts';

type Peers = ReadonlyMap<PeerId, PeerState>;

/**
 * [J-3] Every shard is in exactly one of verified, unverifiable, in flight, pending.
 * `awaitDurable`: [S-2] an acceptance not yet in storage is still in flight to whoever watches.
 */
export function jobStatusOf(job: JobRecord, counts: JobCounts, awaitDurable: boolean, spread?: Spread): JobStatus {
  // The counts are kept up to date at every change (syncInFlight, evaluate, reopen), so this is O(1).
  const { unverifiable, disagreements } = counts;
  const verified = awaitDurable ? counts.durable : counts.verified;
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
    ...(spread ? { spread } : {}),
  };
}

/** Every peer that said hello, as the coordinator page lists it. */
export function peerSummariesOf(peers: Peers, reputation: ReputationBook): PeerSummary[] {
  const out: PeerSummary[] = [];
  for (const p of peers.values()) {
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
        ? { trusted: p.caps !== null && reputation.isTrusted(p.id, p.caps.backend), quarantined: reputation.isQuarantined(p.id), paused: p.paused }
        : {}),
    });
  }
  return out;
}

/** [T-1] Per-peer counters for the telemetry aggregator (see core/telemetry/). */
export function peerSamplesOf(peers: Peers, reputation: ReputationBook): PeerSample[] {
  const out: PeerSample[] = [];
  for (const p of peers.values()) {
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
      quarantined: reputation.isQuarantined(p.id),
      paused: p.paused,
      // Progress towards trust on its backend, 0..1 (1 = trusted streak reached).
      reputation: p.role === 'volunteer' ? reputation.trustLevel(p.id, p.caps?.backend ?? null) : null,
    });
  }
  return out;
}

/** The ids of the peers that said hello in `role`. */
export function peersWithRole(peers: Peers, role: Role): PeerId[] {
  return [...peers.values()].filter((p) => p.role === role).map((p) => p.id);
}

/** A job's verified shards with their provenance; `awaitDurable`: [S-2] only those in storage. */
export function verifiedShardsOf(shards: readonly ShardState[], awaitDurable: boolean): VerifiedShard[] {
  const out: VerifiedShard[] = [];
  for (const s of shards) {
    if (s.status !== 'verified' || !s.accepted) continue;
    if (awaitDurable && !s.durable) continue; // [S-2]
    out.push({
      index: s.index,
      start: s.start,
      count: s.count,
      outputs: [...s.accepted.outputs],
      ...(s.accepted.answers ? { answers: [...s.accepted.answers] } : {}),
      volunteers: [...s.accepted.volunteers],
      backends: [...s.accepted.backends],
      ...(s.accepted.adapters ? { adapters: [...s.accepted.adapters] } : {}),
      ...(s.accepted.ortVersions ? { ortVersions: [...s.accepted.ortVersions] } : {}),
      ...(s.accepted.volunteerKeys ? { volunteerKeys: [...s.accepted.volunteerKeys] } : {}),
      ...(s.accepted.resultSigs ? { resultSigs: [...s.accepted.resultSigs] } : {}),
      ...(s.accepted.resultLeases ? { resultLeases: [...s.accepted.resultLeases] } : {}),
      ...(s.accepted.resultDigests ? { resultDigests: [...s.accepted.resultDigests] } : {}),
    });
  }
  return out;
}

/** Connected volunteers that still owe a canary. */
export function pendingAuditsOf(peers: Peers, reputation: ReputationBook): number {
  let n = 0;
  for (const p of peers.values()) if (p.role === 'volunteer' && reputation.owesCanary(p.id)) n++;
  return n;
}

/** [P-7] What the coordinator now knows of a volunteer's standing, as told to it. */
export function volunteerStatusOf(p: PeerState, reputation: ReputationBook): Extract<FromCoordinator, { t: 'volunteer-status' }> {
  const id = p.id;
  const backend = p.caps?.backend ?? null;
  const rec = reputation.get(id);
  return {
    v: PROTOCOL_VERSION,
    t: 'volunteer-status',
    shardsAccepted: p.shardsAccepted,
    resultsReturned: p.resultsReturned,
    resultsRejected: p.resultsRejected,
    paused: p.paused,
    trusted: backend !== null && reputation.isTrusted(id, backend),
    streak: backend !== null && rec ? rec.streak[backend] : 0,
    trustLevel: reputation.trustLevel(id, backend),
    quarantined: reputation.isQuarantined(id),
  };
}
