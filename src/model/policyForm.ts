/**
 * The dashboard's policy form as plain values, and its translation into the protocol's shard size,
 * priority and verification policy. Defaults come from DEFAULT_POLICY; fields the form does not
 * show keep their defaults, so the policy schema can grow without breaking the form. Pure.
 */
import { MAX_PRIORITY, MIN_PRIORITY } from '../core/coordinator/jobScheduler.ts';
import { LIMITS } from '../protocol/limits.ts';
import { DEFAULT_ANSWER_COMPARATORS, type Answer, type AnswerComparator } from '../protocol/pipeline.ts';
import { DEFAULT_POLICY, type Comparator, type VerificationPolicy } from '../protocol/policy.ts';
import { policySchema } from '../protocol/schemas.ts';

export const COMPARATOR_KINDS = ['allclose', 'argmax', 'exact', 'cosine'] as const;
export type ComparatorKind = (typeof COMPARATOR_KINDS)[number];

export const COMPARATOR_LABELS: Readonly<Record<ComparatorKind, string>> = {
  allclose: 'allclose: |a − b| ≤ atol + rtol·max(|a|, |b|) for every value (floats)',
  argmax: 'argmax: the same top class in every row (classifiers)',
  exact: 'exact: bit-identical outputs',
  cosine: 'cosine: every row’s cosine similarity ≥ threshold (embeddings)',
};

export interface PolicyForm {
  readonly shardSize: number;
  readonly replication: number;
  readonly quorum: number;
  readonly maxReplicas: number;
  readonly comparator: ComparatorKind;
  readonly atol: number;
  readonly rtol: number;
  readonly threshold: number;
  readonly priority: number;
  /** Trusted volunteers may compute shards alone, spot-checked; off by default. */
  readonly adaptive: boolean;
  /** [V-12] OCR answers: lines pair when their boxes overlap at least this much (IoU)… */
  readonly ocrMinIou: number;
  /** …and their texts differ by at most this character error rate. */
  readonly ocrMaxCer: number;
  /** [V-12] Speech segments: each start and end within this many milliseconds. */
  readonly vadToleranceMs: number;
}

/** What `adaptive` trades, in one sentence for the form. */
export const ADAPTIVE_EXPLAINED =
  'Adaptive replication lets volunteers with a long streak of verified results compute shards alone (a share of them re-checked, canaries throughout): faster and cheaper, but a shard done alone rests on one trusted volunteer, not on a quorum.';

export function defaultPolicyForm(): PolicyForm {
  const c = DEFAULT_POLICY.comparator;
  return {
    shardSize: 100,
    replication: DEFAULT_POLICY.replication,
    quorum: DEFAULT_POLICY.quorum,
    maxReplicas: DEFAULT_POLICY.maxReplicas,
    comparator: c.kind,
    atol: c.kind === 'allclose' ? c.atol : 1e-4,
    rtol: c.kind === 'allclose' ? c.rtol : 1e-3,
    threshold: c.kind === 'cosine' ? c.threshold : 0.999,
    priority: 1,
    adaptive: DEFAULT_POLICY.adaptive ?? false,
    ocrMinIou: DEFAULT_ANSWER_COMPARATORS.ocr.minIou,
    ocrMaxCer: DEFAULT_ANSWER_COMPARATORS.ocr.maxCer,
    // Milliseconds on the form, seconds in the protocol; rounded so 0.032 s shows as 32.
    vadToleranceMs: Math.round(DEFAULT_ANSWER_COMPARATORS.segments.toleranceSec * 1000),
  };
}

export type PolicyFormResult =
  | { readonly ok: true; readonly shardSize: number; readonly priority: number; readonly policy: VerificationPolicy }
  | { readonly ok: false; readonly problems: readonly string[] };

function comparatorOf(f: PolicyForm): Comparator {
  switch (f.comparator) {
    case 'allclose':
      return { kind: 'allclose', atol: f.atol, rtol: f.rtol };
    case 'cosine':
      return { kind: 'cosine', threshold: f.threshold } as Comparator;
    default:
      return { kind: f.comparator } as Comparator;
  }
}

/** [V-12] The answer comparator the form sets for a pipeline answering `kind`, or why it cannot. */
function answerComparatorOf(f: PolicyForm, kind: Answer['kind']): AnswerComparator | string {
  switch (kind) {
    case 'ocr':
      if (!(f.ocrMinIou >= 0.05 && f.ocrMinIou <= 1)) return 'the minimum box IoU must be from 0.05 to 1.';
      if (!(f.ocrMaxCer >= 0 && f.ocrMaxCer <= 1)) return 'the maximum character error rate must be from 0 to 1.';
      return { kind: 'ocr', minIou: f.ocrMinIou, maxCer: f.ocrMaxCer };
    case 'segments':
      if (!(f.vadToleranceMs >= 0 && f.vadToleranceMs <= 10_000)) return 'the segment tolerance must be from 0 to 10000 ms.';
      return { kind: 'segments', toleranceSec: f.vadToleranceMs / 1000 };
    case 'labels':
      return DEFAULT_ANSWER_COMPARATORS.labels;
  }
}

const isInt = (v: number, lo: number, hi: number): boolean => Number.isInteger(v) && v >= lo && v <= hi;

/**
 * The form as shard size, priority and policy. `answerKind`: the job's pipeline ends in answers of
 * this kind, so the policy carries the form's answer comparator for it ([V-12]).
 */
export function policyFromForm(f: PolicyForm, answerKind?: Answer['kind']): PolicyFormResult {
  const problems: string[] = [];
  if (!isInt(f.shardSize, 1, LIMITS.maxShardSize)) problems.push(`shard size must be a whole number from 1 to ${LIMITS.maxShardSize}.`);
  if (!isInt(f.priority, MIN_PRIORITY, MAX_PRIORITY)) problems.push(`priority must be a whole number from ${MIN_PRIORITY} to ${MAX_PRIORITY}.`);
  for (const [label, v] of [
    ['replication', f.replication],
    ['quorum', f.quorum],
    ['max replicas', f.maxReplicas],
  ] as const) {
    if (!isInt(v, 1, LIMITS.maxReplicas)) problems.push(`${label} must be a whole number from 1 to ${LIMITS.maxReplicas}.`);
  }
  if (problems.length === 0 && !(f.quorum <= f.replication && f.replication <= f.maxReplicas)) {
    problems.push(`the policy needs quorum ≤ replication ≤ max replicas (now ${f.quorum}, ${f.replication}, ${f.maxReplicas}).`);
  }
  if (f.comparator === 'allclose' && !(f.atol >= 0 && f.rtol >= 0 && f.atol <= 1e6 && f.rtol <= 1e6)) {
    problems.push('atol and rtol must be numbers from 0 to 1e6.');
  }
  if (f.comparator === 'cosine' && !(f.threshold >= -1 && f.threshold <= 1)) problems.push('the cosine threshold must be from -1 to 1.');
  const answerComparator = answerKind === undefined ? undefined : answerComparatorOf(f, answerKind);
  if (typeof answerComparator === 'string') problems.push(answerComparator);
  if (problems.length > 0) return { ok: false, problems };
  const parsed = policySchema.safeParse({
    ...DEFAULT_POLICY,
    replication: f.replication,
    quorum: f.quorum,
    maxReplicas: f.maxReplicas,
    comparator: comparatorOf(f),
    adaptive: f.adaptive,
    ...(answerComparator ? { answerComparator } : {}),
  });
  if (!parsed.success) return { ok: false, problems: parsed.error.issues.map((i) => `policy: ${i.message}`) };
  return { ok: true, shardSize: f.shardSize, priority: f.priority, policy: parsed.data };
}
