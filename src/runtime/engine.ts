import type { Backend, Capabilities } from '../protocol/capabilities.ts';
import type { ModelHash } from '../protocol/ids.ts';
import type { JobFile } from '../protocol/jobFiles.ts';
import type { Answer, Pipeline } from '../protocol/pipeline.ts';
import type { TensorDtype, WireTensor } from '../protocol/tensor.ts';

/** What the user (or a test) asks for; the engine reports what it really got in `Capabilities`. */
export interface EnginePreferences {
  /** 'auto' = WebGPU when the browser offers an adapter and a session really works on it, WASM otherwise. */
  readonly backend: 'auto' | Backend;
  /** WASM threads; 1 is right when several volunteer tabs share a machine. */
  readonly threads: number;
}

/** One input or output of a loaded model, as the runtime reports it. */
export interface ModelPort {
  readonly name: string;
  /** null when the runtime cannot tell (e.g. a non-tensor type). */
  readonly dtype: TensorDtype | null;
  /** Numbers for fixed dims, strings for symbolic ones (e.g. 'batch'); null when unknown. */
  readonly dims: readonly (number | string)[] | null;
}

export interface ModelSignature {
  readonly inputs: readonly ModelPort[];
  readonly outputs: readonly ModelPort[];
}

export interface InferenceResult {
  readonly outputs: readonly WireTensor[];
  /** [V-12] A pipeline that ends in answers: one per item (and `outputs` is empty). */
  readonly answers?: readonly Answer[];
  /** Wall time of session.run, for lease deadlines and throughput. */
  readonly inferMs: number;
  /** The backend that really produced these outputs (after any mid-job fallback). */
  readonly backend: Backend;
}

/**
 * The one interface the rest of the app uses to run models. Implemented by `ortEngine.ts` (the
 * only file that imports onnxruntime-web) and by `workerEngine.ts`, which runs the same engine in
 * a Web Worker so the page stays responsive.
 */
export interface InferenceEngine {
  /** Picks and probes the backend. Must be called once before anything else. */
  init(prefs: EnginePreferences): Promise<Capabilities>;
  /** Creates a session for these bytes (already sha256-checked by the caller). Idempotent per hash. */
  loadModel(hash: ModelHash, bytes: ArrayBuffer): Promise<ModelSignature>;
  run(hash: ModelHash, inputs: readonly WireTensor[]): Promise<InferenceResult>;
  /**
   * [W-22] [W-23] Runs `pipeline` over a shard's files: tensors for `… → run-model`, one answer
   * per file otherwise (`createBundleEngine` adds it to any engine). Optional: a volunteer whose
   * engine lacks it gives such a lease back.
   */
  runPipeline?(hash: ModelHash, pipeline: Pipeline, files: readonly JobFile[]): Promise<InferenceResult>;
  /** Releases a model's session. */
  unloadModel(hash: ModelHash): Promise<void>;
  dispose(): Promise<void>;
  /**
   * Subscribes to capability changes after `init` (e.g. the WebGPU device was lost mid-job and the
   * engine now runs on WASM), so a volunteer can tell the coordinator. Returns an unsubscribe
   * function. Optional so that test fakes need not implement it; both real engines do.
   */
  onCapabilitiesChanged?(listener: CapabilitiesListener): () => void;
}

export type CapabilitiesListener = (capabilities: Capabilities) => void;

/** Raised for any model the runtime cannot load or run; the message is for people. */
export class InferenceError extends Error {
  override readonly name = 'InferenceError';
}
