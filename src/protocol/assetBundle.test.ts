import { describe, expect, it } from 'vitest';
import { ASSET_BUNDLE_LIMITS, buildAssetBundle, isAssetBundle, parseAssetBundle } from './assetBundle.ts';

const entry = (name: string, ...values: number[]) => ({ name, bytes: new Uint8Array(values) });

describe('[J-9] asset bundles', () => {
  it('round-trips entries in order, names and bytes intact', () => {
    const bundle = buildAssetBundle([entry('det.onnx', 1, 2, 3), entry('dict.txt', 0x61, 0x0a), entry('cls.onnx', 9)]);
    expect(isAssetBundle(bundle)).toBe(true);
    const parsed = parseAssetBundle(bundle);
    expect(parsed.map((e) => e.name)).toEqual(['det.onnx', 'dict.txt', 'cls.onnx']);
    expect(parsed.map((e) => [...e.bytes])).toEqual([[1, 2, 3], [0x61, 0x0a], [9]]);
  });

  it('keeps empty entries and reads a bundle at an offset inside a bigger buffer', () => {
    const bundle = buildAssetBundle([entry('a'), entry('b', 7)]);
    const padded = new Uint8Array(bundle.byteLength + 10);
    padded.set(bundle, 5);
    const parsed = parseAssetBundle(padded.subarray(5, 5 + bundle.byteLength));
    expect(parsed.map((e) => [...e.bytes])).toEqual([[], [7]]);
  });

  it('is not an ONNX file: a protobuf model does not start with the magic', () => {
    expect(isAssetBundle(new Uint8Array([0x08, 0x07, 0x12, 0x0c]))).toBe(false);
    expect(() => parseAssetBundle(new Uint8Array([0x08, 0x07]))).toThrow(/not an asset bundle/);
  });

  it('refuses truncated, padded and lying bundles with a reason', () => {
    const bundle = buildAssetBundle([entry('det.onnx', 1, 2, 3), entry('rec.onnx', 4, 5)]);
    expect(() => parseAssetBundle(bundle.subarray(0, bundle.byteLength - 1))).toThrow(/ends inside entry 2 \("rec.onnx"\)/);
    expect(() => parseAssetBundle(bundle.subarray(0, 10))).toThrow(/ends inside its entry count/);
    const extra = new Uint8Array(bundle.byteLength + 1);
    extra.set(bundle);
    expect(() => parseAssetBundle(extra)).toThrow(/1 bytes follow/);
    const lying = bundle.slice();
    new DataView(lying.buffer).setUint32(8, 1_000_000, true);
    expect(() => parseAssetBundle(lying)).toThrow(/1000000 entries/);
    const hugeEntry = bundle.slice();
    // First entry's size field: magic 8 + count 4 + nameLen 2 + "det.onnx" 8.
    new DataView(hugeEntry.buffer).setUint32(22, 0xffffffff, true);
    expect(() => parseAssetBundle(hugeEntry)).toThrow(/ends inside entry 1/);
    const badName = bundle.slice();
    badName[14] = 0xff;
    expect(() => parseAssetBundle(badName)).toThrow(/not printable ASCII/);
  });

  it('refuses to build what it would refuse to read', () => {
    expect(() => buildAssetBundle([])).toThrow(/1 to 16 entries/);
    expect(() => buildAssetBundle(Array.from({ length: ASSET_BUNDLE_LIMITS.maxEntries + 1 }, (_, i) => entry(`m${i}`)))).toThrow(/entries/);
    expect(() => buildAssetBundle([entry('')])).toThrow(/name/);
    expect(() => buildAssetBundle([entry('é.onnx')])).toThrow(/printable ASCII/);
  });
});
