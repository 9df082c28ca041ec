/**
 * Silero VAD v5 in onnxruntime-node, behind the same `ModelRun` the volunteer's Worker gives the
 * pipeline with onnxruntime-web. The model is @ricky0123/vad-web's dist/silero_vad_v5.onnx, read
 * from node_modules (never fetched).
 */
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import type { WireTensor } from '../../src/protocol/tensor.ts';
import { ownBytes, toTensorDtype, typedView } from '../../src/runtime/tensors.ts';
import type { ModelRun } from '../../src/workloads/vad/sileroLoop.ts';

export const SILERO_V5_FILE = 'silero_vad_v5.onnx';

/** The model's path: beside the package's main file (dist/index.js). */
export function sileroModelPath(): string {
  const require = createRequire(import.meta.url);
  let main: string;
  try {
    main = require.resolve('@ricky0123/vad-web');
  } catch {
    throw new Error('@ricky0123/vad-web is not installed, and it holds the Silero VAD model: run `npm install`.');
  }
  const file = path.join(path.dirname(main), SILERO_V5_FILE);
  if (!fs.existsSync(file)) throw new Error(`${file} is missing: reinstall @ricky0123/vad-web (\`npm install\`).`);
  return file;
}

export interface NodeSilero {
  readonly run: ModelRun;
  /** Calls of `run` so far (one per 32 ms window). */
  readonly calls: () => number;
  release(): Promise<void>;
}

export async function loadNodeSilero(modelBytes: Uint8Array): Promise<NodeSilero> {
  // One thread: a window is tiny (576 samples), so threads only add synchronisation.
  const session = await ort.InferenceSession.create(modelBytes, { intraOpNumThreads: 1, interOpNumThreads: 1 });
  let calls = 0;
  return {
    async run(inputs: readonly WireTensor[]): Promise<WireTensor[]> {
      calls++;
      const feeds: Record<string, ort.Tensor> = {};
      for (const t of inputs) feeds[t.name] = new ort.Tensor(t.dtype, typedView(t), [...t.dims]);
      const out = await session.run(feeds);
      return session.outputNames.map((name) => {
        const t = out[name] as ort.Tensor;
        const dtype = toTensorDtype(t.type);
        if (dtype === null) throw new Error(`the VAD model's output "${name}" is ${t.type}, which the pipeline cannot read`);
        // A fresh buffer: ORT's may be shared or offset, a WireTensor owns exactly its bytes.
        return { name, dtype, dims: [...t.dims], data: ownBytes((t.data as Float32Array).slice()) };
      });
    },
    calls: () => calls,
    release: () => session.release(),
  };
}
