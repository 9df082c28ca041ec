/**
 * Tensors as they cross the wire and as the core sees them: a dtype, dims and the raw bytes
 * (little-endian, as typed arrays hold them). Tensors always travel as binary, never as JSON
 * number arrays.
 */
export const TENSOR_DTYPES = ['float32', 'int32', 'int64', 'uint8', 'int8', 'bool'] as const;
export type TensorDtype = (typeof TENSOR_DTYPES)[number];

export const BYTES_PER_ELEMENT: Readonly<Record<TensorDtype, number>> = {
  float32: 4,
  int32: 4,
  int64: 8,
  uint8: 1,
  int8: 1,
  bool: 1,
};

export interface WireTensor {
  /** The model's input or output name this tensor belongs to. */
  readonly name: string;
  readonly dtype: TensorDtype;
  readonly dims: readonly number[];
  /** Exactly `product(dims) * BYTES_PER_ELEMENT[dtype]` bytes. */
  readonly data: ArrayBuffer;
}

export function elementCount(dims: readonly number[]): number {
  let n = 1;
  for (const d of dims) n *= d;
  return n;
}

export function float32View(t: WireTensor): Float32Array {
  return new Float32Array(t.data, 0, elementCount(t.dims));
}
