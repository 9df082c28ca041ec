/**
 * Test builds only (reached through the test hook): times the shipped MNIST model on WASM with a
 * given thread count in a fresh inference Worker — the volunteer's own engine — and returns every
 * run's `inferMs`, for `scripts/measure-threads.ts` (the figures in README's volunteer section).
 */
import { asModelHash } from '../protocol/ids.ts';
import { sha256Hex } from '../runtime/sha256.ts';
import { createWorkerEngine } from '../runtime/workerEngine.ts';
import { MNIST_INPUT_NAME, MNIST_PIXELS } from '../workloads/mnist/holdout.ts';
import { loadMnistAssets } from '../workloads/mnist/mnistJob.ts';

export interface ThreadBenchOptions {
  readonly threads: number;
  /** Digits per run (one shard). */
  readonly batch: number;
  readonly warmup: number;
  readonly runs: number;
}

export interface ThreadBenchResult {
  /** Threads the engine really got (1 when the page is not cross-origin isolated). */
  readonly threads: number;
  readonly crossOriginIsolated: boolean;
  readonly ortVersion: string;
  readonly inferMs: number[];
}

export async function runThreadBench(o: ThreadBenchOptions): Promise<ThreadBenchResult> {
  const { model, holdout } = await loadMnistAssets();
  const rows = Math.max(1, Math.min(o.batch, holdout.count));
  const engine = createWorkerEngine();
  try {
    const caps = await engine.init({ backend: 'wasm', threads: o.threads });
    const hash = asModelHash(await sha256Hex(model));
    await engine.loadModel(hash, model);
    const data = holdout.images.slice(0, rows * MNIST_PIXELS).buffer as ArrayBuffer;
    const inputs = [{ name: MNIST_INPUT_NAME, dtype: 'float32' as const, dims: [rows, MNIST_PIXELS], data }];
    const inferMs: number[] = [];
    for (let i = 0; i < o.warmup + o.runs; i++) {
      const r = await engine.run(hash, inputs);
      if (i >= o.warmup) inferMs.push(r.inferMs);
    }
    return { threads: caps.threads, crossOriginIsolated: globalThis.crossOriginIsolated === true, ortVersion: caps.ortVersion, inferMs };
  } finally {
    await engine.dispose();
  }
}
