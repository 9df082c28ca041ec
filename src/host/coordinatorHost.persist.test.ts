/**
 * [S-1] The coordinator host writes a lease change within PERSIST_SOON_MS (100 ms), not only at
 * the next tick (500 ms): a reload in between would forget a lease already sent.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { JobRecord } from '../core/coordinator/state.ts';
import { HASH_A, countingBytes, f32, hello, policy } from '../core/testing/fixtures.ts';
import { asJobId, asPeerId } from '../protocol/ids.ts';
import { PROTOCOL_VERSION } from '../protocol/messages.ts';
import type { PersistBatch } from '../persistence/coordinatorStorage.ts';
import { MemoryCoordinatorStore } from '../persistence/memoryCoordinatorStore.ts';
import { MemoryNetwork } from '../transport/memoryTransport.ts';
import { CoordinatorHost } from './coordinatorHost.ts';
import { coordinatorPeerId } from './networkId.ts';
import { coordinatorClient } from './testing/coordinatorClient.ts';

const NET = 'persist-soon';
const JOB: JobRecord = {
  id: asJobId('j1'),
  name: 'restored',
  modelHash: HASH_A,
  modelBytes: 100,
  inputs: [f32('x', [4, 1], [1, 2, 3, 4])],
  items: 4,
  shardSize: 1,
  shardCount: 4,
  policy: policy(1, 1, 1),
  createdAtMs: 0,
  submittedBy: asPeerId('req'),
};

/** Storage holding one job; it records every persist batch with the (fake) time it was written. */
async function storeWithJob(batches: { at: number; batch: PersistBatch }[]): Promise<MemoryCoordinatorStore> {
  const store = new MemoryCoordinatorStore(NET);
  await store.putModel(HASH_A, countingBytes(100));
  await store.putJob(JOB);
  const persist = store.persist.bind(store);
  vi.spyOn(store, 'persist').mockImplementation((batch, nowMs) => {
    batches.push({ at: Date.now(), batch });
    return persist(batch, nowMs);
  });
  return store;
}

describe('[S-1] lease changes are written soon', () => {
  beforeEach(() => vi.useFakeTimers({ now: 1_000_000 }));
  afterEach(() => vi.useRealTimers());

  it('[S-1] a lease is in a persist batch 100 ms after it is sent, long before the next tick', async () => {
    const net = new MemoryNetwork();
    const batches: { at: number; batch: PersistBatch }[] = [];
    // Raw test peers say hello without keys: [I-2] [I-3] are tested in coordinatorHost.volunteerKeys.test.ts.
    const host = new CoordinatorHost({ networkId: NET, factory: net.factory, store: await storeWithJob(batches), config: { volunteerKeys: false } });
    await host.start();
    const coordinator = coordinatorPeerId(NET);
    const vol = coordinatorClient(net, 'vol-1', coordinator);
    const inbox = vol.received;
    net.flush();
    vol.send(hello('volunteer'));
    net.flush();
    await vi.advanceTimersByTimeAsync(0);
    const written = (id: string): boolean => batches.some((b) => b.batch.leases.some((l) => l.id === id));
    const before = batches.length;

    const sentAt = Date.now();
    vol.send({ v: PROTOCOL_VERSION, t: 'lease-request' });
    net.flush();
    const lease = inbox.find((m) => m.t === 'lease');
    if (!lease || lease.t !== 'lease') throw new Error(`no lease: ${JSON.stringify(inbox.map((m) => m.t))}`);
    await vi.advanceTimersByTimeAsync(99);
    expect(written(lease.leaseId)).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(written(lease.leaseId)).toBe(true);
    const write = batches.find((b) => b.batch.leases.some((l) => l.id === lease.leaseId))!;
    expect(write.at - sentAt).toBe(100);
    // One batch for the change, and no timer left running without a change.
    expect(batches.length).toBe(before + 1);
    await vi.advanceTimersByTimeAsync(300);
    expect(batches.length).toBe(before + 1);
    host.stop();
  });
});
