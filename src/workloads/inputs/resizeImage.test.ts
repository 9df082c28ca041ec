import { describe, expect, it } from 'vitest';
import { checkImagePixels, ImageSizeError, MAX_IMAGE_PIXELS, resizeRgba } from './resizeImage.ts';

/** RGBA pixels from gray levels (R = G = B = v), opaque. */
const gray = (values: readonly number[]): number[] => values.flatMap((v) => [v, v, v, 255]);
/** The red channel of each resized pixel. */
const reds = (rgba: Uint8ClampedArray): number[] => Array.from(rgba.filter((_, i) => i % 4 === 0));

describe('resizeRgba: bilinear, half-pixel centres, clamped edges (INTER_LINEAR)', () => {
  it('the same size is an exact copy, alpha included', () => {
    const src = [1, 2, 3, 4, 250, 251, 252, 0, 9, 8, 7, 6, 100, 0, 200, 128, 5, 5, 5, 5, 0, 255, 0, 255];
    expect(Array.from(resizeRgba(src, 3, 2, 3, 2))).toEqual(src);
  });

  it('2×2 to 1×1 is the mean of the four pixels, each channel on its own', () => {
    const src = [0, 100, 200, 255, 10, 110, 210, 255, 20, 120, 220, 0, 30, 130, 230, 0];
    expect(Array.from(resizeRgba(src, 2, 2, 1, 1))).toEqual([15, 115, 215, 128]);
  });

  it('4×4 to 2×2 averages each 2×2 block', () => {
    const src = gray([0, 4, 8, 12, 16, 20, 24, 28, 32, 36, 40, 44, 48, 52, 56, 60]);
    expect(reds(resizeRgba(src, 4, 4, 2, 2))).toEqual([10, 18, 42, 50]);
  });

  it('upscaling repeats the edge pixels and blends in between', () => {
    // Destination centres at source x = -0.25 (clamped to 0), 0.25, 0.75, 1.25 (clamped to 1).
    expect(reds(resizeRgba(gray([0, 100]), 2, 1, 4, 1))).toEqual([0, 25, 75, 100]);
    // The same along y.
    expect(reds(resizeRgba(gray([0, 100]), 1, 2, 1, 4))).toEqual([0, 25, 75, 100]);
  });

  it('non-integer ratios, down and up, round half up', () => {
    // 3 → 2: centres at 0.25 and 1.75: 0·0.75 + 30·0.25 = 7.5 → 8; 30·0.25 + 90·0.75 = 75.
    expect(reds(resizeRgba(gray([0, 30, 90]), 3, 1, 2, 1))).toEqual([8, 75]);
    // 2 → 3: centres at -1/6 (clamped), 0.5 and 7/6 (clamped).
    expect(reds(resizeRgba(gray([0, 100]), 2, 1, 3, 1))).toEqual([0, 50, 100]);
    // 2×1 → 3×2 mixes both: rows repeat (one source row), columns as above.
    expect(reds(resizeRgba(gray([0, 100]), 2, 1, 3, 2))).toEqual([0, 50, 100, 0, 50, 100]);
  });

  it('refuses pixels that do not match the stated size', () => {
    expect(() => resizeRgba([0, 0, 0], 1, 1, 1, 1)).toThrow(/expected 4 RGBA bytes for 1×1, got 3/);
    expect(() => resizeRgba(gray([0]), 1, 1, 0, 1)).toThrow(ImageSizeError);
  });
});

describe('checkImagePixels', () => {
  it(`refuses an image over ${MAX_IMAGE_PIXELS / 1e6} megapixels, naming the file`, () => {
    expect(() => checkImagePixels(8000, 5000, 'scan.png')).not.toThrow();
    expect(() => checkImagePixels(8001, 5000, 'scan.png')).toThrow(ImageSizeError);
    expect(() => checkImagePixels(8001, 5000, 'scan.png')).toThrow(
      /"scan\.png" is 8001×5000 \(40\.0 megapixels\), over the limit of 40 megapixels: scale it down/,
    );
    expect(() => checkImagePixels(0, 10, 'empty.png')).toThrow(/"empty\.png" has no pixels/);
  });
});
