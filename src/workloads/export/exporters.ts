/**
 * Verified results as files: JSON (everything, with provenance), CSV (one row per item) and NPY
 * (one output as a NumPy array, bit-exact). Pure: text pieces and bytes out; the page turns them
 * into downloads.
 *
 * JSON and CSV are generators of pieces of at most `EXPORT_PIECE_CHARS` characters, meant for
 * `new Blob(pieces)`: a recognizer's softmax for 40 text lines is 10.6 M values, over 100 MiB of
 * text, and for 500 lines more than any one string can hold. Nothing here builds the whole text,
 * nor spreads a row of values into arguments (a row can have 265,000 of them).
 *
 * Values are exact: float32 is written as the shortest decimal that reads back as the same
 * float32, int64 as an integer (a JSON string beyond ±2^53). Items that are not verified get
 * empty CSV cells, `null` rows in JSON, and NaN (float32) or 0 rows in NPY, with `verified` saying
 * which rows those are. Each item's name (its input file) is in the JSON (`itemNames`) and the
 * CSV (`file`); an `.npy` holds numbers only, so the names are not in it.
 */
import { elementCount, type TensorDtype, type WireTensor } from '../../protocol/tensor.ts';
import { writeNpy } from '../inputs/npy.ts';
import { formatFloat32, typedView, type AssembledResults } from './assemble.ts';

/** quorum-results/2: compact (one item per line), with `itemNames`. /1 had one number per line. */
export const RESULTS_FORMAT = 'quorum-results/2';

/** The largest piece the exporters yield, in characters. Small enough to build in a few ms. */
export const EXPORT_PIECE_CHARS = 64 * 1024;

/**
 * Values per atom: 1024 values of at most 23 characters ("-9223372036854775808" quoted, and a
 * separator) stay well under a piece.
 */
const VALUES_PER_RUN = 1024;

/** Called with the share of the export written so far, 0..1. */
export type ExportProgress = (fraction: number) => void;

type Typed = ReturnType<typeof typedView>;

/**
 * Joins small atoms into pieces of at most `max` characters. Every atom the exporters make is
 * bounded (a run of values, one name, one header cell), so no piece is larger than `max`.
 */
export function* inPieces(atoms: Iterable<string>, max = EXPORT_PIECE_CHARS): Generator<string, void, undefined> {
  let buffer: string[] = [];
  let length = 0;
  for (const atom of atoms) {
    if (length > 0 && length + atom.length > max) {
      yield buffer.join('');
      buffer = [];
      length = 0;
    }
    buffer.push(atom);
    length += atom.length;
  }
  if (length > 0) yield buffer.join('');
}

function csvValue(dtype: TensorDtype, v: number | bigint): string {
  return dtype === 'float32' ? formatFloat32(v as number) : String(v);
}

function jsonValue(dtype: TensorDtype, v: number | bigint): string {
  switch (dtype) {
    case 'float32':
      // JSON has no NaN or Infinity: they are null, as JSON.stringify writes them.
      return Number.isFinite(v) ? formatFloat32(v as number) : 'null';
    case 'bool':
      return v === 1 ? 'true' : 'false';
    case 'int64':
      return (v as bigint) >= BigInt(Number.MIN_SAFE_INTEGER) && (v as bigint) <= BigInt(Number.MAX_SAFE_INTEGER) ? String(v) : `"${String(v)}"`;
    default:
      return String(v);
  }
}

/** Values `from`..`to` of `view`, as text, joined by `sep`, in runs of a bounded size. */
function* valueRuns(view: Typed, dtype: TensorDtype, from: number, to: number, format: typeof csvValue, sep: string): Generator<string, void, undefined> {
  for (let start = from; start < to; start += VALUES_PER_RUN) {
    const end = Math.min(to, start + VALUES_PER_RUN);
    const run = new Array<string>(end - start);
    for (let k = start; k < end; k++) run[k - start] = format(dtype, view[k] as number | bigint);
    yield (start > from ? sep : '') + run.join(sep);
  }
}

/** One item's values (from `offset`) in its own shape: [] → v, [3] → [a,b,c], [2,2] → [[a,b],[c,d]]. */
function* jsonNested(view: Typed, dtype: TensorDtype, offset: number, inner: readonly number[]): Generator<string, void, undefined> {
  if (inner.length === 0) {
    yield jsonValue(dtype, view[offset] as number | bigint);
    return;
  }
  const [size = 0, ...rest] = inner;
  if (rest.length === 0) {
    yield '[';
    yield* valueRuns(view, dtype, offset, offset + size, jsonValue, ',');
    yield ']';
    return;
  }
  const step = elementCount(rest);
  yield '[';
  for (let j = 0; j < size; j++) {
    if (j > 0) yield ',';
    yield* jsonNested(view, dtype, offset + j * step, rest);
  }
  yield ']';
}

const json = (s: string | number): string => JSON.stringify(s);

function* jsonAtoms(r: AssembledResults, progress: ExportProgress | undefined): Generator<string, void, undefined> {
  yield `{"format":${json(RESULTS_FORMAT)},"jobId":${json(r.jobId)},"name":${json(r.name)},"items":${r.items},"verifiedItems":${r.verifiedItems},\n`;
  // One name per item, in item order (its input file); null for jobs submitted without names.
  yield '"itemNames":';
  if (r.itemNames) {
    yield '[';
    for (let i = 0; i < r.itemNames.length; i++) yield (i > 0 ? ',' : '') + json(r.itemNames[i] as string);
    yield ']';
  } else {
    yield 'null';
  }
  yield ',\n"outputs":[';
  const work = Math.max(1, r.outputs.length * r.items);
  for (const [k, t] of r.outputs.entries()) {
    yield `${k > 0 ? ',' : ''}\n{"name":${json(t.name)},"dtype":${json(t.dtype)},"dims":${JSON.stringify(t.dims)},"values":[`;
    // One entry per item, in item order, one item per line; null where the item is not verified.
    const inner = t.dims.slice(1);
    const per = elementCount(inner);
    const view = typedView(t.dtype, t.data);
    for (let i = 0; i < r.items; i++) {
      yield i > 0 ? ',\n' : '\n';
      if (r.verified[i] === 1) yield* jsonNested(view, t.dtype, i * per, inner);
      else yield 'null';
      progress?.((k * r.items + i + 1) / work);
    }
    yield '\n]}';
  }
  // Provenance: which volunteers agreed on each shard, on which backends.
  yield '],\n"shards":[';
  for (const [k, s] of r.shards.entries()) {
    yield (k > 0 ? ',\n' : '\n') + JSON.stringify({ index: s.index, start: s.start, count: s.count, volunteers: s.volunteers, backends: s.backends });
  }
  yield '\n]';
  yield* receiptAtoms(r);
  yield '}\n';
}

/**
 * [AU-6] `,"receipt":{…}` when the results came with one: the body on one line, then each leaf
 * with its proof on a line of its own, so no atom grows with the job.
 */
export function* receiptAtoms(r: AssembledResults): Generator<string, void, undefined> {
  const receipt = r.receipt;
  if (!receipt) return;
  yield `,\n"receipt":{"body":${JSON.stringify(receipt.body)},"key":${json(receipt.key)},"sig":${json(receipt.sig)},\n"leaves":[`;
  for (const [k, leaf] of receipt.leaves.entries()) yield (k > 0 ? ',\n' : '\n') + JSON.stringify(leaf);
  yield '\n],\n"proofs":[';
  for (const [k, proof] of receipt.proofs.entries()) yield (k > 0 ? ',\n' : '\n') + JSON.stringify(proof);
  yield '\n]}';
}

/** The JSON export (`RESULTS_FORMAT`), as pieces of at most `EXPORT_PIECE_CHARS` characters. */
export function resultsToJsonParts(r: AssembledResults, progress?: ExportProgress): Generator<string, void, undefined> {
  return inPieces(jsonAtoms(r, progress));
}

/** Text that a spreadsheet would run as a formula begins with one of these. */
const FORMULA_START = /^[=+\-@\t\r]/;

/**
 * A CSV cell for text (a file name, an output name, volunteer ids): one that a spreadsheet would
 * read as a formula (`=HYPERLINK(…)`, `+1`, `-cmd`, `@SUM`) gets a leading `'` so it stays text.
 * Numbers are never passed here: `-0.5` is a value, not a formula.
 */
export function csvText(s: string): string {
  const safe = FORMULA_START.test(s) ? `'${s}` : s;
  return /[",\n\r]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

/** The CSV column names of one output, `name` or `name[i]` / `name[i,j]`, one at a time. */
function* columnNames(t: WireTensor): Generator<string, void, undefined> {
  const inner = t.dims.slice(1);
  if (inner.length === 0) {
    yield t.name;
    return;
  }
  const n = elementCount(inner);
  const idx = new Array<number>(inner.length);
  for (let flat = 0; flat < n; flat++) {
    let rest = flat;
    for (let d = inner.length - 1; d >= 0; d--) {
      const size = inner[d] as number;
      idx[d] = rest % size;
      rest = Math.floor(rest / size);
    }
    yield `${t.name}[${idx.join(',')}]`;
  }
}

function* csvAtoms(r: AssembledResults, progress: ExportProgress | undefined): Generator<string, void, undefined> {
  const byItem = new Array<AssembledResults['shards'][number] | undefined>(r.items);
  for (const s of r.shards) for (let i = s.start; i < s.start + s.count; i++) byItem[i] = s;
  yield 'item,file,verified,shard,volunteers,backends';
  for (const t of r.outputs) for (const c of columnNames(t)) yield `,${csvText(c)}`;
  yield '\n';
  const layouts = r.outputs.map((t) => {
    const per = elementCount(t.dims.slice(1));
    return { t, per, view: typedView(t.dtype, t.data) };
  });
  for (let i = 0; i < r.items; i++) {
    const s = byItem[i];
    const ok = r.verified[i] === 1 && s !== undefined;
    const file = csvText(r.itemNames?.[i] ?? '');
    yield ok ? `${i},${file},true,${s.index},${csvText(s.volunteers.join(' '))},${csvText(s.backends.join(' '))}` : `${i},${file},false,,,`;
    for (const { t, per, view } of layouts) {
      if (ok) {
        yield ',';
        yield* valueRuns(view, t.dtype, i * per, (i + 1) * per, csvValue, ',');
      } else {
        // Empty cells, in runs: a row can be hundreds of thousands of cells wide.
        for (let left = per; left > 0; left -= VALUES_PER_RUN) yield ','.repeat(Math.min(left, VALUES_PER_RUN));
      }
    }
    yield '\n';
    progress?.((i + 1) / Math.max(1, r.items));
  }
}

/**
 * One row per item: `item, file, verified, shard, volunteers, backends`, then every output value
 * (`name[i]`, or `name[i,j]` for items with several dims). Volunteers and backends of a shard are
 * separated by spaces, in the same order. As pieces of at most `EXPORT_PIECE_CHARS` characters.
 */
export function resultsToCsvParts(r: AssembledResults, progress?: ExportProgress): Generator<string, void, undefined> {
  return inPieces(csvAtoms(r, progress));
}

/** One output as a `.npy` file, shape [items, ...], bytes exactly as verified. */
export function resultsToNpy(r: AssembledResults, outputName: string): Uint8Array<ArrayBuffer> {
  const t = r.outputs.find((o) => o.name === outputName);
  if (!t) throw new Error(`the job has no output named "${outputName}" (it has ${r.outputs.map((o) => `"${o.name}"`).join(', ')}).`);
  return writeNpy({ dtype: t.dtype, shape: t.dims, data: t.data });
}

/** A file name safe on every OS, from a job id and what the file holds. */
export function exportFileName(jobId: string, what: string, ext: 'json' | 'csv' | 'npy' | 'txt'): string {
  return `${jobId}-${what.replace(/[^A-Za-z0-9._-]+/g, '_')}.${ext}`;
}
