/**
 * A single-tab reference run: the same model on the same digits in this tab alone, so a requester
 * can check what the network verified against what their own machine computes.
 */
import { asModelHash } from '../protocol/ids.ts';
import { float32View } from '../protocol/tensor.ts';
import { createWorkerEngine } from '../runtime/workerEngine.ts';
import { sha256Hex } from '../runtime/sha256.ts';
import { accuracy, argmaxRows, MNIST_CLASSES, MNIST_INPUT_NAME, MNIST_PIXELS } from '../workloads/mnist/holdout.ts';
import { loadMnistAssets, mnistBatch } from '../workloads/mnist/mnistJob.ts';

export interface ReferenceRun {
  readonly predictions: number[];
  readonly backend: string;
  readonly inferMs: number;
  /** Against the held-out labels. */
  readonly accuracy: number;
}

export async function runMnistReference(count: number): Promise<ReferenceRun> {
  const { model, holdout } = await loadMnistAssets();
  const batch = mnistBatch(holdout, count);
  const n = batch.labels.length;
  const engine = createWorkerEngine();
  try {
    await engine.init({ backend: 'wasm', threads: 1 });
    const hash = asModelHash(await sha256Hex(model));
    await engine.loadModel(hash, model);
    const result = await engine.run(hash, [{ name: MNIST_INPUT_NAME, dtype: 'float32', dims: [n, MNIST_PIXELS], data: batch.data }]);
    const logits = result.outputs[0];
    if (!logits) throw new Error('the model returned no output');
    const predictions = argmaxRows(float32View(logits), MNIST_CLASSES);
    return { predictions: Array.from(predictions), backend: result.backend, inferMs: result.inferMs, accuracy: accuracy(predictions, batch.labels) };
  } finally {
    await engine.dispose();
  }
}
