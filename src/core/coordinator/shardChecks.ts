/**
 * Small predicates over one shard and one result, shared by the coordinator and the books it
 * keeps (jobBook.ts picks shards with `wantsLease`). Free functions with no state: they sit on
 * the hot path of every lease and result, so they stay plain loops over the shard's own fields.
 */
import type { PeerId } from '../../protocol/ids.ts';
import type { WireTensor } from '../../protocol/tensor.ts';
import { answerKindOf, type Answer } from '../../protocol/pipeline.ts';
import type { JobRecord, OutputPort, Replica, ShardState } from './state.ts';

/**
 * [R-5] [R-7] [V-12] What a result must be before it counts: for a job whose pipeline ends in
 * answers, exactly one answer per item of the shard, each of the pipeline's kind, and no tensors;
 * for any other job, no answers, and outputs with one row per item that fit the model's signature.
 */
export function checkResultShape(
  result: { readonly outputs: readonly WireTensor[]; readonly answers?: readonly Answer[] | undefined },
  items: number,
  job: Pick<JobRecord, 'pipeline' | 'outputSignature'>,
): string | null {
  const kind = job.pipeline ? answerKindOf(job.pipeline) : null;
  if (kind === null) {
    if (result.answers !== undefined) return "answers for a job of tensors: this job's results are the model's outputs";
    return checkOutputShape(result.outputs, items) ?? (job.outputSignature ? checkOutputSignature(result.outputs, job.outputSignature) : null);
  }
  const answers = result.answers;
  if (answers === undefined) return `no answers: this job's pipeline answers with ${kind}, one per item`;
  if (answers.length !== items) return `${answers.length} answers, the shard has ${items} items`;
  for (let i = 0; i < answers.length; i++) {
    const a = answers[i] as Answer;
    if (a.kind !== kind) return `answer ${i + 1} is ${a.kind}, this job's pipeline answers with ${kind}`;
  }
  return null;
}

/** [R-5] Every output must have one row per item of the shard. */
export function checkOutputShape(outputs: readonly WireTensor[], items: number): string | null {
  if (outputs.length === 0) return 'no outputs';
  for (const t of outputs) {
    if (t.dims[0] !== items) return `output "${t.name}" has ${t.dims[0] ?? 'no'} rows, the shard has ${items} items`;
  }
  return null;
}

/**
 * [R-7] A result against the model's output signature: exactly its outputs (no extra, none
 * missing, none twice), each with its dtype, its rank and every fixed dim past the batch; the
 * batch dim is [R-5]'s. Junk outputs padded onto a result were once kept in memory and storage
 * (91 MB and 61 MB) because only the batch dim was checked.
 */
export function checkOutputSignature(outputs: readonly WireTensor[], signature: readonly OutputPort[]): string | null {
  const ports = new Map<string, OutputPort>();
  for (const p of signature) ports.set(p.name, p);
  const seen = new Set<string>();
  for (const t of outputs) {
    const port = ports.get(t.name);
    if (!port) return `output "${t.name}" is not an output of the model (it has ${signature.map((p) => `"${p.name}"`).join(', ')})`;
    if (seen.has(t.name)) return `output "${t.name}" is given twice`;
    seen.add(t.name);
    if (t.dtype !== port.dtype) return `output "${t.name}" is ${t.dtype}, the model's is ${port.dtype}`;
    if (port.dims.length === 0) continue; // the runtime did not say: only [R-5]'s check applies
    if (t.dims.length !== port.dims.length) return `output "${t.name}" has rank ${t.dims.length}, the model's has rank ${port.dims.length}`;
    for (let i = 1; i < port.dims.length; i++) {
      const want = port.dims[i];
      if (typeof want === 'number' && want >= 0 && t.dims[i] !== want) return `output "${t.name}" has dimension ${i} of ${t.dims[i]}, the model's is ${want}`;
    }
  }
  for (const p of signature) if (!seen.has(p.name)) return `output "${p.name}" of the model is missing`;
  return null;
}

/** [R-2] Whether `volunteer` has a replica of the shard (a loop: this runs for every result). */
export function hasReplicaOf(shard: ShardState, volunteer: PeerId): boolean {
  const replicas = shard.replicas;
  for (let i = 0; i < replicas.length; i++) if ((replicas[i] as Replica).volunteer === volunteer) return true;
  return false;
}

/** [L-1] Open, with fewer replicas and leases than it needs now. */
export function wantsLease(shard: ShardState): boolean {
  return shard.status === 'open' && shard.replicas.length + shard.leases.size < shard.target;
}
