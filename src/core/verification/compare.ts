/**
 * Comparators decide whether two volunteers' outputs for the same shard *agree*. Floating-point
 * results legitimately differ between backends (WebGPU vs WASM, one GPU vs another) in the last
 * bits, so float comparison is always tolerant. NaN and Inf never agree with anything: a result
 * containing them is treated as broken, not as a value. Rule ids refer to core/SPEC.md.
 */
import type { Comparator } from '../../protocol/policy.ts';
import { BYTES_PER_ELEMENT, elementCount, type WireTensor } from '../../protocol/tensor.ts';

export interface Agreement {
  readonly agree: boolean;
  /** Why they disagree, for logs and the researcher's view; empty when they agree. */
  readonly reason: string;
}

const AGREE: Agreement = { agree: true, reason: '' };
const disagree = (reason: string): Agreement => ({ agree: false, reason });

/** A comparator for one named output, overriding the job's comparator for that output. [V-7] */
export interface OutputComparator {
  readonly name: string;
  readonly comparator: Comparator;
}

const NONE: readonly OutputComparator[] = [];

/**
 * Compares two full output lists (one tensor per model output), matched by name. [V-1] Each
 * output uses its own comparator when `perOutput` names it, the job's `comparator` otherwise. [V-7]
 */
export function compareOutputs(
  a: readonly WireTensor[],
  b: readonly WireTensor[],
  comparator: Comparator,
  perOutput: readonly OutputComparator[] = NONE,
): Agreement {
  if (a.length !== b.length) return disagree(`${a.length} vs ${b.length} outputs`);
  // With a repeated name, matching by name could compare one tensor twice and another never.
  if (hasDuplicateNames(a) || hasDuplicateNames(b)) return disagree('output names repeat');
  for (const ta of a) {
    const tb = b.length === 1 ? (b[0]!.name === ta.name ? b[0] : undefined) : b.find((t) => t.name === ta.name);
    if (!tb) return disagree(`output "${ta.name}" missing`);
    const own = perOutput.length === 0 ? undefined : perOutput.find((o) => o.name === ta.name);
    const r = compareTensor(ta, tb, own ? own.comparator : comparator);
    if (!r.agree) return disagree(`output "${ta.name}": ${r.reason}`);
  }
  return AGREE;
}

/** [V-2] shapes and dtypes must match exactly before any value is compared. */
export function compareTensor(a: WireTensor, b: WireTensor, comparator: Comparator): Agreement {
  if (a.dtype !== b.dtype) return disagree(`dtype ${a.dtype} vs ${b.dtype}`);
  if (!sameDims(a.dims, b.dims)) return disagree(`dims [${a.dims.join(',')}] vs [${b.dims.join(',')}]`);
  const n = elementCount(a.dims);
  if (a.data.byteLength !== n * BYTES_PER_ELEMENT[a.dtype] || b.data.byteLength !== a.data.byteLength) {
    return disagree('byte length does not match dims');
  }
  if (a.dtype !== 'float32') return compareBytesExact(a.data, b.data);
  const x = new Float32Array(a.data);
  const y = new Float32Array(b.data);
  switch (comparator.kind) {
    case 'allclose':
      return allclose(x, y, comparator.atol, comparator.rtol);
    case 'argmax':
      return argmaxAgree(x, y, a.dims);
    case 'exact':
      return exactFloat(x, y, a.data, b.data);
    case 'cosine':
      return cosineAgree(x, y, a.dims, comparator.threshold);
  }
}

/** [V-5] Bit-for-bit equality; a non-finite float never agrees, not even with identical bits. */
function exactFloat(x: Float32Array, y: Float32Array, a: ArrayBuffer, b: ArrayBuffer): Agreement {
  for (let i = 0; i < x.length; i++) {
    if (!Number.isFinite(x[i] as number) || !Number.isFinite(y[i] as number)) return disagree(`non-finite value at ${i}`);
  }
  return compareBytesExact(a, b);
}

/** A plain loop: this runs for every pair of replicas compared, and a closure per call shows up. */
function sameDims(a: readonly number[], b: readonly number[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function hasDuplicateNames(ts: readonly WireTensor[]): boolean {
  if (ts.length < 2) return false;
  if (ts.length === 2) return ts[0]!.name === ts[1]!.name;
  return new Set(ts.map((t) => t.name)).size !== ts.length;
}

/** [V-3] |x - y| ≤ atol + rtol·max(|x|, |y|) element-wise (symmetric); non-finite never agrees. */
export function allclose(x: Float32Array, y: Float32Array, atol: number, rtol: number): Agreement {
  for (let i = 0; i < x.length; i++) {
    const xi = x[i] as number;
    const yi = y[i] as number;
    if (!Number.isFinite(xi) || !Number.isFinite(yi)) return disagree(`non-finite value at ${i}`);
    const tol = atol + rtol * Math.max(Math.abs(xi), Math.abs(yi));
    if (Math.abs(xi - yi) > tol) return disagree(`|${xi} - ${yi}| > ${tol.toPrecision(3)} at ${i}`);
  }
  return AGREE;
}

/** [V-4] The arg-max along the last axis matches in every row; non-finite never agrees. */
export function argmaxAgree(x: Float32Array, y: Float32Array, dims: readonly number[]): Agreement {
  const classes = dims.length === 0 ? 1 : (dims[dims.length - 1] as number);
  if (classes === 0) return AGREE;
  for (let row = 0; row * classes < x.length; row++) {
    let bx = 0;
    let by = 0;
    for (let c = 0; c < classes; c++) {
      const i = row * classes + c;
      const xi = x[i] as number;
      const yi = y[i] as number;
      if (!Number.isFinite(xi) || !Number.isFinite(yi)) return disagree(`non-finite value at ${i}`);
      if (xi > (x[row * classes + bx] as number)) bx = c;
      if (yi > (y[row * classes + by] as number)) by = c;
    }
    if (bx !== by) return disagree(`row ${row}: class ${bx} vs ${by}`);
  }
  return AGREE;
}

/**
 * [V-6] Every row (last axis) of x and y points the same way: cos(x, y) ≥ threshold, computed in
 * doubles. Two all-zero rows agree (they are equal); a zero row never agrees with a non-zero one
 * (no direction to compare); non-finite values never agree.
 */
export function cosineAgree(x: Float32Array, y: Float32Array, dims: readonly number[], threshold: number): Agreement {
  const width = dims.length === 0 ? 1 : (dims[dims.length - 1] as number);
  if (width === 0) return AGREE;
  for (let row = 0; row * width < x.length; row++) {
    let dot = 0;
    let xx = 0;
    let yy = 0;
    for (let c = 0; c < width; c++) {
      const i = row * width + c;
      const xi = x[i] as number;
      const yi = y[i] as number;
      if (!Number.isFinite(xi) || !Number.isFinite(yi)) return disagree(`non-finite value at ${i}`);
      dot += xi * yi;
      xx += xi * xi;
      yy += yi * yi;
    }
    if (xx === 0 && yy === 0) continue;
    if (xx === 0 || yy === 0) return disagree(`row ${row}: a zero vector against a non-zero one`);
    const cos = dot / Math.sqrt(xx * yy);
    if (!(cos >= threshold)) return disagree(`row ${row}: cosine ${cos.toPrecision(6)} < ${threshold}`);
  }
  return AGREE;
}

function compareBytesExact(a: ArrayBuffer, b: ArrayBuffer): Agreement {
  const x = new Uint8Array(a);
  const y = new Uint8Array(b);
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return disagree(`byte ${i} differs`);
  return AGREE;
}
