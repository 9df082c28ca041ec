/**
 * Verification policy: how many volunteers compute each shard and how their results are compared.
 */
import type { z } from 'zod';
import type { AnswerComparator, comparatorSchema, policySchema } from './schemas.ts';
import { DEFAULT_ANSWER_COMPARATORS, type Answer } from './pipeline.ts';

export type Comparator = z.infer<typeof comparatorSchema>;
export type VerificationPolicy = z.infer<typeof policySchema>;

/**
 * Default float tolerance, derived from measurement ([V-8] in core/SPEC.md;
 * `npx tsx scripts/measure-drift.ts`): the shipped MNIST MLP on 2,000 held-out digits, run on
 * WebGPU (SwiftShader in headless Chromium 156) and on WASM (1 and 2 threads, whole batch and
 * 100-row shards, onnxruntime-web 1.30.0 in Chromium and in Node), plus a float64 forward pass.
 * All WASM runs are bit-identical; WebGPU vs WASM differ by at most 1.34e-5 absolute (mean
 * 1.4e-6; logits up to 27.7; 8.5e-4 relative, only on logits near zero), and WebGPU vs float64
 * by 1.43e-5. The worst honest pair uses 5.7% of this allowance (|Δ| ≤ 0.057·(atol + rtol·|x|)):
 * 17× headroom for real GPUs, whose reduction order and FMA use differ more than SwiftShader's.
 * A lie within it moves no logit by more than 1e-4 + 0.1% and changed no prediction.
 */
export const DEFAULT_COMPARATOR: Comparator = { kind: 'allclose', atol: 1e-4, rtol: 1e-3 };

/** [C-1] Share of leases that are canaries when a policy does not say. */
export const DEFAULT_CANARY_RATE = 0.01;
/** Share of a trusted volunteer's lone shards that are re-checked when a policy does not say. */
export const DEFAULT_SPOT_CHECK_RATE = 0.05;

/**
 * Every shard on two different volunteers, both must agree; up to 4 copies on disagreement.
 * Not adaptive: every shard is computed by `replication` volunteers, trusted or not. A job that
 * sets `adaptive: true` lets trusted volunteers compute shards alone ([A-3]).
 */
export const DEFAULT_POLICY: VerificationPolicy = {
  replication: 2,
  quorum: 2,
  maxReplicas: 4,
  comparator: DEFAULT_COMPARATOR,
  adaptive: false,
  canaryRate: DEFAULT_CANARY_RATE,
  spotCheckRate: DEFAULT_SPOT_CHECK_RATE,
};

/** A policy with every optional field filled in: what the coordinator core works with. */
export interface ResolvedPolicy {
  readonly replication: number;
  readonly quorum: number;
  readonly maxReplicas: number;
  readonly comparator: Comparator;
  readonly outputComparators: readonly { readonly name: string; readonly comparator: Comparator }[];
  readonly adaptive: boolean;
  readonly canaryRate: number;
  readonly spotCheckRate: number;
  /** [V-12] How answers are compared in a job whose pipeline ends in answers; null for a job of tensors. */
  readonly answerComparator: AnswerComparator | null;
}

/**
 * Fills in the defaults of fields a policy leaves out (older requesters, stored jobs). `answers`
 * is the kind of answer the job's pipeline ends in (null for tensors): its default comparator
 * applies when the policy names none ([V-12]).
 */
export function resolvePolicy(p: VerificationPolicy, answers: Answer['kind'] | null = null): ResolvedPolicy {
  return {
    replication: p.replication,
    quorum: p.quorum,
    maxReplicas: p.maxReplicas,
    comparator: p.comparator,
    outputComparators: p.outputComparators ?? [],
    adaptive: p.adaptive ?? false,
    canaryRate: p.canaryRate ?? DEFAULT_CANARY_RATE,
    spotCheckRate: p.spotCheckRate ?? DEFAULT_SPOT_CHECK_RATE,
    answerComparator: answers === null ? null : (p.answerComparator ?? DEFAULT_ANSWER_COMPARATORS[answers]),
  };
}
