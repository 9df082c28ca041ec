import 'fake-indexeddb/auto';
import { describe, expect, it } from 'vitest';
import type { LeaseRecord } from '../core/coordinator/state.ts';
import { asJobId, asLeaseId, asPeerId } from '../protocol/ids.ts';
import { CoordinatorStore } from './coordinatorStore.ts';
import { openQuorumDb } from './db.ts';
import { makeLegacyDb } from './testing/legacyDb.ts';
import { CoordinatorKeyStore } from './coordinatorKeyStore.ts';
import { generateCoordinatorKeyPair, identityOf, signProof, verifyProof } from '../host/coordinatorKey.ts';

const jobId = asJobId('job1');
const lease: LeaseRecord = {
  id: asLeaseId('l1'),
  jobId,
  shardIndex: 0,
  volunteer: asPeerId('v1'),
  issuedAtMs: 1,
  deadlineMs: 61,
  canary: false,
  epoch: 0,
  retired: false,
};
const batch = (leases: readonly LeaseRecord[], forgetLeases: LeaseRecord['id'][] = []) => ({ leases, forgetLeases, peers: [], openShards: [] });

describe('openQuorumDb upgrades', () => {
  it('upgrades a version 3 database and keeps its inline shards and its leases (now keyed by network and id)', async () => {
    const name = `test-${Math.random()}`;
    const outputs = [{ name: 'y', dtype: 'float32', dims: [1, 2], data: new Float32Array([7, 8]).buffer }];
    await makeLegacyDb(name, 3, ['shards', 'leases'], (tx) => {
      tx.objectStore('shards').put({
        jobId,
        index: 0,
        status: 'verified',
        disagreements: 0,
        epoch: 2,
        accepted: { outputs, volunteers: ['v1', 'v2'], backends: ['wasm', 'wasm'], acceptedAtMs: 9 },
        replicas: [{ volunteer: 'v1', backend: 'wasm', adapter: null, ortVersion: '1.30.0', outputs, receivedAtMs: 5 }],
      });
      tx.objectStore('leases').put({ ...lease, networkId: 'net-a' });
      tx.objectStore('leases').put({ ...lease, id: 'l2', networkId: 'net-b' });
    });
    const db = await openQuorumDb(name);
    const a = new CoordinatorStore(db, 'net-a');
    const [shard] = await a.loadShards(jobId);
    expect(shard).toMatchObject({ status: 'verified', epoch: 2, accepted: { volunteers: ['v1', 'v2'] } });
    expect([...new Float32Array(shard!.accepted!.outputs[0]!.data)]).toEqual([7, 8]);
    expect([...new Float32Array(shard!.replicas![0]!.outputs[0]!.data)]).toEqual([7, 8]);
    expect(await a.loadLeases()).toEqual([{ ...lease, networkId: 'net-a' }]);
    expect(await new CoordinatorStore(db, 'net-b').loadLeases()).toEqual([{ ...lease, id: 'l2', networkId: 'net-b' }]);
    // The migrated lease is stored under its new key: another network's lease of the same id leaves
    // it be, and forgetting it removes it.
    await new CoordinatorStore(db, 'net-b').persist(batch([{ ...lease, deadlineMs: 70 }]), 3);
    expect(await a.loadLeases()).toEqual([{ ...lease, networkId: 'net-a' }]);
    await a.persist(batch([], [lease.id]), 3);
    expect(await a.loadLeases()).toEqual([]);
    db.close();
  });

  it('[S-1] two networks holding the same lease id keep a lease each', async () => {
    const db = await openQuorumDb(`test-${Math.random()}`);
    const a = new CoordinatorStore(db, 'net-a');
    const b = new CoordinatorStore(db, 'net-b');
    await a.persist(batch([lease]), 1);
    await b.persist(batch([{ ...lease, volunteer: asPeerId('v9'), deadlineMs: 99 }]), 1);
    expect(await a.loadLeases()).toEqual([{ ...lease, networkId: 'net-a' }]);
    expect(await b.loadLeases()).toEqual([{ ...lease, volunteer: 'v9', deadlineMs: 99, networkId: 'net-b' }]);
    // Forgetting it on one network leaves the other's.
    await b.persist(batch([], [lease.id]), 2);
    expect(await a.loadLeases()).toEqual([{ ...lease, networkId: 'net-a' }]);
    expect(await b.loadLeases()).toEqual([]);
    db.close();
  });
});

describe('[K-1] coordinator keys', () => {
  it('upgrades a version 5 database: its requester jobs are kept, and a coordinator key is kept across a reopen', async () => {
    const name = `test-${Math.random()}`;
    await makeLegacyDb(name, 5, ['requesterJobs'], (tx) => {
      tx.objectStore('requesterJobs').put({ networkId: 'net-a', jobId: 'job1', name: 'old job', acceptedAtMs: 5 });
    });
    const db = await openQuorumDb(name);
    expect(await db.getAll('requesterJobs')).toEqual([{ networkId: 'net-a', jobId: 'job1', name: 'old job', acceptedAtMs: 5 }]);
    let made = 0;
    const generate = (): Promise<CryptoKeyPair> => {
      made++;
      return generateCoordinatorKeyPair();
    };
    const first = await identityOf(await new CoordinatorKeyStore(db).keyPair('net-a', generate, 1));
    db.close();
    const reopened = await openQuorumDb(name);
    const again = await new CoordinatorKeyStore(reopened).keyPair('net-a', generate, 2);
    expect(made).toBe(1);
    expect((await identityOf(again)).fingerprint).toBe(first.fingerprint);
    expect(again.privateKey.extractable).toBe(false);
    // The stored private key still signs, and another network gets a key of its own.
    const other = await identityOf(await new CoordinatorKeyStore(reopened).keyPair('net-b', generate, 3));
    expect(other.fingerprint).not.toBe(first.fingerprint);
    const ctx = {
      networkId: 'net-a',
      nonce: 'QUJDREVGR0hJSktMTU5PUA',
      dtls: { coordinator: `sha-256 ${'AB:'.repeat(31)}AB`, client: `sha-256 ${'CD:'.repeat(31)}CD` },
    };
    expect(await verifyProof(first.publicKey, await signProof(await identityOf(again), ctx), ctx)).toBe(true);
    reopened.close();
  });

  it('two tabs making the key at once end up with one key', async () => {
    const db = await openQuorumDb(`test-${Math.random()}`);
    const store = new CoordinatorKeyStore(db);
    const [a, b] = await Promise.all([store.keyPair('net', generateCoordinatorKeyPair, 1), store.keyPair('net', generateCoordinatorKeyPair, 1)]);
    expect((await identityOf(a)).fingerprint).toBe((await identityOf(b)).fingerprint);
    db.close();
  });
});
