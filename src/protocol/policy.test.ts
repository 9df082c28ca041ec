import { describe, it, expect } from 'vitest';
import { DEFAULT_CANARY_RATE, DEFAULT_COMPARATOR, DEFAULT_POLICY, DEFAULT_SPOT_CHECK_RATE, resolvePolicy } from './policy.ts';
import { policySchema } from './schemas.ts';

const base = { replication: 2, quorum: 2, maxReplicas: 4, comparator: DEFAULT_COMPARATOR };
const ok = (p: unknown): boolean => policySchema.safeParse(p).success;

describe('verification policy [M-5]', () => {
  it('[M-5] the new fields are optional: a policy from an older requester still parses', () => {
    expect(ok(base)).toBe(true);
    expect(ok(DEFAULT_POLICY)).toBe(true);
  });

  it('[M-5] rates are fractions, adaptive is a boolean, a cosine threshold lies in [-1, 1]', () => {
    expect(ok({ ...base, canaryRate: 0, spotCheckRate: 1, adaptive: true })).toBe(true);
    for (const bad of [{ canaryRate: -0.1 }, { canaryRate: 1.5 }, { spotCheckRate: NaN }, { adaptive: 'yes' }]) expect(ok({ ...base, ...bad })).toBe(false);
    expect(ok({ ...base, comparator: { kind: 'cosine', threshold: 0.99 } })).toBe(true);
    expect(ok({ ...base, comparator: { kind: 'cosine', threshold: 1.01 } })).toBe(false);
    expect(ok({ ...base, comparator: { kind: 'cosine' } })).toBe(false);
  });

  it('[M-5] [V-7] output comparators are bounded and name each output once', () => {
    const oc = (name: string) => ({ name, comparator: { kind: 'exact' } });
    expect(ok({ ...base, outputComparators: [oc('label'), oc('logits')] })).toBe(true);
    expect(ok({ ...base, outputComparators: [oc('label'), oc('label')] })).toBe(false);
    expect(ok({ ...base, outputComparators: [oc('')] })).toBe(false);
    expect(ok({ ...base, outputComparators: Array.from({ length: 65 }, (_, i) => oc(`o${i}`)) })).toBe(false);
  });

  it('[A-3] [C-1] resolvePolicy fills in the defaults: not adaptive, default canary and spot-check rates', () => {
    expect(resolvePolicy(base)).toEqual({
      ...base,
      outputComparators: [],
      adaptive: false,
      canaryRate: DEFAULT_CANARY_RATE,
      spotCheckRate: DEFAULT_SPOT_CHECK_RATE,
      answerComparator: null,
    });
    expect(resolvePolicy({ ...base, adaptive: true, canaryRate: 0 })).toMatchObject({ adaptive: true, canaryRate: 0 });
    // The dashboard's default: every shard on two different volunteers ([A-3]).
    expect(resolvePolicy(DEFAULT_POLICY)).toMatchObject({ replication: 2, quorum: 2, adaptive: false });
    // [V-12] A pipeline's answers get their kind's default comparator unless the policy names one.
    expect(resolvePolicy(base, 'ocr').answerComparator).toEqual({ kind: 'ocr', minIou: 0.5, maxCer: 0 });
    expect(resolvePolicy({ ...base, answerComparator: { kind: 'ocr', minIou: 0.7, maxCer: 0.1 } }, 'ocr').answerComparator).toEqual({
      kind: 'ocr',
      minIou: 0.7,
      maxCer: 0.1,
    });
    expect(resolvePolicy(base, 'segments').answerComparator).toEqual({ kind: 'segments', toleranceSec: 0.032 });
  });
});
