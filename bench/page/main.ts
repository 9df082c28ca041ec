/**
 * The benchmark page (`npm run bench` builds it with bench/vite.config.ts and serves it with
 * server/main.ts's startServer). It wires the app's own modules exactly as the product does —
 * the inference Worker engine, the peerjs transport, the coordinator/volunteer/requester hosts,
 * IndexedDB — and exposes them on `window.__bench` for the Node runner to drive with Playwright.
 * Nothing here is part of the app.
 */
import { CoordinatorHost } from '../../src/host/coordinatorHost.ts';
import { claimingFactory } from '../../src/host/coordinatorIdClaim.ts';
import { generateCoordinatorKeyPair, identityOf } from '../../src/host/coordinatorKey.ts';
import { ModelInspector } from '../../src/host/modelInspector.ts';
import { RequesterHost } from '../../src/host/requesterHost.ts';
import { startVolunteer } from '../../src/host/volunteerRole.ts';
import { ModelCache } from '../../src/persistence/modelCache.ts';
import { loadSignalingConfig } from '../../src/host/signalingConfig.ts';
import { CoordinatorStore } from '../../src/persistence/coordinatorStore.ts';
import { openQuorumDb } from '../../src/persistence/db.ts';
import type { CoordinatorEffect } from '../../src/core/coordinator/effects.ts';
import { asModelHash, asPeerId, type PeerId } from '../../src/protocol/ids.ts';
import type { JobSpec } from '../../src/protocol/messages.ts';
import { DEFAULT_COMPARATOR } from '../../src/protocol/policy.ts';
import { sha256Hex } from '../../src/runtime/sha256.ts';
import { createWorkerEngine } from '../../src/runtime/workerEngine.ts';
import { attachUi } from '../../src/host/uiPorts.ts';
import { storePort, storePorts, useQuorumStore } from '../../src/stores/store.ts';
import type { DataPlaneOptions } from '../../src/transport/dataPlane.ts';
import { peerjsEndpointFactory } from '../../src/transport/peerjsTransport.ts';
import type { Endpoint, EndpointFactory } from '../../src/transport/transport.ts';
import { decodeMnistHoldout, MNIST_HOLDOUT_URL, MNIST_PIXELS, type MnistHoldout } from '../../src/workloads/mnist/holdout.ts';
import { CoordinatorTrust, localPinStore } from '../../src/host/coordinatorTrust.ts';
import { encodeFrame } from '../../src/transport/frameCodec.ts';
import { scaleCounts, scaleFrames } from '../scaleProbe.ts';
import { ocrEngine, ocrSubmit, ocrVolunteer, ocrVolunteerTimes } from './ocr.ts';
import type { BenchApi, EngineOptions, EngineSamples, JobTimes, SubmitOptions } from './api.ts';

// The bench page is its own entry point: its hosts write the same store a page would.
attachUi(storePorts());

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function fetchBytes(url: string): Promise<ArrayBuffer> {
  const res = await fetch(url);
  if (!res.ok) throw new Error(`could not load ${url}: HTTP ${res.status}`);
  return res.arrayBuffer();
}

let holdout: Promise<MnistHoldout> | null = null;

/** `items` real held-out digits (repeated as needed), as one [items, 784] float32 batch. */
async function mnistInput(items: number): Promise<ArrayBuffer> {
  holdout ??= fetchBytes(MNIST_HOLDOUT_URL).then(decodeMnistHoldout);
  const h = await holdout;
  const out = new Float32Array(items * MNIST_PIXELS);
  for (let i = 0; i < items; i++) {
    const src = (i % h.count) * MNIST_PIXELS;
    out.set(h.images.subarray(src, src + MNIST_PIXELS), i * MNIST_PIXELS);
  }
  return out.buffer;
}

async function waitFor(what: string, ok: () => boolean, timeoutMs: number): Promise<void> {
  const until = performance.now() + timeoutMs;
  while (!ok()) {
    if (performance.now() > until) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(20);
  }
}

// ---------------------------------------------------------------------------------------------
// Engine: the volunteer's Worker engine on one model and batch
// ---------------------------------------------------------------------------------------------

async function engine(o: EngineOptions): Promise<EngineSamples> {
  const bytes = await fetchBytes(o.modelUrl);
  const hash = asModelHash(await sha256Hex(bytes));
  const eng = createWorkerEngine();
  try {
    const caps = await eng.init({ backend: 'wasm', threads: o.threads });
    await eng.loadModel(hash, bytes);
    const inputs = [{ name: 'pixels', dtype: 'float32' as const, dims: [o.batch, MNIST_PIXELS], data: await mnistInput(o.batch) }];
    for (let i = 0; i < o.warmupRuns; i++) await eng.run(hash, inputs);
    const itemsPerSec: number[] = [];
    const sessionItemsPerSec: number[] = [];
    for (let s = 0; s < o.samples; s++) {
      let runs = 0;
      let inferMs = 0;
      const t0 = performance.now();
      while (performance.now() - t0 < o.sampleMs) {
        inferMs += (await eng.run(hash, inputs)).inferMs;
        runs++;
      }
      const wallMs = performance.now() - t0;
      itemsPerSec.push((runs * o.batch) / (wallMs / 1000));
      sessionItemsPerSec.push((runs * o.batch) / (inferMs / 1000));
    }
    return { backend: caps.backend, threads: caps.threads, ortVersion: caps.ortVersion, crossOriginIsolated, itemsPerSec, sessionItemsPerSec };
  } finally {
    await eng.dispose();
  }
}

// ---------------------------------------------------------------------------------------------
// Transfer: one frame tab to tab through the app's transport; and raw DataChannels, the ceiling
// ---------------------------------------------------------------------------------------------

/** What a volunteer pays per lease to read the model's bytes back from its IndexedDB cache (ms per read). */
async function modelCacheRead(modelUrl: string, reads: number): Promise<number[]> {
  const bytes = await fetchBytes(modelUrl);
  const hash = asModelHash(await sha256Hex(bytes));
  const cache = new ModelCache(await openQuorumDb());
  await cache.put(hash, bytes, Date.now());
  const out: number[] = [];
  for (let i = 0; i < reads; i++) {
    const t0 = performance.now();
    const got = await cache.get(hash);
    out.push(performance.now() - t0);
    if (got?.byteLength !== bytes.byteLength) throw new Error('model cache returned other bytes');
  }
  return out;
}

let transferEndpoint: Endpoint | null = null;
const openPeers = new Set<PeerId>();
const acks = new Map<number, () => void>();

async function transferOpen(id: string | null, dataPlane: Partial<DataPlaneOptions> = {}): Promise<string> {
  const signaling = await loadSignalingConfig();
  transferEndpoint = await peerjsEndpointFactory(signaling, dataPlane)(id, {
    open: (peer) => openPeers.add(peer),
    data: (peer, raw) => {
      const f = raw as { t?: unknown; seq?: unknown; data?: unknown };
      if (f.t === 'bench-blob' && typeof f.seq === 'number') {
        const size = f.data instanceof ArrayBuffer || ArrayBuffer.isView(f.data) ? f.data.byteLength : -1;
        transferEndpoint?.send(peer, { v: 1, t: 'bench-ack', seq: f.seq, size });
      } else if (f.t === 'bench-ack' && typeof f.seq === 'number') {
        acks.get(f.seq)?.();
      }
    },
    close: (peer) => openPeers.delete(peer),
    signaling: () => {},
    error: (e) => console.warn(`[bench transport] ${e.message}`),
  });
  return transferEndpoint.selfId;
}

async function transferConnect(remote: string): Promise<void> {
  const peer = asPeerId(remote);
  transferEndpoint?.connect(peer);
  await waitFor(`a connection to ${remote}`, () => openPeers.has(peer), 20_000);
}

let seq = 0;
/** Sends `bytes` `reps` times, one at a time; MB/s of each, from send() to the receiver's ack. */
async function transferSend(remote: string, bytes: number, reps: number): Promise<number[]> {
  const peer = asPeerId(remote);
  const data = new Uint8Array(bytes);
  for (let i = 0; i < bytes; i += 4096) data[i] = i & 0xff;
  const rates: number[] = [];
  for (let r = 0; r < reps; r++) {
    const s = ++seq;
    const acked = new Promise<void>((resolve) => acks.set(s, resolve));
    const t0 = performance.now();
    if (!transferEndpoint?.send(peer, { v: 1, t: 'bench-blob', seq: s, data: data.buffer })) throw new Error('no connection');
    await acked;
    rates.push(bytes / 1e6 / ((performance.now() - t0) / 1000));
  }
  return rates;
}

let rawPc: RTCPeerConnection | null = null;
/** The sender's channels (one for the ceiling row; more to see whether striping one frame helps). */
let rawChannels: RTCDataChannel[] = [];

async function localDescriptionWhenGathered(pc: RTCPeerConnection): Promise<string> {
  if (pc.iceGatheringState !== 'complete') {
    await new Promise<void>((resolve) => pc.addEventListener('icegatheringstatechange', () => pc.iceGatheringState === 'complete' && resolve()));
  }
  return JSON.stringify(pc.localDescription);
}

function rawReceiver(ch: RTCDataChannel): void {
  ch.binaryType = 'arraybuffer';
  let expected = 0;
  let received = 0;
  ch.onmessage = (e: MessageEvent<ArrayBuffer | string>) => {
    if (typeof e.data === 'string') {
      expected = Number(e.data);
      received = 0;
      return;
    }
    received += e.data.byteLength;
    if (received === expected) ch.send('done');
  };
}

async function rawOffer(channels = 1): Promise<string> {
  rawPc = new RTCPeerConnection({ iceServers: [] });
  rawChannels = [];
  for (let i = 0; i < channels; i++) {
    const ch = rawPc.createDataChannel(`bench-${i}`, { ordered: true });
    ch.binaryType = 'arraybuffer';
    rawChannels.push(ch);
  }
  await rawPc.setLocalDescription(await rawPc.createOffer());
  return localDescriptionWhenGathered(rawPc);
}

async function rawAnswer(offer: string): Promise<string> {
  rawPc = new RTCPeerConnection({ iceServers: [] });
  rawPc.ondatachannel = (e) => rawReceiver(e.channel);
  await rawPc.setRemoteDescription(JSON.parse(offer) as RTCSessionDescriptionInit);
  await rawPc.setLocalDescription(await rawPc.createAnswer());
  return localDescriptionWhenGathered(rawPc);
}

async function rawAccept(answer: string): Promise<void> {
  await rawPc?.setRemoteDescription(JSON.parse(answer) as RTCSessionDescriptionInit);
  await Promise.all(
    rawChannels.map((ch) => (ch.readyState === 'open' ? undefined : new Promise((resolve) => ch.addEventListener('open', resolve, { once: true })))),
  );
}

/** `bytes` in `chunkBytes` messages straight on one DataChannel, with the same backpressure. */
async function rawSendOn(ch: RTCDataChannel, bytes: number, chunkBytes: number, highWaterBytes: number): Promise<void> {
  ch.bufferedAmountLowThreshold = highWaterBytes / 2;
  const done = new Promise<void>((resolve) => (ch.onmessage = () => resolve()));
  ch.send(String(bytes));
  let sent = 0;
  while (sent < bytes) {
    if (ch.bufferedAmount > highWaterBytes) {
      await new Promise((resolve) => ch.addEventListener('bufferedamountlow', resolve, { once: true }));
      continue;
    }
    const n = Math.min(chunkBytes, bytes - sent);
    ch.send(new Uint8Array(n));
    sent += n;
  }
  await done;
}

/**
 * The ceiling: `bytes` straight on the DataChannel(s), timed until every channel's receiver has
 * counted its share. With `channels` > 1 the bytes are striped evenly across that many channels of
 * the same connection at once.
 */
async function rawSend(bytes: number, chunkBytes: number, reps: number, highWaterBytes: number, channels = 1): Promise<number[]> {
  const chs = rawChannels.slice(0, channels);
  if (chs.length < channels) throw new Error(`only ${rawChannels.length} raw channels open`);
  const rates: number[] = [];
  for (let r = 0; r < reps; r++) {
    const t0 = performance.now();
    const share = Math.ceil(bytes / chs.length);
    // A channel whose share is empty sends nothing (its receiver would wait for bytes forever).
    const shares = chs.map((ch, i) => ({ ch, n: Math.max(0, Math.min(share, bytes - i * share)) })).filter((x) => x.n > 0);
    await Promise.all(shares.map(({ ch, n }) => rawSendOn(ch, n, chunkBytes, highWaterBytes)));
    rates.push(bytes / 1e6 / ((performance.now() - t0) / 1000));
  }
  return rates;
}

// ---------------------------------------------------------------------------------------------
// Network: the real hosts, one role per page
// ---------------------------------------------------------------------------------------------

type MutableJobTimes = { -readonly [K in keyof JobTimes]: JobTimes[K] };

const jobTimes = new Map<string, MutableJobTimes>();
const jobWaiters = new Map<string, () => void>();
/**
 * Per shard, as the coordinator sees it: lease sent -> its result in (by lease id: a pipelining
 * volunteer holds two, [W-18]), lease-request in -> the lease answering it out, and result in ->
 * that volunteer's next lease-request in.
 */
const cycle = { volunteerMs: [] as number[], coordinatorMs: [] as number[], requestGapMs: [] as number[] };
const leaseSentAt = new Map<string, number>();
const resultInAt = new Map<string, number>();
const requestInAt = new Map<string, number>();

/** Notes, the moment the core decides, when it admits a job and when it verifies each shard. */
function watchEffects(effects: readonly CoordinatorEffect[]): void {
  const now = performance.now();
  for (const e of effects) {
    if (e.kind === 'store-job') {
      jobTimes.set(e.job.id, {
        admittedMs: now,
        shardCount: e.job.shardCount,
        verified: 0,
        firstVerifiedMs: 0,
        lastVerifiedMs: 0,
        durableMs: 0,
        perShard: { volunteerMs: 0, coordinatorMs: 0, requestGapMs: 0 },
      });
      cycle.volunteerMs.length = 0;
      cycle.coordinatorMs.length = 0;
      cycle.requestGapMs.length = 0;
      leaseSentAt.clear();
      resultInAt.clear();
      requestInAt.clear();
    } else if (e.kind === 'store-shard' && e.shard.status === 'verified') {
      const t = jobTimes.get(e.jobId);
      if (!t) continue;
      if (t.verified === 0) t.firstVerifiedMs = now;
      t.lastVerifiedMs = now;
      t.verified++;
      if (t.verified === t.shardCount) jobWaiters.get(e.jobId)?.();
    }
  }
}

/** The core, with every effect-returning method watched (bench only: the app never does this). */
function watchCore(core: object): void {
  const target = core as Record<string, unknown>;
  for (const name of ['handle', 'admitJob', 'tick', 'connect', 'disconnect', 'protocolError']) {
    const fn = target[name];
    if (typeof fn !== 'function') continue;
    target[name] = (...args: unknown[]): unknown => {
      const out: unknown = (fn as (...a: unknown[]) => unknown).apply(core, args);
      if (Array.isArray(out)) watchEffects(out as CoordinatorEffect[]);
      return out;
    };
  }
}

/** Bytes the coordinator sent, by frame type (counted only where asked: encoding twice costs). */
let sentBytes: Record<string, number> | null = null;

/** The transport, with frames timed by type as the coordinator's host hands them over. */
function timedFactory(inner: EndpointFactory): EndpointFactory {
  return async (id, handlers) => {
    const ep = await inner(id, {
      ...handlers,
      data: (peer, raw) => {
        const msg = raw as { t?: unknown; leaseId?: unknown };
        if (msg.t === 'lease-request') {
          const now = performance.now();
          const back = resultInAt.get(peer);
          if (back !== undefined) cycle.requestGapMs.push(now - back);
          resultInAt.delete(peer);
          requestInAt.set(peer, now);
        }
        if (msg.t === 'result' && typeof msg.leaseId === 'string') {
          const now = performance.now();
          const sent = leaseSentAt.get(msg.leaseId);
          if (sent !== undefined) cycle.volunteerMs.push(now - sent);
          leaseSentAt.delete(msg.leaseId);
          resultInAt.set(peer, now);
        }
        handlers.data(peer, raw);
      },
    });
    return {
      selfId: ep.selfId,
      connect: (peer) => ep.connect(peer),
      send: (peer, frame) => {
        const msg = frame as { t?: unknown; leaseId?: unknown };
        if (msg.t === 'lease' && typeof msg.leaseId === 'string') {
          const now = performance.now();
          const asked = requestInAt.get(peer);
          if (asked !== undefined) cycle.coordinatorMs.push(now - asked);
          requestInAt.delete(peer);
          leaseSentAt.set(msg.leaseId, now);
        }
        if (sentBytes && typeof msg.t === 'string') {
          // The frame as the wire carries it (chunk headers aside): the codec's parts.
          const bytes = encodeFrame(frame).reduce((n, part) => n + part.byteLength, 0);
          sentBytes[msg.t] = (sentBytes[msg.t] ?? 0) + bytes;
        }
        return ep.send(peer, frame);
      },
      greeted: (peer, role) => ep.greeted(peer, role),
      dtlsFingerprints: (peer) => ep.dtlsFingerprints(peer),
      close: (peer) => ep.close(peer),
      destroy: () => ep.destroy(),
    };
  };
}

let coordinatorHost: CoordinatorHost | null = null;

async function coordinator(networkId: string, countBytes = false): Promise<string> {
  if (countBytes) sentBytes = {};
  const [signaling, db, keyPair] = await Promise.all([loadSignalingConfig(), openQuorumDb(), generateCoordinatorKeyPair()]);
  coordinatorHost = new CoordinatorHost({
    networkId,
    // [K-7] It claims its id with a key before registering, as the app's coordinator does, so its
    // signaling socket has the budget a real coordinator's has ([K-8]).
    factory: claimingFactory(signaling, await identityOf(keyPair), (claimed) => timedFactory(peerjsEndpointFactory(claimed))),
    store: new CoordinatorStore(db, networkId),
    // As the app's coordinator does: every submitted model is loaded and checked in its own engine.
    inspector: new ModelInspector(() => createWorkerEngine()),
    view: storePort('coordinator'),
  });
  watchCore(coordinatorHost.core);
  await coordinatorHost.start();
  const s = useQuorumStore.getState().coordinator;
  if (s.state !== 'connected' || !s.peerId) throw new Error(`coordinator did not start: ${s.error ?? s.state}`);
  return s.peerId;
}

function coordinatorBytes(): Record<string, number> {
  const out = { ...sentBytes };
  if (sentBytes) sentBytes = {};
  return out;
}

function coordinatorCore(): CoordinatorHost['core'] {
  if (!coordinatorHost) throw new Error('no coordinator');
  return coordinatorHost.core;
}

function volunteerCount(): number {
  return useQuorumStore.getState().coordinator.peers.filter((p) => p.role === 'volunteer').length;
}

const median = (xs: readonly number[]): number => {
  if (xs.length === 0) return 0;
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
};

/** Resolves with the coordinator's timings once every shard of `jobId` is verified (and stored). */
async function jobDone(jobId: string, timeoutMs: number): Promise<JobTimes> {
  const until = performance.now() + timeoutMs;
  await waitFor(`job ${jobId} to be admitted`, () => jobTimes.has(jobId), timeoutMs);
  const t = jobTimes.get(jobId) as MutableJobTimes;
  if (t.verified < t.shardCount) {
    await Promise.race([
      new Promise<void>((resolve) => jobWaiters.set(jobId, resolve)),
      sleep(Math.max(0, until - performance.now())).then(() => {
        throw new Error(`job ${jobId}: ${t.verified}/${t.shardCount} shards verified after ${timeoutMs} ms`);
      }),
    ]);
  }
  await coordinatorHost?.flushWrites();
  t.durableMs = performance.now();
  t.perShard = { volunteerMs: median(cycle.volunteerMs), coordinatorMs: median(cycle.coordinatorMs), requestGapMs: median(cycle.requestGapMs) };
  return { ...t };
}

async function volunteer(networkId: string, prefetch?: number): Promise<void> {
  await startVolunteer(networkId, 'wasm', prefetch !== undefined ? { prefetch } : {});
  await waitFor('the volunteer to connect', () => useQuorumStore.getState().volunteer.state === 'connected', 30_000);
}

function volunteerStats(): { computeMs: number; resultsDelivered: number } {
  const s = useQuorumStore.getState().volunteer.stats;
  return { computeMs: s?.computeMs ?? 0, resultsDelivered: s?.resultsDelivered ?? 0 };
}

let requesterHost: RequesterHost | null = null;

async function requester(networkId: string): Promise<void> {
  const signaling = await loadSignalingConfig();
  requesterHost = new RequesterHost({
    networkId,
    factory: peerjsEndpointFactory(signaling), // The bench's coordinator makes a fresh key per run: pins kept in memory only.
    trust: new CoordinatorTrust({ networkId, linkFingerprint: null, pins: localPinStore(null) }),
    view: storePort('requester'),
  });
  requesterHost.start();
  await waitFor('the requester to connect', () => useQuorumStore.getState().requester.state === 'connected', 30_000);
}

/** Submits a job; resolves with its id and how long the upload took (send to job-accepted). */
async function submit(o: SubmitOptions): Promise<{ jobId: string; uploadMs: number; inputBytes: number }> {
  if (!requesterHost) throw new Error('no requester');
  const data = await mnistInput(o.items);
  const spec: JobSpec = {
    name: `bench ${o.items} items`,
    model: await fetchBytes(o.modelUrl),
    inputs: [{ name: 'pixels', dtype: 'float32', dims: [o.items, MNIST_PIXELS], data }],
    shardSize: o.shardSize,
    policy: { replication: o.replication, quorum: o.quorum, maxReplicas: Math.max(4, o.replication), comparator: DEFAULT_COMPARATOR },
    requesterKey: o.requesterKey ?? '',
  };
  const t0 = performance.now();
  const ref = requesterHost.submit(spec, null);
  const find = () => useQuorumStore.getState().requester.submissions.find((s) => s.ref === ref);
  await waitFor('the job to be accepted', () => find()?.state !== 'sending', 120_000);
  const s = find();
  if (!s || s.state !== 'accepted' || !s.jobId) throw new Error(`job not accepted: ${s?.reason ?? s?.state ?? 'no submission'}`);
  return { jobId: s.jobId, uploadMs: performance.now() - t0, inputBytes: data.byteLength };
}

/** Resolves with the job's id once the coordinator accepted the submission `ref`. */
async function accepted(ref: string): Promise<string> {
  const find = () => useQuorumStore.getState().requester.submissions.find((s) => s.ref === ref);
  await waitFor('the job to be accepted', () => find()?.state !== 'sending', 120_000);
  const s = find();
  if (!s || s.state !== 'accepted' || !s.jobId) throw new Error(`job not accepted: ${s?.reason ?? s?.state ?? 'no submission'}`);
  return s.jobId;
}

const bench: BenchApi = {
  engine,
  modelCacheRead,
  transferOpen,
  transferConnect,
  transferSend,
  rawOffer,
  rawAnswer,
  rawAccept,
  rawSend,
  coordinator,
  volunteerCount,
  scaleCounts: () => scaleCounts(coordinatorCore()),
  scaleFrames: () => scaleFrames(coordinatorCore(), Date.now()),
  jobDone,
  volunteer,
  volunteerStats,
  requester,
  submit,
  coordinatorBytes,
  ocrEngine,
  ocrVolunteer,
  ocrVolunteerTimes,
  ocrSubmit: (o) => ocrSubmit(requesterHost, o, accepted),
};

declare global {
  interface Window {
    __bench?: BenchApi;
  }
}

window.__bench = bench;
