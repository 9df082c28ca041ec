/**
 * The `telemetry` frame: what the coordinator tells observers (the network map), a few times a
 * second whatever the network's size ([T-1]..[T-4] in core/SPEC.md). The frame itself is declared
 * in `messages.ts` from the shape below; this file keeps its parts and their bounds.
 */
import { z } from 'zod';
import { BACKENDS } from './capabilities.ts';
import { LIMITS } from './limits.ts';
import { backendSchema, countSchema as count, fractionSchema as fraction, msSchema as ms, peerIdSchema, roleSchema } from './schemas.ts';

/** [T-2] Bounds of one telemetry frame: its size never grows with the network past these. */
export const TELEMETRY_LIMITS = {
  /** Peers listed one by one; the rest are summarised in `rest`. */
  maxPeers: 1000,
  /** Most recent jobs listed; all jobs still count in `totals`. */
  maxJobs: 20,
  /** Unordered backend pairs: every pair of BACKENDS, both orders folded. */
  maxBackendPairs: (BACKENDS.length * (BACKENDS.length + 1)) / 2,
} as const;

/**
 * What a peer is doing now, as the map shows it. Volunteers are `working` (a lease out or a result
 * in this tick), `idle`, `paused` (connected but not taking work) or `quarantined` (no more work:
 * caught lying against known answers, [X-1] — never for a lost vote alone); requesters and
 * observers are `online`.
 */
export const PEER_STATUSES = ['working', 'idle', 'paused', 'quarantined', 'online'] as const;
export type PeerStatus = (typeof PEER_STATUSES)[number];

const rate = z.number().min(0).max(1e9);

/** What happened on one peer's edge during the last tick ([T-3]). */
export const tickFlowSchema = z.object({
  leases: count,
  results: count,
  verified: count,
  disagreements: count,
});
export type TickFlow = z.infer<typeof tickFlowSchema>;

export const telemetryPeerSchema = z.object({
  peerId: peerIdSchema,
  role: roleSchema,
  label: z.string().max(100),
  backend: backendSchema.nullable(),
  adapter: z.string().max(LIMITS.maxNameLength).nullable(),
  status: z.enum(PEER_STATUSES),
  quarantined: z.boolean(),
  /** Shards whose accepted quorum included this volunteer. */
  shardsDone: count,
  /** Results this volunteer returned (accepted, outvoted or still undecided). */
  resultsReturned: count,
  /** Results outvoted by a quorum or rejected as malformed. */
  rejected: count,
  /** shardsDone / (shardsDone + rejected); null before anything was decided. */
  agreementRate: fraction.nullable(),
  /** The coordinator's trust in this volunteer, when it keeps one; null otherwise. */
  reputation: z.number().min(-1e9).max(1e9).nullable(),
  /** Results per second, smoothed. */
  throughputPerS: rate,
  activeLeases: count,
  connectedAtMs: ms,
  flow: tickFlowSchema,
});
export type TelemetryPeer = z.infer<typeof telemetryPeerSchema>;

/** Peers beyond `TELEMETRY_LIMITS.maxPeers`, as one summary. */
export const telemetryRestSchema = z.object({
  peers: count,
  volunteers: count,
  working: count,
  quarantined: count,
  shardsDone: count,
  throughputPerS: rate,
});
export type TelemetryRest = z.infer<typeof telemetryRestSchema>;

export const telemetryTotalsSchema = z.object({
  peers: count,
  volunteers: count,
  working: count,
  idle: count,
  paused: count,
  quarantined: count,
  activeLeases: count,
  /** Network-wide results per second, smoothed. */
  throughputPerS: rate,
  /** Verified shards and outvoted results over all jobs the coordinator holds. */
  shardsVerified: count,
  disagreements: count,
  /** This tick, all peers together (listed or not). */
  flow: tickFlowSchema,
});
export type TelemetryTotals = z.infer<typeof telemetryTotalsSchema>;

/** How often replicas from two backends agreed, counted per pair of replicas in decided shards. */
export const backendPairSchema = z.object({
  a: backendSchema,
  b: backendSchema,
  agree: count,
  disagree: count,
});
export type BackendPairCount = z.infer<typeof backendPairSchema>;

/** The fields of the telemetry frame (besides `v`, `t` and `jobs`, added in messages.ts). */
export const telemetryShape = {
  /** The coordinator's clock when the frame was built. */
  atMs: ms,
  seq: count,
  /** Time since the previous frame. */
  intervalMs: ms,
  peers: z.array(telemetryPeerSchema).max(TELEMETRY_LIMITS.maxPeers),
  rest: telemetryRestSchema,
  totals: telemetryTotalsSchema,
  backendPairs: z.array(backendPairSchema).max(TELEMETRY_LIMITS.maxBackendPairs),
};
