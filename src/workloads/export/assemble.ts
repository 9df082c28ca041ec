/**
 * A job's verified shards put back together in item order: one tensor per model output with the
 * job's item count as its first dim, plus which items are verified and who verified each shard.
 * The tensors hold the verified bytes exactly as the coordinator published them; rows of items
 * that are not verified (unverifiable shards) are NaN for float32 and 0 for other dtypes, and
 * `verified[i]` says which is which. A pipeline job's shards carry answers instead ([V-12]): one
 * per item, kept in item order in `answers` (null for items not verified). Pure.
 */
import type { VerifiedShard } from '../../protocol/messages.ts';
import type { Answer } from '../../protocol/pipeline.ts';
import type { SignedReceipt } from '../../protocol/receipt.ts';
import { BYTES_PER_ELEMENT, elementCount, type TensorDtype, type WireTensor } from '../../protocol/tensor.ts';

export interface ShardProvenance {
  readonly index: number;
  readonly start: number;
  readonly count: number;
  /** The volunteers whose results agreed, and the backends they really ran, in the same order. */
  readonly volunteers: readonly string[];
  readonly backends: readonly string[];
}

export interface AssembledResults {
  readonly jobId: string;
  readonly name: string;
  readonly items: number;
  readonly verifiedItems: number;
  /** One per model output, dims [items, ...]. */
  readonly outputs: readonly WireTensor[];
  /** 1 where the item's shard is verified, 0 elsewhere. */
  readonly verified: Uint8Array;
  /** The shards that were verified, by index. */
  readonly shards: readonly ShardProvenance[];
  /** Each item's name (its input file, `batch.npy#3`), in item order; null when the job has none. */
  readonly itemNames: readonly string[] | null;
  /** [V-12] A pipeline job's answers, one per item in item order (null where not verified); null for a job of tensors. */
  readonly answers: readonly (Answer | null)[] | null;
  /** [AU-6] The coordinator's signed receipt for these shards, when it sent one: exports carry it. */
  readonly receipt?: SignedReceipt | null;
}

export class AssembleError extends Error {
  override readonly name = 'AssembleError';
}

export function assembleResults(jobId: string, name: string, items: number, shards: readonly VerifiedShard[], itemNames?: readonly string[]): AssembledResults {
  const sorted = [...shards].sort((a, b) => a.start - b.start);
  const first = sorted[0];
  const verified = new Uint8Array(items);
  const layouts = (first?.outputs ?? []).map((o) => ({ name: o.name, dtype: o.dtype, inner: o.dims.slice(1) }));
  const buffers = layouts.map((l) => {
    const buf = new ArrayBuffer(items * elementCount(l.inner) * BYTES_PER_ELEMENT[l.dtype]);
    if (l.dtype === 'float32') new Float32Array(buf).fill(NaN);
    return buf;
  });
  // [V-12] Answers or tensors, for the whole job: a mix cannot be one table of results.
  const answers = sorted.some((s) => s.answers !== undefined) ? new Array<Answer | null>(items).fill(null) : null;
  for (const s of sorted) {
    if (s.start + s.count > items) throw new AssembleError(`shard ${s.index} covers items ${s.start}..${s.start + s.count - 1}, but the job has ${items}.`);
    if (answers) {
      if (s.answers?.length !== s.count) {
        throw new AssembleError(`shard ${s.index} has ${s.answers ? `${s.answers.length} answers` : 'no answers'} for its ${s.count} items.`);
      }
      s.answers.forEach((a, k) => (answers[s.start + k] = a));
    }
    if (s.outputs.length !== layouts.length)
      throw new AssembleError(`shard ${s.index} has ${s.outputs.length} outputs, shard ${first?.index} has ${layouts.length}.`);
    layouts.forEach((l, k) => {
      const o = s.outputs.find((t) => t.name === l.name);
      const innerMatches = o !== undefined && o.dims.length === l.inner.length + 1 && o.dims.slice(1).every((d, i) => d === l.inner[i]);
      if (!o || o.dtype !== l.dtype || !innerMatches || o.dims[0] !== s.count) {
        throw new AssembleError(`shard ${s.index}: output "${l.name}" does not match the other shards' ${l.dtype} [n, ${l.inner.join(', ')}].`);
      }
      const rowBytes = elementCount(l.inner) * BYTES_PER_ELEMENT[l.dtype];
      new Uint8Array(buffers[k] as ArrayBuffer, s.start * rowBytes, s.count * rowBytes).set(new Uint8Array(o.data, 0, s.count * rowBytes));
    });
    verified.fill(1, s.start, s.start + s.count);
  }
  return {
    jobId,
    name,
    items,
    verifiedItems: verified.reduce((n, v) => n + v, 0),
    outputs: layouts.map((l, k) => ({ name: l.name, dtype: l.dtype, dims: [items, ...l.inner], data: buffers[k] as ArrayBuffer })),
    verified,
    shards: sorted.map((s) => ({ index: s.index, start: s.start, count: s.count, volunteers: [...s.volunteers], backends: [...s.backends] })),
    // Names that do not match the items one to one would label rows wrongly: better none.
    itemNames: itemNames?.length === items ? [...itemNames] : null,
    answers,
  };
}

/** The tensor's data as its dtype's typed array (bool as bytes). */
export function typedView(dtype: TensorDtype, data: ArrayBuffer): Float32Array | Int32Array | BigInt64Array | Uint8Array | Int8Array {
  switch (dtype) {
    case 'float32':
      return new Float32Array(data);
    case 'int32':
      return new Int32Array(data);
    case 'int64':
      return new BigInt64Array(data);
    case 'int8':
      return new Int8Array(data);
    case 'uint8':
    case 'bool':
      return new Uint8Array(data);
  }
}

/**
 * The shortest decimal text that reads back as exactly this float32 (as NumPy prints float32):
 * "0.1" rather than the double's "0.10000000149011612".
 */
export function formatFloat32(v: number): string {
  if (!Number.isFinite(v)) return Number.isNaN(v) ? 'NaN' : v > 0 ? 'Infinity' : '-Infinity';
  if (Object.is(v, -0)) return '-0';
  for (let digits = 1; digits <= 9; digits++) {
    const s = v.toPrecision(digits);
    if (Math.fround(Number(s)) === v) return String(Number(s));
  }
  return String(v);
}
