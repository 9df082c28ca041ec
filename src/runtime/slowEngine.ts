/**
 * TEST BUILDS ONLY: an engine that holds every shard for `delayMs` before running it, so e2e
 * tests can pause a volunteer while a shard is surely in hand (`#/volunteer?slowMs=N`). The
 * reported `inferMs` is the real engine's: only the wall time grows. The page honours the flag
 * only when `import.meta.env.MODE === 'test'`.
 */
import type { InferenceEngine } from './engine.ts';

export function slowEngine(inner: InferenceEngine, delayMs: number): InferenceEngine {
  return {
    init: (prefs) => inner.init(prefs),
    loadModel: (hash, bytes) => inner.loadModel(hash, bytes),
    run: async (hash, inputs) => {
      await new Promise((resolve) => setTimeout(resolve, delayMs));
      return inner.run(hash, inputs);
    },
    unloadModel: (hash) => inner.unloadModel(hash),
    dispose: () => inner.dispose(),
    onCapabilitiesChanged: (listener) => inner.onCapabilitiesChanged?.(listener) ?? (() => {}),
  };
}
