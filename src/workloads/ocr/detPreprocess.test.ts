import { describe, expect, it } from 'vitest';
import { detInput, detInputSize } from './detPreprocess.ts';
import { roundHalfEven } from './rounding.ts';

describe('detector input', () => {
  it('rounds halves to even, as Python does', () => {
    expect([0.5, 1.5, 2.5, 3.5, 2.4, 2.6].map(roundHalfEven)).toEqual([0, 2, 2, 4, 2, 3]);
  });

  it('keeps small images at scale and rounds each side to a multiple of 32 (half to even)', () => {
    // 48 / 32 = 1.5 → 2; 80 / 32 = 2.5 → 2; 16 / 32 = 0.5 → 0 → at least 32.
    expect(detInputSize(192, 48, 960)).toEqual({ width: 192, height: 64 });
    expect(detInputSize(80, 16, 960)).toEqual({ width: 64, height: 32 });
  });

  it("scales the longest side down to the limit ('max' type) before rounding", () => {
    // ratio 0.5: 960 × 540, and 540 / 32 = 16.875 → 17 × 32 = 544.
    expect(detInputSize(1920, 1080, 960)).toEqual({ width: 960, height: 544 });
    expect(detInputSize(1000, 3000, 960)).toEqual({ width: 320, height: 960 });
  });

  it('feeds B, G, R planes with the mean/std applied by position, as PaddleOCR does', () => {
    // One red pixel, tiled to the 32 × 32 minimum by the resize (same colour everywhere).
    const rgba = Uint8Array.from([255, 0, 0, 255]);
    const { data, width, height } = detInput({ width: 1, height: 1, rgba }, 960);
    expect([width, height]).toEqual([32, 32]);
    const plane = 32 * 32;
    expect(data[0]).toBeCloseTo((0 - 0.485) / 0.229, 6); // blue plane, first mean/std
    expect(data[plane]).toBeCloseTo((0 - 0.456) / 0.224, 6);
    expect(data[2 * plane]).toBeCloseTo((1 - 0.406) / 0.225, 6); // red plane, third mean/std
  });
});
