import { describe, expect, it } from 'vitest';
import { detExp } from './detMath.ts';
import { mulberry32, shuffledIndices, uniformRng } from './prng.ts';

describe('mulberry32', () => {
  it('produces a fixed stream for a seed (pinned: a change here changes every trained weight)', () => {
    const next = mulberry32(1);
    expect([next(), next(), next()]).toEqual([2693262067, 11749833, 2265367787]);
  });

  it('uniform values lie in [0, 1)', () => {
    const rng = uniformRng(42);
    for (let i = 0; i < 10_000; i++) {
      const v = rng();
      expect(v >= 0 && v < 1).toBe(true);
    }
  });

  it('shuffledIndices is a permutation', () => {
    const p = shuffledIndices(1000, uniformRng(7));
    expect(Array.from(p).sort((a, b) => a - b)).toEqual(Array.from({ length: 1000 }, (_, i) => i));
  });
});

describe('detExp', () => {
  it('matches Math.exp to ~1e-15 relative over the range softmax uses', () => {
    for (let x = -745; x <= 5; x += 0.0137) {
      const want = Math.exp(x);
      const got = detExp(x);
      if (want < 1e-300) continue; // subnormal/underflow region: detExp returns 0 below -708
      expect(Math.abs(got - want) / want).toBeLessThan(4e-15);
    }
    expect(detExp(0)).toBe(1);
    expect(detExp(-1000)).toBe(0);
    expect(detExp(1000)).toBe(Infinity);
    expect(detExp(NaN)).toBeNaN();
  });
});
