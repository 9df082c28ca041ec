import { describe, expect, it } from 'vitest';
import type { WireTensor } from '../protocol/tensor.ts';
import { InferenceError } from './engine.ts';
import type { ModelSignature } from './engine.ts';
import { checkInputs, ownBytes, toTensorDtype, typedView } from './tensors.ts';

const wire = (t: Partial<WireTensor> & Pick<WireTensor, 'dtype' | 'dims' | 'data'>): WireTensor => ({ name: 'x', ...t });

describe('toTensorDtype (ORT type string -> TensorDtype)', () => {
  it.each(['float32', 'int32', 'int64', 'uint8', 'int8', 'bool'] as const)('carries %s', (t) => {
    expect(toTensorDtype(t)).toBe(t);
  });
  it.each(['float16', 'float64', 'string', 'uint16', 'int16', 'uint32', 'uint64', 'int4', 'uint4', 'bfloat16', ''])('cannot carry %j', (t) =>
    expect(toTensorDtype(t)).toBeNull(),
  );
});

describe('typedView', () => {
  it('gives the array type ORT expects for each dtype, without copying', () => {
    const cases = [
      ['float32', Float32Array, 4],
      ['int32', Int32Array, 4],
      ['int64', BigInt64Array, 8],
      ['uint8', Uint8Array, 1],
      ['int8', Int8Array, 1],
      ['bool', Uint8Array, 1],
    ] as const;
    for (const [dtype, ctor, size] of cases) {
      const data = new ArrayBuffer(6 * size);
      const view = typedView(wire({ dtype, dims: [2, 3], data }));
      expect(view).toBeInstanceOf(ctor);
      expect(view.length).toBe(6);
      expect(view.buffer).toBe(data);
    }
  });
  it('reads int64 as BigInt', () => {
    const data = new BigInt64Array([-3n, 2n ** 40n]).buffer;
    expect(Array.from(typedView(wire({ dtype: 'int64', dims: [2], data })) as BigInt64Array)).toEqual([-3n, 2n ** 40n]);
  });
  it('rejects a byte length that does not match dims', () => {
    expect(() => typedView(wire({ dtype: 'float32', dims: [2, 2], data: new ArrayBuffer(12) }))).toThrow(/has 12 bytes, but float32 \[2, 2\] needs 16/);
  });
  it('handles zero-size tensors', () => {
    expect(typedView(wire({ dtype: 'float32', dims: [0, 784], data: new ArrayBuffer(0) })).length).toBe(0);
  });
});

describe('ownBytes', () => {
  it('reuses a buffer the view covers exactly', () => {
    const a = new Float32Array([1, 2]);
    expect(ownBytes(a)).toBe(a.buffer);
  });
  it('copies exactly the bytes of a window into a bigger buffer', () => {
    const big = new Uint8Array([9, 1, 2, 3, 9]);
    const out = ownBytes(big.subarray(1, 4));
    expect(out).not.toBe(big.buffer);
    expect(Array.from(new Uint8Array(out))).toEqual([1, 2, 3]);
  });
  it('copies out of a SharedArrayBuffer (threaded WASM memory)', () => {
    const shared = new Uint8Array(new SharedArrayBuffer(4));
    shared.set([1, 2, 3, 4]);
    const out = ownBytes(shared);
    expect(Object.prototype.toString.call(out)).toBe('[object ArrayBuffer]');
    expect(Array.from(new Uint8Array(out))).toEqual([1, 2, 3, 4]);
  });
});

describe('checkInputs', () => {
  const sig: ModelSignature = {
    inputs: [
      { name: 'pixels', dtype: 'float32', dims: ['batch', 784] },
      { name: 'ids', dtype: 'int64', dims: [] },
    ],
    outputs: [],
  };
  const pixels = (dims: number[]): WireTensor => wire({ name: 'pixels', dtype: 'float32', dims, data: new ArrayBuffer(0) });
  const ids = wire({ name: 'ids', dtype: 'int64', dims: [3, 1], data: new ArrayBuffer(24) });

  it('accepts symbolic dims and unknown shapes', () => {
    expect(() => checkInputs(sig, [pixels([5, 784]), ids])).not.toThrow();
  });
  it.each([
    [[pixels([5, 784])], /needs an input named "ids"/],
    [[pixels([5, 784]), ids, wire({ name: 'extra', dtype: 'uint8', dims: [1], data: new ArrayBuffer(1) })], /no input named "extra"/],
    [[pixels([5, 783]), ids], /shape \[5, 783\], but the model expects \[batch, 784\]/],
    [[pixels([784]), ids], /expects \[batch, 784\]/],
    [[pixels([5, 784]), { ...ids, dtype: 'int32' as const }], /"ids" must be int64, not int32/],
    [[pixels([5, 784]), ids, ids], /same name/],
    [[pixels([-1, 784]), ids], /invalid dims/],
  ])('rejects bad inputs (%#)', (inputs, message) => {
    expect(() => checkInputs(sig, inputs)).toThrow(InferenceError);
    expect(() => checkInputs(sig, inputs)).toThrow(message);
  });
});
