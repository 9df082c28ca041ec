/**
 * [N-1]..[N-4] A headless coordinator as a real process (`node --import tsx`), registered with a
 * real PeerServer, talking WebRTC (node-datachannel) to a requester and two volunteers in this
 * process: the real `VolunteerCore` and `CoordinatorLink`, shards run in onnxruntime-node. The
 * process is SIGKILLed mid-job and restarted on the same data directory; then SIGTERMed.
 */
import { memoryTrust } from '../host/testing/provingCoordinator.ts';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import express from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { attachSignaling, type Signaling } from '../../server/signaling.ts';
import { CoordinatorLink } from '../host/coordinatorLink.ts';
import { coordinatorPeerId } from '../host/networkId.ts';
import { openCoordinatorSqlite, SqliteCoordinatorStore } from '../persistence/sqliteCoordinatorStore.node.ts';
import { asModelHash, type JobId } from '../protocol/ids.ts';
import { PROTOCOL_VERSION, type FromCoordinator, type JobStatus, type VerifiedShard } from '../protocol/messages.ts';
import { DEFAULT_POLICY } from '../protocol/policy.ts';
import type { WireTensor } from '../protocol/tensor.ts';
import { createOrtNodeEngine } from '../runtime/ortNodeEngine.node.ts';
import { sha256Hex } from '../runtime/sha256.ts';
import { closeNodeTransport, nodeEndpointFactory, signalingForServer } from '../transport/nodeTransport.node.ts';
import type { EndpointFactory } from '../transport/transport.ts';
import { decodeMnistHoldout, MNIST_INPUT_NAME, MNIST_PIXELS } from '../workloads/mnist/holdout.ts';
import { COORDINATOR_KEY_FILE, DATABASE_FILE, REQUESTER_KEY_FILE, coordinatorKeyIn } from './dataDir.node.ts';
import { spawnHeadless, scrapeMetrics as metrics, type HeadlessChild } from './testing/headlessChild.node.ts';
import { startNodeVolunteer, type NodeVolunteer } from './testing/nodeVolunteer.node.ts';

const NETWORK = 'headless-test';
const ROOT = path.resolve(import.meta.dirname, '../..');
const ENTRY = path.join(import.meta.dirname, 'testing', 'headlessProcess.node.ts');
const MODEL = fs.readFileSync(path.join(ROOT, 'public/models/mnist-mlp.onnx'));
const ITEMS = 40;
const SHARD_SIZE = 4;
const SHARDS = ITEMS / SHARD_SIZE;
/** Long enough per shard that the job is still running when the process is killed. */
const RUN_DELAY_MS = 300;
/** A loaded machine: every wait passes as soon as its state is reached. */
const WAIT_MS = 90_000;

async function until<T>(what: string, check: () => T | undefined | false | Promise<T | undefined | false>, ms = WAIT_MS): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await check();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

let httpServer: http.Server;
let signaling: Signaling;
let serverUrl: string;
let factory: EndpointFactory;
let dataDir: string;
let coordinator: HeadlessChild;
const volunteers: NodeVolunteer[] = [];

function startCoordinator(): HeadlessChild {
  const options = { network: NETWORK, dataDir, server: serverUrl, metricsPort: 0, host: '127.0.0.1' };
  return spawnHeadless(process.execPath, ['--import', 'tsx', ENTRY, JSON.stringify(options)], ROOT);
}

/** Where the running coordinator serves /metrics. */
async function metricsUrl(): Promise<string> {
  const { metrics } = await coordinator.ready;
  if (metrics === null) throw new Error('the coordinator serves no /metrics');
  return metrics;
}

/** [K-4] The test's clients pin the coordinator's key on first use, across its restarts. */
const requesterTrust = memoryTrust(NETWORK);

/**
 * A requester over the Node transport: a fresh peer id per connection, hello on each, proving
 * the requester key ([J-11]: only its holders follow a job and get its results).
 */
function requester(requesterKey: string): { readonly received: FromCoordinator[]; readonly link: CoordinatorLink; connected: () => boolean } {
  const received: FromCoordinator[] = [];
  let open = false;
  const link: CoordinatorLink = new CoordinatorLink(
    factory,
    coordinatorPeerId(NETWORK),
    {
      open: () => {
        open = true;
        link.send({ v: PROTOCOL_VERSION, t: 'hello', role: 'requester', caps: null, label: 'headless test requester', requesterKey });
      },
      frame: (msg) => received.push(msg),
      protocolError: (e) => {
        throw new Error(`the coordinator sent an unparseable frame: ${e.reason}`);
      },
      close: () => {
        open = false;
      },
      status: () => undefined,
    },
    { stableId: null, trust: requesterTrust },
  );
  link.start();
  return { received, link, connected: () => open };
}

function mnistInputs(): WireTensor {
  const holdout = decodeMnistHoldout(new Uint8Array(fs.readFileSync(path.join(ROOT, 'public/data/mnist-holdout.bin'))).buffer);
  const pixels = holdout.images.slice(0, ITEMS * MNIST_PIXELS);
  return { name: MNIST_INPUT_NAME, dtype: 'float32', dims: [ITEMS, MNIST_PIXELS], data: pixels.buffer };
}

beforeAll(async () => {
  const app = express();
  httpServer = http.createServer(app);
  signaling = attachSignaling(httpServer, app);
  await new Promise<void>((resolve) => httpServer.listen(0, '127.0.0.1', resolve));
  serverUrl = `http://127.0.0.1:${(httpServer.address() as AddressInfo).port}`;
  factory = nodeEndpointFactory(signalingForServer(serverUrl));
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'quorum-headless-'));
  coordinator = startCoordinator();
  await coordinator.ready;
}, WAIT_MS);

afterAll(async () => {
  for (const v of volunteers) await v.stop();
  if (coordinator.proc.exitCode === null) coordinator.proc.kill('SIGKILL');
  await signaling.detach();
  await new Promise<void>((resolve) => httpServer.close(() => resolve()));
  closeNodeTransport();
  fs.rmSync(dataDir, { recursive: true, force: true });
}, WAIT_MS);

describe('a headless coordinator process', () => {
  let key: string;
  let jobId: JobId;
  let req: ReturnType<typeof requester>;

  it('[N-2] keeps its requester key in the data directory, owner-only, and prints the links the coordinator page shows', async () => {
    const file = path.join(dataDir, REQUESTER_KEY_FILE);
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    expect(fs.statSync(path.join(dataDir, DATABASE_FILE)).mode & 0o777).toBe(0o600);
    key = fs.readFileSync(file, 'utf8').trim();
    expect(key).toMatch(/^[0-9a-f]{32}$/);
    const { links } = await coordinator.ready;
    // [K-1] Each link carries the fingerprint of the key kept in the data directory.
    const fp = (await coordinatorKeyIn(dataDir)).fingerprint;
    expect(fs.statSync(path.join(dataDir, COORDINATOR_KEY_FILE)).mode & 0o777).toBe(0o600);
    expect(links).toEqual({
      volunteer: `${serverUrl}/#/volunteer?network=${NETWORK}&fp=${fp}`,
      requester: `${serverUrl}/#/requester?network=${NETWORK}&fp=${fp}&key=${key}`,
      network: `${serverUrl}/#/network?network=${NETWORK}&fp=${fp}`,
    });
  });

  it(
    '[N-1] runs a requester’s MNIST job on two volunteers; SIGKILLed mid-job and restarted on the same data, it completes with nothing lost or accepted twice',
    async () => {
      req = requester(key);
      await until('the requester to connect', () => req.connected());
      req.link.send({
        v: PROTOCOL_VERSION,
        t: 'submit-job',
        ref: 'mnist-1',
        spec: {
          name: 'mnist',
          model: MODEL.buffer.slice(MODEL.byteOffset, MODEL.byteOffset + MODEL.byteLength),
          inputs: [mnistInputs()],
          shardSize: SHARD_SIZE,
          policy: DEFAULT_POLICY,
          requesterKey: key,
        },
      });
      const answer = await until('an answer to the submission', () =>
        req.received.find((m) => (m.t === 'job-accepted' || m.t === 'job-rejected') && m.ref === 'mnist-1'),
      );
      if (answer.t !== 'job-accepted') throw new Error(`refused: ${answer.t === 'job-rejected' ? answer.reason : ''}`);
      expect(answer.shards).toBe(SHARDS);
      jobId = answer.jobId;

      volunteers.push(await startNodeVolunteer(factory, NETWORK, 'node volunteer 1', RUN_DELAY_MS));
      volunteers.push(await startNodeVolunteer(factory, NETWORK, 'node volunteer 2', RUN_DELAY_MS));
      const before = await metricsUrl();
      // Killed once some shards are verified (stored) and others are not.
      const verifiedAtKill = await until('some verified shards', async () => {
        const v = (await metrics(before)).get('quorum_shards_verified') ?? 0;
        return v >= 2 ? v : false;
      });
      coordinator.proc.kill('SIGKILL');
      expect(await coordinator.exited).toBeNull();
      expect(verifiedAtKill).toBeLessThan(SHARDS);

      coordinator = startCoordinator();
      await coordinator.ready;
      const after = await metricsUrl();
      // Resumed as a reloaded coordinator tab: the job, both volunteer ids and the leases they held.
      expect(coordinator.lines.map((l) => String(l['msg']))).toContainEqual(
        expect.stringMatching(/^restored 1 job\(s\), 2 volunteer id\(s\) and [1-9]\d* live lease\(s\)/),
      );
      const done = await until('the job to complete', () =>
        req.received
          .findLast((m): m is Extract<FromCoordinator, { t: 'job-status' }> => m.t === 'job-status')
          ?.jobs.find((j: JobStatus) => j.jobId === jobId && j.done),
      );
      expect(done).toMatchObject({ shards: SHARDS, verified: SHARDS, unverifiable: 0 });

      req.link.send({ v: PROTOCOL_VERSION, t: 'results-request', jobId });
      const results = await until('the results', () =>
        req.received.find((m): m is Extract<FromCoordinator, { t: 'job-results' }> => m.t === 'job-results' && m.jobId === jobId),
      );
      // Every shard once, in order, covering every item once.
      expect(results.shards.map((s: VerifiedShard) => s.index)).toEqual([...Array(SHARDS).keys()]);
      expect(results.shards.map((s: VerifiedShard) => s.start)).toEqual([...Array(SHARDS).keys()].map((i) => i * SHARD_SIZE));
      // And the numbers are the model's: the same run here, item for item.
      const engine = createOrtNodeEngine();
      await engine.init({ backend: 'wasm', threads: 1 });
      const hash = asModelHash(await sha256Hex(MODEL));
      await engine.loadModel(hash, MODEL.buffer.slice(MODEL.byteOffset, MODEL.byteOffset + MODEL.byteLength));
      const reference = new Float32Array((await engine.run(hash, [mnistInputs()])).outputs[0]!.data);
      await engine.dispose();
      const got = new Float32Array(results.shards.length * SHARD_SIZE * 10);
      for (const s of results.shards) got.set(new Float32Array(s.outputs[0]!.data), s.start * 10);
      for (let i = 0; i < reference.length; i++) expect(Math.abs(got[i]! - reference[i]!)).toBeLessThan(1e-4);
      // Shards finished while the coordinator was gone were held back and taken after the restart.
      expect(volunteers.reduce((n, v) => n + v.core.stats().heldBackDelivered, 0)).toBeGreaterThan(0);
      // The restarted process took results: the job did not finish before the kill.
      const m = await metrics(after);
      expect(m.get('quorum_results_total')).toBeGreaterThan(0);
    },
    3 * WAIT_MS,
  );

  it(
    '[N-4] serves /metrics in Prometheus text: peers by role and backend, shards, leases, results, storage',
    async () => {
      const url = await metricsUrl();
      const m = await until('both volunteers back', async () => {
        const got = await metrics(url);
        return got.get('quorum_peers{role="volunteer",backend="node-cpu"}') === 2 ? got : false;
      });
      expect(m.get('quorum_peers{role="requester",backend="none"}')).toBe(1);
      expect(m.get('quorum_shards')).toBe(SHARDS);
      expect(m.get('quorum_shards_verified')).toBe(SHARDS);
      expect(m.get('quorum_shards_unverifiable')).toBe(0);
      expect(m.get('quorum_jobs{state="done"}')).toBe(1);
      expect(m.get('quorum_jobs{state="running"}')).toBe(0);
      expect(m.get('quorum_disagreements')).toBe(0);
      expect(m.get('quorum_quarantines_total')).toBe(0);
      expect(m.get('quorum_storage_failing')).toBe(0);
      expect(m.get('quorum_leases_out')).toBeGreaterThanOrEqual(0);
      expect(m.has('quorum_results_per_second')).toBe(true);
      // [N-4] Every line on stdout is one JSON record.
      expect(coordinator.notJson).toEqual([]);
    },
    WAIT_MS,
  );

  it(
    '[N-3] SIGTERM writes what is pending (a job just accepted, the leases just issued) and exits 0',
    async () => {
      req.link.send({
        v: PROTOCOL_VERSION,
        t: 'submit-job',
        ref: 'mnist-2',
        spec: {
          name: 'mnist again',
          model: MODEL.buffer.slice(MODEL.byteOffset, MODEL.byteOffset + MODEL.byteLength),
          inputs: [mnistInputs()],
          shardSize: SHARD_SIZE,
          policy: DEFAULT_POLICY,
          requesterKey: key,
        },
      });
      const answer = await until('an answer to the second submission', () => req.received.find((m) => m.t === 'job-accepted' && m.ref === 'mnist-2'));
      if (answer.t !== 'job-accepted') throw new Error('refused');
      // Both volunteers are idle and asking: the new job's first shards are leased as it is admitted.
      const held = await until('leases of the new job', () => {
        const shards = volunteers.map((v) => v.core.stats().currentShard);
        return shards.every((s) => s?.startsWith(`${answer.jobId}/`) === true) ? shards : false;
      });
      coordinator.proc.kill('SIGTERM');
      expect(await coordinator.exited).toBe(0);
      expect(coordinator.lines.at(-1)?.['msg']).toBe('coordinator stopped: every write is stored');

      const db = openCoordinatorSqlite(path.join(dataDir, DATABASE_FILE));
      try {
        const store = new SqliteCoordinatorStore(db, NETWORK);
        const jobs = await store.loadJobs();
        expect(jobs.map((j) => j.job.id).sort()).toEqual([jobId, answer.jobId].sort());
        const shards = await store.loadShards(jobId);
        expect(
          shards
            .filter((s) => s.status === 'verified')
            .map((s) => s.index)
            .sort((a, b) => a - b),
        ).toEqual([...Array(SHARDS).keys()]);
        const leased = (await store.loadLeases()).filter((l) => !l.retired && l.jobId === answer.jobId).map((l) => `${l.jobId}/${l.shardIndex}`);
        for (const shard of held) expect(leased).toContain(shard);
      } finally {
        db.close();
      }
    },
    WAIT_MS,
  );
});
