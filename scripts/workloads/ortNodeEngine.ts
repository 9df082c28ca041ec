/**
 * The app's InferenceEngine on onnxruntime-node, for the Node reference (`npm run workload`): the
 * same interface the volunteer's Worker implements with onnxruntime-web, so the reference runs
 * pipelines through the same `createBundleEngine` and `runFilePipeline` the volunteers do.
 * onnxruntime-node runs on the CPU; it reports `wasm`, the protocol's name for a CPU backend.
 */
import * as ort from 'onnxruntime-node';
import type { Capabilities } from '../../src/protocol/capabilities.ts';
import type { ModelHash } from '../../src/protocol/ids.ts';
import type { WireTensor } from '../../src/protocol/tensor.ts';
import { InferenceError, type InferenceEngine, type InferenceResult, type ModelPort, type ModelSignature } from '../../src/runtime/engine.ts';
import { ownBytes, toTensorDtype, typedView } from '../../src/runtime/tensors.ts';

export interface NodeEngine extends InferenceEngine {
  /** Model runs so far (a VAD file makes one per 32 ms window). */
  runs(): number;
}

const port = (name: string): ModelPort => ({ name, dtype: null, dims: null });

export function createOrtNodeEngine(): NodeEngine {
  const sessions = new Map<ModelHash, ort.InferenceSession>();
  let runs = 0;
  let threads = 1;
  const session = (hash: ModelHash): ort.InferenceSession => {
    const s = sessions.get(hash);
    if (!s) throw new InferenceError(`model ${hash.slice(0, 12)}… is not loaded`);
    return s;
  };
  return {
    async init(prefs): Promise<Capabilities> {
      threads = prefs.threads;
      return { backend: 'wasm', adapter: null, backendReason: 'onnxruntime-node on the CPU', ortVersion: ort.env.versions.common, threads };
    },
    async loadModel(hash, bytes): Promise<ModelSignature> {
      if (!sessions.has(hash)) {
        // One thread unless asked: runs are then reproducible and leave cores to other processes.
        sessions.set(hash, await ort.InferenceSession.create(new Uint8Array(bytes), { intraOpNumThreads: threads, interOpNumThreads: 1 }));
      }
      const s = session(hash);
      return { inputs: s.inputNames.map(port), outputs: s.outputNames.map(port) };
    },
    async run(hash, inputs: readonly WireTensor[]): Promise<InferenceResult> {
      const s = session(hash);
      runs++;
      const feeds: Record<string, ort.Tensor> = {};
      for (const t of inputs) feeds[t.name] = new ort.Tensor(t.dtype, typedView(t), [...t.dims]);
      const started = performance.now();
      const out = await s.run(feeds);
      const inferMs = performance.now() - started;
      const outputs = s.outputNames.map((name): WireTensor => {
        const t = out[name] as ort.Tensor;
        const dtype = toTensorDtype(t.type);
        if (dtype === null) throw new InferenceError(`output "${name}" is ${t.type}, which the app cannot carry`);
        // A fresh buffer: ORT's may be shared or offset, a WireTensor owns exactly its bytes.
        return { name, dtype, dims: [...t.dims], data: ownBytes((t.data as Float32Array).slice()) };
      });
      return { outputs, inferMs, backend: 'wasm' };
    },
    async unloadModel(hash) {
      const s = sessions.get(hash);
      sessions.delete(hash);
      await s?.release();
    },
    async dispose() {
      for (const s of sessions.values()) await s.release();
      sessions.clear();
    },
    runs: () => runs,
  };
}
