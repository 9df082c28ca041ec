/**
 * What the coordinator core asks its host to do. The core never performs I/O itself: the host
 * carries these out in order (send, store, hash, log) and feeds the outcomes back as calls.
 */
import type { JobId, LeaseId, ModelHash, PeerId } from '../../protocol/ids.ts';
import type { FromCoordinator, JobSpec } from '../../protocol/messages.ts';
import type { JobRecord, LeaseRecord, PeerRecord, ShardState } from './state.ts';

export type CoordinatorEffect =
  | { readonly kind: 'send'; readonly to: PeerId; readonly msg: FromCoordinator }
  /** Close the connection after a refusal. */
  | { readonly kind: 'close'; readonly peer: PeerId; readonly reason: string }
  /** Hash the submitted model (async in the host) and call `admitJob` with the digest. */
  | { readonly kind: 'hash-model'; readonly peer: PeerId; readonly ref: string; readonly spec: JobSpec }
  | { readonly kind: 'store-model'; readonly hash: ModelHash; readonly bytes: ArrayBuffer }
  | { readonly kind: 'store-job'; readonly job: JobRecord }
  /**
   * A shard's verification state changed (accepted, unverifiable, re-opened). Written with strict
   * durability; the host reports the write with `shardStored` ([S-2]).
   */
  | { readonly kind: 'store-shard'; readonly jobId: JobId; readonly shard: ShardState }
  /**
   * [S-1] Batched on `tick`: leases (live and retired) to put or forget, volunteer ids (token,
   * reputation, standing) and the replicas of open shards. Relaxed durability is enough: losing
   * the last batch costs repeated work, never a result that was counted.
   */
  | {
      readonly kind: 'persist';
      readonly leases: readonly LeaseRecord[];
      readonly forgetLeases: readonly LeaseId[];
      readonly peers: readonly PeerRecord[];
      readonly openShards: readonly ShardState[];
    }
  | { readonly kind: 'log'; readonly level: 'info' | 'warn'; readonly text: string }
  /** Jobs or peers changed: the host refreshes its views and (throttled) tells watchers. */
  | { readonly kind: 'status-changed' };
