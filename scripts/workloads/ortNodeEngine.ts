/**
 * The Node reference's engine (`npm run workload`): the headless volunteer's onnxruntime-node
 * engine (src/runtime/ortNodeEngine.node.ts), counting its runs so the VAD command can say how
 * many 32 ms windows a file took. The reference runs pipelines through the same
 * `createBundleEngine` and `runFilePipeline` the volunteers do.
 */
import type { InferenceEngine } from '../../src/runtime/engine.ts';
import { createOrtNodeEngine as createEngine } from '../../src/runtime/ortNodeEngine.node.ts';

export interface NodeEngine extends InferenceEngine {
  /** Model runs so far (a VAD file makes one per 32 ms window). */
  runs(): number;
}

export function createOrtNodeEngine(): NodeEngine {
  const inner = createEngine();
  let runs = 0;
  return {
    init: (prefs) => inner.init({ ...prefs, backend: 'auto' }),
    loadModel: (hash, bytes) => inner.loadModel(hash, bytes),
    run: (hash, inputs) => {
      runs++;
      return inner.run(hash, inputs);
    },
    unloadModel: (hash) => inner.unloadModel(hash),
    dispose: () => inner.dispose(),
    runs: () => runs,
  };
}
