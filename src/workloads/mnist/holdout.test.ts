import { describe, expect, it } from 'vitest';
import { MNIST_HOLDOUT_HEADER_BYTES, MnistDataError, accuracy, argmaxRows, decodeMnistHoldout, encodeMnistHoldout } from './holdout.ts';

/** A copy as a standalone ArrayBuffer (what fetch().arrayBuffer() hands the decoder). */
function toBuffer(bytes: Uint8Array): ArrayBuffer {
  return bytes.slice().buffer;
}

function sample(): { width: number; height: number; images: number[][]; labels: number[] } {
  return {
    width: 3,
    height: 2,
    images: [
      [0, 0.001, 0.5, 0.999, 1, 0.188],
      [0.933, 0.012, 0, 0, 0.7, 0.3],
    ],
    labels: [7, 0],
  };
}

describe('encodeMnistHoldout / decodeMnistHoldout', () => {
  it('round-trips header, pixels and labels', () => {
    const src = sample();
    const bytes = encodeMnistHoldout(src);
    expect(bytes.length).toBe(MNIST_HOLDOUT_HEADER_BYTES + 2 * 6 * 2 + 2);
    expect(String.fromCharCode(...bytes.subarray(0, 4))).toBe('QMN1');
    const d = decodeMnistHoldout(toBuffer(bytes));
    expect(d.count).toBe(2);
    expect(d.width).toBe(3);
    expect(d.height).toBe(2);
    expect(Array.from(d.labels)).toEqual([7, 0]);
    expect(Array.from(d.images)).toEqual(src.images.flat().map((v) => Math.fround(v)));
  });

  it('is lossless for every 3-decimal value: v/1000 equals Math.fround of the parsed JSON text', () => {
    const values: number[] = [];
    for (let q = 0; q <= 1000; q++) {
      // The source JSON writes values like 0.188, 0.5, 1 or 0: parse the shortest decimal text.
      const text = q === 1000 ? '1' : q === 0 ? '0' : `0.${String(q).padStart(3, '0').replace(/0+$/, '')}`;
      values.push(JSON.parse(text) as number);
    }
    const bytes = encodeMnistHoldout({ width: 1001, height: 1, images: [values], labels: [3] });
    const d = decodeMnistHoldout(toBuffer(bytes));
    for (let q = 0; q <= 1000; q++) {
      expect(d.images[q]).toBe(Math.fround(values[q] as number));
    }
  });

  it('decodes an empty set', () => {
    const d = decodeMnistHoldout(toBuffer(encodeMnistHoldout({ width: 28, height: 28, images: [], labels: [] })));
    expect(d.count).toBe(0);
    expect(d.images.length).toBe(0);
    expect(d.labels.length).toBe(0);
  });

  it('encoder refuses values it cannot store exactly, bad labels and mismatched lengths', () => {
    const bad =
      (patch: Partial<ReturnType<typeof sample>>): (() => Uint8Array) =>
      () =>
        encodeMnistHoldout({ ...sample(), ...patch });
    expect(
      bad({
        images: [
          [0, 0, 0, 0, 0, 0.0005],
          [0, 0, 0, 0, 0, 0],
        ],
      }),
    ).toThrow(MnistDataError);
    expect(
      bad({
        images: [
          [0, 0, 0, 0, 0, 1.001],
          [0, 0, 0, 0, 0, 0],
        ],
      }),
    ).toThrow(MnistDataError);
    expect(
      bad({
        images: [
          [0, 0, 0, 0, 0, -0.001],
          [0, 0, 0, 0, 0, 0],
        ],
      }),
    ).toThrow(MnistDataError);
    expect(
      bad({
        images: [
          [0, 0, 0, 0, 0, NaN],
          [0, 0, 0, 0, 0, 0],
        ],
      }),
    ).toThrow(MnistDataError);
    expect(
      bad({
        images: [
          [0, 0, 0],
          [0, 0, 0, 0, 0, 0],
        ],
      }),
    ).toThrow(MnistDataError);
    expect(bad({ labels: [10, 0] })).toThrow(MnistDataError);
    expect(bad({ labels: [1.5, 0] })).toThrow(MnistDataError);
    expect(bad({ labels: [1] })).toThrow(MnistDataError);
    expect(bad({ width: 0 })).toThrow(MnistDataError);
  });

  describe('decoder rejects malformed data with MnistDataError', () => {
    const good = encodeMnistHoldout(sample());
    const mutated = (f: (b: Uint8Array) => Uint8Array): ArrayBuffer => toBuffer(f(good.slice()));

    it.each([
      ['empty', () => new ArrayBuffer(0)],
      ['shorter than the header', () => toBuffer(good.subarray(0, 10))],
      ['bad magic', () => mutated((b) => ((b[3] = 0x32), b))],
      ['truncated body', () => toBuffer(good.subarray(0, good.length - 1))],
      ['trailing bytes', () => toBuffer(new Uint8Array([...good, 0]))],
      ['count too large', () => mutated((b) => (new DataView(b.buffer).setUint32(4, 3, true), b))],
      ['zero width', () => mutated((b) => (new DataView(b.buffer).setUint32(8, 0, true), b))],
      ['pixel above 1000', () => mutated((b) => (new DataView(b.buffer).setUint16(16, 1001, true), b))],
      ['label above 9', () => mutated((b) => ((b[b.length - 1] = 10), b))],
    ] as const)('%s', (_name, make) => {
      const buf = make();
      expect(() => decodeMnistHoldout(buf)).toThrow(MnistDataError);
    });

    it('the error is an Error with a readable name and message', () => {
      try {
        decodeMnistHoldout(new ArrayBuffer(3));
        expect.unreachable();
      } catch (e) {
        expect(e).toBeInstanceOf(Error);
        expect((e as Error).name).toBe('MnistDataError');
        expect((e as Error).message).toMatch(/header/);
      }
    });
  });
});

describe('argmaxRows', () => {
  it('picks each row’s largest logit, lowest index on ties', () => {
    const logits = new Float32Array([0.1, 0.9, 0.3, /* */ 5, 5, -1, /* */ -3, -2, -1, /* */ NaN, 0, 1]);
    expect(Array.from(argmaxRows(logits, 3))).toEqual([1, 0, 2, 2]);
  });

  it('a row of NaN only has no arg-max (-1), so it is never scored as class 0; -Infinity is still a value', () => {
    const logits = new Float32Array([NaN, NaN, NaN, /* */ -Infinity, -Infinity, -Infinity, /* */ NaN, -Infinity, NaN]);
    expect(Array.from(argmaxRows(logits, 3))).toEqual([-1, 0, 1]);
  });

  it('handles zero rows and rejects ragged input', () => {
    expect(argmaxRows(new Float32Array(0), 10).length).toBe(0);
    expect(() => argmaxRows(new Float32Array(7), 3)).toThrow(RangeError);
    expect(() => argmaxRows(new Float32Array(6), 0)).toThrow(RangeError);
  });
});

describe('accuracy', () => {
  it('is the fraction of matches', () => {
    expect(accuracy(new Int32Array([1, 2, 3, 4]), new Uint8Array([1, 2, 0, 4]))).toBe(0.75);
    expect(accuracy([], [])).toBe(0);
    expect(() => accuracy([1], [1, 2])).toThrow(RangeError);
    // -1 (no prediction: unverified, or a row of NaN) never matches a label.
    expect(accuracy([-1, 0], [0, 0])).toBe(0.5);
  });
});
