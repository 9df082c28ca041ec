import { describe, expect, it } from 'vitest';
import { ctcGreedyDecode, parseCharset } from './ctcDecode.ts';

/** One-hot-ish rows: at each step class `c` gets probability `p`, the rest share what is left. */
function steps(classes: number, seq: readonly [number, number][]): Float32Array {
  const out = new Float32Array(seq.length * classes);
  seq.forEach(([c, p], t) => {
    for (let k = 0; k < classes; k++) out[t * classes + k] = k === c ? p : (1 - p) / (classes - 1);
  });
  return out;
}

describe('CTC greedy decode', () => {
  const charset = parseCharset('a\nb\r\nc\n');

  it('reads the dictionary as blank, its lines, then the space', () => {
    expect(charset).toEqual(['', 'a', 'b', 'c', ' ']);
  });

  it('merges repeats, drops blanks, keeps a letter repeated across a blank, averages kept steps', () => {
    // a a _ a b b _ _ ␣ c  →  "aab c"
    const probs = steps(5, [
      [1, 0.9],
      [1, 0.7],
      [0, 0.99],
      [1, 0.8],
      [2, 0.6],
      [2, 0.95],
      [0, 0.9],
      [0, 0.9],
      [4, 0.5],
      [3, 0.7],
    ]);
    const r = ctcGreedyDecode(probs, 10, 5, charset);
    expect(r.text).toBe('aab c');
    expect(r.confidence).toBeCloseTo((0.9 + 0.8 + 0.6 + 0.5 + 0.7) / 5, 6);
  });

  it('takes the first of equal probabilities and gives 0 confidence to an empty line', () => {
    const tie = Float32Array.from([0, 0.5, 0.5, 0, 0]);
    expect(ctcGreedyDecode(tie, 1, 5, charset).text).toBe('a');
    expect(ctcGreedyDecode(steps(5, [[0, 1]]), 1, 5, charset)).toEqual({ text: '', confidence: 0 });
  });

  it('refuses a model whose classes do not match the dictionary', () => {
    expect(() => ctcGreedyDecode(new Float32Array(6), 1, 6, charset)).toThrow(/6 classes but its dictionary has 5/);
    expect(() => parseCharset('')).toThrow(/dictionary is empty/);
  });
});
