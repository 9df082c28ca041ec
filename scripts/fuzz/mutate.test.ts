/**
 * The fuzzer's own mutations must not break the fuzzer: two seeds once crashed inside it, not in
 * the code under test (seed 125: a "__proto__" key assigned plainly swapped a value's prototype
 * for an ArrayBuffer; seed 21: an array given its own "constructor" broke Array.prototype.map).
 */
import { describe, expect, it } from 'vitest';
import { seededRng } from '../../src/core/rng.ts';
import { deepCopy, mutateValue, randomValue } from './mutate.ts';

/** Every object in `v` has a plain prototype (Object, Array, ArrayBuffer, or none). */
function plainAllTheWay(v: unknown, depth = 0): boolean {
  if (depth > 60 || typeof v !== 'object' || v === null) return true;
  const proto: unknown = Object.getPrototypeOf(v);
  if (v instanceof ArrayBuffer) return proto === ArrayBuffer.prototype;
  if (proto !== Object.prototype && proto !== Array.prototype && proto !== null) return false;
  return Object.values(v).every((x) => plainAllTheWay(x, depth + 1));
}

describe('fuzzer mutations', () => {
  it('seed 125: a "__proto__" key stays an own property; no value ever gets a foreign prototype', () => {
    const rng = seededRng(125);
    for (let i = 0; i < 3_000; i++) {
      const v = mutateValue(rng, { v: 1, t: 'ping', nested: { a: [1, 2, { b: new ArrayBuffer(4) }] } }, 4);
      expect(plainAllTheWay(v)).toBe(true);
      expect(plainAllTheWay(randomValue(rng))).toBe(true);
    }
    const own = deepCopy(Object.defineProperty({}, '__proto__', { value: new ArrayBuffer(2), enumerable: true })) as object;
    expect(Object.getPrototypeOf(own)).toBe(Object.prototype);
    expect(Object.keys(own)).toEqual(['__proto__']);
  });

  it('seed 21: an array with its own "constructor" is copied and mutated again without a throw', () => {
    const odd = Object.defineProperty([1, 2, 3], 'constructor', { value: 'x', enumerable: true });
    expect(deepCopy(odd)).toEqual([1, 2, 3]);
    const rng = seededRng(21);
    for (let i = 0; i < 500; i++) expect(() => mutateValue(rng, { list: odd, t: 'result' })).not.toThrow();
  });
});
