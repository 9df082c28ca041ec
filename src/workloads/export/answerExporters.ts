/**
 * [V-12] Verified answers of a pipeline job as files a person reads: JSON (per item: its name and
 * its answer, with provenance), CSV (OCR: one row per text line with its confidence and box
 * corners; speech: one row per segment) and, for OCR, plain text (`==> name <==` before each
 * image's lines, as `head` prints several files). Pure, streamed like the tensor exporters:
 * generators of pieces of at most `EXPORT_PIECE_CHARS` characters, each atom one line of text or
 * one segment, so no answer is ever turned into one big string.
 *
 * Every item has a place in each file, so none goes missing unnoticed: an item not verified is
 * `"verified":false,"answer":null` in JSON and one row with `verified` false in CSV; an image
 * with no text is one row with an empty line number.
 */
import type { Answer, OcrLine, Segment } from '../../protocol/pipeline.ts';
import type { AssembledResults } from './assemble.ts';
import { csvText, inPieces, receiptAtoms, type ExportProgress } from './exporters.ts';

/** quorum-answers/1: `answers`, one entry per item in item order. */
export const ANSWERS_FORMAT = 'quorum-answers/1';

const json = (v: unknown): string => JSON.stringify(v);
const nameOf = (r: AssembledResults, i: number): string => r.itemNames?.[i] ?? `item ${i}`;

function answersOf(r: AssembledResults): readonly (Answer | null)[] {
  if (!r.answers) throw new Error('this job has no answers (its results are tensors): use the JSON, CSV or .npy export of its outputs.');
  return r.answers;
}

/** One answer as JSON, one text line or segment per atom. */
function* answerJson(a: Answer): Generator<string, void, undefined> {
  switch (a.kind) {
    case 'ocr':
      yield '{"kind":"ocr","lines":[';
      for (const [k, l] of a.lines.entries()) yield (k > 0 ? ',' : '') + json({ text: l.text, confidence: l.confidence, box: l.box });
      yield ']}';
      return;
    case 'segments':
      yield '{"kind":"segments","segments":[';
      for (const [k, s] of a.segments.entries()) yield (k > 0 ? ',' : '') + json({ start: s.start, end: s.end });
      yield ']}';
      return;
    case 'labels':
      yield json(a);
      return;
  }
}

function* jsonAtoms(r: AssembledResults, progress: ExportProgress | undefined): Generator<string, void, undefined> {
  const answers = answersOf(r);
  yield `{"format":${json(ANSWERS_FORMAT)},"jobId":${json(r.jobId)},"name":${json(r.name)},"items":${r.items},"verifiedItems":${r.verifiedItems},\n"answers":[`;
  for (let i = 0; i < r.items; i++) {
    const a = answers[i] ?? null;
    yield `${i > 0 ? ',' : ''}\n{"item":${i},"name":${json(nameOf(r, i))},"verified":${a !== null},"answer":`;
    if (a) yield* answerJson(a);
    else yield 'null';
    yield '}';
    progress?.((i + 1) / Math.max(1, r.items));
  }
  // Provenance: which volunteers agreed on each shard, on which backends.
  yield '\n],\n"shards":[';
  for (const [k, s] of r.shards.entries()) {
    yield (k > 0 ? ',\n' : '\n') + json({ index: s.index, start: s.start, count: s.count, volunteers: s.volunteers, backends: s.backends });
  }
  yield '\n]';
  yield* receiptAtoms(r);
  yield '}\n';
}

/** The JSON export of a pipeline job's answers (`ANSWERS_FORMAT`). */
export function answersToJsonParts(r: AssembledResults, progress?: ExportProgress): Generator<string, void, undefined> {
  return inPieces(jsonAtoms(r, progress));
}

const OCR_HEADER = 'item,file,verified,line,text,confidence,x1,y1,x2,y2,x3,y3,x4,y4\n';
const SEGMENT_HEADER = 'item,file,verified,segment,start_s,end_s\n';

const ocrRow = (prefix: string, n: number, l: OcrLine): string =>
  `${prefix},true,${n},${csvText(l.text)},${l.confidence},${l.box.map(([x, y]) => `${x},${y}`).join(',')}\n`;
const segmentRow = (prefix: string, n: number, s: Segment): string => `${prefix},true,${n},${s.start},${s.end}\n`;

function* csvAtoms(r: AssembledResults, progress: ExportProgress | undefined): Generator<string, void, undefined> {
  const answers = answersOf(r);
  const kind = answers.find((a) => a !== null)?.kind ?? 'ocr';
  const header = kind === 'segments' ? SEGMENT_HEADER : OCR_HEADER;
  const emptyCells = ','.repeat(header.split(',').length - 3);
  yield header;
  for (let i = 0; i < r.items; i++) {
    const a = answers[i] ?? null;
    const prefix = `${i},${csvText(nameOf(r, i))}`;
    if (a?.kind === 'ocr' && a.lines.length > 0) for (const [k, l] of a.lines.entries()) yield ocrRow(prefix, k + 1, l);
    else if (a?.kind === 'segments' && a.segments.length > 0) for (const [k, s] of a.segments.entries()) yield segmentRow(prefix, k + 1, s);
    // Not verified, or verified with no text / no speech: one row, so the item is still listed.
    else yield `${prefix},${a !== null}${emptyCells}\n`;
    progress?.((i + 1) / Math.max(1, r.items));
  }
}

/**
 * CSV of a pipeline job's answers. OCR: `item, file, verified, line, text, confidence, x1..y4`
 * (the box's corners clockwise from the top-left, in the image's pixels), one row per line;
 * speech: `item, file, verified, segment, start_s, end_s`, one row per segment. Text cells that a
 * spreadsheet would run as a formula are neutralised (`csvText`).
 */
export function answersToCsvParts(r: AssembledResults, progress?: ExportProgress): Generator<string, void, undefined> {
  return inPieces(csvAtoms(r, progress));
}

function* textAtoms(r: AssembledResults, progress: ExportProgress | undefined): Generator<string, void, undefined> {
  const answers = answersOf(r);
  for (let i = 0; i < r.items; i++) {
    const a = answers[i] ?? null;
    // Names are one line each: a newline in a file name would forge a separator.
    yield `${i > 0 ? '\n' : ''}==> ${nameOf(r, i).replace(/[\r\n]+/g, ' ')} <==\n`;
    if (a === null) yield '[not verified]\n';
    else if (a.kind === 'ocr') for (const l of a.lines) yield `${l.text.replace(/[\r\n]+/g, ' ')}\n`;
    else if (a.kind === 'segments') for (const s of a.segments) yield `${s.start.toFixed(3)}–${s.end.toFixed(3)} s\n`;
    progress?.((i + 1) / Math.max(1, r.items));
  }
}

/** Plain text: each item's recognised lines (or speech segments) under a `==> name <==` line. */
export function answersToTextParts(r: AssembledResults, progress?: ExportProgress): Generator<string, void, undefined> {
  return inPieces(textAtoms(r, progress));
}
