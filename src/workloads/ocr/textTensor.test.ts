import { describe, expect, it } from 'vitest';
import { OCR_PARAMS } from './params.ts';
import { recInputWidth, resizeNormPad } from './textTensor.ts';

describe('classifier and recognizer input', () => {
  it('resizes to the height keeping the aspect ratio, B, G, R planes in −1..1, zero padding', () => {
    // 2 × 4 crop: left column blue, right column white; 48 high → ceil(48 × 2 / 4) = 24 wide.
    const px: number[] = [];
    for (let y = 0; y < 4; y++) px.push(0, 0, 255, 255, 255, 255, 255, 255);
    const t = resizeNormPad({ width: 2, height: 4, rgba: Uint8ClampedArray.from(px) }, 48, 100);
    const plane = 48 * 100;
    expect(t.length).toBe(3 * plane);
    expect([t[0], t[plane], t[2 * plane]]).toEqual([1, -1, -1]); // blue first
    expect([t[23], t[plane + 23], t[2 * plane + 23]]).toEqual([1, 1, 1]);
    expect(t[24]).toBe(0);
    expect(t[plane - 1]).toBe(0);
  });

  it('squeezes a crop wider than the input to its width', () => {
    const t = resizeNormPad({ width: 40, height: 4, rgba: new Uint8ClampedArray(40 * 4 * 4).fill(255) }, 48, 192);
    expect(t[191]).toBe(1);
  });

  it("widens the recognizer's input with the crop's aspect ratio, between 320 and the cap", () => {
    expect(recInputWidth({ width: 100, height: 40 }, OCR_PARAMS)).toBe(320);
    expect(recInputWidth({ width: 400, height: 30 }, OCR_PARAMS)).toBe(640);
    expect(recInputWidth({ width: 5000, height: 20 }, OCR_PARAMS)).toBe(OCR_PARAMS.recMaxWidth);
  });
});
