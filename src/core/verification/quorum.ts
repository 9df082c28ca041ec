/**
 * Quorum: group a shard's replicas into classes of mutually agreeing results and decide whether
 * one class is large enough to accept. Rule ids refer to core/SPEC.md.
 */
import type { Comparator } from '../../protocol/policy.ts';
import type { WireTensor } from '../../protocol/tensor.ts';
import { compareOutputs, type OutputComparator } from './compare.ts';

export interface ReplicaOutputs {
  readonly outputs: readonly WireTensor[];
}

export type QuorumDecision =
  /** A class of ≥ quorum replicas agrees: accept the class's representative. */
  | { readonly kind: 'accept'; readonly agreeing: readonly number[]; readonly dissenting: readonly number[] }
  /** No class can reach quorum within maxReplicas: the shard is unverifiable. */
  | { readonly kind: 'unverifiable'; readonly largestClass: number }
  /** Quorum is still reachable: `more` further replicas are needed at least. */
  | { readonly kind: 'need-more'; readonly more: number; readonly disagreement: boolean };

const ACCEPT_FIRST: QuorumDecision = { kind: 'accept', agreeing: [0], dissenting: [] };
const ACCEPT_BOTH: QuorumDecision = { kind: 'accept', agreeing: [0, 1], dissenting: [] };

/** Whether two replicas agree: the job's comparison ([V-12]). */
export type ReplicaAgreement<R> = (a: R, b: R) => boolean;

/**
 * Greedy classing against each class's first member (its representative). Tolerant agreement is
 * not transitive, so comparing against one representative keeps the decision deterministic and
 * means every accepted replica agrees with the result that is published.
 */
export function classifyBy<R>(replicas: readonly R[], agree: ReplicaAgreement<R>): number[][] {
  const classes: number[][] = [];
  replicas.forEach((r, i) => {
    for (const cls of classes) {
      if (agree(replicas[cls[0] as number] as R, r)) {
        cls.push(i);
        return;
      }
    }
    classes.push([i]);
  });
  return classes;
}

/** `classifyBy` with tensor comparison ([V-1], [V-7]). */
export function classify<R extends ReplicaOutputs>(replicas: readonly R[], comparator: Comparator, perOutput?: readonly OutputComparator[]): number[][] {
  return classifyBy(replicas, tensorAgreement<R>(comparator, perOutput));
}

const tensorAgreement =
  <R extends ReplicaOutputs>(comparator: Comparator, perOutput?: readonly OutputComparator[]): ReplicaAgreement<R> =>
  (a, b) =>
    compareOutputs(a.outputs, b.outputs, comparator, perOutput).agree;

/** –[Q-3] with tensor comparison ([V-1], [V-7]). */
export function decideQuorum<R extends ReplicaOutputs>(
  replicas: readonly R[],
  comparator: Comparator,
  quorum: number,
  maxReplicas: number,
  perOutput?: readonly OutputComparator[],
): QuorumDecision {
  return decideQuorumBy(replicas, tensorAgreement<R>(comparator, perOutput), quorum, maxReplicas);
}

/** –[Q-3] with any comparison: tensors, or a pipeline's answers ([V-12]). */
export function decideQuorumBy<R>(replicas: readonly R[], agree: ReplicaAgreement<R>, quorum: number, maxReplicas: number): QuorumDecision {
  // The common cases, decided without building classes: one replica, or two at quorum 2.
  if (replicas.length === 1 && quorum <= 1) return ACCEPT_FIRST;
  if (replicas.length === 2 && quorum === 2 && agree(replicas[0] as R, replicas[1] as R)) return ACCEPT_BOTH;
  const classes = classifyBy(replicas, agree);
  let best: number[] = [];
  for (const c of classes) if (c.length > best.length) best = c;
  if (best.length >= quorum) {
    const inBest = new Set(best);
    return { kind: 'accept', agreeing: best, dissenting: replicas.map((_, i) => i).filter((i) => !inBest.has(i)) };
  }
  const remaining = maxReplicas - replicas.length;
  if (best.length + remaining < quorum) return { kind: 'unverifiable', largestClass: best.length };
  return { kind: 'need-more', more: quorum - best.length, disagreement: classes.length > 1 };
}
