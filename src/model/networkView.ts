/**
 * What the network map shows: the latest telemetry frame plus a bounded history for the charts.
 * `applyTelemetry` is the one path every frame takes into the store — from the coordinator, or
 * from the seeded demo generator (`#/network?demo=500`) — so the map cannot tell them apart.
 */
import type { TelemetryFrame } from '../core/telemetry/aggregator.ts';
import type { JobStatus, PeerSummary } from '../protocol/messages.ts';
import type { RoleConnectionView } from './connection.ts';

export interface NetworkView extends RoleConnectionView {
  readonly peers: readonly PeerSummary[];
  readonly jobs: readonly JobStatus[];
  /** Where the frames come from: the coordinator, or the seeded demo generator (`?demo=N`). */
  readonly source: 'coordinator' | 'demo';
  /** The latest telemetry frame (see applyTelemetry below). */
  readonly telemetry: TelemetryFrame | null;
  /** One point per frame, bounded, for the charts. */
  readonly history: readonly TelemetryPoint[];
}

/** One chart sample per frame. */
export interface TelemetryPoint {
  /** Seconds, for uPlot's time axis. */
  readonly t: number;
  readonly throughputPerS: number;
  readonly shardsVerified: number;
  readonly disagreements: number;
  /** Shards verified and results outvoted in this frame's tick. */
  readonly verifiedInTick: number;
  readonly disagreementsInTick: number;
  readonly working: number;
  readonly quarantined: number;
}

/** Two minutes at two frames a second. */
export const MAX_HISTORY = 240;

/** What the network slice becomes after one more telemetry frame. */
export function applyTelemetry(prev: NetworkView, frame: TelemetryFrame): Partial<NetworkView> {
  // A frame older than the one shown (a reordered or replayed frame) changes nothing.
  if (prev.telemetry && frame.atMs < prev.telemetry.atMs) return {};
  const point: TelemetryPoint = {
    t: frame.atMs / 1000,
    throughputPerS: frame.totals.throughputPerS,
    shardsVerified: frame.totals.shardsVerified,
    disagreements: frame.totals.disagreements,
    verifiedInTick: frame.totals.flow.verified,
    disagreementsInTick: frame.totals.flow.disagreements,
    working: frame.totals.working,
    quarantined: frame.totals.quarantined,
  };
  const history = prev.history.length >= MAX_HISTORY ? prev.history.slice(prev.history.length - MAX_HISTORY + 1) : [...prev.history];
  history.push(point);
  const peers: PeerSummary[] = frame.peers.map((p) => ({
    peerId: p.peerId,
    role: p.role,
    label: p.label,
    backend: p.backend,
    adapter: p.adapter,
    shardsDone: p.shardsDone,
    activeLeases: p.activeLeases,
    connectedAtMs: p.connectedAtMs,
  }));
  return { telemetry: frame, history, peers, jobs: frame.jobs };
}
