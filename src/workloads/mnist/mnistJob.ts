/**
 * The built-in MNIST workload's assets: the project's trained MLP and the held-out digits, fetched
 * from the app's own origin (the job itself is built by workloads/registry.ts).
 */
import { decodeMnistHoldout, MNIST_HOLDOUT_URL, MNIST_MODEL_URL, MNIST_PIXELS, type MnistHoldout } from './holdout.ts';

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
