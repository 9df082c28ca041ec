/**
 * What the UI shows, one slice per role. Hosts write it with `setState`; views only read it.
 */
import { create } from 'zustand';
import type { VolunteerStats } from '../core/volunteer/volunteer.ts';
import type { Capabilities } from '../protocol/capabilities.ts';
import type { JobId } from '../protocol/ids.ts';
import type { JobStatus, PeerSummary } from '../protocol/messages.ts';
import type { LogLine } from './logSlice.ts';

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
}

export interface VolunteerView {
  readonly state: ConnectionState;
  readonly error: string | null;
  readonly networkId: string;
  readonly caps: Capabilities | null;
  readonly stats: VolunteerStats | null;
  readonly log: readonly LogLine[];
}

export interface Submission {
  readonly ref: string;
  readonly name: string;
  readonly state: 'sending' | 'accepted' | 'rejected';
  readonly jobId: JobId | null;
  readonly reason: string | null;
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
  readonly provenance: readonly { readonly start: number; readonly count: number; readonly volunteers: readonly string[]; readonly backends: readonly string[] }[];
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
}

export interface NetworkView {
  readonly state: ConnectionState;
  readonly error: string | null;
  readonly networkId: string;
  readonly peers: readonly PeerSummary[];
  readonly jobs: readonly JobStatus[];
}

export interface QuorumState {
  readonly coordinator: CoordinatorView;
  readonly volunteer: VolunteerView;
  readonly requester: RequesterView;
  readonly network: NetworkView;
}

export const initialState: QuorumState = {
  coordinator: { state: 'off', error: null, networkId: '', peerId: null, jobs: [], peers: [], activeLeases: 0, signaling: null, log: [] },
  volunteer: { state: 'off', error: null, networkId: '', caps: null, stats: null, log: [] },
  requester: { state: 'off', error: null, networkId: '', jobs: [], submissions: [], results: {}, reference: null, log: [] },
  network: { state: 'off', error: null, networkId: '', peers: [], jobs: [] },
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
