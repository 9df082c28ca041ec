import { describe, expect, it } from 'vitest';
import type { LeaseRecord, ShardState } from '../core/coordinator/state.ts';
import { f32 } from '../core/testing/fixtures.ts';
import { asLeaseId, asPeerId, type JobId, type ShardId } from '../protocol/ids.ts';
import { MemoryCoordinatorStore } from './memoryCoordinatorStore.ts';

const JOB = 'job-1' as JobId;

function shard(index: number, status: ShardState['status'] = 'open'): ShardState {
  return {
    id: `${JOB}/${index}` as ShardId,
    jobId: JOB,
    index,
    start: index,
    count: 1,
    status,
    target: 1,
    replicas: [],
    leases: new Set(),
    accepted: null,
    disagreements: 0,
    lone: false,
    spotChecked: false,
    epoch: 0,
    queueKey: index,
    queued: true,
    inFlight: false,
  };
}

const lease = (id: string): LeaseRecord => ({
  id: asLeaseId(id),
  jobId: JOB,
  shardIndex: 0,
  volunteer: asPeerId('v'),
  issuedAtMs: 0,
  deadlineMs: 10,
  canary: false,
  epoch: 0,
  retired: false,
});

describe('in-memory coordinator storage [S-1] [S-2]', () => {
  it('[S-2] a shard is stored as it stood when the write started, and the write returns its epoch', async () => {
    const store = new MemoryCoordinatorStore('net');
    const s = shard(0);
    s.epoch = 3;
    const written = store.putShard(JOB, s);
    s.status = 'verified'; // the core moves on while the write is under way
    s.accepted = { outputs: [f32('y', [1, 1], [1])], volunteers: [], backends: [], acceptedAtMs: 0, adapters: [], ortVersions: [] };
    expect(await written).toBe(3);
    expect(await store.loadShards(JOB)).toMatchObject([{ index: 0, status: 'open', accepted: null, epoch: 3 }]);
  });

  it('[S-1] persist stores open shards only, and forgets the leases it names', async () => {
    const store = new MemoryCoordinatorStore('net');
    await store.persist({ leases: [lease('a'), lease('b')], forgetLeases: [], peers: [], openShards: [shard(0), shard(1, 'verified')] }, 5);
    await store.persist(
      {
        leases: [],
        forgetLeases: [asLeaseId('a')],
        peers: [{ peerId: asPeerId('v'), token: 't', reputation: null, standing: { shardsAccepted: 1, resultsReturned: 2, resultsRejected: 0 } }],
        openShards: [],
      },
      6,
    );
    expect((await store.loadLeases()).map((l) => [l.id, l.networkId])).toEqual([['b', 'net']]);
    expect((await store.loadShards(JOB)).map((r) => r.index)).toEqual([0]);
    expect(await store.loadPeers()).toMatchObject([{ networkId: 'net', peerId: 'v', token: 't', updatedAtMs: 6 }]);
  });
});
