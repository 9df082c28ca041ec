/**
 * Verified results as files: JSON (everything, with provenance), CSV (one row per item) and NPY
 * (one output as a NumPy array, bit-exact). Pure: strings and bytes out; the page turns them into
 * downloads.
 *
 * Values are exact: float32 is written as the shortest decimal that reads back as the same
 * float32, int64 as an integer (a JSON string beyond ±2^53). Items that are not verified get
 * empty CSV cells, `null` rows in JSON, and NaN (float32) or 0 rows in NPY, with `verified` saying
 * which rows those are.
 */
import type { WireTensor } from '../../protocol/tensor.ts';
import { writeNpy } from '../inputs/npy.ts';
import { formatFloat32, rowValues, type AssembledResults } from './assemble.ts';

export const RESULTS_FORMAT = 'quorum-results/1';

function valueText(t: WireTensor, v: number | bigint): string {
  if (t.dtype === 'float32') return formatFloat32(v as number);
  return String(v);
}

function jsonValue(t: WireTensor, v: number | bigint): number | string | boolean {
  if (t.dtype === 'float32') return Number(formatFloat32(v as number));
  if (t.dtype === 'bool') return v === 1;
  if (typeof v === 'bigint') return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v.toString();
  return v;
}

/** Rows back into the item's own shape ([] → value, [3] → [a, b, c], [2, 2] → [[a, b], [c, d]]). */
function nest(values: readonly (number | string | boolean)[], inner: readonly number[]): unknown {
  if (inner.length === 0) return values[0];
  if (inner.length === 1) return values;
  const [, ...rest] = inner;
  const step = rest.reduce((a, b) => a * b, 1);
  return Array.from({ length: inner[0] as number }, (_, i) => nest(values.slice(i * step, (i + 1) * step), rest));
}

export function resultsToJson(r: AssembledResults): string {
  const doc = {
    format: RESULTS_FORMAT,
    jobId: r.jobId,
    name: r.name,
    items: r.items,
    verifiedItems: r.verifiedItems,
    outputs: r.outputs.map((t) => ({
      name: t.name,
      dtype: t.dtype,
      dims: t.dims,
      /** One entry per item, in item order; null where the item is not verified. */
      values: Array.from({ length: r.items }, (_, i) =>
        r.verified[i] ? nest(rowValues(t, i).map((v) => jsonValue(t, v)), t.dims.slice(1)) : null,
      ),
    })),
    /** Provenance: which volunteers agreed on each shard, on which backends. */
    shards: r.shards,
  };
  return JSON.stringify(doc, null, 1);
}

function csvCell(s: string): string {
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

function columnNames(t: WireTensor): string[] {
  const inner = t.dims.slice(1);
  const n = inner.reduce((a, b) => a * b, 1);
  if (inner.length === 0) return [t.name];
  return Array.from({ length: n }, (_, flat) => {
    const idx: number[] = [];
    let rest = flat;
    for (let d = inner.length - 1; d >= 0; d--) {
      const size = inner[d] as number;
      idx.unshift(rest % size);
      rest = Math.floor(rest / size);
    }
    return `${t.name}[${idx.join(',')}]`;
  });
}

/**
 * One row per item: `item, verified, shard, volunteers, backends`, then every output value
 * (`name[i]`, or `name[i,j]` for items with several dims). Volunteers and backends of a shard are
 * separated by spaces, in the same order.
 */
export function resultsToCsv(r: AssembledResults): string {
  const byItem = new Array<AssembledResults['shards'][number] | undefined>(r.items);
  for (const s of r.shards) for (let i = s.start; i < s.start + s.count; i++) byItem[i] = s;
  const header = ['item', 'verified', 'shard', 'volunteers', 'backends', ...r.outputs.flatMap(columnNames)];
  const widths = r.outputs.map((t) => columnNames(t).length);
  const lines = [header.map(csvCell).join(',')];
  for (let i = 0; i < r.items; i++) {
    const s = byItem[i];
    const ok = r.verified[i] === 1 && s !== undefined;
    const cells = [String(i), ok ? 'true' : 'false', ok ? String(s.index) : '', ok ? s.volunteers.join(' ') : '', ok ? s.backends.join(' ') : ''];
    r.outputs.forEach((t, k) => {
      if (ok) cells.push(...rowValues(t, i).map((v) => valueText(t, v)));
      else cells.push(...new Array<string>(widths[k] ?? 0).fill(''));
    });
    lines.push(cells.map(csvCell).join(','));
  }
  return lines.join('\n') + '\n';
}

/** One output as a `.npy` file, shape [items, ...], bytes exactly as verified. */
export function resultsToNpy(r: AssembledResults, outputName: string): Uint8Array<ArrayBuffer> {
  const t = r.outputs.find((o) => o.name === outputName);
  if (!t) throw new Error(`the job has no output named "${outputName}" (it has ${r.outputs.map((o) => `"${o.name}"`).join(', ')}).`);
  return writeNpy({ dtype: t.dtype, shape: t.dims, data: t.data });
}

/** A file name safe on every OS, from a job id and what the file holds. */
export function exportFileName(jobId: string, what: string, ext: 'json' | 'csv' | 'npy'): string {
  return `${jobId}-${what.replace(/[^A-Za-z0-9._-]+/g, '_')}.${ext}`;
}
