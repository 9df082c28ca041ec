/**
 * Turns the coordinator's cumulative per-peer counters into `telemetry` frames for observers
 * ([T-1]..[T-4] in core/SPEC.md). Pure and deterministic: the host samples the coordinator and
 * calls `tick(sample, now)` on a timer; the frame's size is bounded whatever the network's size.
 *
 * Flows are the differences of cumulative counters between two ticks, so nothing has to be
 * recorded as it happens and no event can be counted twice.
 */
import type { Backend } from '../../protocol/capabilities.ts';
import type { PeerId } from '../../protocol/ids.ts';
import { PROTOCOL_VERSION, type FromCoordinator, type JobStatus, type Role } from '../../protocol/messages.ts';
import {
  TELEMETRY_LIMITS,
  type BackendPairCount,
  type PeerStatus,
  type TelemetryPeer,
  type TelemetryRest,
  type TelemetryTotals,
  type TickFlow,
} from '../../protocol/telemetry.ts';

export type TelemetryFrame = Extract<FromCoordinator, { t: 'telemetry' }>;

/** One peer as the coordinator knows it: identity, state now, and counters since it joined. */
export interface PeerSample {
  readonly peerId: PeerId;
  readonly role: Role;
  readonly label: string;
  readonly backend: Backend | null;
  readonly adapter: string | null;
  readonly connectedAtMs: number;
  readonly activeLeases: number;
  /** Cumulative counters, never decreasing while the peer stays connected. */
  readonly leasesIssued: number;
  readonly resultsReturned: number;
  readonly shardsAccepted: number;
  readonly rejected: number;
  readonly quarantined: boolean;
  readonly paused: boolean;
  readonly reputation: number | null;
}

/** Everything one tick needs, read from the coordinator at one instant. */
export interface TelemetrySample {
  readonly peers: readonly PeerSample[];
  readonly jobs: readonly JobStatus[];
  readonly backendPairs: readonly BackendPairCount[];
}

export interface TelemetryConfig {
  /** Peers listed one by one (at most TELEMETRY_LIMITS.maxPeers). */
  readonly maxPeers: number;
  /** Time constant of the throughput average. */
  readonly throughputTauMs: number;
}

export const DEFAULT_TELEMETRY_CONFIG: TelemetryConfig = {
  maxPeers: TELEMETRY_LIMITS.maxPeers,
  throughputTauMs: 5_000,
};

interface PeerMemory {
  leasesIssued: number;
  resultsReturned: number;
  shardsAccepted: number;
  rejected: number;
  throughputPerS: number;
}

const NO_FLOW: TickFlow = { leases: 0, results: 0, verified: 0, disagreements: 0 };

/** Counter difference; a counter that went down (it cannot while connected) counts as zero. */
const delta = (now: number, before: number): number => Math.max(0, now - before);

/** [T-4] Status: quarantined, then paused, then working (a lease out or a result this tick), else idle. */
export function statusOf(p: PeerSample, flow: TickFlow): PeerStatus {
  if (p.role !== 'volunteer') return 'online';
  if (p.quarantined) return 'quarantined';
  if (p.paused) return 'paused';
  if (p.activeLeases > 0 || flow.results > 0 || flow.leases > 0) return 'working';
  return 'idle';
}

export class TelemetryAggregator {
  private readonly memory = new Map<PeerId, PeerMemory>();
  /** Peers listed in the previous frame: they keep their place, so the map does not flicker. */
  private listed = new Set<PeerId>();
  private lastAtMs: number | null = null;
  private seq = 0;

  constructor(private readonly config: TelemetryConfig = DEFAULT_TELEMETRY_CONFIG) {}

  tick(sample: TelemetrySample, now: number): TelemetryFrame {
    const intervalMs = this.lastAtMs === null ? 0 : Math.max(0, now - this.lastAtMs);
    this.lastAtMs = now;
    // Exponential moving average weight for this interval; 0 on the first tick (no rate yet).
    const alpha = intervalMs > 0 ? 1 - Math.exp(-intervalMs / this.config.throughputTauMs) : 0;

    const rows: { sample: PeerSample; flow: TickFlow; throughputPerS: number }[] = [];
    const seen = new Set<PeerId>();
    for (const p of sample.peers) {
      seen.add(p.peerId);
      const before = this.memory.get(p.peerId);
      // [T-3] A peer's first sample is its baseline: what it did before is not this tick's flow.
      const flow: TickFlow = before
        ? {
            leases: delta(p.leasesIssued, before.leasesIssued),
            results: delta(p.resultsReturned, before.resultsReturned),
            verified: delta(p.shardsAccepted, before.shardsAccepted),
            disagreements: delta(p.rejected, before.rejected),
          }
        : NO_FLOW;
      const instant = intervalMs > 0 ? (flow.results * 1000) / intervalMs : 0;
      const previous = before?.throughputPerS ?? 0;
      const throughputPerS = clean(previous + alpha * (instant - previous));
      this.memory.set(p.peerId, {
        leasesIssued: p.leasesIssued,
        resultsReturned: p.resultsReturned,
        shardsAccepted: p.shardsAccepted,
        rejected: p.rejected,
        throughputPerS,
      });
      rows.push({ sample: p, flow, throughputPerS });
    }
    // Peers that left are forgotten, so the memory is as big as the network, no bigger.
    for (const id of [...this.memory.keys()]) if (!seen.has(id)) this.memory.delete(id);

    // [T-2] At most maxPeers listed: quarantined first, then those listed last time, volunteers
    // before other roles, oldest first, then by id — a total order, so the choice is deterministic.
    const rank = (r: (typeof rows)[number]): number =>
      (r.sample.quarantined ? 0 : 4) + (this.listed.has(r.sample.peerId) ? 0 : 2) + (r.sample.role === 'volunteer' ? 0 : 1);
    rows.sort(
      (x, y) =>
        rank(x) - rank(y) ||
        x.sample.connectedAtMs - y.sample.connectedAtMs ||
        (x.sample.peerId < y.sample.peerId ? -1 : x.sample.peerId > y.sample.peerId ? 1 : 0),
    );
    const limit = Math.max(0, Math.min(this.config.maxPeers, TELEMETRY_LIMITS.maxPeers));
    const peers: TelemetryPeer[] = [];
    const rest: Mutable<TelemetryRest> = { peers: 0, volunteers: 0, working: 0, quarantined: 0, shardsDone: 0, throughputPerS: 0 };
    const totals: Mutable<TelemetryTotals> = {
      peers: rows.length,
      volunteers: 0,
      working: 0,
      idle: 0,
      paused: 0,
      quarantined: 0,
      activeLeases: 0,
      throughputPerS: 0,
      shardsVerified: 0,
      disagreements: 0,
      flow: { ...NO_FLOW },
    };
    const flowTotal = totals.flow as Mutable<TickFlow>;
    for (const [i, r] of rows.entries()) {
      const p = r.sample;
      const status = statusOf(p, r.flow);
      if (p.role === 'volunteer') totals.volunteers++;
      if (status === 'working') totals.working++;
      else if (status === 'idle') totals.idle++;
      else if (status === 'paused') totals.paused++;
      else if (status === 'quarantined') totals.quarantined++;
      totals.activeLeases += p.activeLeases;
      totals.throughputPerS += r.throughputPerS;
      flowTotal.leases += r.flow.leases;
      flowTotal.results += r.flow.results;
      flowTotal.verified += r.flow.verified;
      flowTotal.disagreements += r.flow.disagreements;
      if (i < limit) {
        const decided = p.shardsAccepted + p.rejected;
        peers.push({
          peerId: p.peerId,
          role: p.role,
          label: p.label.slice(0, 100),
          backend: p.backend,
          adapter: p.adapter,
          status,
          quarantined: p.quarantined,
          shardsDone: p.shardsAccepted,
          resultsReturned: p.resultsReturned,
          rejected: p.rejected,
          agreementRate: decided > 0 ? p.shardsAccepted / decided : null,
          reputation: p.reputation !== null && Number.isFinite(p.reputation) ? p.reputation : null,
          throughputPerS: r.throughputPerS,
          activeLeases: p.activeLeases,
          connectedAtMs: p.connectedAtMs,
          flow: r.flow,
        });
      } else {
        rest.peers++;
        if (p.role === 'volunteer') rest.volunteers++;
        if (status === 'working') rest.working++;
        if (status === 'quarantined') rest.quarantined++;
        rest.shardsDone += p.shardsAccepted;
        rest.throughputPerS += r.throughputPerS;
      }
    }
    this.listed = new Set(peers.map((p) => p.peerId));
    for (const j of sample.jobs) {
      totals.shardsVerified += j.verified;
      totals.disagreements += j.disagreements;
    }
    totals.throughputPerS = clean(totals.throughputPerS);
    rest.throughputPerS = clean(rest.throughputPerS);

    // The most recent jobs; all of them are counted in the totals above.
    const jobs = [...sample.jobs]
      .sort((a, b) => b.createdAtMs - a.createdAtMs || (a.jobId < b.jobId ? -1 : a.jobId > b.jobId ? 1 : 0))
      .slice(0, TELEMETRY_LIMITS.maxJobs);
    const backendPairs = sample.backendPairs.slice(0, TELEMETRY_LIMITS.maxBackendPairs).map((p) => ({ ...p }));

    return {
      v: PROTOCOL_VERSION,
      t: 'telemetry',
      atMs: now,
      seq: this.seq++,
      intervalMs,
      peers,
      rest,
      totals,
      backendPairs,
      jobs,
    };
  }
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/** Rates are finite and non-negative, and rounded so frames stay small and comparable. */
function clean(x: number): number {
  if (!Number.isFinite(x) || x < 1e-6) return 0;
  return Math.round(x * 1000) / 1000;
}
