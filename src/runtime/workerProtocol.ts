/**
 * Messages between the page (workerEngine.ts) and the inference Worker (inference.worker.ts).
 * Requests carry an id; each gets exactly one response with the same id. The worker may also send
 * events (no id) on its own, e.g. when WebGPU is lost and it moved to WASM.
 */
import { BACKENDS, type Capabilities } from '../protocol/capabilities.ts';
import type { ModelHash } from '../protocol/ids.ts';
import { TENSOR_DTYPES } from '../protocol/tensor.ts';
import type { WireTensor } from '../protocol/tensor.ts';
import { filePipelineSchema, type JobFile } from '../protocol/jobFiles.ts';
import { answerSchema, type Pipeline } from '../protocol/pipeline.ts';
import { LIMITS } from '../protocol/limits.ts';
import type { EnginePreferences, InferenceResult, ModelSignature } from './engine.ts';

export type WorkerRequest =
  | { readonly id: number; readonly kind: 'init'; readonly prefs: EnginePreferences }
  | { readonly id: number; readonly kind: 'load'; readonly hash: ModelHash; readonly bytes: ArrayBuffer }
  | { readonly id: number; readonly kind: 'run'; readonly hash: ModelHash; readonly inputs: readonly WireTensor[] }
  /** [W-22] Decode a shard's files as the pipeline says, then run the model on the batch. */
  | { readonly id: number; readonly kind: 'run-pipeline'; readonly hash: ModelHash; readonly pipeline: Pipeline; readonly files: readonly JobFile[] }
  | { readonly id: number; readonly kind: 'unload'; readonly hash: ModelHash }
  | { readonly id: number; readonly kind: 'dispose' };

export type WorkerRequestKind = WorkerRequest['kind'];

/** What each request kind resolves to. */
export interface WorkerResultMap {
  readonly init: Capabilities;
  readonly load: ModelSignature;
  readonly run: InferenceResult;
  readonly 'run-pipeline': InferenceResult;
  readonly unload: null;
  readonly dispose: null;
}

export type WorkerResponse =
  | { readonly type: 'response'; readonly id: number; readonly ok: true; readonly value: WorkerResultMap[WorkerRequestKind] }
  | { readonly type: 'response'; readonly id: number; readonly ok: false; readonly error: string };

export type WorkerEvent = { readonly type: 'event'; readonly kind: 'capabilitiesChanged'; readonly capabilities: Capabilities };

export type WorkerToPage = WorkerResponse | WorkerEvent;

/** A request that failed validation; `id` is set when the sender can still be answered. */
export interface MalformedRequest {
  readonly malformed: string;
  readonly id: number | null;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null;
const isBuffer = (v: unknown): v is ArrayBuffer => Object.prototype.toString.call(v) === '[object ArrayBuffer]';

function isWireTensor(v: unknown): v is WireTensor {
  return (
    isObject(v) &&
    typeof v['name'] === 'string' &&
    (TENSOR_DTYPES as readonly unknown[]).includes(v['dtype']) &&
    Array.isArray(v['dims']) &&
    v['dims'].every((d) => Number.isInteger(d) && (d as number) >= 0) &&
    isBuffer(v['data'])
  );
}

const isFile = (v: unknown): v is JobFile => isObject(v) && typeof v['name'] === 'string' && isBuffer(v['bytes']);

/**
 * Minimal shape check of what arrives at the worker. It is our own page talking, but a bad message
 * must become an error response, never an exception that kills the worker.
 */
export function parseWorkerRequest(data: unknown): WorkerRequest | MalformedRequest {
  if (!isObject(data)) return { malformed: 'request is not an object', id: null };
  const id = data['id'];
  if (typeof id !== 'number' || !Number.isSafeInteger(id)) return { malformed: 'request has no numeric id', id: null };
  const bad = (why: string): MalformedRequest => ({ malformed: `malformed ${String(data['kind'])} request: ${why}`, id });
  switch (data['kind']) {
    case 'init': {
      const prefs = data['prefs'];
      if (!isObject(prefs)) return bad('prefs missing');
      const backend = prefs['backend'];
      if (backend !== 'auto' && backend !== 'webgpu' && backend !== 'wasm') return bad('prefs.backend');
      if (typeof prefs['threads'] !== 'number' || !(prefs['threads'] >= 1)) return bad('prefs.threads');
      return { id, kind: 'init', prefs: { backend, threads: prefs['threads'] } };
    }
    case 'load':
      if (typeof data['hash'] !== 'string') return bad('hash');
      if (!isBuffer(data['bytes'])) return bad('bytes must be an ArrayBuffer');
      return { id, kind: 'load', hash: data['hash'] as ModelHash, bytes: data['bytes'] };
    case 'run': {
      const inputs = data['inputs'];
      if (typeof data['hash'] !== 'string') return bad('hash');
      if (!Array.isArray(inputs) || !inputs.every(isWireTensor)) return bad('inputs must be WireTensors');
      return { id, kind: 'run', hash: data['hash'] as ModelHash, inputs };
    }
    case 'run-pipeline': {
      const files = data['files'];
      if (typeof data['hash'] !== 'string') return bad('hash');
      const pipeline = filePipelineSchema.safeParse(data['pipeline']);
      if (!pipeline.success) return bad(`pipeline: ${pipeline.error.issues[0]?.message ?? 'does not parse'}`);
      if (!Array.isArray(files) || !files.every(isFile)) return bad('files must be { name, bytes: ArrayBuffer }');
      return { id, kind: 'run-pipeline', hash: data['hash'] as ModelHash, pipeline: pipeline.data, files };
    }
    case 'unload':
      if (typeof data['hash'] !== 'string') return bad('hash');
      return { id, kind: 'unload', hash: data['hash'] as ModelHash };
    case 'dispose':
      return { id, kind: 'dispose' };
    default:
      return bad('unknown kind');
  }
}

/**
 * [W-23] The page's check of a run's result from the worker: tensors as `parseWorkerRequest`
 * checks them, and answers parsed with `answerSchema`, so nothing the coordinator would refuse is
 * sent on, and a broken worker fails the lease with what was wrong instead of a crash later.
 */
export function parseInferenceResult(value: unknown): InferenceResult | { readonly malformed: string } {
  const bad = (why: string) => ({ malformed: `the inference worker returned a malformed result: ${why}` });
  if (!isObject(value)) return bad('not an object');
  const { outputs, answers, inferMs, backend } = value;
  if (!Array.isArray(outputs) || !outputs.every(isWireTensor)) return bad('outputs must be WireTensors');
  if (typeof inferMs !== 'number' || !Number.isFinite(inferMs) || inferMs < 0) return bad('inferMs');
  if (!(BACKENDS as readonly unknown[]).includes(backend)) return bad('backend');
  const result = { outputs, inferMs, backend: backend as InferenceResult['backend'] };
  if (answers === undefined) return result;
  if (!Array.isArray(answers) || answers.length > LIMITS.maxShardSize) return bad(`answers must be a list of at most ${LIMITS.maxShardSize}`);
  const parsed = [];
  for (const [i, a] of answers.entries()) {
    const p = answerSchema.safeParse(a);
    if (!p.success) return bad(`answer ${i + 1}: ${p.error.issues[0]?.message ?? 'does not parse'}`);
    parsed.push(p.data);
  }
  return { ...result, answers: parsed };
}
