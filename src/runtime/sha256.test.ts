import { describe, expect, it } from 'vitest';
import { isModelHash } from '../protocol/ids.ts';
import { sha256Hex } from './sha256.ts';

const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);

describe('sha256Hex', () => {
  // FIPS 180-2 / NIST CSRC example vectors.
  it.each([
    ['', 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855'],
    ['abc', 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad'],
    ['abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq', '248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1'],
  ])('hashes %j', async (text, hex) => {
    const hash = await sha256Hex(utf8(text));
    expect(hash).toBe(hex);
    expect(isModelHash(hash)).toBe(true);
  });

  it('hashes one million "a"s', async () => {
    const hash = await sha256Hex(new Uint8Array(1_000_000).fill(0x61));
    expect(hash).toBe('cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0');
  });

  it('accepts an ArrayBuffer and a Uint8Array window alike', async () => {
    const big = utf8('xxabcxx');
    const window = big.subarray(2, 5); // "abc" inside a bigger buffer: only the window is hashed
    const buffer = utf8('abc').buffer as ArrayBuffer;
    expect(await sha256Hex(window)).toBe(await sha256Hex(buffer));
    expect(await sha256Hex(buffer)).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  });
});
