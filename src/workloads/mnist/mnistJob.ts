/**
 * The built-in MNIST workload as a job: the project's trained MLP and the first N held-out
 * digits, fetched from the app's own origin.
 */
import type { JobSpec } from '../../protocol/messages.ts';
import type { VerificationPolicy } from '../../protocol/policy.ts';
import { decodeMnistHoldout, MNIST_HOLDOUT_URL, MNIST_INPUT_NAME, MNIST_MODEL_URL, MNIST_PIXELS, type MnistHoldout } from './holdout.ts';

export interface MnistJob {
  readonly spec: JobSpec;
  /** The true digits, to score verified predictions against. */
  readonly labels: Uint8Array;
}

async function fetchBytes(url: string): Promise<ArrayBuffer> {
  const res = await fetch(url);
  if (!res.ok) throw new Error(`could not load ${url}: HTTP ${res.status}`);
  return res.arrayBuffer();
}

export async function loadMnistAssets(): Promise<{ model: ArrayBuffer; holdout: MnistHoldout }> {
  const [model, data] = await Promise.all([fetchBytes(MNIST_MODEL_URL), fetchBytes(MNIST_HOLDOUT_URL)]);
  return { model, holdout: decodeMnistHoldout(data) };
}

/** The first `count` held-out digits as one `pixels` batch of shape [count, 784]. */
export function mnistBatch(holdout: MnistHoldout, count: number): { data: ArrayBuffer; labels: Uint8Array } {
  const n = Math.max(1, Math.min(count, holdout.count));
  const data = holdout.images.slice(0, n * MNIST_PIXELS).buffer as ArrayBuffer;
  return { data, labels: holdout.labels.slice(0, n) };
}

export async function buildMnistJob(count: number, shardSize: number, policy: VerificationPolicy, requesterKey: string): Promise<MnistJob> {
  const { model, holdout } = await loadMnistAssets();
  const batch = mnistBatch(holdout, count);
  const n = batch.labels.length;
  return {
    spec: {
      name: `MNIST ${n} digits`,
      model,
      inputs: [{ name: MNIST_INPUT_NAME, dtype: 'float32', dims: [n, MNIST_PIXELS], data: batch.data }],
      shardSize,
      policy,
      requesterKey,
    },
    labels: batch.labels,
  };
}
