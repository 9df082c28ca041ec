/** What is stored in IndexedDB, one record shape per object store. */
import type { Backend } from '../protocol/capabilities.ts';
import type { JobId, PeerId } from '../protocol/ids.ts';
import type { JobRecord, ShardStatus } from '../core/coordinator/state.ts';
import type { WireTensor } from '../protocol/tensor.ts';

export interface StoredJob {
  readonly networkId: string;
  readonly job: JobRecord;
}

export interface StoredShard {
  readonly jobId: JobId;
  readonly index: number;
  readonly status: ShardStatus;
  readonly disagreements: number;
  readonly accepted: {
    readonly outputs: readonly WireTensor[];
    readonly volunteers: readonly PeerId[];
    readonly backends: readonly Backend[];
    readonly acceptedAtMs: number;
  } | null;
}
