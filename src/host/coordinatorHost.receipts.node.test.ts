/**
 * [AU-3] A coordinator host sends a job's results with a receipt signed by its key, and the
 * receipt, carried by the JSON export, verifies offline against that key's fingerprint.
 */
import 'fake-indexeddb/auto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildProbeModel } from '../../scripts/make-probe-model.ts';
import { hello } from '../core/testing/fixtures.ts';
import { CoordinatorStore } from '../persistence/coordinatorStore.ts';
import { openQuorumDb } from '../persistence/db.ts';
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
import { coordinatorClient } from './testing/coordinatorClient.ts';

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

async function until<T>(what: string, probe: () => T | undefined): Promise<T> {
  for (let i = 0; i < 500; i++) {
    net.flush();
    const got = probe();
    if (got !== undefined) return got;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe('[AU-3] receipts from the coordinator host', () => {
  it('[AU-3] [AU-4] job-results carry a receipt signed by the coordinator key; the JSON export of them verifies against its fingerprint', async () => {
    const coord = coordinatorPeerId(NETWORK);
    const req = coordinatorClient(net, null, coord);
    net.flush();
    req.send({ v: PROTOCOL_VERSION, t: 'hello', role: 'requester', caps: null, label: 'requester' });
    const x: WireTensor = { name: 'x', dtype: 'float32', dims: [4, 4], data: new Float32Array(16).map((_, i) => i).buffer };
    req.send({
      v: PROTOCOL_VERSION,
      t: 'submit-job',
      ref: 'r1',
      spec: { name: 'probe', model: buildProbeModel().slice().buffer, inputs: [x], shardSize: 2, policy: DEFAULT_POLICY, requesterKey: KEY },
    });
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
