import { describe, expect, it } from 'vitest';
import { imageDims, ImageTensorError, pixelsToTensor, stackImages, suggestPreprocessing, type ImagePreprocessing } from './imageTensor.ts';

// A 2×1 image: a pure red pixel, then (10, 20, 30).
const RGBA = [255, 0, 0, 255, 10, 20, 30, 128];
const base: ImagePreprocessing = { width: 2, height: 1, layout: 'CHW', channels: 'RGB', normalisation: 'unit' };

const close = (a: Float32Array, b: readonly number[]): void => {
  expect(a.length).toBe(b.length);
  a.forEach((v, i) => expect(v).toBeCloseTo(b[i]!, 6));
};

describe('pixelsToTensor', () => {
  it('CHW RGB 0..1: planes of R, then G, then B', () => {
    close(pixelsToTensor(RGBA, 2, 1, base), [1, 10 / 255, 0, 20 / 255, 0, 30 / 255]);
  });
  it('HWC RGB 0..1: pixels interleaved', () => {
    close(pixelsToTensor(RGBA, 2, 1, { ...base, layout: 'HWC' }), [1, 0, 0, 10 / 255, 20 / 255, 30 / 255]);
  });
  it('BGR swaps red and blue', () => {
    close(pixelsToTensor(RGBA, 2, 1, { ...base, layout: 'HWC', channels: 'BGR' }), [0, 0, 1, 30 / 255, 20 / 255, 10 / 255]);
  });
  it('gray uses BT.601 luma and one channel', () => {
    close(pixelsToTensor(RGBA, 2, 1, { ...base, channels: 'gray' }), [0.299, (0.299 * 10 + 0.587 * 20 + 0.114 * 30) / 255]);
  });
  it('-1..1 and 0..255', () => {
    close(pixelsToTensor(RGBA, 2, 1, { ...base, normalisation: 'symmetric' }), [
      1,
      (10 / 255 - 0.5) / 0.5,
      -1,
      (20 / 255 - 0.5) / 0.5,
      -1,
      (30 / 255 - 0.5) / 0.5,
    ]);
    close(pixelsToTensor(RGBA, 2, 1, { ...base, normalisation: 'raw' }), [255, 10, 0, 20, 0, 30]);
  });
  it('ImageNet mean/std per colour, also when the channels are BGR', () => {
    const m = [0.485, 0.456, 0.406];
    const s = [0.229, 0.224, 0.225];
    const rgb = pixelsToTensor(RGBA, 2, 1, { ...base, normalisation: 'imagenet' });
    close(rgb, [(1 - m[0]!) / s[0]!, (10 / 255 - m[0]!) / s[0]!, -m[1]! / s[1]!, (20 / 255 - m[1]!) / s[1]!, -m[2]! / s[2]!, (30 / 255 - m[2]!) / s[2]!]);
    const bgr = pixelsToTensor(RGBA, 2, 1, { ...base, normalisation: 'imagenet', channels: 'BGR' });
    // slot 0 is blue: blue's statistics
    expect(bgr[0]).toBeCloseTo(-m[2]! / s[2]!, 6);
    expect(bgr[4]).toBeCloseTo((1 - m[0]!) / s[0]!, 6);
  });
  it('refuses pixels of another size or a bad preset', () => {
    expect(() => pixelsToTensor(RGBA, 1, 2, base)).toThrow(/resize it first/);
    expect(() => pixelsToTensor(RGBA.slice(0, 4), 2, 1, base)).toThrow(/expected 8 RGBA bytes/);
    expect(() => pixelsToTensor(RGBA, 2, 1, { ...base, width: 0 })).toThrow(ImageTensorError);
  });
});

describe('stackImages', () => {
  it('makes a batch [N, ...imageDims]', () => {
    const a = pixelsToTensor(RGBA, 2, 1, base);
    const t = stackImages([a, a], base);
    expect(t.shape).toEqual([2, ...imageDims(base)]);
    expect(t.shape).toEqual([2, 3, 1, 2]);
    expect(new Float32Array(t.data).length).toBe(12);
    expect(imageDims({ ...base, layout: 'HWC', channels: 'gray' })).toEqual([1, 2, 1]);
  });
  it('an empty batch is an error that says what to do', () => {
    expect(() => stackImages([], base)).toThrow(/choose at least one PNG or JPEG/);
  });
});

describe('suggestPreprocessing', () => {
  it('reads layout, size and gray from the model input dims', () => {
    expect(suggestPreprocessing(['N', 3, 224, 200], base)).toMatchObject({ layout: 'CHW', channels: 'RGB', height: 224, width: 200 });
    expect(suggestPreprocessing([1, 28, 28, 1], base)).toMatchObject({ layout: 'HWC', channels: 'gray', height: 28, width: 28 });
    expect(suggestPreprocessing(['N', 3, 'h', 'w'], base)).toBe(base);
    expect(suggestPreprocessing(['N', 784], base)).toBe(base);
    expect(suggestPreprocessing(['N', 3, 32, 32], { ...base, channels: 'BGR' }).channels).toBe('BGR');
  });
  it("a fixed height under a free width is a text-line recognizer, not an ImageNet model: PaddleOCR's 48×320, BGR, -1..1", () => {
    const imagenet: ImagePreprocessing = { width: 224, height: 224, layout: 'CHW', channels: 'RGB', normalisation: 'imagenet' };
    expect(suggestPreprocessing(['x', 3, 48, 'w'], imagenet)).toEqual({ width: 320, height: 48, layout: 'CHW', channels: 'BGR', normalisation: 'symmetric' });
    // Older recognizers are 32 high: the same width-to-height ratio.
    expect(suggestPreprocessing(['x', 3, 32, -1], imagenet)).toMatchObject({ width: 213, height: 32, normalisation: 'symmetric' });
    // A fixed width under a free height is no text line: left as it was.
    expect(suggestPreprocessing(['x', 3, 'h', 320], imagenet)).toBe(imagenet);
  });
});
