/**
 * `quorum volunteer` end to end in one process: a real PeerServer (mounted as the app mounts it),
 * the coordinator host in Node (fake-indexeddb) over the Node transport (peerjs over
 * node-datachannel, real WebRTC on loopback), and headless volunteers started by the module the
 * CLI runs. They compute a real MNIST job on onnxruntime-node; its verified results must equal a
 * reference run of the same model on onnxruntime-web. A volunteer restarted from its state
 * directory comes back under its peer id with its standing; Ctrl-C hands a held lease back.
 */
import { newIdentity } from '../../src/host/testing/provingCoordinator.ts';
import type { CoordinatorIdentity } from '../../src/host/coordinatorKey.ts';
import 'fake-indexeddb/auto';
import { EventEmitter } from 'node:events';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { CoordinatorHost } from '../../src/host/coordinatorHost.ts';
import { ModelInspector } from '../../src/host/modelInspector.ts';
import { coordinatorPeerId } from '../../src/host/networkId.ts';
import { CoordinatorStore } from '../../src/persistence/coordinatorStore.ts';
import { openQuorumDb } from '../../src/persistence/db.ts';
import { shardIdOf, type JobId, type PeerId } from '../../src/protocol/ids.ts';
import { checkResultSignature, resultDigest } from '../../src/host/volunteerKey.ts';
import { VOLUNTEER_KEY_FILE, volunteerKeyIn } from '../../src/node/dataDir.node.ts';
import { PROTOCOL_VERSION, type FromCoordinator, type ToCoordinator } from '../../src/protocol/messages.ts';
import { parseFromCoordinator, parseToCoordinator } from '../../src/protocol/parse.ts';
import { DEFAULT_POLICY } from '../../src/protocol/policy.ts';
import { float32View, type WireTensor } from '../../src/protocol/tensor.ts';
import { createOrtEngine } from '../../src/runtime/ortEngine.ts';
import { createOrtNodeEngine } from '../../src/runtime/ortNodeEngine.node.ts';
import { slowEngine } from '../../src/runtime/slowEngine.ts';
import type { EndpointFactory } from '../../src/transport/transport.ts';
import { argmaxRows, decodeMnistHoldout, MNIST_CLASSES, MNIST_INPUT_NAME, MNIST_PIXELS } from '../../src/workloads/mnist/holdout.ts';
import { mnistBatch } from '../../src/workloads/mnist/mnistJob.ts';
import { startLoopbackSignaling, tmpDirs, waitFor, type LoopbackSignaling } from '../testing/loopbackRig.ts';
import { webReference } from '../testing/webReference.ts';
import { SHUTTING_DOWN } from './headlessVolunteer.ts';
import { startVolunteers, volunteerStateDir, type VolunteerRun } from './volunteerCommand.ts';

const NET = 'headless';
const COORD = coordinatorPeerId(NET);
const KEY = 'sesame';
const MODEL = fs.readFileSync(new URL('../../public/models/mnist-mlp.onnx', import.meta.url));
const HOLDOUT = decodeMnistHoldout(fs.readFileSync(new URL('../../public/data/mnist-holdout.bin', import.meta.url)).buffer as ArrayBuffer);
const ITEMS = 200;
const SHARD = 25;

/** What reached the coordinator's endpoint, in order: frames (parsed) and closed connections. */
type Tapped = { readonly kind: 'frame'; readonly peer: PeerId; readonly msg: ToCoordinator } | { readonly kind: 'close'; readonly peer: PeerId };

let loopback: LoopbackSignaling;
let url: string;
let factory: EndpointFactory;
let host: CoordinatorHost;
let db: Awaited<ReturnType<typeof openQuorumDb>>;
const tapped: Tapped[] = [];
const runs: VolunteerRun[] = [];
const roots = tmpDirs('quorum-cli-');
const stateRoot = (): string => roots.make();
const signals = new EventEmitter();
const output: string[] = [];
const out = { isTTY: false, write: (text: string) => output.push(text) };

/** The coordinator's transport, with what arrives at it recorded on the way (nothing is changed). */
function tap(inner: EndpointFactory): EndpointFactory {
  return (id, handlers) =>
    inner(id, {
      ...handlers,
      data: (peer, raw) => {
        const parsed = parseToCoordinator(raw);
        if (parsed.ok) tapped.push({ kind: 'frame', peer, msg: parsed.msg });
        handlers.data(peer, raw);
      },
      close: (peer) => {
        tapped.push({ kind: 'close', peer });
        handlers.close(peer);
      },
    });
}

async function start(root: string, count: number, createEngine?: () => ReturnType<typeof createOrtNodeEngine>): Promise<VolunteerRun> {
  const run = await startVolunteers(
    { server: url, network: NET, count, threads: 1, stateRoot: root, fingerprint: null },
    { factory, out, signals, exitNow: () => undefined, ...(createEngine ? { createEngine } : {}) },
  );
  runs.push(run);
  return run;
}

/** Submits an MNIST job of `items` digits as a requester would, over the Node transport. */
async function submitMnist(items: number, shardSize: number): Promise<{ jobId: JobId; inputs: WireTensor }> {
  const received: FromCoordinator[] = [];
  let opened = (): void => undefined;
  const open = new Promise<void>((resolve) => (opened = resolve));
  const ep = await factory(null, {
    open: () => opened(),
    data: (_peer, raw) => {
      const parsed = parseFromCoordinator(raw);
      if (!parsed.ok) throw new Error(`the coordinator sent an unparseable frame: ${parsed.error.reason}`);
      received.push(parsed.msg);
    },
    close: () => undefined,
    signaling: () => undefined,
    error: () => undefined,
  });
  try {
    ep.connect(COORD);
    await open;
    ep.send(COORD, { v: PROTOCOL_VERSION, t: 'hello', role: 'requester', caps: null, label: 'test requester' });
    const inputs: WireTensor = { name: MNIST_INPUT_NAME, dtype: 'float32', dims: [items, MNIST_PIXELS], data: mnistBatch(HOLDOUT, items).data };
    const spec = { name: `mnist-${items}`, model: MODEL.slice().buffer, inputs: [inputs], shardSize, policy: DEFAULT_POLICY, requesterKey: KEY };
    ep.send(COORD, { v: PROTOCOL_VERSION, t: 'submit-job', ref: 'r', spec });
    type Answer = Extract<FromCoordinator, { t: 'job-accepted' | 'job-rejected' }>;
    const answer = await waitFor('the job to be admitted', () => received.find((m): m is Answer => m.t === 'job-accepted' || m.t === 'job-rejected'));
    if (answer.t === 'job-rejected') throw new Error(`job refused: ${answer.reason}`);
    return { jobId: answer.jobId, inputs };
  } finally {
    ep.destroy();
  }
}

beforeAll(async () => {
  loopback = await startLoopbackSignaling();
  ({ url, factory } = loopback);
  db = await openQuorumDb(`cli-${process.pid}-${Date.now()}`);
  host = await startCoordinator();
});

let identity: CoordinatorIdentity | undefined;

/** The network's coordinator, resuming from what the previous one stored ([S-1]). */
async function startCoordinator(): Promise<CoordinatorHost> {
  // [K-1] One key across restarts, as a real coordinator keeps it: the volunteers pin it on first use.
  identity ??= await newIdentity();
  const coordinator = new CoordinatorHost({
    identity,
    networkId: NET,
    factory: tap(factory),
    store: new CoordinatorStore(db, NET),
    config: { requesterKey: KEY },
    inspector: new ModelInspector(() => createOrtEngine()),
  });
  await coordinator.start();
  return coordinator;
}

afterAll(async () => {
  await Promise.all(runs.map((r) => r.stop()));
  host?.stop();
  await loopback?.close();
  roots.removeAll();
  // node-datachannel's cleanup may wait up to 10 s for connections still closing.
}, 60_000);

/**
 * Each test here waits for several real states in turn (a coordinator, volunteers running ONNX
 * shards, restarts), each for up to waitFor's 60 s: on a loaded 2-core machine (load average
 * 20-45) their sum passed the default 60 s per test. A test that reaches its states passes at once.
 */
vi.setConfig({ testTimeout: 240_000 });

describe('quorum volunteer', () => {
  const root = stateRoot();
  let firstPeer = '';
  let streakBefore = 0;

  it('two headless volunteers complete an MNIST job on node-cpu, verified results equal to a reference run on onnxruntime-web', async () => {
    const run = await start(root, 2);
    const { jobId, inputs } = await submitMnist(ITEMS, SHARD);
    const status = await waitFor('the job to be verified', () => host.core.jobStatuses().find((j) => j.jobId === jobId && j.done));
    expect(status).toMatchObject({ items: ITEMS, shards: ITEMS / SHARD, verified: ITEMS / SHARD, disagreements: 0 });

    const shards = host.core.verifiedShards(jobId).sort((a, b) => a.start - b.start);
    const peers = run.volunteers.map((v) => v.peerId());
    const keys = await Promise.all(run.volunteers.map((_, i) => volunteerKeyIn(volunteerStateDir(root, NET, i))));
    for (const s of shards) {
      // Two replicas agreed, both headless: computed by the two volunteers of this process.
      expect(s.backends).toEqual(['node-cpu', 'node-cpu']);
      expect([...s.volunteers].sort()).toEqual([...peers].sort());
      // [I-3] Each agreeing result is signed by its volunteer's own key, over what it computed.
      expect(s.volunteerKeys).toHaveLength(2);
      const outputDigest = await resultDigest(s.outputs, undefined);
      for (let j = 0; j < 2; j++) {
        expect(s.volunteerKeys![j]).toBe(keys[peers.indexOf(s.volunteers[j]!)]!.publicKey);
        const subject = {
          networkId: NET,
          jobId,
          shardId: shardIdOf(jobId, s.index),
          leaseId: s.resultLeases![j]!,
          outputDigest,
          backend: 'node-cpu',
          adapter: null,
        };
        expect((await checkResultSignature(s.volunteerKeys![j], s.resultSigs![j], subject)).ok).toBe(true);
      }
    }
    const logits = new Float32Array(ITEMS * MNIST_CLASSES);
    for (const s of shards) logits.set(float32View(s.outputs[0]!), s.start * MNIST_CLASSES);

    const reference = await webReference(MODEL, inputs);
    expect(Array.from(argmaxRows(logits, MNIST_CLASSES))).toEqual(Array.from(argmaxRows(reference, MNIST_CLASSES)));
    let worst = 0;
    for (let i = 0; i < reference.length; i++) worst = Math.max(worst, Math.abs(logits[i]! - reference[i]!));
    expect(worst).toBeLessThan(1e-4);
    // Not a terminal: one plain line per shard, naming it.
    const shardLines = output
      .join('')
      .split('\n')
      .filter((l) => /shard \S+ done: \d+ items in \d+ ms; .* items\/s/.test(l));
    expect(shardLines.length).toBeGreaterThanOrEqual(2 * (ITEMS / SHARD));
    // The coordinator and its map see the headless backend.
    expect(host.core.peerSummaries().filter((p) => p.role === 'volunteer' && p.backend === 'node-cpu')).toHaveLength(2);

    firstPeer = run.volunteers[0]!.peerId() ?? '';
    streakBefore = host.core.reputation.get(firstPeer as PeerId)?.streak['node-cpu'] ?? 0;
    expect(streakBefore).toBeGreaterThan(0);
    const identity = JSON.parse(fs.readFileSync(path.join(volunteerStateDir(root, NET, 0), 'identity.json'), 'utf8')) as {
      peerId: string;
      token: string | null;
    };
    expect(identity.peerId).toBe(firstPeer);
    // [I-2] No bearer token: the id belongs to the state directory's key, kept owner-only.
    expect(identity.token).toBeNull();
    expect(fs.statSync(path.join(volunteerStateDir(root, NET, 0), VOLUNTEER_KEY_FILE)).mode & 0o777).toBe(0o600);
  });

  it('[W-17] a volunteer stopped with its state kept and restarted from its state directory gets its peer id and standing back', async () => {
    const first = runs[0]!;
    await first.volunteers[0]!.stop();
    await waitFor('the coordinator to see it go', () => !host.core.peerSummaries().some((p) => p.peerId === firstPeer));

    const again = await start(root, 1);
    const v = again.volunteers[0]!;
    const standing = await waitFor('the coordinator to state its standing', () => (v.peerId() === firstPeer ? v.stats()?.standing : null));
    expect(v.peerId()).toBe(firstPeer);
    // The streak lives with the id's reputation: a fresh identity would start from 0.
    expect(standing.streak).toBe(streakBefore);
    await Promise.all([again.stop(), first.stop()]);
  });

  it('[W-24] Ctrl-C hands a held lease back (lease-abandon) before the connection closes, and exits with 0', async () => {
    // The real engine, held for a minute per shard: the lease is surely in hand at Ctrl-C.
    const run = await start(stateRoot(), 1, () => slowEngine(createOrtNodeEngine(), 60_000));
    const v = run.volunteers[0]!;
    const { jobId } = await submitMnist(50, 50);
    await waitFor('the shard to run', () => v.stats()?.phase === 'running');
    const peer = v.peerId() as PeerId;
    expect(host.core.activeLeaseCount()).toBeGreaterThan(0);

    signals.emit('SIGINT');
    expect(await run.done).toBe(0);

    await waitFor('the connection to close', () => tapped.some((t) => t.peer === peer && t.kind === 'close'));
    const mine = tapped.filter((t) => t.peer === peer);
    const abandon = mine.findIndex((t) => t.kind === 'frame' && t.msg.t === 'lease-abandon');
    expect(abandon).toBeGreaterThanOrEqual(0);
    expect(abandon).toBeLessThan(mine.findIndex((t) => t.kind === 'close'));
    expect(mine.filter((t) => t.kind === 'frame' && t.msg.t === 'volunteer-state').at(-1)).toMatchObject({ msg: { paused: true, reason: SHUTTING_DOWN } });
    // The shard is free for another volunteer at once, not at its lease deadline.
    expect(host.core.activeLeaseCount()).toBe(0);
    expect(host.core.jobStatuses().find((j) => j.jobId === jobId)).toMatchObject({ inFlight: 0, verified: 0 });
  });
  it('[W-24] a result finished while the coordinator was away is kept in the state directory and delivered after a restart', async () => {
    const root = stateRoot();
    const outboxDir = path.join(volunteerStateDir(root, NET, 0), 'outbox');
    const run = await start(root, 1, () => slowEngine(createOrtNodeEngine(), 1_500));
    const v = run.volunteers[0]!;
    await submitMnist(50, 50);
    // The shard of the Ctrl-C test's job, handed back, may come first: whichever runs is followed.
    const shardId = await waitFor('a shard to run', () => (v.stats()?.phase === 'running' ? v.stats()?.currentShard : null));
    const jobId = shardId.split('/')[0] as JobId;
    const peer = v.peerId() as PeerId;
    // The coordinator goes away mid-shard, its lease written down ([S-1]).
    await new Promise((r) => setTimeout(r, 300));
    await host.flushWrites();
    host.stop();
    await waitFor('the result to be held back in a file', () => fs.existsSync(outboxDir) && fs.readdirSync(outboxDir).length === 1);
    await run.stop();
    expect(fs.readdirSync(outboxDir)).toHaveLength(1);

    host = await startCoordinator();
    const again = await start(root, 1);
    const w = again.volunteers[0]!;
    await waitFor('the held-back result to be acknowledged', () => (w.stats()?.heldBackDelivered ?? 0) >= 1);
    expect(w.peerId()).toBe(peer);
    expect(
      host.core
        .shardsOf(jobId)
        .find((sh) => sh.id === shardId)
        ?.replicas.map((r) => [r.volunteer, r.backend]),
    ).toEqual([[peer, 'node-cpu']]);
    await waitFor('the acknowledged result to leave the state directory', () => fs.readdirSync(outboxDir).length === 0);
    await again.stop();
  });
});
