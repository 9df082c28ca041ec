/**
 * Cutting a job's batch into a shard's inputs: rows [start, start+count) of every input tensor,
 * or items [start, start+count) of a job of files ([J-7]).
 */
import type { JobFile } from '../../protocol/jobFiles.ts';
import type { Pipeline } from '../../protocol/pipeline.ts';
import { BYTES_PER_ELEMENT, elementCount, type WireTensor } from '../../protocol/tensor.ts';

export function itemBytes(t: WireTensor): number {
  return elementCount(t.dims.slice(1)) * BYTES_PER_ELEMENT[t.dtype];
}

export function sliceRows(t: WireTensor, start: number, count: number): WireTensor {
  const per = itemBytes(t);
  return {
    name: t.name,
    dtype: t.dtype,
    dims: [count, ...t.dims.slice(1)],
    data: t.data.slice(start * per, (start + count) * per),
  };
}

/** The batch size shared by all inputs, or an error message saying why there is none. */
export function batchSizeOf(inputs: readonly WireTensor[]): number | string {
  if (inputs.length === 0) return 'the job has no inputs';
  let batch: number | null = null;
  for (const t of inputs) {
    const first = t.dims[0];
    if (first === undefined) return `input "${t.name}" is a scalar; inputs need a batch dimension first`;
    if (batch === null) batch = first;
    else if (first !== batch) return `inputs disagree on batch size: "${t.name}" has ${first}, expected ${batch}`;
  }
  if (batch === 0) return 'the batch is empty: submit at least one item';
  return batch ?? 'the job has no inputs';
}

/** What a job's items are: its tensors, or its files (with the pipeline that reads them). */
export interface JobItems {
  readonly inputs: readonly WireTensor[];
  readonly files?: readonly JobFile[] | undefined;
  readonly pipeline?: Pipeline | undefined;
}

/** A lease's items, as its frame carries them. */
export interface ShardItems {
  inputs: WireTensor[];
  files?: JobFile[];
  pipeline?: Pipeline;
}

/** [J-7] The number of items: one per file, or the tensors' shared batch size; a message saying why there is none. */
export function itemCountOf(job: JobItems): number | string {
  if (job.files === undefined) return batchSizeOf(job.inputs);
  if (job.files.length === 0) return 'the job has no files: choose at least one';
  return job.files.length;
}

/** [J-7] A lease's items for shard [start, start+count): tensor rows, or the shard's files and the pipeline. */
export function shardItems(job: JobItems, start: number, count: number): ShardItems {
  if (job.files === undefined || job.pipeline === undefined) return { inputs: job.inputs.map((t) => sliceRows(t, start, count)) };
  return { inputs: [], files: job.files.slice(start, start + count), pipeline: job.pipeline };
}
