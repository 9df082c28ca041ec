/**
 * Conversions between our WireTensor and onnxruntime's tensor vocabulary, kept free of any
 * onnxruntime-web import so they can be unit-tested (and reused) without loading 28 MB of WASM.
 */
import { BYTES_PER_ELEMENT, TENSOR_DTYPES, elementCount } from '../protocol/tensor.ts';
import type { TensorDtype, WireTensor } from '../protocol/tensor.ts';
import { InferenceError } from './engine.ts';
import type { ModelPort, ModelSignature } from './engine.ts';

/** The typed arrays onnxruntime-web accepts for each dtype we carry (bool is bytes of 0/1). */
export type OrtTypedArray = Float32Array | Int32Array | BigInt64Array | Uint8Array | Int8Array;

const OUR_DTYPES: ReadonlySet<string> = new Set(TENSOR_DTYPES);

/**
 * Maps an onnxruntime type string ('float32', 'int64', 'float16', 'string', …) to our TensorDtype.
 * Our names were chosen to equal ORT's, so this is a membership test; anything we cannot carry on
 * the wire (float16, float64, string, uint16, …) is null, and the coordinator rejects such models.
 */
export function toTensorDtype(ortType: string): TensorDtype | null {
  return OUR_DTYPES.has(ortType) ? (ortType as TensorDtype) : null;
}

/**
 * A dim the model leaves unknown (neither a size nor a name, as in Silero VAD's `input`) comes
 * back from onnxruntime (web and node) as 4294967295 (−1 read unsigned); taken as a size, it would refuse
 * every input. It is reported as the symbolic dim '?'.
 */
export function knownDim(d: number | string): number | string {
  return typeof d === 'number' && !(Number.isInteger(d) && d >= 0 && d < 2 ** 31) ? '?' : d;
}

/**
 * A typed view over the tensor's bytes, without copying. Safe to hand to ORT: it copies feeds into
 * WASM memory (or a GPU buffer) during run and never writes into them.
 */
export function typedView(t: WireTensor): OrtTypedArray {
  const n = elementCount(t.dims);
  const expected = n * BYTES_PER_ELEMENT[t.dtype];
  if (t.data.byteLength !== expected) {
    throw new InferenceError(`Input "${t.name}" has ${t.data.byteLength} bytes, but ${t.dtype} [${t.dims.join(', ')}] needs ${expected}.`);
  }
  switch (t.dtype) {
    case 'float32':
      return new Float32Array(t.data, 0, n);
    case 'int32':
      return new Int32Array(t.data, 0, n);
    case 'int64':
      return new BigInt64Array(t.data, 0, n);
    case 'int8':
      return new Int8Array(t.data, 0, n);
    case 'uint8':
    case 'bool':
      return new Uint8Array(t.data, 0, n);
  }
}

/**
 * Exactly the bytes of a typed array as a standalone ArrayBuffer. Reuses the buffer when the view
 * already covers all of a plain ArrayBuffer (ORT copies outputs out of WASM memory, so this is the
 * usual case); copies when it is a window into a bigger or shared buffer (e.g. threaded WASM memory).
 */
export function ownBytes(view: ArrayBufferView): ArrayBuffer {
  const buf = view.buffer;
  const isPlain = Object.prototype.toString.call(buf) === '[object ArrayBuffer]';
  if (isPlain && view.byteOffset === 0 && view.byteLength === buf.byteLength) return buf as ArrayBuffer;
  const copy = new ArrayBuffer(view.byteLength);
  new Uint8Array(copy).set(new Uint8Array(buf, view.byteOffset, view.byteLength));
  return copy;
}

/** Checks inputs against the model's signature, so a bad shard fails with a clear message. */
export function checkInputs(signature: ModelSignature, inputs: readonly WireTensor[]): void {
  const byName = new Map(inputs.map((t) => [t.name, t]));
  if (byName.size !== inputs.length) throw new InferenceError('Two inputs have the same name.');
  for (const port of signature.inputs) {
    const t = byName.get(port.name);
    if (!t) throw new InferenceError(`The model needs an input named "${port.name}", which was not given.`);
    checkPort(port, t);
  }
  const known = new Set(signature.inputs.map((p) => p.name));
  for (const t of inputs) {
    if (!known.has(t.name)) {
      throw new InferenceError(`The model has no input named "${t.name}" (it takes: ${[...known].join(', ') || 'nothing'}).`);
    }
  }
}

function checkPort(port: ModelPort, t: WireTensor): void {
  if (port.dtype !== null && port.dtype !== t.dtype) {
    throw new InferenceError(`Input "${t.name}" must be ${port.dtype}, not ${t.dtype}.`);
  }
  if (!t.dims.every((d) => Number.isInteger(d) && d >= 0)) {
    throw new InferenceError(`Input "${t.name}" has invalid dims [${t.dims.join(', ')}].`);
  }
  // ORT reports an unknown shape as []: only check rank and fixed dims when the model declares them.
  if (port.dims === null || port.dims.length === 0) return;
  const fits = port.dims.length === t.dims.length && port.dims.every((d, i) => typeof d === 'string' || d < 0 || d === t.dims[i]);
  if (!fits) {
    throw new InferenceError(`Input "${t.name}" has shape [${t.dims.join(', ')}], but the model expects [${port.dims.join(', ')}].`);
  }
}
