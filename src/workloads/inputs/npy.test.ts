import { describe, expect, it } from 'vitest';
import { NpyError, parseNpy, writeNpy } from './npy.ts';

// Golden files written by numpy 2.4 (np.save), base64-encoded.
const NUMPY = {
  f32: 'k05VTVBZAQB2AHsnZGVzY3InOiAnPGY0JywgJ2ZvcnRyYW5fb3JkZXInOiBGYWxzZSwgJ3NoYXBlJzogKDIsIDMpLCB9ICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgIAoAAMA/AAAAwAAAQEAAAIBAAACgQAAAyEA=',
  i64: 'k05VTVBZAQB2AHsnZGVzY3InOiAnPGk4JywgJ2ZvcnRyYW5fb3JkZXInOiBGYWxzZSwgJ3NoYXBlJzogKDMsKSwgfSAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgIAoBAAAAAAAAAP7/////////AAAAAAABAAA=',
  u8: 'k05VTVBZAQB2AHsnZGVzY3InOiAnfHUxJywgJ2ZvcnRyYW5fb3JkZXInOiBGYWxzZSwgJ3NoYXBlJzogKDEsIDIpLCB9ICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgIAoA/w==',
  bool: 'k05VTVBZAQB2AHsnZGVzY3InOiAnfGIxJywgJ2ZvcnRyYW5fb3JkZXInOiBGYWxzZSwgJ3NoYXBlJzogKDMsKSwgfSAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgIAoBAAE=',
  i32scalar:
    'k05VTVBZAQB2AHsnZGVzY3InOiAnPGk0JywgJ2ZvcnRyYW5fb3JkZXInOiBGYWxzZSwgJ3NoYXBlJzogKCksIH0gICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgIAoHAAAA',
  fortran:
    'k05VTVBZAQB2AHsnZGVzY3InOiAnPGY0JywgJ2ZvcnRyYW5fb3JkZXInOiBUcnVlLCAnc2hhcGUnOiAoMiwgMyksIH0gICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgIAoAAAAAAABAQAAAgD8AAIBAAAAAQAAAoEA=',
  bigEndian:
    'k05VTVBZAQB2AHsnZGVzY3InOiAnPmY0JywgJ2ZvcnRyYW5fb3JkZXInOiBGYWxzZSwgJ3NoYXBlJzogKDIsKSwgfSAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgIAo/gAAAQAAAAA==',
  object:
    'k05VTVBZAQB2AHsnZGVzY3InOiAnfE8nLCAnZm9ydHJhbl9vcmRlcic6IEZhbHNlLCAnc2hhcGUnOiAoMSwpLCB9ICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgIAqABJWSAAAAAAAAAIwWbnVtcHkuX2NvcmUubXVsdGlhcnJheZSMDF9yZWNvbnN0cnVjdJSTlIwFbnVtcHmUjAduZGFycmF5lJOUSwCFlEMBYpSHlFKUKEsBSwGFlGgDjAVkdHlwZZSTlIwCTziUiYiHlFKUKEsDjAF8lE5OTkr/////Sv////9LP3SUYoldlH2UjAFhlEsBc2F0lGIu',
  f64: 'k05VTVBZAQB2AHsnZGVzY3InOiAnPGY4JywgJ2ZvcnRyYW5fb3JkZXInOiBGYWxzZSwgJ3NoYXBlJzogKDEsKSwgfSAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgIAoAAAAAAADwPw==',
  empty:
    'k05VTVBZAQB2AHsnZGVzY3InOiAnPGY0JywgJ2ZvcnRyYW5fb3JkZXInOiBGYWxzZSwgJ3NoYXBlJzogKDAsIDMpLCB9ICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgIAo=',
  structured:
    'k05VTVBZAQB2AHsnZGVzY3InOiBbKCdhJywgJzxpNCcpXSwgJ2ZvcnRyYW5fb3JkZXInOiBGYWxzZSwgJ3NoYXBlJzogKDEsKSwgfSAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgIAoAAAAA',
  v2: 'k05VTVBZAgB0AAAAeydkZXNjcic6ICc8aTQnLCAnZm9ydHJhbl9vcmRlcic6IEZhbHNlLCAnc2hhcGUnOiAoMiwpLCB9ICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgIAoBAAAAAgAAAA==',
  v3: 'k05VTVBZAwB0AAAAeydkZXNjcic6ICc8aTQnLCAnZm9ydHJhbl9vcmRlcic6IEZhbHNlLCAnc2hhcGUnOiAoMiwpLCB9ICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgIAoBAAAAAgAAAA==',
} as const;

const bytes = (b64: string): Uint8Array => Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
const base64 = (b: Uint8Array): string => btoa(String.fromCharCode(...b));

describe('parseNpy reads what numpy.save writes', () => {
  it('from a view into a bigger buffer (a Node Buffer read from a file is one), exactly its own data', () => {
    const file = parseNpy(bytes(NUMPY.f32));
    const written = writeNpy(file);
    const pool = new Uint8Array(written.byteLength + 64).fill(7);
    pool.set(written, 32);
    // Node's Buffer.from(arrayBuffer, offset, length) shares memory, as readFileSync's small files
    // do, and its `slice` shares it too (this file is also type-checked for the browser: no Node types).
    const { Buffer } = globalThis as unknown as { Buffer: { from(b: ArrayBuffer, offset: number, length: number): Uint8Array } };
    const view = Buffer.from(pool.buffer, 32, written.byteLength);
    const a = parseNpy(view);
    expect(a.data.byteLength).toBe(6 * 4);
    expect([...new Float32Array(a.data)]).toEqual([1.5, -2, 3, 4, 5, 6.25]);
  });
  it('float32, C order, 2-D', () => {
    const a = parseNpy(bytes(NUMPY.f32));
    expect(a.dtype).toBe('float32');
    expect(a.shape).toEqual([2, 3]);
    expect([...new Float32Array(a.data)]).toEqual([1.5, -2, 3, 4, 5, 6.25]);
  });
  it('int64, including values beyond 2^32', () => {
    const a = parseNpy(bytes(NUMPY.i64));
    expect(a.dtype).toBe('int64');
    expect([...new BigInt64Array(a.data)]).toEqual([1n, -2n, 2n ** 40n]);
  });
  it('uint8 and bool (byte-order mark "|")', () => {
    const u = parseNpy(bytes(NUMPY.u8));
    expect(u).toMatchObject({ dtype: 'uint8', shape: [1, 2] });
    expect([...new Uint8Array(u.data)]).toEqual([0, 255]);
    const b = parseNpy(bytes(NUMPY.bool));
    expect(b).toMatchObject({ dtype: 'bool', shape: [3] });
    expect([...new Uint8Array(b.data)]).toEqual([1, 0, 1]);
  });
  it('a 0-d array has shape [] and one element; an empty array has no bytes', () => {
    const s = parseNpy(bytes(NUMPY.i32scalar));
    expect(s.shape).toEqual([]);
    expect([...new Int32Array(s.data)]).toEqual([7]);
    const e = parseNpy(bytes(NUMPY.empty));
    expect(e.shape).toEqual([0, 3]);
    expect(e.data.byteLength).toBe(0);
  });
  it('format versions 2.0 and 3.0', () => {
    for (const f of [NUMPY.v2, NUMPY.v3]) {
      const a = parseNpy(bytes(f));
      expect(a.dtype).toBe('int32');
      expect([...new Int32Array(a.data)]).toEqual([1, 2]);
    }
  });
  it('accepts a view into a larger buffer', () => {
    const inner = bytes(NUMPY.f32);
    const outer = new Uint8Array(inner.length + 10);
    outer.set(inner, 5);
    expect(parseNpy(outer.subarray(5, 5 + inner.length)).shape).toEqual([2, 3]);
  });
});

describe('parseNpy refuses what a tensor cannot be, saying how to fix it', () => {
  const err = (f: Uint8Array): string => {
    try {
      parseNpy(f);
    } catch (e) {
      expect(e).toBeInstanceOf(NpyError);
      return (e as Error).message;
    }
    throw new Error('expected an NpyError');
  };
  it('Fortran order', () => expect(err(bytes(NUMPY.fortran))).toMatch(/Fortran.*C order.*ascontiguousarray/));
  it('big-endian', () => expect(err(bytes(NUMPY.bigEndian))).toMatch(/big-endian.*astype\('<f4'\)/));
  it('object arrays', () => expect(err(bytes(NUMPY.object))).toMatch(/Python objects/));
  it('float64, with the conversion to use', () => expect(err(bytes(NUMPY.f64))).toMatch(/'<f8' is not supported.*astype\(np\.float32\)/));
  it('not an npy file at all', () => expect(err(new TextEncoder().encode('{"hello": 1}'))).toMatch(/not a \.npy file/));
  it('truncated data and trailing bytes', () => {
    const f = bytes(NUMPY.f32);
    expect(err(f.subarray(0, f.length - 1))).toMatch(/truncated.*needs 24 bytes of data, it has 23/);
    const longer = new Uint8Array(f.length + 4);
    longer.set(f);
    expect(err(longer)).toMatch(/4 bytes after its data/);
  });
  it('truncated header', () => expect(err(bytes(NUMPY.f32).subarray(0, 40))).toMatch(/truncated inside its header/));
  it('unknown format version', () => {
    const f = bytes(NUMPY.f32);
    f[6] = 9;
    expect(err(f)).toMatch(/version 9\.0 is not supported/);
  });
  it('structured dtypes', () => expect(err(bytes(NUMPY.structured))).toMatch(/structured \(record\) array/));
  it('bool values other than 0/1', () => {
    const f = bytes(NUMPY.bool);
    f[f.length - 1] = 7;
    expect(err(f)).toMatch(/other than 0 and 1/);
  });
});

describe('writeNpy', () => {
  it('writes byte-for-byte what numpy.save writes', () => {
    const f32 = parseNpy(bytes(NUMPY.f32));
    expect(base64(writeNpy(f32))).toBe(NUMPY.f32);
    for (const k of ['i64', 'u8', 'bool', 'i32scalar', 'empty'] as const) {
      expect(base64(writeNpy(parseNpy(bytes(NUMPY[k]))))).toBe(NUMPY[k]);
    }
  });
  it('round-trips every dtype with data 64-byte aligned', () => {
    const cases = [
      { dtype: 'float32', data: Float32Array.from([0.1, -0, NaN, Infinity]).buffer },
      { dtype: 'int32', data: Int32Array.from([-1, 2 ** 31 - 1, 0, 5]).buffer },
      { dtype: 'int64', data: BigInt64Array.from([-(2n ** 63n), 1n, 0n, 2n ** 62n]).buffer },
      { dtype: 'uint8', data: Uint8Array.from([0, 1, 254, 255]).buffer },
      { dtype: 'int8', data: Int8Array.from([-128, 0, 1, 127]).buffer },
      { dtype: 'bool', data: Uint8Array.from([0, 1, 1, 0]).buffer },
    ] as const;
    for (const c of cases) {
      const file = writeNpy({ dtype: c.dtype, shape: [2, 2], data: c.data });
      const dataStart = file.length - c.data.byteLength;
      expect(dataStart % 64).toBe(0);
      expect(file[dataStart - 1]).toBe(0x0a); // header ends with '\n'
      const back = parseNpy(file);
      expect(back.dtype).toBe(c.dtype);
      expect(back.shape).toEqual([2, 2]);
      expect(new Uint8Array(back.data)).toEqual(new Uint8Array(c.data));
    }
  });
  it('writes format 1.0 for every shape a tensor can have (rank ≤ 8)', () => {
    const shape = [1, 2, 1, 2, 1, 2, 1, 2];
    const file = writeNpy({ dtype: 'uint8', shape, data: new ArrayBuffer(16) });
    expect(file[6]).toBe(1);
    expect(parseNpy(file).shape).toEqual(shape);
  });
  it('refuses data that does not match the shape', () => {
    expect(() => writeNpy({ dtype: 'float32', shape: [3], data: new ArrayBuffer(8) })).toThrow(/needs 12 bytes, got 8/);
  });
});
