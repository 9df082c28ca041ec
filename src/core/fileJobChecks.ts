/**
 * [J-7] The checks of a job of files, shared by the requester's dashboard and the coordinator
 * host like those of `jobChecks.ts`: the pipeline's tensor against the model's signature (by
 * the same check as tensor inputs), and sizes counted on the files as they travel, plus the one
 * decoded tensor a shard makes on a volunteer. Pure; each problem says what to do.
 */
import { filePipelineShapeProblem, imageStages } from '../protocol/jobFiles.ts';
import { LIMITS } from '../protocol/limits.ts';
import { pipelineModels, type Pipeline } from '../protocol/pipeline.ts';
import { formatBytes } from './format.ts';
import { checkInputsAgainstSignature, JOB_LIMITS_SET_WHERE, type InputLike, type JobLimits, type SignatureLike } from './jobChecks.ts';

/** The float32 tensor the pipeline's image-tensor stage makes for `items` images, batch dim first. */
export function pipelineInput(pipeline: Pipeline, items: number): InputLike | null {
  const stages = imageStages(pipeline);
  if (!stages) return null;
  const { input, width, height, layout, channels } = stages.tensor;
  const c = channels === 'gray' ? 1 : 3;
  return { name: input, dtype: 'float32', dims: layout === 'CHW' ? [items, c, height, width] : [items, height, width, c] };
}

/**
 * Every way the pipeline's tensor fails the model's signature (its input name, dtype, layout and
 * fixed dims; a fixed batch against the shard size), as for tensor inputs; [] when it fits.
 */
export function checkPipelineAgainstSignature(signature: SignatureLike, pipeline: Pipeline, items: number, shardSize?: number): string[] {
  const shape = filePipelineShapeProblem(pipeline);
  if (shape !== null) return [`${shape}.`];
  const input = pipelineInput(pipeline, items);
  if (!input) return [];
  return checkInputsAgainstSignature(signature, [input], shardSize).map((p) => p.replace(/^input "/, 'the image input "'));
}

/** Every way a job of files exceeds `limits`: the files' bytes, their count, and one shard's decoded tensor. */
export function checkFileJobLimits(
  job: { readonly modelBytes: number; readonly fileBytes: readonly number[]; readonly pipeline: Pipeline; readonly shardSize: number },
  limits: JobLimits,
): string[] {
  const problems: string[] = [];
  const where = JOB_LIMITS_SET_WHERE;
  if (job.modelBytes > limits.maxModelBytes) {
    problems.push(`the model is ${formatBytes(job.modelBytes)}, over this coordinator's limit of ${formatBytes(limits.maxModelBytes)} (${where}).`);
  }
  const total = job.fileBytes.reduce((a, b) => a + b, 0);
  if (total > limits.maxInputBytes) {
    problems.push(
      `the files are ${formatBytes(total)}, over this coordinator's limit of ${formatBytes(limits.maxInputBytes)} per job (${where}): split them into several jobs.`,
    );
  }
  if (job.fileBytes.length > limits.maxItems) {
    problems.push(
      `the job has ${job.fileBytes.length} files, over this coordinator's limit of ${limits.maxItems} per job (${where}): split it into several jobs.`,
    );
  }
  // Each volunteer decodes one shard at a time into one tensor: that tensor must fit the protocol.
  const input = pipelineInput(job.pipeline, Math.min(job.shardSize, job.fileBytes.length));
  const shardTensorBytes = input ? input.dims.reduce((a, b) => a * b, 1) * 4 : 0;
  if (shardTensorBytes > LIMITS.maxTensorBytes) {
    problems.push(
      `a shard of ${job.shardSize} images decodes to ${formatBytes(shardTensorBytes)}, over the protocol's limit of ${formatBytes(LIMITS.maxTensorBytes)} per tensor: choose a smaller shard size.`,
    );
  }
  return problems;
}

/**
 * [J-9] A pipeline with no run-model stage (OCR, VAD) names its models and dictionary by hash
 * inside an asset bundle sent as the job's model; one with a run-model stage runs the model sent.
 */
export function pipelineNeedsBundle(pipeline: Pipeline): boolean {
  return !pipeline.stages.some((s) => s.op === 'run-model');
}

/** [J-9] Why a bundle with these entries cannot serve the pipeline (an asset it names is missing), or null. */
export function bundleAssetsProblem(pipeline: Pipeline, entries: readonly { readonly name: string; readonly hash: string }[]): string | null {
  const held = new Set(entries.map((e) => e.hash));
  const missing = pipelineModels(pipeline).filter((h) => !held.has(h));
  if (missing.length === 0) return null;
  const list = missing.map((h) => `${h.slice(0, 12)}…`).join(', ');
  return `the pipeline names ${missing.length === 1 ? 'an asset' : `${missing.length} assets`} the bundle does not hold (${list}; it holds ${entries.map((e) => e.name).join(', ')}): build the bundle and the pipeline from the same files`;
}
