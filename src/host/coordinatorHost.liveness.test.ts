/**
 * [P-8] A volunteer whose result takes longer to arrive than the coordinator's silence limit
 * (`peerTimeoutMs`, 12 s) is alive while its chunks arrive: it is not dropped for silence, and
 * its result arrives whole and counts. Before, a ~53 MB result on a slow link had the volunteer
 * dropped mid-frame, rejoin, resend from the start and be dropped again, round and round.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { JobRecord } from '../core/coordinator/state.ts';
import { DEFAULT_COORDINATOR_CONFIG } from '../core/coordinator/state.ts';
import { HASH_A, countingBytes, f32, hello, policy } from '../core/testing/fixtures.ts';
import { asJobId, asPeerId } from '../protocol/ids.ts';
import { PROTOCOL_VERSION, type FromCoordinator } from '../protocol/messages.ts';
import type { WireTensor } from '../protocol/tensor.ts';
import { MemoryCoordinatorStore } from '../persistence/memoryCoordinatorStore.ts';
import { DEFAULT_CHUNK_BYTES } from '../transport/chunker.ts';
import { MemoryNetwork } from '../transport/memoryTransport.ts';
import { CoordinatorHost } from './coordinatorHost.ts';
import { coordinatorPeerId } from './networkId.ts';
import { coordinatorClient } from './testing/coordinatorClient.ts';

const NET = 'big-results';
const JOB: JobRecord = {
  id: asJobId('j1'),
  name: 'big outputs',
  modelHash: HASH_A,
  modelBytes: 100,
  inputs: [f32('x', [2, 1], [1, 2])],
  items: 2,
  shardSize: 1,
  shardCount: 2,
  policy: policy(1, 1, 1),
  createdAtMs: 0,
  submittedBy: asPeerId('req'),
};

/** 6 MiB of outputs for one item: 97 chunks of 64 KiB on the wire. */
const OUTPUT_FLOATS = (6 * 1024 * 1024) / 4;
const bigOutput = (): WireTensor => ({ name: 'y', dtype: 'float32', dims: [1, OUTPUT_FLOATS], data: new ArrayBuffer(4 * OUTPUT_FLOATS) });
/** The link's speed: one chunk per this many ms (about 320 KiB/s), so the result takes ~19 s. */
const MS_PER_CHUNK = 200;

describe('[P-8] a big result on a slow link', () => {
  beforeEach(() => vi.useFakeTimers({ now: 1_000_000 }));
  afterEach(() => vi.useRealTimers());

  it('[P-8] a volunteer whose result takes longer than the silence limit to arrive is not dropped, and its result counts', async () => {
    const net = new MemoryNetwork({ now: () => Date.now() });
    const store = new MemoryCoordinatorStore(NET);
    await store.putModel(HASH_A, countingBytes(100));
    await store.putJob(JOB);
    // Raw test peers say hello without keys: [I-2] [I-3] are tested in coordinatorHost.volunteerKeys.test.ts.
    const host = new CoordinatorHost({ networkId: NET, factory: net.factory, store, config: { volunteerKeys: false } });
    await host.start();
    const vol = coordinatorClient(net, 'vol-1', coordinatorPeerId(NET));
    let closed = false;
    net.flush();
    vol.send(hello('volunteer'));
    vol.send({ v: PROTOCOL_VERSION, t: 'lease-request' });
    net.flush();
    await vi.advanceTimersByTimeAsync(0);
    const lease = vol.received.find((m): m is Extract<FromCoordinator, { t: 'lease' }> => m.t === 'lease');
    if (!lease) throw new Error(`no lease: ${JSON.stringify(vol.received.map((m) => m.t))}`);

    // The volunteer sends nothing else meanwhile (no ping): only the result's bytes show it is there.
    expect(vol.send({ v: PROTOCOL_VERSION, t: 'result', leaseId: lease.leaseId, outputs: [bigOutput()], backend: 'wasm', inferMs: 1 })).toBe(true);
    const startedAt = Date.now();
    const ack = (): FromCoordinator | undefined => vol.received.find((m) => m.t === 'result-ack');
    while (ack() === undefined && net.pending() > 0) {
      net.deliverNext();
      await vi.advanceTimersByTimeAsync(MS_PER_CHUNK);
      if (!host.core.peerSummaries().some((p) => p.peerId === vol.ep.selfId)) {
        closed = true;
        break;
      }
    }
    const tookMs = Date.now() - startedAt;
    expect(closed).toBe(false);
    expect(tookMs).toBeGreaterThan(DEFAULT_COORDINATOR_CONFIG.peerTimeoutMs);
    expect(tookMs).toBeGreaterThanOrEqual(((4 * OUTPUT_FLOATS) / DEFAULT_CHUNK_BYTES) * MS_PER_CHUNK);
    expect(ack()).toMatchObject({ t: 'result-ack', leaseId: lease.leaseId, outcome: 'received' });
    host.stop();
  });
});
