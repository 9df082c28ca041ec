import { describe, expect, it } from 'vitest';
import type { Answer, OcrLine } from '../../protocol/pipeline.ts';
import { characterErrorRate, compareAnswerLists, compareAnswers, compareOcr, compareSegments, polygonArea, quadIou } from './answers.ts';

type Quad = OcrLine['box'];
const rect = (x: number, y: number, w: number, h: number): Quad => [
  [x, y],
  [x + w, y],
  [x + w, y + h],
  [x, y + h],
];
const line = (box: Quad, text: string, confidence = 0.9): OcrLine => ({ box, text, confidence });
const OCR = { kind: 'ocr', minIou: 0.5, maxCer: 0 } as const;

describe('quadIou', () => {
  it('is 1 for the same box, 0 for disjoint ones, and the overlap share otherwise', () => {
    expect(quadIou(rect(0, 0, 10, 10), rect(0, 0, 10, 10))).toBeCloseTo(1, 12);
    expect(quadIou(rect(0, 0, 10, 10), rect(20, 0, 10, 10))).toBe(0);
    // Half of each box overlaps: intersection 50, union 150.
    expect(quadIou(rect(0, 0, 10, 10), rect(5, 0, 10, 10))).toBeCloseTo(1 / 3, 12);
    // Containment: 25 / 100.
    expect(quadIou(rect(0, 0, 10, 10), rect(2, 2, 5, 5))).toBeCloseTo(0.25, 12);
  });

  it('handles rotated boxes and corners given in any order', () => {
    const diamond: Quad = [
      [5, 0],
      [10, 5],
      [5, 10],
      [0, 5],
    ];
    expect(polygonArea(diamond)).toBe(50);
    // The diamond lies inside the square: 50 / 100.
    expect(quadIou(diamond, rect(0, 0, 10, 10))).toBeCloseTo(0.5, 12);
    const scrambled: Quad = [
      [0, 0],
      [10, 10],
      [10, 0],
      [0, 10],
    ];
    expect(quadIou(scrambled, rect(0, 0, 10, 10))).toBeCloseTo(1, 12);
  });

  it('gives 0 for a degenerate box (a line or a point), never NaN', () => {
    const flat: Quad = [
      [0, 0],
      [10, 0],
      [10, 0],
      [0, 0],
    ];
    expect(quadIou(flat, rect(0, 0, 10, 10))).toBe(0);
  });
});

describe('characterErrorRate', () => {
  it('is the edit distance over the longer length, by code point', () => {
    expect(characterErrorRate('', '')).toBe(0);
    expect(characterErrorRate('Total 12.80', 'Total 12.80')).toBe(0);
    expect(characterErrorRate('Total 12.80', 'Total 12.8O')).toBeCloseTo(1 / 11, 12);
    expect(characterErrorRate('abc', '')).toBe(1);
    expect(characterErrorRate('kitten', 'sitting')).toBeCloseTo(3 / 7, 12);
    // One code point each, though the second is two UTF-16 units.
    expect(characterErrorRate('a😀', 'ab')).toBeCloseTo(1 / 2, 12);
    expect(characterErrorRate('VAT19%', 'VAT 19%')).toBe(characterErrorRate('VAT 19%', 'VAT19%'));
  });
});

describe('[V-9] the ocr comparator', () => {
  const honest = [line(rect(10, 10, 180, 30), 'Invoice 4711'), line(rect(10, 50, 120, 30), 'Total 12.80')];

  it('agrees when lines pair up by overlap and the texts are equal, whatever their order', () => {
    const shifted = [line(rect(11, 51, 120, 29), 'Total 12.80', 0.8), line(rect(9, 10, 181, 31), 'Invoice 4711', 0.7)];
    expect(compareOcr(honest, shifted, 0.5, 0)).toEqual({ agree: true, reason: '' });
  });

  it('disagrees on one changed character unless the CER tolerance allows it', () => {
    const lie = [honest[0]!, line(rect(10, 50, 120, 30), 'Total 92.80')];
    expect(compareOcr(honest, lie, 0.5, 0)).toMatchObject({ agree: false, reason: expect.stringMatching(/"Total 12.80" vs "Total 92.80"/) });
    expect(compareOcr(honest, lie, 0.5, 0.1).agree).toBe(true);
  });

  it('disagrees on a missing or extra line, and on a box that moved away', () => {
    expect(compareOcr(honest, honest.slice(0, 1), 0.5, 0)).toMatchObject({ agree: false, reason: '2 vs 1 lines' });
    const moved = [honest[0]!, line(rect(10, 120, 120, 30), 'Total 12.80')];
    expect(compareOcr(honest, moved, 0.5, 0)).toMatchObject({ agree: false, reason: expect.stringMatching(/overlaps no line/) });
  });

  it('pairs one to one: two lines cannot both claim the same partner', () => {
    const twice = [line(rect(10, 10, 180, 30), 'Invoice 4711'), line(rect(12, 10, 178, 30), 'Invoice 4711')];
    const other = [line(rect(10, 10, 180, 30), 'Invoice 4711'), line(rect(10, 50, 120, 30), 'Invoice 4711')];
    expect(compareOcr(twice, other, 0.5, 0).agree).toBe(false);
  });

  it('compares answers item by item and names the item', () => {
    const a: Answer[] = [
      { kind: 'ocr', lines: honest },
      { kind: 'ocr', lines: [] },
    ];
    const b: Answer[] = [
      { kind: 'ocr', lines: honest },
      { kind: 'ocr', lines: honest.slice(1) },
    ];
    expect(compareAnswerLists(a, a, OCR).agree).toBe(true);
    expect(compareAnswerLists(a, b, OCR)).toMatchObject({ agree: false, reason: 'item 1: 0 vs 1 lines' });
    expect(compareAnswerLists(a, a.slice(1), OCR)).toMatchObject({ agree: false, reason: '2 vs 1 answers' });
  });
});

describe('[V-10] the segments comparator', () => {
  const speech = [
    { start: 1.0, end: 2.496 },
    { start: 3.2, end: 4.0 },
  ];
  it('agrees within one frame (32 ms) and not beyond it', () => {
    expect(compareSegments(speech, [{ start: 1.032, end: 2.464 }, speech[1]!], 0.032).agree).toBe(true);
    expect(compareSegments(speech, [{ start: 1.0, end: 2.56 }, speech[1]!], 0.032)).toMatchObject({
      agree: false,
      reason: expect.stringMatching(/^segment 0/),
    });
    expect(compareSegments(speech, speech.slice(0, 1), 0.032)).toMatchObject({ agree: false, reason: '2 vs 1 segments' });
  });
});

describe('[V-11] labels, and answers of different kinds', () => {
  it('labels agree on the same classes in the same order; kinds never mix', () => {
    const a: Answer = {
      kind: 'labels',
      labels: [
        { index: 3, score: 0.9 },
        { index: 1, score: 0.05 },
      ],
    };
    const b: Answer = {
      kind: 'labels',
      labels: [
        { index: 3, score: 0.8 },
        { index: 1, score: 0.1 },
      ],
    };
    const c: Answer = {
      kind: 'labels',
      labels: [
        { index: 1, score: 0.5 },
        { index: 3, score: 0.4 },
      ],
    };
    expect(compareAnswers(a, b, { kind: 'labels' }).agree).toBe(true);
    expect(compareAnswers(a, c, { kind: 'labels' })).toMatchObject({ agree: false, reason: 'label 0: class 3 vs 1' });
    expect(compareAnswers(a, { kind: 'segments', segments: [] }, { kind: 'labels' }).agree).toBe(false);
    expect(compareAnswers({ kind: 'segments', segments: [] }, { kind: 'segments', segments: [] }, OCR).agree).toBe(false);
  });
});
