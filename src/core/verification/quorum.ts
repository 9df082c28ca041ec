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

/**
 * Greedy classing against each class's first member (its representative). Tolerant agreement is
 * not transitive, so comparing against one representative keeps the decision deterministic and
 * means every accepted replica agrees with the result that is published.
 */
export function classify<R extends ReplicaOutputs>(replicas: readonly R[], comparator: Comparator, perOutput?: readonly OutputComparator[]): number[][] {
  const classes: number[][] = [];
  replicas.forEach((r, i) => {
    for (const cls of classes) {
      const rep = replicas[cls[0] as number] as R;
      if (compareOutputs(rep.outputs, r.outputs, comparator, perOutput).agree) {
        cls.push(i);
        return;
      }
    }
    classes.push([i]);
  });
  return classes;
}

export function decideQuorum<R extends ReplicaOutputs>(
  replicas: readonly R[],
  comparator: Comparator,
  quorum: number,
  maxReplicas: number,
  perOutput?: readonly OutputComparator[],
): QuorumDecision {
  // The common cases, decided without building classes: one replica, or two at quorum 2.
  if (replicas.length === 1 && quorum <= 1) return ACCEPT_FIRST;
  if (replicas.length === 2 && quorum === 2 && compareOutputs((replicas[0] as R).outputs, (replicas[1] as R).outputs, comparator, perOutput).agree) {
    return ACCEPT_BOTH;
  }
  const classes = classify(replicas, comparator, perOutput);
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
