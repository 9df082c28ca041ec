/** What the coordinator page shows. */
import type { JobStatus, PeerSummary } from '../protocol/messages.ts';
import type { JobLimits } from '../core/jobChecks.ts';
import type { BudgetStatus } from '../core/connectionBudget.ts';
import type { RoleConnectionView } from './connection.ts';
import type { LogLine } from './log.ts';

export interface CoordinatorView extends RoleConnectionView {
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
