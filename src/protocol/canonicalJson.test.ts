import { describe, expect, it } from 'vitest';
import { canonicalJson, fromHex, toHex, utf8 } from './canonicalJson.ts';
import { runtimeUtf8 } from './testing/sha256.ts';

describe('canonicalJson', () => {
  it('[AU-1] one text whatever the key order or spacing: keys sorted, undefined members left out, -0 as 0', () => {
    const a = canonicalJson({ b: [1, { z: 'x', a: null }], a: 0.1, c: undefined, d: -0 });
    const b = canonicalJson(JSON.parse('{ "d": 0, "a": 0.1, "b": [1, { "a": null, "z": "x" }] }'));
    expect(a).toBe('{"a":0.1,"b":[1,{"a":null,"z":"x"}],"d":0}');
    expect(b).toBe(a);
  });

  it('[AU-1] NaN, Infinity, functions and cycles have no canonical text: an error, never "null"', () => {
    expect(() => canonicalJson({ x: NaN })).toThrow(/NaN has no canonical JSON text/);
    expect(() => canonicalJson([Infinity])).toThrow(/Infinity/);
    expect(() => canonicalJson({ f: () => 1 })).toThrow(/not data/);
    const cycle: Record<string, unknown> = {};
    cycle['self'] = cycle;
    expect(() => canonicalJson(cycle)).toThrow(/contains itself/);
  });

  it('utf8 writes what TextEncoder writes, surrogate pairs and lone surrogates included; hex round-trips', () => {
    for (const s of ['', 'abc', 'é', '€', '𝄞 music', 'lone \ud800 surrogate', 'x\udc00']) {
      expect(Array.from(utf8(s))).toEqual(Array.from(runtimeUtf8(s)));
    }
    expect(toHex(fromHex('00ff10Ab'))).toBe('00ff10ab');
    expect(() => fromHex('abc')).toThrow(/not hex/);
  });
});
