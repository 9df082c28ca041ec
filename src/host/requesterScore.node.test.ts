/**
 * The requester scores a classifier's verified results with the workload's own arg-max and
 * accuracy (`workloads/mnist/holdout.ts`), so the dashboard and the reference run can never
 * disagree on what a row predicts: a NaN never wins a row, an unverified item predicts -1 and
 * counts as wrong. Results reach the host the way a reloaded tab gets them ([J-8]), from storage.
 */
import 'fake-indexeddb/auto';
import { afterEach, describe, expect, it } from 'vitest';
import { openQuorumDb } from '../persistence/db.ts';
import { RequesterStore } from '../persistence/requesterStore.ts';
import { asJobId, type PeerId } from '../protocol/ids.ts';
import type { VerifiedShard } from '../protocol/messages.ts';
import type { JobResults } from '../model/requesterView.ts';
import { MemoryNetwork } from '../transport/memoryTransport.ts';
import { accuracy, argmaxRows } from '../workloads/mnist/holdout.ts';
import { RequesterHost } from './requesterHost.ts';
import { memoryTrust } from './testing/provingCoordinator.ts';

const NET = 'score';
const JOB = asJobId('job-score');
const CLASSES = 3;

const shard = (index: number, start: number, rows: number[][]): VerifiedShard => ({
  index,
  start,
  count: rows.length,
  outputs: [{ name: 'logits', dtype: 'float32', dims: [rows.length, CLASSES], data: new Float32Array(rows.flat()).buffer }],
  volunteers: ['v1', 'v2'] as PeerId[],
  backends: ['wasm', 'wasm'],
});

let hosts: RequesterHost[] = [];
afterEach(() => {
  for (const h of hosts) h.stop();
  hosts = [];
});

/** A reloaded tab's host over a store holding `shards` of a job of `items` items with `labels`. */
async function restored(items: number, labels: number[], shards: VerifiedShard[]): Promise<JobResults> {
  const db = await openQuorumDb(`requester-score-${Math.random()}`);
  const store = new RequesterStore(db, NET);
  await store.putJob({ jobId: JOB, name: 'scored', acceptedAtMs: 1, labels: new Uint8Array(labels) });
  await store.putResults(JOB, items, shards, undefined);
  const host = new RequesterHost({ networkId: NET, factory: new MemoryNetwork().factory, store, trust: memoryTrust(NET) });
  hosts.push(host);
  host.start();
  const deadline = Date.now() + 30_000;
  while (host.view.get().results[JOB] === undefined) {
    if (Date.now() > deadline) throw new Error('timed out waiting for the restored results');
    await new Promise((r) => setTimeout(r, 5));
  }
  return host.view.get().results[JOB]!;
}

describe('[J-8] the requester scores verified results with the workload arg-max and accuracy', () => {
  it('a NaN never wins a row: the row is scored by its largest real value, as the reference run scores it', async () => {
    const rows = [
      [NaN, 0.2, 0.9], // class 2, not the NaN in front
      [0.1, NaN, 0.3], // class 2
      [0.7, 0.1, 0.2], // class 0
      [0.1, 0.8, 0.1], // class 1
    ];
    const labels = [2, 2, 0, 0];
    const r = await restored(4, labels, [shard(0, 0, rows.slice(0, 2)), shard(1, 2, rows.slice(2))]);
    expect(r.predictions).toEqual([2, 2, 0, 1]);
    expect(r.predictions).toEqual([...argmaxRows(new Float32Array(rows.flat()), CLASSES)]);
    expect(r.verifiedItems).toBe(4);
    expect(r.accuracy).toBe(0.75);
  });

  it('an unverified item predicts -1 and counts as wrong, also when its label is the first class', async () => {
    // Items 2 and 3 were never verified (their shard is missing); item 3's label is class 0,
    // which an unverified row must not be taken for.
    const labels = [1, 0, 1, 0];
    const r = await restored(4, labels, [
      shard(0, 0, [
        [0.1, 0.9, 0],
        [0.8, 0.1, 0.1],
      ]),
    ]);
    expect(r.predictions).toEqual([1, 0, -1, -1]);
    expect(r.verifiedItems).toBe(2);
    expect(r.accuracy).toBe(accuracy([1, 0, -1, -1], labels));
    expect(r.accuracy).toBe(0.5);
  });

  it('an item whose row the output does not hold is unverified (-1), not class 0', async () => {
    // The shard counts two items but its logits hold one row: the second item has no scores.
    const short: VerifiedShard = { ...shard(0, 0, [[0.1, 0.9, 0]]), count: 2 };
    const r = await restored(2, [1, 0], [short]);
    expect(r.predictions).toEqual([1, -1]);
    expect(r.verifiedItems).toBe(1);
    expect(r.accuracy).toBe(0.5);
  });

  it('a row of NaN only predicts nothing (-1): it is never scored as class 0', async () => {
    const r = await restored(
      2,
      [0, 1],
      [
        shard(0, 0, [
          [NaN, NaN, NaN],
          [0.1, 0.9, 0],
        ]),
      ],
    );
    expect(r.predictions).toEqual([-1, 1]);
    expect(r.accuracy).toBe(0.5);
  });

  it('labels that do not match the item count give no score rather than a wrong one', async () => {
    const r = await restored(
      2,
      [1, 0, 1],
      [
        shard(0, 0, [
          [0.1, 0.9, 0],
          [0.8, 0.1, 0.1],
        ]),
      ],
    );
    expect(r.predictions).toEqual([1, 0]);
    expect(r.accuracy).toBeNull();
  });
});
