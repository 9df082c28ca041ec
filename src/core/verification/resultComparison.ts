/**
 * [V-12] One way to compare two volunteers' results for a job, whatever they carry: a job whose
 * pipeline ends in answers compares answers with its answer comparator, every other job compares
 * tensors with its comparator ([V-1], [V-7]). Quorum, canaries and late results all go through
 * this, so a rule cannot hold for one and not another.
 */
import type { ResolvedPolicy } from '../../protocol/policy.ts';
import type { Answer } from '../../protocol/pipeline.ts';
import type { WireTensor } from '../../protocol/tensor.ts';
import { compareAnswerLists } from './answers.ts';
import { compareOutputs, type Agreement } from './compare.ts';

/** What a result carries: a job of tensors fills `outputs`; a pipeline job of answers, `answers`. */
export interface ComparableResult {
  readonly outputs: readonly WireTensor[];
  readonly answers?: readonly Answer[] | undefined;
}

export type ResultComparison = (a: ComparableResult, b: ComparableResult) => Agreement;

const NO_ANSWERS: Agreement = { agree: false, reason: 'a result without answers' };

export function resultComparison(policy: Pick<ResolvedPolicy, 'comparator' | 'outputComparators' | 'answerComparator'>): ResultComparison {
  const answers = policy.answerComparator;
  if (answers) return (a, b) => (a.answers && b.answers ? compareAnswerLists(a.answers, b.answers, answers) : NO_ANSWERS);
  const { comparator, outputComparators } = policy;
  return (a, b) => compareOutputs(a.outputs, b.outputs, comparator, outputComparators);
}
