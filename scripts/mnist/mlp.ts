/**
 * A small MLP (784 -> hidden -> 10, ReLU, softmax cross-entropy) trained with minibatch SGD +
 * momentum, in plain TypeScript.
 *
 * Determinism: all math is IEEE double (+ - * / and Math.sqrt, which ECMAScript defines exactly),
 * exp is detExp (Math.exp is implementation-approximated), randomness is seeded mulberry32, and
 * every sum runs in a fixed order. So the trained weights are the same bits on every machine and
 * every run, which is what lets the committed ONNX file be checked byte for byte.
 *
 * Weight layout matches ONNX Gemm with transB = 0: w1 is [inputs, hidden] row-major, w2 is
 * [hidden, classes], so the arrays go into the model as-is.
 */
import { detExp } from './detMath.ts';
import { randomInt, shuffleInPlace, uniformRng } from './prng.ts';

export interface MlpShape {
  readonly inputs: number;
  readonly hidden: number;
  readonly classes: number;
}

export interface MlpParams extends MlpShape {
  readonly w1: Float64Array | Float32Array;
  readonly b1: Float64Array | Float32Array;
  readonly w2: Float64Array | Float32Array;
  readonly b2: Float64Array | Float32Array;
}

/** Parameters while training (doubles). */
interface MlpParams64 extends MlpShape {
  readonly w1: Float64Array;
  readonly b1: Float64Array;
  readonly w2: Float64Array;
  readonly b2: Float64Array;
}

/** Parameters as stored in the ONNX file. */
export interface MlpParams32 extends MlpShape {
  readonly w1: Float32Array;
  readonly b1: Float32Array;
  readonly w2: Float32Array;
  readonly b2: Float32Array;
}

export interface TrainConfig {
  readonly hidden: number;
  readonly epochs: number;
  readonly batchSize: number;
  /** Learning rate of the first epoch; decays linearly to `finalLearningRate` at the last. */
  readonly learningRate: number;
  readonly finalLearningRate: number;
  readonly momentum: number;
  /** L2 penalty on weights (not biases). */
  readonly weightDecay: number;
  /**
   * Data augmentation: each time a digit is visited it is shifted by a random whole number of
   * pixels in [-maxShift, maxShift] on each axis (0 turns it off). MNIST digits are centred by
   * mass but not exactly; seeing small shifts stops the MLP memorising exact pixel positions,
   * which matters with only 8,000 training digits.
   */
  readonly maxShift: number;
  /** Seeds the initial weights, the per-epoch minibatch order and the shifts. */
  readonly seed: number;
}

export interface Dataset {
  readonly count: number;
  /** Image size, for shifting; width * height is the MLP's input count. */
  readonly width: number;
  readonly height: number;
  /** count * inputs, row-major. */
  readonly images: Float32Array;
  readonly labels: Uint8Array;
}

/**
 * He-uniform init (limit sqrt(6 / fan_in)) suits ReLU: it keeps activations from shrinking or
 * blowing up layer to layer. Biases start at zero.
 */
function initParams(shape: MlpShape, seed: number): MlpParams64 {
  const rng = uniformRng(seed);
  const { inputs, hidden, classes } = shape;
  const w1 = new Float64Array(inputs * hidden);
  const w2 = new Float64Array(hidden * classes);
  const lim1 = Math.sqrt(6 / inputs);
  const lim2 = Math.sqrt(6 / hidden);
  for (let i = 0; i < w1.length; i++) w1[i] = (2 * rng() - 1) * lim1;
  for (let i = 0; i < w2.length; i++) w2[i] = (2 * rng() - 1) * lim2;
  return { inputs, hidden, classes, w1, b1: new Float64Array(hidden), w2, b2: new Float64Array(classes) };
}

/**
 * Indices of each image's nonzero pixels. About 80% of MNIST pixels are exactly 0 and contribute
 * nothing to the first layer or its weight gradient, so training only visits these: ~5x faster.
 */
function nonzeroIndex(data: Dataset, inputs: number): { offsets: Int32Array; indices: Int32Array } {
  const offsets = new Int32Array(data.count + 1);
  const tmp: number[] = [];
  for (let n = 0; n < data.count; n++) {
    const base = n * inputs;
    for (let i = 0; i < inputs; i++) if ((data.images[base + i] as number) !== 0) tmp.push(i);
    offsets[n + 1] = tmp.length;
  }
  return { offsets, indices: Int32Array.from(tmp) };
}

/** Trains and returns double-precision parameters. */
export function trainMlp(data: Dataset, classes: number, cfg: TrainConfig): MlpParams {
  const { hidden, epochs, batchSize, momentum, weightDecay, maxShift } = cfg;
  const { width, height } = data;
  const inputs = width * height;
  const p = initParams({ inputs, hidden, classes }, cfg.seed);
  const { w1, b1, w2, b2 } = p;
  const orderRng = uniformRng((cfg.seed ^ 0x9e3779b9) >>> 0);
  const shiftRng = uniformRng((cfg.seed ^ 0x85ebca6b) >>> 0);
  const { offsets, indices } = nonzeroIndex(data, inputs);

  // Gradient accumulators and momentum buffers, one per parameter array.
  const g1 = new Float64Array(w1.length);
  const gb1 = new Float64Array(hidden);
  const g2 = new Float64Array(w2.length);
  const gb2 = new Float64Array(classes);
  const v1 = new Float64Array(w1.length);
  const vb1 = new Float64Array(hidden);
  const v2 = new Float64Array(w2.length);
  const vb2 = new Float64Array(classes);

  // Per-sample scratch.
  const h = new Float64Array(hidden);
  const z2 = new Float64Array(classes);
  const dz2 = new Float64Array(classes);
  const dz1 = new Float64Array(hidden);
  // The visited digit's (shifted) nonzero pixels: input index and value.
  const xIdx = new Int32Array(inputs);
  const xVal = new Float64Array(inputs);

  const order = new Int32Array(data.count);
  for (let i = 0; i < order.length; i++) order[i] = i;

  const update = (w: Float64Array, g: Float64Array, v: Float64Array, lr: number, scale: number, decay: number): void => {
    for (let i = 0; i < w.length; i++) {
      const wi = w[i] as number;
      const vi = momentum * (v[i] as number) - lr * ((g[i] as number) * scale + decay * wi);
      v[i] = vi;
      w[i] = wi + vi;
    }
    g.fill(0);
  };

  for (let epoch = 0; epoch < epochs; epoch++) {
    const t = epochs === 1 ? 0 : epoch / (epochs - 1);
    const lr = cfg.learningRate + (cfg.finalLearningRate - cfg.learningRate) * t;
    shuffleInPlace(order, orderRng);
    for (let start = 0; start < data.count; start += batchSize) {
      const end = Math.min(start + batchSize, data.count);
      for (let b = start; b < end; b++) {
        const n = order[b] as number;
        const base = n * inputs;
        let nnz = 0;
        const dx = maxShift > 0 ? randomInt(shiftRng, 2 * maxShift + 1) - maxShift : 0;
        const dy = maxShift > 0 ? randomInt(shiftRng, 2 * maxShift + 1) - maxShift : 0;
        for (let k = offsets[n] as number, kEnd = offsets[n + 1] as number; k < kEnd; k++) {
          const i = indices[k] as number;
          const x = (i % width) + dx;
          const y = Math.floor(i / width) + dy;
          if (x < 0 || x >= width || y < 0 || y >= height) continue; // shifted off the edge
          xIdx[nnz] = y * width + x;
          xVal[nnz] = data.images[base + i] as number;
          nnz++;
        }

        // Forward: h = relu(x W1 + b1), z2 = h W2 + b2.
        h.set(b1);
        for (let k = 0; k < nnz; k++) {
          const x = xVal[k] as number;
          const row = (xIdx[k] as number) * hidden;
          for (let j = 0; j < hidden; j++) h[j] = (h[j] as number) + x * (w1[row + j] as number);
        }
        for (let j = 0; j < hidden; j++) if ((h[j] as number) < 0) h[j] = 0;
        z2.set(b2);
        for (let j = 0; j < hidden; j++) {
          const hj = h[j] as number;
          if (hj === 0) continue;
          const row = j * classes;
          for (let c = 0; c < classes; c++) z2[c] = (z2[c] as number) + hj * (w2[row + c] as number);
        }

        // Softmax cross-entropy gradient: dz2 = softmax(z2) - onehot(label).
        let max = -Infinity;
        for (let c = 0; c < classes; c++) if ((z2[c] as number) > max) max = z2[c] as number;
        let sum = 0;
        for (let c = 0; c < classes; c++) {
          const e = detExp((z2[c] as number) - max);
          dz2[c] = e;
          sum += e;
        }
        const label = data.labels[n] as number;
        for (let c = 0; c < classes; c++) dz2[c] = (dz2[c] as number) / sum - (c === label ? 1 : 0);

        // Backward.
        for (let c = 0; c < classes; c++) gb2[c] = (gb2[c] as number) + (dz2[c] as number);
        for (let j = 0; j < hidden; j++) {
          const hj = h[j] as number;
          const row = j * classes;
          let d = 0;
          for (let c = 0; c < classes; c++) {
            const w = w2[row + c] as number;
            const dc = dz2[c] as number;
            d += w * dc;
            if (hj !== 0) g2[row + c] = (g2[row + c] as number) + hj * dc;
          }
          dz1[j] = hj > 0 ? d : 0; // ReLU gate
          gb1[j] = (gb1[j] as number) + (dz1[j] as number);
        }
        for (let k = 0; k < nnz; k++) {
          const x = xVal[k] as number;
          const row = (xIdx[k] as number) * hidden;
          for (let j = 0; j < hidden; j++) g1[row + j] = (g1[row + j] as number) + x * (dz1[j] as number);
        }
      }
      const scale = 1 / (end - start);
      update(w1, g1, v1, lr, scale, weightDecay);
      update(b1, gb1, vb1, lr, scale, 0);
      update(w2, g2, v2, lr, scale, weightDecay);
      update(b2, gb2, vb2, lr, scale, 0);
    }
  }
  return p;
}

/** Rounds parameters to float32, the precision the ONNX model stores. */
export function toFloat32(p: MlpParams): MlpParams32 {
  return {
    inputs: p.inputs,
    hidden: p.hidden,
    classes: p.classes,
    w1: new Float32Array(p.w1),
    b1: new Float32Array(p.b1),
    w2: new Float32Array(p.w2),
    b2: new Float32Array(p.b2),
  };
}

/**
 * Reference forward pass: logits for `count` images, accumulated in doubles (the same order
 * as training) and rounded once to float32. ONNX Runtime accumulates in float32, so its logits
 * differ from these by ~1e-6 relative; tests compare with a tolerance.
 */
export function forwardMlp(p: MlpParams, images: Float32Array, count: number): Float32Array {
  const { inputs, hidden, classes, w1, b1, w2, b2 } = p;
  if (images.length !== count * inputs) {
    throw new RangeError(`expected ${count * inputs} pixels, got ${images.length}`);
  }
  const out = new Float32Array(count * classes);
  const h = new Float64Array(hidden);
  const z = new Float64Array(classes);
  for (let n = 0; n < count; n++) {
    const base = n * inputs;
    h.set(b1);
    for (let i = 0; i < inputs; i++) {
      const x = images[base + i] as number;
      if (x === 0) continue;
      const row = i * hidden;
      for (let j = 0; j < hidden; j++) h[j] = (h[j] as number) + x * (w1[row + j] as number);
    }
    z.set(b2);
    for (let j = 0; j < hidden; j++) {
      const hj = h[j] as number;
      if (!(hj > 0)) continue; // ReLU
      const row = j * classes;
      for (let c = 0; c < classes; c++) z[c] = (z[c] as number) + hj * (w2[row + c] as number);
    }
    out.set(z, n * classes);
  }
  return out;
}
