/**
 * [J-1] [J-2] Admitting a submitted job: the checks a submission must pass before the host
 * spends time hashing its model, and the job record it becomes once hashed. Free functions over
 * the submission alone, apart from the coordinator so that its handlers keep only what depends
 * on its state (who may submit, whether storage works) and the frames they answer with.
 */
import type { JobId, ModelHash, PeerId } from '../../protocol/ids.ts';
import { LIMITS } from '../../protocol/limits.ts';
import { itemNamesProblem, type JobSpec } from '../../protocol/messages.ts';
import { randomTag, type Rng } from '../rng.ts';
import { normalisePriority } from './jobScheduler.ts';
import { secretsEqual } from '../secrets.ts';
import { itemCountOf } from './shardInputs.ts';
import type { JobRecord } from './state.ts';

/** [J-1] Why the submission is refused (requester key, batch shape, limits, empty model), or null. */
export function submissionProblem(spec: JobSpec, requesterKey: string): string | null {
  if (requesterKey !== '' && !secretsEqual(spec.requesterKey, requesterKey)) {
    return 'wrong requester key: copy the key the coordinator shows (on its page, or in the requester link quorum coordinator logs when ready)';
  }
  const items = itemCountOf(spec);
  if (typeof items === 'string') return items;
  if (items > LIMITS.maxItemsPerJob) return `${items} items is more than the limit of ${LIMITS.maxItemsPerJob}`;
  const names = itemNamesProblem(spec.itemNames, items); // [J-6]
  if (names !== null) return names;
  const inputBytes = spec.inputs.reduce((n, t) => n + t.data.byteLength, 0) + (spec.files ?? []).reduce((n, f) => n + f.bytes.byteLength, 0);
  if (inputBytes > LIMITS.maxJobInputBytes) return `inputs of ${inputBytes} bytes exceed ${LIMITS.maxJobInputBytes}`;
  if (spec.model.byteLength === 0) return 'the model file is empty';
  return null;
}

/**
 * [J-2] The record of an admitted job of `items` items whose model hashed to `modelHash`. The
 * job id is drawn from `rng` (the coordinator's, so simulations replay).
 */
export function jobRecordOf(spec: JobSpec, items: number, modelHash: ModelHash, submittedBy: PeerId, now: number, rng: Rng): JobRecord {
  // Math.floor: a fractional clock would put a '.' in the id, which no peer's parser accepts.
  const id = `j${Math.floor(now).toString(36)}${randomTag(rng, 6)}` as JobId;
  return {
    id,
    name: spec.name,
    modelHash,
    modelBytes: spec.model.byteLength,
    inputs: spec.inputs,
    // [J-7] Only a job of files has these: a tensor job's record keeps its shape of before.
    ...(spec.files && spec.pipeline ? { files: spec.files, pipeline: spec.pipeline } : {}),
    items,
    shardSize: spec.shardSize,
    shardCount: Math.ceil(items / spec.shardSize),
    policy: spec.policy,
    createdAtMs: now,
    submittedBy,
    priority: normalisePriority(spec.priority),
    // [J-6] Kept only when given: a record without names is what older jobs are.
    ...(spec.itemNames ? { itemNames: spec.itemNames } : {}),
  };
}

/**
 * [J-7] Why a job of files cannot run the model the coordinator hashed, or null: its pipeline's
 * run-model stage must name this very model, or volunteers would fetch one nobody checked.
 */
export function pipelineModelProblem(spec: JobSpec, modelHash: ModelHash): string | null {
  if (!spec.pipeline) return null;
  const models = spec.pipeline.stages.flatMap((s) => (s.op === 'run-model' ? [s.model] : []));
  if (models.some((m) => m !== modelHash)) {
    return `the pipeline's run-model stage names model ${models.find((m) => m !== modelHash)?.slice(0, 12) ?? '?'}…, not the uploaded model (${modelHash.slice(0, 12)}…): build the pipeline from the model you send`;
  }
  return null;
}
