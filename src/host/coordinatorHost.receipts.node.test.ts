/**
 * [AU-3] A coordinator host sends a job's results with a receipt signed by its key, and the
 * receipt, carried by the JSON export, verifies offline against that key's fingerprint; with
 * volunteer keys, every agreeing volunteer's result signature in it verifies too ([AU-4] [I-3]).
 */
import 'fake-indexeddb/auto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildProbeModel } from '../../scripts/make-probe-model.ts';
import { hello } from '../core/testing/fixtures.ts';
import { CoordinatorStore } from '../persistence/coordinatorStore.ts';
import { MemoryCoordinatorStore } from '../persistence/memoryCoordinatorStore.ts';
import { openQuorumDb } from '../persistence/db.ts';
import type { PeerId } from '../protocol/ids.ts';
import { PROTOCOL_VERSION, type FromCoordinator } from '../protocol/messages.ts';
import { DEFAULT_POLICY } from '../protocol/policy.ts';
import type { WireTensor } from '../protocol/tensor.ts';
import { MemoryNetwork } from '../transport/memoryTransport.ts';
import { assembleResults } from '../workloads/export/assemble.ts';
import { resultsToJsonParts } from '../workloads/export/exporters.ts';
import { readExportForReceipt } from '../workloads/export/receiptExport.ts';
import { generateCoordinatorKeyPair, identityOf, type CoordinatorIdentity } from './coordinatorKey.ts';
import { CoordinatorHost } from './coordinatorHost.ts';
import { coordinatorPeerId } from './networkId.ts';
import { verifyReceipt } from './receiptSigner.ts';
import { coordinatorClient, type CoordinatorClient } from './testing/coordinatorClient.ts';
import { proveVolunteerKey, resultDigest, signResult } from './volunteerKey.ts';

const NETWORK = 'receipts';
const KEY = 'sesame';
type Msg<T extends FromCoordinator['t']> = Extract<FromCoordinator, { t: T }>;

let net: MemoryNetwork;
let host: CoordinatorHost;
let identity: CoordinatorIdentity;

beforeAll(async () => {
  net = new MemoryNetwork();
  identity = await identityOf(await generateCoordinatorKeyPair());
  const db = await openQuorumDb(`receipts-${Math.random()}`);
  // Raw test peers say hello without keys: [I-2] [I-3] are tested in coordinatorHost.volunteerKeys.test.ts.
  host = new CoordinatorHost({
    networkId: NETWORK,
    factory: net.factory,
    store: new CoordinatorStore(db, NETWORK),
    config: { requesterKey: KEY, volunteerKeys: false },
    identity,
  });
  await host.start();
});

afterAll(() => host.stop());

async function until<T>(what: string, probe: () => T | undefined, on: MemoryNetwork = net): Promise<T> {
  for (let i = 0; i < 500; i++) {
    on.flush();
    const got = probe();
    if (got !== undefined) return got;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** A requester that says hello to `coord` on `on` and submits the 4×4 probe job in shards of 2 rows. */
function submitProbe(on: MemoryNetwork, coord: PeerId): CoordinatorClient {
  const req = coordinatorClient(on, null, coord);
  on.flush();
  req.send({ v: PROTOCOL_VERSION, t: 'hello', role: 'requester', caps: null, label: 'requester' });
  const x: WireTensor = { name: 'x', dtype: 'float32', dims: [4, 4], data: new Float32Array(16).map((_, i) => i).buffer };
  req.send({
    v: PROTOCOL_VERSION,
    t: 'submit-job',
    ref: 'r1',
    spec: { name: 'probe', model: buildProbeModel().slice().buffer, inputs: [x], shardSize: 2, policy: DEFAULT_POLICY, requesterKey: KEY },
  });
  return req;
}

describe('[AU-3] receipts from the coordinator host', () => {
  it('[AU-3] [AU-4] job-results carry a receipt signed by the coordinator key; the JSON export of them verifies against its fingerprint', async () => {
    const coord = coordinatorPeerId(NETWORK);
    const req = submitProbe(net, coord);
    const accepted = await until('the job', () => req.received.find((m): m is Msg<'job-accepted'> => m.t === 'job-accepted'));
    // Two volunteers agree on every shard: y = the shard's rows' first two columns, whatever they are.
    for (const name of ['v1', 'v2']) {
      const vol = coordinatorClient(net, name, coord);
      net.flush();
      vol.send(hello('volunteer'));
      for (let shard = 0; shard < accepted.shards; shard++) {
        vol.send({ v: PROTOCOL_VERSION, t: 'lease-request' });
        const lease = await until('a lease', () => vol.received.filter((m): m is Msg<'lease'> => m.t === 'lease')[shard]);
        const rows = lease.inputs[0]!.dims[0]!;
        const y = new Float32Array(rows * 2).map((_, i) => Number(lease.shardId.split('/')[1]) + i / 8);
        vol.send({
          v: PROTOCOL_VERSION,
          t: 'result',
          leaseId: lease.leaseId,
          outputs: [{ name: 'y', dtype: 'float32', dims: [rows, 2], data: y.buffer }],
          backend: 'wasm',
          inferMs: 1,
        });
        await until('the ack', () => vol.received.find((m) => m.t === 'result-ack' && m.leaseId === lease.leaseId));
      }
    }
    await until('the job to be done', () => (host.core.jobStatus(host.core.job(accepted.jobId)!).done ? true : undefined));
    req.send({ v: PROTOCOL_VERSION, t: 'results-request', jobId: accepted.jobId });
    const results = await until('the results', () => req.received.find((m): m is Msg<'job-results'> => m.t === 'job-results'));
    expect(results.receipt?.body).toMatchObject({
      networkId: NETWORK,
      jobId: accepted.jobId,
      jobName: 'probe',
      complete: true,
      leafCount: 2,
      shards: 2,
      items: 4,
    });
    expect(results.receipt?.key).toBe(identity.publicKey);
    const assembled = { ...assembleResults(accepted.jobId, 'probe', 4, results.shards), receipt: results.receipt ?? null };
    const read = readExportForReceipt('export.json', new TextEncoder().encode([...resultsToJsonParts(assembled)].join('')), null);
    expect(await verifyReceipt(read.receipt, read.exported, identity.fingerprint)).toMatchObject({ ok: true, shardsChecked: 2, problems: [] });
  });
});

describe('[AU-4] volunteer signatures in receipts from the coordinator host', () => {
  const KEYED = 'receipts-keyed';
  const NONCE = 'QUJDREVGR0hJSktMTU5PUA';

  /** A volunteer that proves `key` on its connection ([I-2]), as a real one does before its hello. */
  async function keyedVolunteer(keyNet: MemoryNetwork, name: string, key: CoordinatorIdentity): Promise<CoordinatorClient> {
    const coord = coordinatorPeerId(KEYED);
    const vol = coordinatorClient(keyNet, name, coord);
    keyNet.flush();
    vol.send({ v: PROTOCOL_VERSION, t: 'challenge', nonce: NONCE });
    const proof = await until('the proof', () => (keyNet.flush(), vol.received.find((m): m is Msg<'proof'> => m.t === 'proof')), keyNet);
    const fps = vol.ep.dtlsFingerprints(coord)!;
    const ctx = { networkId: KEYED, nonce: proof.nonce!, peerId: name, dtls: { coordinator: fps.remote, client: fps.local } };
    vol.send({ ...hello('volunteer'), key: key.publicKey, keySig: await proveVolunteerKey(key, ctx) });
    await until('the welcome', () => vol.received.find((m) => m.t === 'welcome'), keyNet);
    return vol;
  }

  it('[AU-4] [I-3] two volunteers with real keys, outputs equal within tolerance but not bit for bit: every volunteer signature in the receipt verifies offline', async () => {
    const keyNet = new MemoryNetwork();
    const keyed = new CoordinatorHost({
      networkId: KEYED,
      factory: keyNet.factory,
      store: new MemoryCoordinatorStore(KEYED),
      config: { requesterKey: KEY },
      identity,
    });
    await keyed.start();
    try {
      const coord = coordinatorPeerId(KEYED);
      const req = submitProbe(keyNet, coord);
      const accepted = await until('the job', () => req.received.find((m): m is Msg<'job-accepted'> => m.t === 'job-accepted'), keyNet);
      const keys = await Promise.all([0, 1].map(async () => identityOf(await generateCoordinatorKeyPair())));
      for (const [j, name] of ['k1', 'k2'].entries()) {
        const vol = await keyedVolunteer(keyNet, name, keys[j]!);
        for (let shard = 0; shard < accepted.shards; shard++) {
          vol.send({ v: PROTOCOL_VERSION, t: 'lease-request' });
          const lease = await until('a lease', () => vol.received.filter((m): m is Msg<'lease'> => m.t === 'lease')[shard], keyNet);
          const rows = lease.inputs[0]!.dims[0]!;
          // The second volunteer's values are off in the last bits: the default allclose accepts them.
          const y = new Float32Array(rows * 2).map((_, i) => Number(lease.shardId.split('/')[1]) + i / 8 + j * 1e-6);
          const outputs: WireTensor[] = [{ name: 'y', dtype: 'float32', dims: [rows, 2], data: y.buffer }];
          const subject = {
            networkId: KEYED,
            jobId: accepted.jobId,
            shardId: lease.shardId,
            leaseId: lease.leaseId,
            outputDigest: await resultDigest(outputs, undefined),
            backend: 'wasm',
            adapter: null,
          };
          vol.send({
            v: PROTOCOL_VERSION,
            t: 'result',
            leaseId: lease.leaseId,
            outputs,
            backend: 'wasm',
            inferMs: 1,
            sig: await signResult(keys[j]!, subject),
          });
          const ack = await until(
            'the ack',
            () => vol.received.find((m): m is Msg<'result-ack'> => m.t === 'result-ack' && m.leaseId === lease.leaseId),
            keyNet,
          );
          expect(ack.outcome).toBe('received');
        }
      }
      await until('the job to be done', () => (keyed.core.jobStatus(keyed.core.job(accepted.jobId)!).done ? true : undefined), keyNet);
      req.send({ v: PROTOCOL_VERSION, t: 'results-request', jobId: accepted.jobId });
      const results = await until('the results', () => req.received.find((m): m is Msg<'job-results'> => m.t === 'job-results'), keyNet);
      const leaves = results.receipt!.leaves;
      expect(leaves.flatMap((l) => l.volunteers.map((v) => v.key))).toEqual(leaves.flatMap(() => [keys[0]!.publicKey, keys[1]!.publicKey]));
      // The second volunteer signed its own digest, not the accepted (first) one's.
      for (const l of leaves) expect(l.volunteers[1]!.digest).not.toBe(l.volunteers[0]!.digest);
      const assembled = { ...assembleResults(accepted.jobId, 'probe', 4, results.shards), receipt: results.receipt ?? null };
      const read = readExportForReceipt('export.json', new TextEncoder().encode([...resultsToJsonParts(assembled)].join('')), null);
      expect(await verifyReceipt(read.receipt, read.exported, identity.fingerprint)).toMatchObject({
        ok: true,
        problems: [],
        shardsChecked: 2,
        volunteerSignatures: 4,
      });
    } finally {
      keyed.stop();
    }
  });
});
