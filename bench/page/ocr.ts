/**
 * The OCR benchmark's page side: the built-in PP-OCR workload (one asset bundle, [J-9]) through
 * the volunteer's own Worker engine (the bundle engine runs inside the inference Worker), a
 * volunteer host whose frames and model loads are timed, and OCR jobs of image files ([J-7]).
 * Nothing here is part of the app.
 */
import type { Backend } from '../../src/protocol/capabilities.ts';
import { CoordinatorTrust, localPinStore } from '../../src/host/coordinatorTrust.ts';
import { openQuorumDb } from '../../src/persistence/db.ts';
import { ModelCache } from '../../src/persistence/modelCache.ts';
import { OutboxStore } from '../../src/persistence/outboxStore.ts';
import { SettingsStore } from '../../src/persistence/settingsStore.ts';
import { DEFAULT_VOLUNTEER_SETTINGS } from '../../src/core/volunteer/controls.ts';
import { asModelHash, type ModelHash } from '../../src/protocol/ids.ts';
import type { JobFile } from '../../src/protocol/jobFiles.ts';
import type { JobSpec } from '../../src/protocol/messages.ts';
import { pipelineSchema } from '../../src/protocol/pipeline.ts';
import { DEFAULT_COMPARATOR } from '../../src/protocol/policy.ts';
import type { InferenceEngine } from '../../src/runtime/engine.ts';
import { sha256Hex } from '../../src/runtime/sha256.ts';
import { createWorkerEngine } from '../../src/runtime/workerEngine.ts';
import { loadSignalingConfig } from '../../src/host/signalingConfig.ts';
import { VolunteerHost } from '../../src/host/volunteerHost.ts';
import { sessionIdentityStorage } from '../../src/host/volunteerIdentity.ts';
import { storedVolunteerKey } from '../../src/host/volunteerKey.ts';
import type { RequesterHost } from '../../src/host/requesterHost.ts';
import { storePort, useQuorumStore } from '../../src/stores/store.ts';
import { peerjsEndpointFactory } from '../../src/transport/peerjsTransport.ts';
import type { EndpointFactory } from '../../src/transport/transport.ts';
import type { OcrEngineOptions, OcrEngineSamples, OcrJobOptions, OcrVolunteerTimes } from './api.ts';

async function fetchBytes(url: string): Promise<ArrayBuffer> {
  const res = await fetch(url);
  if (!res.ok) throw new Error(`could not load ${url}: HTTP ${res.status}`);
  return res.arrayBuffer();
}

const fileCache = new Map<string, Promise<JobFile>>();
/** A fixture image as a job's file (fetched once per page). */
function fixture(url: string): Promise<JobFile> {
  let f = fileCache.get(url);
  if (!f) {
    f = fetchBytes(url).then((bytes) => ({ name: url.slice(url.lastIndexOf('/') + 1), bytes }));
    fileCache.set(url, f);
  }
  return f;
}

class DeadlineError extends Error {}

let bundle: Promise<{ bytes: ArrayBuffer; hash: ModelHash }> | null = null;
function ocrBundle(url: string): Promise<{ bytes: ArrayBuffer; hash: ModelHash }> {
  bundle ??= fetchBytes(url).then(async (bytes) => ({ bytes, hash: asModelHash(await sha256Hex(bytes)) }));
  return bundle;
}

/**
 * Images/s of the volunteer's Worker engine on each set of images, `shardSize` files per
 * runPipeline call as a lease carries them. Each set runs until `budgetMs` is spent (at least one
 * call), once per repeat; the first call of all is a warm-up (WebGPU compiles its shaders there).
 */
export async function ocrEngine(o: OcrEngineOptions): Promise<OcrEngineSamples> {
  const pipeline = pipelineSchema.parse(o.pipeline);
  const { bytes, hash } = await ocrBundle(o.bundleUrl);
  const sets = await Promise.all(o.sets.map(async (s) => ({ name: s.name, files: await Promise.all(s.fileUrls.map(fixture)) })));
  const eng = createWorkerEngine();
  try {
    const caps = await eng.init({ backend: o.backend, threads: o.threads });
    if (caps.backend !== o.backend) {
      return { backend: caps.backend, reason: caps.backendReason, threads: caps.threads, crossOriginIsolated, loadMs: 0, imagesPerSec: {}, images: {} };
    }
    const t0 = performance.now();
    await eng.loadModel(hash, bytes.slice(0));
    const loadMs = performance.now() - t0;
    // A backend too slow to finish within the deadline (WebGPU on SwiftShader) says so instead of
    // holding the run; disposing the engine ends its Worker, and the call with it.
    const deadline = t0 + o.deadlineMs;
    const run = async (files: readonly JobFile[]): Promise<Awaited<ReturnType<typeof eng.runPipeline>>> => {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const late = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new DeadlineError()), Math.max(0, deadline - performance.now()));
      });
      try {
        return await Promise.race([eng.runPipeline(hash, pipeline, files), late]);
      } finally {
        clearTimeout(timer);
      }
    };
    const imagesPerSec: Record<string, number[]> = {};
    const images: Record<string, number> = {};
    let backend: Backend = caps.backend;
    try {
      const warm = await run(sets[0]?.files.slice(0, 1) ?? []);
      if (warm.answers?.[0]?.kind !== 'ocr') throw new Error(`the OCR pipeline answered ${warm.answers?.[0]?.kind ?? 'nothing'}`);
      // onnxruntime-web's first run at each input size costs far more than the next ones (every
      // image has its own size): one untimed pass over every image first, as a volunteer's engine
      // has done by its second job of them, so the figures are the steady state.
      if (o.warmupPass) for (const set of sets) for (let i = 0; i < set.files.length; i += o.shardSize) await run(set.files.slice(i, i + o.shardSize));
      for (let r = 0; r < o.repeats; r++) {
        for (const set of sets) {
          let done = 0;
          const start = performance.now();
          do {
            const shard = Array.from({ length: o.shardSize }, (_, i) => set.files[(done + i) % set.files.length] as JobFile);
            const res = await run(shard);
            if (res.answers?.length !== shard.length) throw new Error(`${res.answers?.length ?? 0} answers for ${shard.length} images`);
            backend = res.backend;
            done += shard.length;
          } while (performance.now() - start < o.budgetMs && done < set.files.length * o.maxPasses);
          (imagesPerSec[set.name] ??= []).push(done / ((performance.now() - start) / 1000));
          images[set.name] = done;
        }
      }
    } catch (e) {
      if (!(e instanceof DeadlineError)) throw e;
      const reason = `the images did not finish within ${Math.round(o.deadlineMs / 1000)} s (${caps.backendReason})`;
      return { backend, reason, threads: caps.threads, crossOriginIsolated, loadMs, imagesPerSec: {}, images: {} };
    }
    return { backend, reason: caps.backendReason, threads: caps.threads, crossOriginIsolated, loadMs, imagesPerSec, images };
  } finally {
    await eng.dispose();
  }
}

// ---------------------------------------------------------------------------------------------
// A volunteer whose frames and model loads are timed, and OCR jobs
// ---------------------------------------------------------------------------------------------

const times: { leaseIn: number[]; chunkIn: number[]; chunkBytes: number; loaded: Map<string, number>; resultOut: number[] } = {
  leaseIn: [],
  chunkIn: [],
  chunkBytes: 0,
  loaded: new Map(),
  resultOut: [],
};

/** The transport with the frames a model's delivery is timed by noted as they pass. */
function timedVolunteerFactory(inner: EndpointFactory): EndpointFactory {
  return async (id, handlers) => {
    const ep = await inner(id, {
      ...handlers,
      data: (peer, raw) => {
        const msg = raw as { t?: unknown; bytes?: unknown };
        const now = performance.now();
        if (msg.t === 'lease') times.leaseIn.push(now);
        if (msg.t === 'model-chunk') {
          times.chunkIn.push(now);
          if (msg.bytes instanceof ArrayBuffer || ArrayBuffer.isView(msg.bytes)) times.chunkBytes += msg.bytes.byteLength;
        }
        handlers.data(peer, raw);
      },
    });
    return {
      ...ep,
      selfId: ep.selfId,
      send: (peer, frame) => {
        if ((frame as { t?: unknown }).t === 'result') times.resultOut.push(performance.now());
        return ep.send(peer, frame);
      },
    };
  };
}

/** The Worker engine, with the moment each model finished loading noted. */
function timedEngine(): InferenceEngine {
  const eng = createWorkerEngine();
  return {
    ...eng,
    init: (p) => eng.init(p),
    loadModel: async (hash, bytes) => {
      const sig = await eng.loadModel(hash, bytes);
      if (!times.loaded.has(hash)) times.loaded.set(hash, performance.now());
      return sig;
    },
    run: (h, i) => eng.run(h, i),
    runPipeline: (h, p, f) => eng.runPipeline(h, p, f),
    unloadModel: (h) => eng.unloadModel(h),
    dispose: () => eng.dispose(),
    onCapabilitiesChanged: (l) => eng.onCapabilitiesChanged(l),
  };
}

/** A volunteer built as the app builds it (volunteerRole.ts), on `threads` WASM threads, with its frames timed. */
export async function ocrVolunteer(networkId: string, threads: number): Promise<void> {
  const [signaling, db] = await Promise.all([loadSignalingConfig(), openQuorumDb()]);
  const settings = new SettingsStore(db);
  await settings.putVolunteerSettings({ ...DEFAULT_VOLUNTEER_SETTINGS, threads });
  const host = new VolunteerHost({
    networkId,
    factory: timedVolunteerFactory(peerjsEndpointFactory(signaling)),
    createEngine: timedEngine,
    cache: new ModelCache(db),
    settings,
    outbox: new OutboxStore(db),
    identity: sessionIdentityStorage(networkId),
    volunteerKey: () => storedVolunteerKey(db, networkId),
    backend: 'wasm',
    label: 'bench volunteer',
    // [K-4] Pins in memory: each bench page trusts the coordinator key it first sees.
    trust: new CoordinatorTrust({ networkId, linkFingerprint: null, pins: localPinStore(null) }),
    view: storePort('volunteer'),
  });
  await host.prepare();
  await host.start();
  const until = performance.now() + 30_000;
  while (useQuorumStore.getState().volunteer.state !== 'connected') {
    if (performance.now() > until) throw new Error(`the volunteer did not connect: ${useQuorumStore.getState().volunteer.state}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** This volunteer's first lease and how its model got there (ms after that lease; null where it never happened). */
export function ocrVolunteerTimes(bundleHash: string): OcrVolunteerTimes {
  const lease = times.leaseIn[0];
  if (lease === undefined) throw new Error('this volunteer got no lease');
  const after = (t: number | undefined): number | null => (t === undefined ? null : t - lease);
  const firstChunk = times.chunkIn[0];
  const lastChunk = times.chunkIn.at(-1);
  return {
    modelLoadedMs: after(times.loaded.get(bundleHash)),
    firstResultMs: after(times.resultOut[0]),
    transferMs: firstChunk !== undefined && lastChunk !== undefined ? lastChunk - firstChunk : null,
    firstChunkMs: after(firstChunk),
    chunks: times.chunkIn.length,
    chunkBytes: times.chunkBytes,
  };
}

/** Submits an OCR job of `images` images (the fixtures, repeated), through `requester`. */
export async function ocrSubmit(
  requester: RequesterHost | null,
  o: OcrJobOptions,
  waitAccepted: (ref: string) => Promise<string>,
): Promise<{ jobId: string; uploadMs: number; fileBytes: number; bundleHash: string }> {
  if (!requester) throw new Error('no requester');
  const pipeline = pipelineSchema.parse(o.pipeline);
  const { bytes, hash } = await ocrBundle(o.bundleUrl);
  const pool = await Promise.all(o.fileUrls.map(fixture));
  const files = Array.from({ length: o.images }, (_, i) => pool[i % pool.length] as JobFile);
  const spec: JobSpec = {
    name: `bench OCR ${o.images} images`,
    model: bytes,
    inputs: [],
    files,
    pipeline,
    shardSize: o.shardSize,
    policy: { replication: o.replication, quorum: o.replication, maxReplicas: Math.max(4, o.replication), comparator: DEFAULT_COMPARATOR },
    requesterKey: '',
  };
  const t0 = performance.now();
  const jobId = await waitAccepted(requester.submit(spec, null));
  return { jobId, uploadMs: performance.now() - t0, fileBytes: files.reduce((n, f) => n + f.bytes.byteLength, 0), bundleHash: hash };
}
