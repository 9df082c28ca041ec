/**
 * What the UI shows, one slice per role. Hosts write it with `setState`; views only read it.
 */
import { create } from 'zustand';
import type { VolunteerStats } from '../core/volunteer/volunteer.ts';
import type { Capabilities } from '../protocol/capabilities.ts';
import type { JobId } from '../protocol/ids.ts';
import type { ResolvedPolicy } from '../protocol/policy.ts';
import type { JobStatus, PeerSummary } from '../protocol/messages.ts';
import type { LogLine } from './logSlice.ts';
import { DEFAULT_JOB_LIMITS, type JobLimits } from '../core/jobChecks.ts';
import type { AssembledResults } from '../workloads/export/assemble.ts';
import {
  initialDraft,
  initialWorkloadFiles,
  type ExportStatus,
  type ItemPreview,
  type JobRate,
  type RequesterDraft,
  type WorkloadFilesView,
} from './requesterSlice.ts';
import type { TelemetryFrame } from '../core/telemetry/aggregator.ts';
import type { TelemetryPoint } from './networkSlice.ts';
import { initialVolunteerControls, type VolunteerControlsView } from './volunteerSlice.ts';
import type { KeyAlarm } from '../protocol/coordinatorProof.ts';
import { budgetStatus, PAGE_PEER_CONNECTION_BUDGET, type BudgetStatus } from '../core/connectionBudget.ts';

export type ConnectionState = 'off' | 'starting' | 'connecting' | 'connected' | 'error';

export interface CoordinatorView {
  readonly state: ConnectionState;
  readonly error: string | null;
  readonly networkId: string;
  readonly peerId: string | null;
  readonly jobs: readonly JobStatus[];
  readonly peers: readonly PeerSummary[];
  readonly activeLeases: number;
  readonly signaling: 'connected' | 'lost' | null;
  readonly log: readonly LogLine[];
  /** Submissions must carry this key ([J-1]); null until loaded. */
  readonly requesterKey: string | null;
  /** This coordinator's job size limits ([J-4]), as saved on its page. */
  readonly jobLimits: JobLimits;
  /** [S-3] Its storage: whether the browser granted persistence, and what failed. */
  readonly storage: CoordinatorStorageView;
  /** [E-3] This tab's RTCPeerConnections: used, left, and whether to warn. */
  readonly connectionBudget: BudgetStatus;
}

export interface CoordinatorStorageView {
  /** `navigator.storage.persist()`'s answer; null until asked (or where the browser cannot). */
  readonly persisted: boolean | null;
  /** [S-3] The on-screen message while writes fail; null while storage works. */
  readonly error: string | null;
  /** Writes waiting for storage to work again. */
  readonly pendingWrites: number;
}

export interface VolunteerView {
  readonly state: ConnectionState;
  readonly error: string | null;
  readonly networkId: string;
  readonly caps: Capabilities | null;
  readonly stats: VolunteerStats | null;
  /** [W-17] The peer id this tab volunteers under, kept for the tab's life (and its reloads). */
  readonly peerId: string | null;
  readonly log: readonly LogLine[];
  /** Pause, CPU cap, threads, the tab and device state, long tasks (see volunteerSlice.ts). */
  readonly controls: VolunteerControlsView;
}

export interface Submission {
  readonly ref: string;
  readonly name: string;
  readonly state: 'sending' | 'accepted' | 'rejected';
  readonly jobId: JobId | null;
  readonly reason: string | null;
  /** Size of the submit frame's model and inputs, for "sending… N MB". */
  readonly bytes: number;
  readonly priority: number;
  /** [V-13] The policy as the coordinator resolves it, to hold the job's measured spread against. */
  readonly policy?: Pick<ResolvedPolicy, 'comparator' | 'answerComparator'>;
}

/** A finished job's verified results, as the requester holds them. */
export interface JobResults {
  readonly jobId: JobId;
  readonly items: number;
  readonly verifiedItems: number;
  /** Arg-max of the first output per item (-1 where unverified), for classifiers. */
  readonly predictions: readonly number[];
  /** Against known labels, when the job was a built-in workload with labels. */
  readonly accuracy: number | null;
  /** Distinct volunteer pairs and backends that agreed, for provenance. */
  readonly provenance: readonly {
    readonly start: number;
    readonly count: number;
    readonly volunteers: readonly string[];
    readonly backends: readonly string[];
  }[];
  /** The verified output tensors in item order, exactly as verified, for export. */
  readonly assembled: AssembledResults | null;
  /** Why the verified shards could not be put together, if they could not. */
  readonly assembleError: string | null;
}

/** [AU-4] What checking an export's receipt on the dashboard found. */
export interface ReceiptCheckStatus {
  readonly state: 'checking' | 'valid' | 'invalid';
  /** The file checked. */
  readonly file: string;
  /** One line per finding: what verified, or each problem (naming the shard). */
  readonly lines: readonly string[];
}

export interface RequesterView {
  readonly state: ConnectionState;
  readonly error: string | null;
  readonly networkId: string;
  readonly jobs: readonly JobStatus[];
  readonly submissions: readonly Submission[];
  readonly results: Readonly<Record<string, JobResults>>;
  /** A single-tab reference run of the built-in workload, to compare verified results with. */
  readonly reference: {
    readonly state: 'running' | 'done' | 'error';
    readonly predictions: readonly number[];
    readonly accuracy: number | null;
    readonly detail: string;
  } | null;
  readonly log: readonly LogLine[];
  /** The job being prepared on the dashboard. */
  readonly draft: RequesterDraft;
  /** Throughput and time left per job id. */
  readonly rates: Readonly<Record<string, JobRate>>;
  /** Why the last press of "Submit" sent nothing. */
  readonly submitProblems: readonly string[];
  /** Results downloads being built, or how the last one ended, per job id. */
  readonly exports: Readonly<Record<string, ExportStatus>>;
  /** [AU-4] The last "Verify receipt" on this page: running, or its verdict in words. */
  readonly receiptCheck: ReceiptCheckStatus | null;
  /** The files chosen for a built-in workload of files. */
  readonly workloadFiles: WorkloadFilesView;
  /** Per submission ref, per item name: what this tab still holds of the requester's files, for the results view. */
  readonly previews: Readonly<Record<string, Readonly<Record<string, ItemPreview>>>>;
}

export interface NetworkView {
  readonly state: ConnectionState;
  readonly error: string | null;
  readonly networkId: string;
  readonly peers: readonly PeerSummary[];
  readonly jobs: readonly JobStatus[];
  /** Where the frames come from: the coordinator, or the seeded demo generator (`?demo=N`). */
  readonly source: 'coordinator' | 'demo';
  /** The latest telemetry frame (see stores/networkSlice.ts). */
  readonly telemetry: TelemetryFrame | null;
  /** One point per frame, bounded, for the charts. */
  readonly history: readonly TelemetryPoint[];
}

/** [K-4] The client roles whose pages warn about a coordinator key they do not trust. */
export type KeyAlarmRole = 'volunteer' | 'requester' | 'network';

/** [K-1] [K-4] The coordinator's key, as this tab knows it. */
export interface KeyTrustView {
  /** The coordinator page's own key fingerprint (what its join links carry as `fp`); null until loaded. */
  readonly coordinatorFingerprint: string | null;
  /** Per client role: the key this tab verified its coordinator by (null until verified). */
  readonly verified: Readonly<Record<KeyAlarmRole, string | null>>;
  /** Per client role: the untrusted key presented under the coordinator's id, while it is a problem. */
  readonly alarms: Readonly<Record<KeyAlarmRole, KeyAlarm | null>>;
}

export interface QuorumState {
  readonly keyTrust: KeyTrustView;
  readonly coordinator: CoordinatorView;
  readonly volunteer: VolunteerView;
  readonly requester: RequesterView;
  readonly network: NetworkView;
}

export const initialState: QuorumState = {
  keyTrust: {
    coordinatorFingerprint: null,
    verified: { volunteer: null, requester: null, network: null },
    alarms: { volunteer: null, requester: null, network: null },
  },
  coordinator: {
    state: 'off',
    error: null,
    networkId: '',
    peerId: null,
    jobs: [],
    peers: [],
    activeLeases: 0,
    signaling: null,
    log: [],
    requesterKey: null,
    jobLimits: DEFAULT_JOB_LIMITS,
    storage: { persisted: null, error: null, pendingWrites: 0 },
    connectionBudget: budgetStatus(0, PAGE_PEER_CONNECTION_BUDGET),
  },
  volunteer: { state: 'off', error: null, networkId: '', caps: null, stats: null, peerId: null, log: [], controls: initialVolunteerControls },
  requester: {
    state: 'off',
    error: null,
    networkId: '',
    jobs: [],
    submissions: [],
    results: {},
    reference: null,
    log: [],
    draft: initialDraft,
    rates: {},
    submitProblems: [],
    exports: {},
    receiptCheck: null,
    workloadFiles: initialWorkloadFiles,
    previews: {},
  },
  network: { state: 'off', error: null, networkId: '', peers: [], jobs: [], source: 'coordinator', telemetry: null, history: [] },
};

export const useQuorumStore = create<QuorumState>()(() => initialState);

type Slice = keyof QuorumState;

/** Shallow-merges a patch into one slice. The hosts' only way to change what is shown. */
export function patch<S extends Slice>(slice: S, update: Partial<QuorumState[S]> | ((prev: QuorumState[S]) => Partial<QuorumState[S]>)): void {
  useQuorumStore.setState((state) => {
    const prev = state[slice];
    const delta = typeof update === 'function' ? update(prev) : update;
    return { [slice]: { ...prev, ...delta } } as Partial<QuorumState>;
  });
}
