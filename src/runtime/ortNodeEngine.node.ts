/**
 * The InferenceEngine on onnxruntime-node, for a coordinator that runs in Node: it reports each
 * model's signature as the browser's engine does (ortEngine.ts: names, dtypes and dims from the
 * session's metadata), so the [J-4] checks a headless coordinator makes with `ModelInspector`
 * are the checks the coordinator page makes. onnxruntime-node runs on the CPU; it reports `wasm`,
 * the protocol's name for a CPU backend.
 */
import * as ort from 'onnxruntime-node';
import type { Capabilities } from '../protocol/capabilities.ts';
import type { ModelHash } from '../protocol/ids.ts';
import type { WireTensor } from '../protocol/tensor.ts';
import { InferenceError, type InferenceEngine, type InferenceResult, type ModelPort, type ModelSignature } from './engine.ts';
import { checkInputs, ownBytes, toTensorDtype, typedView } from './tensors.ts';

interface Entry {
  readonly session: ort.InferenceSession;
  readonly signature: ModelSignature;
}

/** A dim the model leaves unknown comes back as -1 (or out of range): '?' as in ortEngine.ts. */
function knownDim(d: number | string): number | string {
  return typeof d === 'number' && !(Number.isInteger(d) && d >= 0 && d < 2 ** 31) ? '?' : d;
}

function portOf(meta: ort.InferenceSession.ValueMetadata): ModelPort {
  if (!meta.isTensor) return { name: meta.name, dtype: null, dims: null };
  return { name: meta.name, dtype: toTensorDtype(meta.type), dims: meta.shape.map(knownDim) };
}

/** One thread per session unless `init` asks for more: a coordinator checks models, it does not serve them. */
export function createOrtNodeEngine(): InferenceEngine {
  const sessions = new Map<ModelHash, Entry>();
  let threads = 1;
  const entry = (hash: ModelHash): Entry => {
    const e = sessions.get(hash);
    if (!e) throw new InferenceError(`Model ${hash.slice(0, 12)} is not loaded; call loadModel first.`);
    return e;
  };
  return {
    async init(prefs): Promise<Capabilities> {
      threads = Math.max(1, Math.floor(prefs.threads) || 1);
      return { backend: 'wasm', adapter: null, backendReason: 'onnxruntime-node on the CPU', ortVersion: ort.env.versions.common, threads };
    },
    async loadModel(hash, bytes): Promise<ModelSignature> {
      const known = sessions.get(hash);
      if (known) return known.signature;
      const session = await ort.InferenceSession.create(new Uint8Array(bytes), { intraOpNumThreads: threads, interOpNumThreads: 1 });
      const signature: ModelSignature = { inputs: session.inputMetadata.map(portOf), outputs: session.outputMetadata.map(portOf) };
      sessions.set(hash, { session, signature });
      return signature;
    },
    async run(hash, inputs: readonly WireTensor[]): Promise<InferenceResult> {
      const { session, signature } = entry(hash);
      checkInputs(signature, inputs);
      const feeds: Record<string, ort.Tensor> = {};
      for (const t of inputs) feeds[t.name] = new ort.Tensor(t.dtype, typedView(t), [...t.dims]);
      const started = performance.now();
      const out = await session.run(feeds);
      const inferMs = performance.now() - started;
      const outputs = session.outputNames.map((name): WireTensor => {
        const t = out[name] as ort.Tensor;
        const dtype = toTensorDtype(t.type);
        if (dtype === null) throw new InferenceError(`output "${name}" is ${t.type}, which the app cannot carry`);
        // A fresh buffer: ORT's may be shared or offset, a WireTensor owns exactly its bytes.
        return { name, dtype, dims: [...t.dims], data: ownBytes((t.data as Float32Array).slice()) };
      });
      return { outputs, inferMs, backend: 'wasm' };
    },
    async unloadModel(hash) {
      const e = sessions.get(hash);
      sessions.delete(hash);
      await e?.session.release();
    },
    async dispose() {
      for (const e of sessions.values()) await e.session.release();
      sessions.clear();
    },
  };
}
