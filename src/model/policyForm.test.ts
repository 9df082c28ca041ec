import { describe, expect, it } from 'vitest';
import { DEFAULT_ANSWER_COMPARATORS } from '../protocol/pipeline.ts';
import { DEFAULT_POLICY } from '../protocol/policy.ts';
import { allclose } from '../core/verification/compare.ts';
import { COMPARATOR_LABELS, defaultPolicyForm, policyFromForm } from './policyForm.ts';

describe('policy form', () => {
  it('defaults give DEFAULT_POLICY, shard size 100 and priority 1', () => {
    const r = policyFromForm(defaultPolicyForm());
    expect(r).toEqual({ ok: true, shardSize: 100, priority: 1, policy: DEFAULT_POLICY });
  });
  it('[A-3] adaptive replication is off by default and on when the form says so', () => {
    const off = policyFromForm(defaultPolicyForm());
    expect(off.ok && off.policy.adaptive).toBe(false);
    const on = policyFromForm({ ...defaultPolicyForm(), adaptive: true });
    expect(on.ok && on.policy.adaptive).toBe(true);
  });

  it('each comparator kind becomes its protocol comparator', () => {
    const f = defaultPolicyForm();
    const cmp = (c: typeof f.comparator) => {
      const r = policyFromForm({ ...f, comparator: c, atol: 0.5, rtol: 0, threshold: 0.9 });
      return r.ok ? r.policy.comparator : null;
    };
    expect(cmp('allclose')).toEqual({ kind: 'allclose', atol: 0.5, rtol: 0 });
    expect(cmp('argmax')).toEqual({ kind: 'argmax' });
    expect(cmp('exact')).toEqual({ kind: 'exact' });
    expect(cmp('cosine')).toEqual({ kind: 'cosine', threshold: 0.9 });
  });
  it('says what is wrong with bad values', () => {
    const f = defaultPolicyForm();
    const problems = (over: Partial<typeof f>) => {
      const r = policyFromForm({ ...f, ...over });
      return r.ok ? [] : r.problems;
    };
    expect(problems({ quorum: 3, replication: 2 })).toEqual(['the policy needs quorum ≤ replication ≤ max replicas (now 3, 2, 4).']);
    expect(problems({ shardSize: 0 })[0]).toMatch(/shard size must be a whole number from 1/);
    expect(problems({ priority: 11 })[0]).toMatch(/priority must be a whole number from 1 to 10/);
    expect(problems({ replication: 17 })[0]).toMatch(/replication must be a whole number from 1 to 16/);
    expect(problems({ atol: -1 })[0]).toMatch(/atol and rtol/);
    expect(problems({ comparator: 'cosine', threshold: 2 })[0]).toMatch(/threshold/);
    expect(problems({ shardSize: 2.5 })).toHaveLength(1);
  });
  it('[V-3] the allclose label states the bound the comparator applies: rtol times the larger magnitude', () => {
    // |2 − 1| = 1 is within 0.5·max(2, 1) but not within 0.5·|b| for b = 1: the label must say max.
    expect(allclose(Float32Array.of(2), Float32Array.of(1), 0, 0.5).agree).toBe(true);
    expect(COMPARATOR_LABELS.allclose).toContain('atol + rtol·max(|a|, |b|)');
  });
});

describe('answer comparators on the policy form [V-12]', () => {
  it('[V-12] default to DEFAULT_ANSWER_COMPARATORS for OCR and speech, and are absent for tensor jobs', () => {
    const f = defaultPolicyForm();
    const ocr = policyFromForm(f, 'ocr');
    expect(ocr.ok && ocr.policy.answerComparator).toEqual(DEFAULT_ANSWER_COMPARATORS.ocr);
    const vad = policyFromForm(f, 'segments');
    expect(vad.ok && vad.policy.answerComparator).toEqual(DEFAULT_ANSWER_COMPARATORS.segments);
    const tensors = policyFromForm(f);
    expect(tensors.ok && tensors.policy.answerComparator).toBeUndefined();
  });
  it('[V-12] carry the values the form holds (the tolerance in ms becomes seconds)', () => {
    const f = { ...defaultPolicyForm(), ocrMinIou: 0.7, ocrMaxCer: 0.1, vadToleranceMs: 100 };
    const ocr = policyFromForm(f, 'ocr');
    expect(ocr.ok && ocr.policy.answerComparator).toEqual({ kind: 'ocr', minIou: 0.7, maxCer: 0.1 });
    const vad = policyFromForm(f, 'segments');
    expect(vad.ok && vad.policy.answerComparator).toEqual({ kind: 'segments', toleranceSec: 0.1 });
  });
  it('[V-12] refuse values out of range, saying the range', () => {
    const f = defaultPolicyForm();
    expect(policyFromForm({ ...f, ocrMinIou: 0 }, 'ocr')).toEqual({ ok: false, problems: ['the minimum box IoU must be from 0.05 to 1.'] });
    expect(policyFromForm({ ...f, ocrMaxCer: 2 }, 'ocr')).toEqual({ ok: false, problems: ['the maximum character error rate must be from 0 to 1.'] });
    expect(policyFromForm({ ...f, vadToleranceMs: -1 }, 'segments')).toEqual({ ok: false, problems: ['the segment tolerance must be from 0 to 10000 ms.'] });
    // A form value for the other kind does not matter.
    expect(policyFromForm({ ...f, ocrMinIou: 0 }, 'segments').ok).toBe(true);
  });
});
