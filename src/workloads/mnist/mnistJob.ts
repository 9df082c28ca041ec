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

/** The most items the built-in MNIST workload offers (the held-out digits, repeated). */
export const MNIST_MAX_ITEMS = 20_000;

/**
 * `count` held-out digits as one `pixels` batch of shape [count, 784]. Beyond the 2,000 held-out
 * digits the batch wraps around (item i is digit i mod 2,000): a big job, for load and fault
 * tests, still has known labels and a reproducible reference, and every item keeps its own index.
 */
export function mnistBatch(holdout: MnistHoldout, count: number): { data: ArrayBuffer; labels: Uint8Array } {
  const n = Math.max(1, Math.min(Math.floor(count), MNIST_MAX_ITEMS));
  const images = new Float32Array(n * MNIST_PIXELS);
  const labels = new Uint8Array(n);
  for (let start = 0; start < n; start += holdout.count) {
    const take = Math.min(holdout.count, n - start);
    images.set(holdout.images.subarray(0, take * MNIST_PIXELS), start * MNIST_PIXELS);
    labels.set(holdout.labels.subarray(0, take), start);
  }
  return { data: images.buffer, labels };
}
