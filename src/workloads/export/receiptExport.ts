/**
 * [AU-6] Receipts travel with every export, and this file reads an export back into what a
 * receipt vouches for (protocol/receiptCheck.ts). JSON exports carry the receipt inline
 * (`"receipt"`, after the shards); CSV, text and `.npy` exports get a sidecar file
 * `<export>.receipt.json` (`RECEIPT_SIDECAR_FORMAT`): the receipt and which file and output it
 * goes with. A sidecar rather than a bundle (zip) so that the export itself stays the plain file
 * people open, byte for byte what it was.
 *
 * Reading is lenient on purpose: a value that is not a number becomes NaN (or 0), and the shard
 * it belongs to then fails its digest, so an edited file is reported by shard, never with a crash.
 */
import { answerSchema, type Answer } from '../../protocol/pipeline.ts';
import type { ExportedResults, ExportedShard } from '../../protocol/receiptCheck.ts';
import { BYTES_PER_ELEMENT, TENSOR_DTYPES, elementCount, type TensorDtype } from '../../protocol/tensor.ts';
import { parseNpy } from '../inputs/npy.ts';
import { ANSWERS_FORMAT } from './answerExporters.ts';
import { RESULTS_FORMAT } from './exporters.ts';
import { errorMessage } from '../../protocol/errorMessage.ts';

export const RECEIPT_SIDECAR_FORMAT = 'quorum-receipt-sidecar/1';

/** Which kind of export a sidecar goes with. */
export type SidecarExport = 'results-csv' | 'npy' | 'answers-csv' | 'answers-text';

/** The sidecar of a CSV, text or `.npy` export. */
export function receiptSidecar(receipt: unknown, file: string, kind: SidecarExport, output?: string): string {
  return JSON.stringify({ format: RECEIPT_SIDECAR_FORMAT, file, kind, ...(output !== undefined ? { output } : {}), receipt }, null, 1) + '\n';
}

/** The sidecar's file name for an export's. */
export const sidecarName = (exportName: string): string => `${exportName}.receipt.json`;

export class ExportReadError extends Error {
  override readonly name = 'ExportReadError';
}

/** What an export file holds for a receipt check: the receipt (unchecked) and the shards. */
export interface ExportForReceipt {
  readonly receipt: unknown;
  readonly exported: ExportedResults;
  /** What was read, for the report: "JSON results", "CSV results", ".npy of output y". */
  readonly what: string;
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

interface ShardRow {
  readonly index: number;
  readonly start: number;
  readonly count: number;
  readonly volunteers: readonly string[];
}

/** The export's own list of shards (provenance), as far as it is well formed. */
function shardList(v: unknown): ShardRow[] {
  if (!Array.isArray(v)) throw new ExportReadError('the export has no "shards" list: it is not a Quorum export, or it was cut short.');
  return v.filter(isRecord).map((s) => ({
    index: Number(s['index']),
    start: Number(s['start']),
    count: Number(s['count']),
    volunteers: Array.isArray(s['volunteers']) ? s['volunteers'].map(String) : [],
  }));
}

/** One element as the dtype stores it; what is not a number of that kind becomes NaN or 0. */
function setElement(view: DataView, at: number, dtype: TensorDtype, v: unknown): void {
  const num = typeof v === 'number' ? v : typeof v === 'string' && v !== '' ? Number(v) : v === true ? 1 : v === false ? 0 : NaN;
  switch (dtype) {
    case 'float32':
      // JSON writes NaN and ±Infinity as null: read back as NaN (see SECURITY.md for ±Infinity).
      return view.setFloat32(at, v === null ? NaN : num, true);
    case 'int64': {
      let big = 0n;
      try {
        big = typeof v === 'bigint' ? v : BigInt(typeof v === 'string' ? v : Number.isInteger(num) ? num : 0);
      } catch {
        big = 0n;
      }
      return view.setBigInt64(at, BigInt.asIntN(64, big), true);
    }
    case 'int32':
      return view.setInt32(at, Number.isFinite(num) ? num : 0, true);
    case 'int8':
      return view.setInt8(at, Number.isFinite(num) ? num : 0);
    case 'uint8':
    case 'bool':
      return view.setUint8(at, Number.isFinite(num) ? num : 0);
  }
}

/** Flattens one item's nested values (JSON) in C order. */
function flatten(v: unknown, out: unknown[]): void {
  if (Array.isArray(v)) for (const x of v) flatten(x, out);
  else out.push(v);
}

function tensorOf(
  name: string,
  dtype: TensorDtype,
  inner: readonly number[],
  rows: readonly (readonly unknown[])[],
): NonNullable<ExportedShard['outputs']>[number] {
  const per = elementCount(inner);
  const size = BYTES_PER_ELEMENT[dtype];
  const data = new ArrayBuffer(rows.length * per * size);
  const view = new DataView(data);
  rows.forEach((row, r) => {
    for (let k = 0; k < per; k++) setElement(view, (r * per + k) * size, dtype, row[k]);
  });
  return { name, dtype, dims: [rows.length, ...inner], data };
}

const dtypeOf = (v: unknown): TensorDtype => ((TENSOR_DTYPES as readonly unknown[]).includes(v) ? (v as TensorDtype) : 'float32');

/** [AU-6] A JSON export of tensors (`quorum-results/2`), receipt inline. */
function fromResultsJson(doc: Record<string, unknown>): ExportForReceipt {
  const outputs = Array.isArray(doc['outputs']) ? doc['outputs'].filter(isRecord) : [];
  const shards = shardList(doc['shards']).map((s): ExportedShard => {
    const tensors = outputs.map((o) => {
      const dims = Array.isArray(o['dims']) ? o['dims'].map(Number) : [];
      const values = Array.isArray(o['values']) ? o['values'] : [];
      const rows = Array.from({ length: Math.max(0, s.count) }, (_, k) => {
        const flat: unknown[] = [];
        flatten(values[s.start + k], flat);
        return flat;
      });
      return tensorOf(String(o['name']), dtypeOf(o['dtype']), dims.slice(1), rows);
    });
    return { shard: s.index, start: s.start, count: s.count, outputs: tensors, volunteers: s.volunteers };
  });
  return { receipt: doc['receipt'], exported: { jobId: String(doc['jobId']), shards }, what: 'JSON results' };
}

/** [AU-6] A JSON export of answers (`quorum-answers/1`), receipt inline. */
function fromAnswersJson(doc: Record<string, unknown>): ExportForReceipt {
  const entries = Array.isArray(doc['answers']) ? doc['answers'] : [];
  const shards = shardList(doc['shards']).map((s): ExportedShard => {
    const answers: Answer[] = [];
    for (let k = 0; k < s.count; k++) {
      const entry = entries[s.start + k];
      // Parsed as the coordinator parsed it, so the canonical text is built from the same fields.
      const parsed = answerSchema.safeParse(isRecord(entry) ? entry['answer'] : undefined);
      answers.push(parsed.success ? parsed.data : ({ kind: 'labels', labels: [] } as Answer));
    }
    return { shard: s.index, start: s.start, count: s.count, answers, volunteers: s.volunteers };
  });
  return { receipt: doc['receipt'], exported: { jobId: String(doc['jobId']), shards }, what: 'JSON answers' };
}

/** RFC 4180 rows: quoted cells may hold commas, quotes (doubled) and newlines. */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i] as string;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (c === '"') quoted = false;
      else cell += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      row.push(cell);
      cell = '';
    } else if (c === '\n') {
      row.push(cell);
      rows.push(row);
      row = [];
      cell = '';
    } else if (c !== '\r') cell += c;
  }
  if (cell !== '' || row.length > 0) {
    row.push(cell);
    rows.push(row);
  }
  return rows;
}

/** A text cell as written, less the `'` that neutralised a formula. */
const cellText = (s: string): string => (/^'[=+\-@\t\r]/.test(s) ? s.slice(1) : s);

/** The leaves' output layouts, in the order the exporters write them (the first shard's). */
function receiptLayouts(receipt: unknown): { name: string; dtype: TensorDtype; inner: number[] }[] {
  const leaves = isRecord(receipt) && Array.isArray(receipt['leaves']) ? receipt['leaves'] : [];
  const first = [...leaves].filter(isRecord).sort((a, b) => Number(a['shard']) - Number(b['shard']))[0];
  const outputs = first && Array.isArray(first['outputs']) ? first['outputs'].filter(isRecord) : [];
  return outputs.map((o) => ({ name: String(o['name']), dtype: dtypeOf(o['dtype']), inner: (Array.isArray(o['dims']) ? o['dims'].map(Number) : []).slice(1) }));
}

/** [AU-6] The tensor CSV export, its layout taken from the receipt (CSV cells carry no dtype). */
function fromResultsCsv(text: string, receipt: unknown): ExportedShard[] {
  const rows = parseCsv(text).slice(1);
  const layouts = receiptLayouts(receipt);
  const byShard = new Map<number, { start: number; volunteers: string[]; rows: string[][] }>();
  for (const row of rows) {
    if (row[2] !== 'true') continue;
    const shard = Number(row[3]);
    const entry = byShard.get(shard) ?? {
      start: Number(row[0]),
      volunteers: cellText(row[4] ?? '')
        .split(' ')
        .filter(Boolean),
      rows: [],
    };
    entry.rows.push(row);
    byShard.set(shard, entry);
  }
  return [...byShard].map(([shard, e]) => {
    let column = 6;
    const outputs = layouts.map((l) => {
      const per = elementCount(l.inner);
      const values = e.rows.map((r) => r.slice(column, column + per));
      column += per;
      return tensorOf(l.name, l.dtype, l.inner, values);
    });
    return { shard, start: e.start, count: e.rows.length, outputs, volunteers: e.volunteers };
  });
}

/** [AU-6] One output as `.npy`: each leaf's rows of it. */
function fromNpy(bytes: Uint8Array, output: string, receipt: unknown): ExportedShard[] {
  const npy = parseNpy(bytes);
  const inner = npy.shape.slice(1);
  const rowBytes = elementCount(inner) * BYTES_PER_ELEMENT[npy.dtype];
  const leaves = isRecord(receipt) && Array.isArray(receipt['leaves']) ? receipt['leaves'].filter(isRecord) : [];
  return leaves.map((l) => {
    const start = Number(l['start']);
    const count = Number(l['count']);
    const from = Math.min(npy.data.byteLength, start * rowBytes);
    const data = npy.data.slice(from, Math.min(npy.data.byteLength, from + count * rowBytes));
    const rows = data.byteLength / Math.max(1, rowBytes);
    return { shard: Number(l['shard']), start, count: rows, outputs: [{ name: output, dtype: npy.dtype, dims: [rows, ...inner], data }] };
  });
}

/**
 * [AU-6] Reads an export (its bytes) and, for CSV, text and `.npy`, its sidecar (JSON text), into
 * what a receipt check needs. Throws `ExportReadError` saying what is missing.
 */
export function readExportForReceipt(fileName: string, bytes: Uint8Array, sidecarText: string | null): ExportForReceipt {
  const text = (): string => new TextDecoder().decode(bytes);
  if (/\.json$/i.test(fileName) && !/\.receipt\.json$/i.test(fileName)) {
    let doc: unknown;
    try {
      doc = JSON.parse(text());
    } catch (e) {
      throw new ExportReadError(`${fileName} is not JSON (${errorMessage(e)}): it was cut short or is not an export.`);
    }
    if (!isRecord(doc)) throw new ExportReadError(`${fileName} is not a Quorum export.`);
    if (doc['receipt'] === undefined) throw new ExportReadError(`${fileName} has no receipt: export it again from a coordinator that signs receipts.`);
    if (doc['format'] === RESULTS_FORMAT) return fromResultsJson(doc);
    if (doc['format'] === ANSWERS_FORMAT) return fromAnswersJson(doc);
    throw new ExportReadError(`${fileName} is "${String(doc['format'])}", not a results export this verifier reads.`);
  }
  if (sidecarText === null) throw new ExportReadError(`${fileName} needs its receipt: put ${sidecarName(fileName)} beside it (or name it with --receipt).`);
  let sidecar: unknown;
  try {
    sidecar = JSON.parse(sidecarText);
  } catch {
    throw new ExportReadError(`the receipt of ${fileName} is not JSON: download it again.`);
  }
  if (!isRecord(sidecar) || sidecar['format'] !== RECEIPT_SIDECAR_FORMAT)
    throw new ExportReadError(`the receipt of ${fileName} is not a ${RECEIPT_SIDECAR_FORMAT} file.`);
  const receipt = sidecar['receipt'];
  const jobId = isRecord(receipt) && isRecord(receipt['body']) ? String(receipt['body']['jobId']) : null;
  switch (sidecar['kind']) {
    case 'results-csv':
      return { receipt, exported: { jobId, shards: fromResultsCsv(text(), receipt) }, what: 'CSV results' };
    case 'npy': {
      const output = String(sidecar['output']);
      return { receipt, exported: { jobId, shards: fromNpy(bytes, output, receipt) }, what: `.npy of output "${output}"` };
    }
    default:
      throw new ExportReadError(
        `${fileName} is a ${String(sidecar['kind'])} export: its text does not keep every field an answer has, so only the JSON export of answers can be checked value by value. Verify that one.`,
      );
  }
}
