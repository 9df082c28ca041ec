/**
 * The coordinator's in-memory state. Plain records, owned and mutated only by `CoordinatorCore`
 * and the books beside it in this directory.
 */
import type { JobFile } from '../../protocol/jobFiles.ts';
import type { Answer, Pipeline } from '../../protocol/pipeline.ts';
import type { Backend, Capabilities } from '../../protocol/capabilities.ts';
import type { JobId, LeaseId, ModelHash, PeerId, ShardId } from '../../protocol/ids.ts';
import type { Role } from '../../protocol/messages.ts';
import type { VerificationPolicy } from '../../protocol/policy.ts';
import type { PeerBudgets } from '../../protocol/peerBudgets.ts';
import type { TensorDtype, WireTensor } from '../../protocol/tensor.ts';
import type { TrustConfig } from '../reputation/reputation.ts';

export interface CoordinatorConfig {
  readonly networkId: string;
  /** Time a volunteer has for one shard before it is leased to someone else. */
  readonly leaseTimeoutMs: number;
  /** How long a volunteer that got `no-work` waits before asking again. */
  readonly noWorkRetryMs: number;
  readonly maxLeasesPerVolunteer: number;
  /** A peer silent for this long (no frame, not even a ping) is treated as gone. */
  readonly peerTimeoutMs: number;
  /**
   * [P-7] Result-driven standing reports go out at most this often, batched on `tick`: reported
   * at once, a quicker rise after one particular shard would tell a volunteer it was a canary.
   */
  readonly standingReportMs: number;
  /** Required in every submission; empty string means the network takes jobs from anyone. */
  readonly requesterKey: string;
  /** Reputation, canary and quarantine tuning ([A-n], [C-n], [X-n]); DEFAULT_TRUST fills the rest. */
  readonly trust?: Partial<TrustConfig>;
  /**
   * [L-8] Deadlines scaled to each volunteer's measured speed: `factor` × its expected time for
   * the shard + `slackMs`, never below `floorMs` nor above `leaseTimeoutMs` (which a volunteer
   * not yet measured gets). Absent: every lease gets `leaseTimeoutMs`.
   */
  readonly leaseDeadline?: LeaseDeadlineConfig;
  /**
   * [L-8] [L-10] The longest any lease may last from its issue: the most a measured deadline
   * gives and the most progress frames extend to. Absent: DEFAULT_LEASE_CEILING_MS.
   */
  readonly leaseCeilingMs?: number;
  /**
   * [S-2] Count a shard as verified (status, results) only once the host reported its durable
   * write (`shardStored`). The coordinator host sets it; pure simulations, which store nothing,
   * leave it off.
   */
  readonly awaitDurableWrites?: boolean;
  /**
   * [I-2] [I-3] Volunteers must prove a key in `hello` and sign every result; ids belong to keys
   * and no resume token is minted. The coordinator host sets it (it checks the signatures); pure
   * simulations, which run no WebCrypto, leave it off and keep [I-1] tokens.
   */
  readonly volunteerKeys?: boolean;
  /** [B-6] [B-7] [B-8] What one peer may cost; absent: PEER_BUDGETS (protocol/peerBudgets.ts). */
  readonly budgets?: PeerBudgets;
}

export interface LeaseDeadlineConfig {
  readonly factor: number;
  readonly slackMs: number;
  readonly floorMs: number;
  /** Weight of the newest measurement in the smoothed time per item (0..1]. */
  readonly alpha: number;
}

export const DEFAULT_LEASE_DEADLINE: LeaseDeadlineConfig = { factor: 4, slackMs: 5_000, floorMs: 15_000, alpha: 0.3 };

/**
 * [L-10] 30 min: far beyond honest work on a shard (the slowest seen, a software WebGPU adapter,
 * took 73 s for 10 text lines), short enough that a volunteer that only pretends to work holds
 * a lease's slot for a bounded time.
 */
export const DEFAULT_LEASE_CEILING_MS = 30 * 60_000;

export const DEFAULT_COORDINATOR_CONFIG: Omit<CoordinatorConfig, 'networkId'> = {
  leaseTimeoutMs: 60_000,
  noWorkRetryMs: 1_000,
  // [W-18] Two: the shard running and the next one, whose inputs travel during the compute.
  maxLeasesPerVolunteer: 2,
  peerTimeoutMs: 12_000,
  standingReportMs: 5_000,
  requesterKey: '',
  leaseDeadline: DEFAULT_LEASE_DEADLINE,
};

export interface JobRecord {
  readonly id: JobId;
  readonly name: string;
  readonly modelHash: ModelHash;
  readonly modelBytes: number;
  /** The whole batch, one tensor per model input, batch dim first. Empty for a job of files. */
  readonly inputs: readonly WireTensor[];
  /** [J-7] A job of files: one file per item, and the pipeline each volunteer runs on them. */
  readonly files?: readonly JobFile[];
  readonly pipeline?: Pipeline;
  readonly items: number;
  readonly shardSize: number;
  readonly shardCount: number;
  readonly policy: VerificationPolicy;
  readonly createdAtMs: number;
  readonly submittedBy: PeerId;
  /** [L-6] 1-10; absent (jobs stored before priorities existed) means 1. */
  readonly priority?: number;
  /** [J-6] One name per item (its input file), for exports; absent when the job was submitted without. */
  readonly itemNames?: readonly string[];
  /**
   * The model's outputs as the coordinator's own engine reported them at admission ([J-4]);
   * every result is checked against it. Absent (jobs stored before it was recorded, or admitted
   * without an inspector): only the batch dim is checked ([R-5]).
   */
  readonly outputSignature?: readonly OutputPort[];
}

/** One model output: its name, dtype and dims (a number is fixed, a string or negative number free). */
export interface OutputPort {
  readonly name: string;
  readonly dtype: TensorDtype;
  readonly dims: readonly (number | string)[];
}

export interface Replica {
  readonly volunteer: PeerId;
  readonly backend: Backend;
  /** The volunteer's WebGPU adapter ("vendor architecture"), null on WASM; its onnxruntime-web version. */
  readonly adapter: string | null;
  readonly ortVersion: string;
  readonly outputs: readonly WireTensor[];
  /** [V-12] A pipeline job's answers, one per item (and `outputs` is empty). */
  readonly answers?: readonly Answer[];
  readonly receivedAtMs: number;
  /** [I-3] The volunteer's public key (SPKI) and its checked signature over the result; absent without [I-2] keys. */
  readonly volunteerKey?: string;
  readonly signature?: string;
  /** [I-3] The lease the signature names (part of what was signed). */
  readonly signedLeaseId?: LeaseId;
  /** [I-3] The output digest the signature covers (hex): this replica's own, which under tolerance is not the accepted one's. */
  readonly signedDigest?: string;
}

export type ShardStatus = 'open' | 'verified' | 'unverifiable';

export interface AcceptedResult {
  readonly outputs: readonly WireTensor[];
  /** [V-12] A pipeline job's verified answers, one per item (and `outputs` is empty). */
  readonly answers?: readonly Answer[];
  readonly volunteers: readonly PeerId[];
  readonly backends: readonly Backend[];
  /** Per agreeing volunteer: adapter (null on WASM) and onnxruntime-web version. Absent in results stored before they were recorded. */
  readonly adapters?: readonly (string | null)[];
  readonly ortVersions?: readonly string[];
  /** [I-3] Per agreeing volunteer: its public key and result signature; absent unless every agreeing result was signed. */
  readonly volunteerKeys?: readonly string[];
  readonly resultSigs?: readonly string[];
  /** [I-3] The lease each signature names, so the signature can be checked without this coordinator. */
  readonly resultLeases?: readonly LeaseId[];
  /** [I-3] The output digest each signature covers (hex); absent unless every agreeing replica kept one. */
  readonly resultDigests?: readonly string[];
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
  /** Leased to a trusted volunteer alone: its one result is the quorum. */
  lone: boolean;
  /** A trusted volunteer's shard that was drawn for a spot-check. */
  spotChecked: boolean;
  /** Bumped at every acceptance and re-opening: a canary tests one acceptance ([C-3]). */
  epoch: number;
  /** [L-1] Work-queue order within the job (the index) and whether it has an entry there. */
  readonly queueKey: number;
  queued: boolean;
  /** [J-3] Counted as in flight (open, with a lease or a replica). */
  inFlight: boolean;
  /**
   * [S-2] Its current acceptance is in storage (the host reported the strict write of this
   * epoch): only then does it count as verified to requesters and the page. Absent = false.
   */
  durable?: boolean;
}

export interface LeaseState {
  readonly id: LeaseId;
  readonly shardId: ShardId;
  readonly volunteer: PeerId;
  readonly issuedAtMs: number;
  /** [L-4] When it ends; [L-10] progress frames from its holder move it later, up to the ceiling. */
  deadlineMs: number;
  /** [L-10] When a progress frame last extended it (absent: never), for the rate bound. */
  progressAtMs?: number;
  /** The shard itself, so the hot paths need no lookup by id. */
  readonly shard: ShardState;
  /** [C-2] A canary: the shard is already verified and this result is checked against its answer. */
  readonly canary: boolean;
  /** The shard's epoch when leased; a canary whose shard was re-opened since tests nothing. */
  readonly epoch: number;
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
  /** Leases ever issued to this peer, for telemetry flows ([T-3]). */
  leasesIssued: number;
  resultsReturned: number;
  /** Results of this volunteer that ended up in an accepted quorum. */
  shardsAccepted: number;
  resultsRejected: number;
  /** [P-5] The volunteer said it paused: no leases until it resumes. */
  paused: boolean;
  pauseReason: string;
  /** [J-11] A requester that proved the network's requester key: it may read the network's jobs. */
  ownsJobs: boolean;
  /** [I-2] The public key (SPKI) this volunteer proved in its hello; null without [I-2] keys. */
  volunteerKey: string | null;
}

/** A peer as it connects: no hello yet, so no role, and nothing leased, returned or paused. */
export function connectingPeer(id: PeerId, now: number): PeerState {
  return {
    id,
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
    ownsJobs: false,
    volunteerKey: null,
  };
}

/** Running totals of the verification machinery, for simulations and the coordinator page. */
export interface VerificationTotals {
  /** Results taken in: replicas and canary answers (not duplicates or rejected ones). */
  results: number;
  canaryLeases: number;
  canaryResults: number;
  /** Shards of trusted volunteers that were cross-checked anyway. */
  spotChecks: number;
  /** Shards accepted on one trusted volunteer's result. */
  loneAccepted: number;
  /** Accepted or unverifiable shards re-opened because a contributor was quarantined. */
  reopened: number;
  quarantined: number;
}

/** [S-1] What the coordinator keeps of one lease in storage; `retired`: ended, but a late result still counts. */
export interface LeaseRecord {
  readonly id: LeaseId;
  readonly jobId: JobId;
  readonly shardIndex: number;
  readonly volunteer: PeerId;
  readonly issuedAtMs: number;
  readonly deadlineMs: number;
  readonly canary: boolean;
  readonly epoch: number;
  readonly retired: boolean;
}

/** [P-7] A volunteer's standing counters, kept across its connections. */
export interface Standing {
  readonly shardsAccepted: number;
  readonly resultsReturned: number;
  readonly resultsRejected: number;
}

/** [I-1] [S-1] What the coordinator keeps of one volunteer id in storage. */
export interface PeerRecord {
  readonly peerId: PeerId;
  /** [I-1] The id's resume token, or [I-2] `key:<fingerprint>` for an id that belongs to a key. */
  readonly token: string;
  /** The reputation book's own snapshot of this id (opaque here). */
  readonly reputation: unknown;
  readonly standing: Standing;
}

/**
 * [I-2] [I-3] What the host found checking a volunteer's signature: the core never runs WebCrypto,
 * it is told. `ok`: the signature is `publicKey`'s (whose fingerprint is given) over the payload
 * the rule names; for a result, `outputDigest` is the digest (hex) of the outputs that payload
 * covers, kept with the replica so the signature checks offline ([AU-4]).
 */
export type SignatureCheck =
  | { readonly ok: true; readonly publicKey: string; readonly fingerprint: string; readonly sig: string; readonly outputDigest?: string }
  | { readonly ok: false; readonly reason: string };
