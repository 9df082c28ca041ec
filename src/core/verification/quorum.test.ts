import { describe, it, expect } from 'vitest';
import type { Comparator } from '../../protocol/policy.ts';
import { f32 } from '../testing/fixtures.ts';
import { classify, decideQuorum, type ReplicaOutputs } from './quorum.ts';

const TOL: Comparator = { kind: 'allclose', atol: 1, rtol: 0 };
const r = (...values: number[]): ReplicaOutputs => ({ outputs: [f32('y', [values.length], values)] });

describe('classify', () => {
  it('[Q-1] groups mutually agreeing replicas, in arrival order', () => {
    expect(classify([r(0), r(0.5), r(10), r(-0.5), r(10.2), r(50)], TOL)).toEqual([[0, 1, 3], [2, 4], [5]]);
  });

  it('[Q-1] compares against each class representative, so non-transitive agreement cannot chain', () => {
    // 0 ~ 0.9 and 0.9 ~ 1.8, but 1.8 is not within 1 of 0: it starts its own class.
    expect(classify([r(0), r(0.9), r(1.8)], TOL)).toEqual([[0, 1], [2]]);
    // A replica joins the first class whose representative it agrees with.
    expect(classify([r(0), r(1.8), r(0.9)], TOL)).toEqual([[0, 2], [1]]);
  });

  it('[Q-1] a non-finite replica is a class of its own, even next to an identical one', () => {
    expect(classify([r(NaN), r(NaN), r(1)], TOL)).toEqual([[0], [1], [2]]);
  });
});

describe('decideQuorum', () => {
  it('[Q-1] accepts when a class reaches quorum, listing agreeing and dissenting replicas', () => {
    expect(decideQuorum([r(1), r(1.1)], TOL, 2, 4)).toEqual({ kind: 'accept', agreeing: [0, 1], dissenting: [] });
    expect(decideQuorum([r(1), r(9), r(1.2)], TOL, 2, 4)).toEqual({ kind: 'accept', agreeing: [0, 2], dissenting: [1] });
    expect(decideQuorum([r(9), r(1), r(1.2)], TOL, 2, 4)).toEqual({ kind: 'accept', agreeing: [1, 2], dissenting: [0] });
  });

  it('[Q-1] the majority class wins over an earlier minority', () => {
    const d = decideQuorum([r(9), r(1), r(1), r(1)], TOL, 3, 4);
    expect(d).toEqual({ kind: 'accept', agreeing: [1, 2, 3], dissenting: [0] });
  });

  it('[Q-1] quorum 1 accepts a single replica', () => {
    expect(decideQuorum([r(3)], TOL, 1, 1).kind).toBe('accept');
  });

  it('[Q-3] one replica of a quorum of two needs one more, without disagreement', () => {
    expect(decideQuorum([r(1)], TOL, 2, 4)).toEqual({ kind: 'need-more', more: 1, disagreement: false });
    expect(decideQuorum([], TOL, 2, 4)).toEqual({ kind: 'need-more', more: 2, disagreement: false });
  });

  it('[Q-3] two disagreeing replicas need one more, flagged as disagreement', () => {
    expect(decideQuorum([r(1), r(9)], TOL, 2, 4)).toEqual({ kind: 'need-more', more: 1, disagreement: true });
    expect(decideQuorum([r(1), r(9), r(20)], TOL, 2, 4)).toEqual({ kind: 'need-more', more: 1, disagreement: true });
    expect(decideQuorum([r(1), r(9), r(20)], TOL, 3, 5)).toEqual({ kind: 'need-more', more: 2, disagreement: true });
  });

  it('[Q-2] unverifiable once no class can reach quorum within maxReplicas', () => {
    expect(decideQuorum([r(1), r(9)], TOL, 2, 2)).toEqual({ kind: 'unverifiable', largestClass: 1 });
    expect(decideQuorum([r(1), r(9), r(20), r(30)], TOL, 2, 4)).toEqual({ kind: 'unverifiable', largestClass: 1 });
    // Largest class 2, one slot left, quorum 4: 2 + 1 < 4.
    expect(decideQuorum([r(1), r(1), r(9), r(20)], TOL, 4, 5)).toEqual({ kind: 'unverifiable', largestClass: 2 });
    // …but with two slots left it is still reachable.
    expect(decideQuorum([r(1), r(1), r(9), r(20)], TOL, 4, 6).kind).toBe('need-more');
  });

  it('[Q-2] NaN results never make a quorum, however many agree bit for bit', () => {
    expect(decideQuorum([r(NaN), r(NaN)], TOL, 2, 2).kind).toBe('unverifiable');
    expect(decideQuorum([r(NaN), r(NaN), r(NaN)], { kind: 'exact' }, 2, 3).kind).toBe('unverifiable');
  });
});
