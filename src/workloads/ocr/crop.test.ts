import { describe, expect, it } from 'vitest';
import { cropBox, homography, rotate180, rotate90CounterClockwise } from './crop.ts';
import type { RgbaImage } from './params.ts';

/** 64 × 48 image whose red is x and green is y: a crop's pixels say where they were sampled. */
function coordinates(): RgbaImage {
  const width = 64;
  const height = 48;
  const rgba = new Uint8ClampedArray(width * height * 4);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) rgba.set([x, y, 0, 255], (y * width + x) * 4);
  return { width, height, rgba };
}

const at = (img: { width: number; rgba: ArrayLike<number> }, x: number, y: number): number[] =>
  Array.from({ length: 4 }, (_, k) => img.rgba[(y * img.width + x) * 4 + k] as number);

describe('crop', () => {
  it('solves the homography between four point pairs', () => {
    const m = homography(
      [
        [0, 0],
        [1, 0],
        [1, 1],
        [0, 1],
      ],
      [
        [2, 3],
        [6, 3],
        [6, 5],
        [2, 5],
      ],
    );
    expect(m.map((v) => +v.toFixed(12) + 0)).toEqual([4, 0, 2, 0, 2, 3, 0, 0, 1]);
  });

  it('cuts an axis-aligned box pixel for pixel', () => {
    const crop = cropBox(coordinates(), [
      [10, 5],
      [30, 5],
      [30, 15],
      [10, 15],
    ]);
    expect([crop.width, crop.height]).toEqual([20, 10]);
    expect(at(crop, 0, 0)).toEqual([10, 5, 0, 255]);
    expect(at(crop, 19, 9)).toEqual([29, 14, 0, 255]);
  });

  it('turns a box that runs down the page upright', () => {
    // Top edge from (40, 5) down to (40, 25), 10 pixels high towards the left: (u, v) → (40 − v, 5 + u).
    const crop = cropBox(coordinates(), [
      [40, 5],
      [40, 25],
      [30, 25],
      [30, 5],
    ]);
    expect([crop.width, crop.height]).toEqual([20, 10]);
    expect(at(crop, 0, 0)).toEqual([40, 5, 0, 255]);
    expect(at(crop, 7, 3)).toEqual([37, 12, 0, 255]);
  });

  it('samples between pixels bilinearly and repeats the edge outside the image', () => {
    const crop = cropBox(coordinates(), [
      [62.5, 0],
      [66.5, 0],
      [66.5, 4],
      [62.5, 4],
    ]);
    // x = 62.5 blends 62 and 63 (62.5 → 63 rounded half up); past 63 the edge repeats.
    expect(at(crop, 0, 0)[0]).toBe(63);
    expect(at(crop, 3, 0)[0]).toBe(63);
  });

  it('turns tall crops 90° counter-clockwise and rotates 180°', () => {
    const img = { width: 2, height: 3, rgba: Uint8ClampedArray.from([1, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0, 4, 0, 0, 0, 5, 0, 0, 0, 6, 0, 0, 0]) };
    const r90 = rotate90CounterClockwise(img);
    expect([r90.width, r90.height]).toEqual([3, 2]);
    // np.rot90([[1,2],[3,4],[5,6]]) = [[2,4,6],[1,3,5]]
    expect(Array.from({ length: 6 }, (_, i) => r90.rgba[i * 4])).toEqual([2, 4, 6, 1, 3, 5]);
    expect(Array.from({ length: 6 }, (_, i) => rotate180(img).rgba[i * 4])).toEqual([6, 5, 4, 3, 2, 1]);
    const tall = cropBox(coordinates(), [
      [10, 10],
      [14, 10],
      [14, 30],
      [10, 30],
    ]);
    expect([tall.width, tall.height]).toEqual([20, 4]);
  });
});
