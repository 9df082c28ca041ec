/**
 * Everything the UI shows, one part per role, and what it shows before anything has happened. Plain
 * data: the store (src/stores/) holds it for React, hosts change it only through a ViewPort.
 */
import { DEFAULT_JOB_LIMITS } from '../core/jobChecks.ts';
import { budgetStatus, PAGE_PEER_CONNECTION_BUDGET } from '../core/connectionBudget.ts';
import type { CoordinatorView } from './coordinatorView.ts';
import type { KeyTrustView } from './keyTrustView.ts';
import type { NetworkView } from './networkView.ts';
import { initialDraft, initialWorkloadFiles, type RequesterView } from './requesterView.ts';
import { initialVolunteerControls, type VolunteerView } from './volunteerView.ts';

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
