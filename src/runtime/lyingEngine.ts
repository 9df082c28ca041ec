/**
 * TEST BUILDS ONLY: an engine that lies. It runs the real engine and corrupts every float output
 * before returning it (each value v becomes -v - 1, so no tolerance and no arg-max accepts it),
 * while reporting the backend honestly. e2e tests use it (`#/volunteer?liar=1`) to prove that a
 * lying volunteer is outvoted and quarantined; the page honours the flag only when
 * `import.meta.env.MODE === 'test'`, so production builds drop this code.
 */
import type { WireTensor } from '../protocol/tensor.ts';
import type { InferenceEngine } from './engine.ts';

export function corruptOutputs(outputs: readonly WireTensor[]): WireTensor[] {
  return outputs.map((t) => {
    if (t.dtype !== 'float32') return { ...t, data: t.data.slice(0) };
    const values = new Float32Array(t.data.slice(0));
    for (let i = 0; i < values.length; i++) values[i] = -values[i]! - 1;
    return { ...t, data: values.buffer };
  });
}

export function lyingEngine(inner: InferenceEngine): InferenceEngine {
  return {
    init: (prefs) => inner.init(prefs),
    loadModel: (hash, bytes) => inner.loadModel(hash, bytes),
    run: async (hash, inputs) => {
      const result = await inner.run(hash, inputs);
      return { ...result, outputs: corruptOutputs(result.outputs) };
    },
    unloadModel: (hash) => inner.unloadModel(hash),
    dispose: () => inner.dispose(),
    onCapabilitiesChanged: (listener) => inner.onCapabilitiesChanged?.(listener) ?? (() => {}),
  };
}
