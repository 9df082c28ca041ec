/**
 * The coordinator's in-memory state. Plain records, owned and mutated only by `CoordinatorCore`.
 */
import type { Backend, Capabilities } from '../../protocol/capabilities.ts';
import type { JobId, LeaseId, ModelHash, PeerId, ShardId } from '../../protocol/ids.ts';
import type { Role } from '../../protocol/messages.ts';
import type { VerificationPolicy } from '../../protocol/policy.ts';
import type { WireTensor } from '../../protocol/tensor.ts';

export interface CoordinatorConfig {
  readonly networkId: string;
  /** Time a volunteer has for one shard before it is leased to someone else. */
  readonly leaseTimeoutMs: number;
  /** How long a volunteer that got `no-work` waits before asking again. */
  readonly noWorkRetryMs: number;
  readonly maxLeasesPerVolunteer: number;
  /** A peer silent for this long (no frame, not even a ping) is treated as gone. */
  readonly peerTimeoutMs: number;
  /** Required in every submission; empty string means the network takes jobs from anyone. */
  readonly requesterKey: string;
}

export const DEFAULT_COORDINATOR_CONFIG: Omit<CoordinatorConfig, 'networkId'> = {
  leaseTimeoutMs: 60_000,
  noWorkRetryMs: 1_000,
  maxLeasesPerVolunteer: 1,
  peerTimeoutMs: 12_000,
  requesterKey: '',
};

export interface JobRecord {
  readonly id: JobId;
  readonly name: string;
  readonly modelHash: ModelHash;
  readonly modelBytes: number;
  /** The whole batch, one tensor per model input, batch dim first. */
  readonly inputs: readonly WireTensor[];
  readonly items: number;
  readonly shardSize: number;
  readonly shardCount: number;
  readonly policy: VerificationPolicy;
  readonly createdAtMs: number;
  readonly submittedBy: PeerId;
}

export interface Replica {
  readonly volunteer: PeerId;
  readonly backend: Backend;
  readonly outputs: readonly WireTensor[];
  readonly receivedAtMs: number;
}

export type ShardStatus = 'open' | 'verified' | 'unverifiable';

export interface AcceptedResult {
  readonly outputs: readonly WireTensor[];
  readonly volunteers: readonly PeerId[];
  readonly backends: readonly Backend[];
  readonly acceptedAtMs: number;
}

export interface ShardState {
  readonly id: ShardId;
  readonly jobId: JobId;
  readonly index: number;
  readonly start: number;
  readonly count: number;
  status: ShardStatus;
  /** How many replicas this shard needs now; grows on disagreement, up to maxReplicas. */
  target: number;
  readonly replicas: Replica[];
  /** Leases out now. */
  readonly leases: Set<LeaseId>;
  accepted: AcceptedResult | null;
  /** Results that were outvoted, for the researcher's view. */
  disagreements: number;
}

export interface LeaseState {
  readonly id: LeaseId;
  readonly shardId: ShardId;
  readonly volunteer: PeerId;
  readonly issuedAtMs: number;
  readonly deadlineMs: number;
}

export interface PeerState {
  readonly id: PeerId;
  readonly connectedAtMs: number;
  /** Last frame received from this peer. */
  lastSeenMs: number;
  /** null until the peer's hello. */
  role: Role | null;
  label: string;
  caps: Capabilities | null;
  readonly leases: Set<LeaseId>;
  resultsReturned: number;
  /** Results of this volunteer that ended up in an accepted quorum. */
  shardsAccepted: number;
  resultsRejected: number;
}
