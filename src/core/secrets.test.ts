import { describe, expect, it } from 'vitest';
import { secretsEqual } from './secrets.ts';

describe('secretsEqual', () => {
  it('is true only for the same secret: other lengths, prefixes and one changed character are false', () => {
    const key = '0123456789abcdef0123456789abcdef';
    expect(secretsEqual(key, key)).toBe(true);
    expect(secretsEqual('', '')).toBe(true);
    expect(secretsEqual(key.slice(0, 31), key)).toBe(false);
    expect(secretsEqual(`${key}0`, key)).toBe(false);
    expect(secretsEqual('', key)).toBe(false);
    expect(secretsEqual(`1${key.slice(1)}`, key)).toBe(false);
    expect(secretsEqual(`${key.slice(0, 31)}0`, key)).toBe(false);
    // A NUL where the other has nothing still differs (the length does).
    expect(secretsEqual('ab\u0000', 'ab')).toBe(false);
  });
});
