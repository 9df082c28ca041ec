import { describe, expect, it } from 'vitest';
import type { Answer, OcrLine } from '../../protocol/pipeline.ts';
import { resolvePolicy } from '../../protocol/policy.ts';
import { f32, policy } from '../testing/fixtures.ts';
import { ROOM_FACTOR, SpreadTally, spreadWarnings, tensorSpread } from './spread.ts';

const allclose = (atol: number, rtol: number) => resolvePolicy({ ...policy(2, 2, 3), comparator: { kind: 'allclose', atol, rtol } });
const tensors = (...values: number[]) => ({ outputs: [f32('y', [1, values.length], values)] });
const line = (x: number, text: string): OcrLine => ({
  box: [
    [x, 0],
    [x + 100, 0],
    [x + 100, 10],
    [x, 10],
  ],
  text,
  confidence: 0.9,
});
const ocr = (...lines: OcrLine[]): { outputs: []; answers: Answer[] } => ({ outputs: [], answers: [{ kind: 'ocr', lines }] });

describe('[V-13] the honest spread between replicas', () => {
  it('tensorSpread: the largest difference, and the atol the rtol still needs', () => {
    expect(tensorSpread(f32('y', [3], [1, 10, 100]), f32('y', [3], [1.5, 10, 100.2]), 0)).toEqual({ maxAbs: 0.5, needAtol: 0.5 });
    const m = tensorSpread(f32('y', [3], [1, 10, 100]), f32('y', [3], [1.5, 10, 100.2]), 0.01)!;
    expect(m.maxAbs).toBe(0.5);
    expect(m.needAtol).toBeCloseTo(0.5 - 0.015, 6);
    expect(tensorSpread(f32('y', [2], [1, 2]), f32('y', [1, 2], [1, 2]), 0)).toBeNull();
    expect(tensorSpread(f32('y', [1], [Number.NaN]), f32('y', [1], [1]), 0)).toBeNull();
  });

  it('a tally keeps the worst pair per output and counts pairs across backends', () => {
    const tally = new SpreadTally();
    tally.add(tensors(1, 2), tensors(1.001, 2), true, allclose(1e-4, 0));
    tally.add(tensors(1, 2), tensors(1, 2.01), false, allclose(1e-4, 0));
    const s = tally.snapshot();
    expect(s).toMatchObject({ pairs: 2, crossBackendPairs: 1 });
    expect(s.outputs![0]!.maxAbs).toBeCloseTo(0.01, 5);
  });

  it('OCR answers: the smallest IoU of paired lines, the largest CER, and answers that did not pair up', () => {
    const tally = new SpreadTally();
    const p = resolvePolicy(policy(2, 2, 3), 'ocr');
    tally.add(ocr(line(0, 'total 12.80')), ocr(line(10, 'total 12.80')), true, p);
    tally.add(ocr(line(0, 'abcd')), ocr(line(0, 'abce')), true, p);
    tally.add(ocr(line(0, 'a'), line(500, 'b')), ocr(line(0, 'a')), false, p);
    const s = tally.snapshot();
    expect(s.ocr!.minIou).toBeCloseTo(90 / 110, 6);
    expect(s.ocr!.maxCer).toBe(0.25);
    expect(s.ocr!.unpaired).toBe(1);
    expect(s.pairs).toBe(3);
  });

  it('speech segments: the largest shift of a boundary, and pairs with another number of segments', () => {
    const tally = new SpreadTally();
    const p = resolvePolicy(policy(2, 2, 3), 'segments');
    const seg = (...s: [number, number][]): { outputs: []; answers: Answer[] } => ({
      outputs: [],
      answers: [{ kind: 'segments', segments: s.map(([start, end]) => ({ start, end })) }],
    });
    tally.add(seg([1, 2]), seg([1.032, 2]), true, p);
    tally.add(seg([1, 2]), seg([1, 2], [3, 4]), true, p);
    expect(tally.snapshot().segments).toEqual({ maxShiftSec: expect.closeTo(0.032, 9), countMismatch: 1 });
  });

  it('warns when the tolerance is below the honest spread, or so far above it that a liar has room, and not when it fits', () => {
    const measured = (maxAbs: number) => {
      const t = new SpreadTally();
      t.add(tensors(1), tensors(1 + maxAbs), true, allclose(1e-4, 0));
      return t.snapshot();
    };
    expect(spreadWarnings(allclose(1e-4, 0), measured(1e-3))).toEqual([
      expect.stringMatching(/needing atol ≥ 0\.00100 .* over the job's atol 0\.0001 .*1 pair of replicas \(1 across backends\)/),
    ]);
    expect(spreadWarnings(allclose(1e-4, 0), measured(1e-5))).toEqual([]);
    expect(spreadWarnings(allclose(ROOM_FACTOR * 2e-5, 0), measured(1e-5))).toEqual([expect.stringMatching(/a liar has room/)]);
    expect(spreadWarnings(allclose(1e-4, 0), undefined)).toEqual([]);
    const ocrPolicy = resolvePolicy({ ...policy(2, 2, 3), answerComparator: { kind: 'ocr', minIou: 0.9, maxCer: 0 } }, 'ocr');
    const t = new SpreadTally();
    t.add(ocr(line(0, 'x')), ocr(line(10, 'x')), true, ocrPolicy);
    expect(spreadWarnings(ocrPolicy, t.snapshot())).toEqual([expect.stringMatching(/IoU 0\.82, below the required 0\.9/)]);
  });
});
