import { describe, expect, it } from 'vitest';
import { ATTACH_MIN_BYTES, ATTACHMENT_EXT, decodeFrame, encodeFrame, FrameCodecError, MAX_FRAME_DEPTH } from './frameCodec.ts';

const bytesOf = (b: ArrayBuffer): number[] => [...new Uint8Array(b)];

describe('frameCodec', () => {
  it('round-trips plain values exactly', () => {
    const frame = { v: 1, t: 'x', n: -3, f: 0.1, big: 2 ** 53 - 1, s: 'héllo ✓', b: true, nil: null, list: [1, 'a', [2, { c: false }]] };
    expect(decodeFrame(encodeFrame(frame))).toEqual(frame);
  });

  it('carries ArrayBuffers inside nested objects and arrays as owned ArrayBuffers', () => {
    const data = Float32Array.from([1.5, -2, 3e-8]).buffer;
    const model = new Uint8Array([0, 1, 2, 255]).buffer;
    const frame = { t: 'lease', inputs: [{ name: 'x', dims: [1, 3], data }], spec: { model, nested: [[model]] } };
    const out = decodeFrame(encodeFrame(frame)) as typeof frame;
    const got = out.inputs[0]!.data;
    expect(got).toBeInstanceOf(ArrayBuffer);
    expect([...new Float32Array(got)]).toEqual([...new Float32Array(data)]);
    expect(bytesOf(out.spec.model)).toEqual([0, 1, 2, 255]);
    expect(out.spec.nested[0]![0]).toBeInstanceOf(ArrayBuffer);
    // Owned and aligned: a fresh buffer of exactly the payload, so any typed view over it is valid.
    expect(got.byteLength).toBe(12);
  });

  it('sends exactly the bytes of a view at an offset, not its whole buffer', () => {
    const buf = new ArrayBuffer(32);
    new Uint8Array(buf).forEach((_, i, a) => (a[i] = i));
    const view = new Float32Array(buf, 8, 2); // bytes 8..15
    const u8 = new Uint8Array(buf, 3, 2);
    const dv = new DataView(buf, 30, 2);
    const out = decodeFrame(encodeFrame({ view, u8, dv })) as Record<string, ArrayBuffer>;
    expect(bytesOf(out['view']!)).toEqual([8, 9, 10, 11, 12, 13, 14, 15]);
    expect(bytesOf(out['u8']!)).toEqual([3, 4]);
    expect(bytesOf(out['dv']!)).toEqual([30, 31]);
  });

  it('carries binary as binary, not as number arrays', () => {
    const data = new ArrayBuffer(100_000);
    const encoded = encodeFrame({ data, small: new Float32Array(100) });
    expect(encoded.reduce((n, p) => n + p.byteLength, 0)).toBeLessThan(100_000 + 400 + 32);
  });

  it('sends big binaries as parts of their own without copying them, and receives them as those very buffers', () => {
    const big = new Float32Array(ATTACH_MIN_BYTES / 4 + 10).map((_, i) => i);
    const model = new Uint8Array(ATTACH_MIN_BYTES * 3).fill(7);
    const small = new Uint8Array(ATTACH_MIN_BYTES - 1).fill(1);
    const parts = encodeFrame({ t: 'lease', inputs: [{ data: big.buffer }], spec: { model: model.subarray(5) }, small });
    expect(parts).toHaveLength(3);
    // The skeleton holds the small binary inline and two 4-byte references; the parts are views.
    expect(parts[0]!.byteLength).toBeLessThan(ATTACH_MIN_BYTES + 100);
    expect(parts[1]!.buffer).toBe(big.buffer);
    expect(parts[2]!.buffer).toBe(model.buffer);
    expect(parts[2]!.byteLength).toBe(model.byteLength - 5);
    // What a receiver reassembles: each part in a buffer of its own.
    const received = parts.map((p) => p.slice());
    const out = decodeFrame(received) as { inputs: { data: ArrayBuffer }[]; spec: { model: ArrayBuffer }; small: ArrayBuffer };
    expect(out.inputs[0]!.data).toBe(received[1]!.buffer);
    expect(out.spec.model).toBe(received[2]!.buffer);
    expect([...new Float32Array(out.inputs[0]!.data)]).toEqual([...big]);
    expect(new Uint8Array(out.small)).toEqual(small);
  });

  it('refuses references that do not match the parts one to one', () => {
    const ref = (part: number): number[] => [0xd6, ATTACHMENT_EXT, part, 0, 0, 0]; // fixext 4
    const part = new Uint8Array(10);
    const skeleton = (...refs: number[][]): Uint8Array => new Uint8Array([0x90 + refs.length, ...refs.flat()]);
    expect(() => decodeFrame([skeleton(ref(1))])).toThrow(/part 1, which the message does not have/);
    expect(() => decodeFrame([skeleton(ref(0)), part])).toThrow(/part 0, which the message does not have/);
    expect(() => decodeFrame([skeleton(ref(1), ref(1)), part])).toThrow(/referenced twice/);
    expect(() => decodeFrame([skeleton(ref(1)), part, part])).toThrow(/part 2 of the message is never referenced/);
    expect(() => decodeFrame([new Uint8Array([0xd5, ATTACHMENT_EXT, 1, 0]), part])).toThrow(/4 bytes, not 2/);
    expect(() => decodeFrame([])).toThrow(FrameCodecError);
    expect((decodeFrame([skeleton(ref(1)), part]) as ArrayBuffer[])[0]!.byteLength).toBe(10);
  });

  it('round-trips a big frame (its own presized encoder) and then small ones (the shared one)', () => {
    const big = new Uint8Array(3_000_000);
    for (let i = 0; i < big.length; i += 997) big[i] = i & 0xff;
    const encoded = encodeFrame({ t: 'model', bytes: big.subarray(1000), meta: { n: [1, 2, 3] } });
    const out = decodeFrame(encoded) as { bytes: ArrayBuffer; meta: unknown };
    // Compared in a loop: vitest's element-by-element toEqual of 3 MB takes seconds.
    const got = new Uint8Array(out.bytes);
    const want = big.subarray(1000);
    expect(got.byteLength).toBe(want.byteLength);
    expect(got.findIndex((b, i) => b !== want[i])).toBe(-1);
    expect(out.meta).toEqual({ n: [1, 2, 3] });
    expect(decodeFrame(encodeFrame({ t: 'ping' }))).toEqual({ t: 'ping' });
  });

  it('leaves out undefined properties', () => {
    expect(decodeFrame(encodeFrame({ a: 1, b: undefined }))).toEqual({ a: 1 });
  });

  it('refuses what the wire cannot carry', () => {
    expect(() => encodeFrame({ m: new Map([[1, 2]]) })).toThrow(FrameCodecError);
    expect(() => encodeFrame({ d: new Date(0) })).toThrow(FrameCodecError);
    expect(() => encodeFrame({ f: () => 1 })).toThrow(FrameCodecError);
    let deep: unknown = 1;
    for (let i = 0; i < MAX_FRAME_DEPTH + 2; i++) deep = [deep];
    expect(() => encodeFrame(deep)).toThrow(FrameCodecError);
  });

  it('enforces the frame size limit when encoding', () => {
    expect(() => encodeFrame({ data: new ArrayBuffer(2000) }, 1000)).toThrow(/exceeds the limit of 1000/);
  });

  it('turns malformed bytes into a FrameCodecError with a reason', () => {
    const cases: Uint8Array[] = [
      new Uint8Array([]), // nothing
      new Uint8Array([0xc1]), // never-used byte
      new Uint8Array([0x92, 0x01]), // array of 2 with 1 element
      new Uint8Array([0x91, 0x01, 0x02]), // trailing byte
      new Uint8Array([0xdd, 0xff, 0xff, 0xff, 0xff]), // array claiming 4 billion elements
      new Uint8Array([0xc6, 0x7f, 0xff, 0xff, 0xff]), // bin claiming 2 GiB
      new Uint8Array([0xd4, 0x01, 0x00]), // an attachment reference of 1 byte
      new Uint8Array([0xd6, 0x05, 0, 0, 0, 0]), // an unknown extension type
      new Uint8Array([0xd6, 0xff, 0, 0, 0, 0]), // msgpack's timestamp extension
      new Uint8Array([0xc6, 0x00, 0x00, 0x01, 0x00, ...new Array<number>(0x10000).fill(0)]), // a bin big enough to be a part, inline
      new Uint8Array([0x81, 0xa9, ...new TextEncoder().encode('__proto__'), 0x80]), // {__proto__: {}}
    ];
    for (const bytes of cases) {
      expect(() => decodeFrame([bytes]), `bytes ${[...bytes.subarray(0, 8)].join(',')}`).toThrow(FrameCodecError);
    }
  });

  it('refuses frames nested too deeply to walk', () => {
    // 100 nested one-element arrays around a bin: valid MessagePack, but deeper than any frame.
    const bytes = new Uint8Array([...new Array<number>(100).fill(0x91), 0xc4, 0x01, 0x07]);
    expect(() => decodeFrame([bytes])).toThrow(/nested deeper/);
  });
});
