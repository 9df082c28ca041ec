/**
 * The InferenceEngine on onnxruntime-web: the ONLY file that imports it (eslint enforces this).
 * Works on the main thread, in a dedicated module Worker (no window/document used) and in Node
 * (vitest), where onnxruntime-web runs its WASM EP and there is neither `location` nor WebGPU.
 *
 * Honesty rule: `Capabilities.backend` and `InferenceResult.backend` always name the execution
 * provider that really ran. WebGPU is only reported after a probe model ran on it and gave the
 * right numbers; if WebGPU breaks later, the engine moves to WASM and tells its listeners.
 */
import { SerialQueue } from './serialQueue.ts';
import * as ort from 'onnxruntime-web';
import type { AdapterInfo, Backend, Capabilities } from '../protocol/capabilities.ts';
import type { ModelHash } from '../protocol/ids.ts';
import type { WireTensor } from '../protocol/tensor.ts';
import { InferenceError } from './engine.ts';
import type { CapabilitiesListener, EnginePreferences, InferenceEngine, InferenceResult, ModelPort, ModelSignature } from './engine.ts';
import { PROBE_EXPECTED, PROBE_INPUT, PROBE_MODEL_BYTES } from './probeModel.ts';
import { checkInputs, knownDim, ownBytes, toTensorDtype, typedView } from './tensors.ts';
import { errorMessage } from '../protocol/errorMessage.ts';

/** Where the app's Vite plugin serves onnxruntime-web's dist files (never a CDN). */
export const ORT_ASSET_PATH = '/ort/';
/** SwiftShader compiles shaders slowly, but a probe taking longer than this means a broken GPU. */
const PROBE_TIMEOUT_MS = 30_000;
/** Downloading and compiling ~28 MB of WASM on a slow link can take a while; forever means broken. */
const WASM_START_TIMEOUT_MS = 120_000;

// TypeScript 5.9's DOM lib has no WebGPU types (and @webgpu/types is not a dependency): the little
// we touch is described structurally.
interface GpuAdapterInfoLike {
  readonly vendor?: string;
  readonly architecture?: string;
  readonly description?: string;
  readonly isFallbackAdapter?: boolean;
}
interface GpuAdapterLike {
  readonly info?: GpuAdapterInfoLike;
  /** Before Chrome 121 the flag lived on the adapter, and info needed requestAdapterInfo(). */
  readonly isFallbackAdapter?: boolean;
  requestAdapterInfo?(): Promise<GpuAdapterInfoLike>;
}
interface GpuLike {
  requestAdapter(options?: { powerPreference?: 'high-performance' | 'low-power' }): Promise<GpuAdapterLike | null>;
}
interface GpuDeviceLike {
  readonly lost: Promise<{ readonly reason: string; readonly message: string }>;
}

interface Entry {
  readonly signature: ModelSignature;
  /** The EP this model runs on: the engine's backend, or wasm if the model failed on WebGPU. */
  backend: Backend;
  /** null after a switch to WASM, until the model is next used (recreated lazily from bytes). */
  session: ort.InferenceSession | null;
  /** Kept only while a WebGPU session may need re-creating on WASM. */
  bytes: Uint8Array | null;
}

/** WASM flags are per JS realm and read once, when the WASM runtime starts: remember what won. */
let wasmThreadsInUse: number | null = null;

function configureWasm(requestedThreads: number): number {
  if (wasmThreadsInUse !== null) return wasmThreadsInUse;
  // An absolute URL: ORT resolves relative prefixes against its own (pre-bundled) module URL,
  // which breaks under `vite dev`. Without an http(s) origin (Node) ORT finds its files itself.
  const origin = (globalThis as { location?: { origin?: string } }).location?.origin;
  if (origin !== undefined && /^https?:\/\//.test(origin)) ort.env.wasm.wasmPaths = `${origin}${ORT_ASSET_PATH}`;
  // Threads need SharedArrayBuffer, i.e. a cross-origin-isolated page; otherwise ORT would warn and use 1.
  const isolated = (globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated === true;
  const threads = isolated ? Math.max(1, Math.floor(requestedThreads) || 1) : 1;
  ort.env.wasm.numThreads = threads;
  // ORT warns on every WebGPU session about nodes it keeps on the CPU; volunteers cannot act on it.
  ort.env.logLevel = 'error';
  wasmThreadsInUse = threads;
  return threads;
}

const shortHash = (hash: ModelHash): string => hash.slice(0, 12);

function stuckError(): InferenceError {
  return new InferenceError(
    'onnxruntime-web is stuck: the WebGPU device was lost during a run that will never finish. ' +
      'Restart the inference engine to run on WASM (the worker engine does this by itself).',
  );
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} timed out after ${ms / 1000} s`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

function createSession(bytes: Uint8Array, backend: Backend): Promise<ort.InferenceSession> {
  return ort.InferenceSession.create(bytes, { executionProviders: [backend], graphOptimizationLevel: 'all' });
}

function portOf(meta: ort.InferenceSession.ValueMetadata): ModelPort {
  if (!meta.isTensor) return { name: meta.name, dtype: null, dims: null };
  return { name: meta.name, dtype: toTensorDtype(meta.type), dims: meta.shape.map(knownDim) };
}

function signatureOf(session: ort.InferenceSession): ModelSignature {
  return { inputs: session.inputMetadata.map(portOf), outputs: session.outputMetadata.map(portOf) };
}

/** Runs the built-in probe model on `backend` and checks the numbers; throws if anything is off. */
async function probe(backend: Backend): Promise<void> {
  const session = await createSession(PROBE_MODEL_BYTES, backend);
  try {
    const out = await session.run({ x: new ort.Tensor('float32', PROBE_INPUT, [1, PROBE_INPUT.length]) });
    const y = out['y']?.data;
    const ok = y instanceof Float32Array && y.length === PROBE_EXPECTED.length && PROBE_EXPECTED.every((v, i) => Math.abs((y[i] ?? NaN) - v) <= 1e-5);
    if (!ok) throw new Error(`probe model gave wrong numbers: [${Array.from(y as ArrayLike<number>).join(', ')}]`);
  } finally {
    await session.release().catch(() => undefined);
  }
}

async function readAdapterInfo(adapter: GpuAdapterLike): Promise<AdapterInfo> {
  let info = adapter.info;
  if (!info && typeof adapter.requestAdapterInfo === 'function') {
    info = await adapter.requestAdapterInfo().catch(() => undefined);
  }
  return {
    vendor: info?.vendor ?? '',
    architecture: info?.architecture ?? '',
    description: info?.description ?? '',
    isFallbackAdapter: info?.isFallbackAdapter ?? adapter.isFallbackAdapter ?? false,
  };
}

type GpuProbe = { readonly ok: true; readonly adapter: AdapterInfo } | { readonly ok: false; readonly reason: string };

async function tryWebGpu(): Promise<GpuProbe> {
  const gpu = (globalThis as { navigator?: { gpu?: GpuLike } }).navigator?.gpu;
  if (!gpu) return { ok: false, reason: 'WebGPU unavailable: navigator.gpu missing' };
  let adapter: GpuAdapterLike | null;
  try {
    adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
  } catch (err) {
    return { ok: false, reason: `WebGPU unavailable: requestAdapter failed: ${errorMessage(err)}` };
  }
  if (!adapter) return { ok: false, reason: 'WebGPU unavailable: no adapter' };
  try {
    const info = await readAdapterInfo(adapter);
    // Hand ORT the adapter we describe, so the reported adapter is the one that computes. The
    // property becomes read-only once ORT's WebGPU backend has started (a second engine in a realm).
    const flags = ort.env.webgpu as unknown as { adapter?: unknown };
    if (Object.getOwnPropertyDescriptor(flags, 'adapter')?.writable !== false) flags.adapter = adapter;
    await withTimeout(probe('webgpu'), PROBE_TIMEOUT_MS, 'the WebGPU probe');
    return { ok: true, adapter: info };
  } catch (err) {
    return { ok: false, reason: `WebGPU failed: ${errorMessage(err)}` };
  }
}

class OrtEngine implements InferenceEngine {
  private caps: Capabilities | null = null;
  private disposed = false;
  private disposing: Promise<void> | null = null;
  /** Rejects once the WebGPU device is lost (set after init on WebGPU). */
  private gpuLost: Promise<never> | null = null;
  /**
   * Set while a WebGPU run we gave up on (device lost) is still pending inside ORT. ORT's glue
   * allows one run at a time per realm ("Session already started"), so nothing can run here until
   * it settles, which it may never do: only a fresh realm (a new Worker) recovers.
   */
  private stuckRun = false;
  private readonly entries = new Map<ModelHash, Entry>();
  private readonly listeners = new Set<CapabilitiesListener>();
  /** Every operation runs alone: ORT sessions are not re-entrant, and a backend switch must not race a run. */
  private readonly queue = new SerialQueue(() => this.disposed);

  init(prefs: EnginePreferences): Promise<Capabilities> {
    return this.serial(async () => {
      if (this.caps) return this.caps; // once per engine; the WASM runtime cannot be reconfigured
      const threads = configureWasm(prefs.threads);
      const ortVersion = ort.env.versions.web ?? ort.env.versions.common;
      let caps: Capabilities;
      const gpu: GpuProbe = prefs.backend === 'wasm' ? { ok: false, reason: 'WASM requested' } : await tryWebGpu();
      if (gpu.ok) {
        const how = prefs.backend === 'webgpu' ? 'WebGPU requested' : 'WebGPU available';
        const name = [gpu.adapter.vendor, gpu.adapter.architecture].filter(Boolean).join(' ') || 'unnamed adapter';
        caps = { backend: 'webgpu', adapter: gpu.adapter, backendReason: `${how}: probe model ran on ${name}`, ortVersion, threads };
      } else {
        try {
          // A missing /ort/ file or a blocked pthread worker makes ORT wait forever: bound it.
          await withTimeout(probe('wasm'), WASM_START_TIMEOUT_MS, 'starting the WASM runtime');
        } catch (err) {
          // ORT cannot retry a failed start in this realm, so the first failure (often in the
          // WebGPU probe, which starts the same WASM runtime) is the one worth reporting.
          const earlier = prefs.backend === 'wasm' ? '' : ` (before that: ${gpu.reason})`;
          throw new InferenceError(
            `onnxruntime-web ${ortVersion} could not start on WASM with ${threads} thread(s); its files should be served at ${ORT_ASSET_PATH} with the page's cross-origin isolation headers: ${errorMessage(err)}${earlier}`,
          );
        }
        caps = { backend: 'wasm', adapter: null, backendReason: gpu.reason, ortVersion, threads };
      }
      this.caps = caps;
      if (caps.backend === 'webgpu') await this.watchDevice();
      return caps;
    });
  }

  loadModel(hash: ModelHash, bytes: ArrayBuffer): Promise<ModelSignature> {
    return this.serial(async () => {
      const caps = this.requireInit();
      const known = this.entries.get(hash);
      if (known) return known.signature;
      // No copy: ORT copies the model into WASM memory. We may keep this view for a later switch
      // to WASM, so callers must not reuse the buffer (the worker engine always gives us our own).
      const data = new Uint8Array(bytes);
      let backend = caps.backend;
      let session: ort.InferenceSession;
      try {
        session = await createSession(data, backend);
      } catch (err) {
        if (backend !== 'webgpu') throw this.loadError(err, backend);
        // Some models fail only on WebGPU (an op or a buffer size the EP rejects). Run that one on
        // WASM rather than refuse it; its results will say 'wasm'.
        try {
          session = await createSession(data, 'wasm');
        } catch (err2) {
          throw this.loadError(err2, 'wasm');
        }
        console.warn(`Quorum: model ${shortHash(hash)} failed on WebGPU (${errorMessage(err)}); it will run on WASM.`);
        backend = 'wasm';
      }
      const signature = signatureOf(session);
      this.entries.set(hash, { signature, backend, session, bytes: backend === 'webgpu' ? data : null });
      return signature;
    });
  }

  run(hash: ModelHash, inputs: readonly WireTensor[]): Promise<InferenceResult> {
    return this.serial(async () => {
      this.requireInit();
      if (this.stuckRun) throw stuckError();
      const entry = this.entries.get(hash);
      if (!entry) throw new InferenceError(`Model ${shortHash(hash)} is not loaded; call loadModel first.`);
      // Bad inputs are caught here, so that on WebGPU a failing run below really means a GPU problem.
      checkInputs(entry.signature, inputs);
      const feeds: Record<string, ort.Tensor> = {};
      for (const t of inputs) feeds[t.name] = new ort.Tensor(t.dtype, typedView(t), [...t.dims]);
      if (entry.backend === 'webgpu') {
        try {
          return await this.runEntry(entry, feeds);
        } catch (err) {
          await this.switchToWasm(`WebGPU failed mid-job (${errorMessage(err)}); switched to WASM`);
          if (this.stuckRun) throw stuckError();
        }
      }
      try {
        return await this.runEntry(entry, feeds);
      } catch (err) {
        if (err instanceof InferenceError) throw err;
        throw new InferenceError(`Model ${shortHash(hash)} failed to run on ${entry.backend}: ${errorMessage(err)}`);
      }
    });
  }

  unloadModel(hash: ModelHash): Promise<void> {
    return this.serial(async () => {
      const entry = this.entries.get(hash);
      this.entries.delete(hash);
      await entry?.session?.release().catch(() => undefined);
    });
  }

  dispose(): Promise<void> {
    // Idempotent: later calls share the first one's outcome.
    this.disposing ??= this.serial(async () => {
      this.disposed = true;
      this.listeners.clear();
      const sessions = [...this.entries.values()].map((e) => e.session);
      this.entries.clear();
      await Promise.all(sessions.map((s) => s?.release().catch(() => undefined)));
    });
    return this.disposing;
  }

  onCapabilitiesChanged(listener: CapabilitiesListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private serial<T>(op: () => Promise<T>): Promise<T> {
    return this.queue.run(op);
  }

  private requireInit(): Capabilities {
    if (!this.caps) throw new InferenceError('The inference engine is not initialised; call init() first.');
    return this.caps;
  }

  private loadError(err: unknown, backend: Backend): InferenceError {
    const version = this.caps?.ortVersion ?? ort.env.versions.common;
    return new InferenceError(`This model cannot be loaded by onnxruntime-web ${version} on ${backend}: ${errorMessage(err)}`);
  }

  private async runEntry(entry: Entry, feeds: Record<string, ort.Tensor>): Promise<InferenceResult> {
    if (!entry.session) {
      // Invariant: a session is only dropped (by switchToWasm) while its bytes are still held.
      entry.session = await createSession(entry.bytes as Uint8Array, entry.backend);
      entry.bytes = null;
    }
    const session = entry.session;
    const started = performance.now();
    const running = session.run(feeds);
    let results: ort.InferenceSession.ReturnType;
    if (entry.backend === 'webgpu' && this.gpuLost) {
      let settled = false;
      const tracked = running.finally(() => {
        settled = true;
        this.stuckRun = false;
      });
      tracked.catch(() => undefined); // may settle (or never) after we gave up on it
      try {
        results = await Promise.race([tracked, this.gpuLost]);
      } catch (err) {
        if (!settled) this.stuckRun = true;
        throw err;
      }
    } else {
      results = await running;
    }
    const inferMs = performance.now() - started;
    const outputs: WireTensor[] = session.outputNames.map((name) => {
      const value = results[name];
      const dtype = value ? toTensorDtype(value.type) : null;
      if (!value || dtype === null) {
        throw new InferenceError(`Output "${name}" has type ${value?.type ?? 'none'}, which Quorum cannot carry.`);
      }
      return { name, dtype, dims: [...value.dims], data: ownBytes(value.data as ArrayBufferView) };
    });
    return { outputs, inferMs, backend: entry.backend };
  }

  /** Moves every WebGPU model to WASM (sessions recreated lazily) and tells the listeners. */
  private async switchToWasm(reason: string): Promise<void> {
    const caps = this.caps;
    if (!caps || caps.backend === 'wasm' || this.disposed) return;
    for (const entry of this.entries.values()) {
      if (entry.backend !== 'webgpu') continue;
      const old = entry.session;
      entry.session = null;
      entry.backend = 'wasm';
      await old?.release().catch(() => undefined); // the device may be gone; nothing to free then
    }
    this.caps = { ...caps, backend: 'wasm', adapter: null, backendReason: reason };
    console.warn(`Quorum: ${reason}`);
    for (const listener of this.listeners) {
      try {
        listener(this.caps);
      } catch (err) {
        console.error('Quorum: a capabilities listener threw', err);
      }
    }
  }

  /**
   * A lost device (driver reset, GPU process crash, device destroyed) ends WebGPU. Besides moving
   * to WASM, `gpuLost` lets runs in flight give up: ORT's run can hang forever on a lost device
   * (its buffer map fails in a callback that never rejects the run), as seen in Chromium.
   */
  private async watchDevice(): Promise<void> {
    let device: GpuDeviceLike;
    try {
      device = (await (ort.env.webgpu.device as unknown as Promise<GpuDeviceLike>)) as GpuDeviceLike;
    } catch {
      return; // no device to watch: a failing run will still trigger the switch
    }
    const lost = device.lost.then((info) => `WebGPU device lost (${info.reason || 'unknown'}${info.message ? `: ${info.message}` : ''})`);
    this.gpuLost = lost.then((why) => Promise.reject(new Error(why)));
    this.gpuLost.catch(() => undefined); // only observed while a run is racing it
    void lost.then((why) => {
      if (!this.disposed) this.serial(() => this.switchToWasm(`${why}; switched to WASM`)).catch(() => undefined);
    });
  }
}

/** A fresh engine running onnxruntime-web in this realm (a Worker, the page, or Node). */
export function createOrtEngine(): InferenceEngine & { onCapabilitiesChanged(listener: CapabilitiesListener): () => void } {
  return new OrtEngine();
}
