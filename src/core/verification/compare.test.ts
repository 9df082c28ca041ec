import { describe, it, expect } from 'vitest';
import { DEFAULT_COMPARATOR, type Comparator } from '../../protocol/policy.ts';
import { f32, i32 } from '../testing/fixtures.ts';
import { allclose, argmaxAgree, compareOutputs, compareTensor, cosineAgree } from './compare.ts';

const ALLCLOSE = (atol: number, rtol: number): Comparator => ({ kind: 'allclose', atol, rtol });
const ARGMAX: Comparator = { kind: 'argmax' };
const EXACT: Comparator = { kind: 'exact' };
const ALL: readonly Comparator[] = [ALLCLOSE(1e-4, 1e-3), ALLCLOSE(1e6, 1e6), ARGMAX, EXACT];

/** The next float32 above x. */
function nextUp(x: number): number {
  const f = new Float32Array([x]);
  const u = new Uint32Array(f.buffer);
  u[0] = (u[0] as number) + (x >= 0 ? 1 : -1);
  return f[0] as number;
}

const vec = (...xs: number[]): Float32Array => Float32Array.from(xs);

describe('allclose [V-3]', () => {
  it('[V-3] agrees exactly at atol and disagrees one float32 step beyond it', () => {
    expect(allclose(vec(1), vec(1.5), 0.5, 0).agree).toBe(true);
    expect(allclose(vec(1), vec(nextUp(1.5)), 0.5, 0).agree).toBe(false);
    expect(allclose(vec(0), vec(0), 0, 0).agree).toBe(true);
    expect(allclose(vec(0), vec(nextUp(0)), 0, 0).agree).toBe(false);
  });

  it('[V-3] the relative part scales with the larger magnitude, so the test is symmetric', () => {
    // |2 - 1| = 1 ≤ 0 + 0.5·max(2, 1)
    expect(allclose(vec(2), vec(1), 0, 0.5).agree).toBe(true);
    expect(allclose(vec(1), vec(2), 0, 0.5).agree).toBe(true);
    expect(allclose(vec(nextUp(2)), vec(1), 0, 0.499).agree).toBe(false);
    expect(allclose(vec(1), vec(nextUp(2)), 0, 0.499).agree).toBe(false);
    expect(allclose(vec(-2), vec(-1), 0, 0.5).agree).toBe(true);
  });

  it('[V-3] atol and rtol add up', () => {
    // |10 - 11.5| = 1.5 ≤ 0.4 + 0.1·11.5 = 1.55, but > 0.4 alone and > 1.15 alone
    expect(allclose(vec(10), vec(11.5), 0.4, 0.1).agree).toBe(true);
    expect(allclose(vec(10), vec(11.5), 0.4, 0).agree).toBe(false);
    expect(allclose(vec(10), vec(11.5), 0, 0.1).agree).toBe(false);
  });

  it('[V-3] backend noise of ~1e-7 agrees under the default tolerance; a wrong digit does not', () => {
    const x = vec(0.123456, -3.5, 12.25);
    const y = vec(0.1234561, -3.5000002, 12.250001);
    expect(allclose(x, y, 1e-4, 1e-3).agree).toBe(true);
    expect(allclose(x, vec(0.123456, -3.5, 13.25), 1e-4, 1e-3).agree).toBe(false);
  });

  it('[V-3] NaN and ±Inf never agree, not even with themselves or under a huge tolerance', () => {
    for (const bad of [NaN, Infinity, -Infinity]) {
      const r = allclose(vec(1, bad), vec(1, bad), 1e6, 1e6);
      expect(r.agree).toBe(false);
      expect(r.reason).toMatch(/non-finite value at 1/);
      expect(allclose(vec(bad), vec(0), 1e6, 1e6).agree).toBe(false);
      expect(allclose(vec(0), vec(bad), 1e6, 1e6).agree).toBe(false);
    }
  });

  it('[V-3] the reason names the first differing element', () => {
    const r = allclose(vec(1, 2, 3), vec(1, 2, 4), 0.1, 0);
    expect(r.reason).toMatch(/at 2$/);
  });
});

describe('argmax [V-4]', () => {
  it('[V-4] rows agree when the largest class matches, whatever the values', () => {
    const a = vec(0.1, 0.7, 0.2, 5, 1, 2);
    const b = vec(-9, 100, 3, 0.5, 0.1, 0.2);
    expect(argmaxAgree(a, b, [2, 3]).agree).toBe(true);
  });

  it('[V-4] one row with another class disagrees, naming the row and the classes', () => {
    const a = vec(0.1, 0.7, 0.2, 5, 1, 2);
    const b = vec(0.1, 0.7, 0.2, 1, 5, 2);
    const r = argmaxAgree(a, b, [2, 3]);
    expect(r.agree).toBe(false);
    expect(r.reason).toBe('row 1: class 0 vs 1');
  });

  it('[V-4] ties go to the lowest class index', () => {
    expect(argmaxAgree(vec(1, 1, 0), vec(1, 0.5, 0), [1, 3]).agree).toBe(true);
    expect(argmaxAgree(vec(1, 1, 0), vec(0.5, 1, 0), [1, 3]).agree).toBe(false);
  });

  it('[V-4] NaN and Inf never agree, even in the same place', () => {
    expect(argmaxAgree(vec(NaN, 1), vec(NaN, 1), [1, 2]).agree).toBe(false);
    expect(argmaxAgree(vec(Infinity, 1), vec(Infinity, 1), [1, 2]).agree).toBe(false);
    expect(argmaxAgree(vec(0, 1, 2, -Infinity), vec(0, 1, 2, 3), [2, 2]).agree).toBe(false);
  });

  it('[V-4] zero classes and scalars agree trivially', () => {
    expect(argmaxAgree(vec(), vec(), [4, 0]).agree).toBe(true);
    expect(argmaxAgree(vec(3), vec(-3), []).agree).toBe(true);
  });

  it('[V-4] through compareTensor, only the arg-max matters for float32', () => {
    expect(compareTensor(f32('y', [1, 3], [0, 9, 1]), f32('y', [1, 3], [0, 2, 1]), ARGMAX).agree).toBe(true);
    expect(compareTensor(f32('y', [1, 3], [0, 9, 1]), f32('y', [1, 3], [0, 2, 3]), ARGMAX).agree).toBe(false);
  });
});

describe('compareTensor [V-2] [V-5]', () => {
  it('[V-2] dtype mismatch disagrees under every comparator', () => {
    for (const c of ALL) {
      const r = compareTensor(f32('y', [2], [1, 2]), i32('y', [2], [1, 2]), c);
      expect(r.agree).toBe(false);
      expect(r.reason).toMatch(/dtype/);
    }
  });

  it('[V-2] dims must match exactly, even with the same element count and bytes', () => {
    for (const c of ALL) {
      expect(compareTensor(f32('y', [2, 3], [1, 2, 3, 4, 5, 6]), f32('y', [3, 2], [1, 2, 3, 4, 5, 6]), c).agree).toBe(false);
      expect(compareTensor(f32('y', [6], [1, 2, 3, 4, 5, 6]), f32('y', [1, 6], [1, 2, 3, 4, 5, 6]), c).agree).toBe(false);
    }
  });

  it('[V-2] a byte length that does not match the dims disagrees instead of reading past the data', () => {
    const short = { name: 'y', dtype: 'float32', dims: [3], data: new ArrayBuffer(8) } as const;
    const ok = f32('y', [3], [0, 0, 0]);
    for (const c of ALL) {
      expect(compareTensor(short, short, c).agree).toBe(false);
      expect(compareTensor(ok, short, c).agree).toBe(false);
    }
  });

  it('[V-2] non-float dtypes compare bit for bit whatever the comparator', () => {
    for (const c of ALL) {
      expect(compareTensor(i32('y', [3], [1, 2, 3]), i32('y', [3], [1, 2, 3]), c).agree).toBe(true);
      expect(compareTensor(i32('y', [3], [1, 2, 3]), i32('y', [3], [1, 2, 4]), c).agree).toBe(false);
    }
  });

  it('[V-5] exact agrees only on identical bits', () => {
    expect(compareTensor(f32('y', [2], [1, 2]), f32('y', [2], [1, 2]), EXACT).agree).toBe(true);
    expect(compareTensor(f32('y', [2], [1, 2]), f32('y', [2], [1, nextUp(2)]), EXACT).agree).toBe(false);
    // +0 and -0 are equal numbers but different bits
    expect(compareTensor(f32('y', [1], [0]), f32('y', [1], [-0]), EXACT).agree).toBe(false);
  });

  it('[V-5] exact never agrees on NaN or Inf, even with identical bits', () => {
    for (const bad of [NaN, Infinity, -Infinity]) {
      const r = compareTensor(f32('y', [2], [1, bad]), f32('y', [2], [1, bad]), EXACT);
      expect(r.agree).toBe(false);
      expect(r.reason).toMatch(/non-finite/);
    }
  });
});

describe('compareOutputs [V-1]', () => {
  const y = (v: number) => f32('y', [1], [v]);
  const z = (v: number) => f32('z', [1], [v]);
  const tol = ALLCLOSE(1e-4, 1e-3);

  it('[V-1] outputs are matched by name, not by position', () => {
    expect(compareOutputs([y(1), z(2)], [z(2), y(1)], tol).agree).toBe(true);
    expect(compareOutputs([y(1), z(2)], [z(1), y(2)], tol).agree).toBe(false);
  });

  it('[V-1] a different number of outputs, or a missing name, disagrees', () => {
    expect(compareOutputs([y(1)], [y(1), z(2)], tol).reason).toBe('1 vs 2 outputs');
    expect(compareOutputs([y(1)], [z(1)], tol).reason).toBe('output "y" missing');
    expect(compareOutputs([], [], tol).agree).toBe(true);
  });

  it('[V-1] repeated output names disagree, so no output can go unchecked', () => {
    // Matching by name alone would compare "y" twice and never look at "z".
    expect(compareOutputs([y(1), y(1)], [y(1), z(2)], tol).agree).toBe(false);
    expect(compareOutputs([y(1), z(2)], [y(1), y(1)], tol).agree).toBe(false);
    expect(compareOutputs([y(1), z(2), z(2)], [y(1), z(2), z(9)], tol).agree).toBe(false);
  });

  it('[V-1] the reason names the output that disagrees', () => {
    expect(compareOutputs([y(1), z(2)], [y(1), z(3)], tol).reason).toMatch(/^output "z": /);
  });
});

describe('cosine [V-6] and per-output comparators [V-7]', () => {
  const COS = (threshold: number): Comparator => ({ kind: 'cosine', threshold });

  it('[V-6] rows agree when they point the same way, whatever their length', () => {
    expect(cosineAgree(vec(1, 2, 3, 0, 0, 1), vec(2, 4, 6, 0, 0, 5), [2, 3], 0.999).agree).toBe(true);
    const r = cosineAgree(vec(1, 0, 0, 1), vec(1, 0, 1, 1), [2, 2], 0.99);
    expect(r.agree).toBe(false);
    expect(r.reason).toMatch(/row 1: cosine 0\.7071/);
    expect(cosineAgree(vec(1, 0), vec(-1, 0), [1, 2], -1).agree).toBe(true);
  });

  it('[V-6] zero rows agree only with zero rows; non-finite values never agree', () => {
    expect(cosineAgree(vec(0, 0), vec(0, 0), [1, 2], 0.5).agree).toBe(true);
    expect(cosineAgree(vec(0, 0), vec(0, 1), [1, 2], -1).agree).toBe(false);
    expect(cosineAgree(vec(NaN, 1), vec(NaN, 1), [1, 2], -1).agree).toBe(false);
    expect(cosineAgree(vec(Infinity, 1), vec(Infinity, 1), [1, 2], -1).agree).toBe(false);
  });

  it('[V-6] [V-2] through compareTensor: shapes first, integers bit for bit', () => {
    expect(compareTensor(f32('e', [1, 2], [3, 4]), f32('e', [1, 2], [6, 8]), COS(0.9999)).agree).toBe(true);
    expect(compareTensor(f32('e', [1, 2], [3, 4]), f32('e', [2, 1], [3, 4]), COS(0)).agree).toBe(false);
    expect(compareTensor(i32('k', [2], [3, 4]), i32('k', [2], [6, 8]), COS(0)).agree).toBe(false);
  });

  it("[V-7] a named output uses its own comparator, the others the job's", () => {
    const a = [f32('logits', [1, 2], [1, 5]), f32('emb', [1, 2], [1, 1])];
    const b = [f32('logits', [1, 2], [0, 9]), f32('emb', [1, 2], [1.00001, 1])];
    const tight = ALLCLOSE(1e-4, 1e-3);
    expect(compareOutputs(a, b, tight).agree).toBe(false);
    expect(compareOutputs(a, b, tight, [{ name: 'logits', comparator: ARGMAX }]).agree).toBe(true);
    expect(compareOutputs(a, b, tight, [{ name: 'emb', comparator: ARGMAX }]).agree).toBe(false);
  });
});

describe('default tolerance [V-8]', () => {
  /** Whether one logit, `x` in one result and `y` in the other, agrees under the default comparator. */
  const agreeAt = (x: number, y: number): boolean => compareTensor(f32('logits', [1, 1], [x]), f32('logits', [1, 1], [y]), DEFAULT_COMPARATOR).agree;

  it('[V-8] the default comparator is the measured allclose(atol 1e-4, rtol 1e-3)', () => {
    expect(DEFAULT_COMPARATOR).toEqual({ kind: 'allclose', atol: 1e-4, rtol: 1e-3 });
  });

  it('[V-8] the worst measured honest drift (1.34e-5 absolute, at logits near zero and at the largest, 27.7) agrees', () => {
    for (const x of [0, 1e-6, -0.25, 27.7, -27.7]) {
      expect(agreeAt(x, x + 1.34e-5)).toBe(true);
      expect(agreeAt(x + 1.34e-5, x)).toBe(true);
    }
    // Headroom where the allowance is least (a logit at zero): several times the measured drift still agrees.
    expect(agreeAt(0, 5 * 1.34e-5)).toBe(true);
  });

  it('[V-8] a lie that moves a logit by more than 1e-4 + 0.1% of it disagrees', () => {
    for (const x of [0, 1, 27.7, -27.7]) {
      const allowance = 1e-4 + 1e-3 * Math.abs(x);
      expect(agreeAt(x, x + 0.98 * allowance)).toBe(true);
      expect(agreeAt(x, x + 1.02 * allowance)).toBe(false);
      expect(agreeAt(x, x - 1.02 * allowance)).toBe(false);
    }
  });
});
