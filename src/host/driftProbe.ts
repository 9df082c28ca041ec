/**
 * Test builds only (reached through the test hook): runs the shipped MNIST model on held-out digits
 * on a chosen backend in a fresh inference Worker and returns the raw logits, so
 * `scripts/measure-drift.ts` can measure how far honest backends drift apart (the figures behind
 * the default tolerance in protocol/policy.ts).
 */
import type { Backend } from '../protocol/capabilities.ts';
import { asModelHash } from '../protocol/ids.ts';
import { float32View } from '../protocol/tensor.ts';
import { createWorkerEngine } from '../runtime/workerEngine.ts';
import { sha256Hex } from '../runtime/sha256.ts';
import { MNIST_INPUT_NAME, MNIST_PIXELS } from '../workloads/mnist/holdout.ts';
import { loadMnistAssets } from '../workloads/mnist/mnistJob.ts';

export interface DriftProbeOptions {
  readonly backend: Backend;
  readonly threads: number;
  /** Digits to run, from the first held-out one. */
  readonly count: number;
  /** Rows per run: the batch a volunteer would get as one shard. */
  readonly batch: number;
}

export interface DriftProbeResult {
  /** The backend that really ran every batch (a fallback shows up here). */
  readonly backends: Backend[];
  readonly adapter: string | null;
  readonly ortVersion: string;
  readonly threads: number;
  readonly inferMs: number;
  /** count × 10 logits, row-major, as plain numbers (float32 values, exactly). */
  readonly logits: number[];
}

export async function runMnistLogits(o: DriftProbeOptions): Promise<DriftProbeResult> {
  const { model, holdout } = await loadMnistAssets();
  const n = Math.max(1, Math.min(o.count, holdout.count));
  const engine = createWorkerEngine();
  try {
    const caps = await engine.init({ backend: o.backend, threads: o.threads });
    const hash = asModelHash(await sha256Hex(model));
    await engine.loadModel(hash, model);
    const logits: number[] = [];
    const backends = new Set<Backend>();
    let inferMs = 0;
    for (let start = 0; start < n; start += o.batch) {
      const rows = Math.min(o.batch, n - start);
      const data = holdout.images.slice(start * MNIST_PIXELS, (start + rows) * MNIST_PIXELS).buffer as ArrayBuffer;
      const r = await engine.run(hash, [{ name: MNIST_INPUT_NAME, dtype: 'float32', dims: [rows, MNIST_PIXELS], data }]);
      const out = r.outputs[0];
      if (!out) throw new Error('the model returned no output');
      for (const v of float32View(out)) logits.push(v);
      backends.add(r.backend);
      inferMs += r.inferMs;
    }
    const adapter = caps.adapter ? `${caps.adapter.vendor} ${caps.adapter.architecture}${caps.adapter.isFallbackAdapter ? ' (fallback)' : ''}`.trim() : null;
    return { backends: [...backends], adapter, ortVersion: caps.ortVersion, threads: caps.threads, inferMs, logits };
  } finally {
    await engine.dispose();
  }
}
