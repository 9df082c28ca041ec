/**
 * The InferenceEngine the app uses on the page: the same engine as ortEngine.ts, running in a
 * dedicated module Worker so inference never blocks the UI. Calls become request/response messages
 * (workerProtocol.ts) matched by id.
 */
import type { Capabilities } from '../protocol/capabilities.ts';
import type { ModelHash } from '../protocol/ids.ts';
import type { WireTensor } from '../protocol/tensor.ts';
import { InferenceError } from './engine.ts';
import type { CapabilitiesListener, EnginePreferences, InferenceEngine, InferenceResult, ModelSignature } from './engine.ts';
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
   * them. Default false: the same no-surprise semantics as ortEngine.
   */
  readonly transferInputs?: boolean;
  /** The worker to talk to; by default a fresh inference.worker.ts. */
  readonly worker?: WorkerLike;
}

type RequestBody = WorkerRequest extends infer R ? (R extends WorkerRequest ? Omit<R, 'id'> : never) : never;

interface Pending {
  resolve(value: unknown): void;
  reject(error: InferenceError): void;
}

function spawnInferenceWorker(): WorkerLike {
  // This exact `new Worker(new URL(…, import.meta.url), { type: 'module' })` shape is what Vite
  // recognises to bundle the worker as its own ES chunk.
  return new Worker(new URL('./inference.worker.ts', import.meta.url), { type: 'module', name: 'quorum-inference' });
}

class WorkerEngine implements InferenceEngine {
  private readonly worker: WorkerLike;
  private readonly pending = new Map<number, Pending>();
  private readonly listeners = new Set<CapabilitiesListener>();
  private nextId = 1;
  /** Set once the worker is gone; every later call fails with it. */
  private dead: InferenceError | null = null;

  constructor(private readonly options: WorkerEngineOptions) {
    this.worker = options.worker ?? spawnInferenceWorker();
    this.worker.addEventListener('message', (event) => this.onMessage(event.data as WorkerToPage));
    this.worker.addEventListener('error', (event) => {
      // A module that fails to load gives a bare Event; an uncaught exception gives an ErrorEvent.
      const detail = typeof event.message === 'string' && event.message ? event.message : 'it failed to start or crashed';
      this.die(new InferenceError(`The inference worker stopped (${detail}). Reload the page to restart it.`));
    });
    this.worker.addEventListener('messageerror', () => {
      this.die(new InferenceError('The inference worker sent a message the page could not read. Reload the page.'));
    });
  }

  init(prefs: EnginePreferences): Promise<Capabilities> {
    return this.call('init', { kind: 'init', prefs: { backend: prefs.backend, threads: prefs.threads } }, []);
  }

  loadModel(hash: ModelHash, bytes: ArrayBuffer): Promise<ModelSignature> {
    return this.call('load', { kind: 'load', hash, bytes }, this.options.transferInputs ? [bytes] : []);
  }

  run(hash: ModelHash, inputs: readonly WireTensor[]): Promise<InferenceResult> {
    // Plain objects: structured clone of our WireTensors is exactly what the worker's parser expects.
    const plain = inputs.map((t) => ({ name: t.name, dtype: t.dtype, dims: [...t.dims], data: t.data }));
    const transfer = this.options.transferInputs ? [...new Set(plain.map((t) => t.data))] : [];
    return this.call('run', { kind: 'run', hash, inputs: plain }, transfer);
  }

  async unloadModel(hash: ModelHash): Promise<void> {
    await this.call('unload', { kind: 'unload', hash }, []);
  }

  async dispose(): Promise<void> {
    if (this.dead) return;
    // Terminating frees the worker's WASM memory and GPU device at once; no need to ask it first.
    this.die(new InferenceError('This inference engine has been disposed.'));
  }

  onCapabilitiesChanged(listener: CapabilitiesListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private call<K extends WorkerRequestKind>(
    kind: K,
    body: RequestBody & { readonly kind: K },
    transfer: Transferable[],
  ): Promise<WorkerResultMap[K]> {
    if (this.dead) return Promise.reject(this.dead);
    const id = this.nextId++;
    return new Promise<WorkerResultMap[K]>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (value: unknown) => void, reject });
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
      if (msg.kind === 'capabilitiesChanged') for (const listener of this.listeners) listener(msg.capabilities);
      return;
    }
    const pending = this.pending.get(msg.id);
    if (!pending) return;
    this.pending.delete(msg.id);
    if (msg.ok) pending.resolve(msg.value);
    else pending.reject(new InferenceError(msg.error));
  }

  private die(error: InferenceError): void {
    if (this.dead) return;
    this.dead = error;
    this.worker.terminate();
    for (const pending of this.pending.values()) pending.reject(error);
    this.pending.clear();
    this.listeners.clear();
  }
}

/**
 * The app's engine: spawns the inference Worker now; call `init` next. One per tab (each worker
 * holds its own WASM runtime, ~90-100 MB with a model loaded).
 */
export function createWorkerEngine(
  options: WorkerEngineOptions = {},
): InferenceEngine & { onCapabilitiesChanged(listener: CapabilitiesListener): () => void } {
  return new WorkerEngine(options);
}
