/**
 * Cutting a job's batch into a shard's inputs: rows [start, start+count) of every input tensor.
 */
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
