/**
 * Tensors from JSON: nested arrays of numbers (or booleans) whose shape is inferred from the
 * nesting. Ragged arrays, mixed nesting, non-numbers and values out of the dtype's range are
 * refused with a JsonTensorError naming the first offending position, e.g. `[2][0]`.
 *
 * A file may hold one array (for one model input) or an object mapping input names to arrays:
 *   [[0.1, 0.2], [0.3, 0.4]]            or   {"x": [[0.1, 0.2]], "mask": [[1, 0]]}
 * int64 values beyond ±2^53 may be given as decimal strings ("9007199254740993"). Pure.
 */
import { LIMITS } from '../../protocol/limits.ts';
import { BYTES_PER_ELEMENT, type TensorDtype } from '../../protocol/tensor.ts';
import type { NpyArray } from './npy.ts';
import { errorMessage } from '../../protocol/errorMessage.ts';

export class JsonTensorError extends Error {
  override readonly name = 'JsonTensorError';
}

const INT_RANGE: Partial<Record<TensorDtype, readonly [number, number]>> = {
  int32: [-(2 ** 31), 2 ** 31 - 1],
  uint8: [0, 255],
  int8: [-128, 127],
};

const where = (path: readonly number[]): string => (path.length ? path.map((i) => `[${i}]`).join('') : 'the top level');

/** The shape of a nested array, read along its first elements; checked in full by `fill`. */
function inferShape(value: unknown): number[] {
  const shape: number[] = [];
  let v = value;
  while (Array.isArray(v)) {
    shape.push(v.length);
    if (shape.length > LIMITS.maxTensorRank) throw new JsonTensorError(`JSON array is nested deeper than ${LIMITS.maxTensorRank} levels.`);
    if (v.length === 0) break;
    v = v[0];
  }
  return shape;
}

type Writer = (index: number, value: unknown, path: readonly number[]) => void;

function writerFor(dtype: TensorDtype, buffer: ArrayBuffer): Writer {
  const bad = (value: unknown, path: readonly number[], what: string): never => {
    const shown = typeof value === 'string' ? JSON.stringify(value.slice(0, 40)) : Array.isArray(value) ? 'an array' : String(value);
    throw new JsonTensorError(`JSON value at ${where(path)} is ${shown}, but ${dtype} needs ${what}.`);
  };
  switch (dtype) {
    case 'float32': {
      const a = new Float32Array(buffer);
      return (i, v, path) => {
        if (typeof v !== 'number') bad(v, path, 'a number');
        a[i] = v as number;
      };
    }
    case 'int64': {
      const a = new BigInt64Array(buffer);
      return (i, v, path) => {
        let big: bigint | null = null;
        if (typeof v === 'number' && Number.isSafeInteger(v)) big = BigInt(v);
        else if (typeof v === 'string' && /^-?\d{1,19}$/.test(v)) big = BigInt(v);
        if (big === null || big < -(2n ** 63n) || big >= 2n ** 63n) bad(v, path, 'an integer (as a string beyond ±2^53)');
        a[i] = big as bigint;
      };
    }
    case 'bool': {
      const a = new Uint8Array(buffer);
      return (i, v, path) => {
        if (v === true || v === 1) a[i] = 1;
        else if (v === false || v === 0) a[i] = 0;
        else bad(v, path, 'true, false, 0 or 1');
      };
    }
    case 'int32':
    case 'uint8':
    case 'int8': {
      const [lo, hi] = INT_RANGE[dtype] as readonly [number, number];
      const a = dtype === 'int32' ? new Int32Array(buffer) : dtype === 'uint8' ? new Uint8Array(buffer) : new Int8Array(buffer);
      return (i, v, path) => {
        if (typeof v !== 'number' || !Number.isInteger(v) || v < lo || v > hi) bad(v, path, `an integer in [${lo}, ${hi}]`);
        a[i] = v as number;
      };
    }
  }
}

/** One nested array (already parsed from JSON) as a tensor of `dtype`. */
export function tensorFromNested(value: unknown, dtype: TensorDtype): NpyArray {
  const shape = inferShape(value);
  let count = 1;
  for (const d of shape) count *= d;
  const bytes = count * BYTES_PER_ELEMENT[dtype];
  if (bytes > LIMITS.maxTensorBytes)
    throw new JsonTensorError(`JSON array of shape [${shape.join(', ')}] is larger than ${LIMITS.maxTensorBytes} bytes as ${dtype}.`);
  const data = new ArrayBuffer(bytes);
  const write = writerFor(dtype, data);
  let next = 0;
  const path: number[] = [];
  const fill = (v: unknown, depth: number): void => {
    if (depth === shape.length) {
      if (Array.isArray(v))
        throw new JsonTensorError(`JSON array is ragged: ${where(path)} is an array, but its siblings are values (shape [${shape.join(', ')}]).`);
      write(next++, v, path);
      return;
    }
    if (!Array.isArray(v)) {
      throw new JsonTensorError(`JSON array is ragged: ${where(path)} is a value, but an array of ${shape[depth]} was expected (shape [${shape.join(', ')}]).`);
    }
    if (v.length !== shape[depth]) {
      throw new JsonTensorError(
        `JSON array is ragged: ${where(path)} has ${v.length} elements, but ${where(path.slice(0, -1).concat(path.length ? [0] : []))} has ${shape[depth]}. Every row must have the same length.`,
      );
    }
    for (let i = 0; i < v.length; i++) {
      path.push(i);
      fill(v[i], depth + 1);
      path.pop();
    }
  };
  fill(value, 0);
  return { dtype, shape, data };
}

/**
 * Parses a JSON file's text into named tensors. `dtypeOf(name)` gives each input's dtype (from
 * the model's signature); `single` names the input a bare top-level array belongs to.
 */
export function parseJsonInputs(text: string, single: string | null, dtypeOf: (name: string) => TensorDtype): Map<string, NpyArray> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new JsonTensorError(`not valid JSON: ${errorMessage(e)}`);
  }
  const out = new Map<string, NpyArray>();
  if (Array.isArray(value)) {
    if (single === null) throw new JsonTensorError('a bare JSON array needs an input to go to: choose the input, or give {"input name": [...]}.');
    out.set(single, tensorFromNested(value, dtypeOf(single)));
    return out;
  }
  if (value === null || typeof value !== 'object') {
    throw new JsonTensorError('JSON inputs must be an array, or an object mapping input names to arrays.');
  }
  for (const [name, v] of Object.entries(value as Record<string, unknown>)) {
    if (!Array.isArray(v)) throw new JsonTensorError(`JSON input "${name}" is not an array.`);
    try {
      out.set(name, tensorFromNested(v, dtypeOf(name)));
    } catch (e) {
      throw new JsonTensorError(`JSON input "${name}": ${errorMessage(e)}`);
    }
  }
  if (out.size === 0) throw new JsonTensorError('the JSON object names no inputs.');
  return out;
}
