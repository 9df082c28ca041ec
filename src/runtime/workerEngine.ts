/**
 * The InferenceEngine the app uses on the page: the same engine as ortEngine.ts, running in a
 * dedicated module Worker so inference never blocks the UI. Calls become request/response messages
 * (workerProtocol.ts) matched by id.
 *
 * It also owns the one recovery a realm cannot do for itself: when the WebGPU device is lost in
 * the middle of a run, onnxruntime-web in that worker can stay stuck forever (seen in Chromium), so
 * this engine replaces the worker with a fresh one on WASM, reloads the models and retries the run.
 */
import type { Capabilities } from '../protocol/capabilities.ts';
import type { ModelHash } from '../protocol/ids.ts';
import type { JobFile } from '../protocol/jobFiles.ts';
import type { Pipeline } from '../protocol/pipeline.ts';
import type { WireTensor } from '../protocol/tensor.ts';
import { InferenceError } from './engine.ts';
import type { CapabilitiesListener, EnginePreferences, InferenceEngine, InferenceResult, ModelSignature } from './engine.ts';
import { parseInferenceResult } from './workerProtocol.ts';
import type { WorkerRequest, WorkerRequestKind, WorkerResultMap, WorkerToPage } from './workerProtocol.ts';

/** What the engine needs of a Worker; tests pass a MessagePort-backed stand-in. */
export interface WorkerLike {
  postMessage(message: unknown, transfer: Transferable[]): void;
  addEventListener(type: 'message', listener: (event: { readonly data: unknown }) => void): void;
  addEventListener(type: 'error' | 'messageerror', listener: (event: { readonly message?: unknown }) => void): void;
  terminate(): void;
}

export interface WorkerEngineOptions {
  /**
   * Move the caller's model bytes and input buffers to the worker (zero-copy) instead of copying
   * them. They are detached (length 0) afterwards, so only set this when the caller is done with
   * them. Ignored while on WebGPU, where the engine may need them again to retry on WASM.
   * Default false: the same no-surprise semantics as ortEngine.
   */
  readonly transferInputs?: boolean;
  /** Starts a worker; by default a fresh inference.worker.ts. Called again after a WebGPU loss. */
  readonly spawn?: () => WorkerLike;
}

type RequestBody = WorkerRequest extends infer R ? (R extends WorkerRequest ? Omit<R, 'id'> : never) : never;

interface Pending {
  /** A run's result, parsed before it is resolved. */
  readonly checkResult: boolean;
  resolve(value: unknown): void;
  reject(error: InferenceError): void;
}

function spawnInferenceWorker(): WorkerLike {
  // This exact `new Worker(new URL(…, import.meta.url), { type: 'module' })` shape is what Vite
  // recognises to bundle the worker as its own ES chunk.
  return new Worker(new URL('./inference.worker.ts', import.meta.url), { type: 'module', name: 'quorum-inference' });
}

class WorkerEngine implements InferenceEngine {
  private worker: WorkerLike;
  private readonly pending = new Map<number, Pending>();
  private readonly listeners = new Set<CapabilitiesListener>();
  private nextId = 1;
  /** Set once the worker is gone for good; every later call fails with it. */
  private dead: InferenceError | null = null;
  private prefs: EnginePreferences | null = null;
  private caps: Capabilities | null = null;
  /** Model bytes, kept only while on WebGPU, to reload them into a replacement WASM worker. */
  private readonly gpuModels = new Map<ModelHash, ArrayBuffer>();
  /** One call at a time, as the worker runs them anyway: a worker swap then never strands a call. */
  private tail: Promise<unknown> = Promise.resolve();

  constructor(private readonly options: WorkerEngineOptions) {
    this.worker = this.start();
  }

  init(prefs: EnginePreferences): Promise<Capabilities> {
    return this.serial(async () => {
      this.prefs = { backend: prefs.backend, threads: prefs.threads };
      this.caps = await this.call('init', { kind: 'init', prefs: this.prefs }, []);
      return this.caps;
    });
  }

  loadModel(hash: ModelHash, bytes: ArrayBuffer): Promise<ModelSignature> {
    return this.serial(async () => {
      const onGpu = this.caps?.backend === 'webgpu';
      const transfer = this.options.transferInputs && !onGpu ? [bytes] : [];
      const signature = await this.call('load', { kind: 'load', hash, bytes }, transfer);
      if (onGpu) this.gpuModels.set(hash, bytes);
      return signature;
    });
  }

  run(hash: ModelHash, inputs: readonly WireTensor[]): Promise<InferenceResult> {
    // Plain objects: structured clone of our WireTensors is exactly what the worker's parser expects.
    const plain = inputs.map((t) => ({ name: t.name, dtype: t.dtype, dims: [...t.dims], data: t.data }));
    const transfer = [...new Set(plain.map((t) => t.data))];
    return this.runWithRetry({ kind: 'run', hash, inputs: plain }, transfer);
  }

  /** [W-22] The files are copied, never transferred: the lease keeps them, should the run be retried. */
  runPipeline(hash: ModelHash, pipeline: Pipeline, files: readonly JobFile[]): Promise<InferenceResult> {
    const plain = files.map((f) => ({ name: f.name, bytes: f.bytes }));
    return this.runWithRetry({ kind: 'run-pipeline', hash, pipeline, files: plain }, []);
  }

  private runWithRetry(body: Extract<RequestBody, { readonly kind: 'run' | 'run-pipeline' }>, inputBuffers: ArrayBuffer[]): Promise<InferenceResult> {
    return this.serial(async () => {
      const onGpu = this.caps?.backend === 'webgpu';
      const transfer = this.options.transferInputs && !onGpu ? inputBuffers : [];
      try {
        const result = await this.call(body.kind, body, transfer);
        if (this.caps?.backend !== 'webgpu') this.gpuModels.clear(); // moved to WASM in place: no retry left
        return result;
      } catch (err) {
        // The worker announces a move to WASM (an event) before it answers this run. If it moved
        // during this run and still failed, its onnxruntime-web may be stuck: start over cleanly.
        if (!onGpu || this.caps?.backend !== 'wasm' || this.dead) throw err;
        await this.restartOnWasm();
        return await this.call(body.kind, body, []);
      }
    });
  }

  unloadModel(hash: ModelHash): Promise<void> {
    return this.serial(async () => {
      this.gpuModels.delete(hash);
      await this.call('unload', { kind: 'unload', hash }, []);
    });
  }

  async dispose(): Promise<void> {
    // Terminating frees the worker's WASM memory and GPU device at once; no need to ask it first.
    this.die(new InferenceError('This inference engine has been disposed.'));
  }

  onCapabilitiesChanged(listener: CapabilitiesListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private start(): WorkerLike {
    const worker = (this.options.spawn ?? spawnInferenceWorker)();
    // Events from a worker we replaced are ignored.
    const current = (): boolean => worker === this.worker;
    worker.addEventListener('message', (event) => {
      if (current()) this.onMessage(event.data as WorkerToPage);
    });
    worker.addEventListener('error', (event) => {
      // A module that fails to load gives a bare Event; an uncaught exception gives an ErrorEvent.
      const detail = typeof event.message === 'string' && event.message ? event.message : 'it failed to start or crashed';
      if (current()) this.die(new InferenceError(`The inference worker stopped (${detail}). Reload the page to restart it.`));
    });
    worker.addEventListener('messageerror', () => {
      if (current()) this.die(new InferenceError('The inference worker sent a message the page could not read. Reload the page.'));
    });
    return worker;
  }

  /** Replaces a stuck worker with a fresh one on WASM and reloads the models it had. */
  private async restartOnWasm(): Promise<void> {
    const reason = this.caps?.backendReason ?? 'WebGPU failed';
    const threads = this.prefs?.threads ?? 1;
    this.worker.terminate();
    this.worker = this.start();
    const caps = await this.call('init', { kind: 'init', prefs: { backend: 'wasm', threads } }, []);
    this.caps = { ...caps, backendReason: reason }; // listeners already heard of the move to WASM
    const models = [...this.gpuModels];
    this.gpuModels.clear();
    for (const [hash, bytes] of models) await this.call('load', { kind: 'load', hash, bytes }, []);
  }

  private serial<T>(op: () => Promise<T>): Promise<T> {
    const guarded = (): Promise<T> => (this.dead ? Promise.reject(this.dead) : op());
    const result = this.tail.then(guarded, guarded);
    this.tail = result.catch(() => undefined);
    return result;
  }

  private call<K extends WorkerRequestKind>(kind: K, body: RequestBody & { readonly kind: K }, transfer: Transferable[]): Promise<WorkerResultMap[K]> {
    if (this.dead) return Promise.reject(this.dead);
    const id = this.nextId++;
    return new Promise<WorkerResultMap[K]>((resolve, reject) => {
      const checkResult = kind === 'run' || kind === 'run-pipeline';
      this.pending.set(id, { checkResult, resolve: resolve as (value: unknown) => void, reject });
      try {
        this.worker.postMessage({ ...body, id }, transfer);
      } catch (err) {
        this.pending.delete(id);
        reject(new InferenceError(`Could not send the ${kind} request to the inference worker: ${String(err)}`));
      }
    });
  }

  private onMessage(msg: WorkerToPage): void {
    if (msg.type === 'event') {
      if (msg.kind !== 'capabilitiesChanged') return;
      this.caps = msg.capabilities;
      for (const listener of this.listeners) {
        try {
          listener(msg.capabilities);
        } catch (err) {
          console.error('Quorum: a capabilities listener threw', err);
        }
      }
      return;
    }
    const pending = this.pending.get(msg.id);
    if (!pending) return;
    this.pending.delete(msg.id);
    if (!msg.ok) return pending.reject(new InferenceError(msg.error));
    if (!pending.checkResult) return pending.resolve(msg.value);
    // [W-23] A run's result is checked on this side too: its answers go to the coordinator as they are.
    const result = parseInferenceResult(msg.value);
    if ('malformed' in result) pending.reject(new InferenceError(result.malformed));
    else pending.resolve(result);
  }

  private die(error: InferenceError): void {
    if (this.dead) return;
    this.dead = error;
    this.worker.terminate();
    for (const pending of this.pending.values()) pending.reject(error);
    this.pending.clear();
    this.listeners.clear();
    this.gpuModels.clear();
  }
}

/**
 * The app's engine: spawns the inference Worker now; call `init` next. One per tab (each worker
 * holds its own WASM runtime, ~90-100 MB with a model loaded).
 */
export function createWorkerEngine(
  options: WorkerEngineOptions = {},
): InferenceEngine & Required<Pick<InferenceEngine, 'runPipeline'>> & { onCapabilitiesChanged(listener: CapabilitiesListener): () => void } {
  return new WorkerEngine(options);
}
