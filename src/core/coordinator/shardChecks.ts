/**
 * Small predicates over one shard and one result, shared by the coordinator and the books it
 * keeps (jobBook.ts picks shards with `wantsLease`). Free functions with no state: they sit on
 * the hot path of every lease and result, so they stay plain loops over the shard's own fields.
 */
import type { PeerId } from '../../protocol/ids.ts';
import type { WireTensor } from '../../protocol/tensor.ts';
import type { Replica, ShardState } from './state.ts';

/** Every output must have one row per item of the shard. */
export function checkOutputShape(outputs: readonly WireTensor[], items: number): string | null {
  if (outputs.length === 0) return 'no outputs';
  for (const t of outputs) {
    if (t.dims[0] !== items) return `output "${t.name}" has ${t.dims[0] ?? 'no'} rows, the shard has ${items} items`;
  }
  return null;
}

/** Whether `volunteer` has a replica of the shard (a loop: this runs for every result). */
export function hasReplicaOf(shard: ShardState, volunteer: PeerId): boolean {
  const replicas = shard.replicas;
  for (let i = 0; i < replicas.length; i++) if ((replicas[i] as Replica).volunteer === volunteer) return true;
  return false;
}

/** [L-1] Open, with fewer replicas and leases than it needs now. */
export function wantsLease(shard: ShardState): boolean {
  return shard.status === 'open' && shard.replicas.length + shard.leases.size < shard.target;
}
