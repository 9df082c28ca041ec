import 'fake-indexeddb/auto';
import { describe, expect, it } from 'vitest';
import type { OutboxEntry } from '../core/volunteer/volunteer.ts';
import { asJobId, asLeaseId, shardIdOf } from '../protocol/ids.ts';
import { PROTOCOL_VERSION } from '../protocol/messages.ts';
import { openQuorumDb } from './db.ts';
import { OUTBOX_MAX_AGE_MS, OutboxStore } from './outboxStore.ts';

function entry(lease: string, index = 0, value = 1): OutboxEntry {
  return {
    leaseId: asLeaseId(lease),
    shardId: shardIdOf(asJobId('job1'), index),
    frame: {
      v: PROTOCOL_VERSION,
      t: 'result',
      leaseId: asLeaseId(lease),
      outputs: [{ name: 'y', dtype: 'float32', dims: [1, 2], data: new Float32Array([value, 2]).buffer }],
      backend: 'wasm',
      inferMs: 3,
    },
  };
}

const leases = (entries: readonly OutboxEntry[]): string[] => entries.map((e) => e.leaseId);

describe('OutboxStore', () => {
  it('[W-15] keeps results per volunteer id until deleted, oldest first, bytes intact', async () => {
    const db = await openQuorumDb(`outbox-${Math.random()}`);
    const s = new OutboxStore(db);
    await s.put('vol-a', 'net', entry('l2', 1, 7), 2_000);
    await s.put('vol-a', 'net', entry('l1', 0), 1_000);
    await s.put('vol-b', 'net', entry('l3'), 1_000);
    const loaded = await s.load('vol-a', 'net', 3_000);
    expect(leases(loaded)).toEqual(['l1', 'l2']);
    expect(loaded[1]?.shardId).toBe('job1/1');
    expect(loaded[1]?.frame).toMatchObject({ t: 'result', leaseId: 'l2', backend: 'wasm', inferMs: 3 });
    expect([...new Float32Array(loaded[1]!.frame.outputs[0]!.data as ArrayBuffer)]).toEqual([7, 2]);

    // Another tab opening the database sees them; a delete removes exactly one.
    const other = new OutboxStore(await openQuorumDb(db.name));
    await other.delete('vol-a', asLeaseId('l1'));
    expect(leases(await s.load('vol-a', 'net', 3_000))).toEqual(['l2']);
    expect(leases(await s.load('vol-b', 'net', 3_000))).toEqual(['l3']);
    // Deleting what is not there is no error (an ack may come twice).
    await s.delete('vol-a', asLeaseId('l1'));
    db.close();
  });

  it('[W-15] drops entries older than 24 h, of another network, or that no longer parse', async () => {
    const db = await openQuorumDb(`outbox-${Math.random()}`);
    const s = new OutboxStore(db);
    const now = 10 * OUTBOX_MAX_AGE_MS;
    await s.put('vol', 'net', entry('fresh'), now - OUTBOX_MAX_AGE_MS);
    await s.put('vol', 'net', entry('stale'), now - OUTBOX_MAX_AGE_MS - 1);
    await s.put('vol', 'other-net', entry('elsewhere'), now);
    await db.put('outbox', {
      volunteerId: 'vol',
      networkId: 'net',
      leaseId: asLeaseId('junk'),
      shardId: 'job1/0' as never,
      frame: { t: 'result' },
      storedAtMs: now,
    });
    await db.put('outbox', { ...(await db.get('outbox', ['vol', 'fresh']))!, leaseId: asLeaseId('renamed') });
    expect(leases(await s.load('vol', 'net', now))).toEqual(['fresh']);
    // Dropped means deleted: only the good entry is left in the database.
    expect((await db.getAll('outbox')).map((r) => r.leaseId)).toEqual(['fresh']);
    db.close();
  });
});
