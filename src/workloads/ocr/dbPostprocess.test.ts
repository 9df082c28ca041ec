import { describe, expect, it } from 'vitest';
import { boxesFromMap, boxScore, type ProbabilityMap } from './dbPostprocess.ts';
import { OCR_PARAMS } from './params.ts';

/** A width × height map of zeros with rectangles [x0, x1] × [y0, y1] (inclusive) set to `value`. */
function map(width: number, height: number, blocks: readonly [number, number, number, number, number][]): ProbabilityMap {
  const data = new Float32Array(width * height);
  for (const [x0, x1, y0, y1, v] of blocks) for (let y = y0; y <= y1; y++) for (let x = x0; x <= x1; x++) data[y * width + x] = v;
  return { width, height, data };
}

const P = { detThresh: 0.3, detBoxThresh: 0.6, detUnclipRatio: 1.5, detMaxCandidates: 1000 };

describe('DB postprocess', () => {
  it('scores a box by the mean probability of the pixels it covers, outline included', () => {
    const m = map(10, 10, [[2, 5, 2, 3, 1]]);
    // 4 × 2 ones inside a 6 × 4 box: 8 of 24 pixels.
    expect(
      boxScore(m, [
        [1, 1],
        [6, 1],
        [6, 4],
        [1, 4],
      ]),
    ).toBeCloseTo(8 / 24, 12);
  });

  it('scores a rotated box over the pixels inside it, not over its bounding box', () => {
    // Ones on the diamond |x − 5| + |y − 5| ≤ 4 (41 pixels), zeros around it in its 9 × 9 bounds.
    const data = new Float32Array(121);
    for (let y = 0; y < 11; y++) for (let x = 0; x < 11; x++) data[y * 11 + x] = Math.abs(x - 5) + Math.abs(y - 5) <= 4 ? 1 : 0;
    expect(
      boxScore({ width: 11, height: 11, data }, [
        [5, 1],
        [9, 5],
        [5, 9],
        [1, 5],
      ]),
    ).toBe(1);
  });

  it('turns one block into its unclipped rectangle, ordered clockwise from top-left', () => {
    // Pixel centres x 10..49, y 12..19: a 39 × 7 rectangle centred at (29.5, 15.5).
    const m = map(64, 32, [[10, 49, 12, 19, 0.9]]);
    const d = (39 * 7 * 1.5) / (2 * (39 + 7)); // 4.45
    const [box, ...rest] = boxesFromMap(m, 64, 32, P);
    expect(rest).toEqual([]);
    expect(box?.score).toBeCloseTo(0.9, 6);
    const x0 = Math.round(29.5 - 19.5 - d); // 5.55 → 6
    const x1 = Math.round(29.5 + 19.5 + d); // 53.45 → 53
    const y0 = Math.round(15.5 - 3.5 - d); // 7.55 → 8
    const y1 = Math.round(15.5 + 3.5 + d); // 23.45 → 23
    expect(box?.box).toEqual([
      [x0, y0],
      [x1, y0],
      [x1, y1],
      [x0, y1],
    ]);
  });

  it('scales boxes back to the original image size', () => {
    const m = map(64, 32, [[10, 49, 12, 19, 0.9]]);
    const [box] = boxesFromMap(m, 128, 64, P);
    // The same corners × 2: 5.55 → 11.1 → 11; 53.45 → 106.9 → 107; 7.55 → 15.1 → 15; 23.45 → 46.9 → 47.
    expect(box?.box).toEqual([
      [11, 15],
      [107, 15],
      [107, 47],
      [11, 47],
    ]);
  });

  it('drops faint regions (below box_thresh), specks (side < 3) and keeps the rest in scan order', () => {
    const m = map(80, 40, [
      [5, 30, 2, 8, 0.4], // above thresh 0.3, but a mean of 0.4 < 0.6
      [40, 41, 3, 4, 1], // 2 × 2 speck
      [5, 70, 20, 28, 0.95],
    ]);
    const boxes = boxesFromMap(m, 80, 40, P);
    expect(boxes).toHaveLength(1);
    expect(boxes[0]?.box[0][1]).toBeGreaterThan(10);
  });

  it('clips boxes that grow past the image to its last pixel', () => {
    const m = map(32, 32, [[0, 31, 10, 20, 1]]);
    const [box] = boxesFromMap(m, 32, 32, OCR_PARAMS);
    for (const [x, y] of box?.box ?? []) {
      expect(x).toBeGreaterThanOrEqual(0);
      expect(x).toBeLessThanOrEqual(31);
      expect(y).toBeGreaterThanOrEqual(0);
      expect(y).toBeLessThanOrEqual(31);
    }
    expect(box?.box[0][0]).toBe(0);
    expect(box?.box[1][0]).toBe(31);
  });
});
