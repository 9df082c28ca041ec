import { describe, expect, it } from 'vitest';
import type { PeerId } from '../../protocol/ids.ts';
import type { VerifiedShard } from '../../protocol/messages.ts';
import type { Answer } from '../../protocol/pipeline.ts';
import { AssembleError, assembleResults } from './assemble.ts';
import { answersToCsvParts, answersToJsonParts, answersToTextParts } from './answerExporters.ts';
import { EXPORT_PIECE_CHARS } from './exporters.ts';

const all = (parts: Iterable<string>): string => [...parts].join('');
const answerShard = (index: number, start: number, answers: Answer[]): VerifiedShard => ({
  index,
  start,
  count: answers.length,
  outputs: [],
  answers,
  volunteers: ['vA', 'vB'] as PeerId[],
  backends: ['wasm', 'webgpu'],
});
const box = (x: number, y: number, w: number, h: number): [[number, number], [number, number], [number, number], [number, number]] => [
  [x, y],
  [x + w, y],
  [x + w, y + h],
  [x, y + h],
];
const ocr = (...lines: [string, number][]): Answer => ({
  kind: 'ocr',
  lines: lines.map(([text, confidence], k) => ({ text, confidence, box: box(2, 3 + 20 * k, 50, 16) })),
});

// 4 images in shards of 2 (arriving out of order), then one of 1; shard 1 (items 2-3) was unverifiable.
const OCR = assembleResults(
  'j1',
  'OCR × 5 images',
  5,
  [answerShard(2, 4, [ocr()]), answerShard(0, 0, [ocr(['Total 12.80', 0.98], ['=SUM(A1)', 0.5]), ocr(['Invoice, "4711"', 0.875])])],
  ['scans/a.png', 'scans/b.png', 'scans/c.png', 'scans/d.png', '=cmd|e.png'],
);
const VAD = assembleResults(
  'j2',
  'VAD × 2 WAV files',
  2,
  [
    answerShard(0, 0, [
      {
        kind: 'segments',
        segments: [
          { start: 0.75, end: 1.946 },
          { start: 3, end: 4.5 },
        ],
      },
      { kind: 'segments', segments: [] },
    ]),
  ],
  ['one.wav', 'two.wav'],
);

describe('assembleResults with answers [V-12]', () => {
  it('[V-12] keeps one answer per item in item order, null where the shard is not verified', () => {
    expect(OCR.answers?.map((a) => (a?.kind === 'ocr' ? a.lines.map((l) => l.text) : null))).toEqual([
      ['Total 12.80', '=SUM(A1)'],
      ['Invoice, "4711"'],
      null,
      null,
      [],
    ]);
    expect(OCR.verifiedItems).toBe(3);
    expect(OCR.outputs).toEqual([]);
  });
  it('[V-12] a shard whose answers do not cover its items is an error that names it', () => {
    const short = { ...answerShard(0, 0, [ocr()]), count: 2 };
    expect(() => assembleResults('j', 'n', 2, [short])).toThrow(new AssembleError('shard 0 has 1 answers for its 2 items.'));
  });
  it('a job of tensors has no answers', () => {
    const t = assembleResults('j', 'n', 1, [{ ...answerShard(0, 0, []), count: 1, answers: undefined as never, outputs: [] }]);
    expect(t.answers).toBeNull();
  });
});

describe('answer exports [V-12]', () => {
  it('JSON: per item its name and answer, with provenance (golden)', () => {
    const text = all(answersToJsonParts(VAD));
    expect(text).toBe(
      '{"format":"quorum-answers/1","jobId":"j2","name":"VAD × 2 WAV files","items":2,"verifiedItems":2,\n"answers":[' +
        '\n{"item":0,"name":"one.wav","verified":true,"answer":{"kind":"segments","segments":[{"start":0.75,"end":1.946},{"start":3,"end":4.5}]}},' +
        '\n{"item":1,"name":"two.wav","verified":true,"answer":{"kind":"segments","segments":[]}}' +
        '\n],\n"shards":[\n{"index":0,"start":0,"count":2,"volunteers":["vA","vB"],"backends":["wasm","webgpu"]}\n]}\n',
    );
    const parsed = JSON.parse(all(answersToJsonParts(OCR))) as { answers: { name: string; verified: boolean; answer: Answer | null }[] };
    expect(parsed.answers.map((a) => [a.name, a.verified])).toEqual([
      ['scans/a.png', true],
      ['scans/b.png', true],
      ['scans/c.png', false],
      ['scans/d.png', false],
      ['=cmd|e.png', true],
    ]);
    expect(parsed.answers[0]?.answer).toEqual(OCR.answers?.[0]);
  });

  it('CSV for OCR: one row per line with confidence and corners, formulas neutralised, every item listed (golden)', () => {
    expect(all(answersToCsvParts(OCR))).toBe(
      'item,file,verified,line,text,confidence,x1,y1,x2,y2,x3,y3,x4,y4\n' +
        '0,scans/a.png,true,1,Total 12.80,0.98,2,3,52,3,52,19,2,19\n' +
        "0,scans/a.png,true,2,'=SUM(A1),0.5,2,23,52,23,52,39,2,39\n" +
        '1,scans/b.png,true,1,"Invoice, ""4711""",0.875,2,3,52,3,52,19,2,19\n' +
        '2,scans/c.png,false,,,,,,,,,,,\n' +
        '3,scans/d.png,false,,,,,,,,,,,\n' +
        "4,'=cmd|e.png,true,,,,,,,,,,,\n",
    );
  });

  it('CSV for speech: one row per segment (golden)', () => {
    expect(all(answersToCsvParts(VAD))).toBe(
      'item,file,verified,segment,start_s,end_s\n0,one.wav,true,1,0.75,1.946\n0,one.wav,true,2,3,4.5\n1,two.wav,true,,,\n',
    );
  });

  it('plain text for OCR: each image’s lines under a ==> name <== line (golden)', () => {
    expect(all(answersToTextParts(OCR))).toBe(
      '==> scans/a.png <==\nTotal 12.80\n=SUM(A1)\n\n==> scans/b.png <==\nInvoice, "4711"\n\n==> scans/c.png <==\n[not verified]\n\n==> scans/d.png <==\n[not verified]\n\n==> =cmd|e.png <==\n',
    );
  });

  it('streams: many long lines come out in bounded pieces, with progress up to 1', () => {
    const line = 'x'.repeat(900);
    const answers = Array.from({ length: 400 }, () => ocr(...Array.from({ length: 20 }, (): [string, number] => [line, 0.9])));
    const big = assembleResults('j3', 'big', 400, [answerShard(0, 0, answers)]);
    for (const exporter of [answersToJsonParts, answersToCsvParts, answersToTextParts]) {
      let last = 0;
      const pieces = [...exporter(big, (f) => (last = f))];
      expect(pieces.length).toBeGreaterThan(100);
      expect(Math.max(...pieces.map((p) => p.length))).toBeLessThanOrEqual(EXPORT_PIECE_CHARS);
      expect(last).toBe(1);
    }
  });

  it('a job of tensors is refused with what to use instead', () => {
    const tensors = { ...VAD, answers: null };
    expect(() => all(answersToCsvParts(tensors))).toThrow(/no answers \(its results are tensors\): use the JSON, CSV or \.npy export/);
  });
});
