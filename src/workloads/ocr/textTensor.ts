/**
 * Crops as the direction classifier's and the recognizer's input: PaddleOCR's resize_norm_img.
 * The crop is resized to the model's height keeping its aspect ratio (width rounded up, at most
 * the input width), put at the left, and the rest is zero, i.e. mid-grey after normalisation, as
 * PaddleOCR pads. Planes are B, G, R (cv2's order, which both models were trained on) and values
 * (pixel / 255 − 0.5) / 0.5.
 */
import { resizeRgba } from '../inputs/resizeImage.ts';
import type { OcrParams } from './params.ts';
import type { Rgba } from './crop.ts';

const BGR = [2, 1, 0] as const;

/** One crop, resized into a zero-padded [3, height, inputWidth] plane set. */
export function resizeNormPad(crop: Rgba, height: number, inputWidth: number): Float32Array<ArrayBuffer> {
  const resizedWidth = Math.min(Math.ceil((height * crop.width) / crop.height), inputWidth);
  const px = resizeRgba(crop.rgba, crop.width, crop.height, resizedWidth, height);
  const plane = height * inputWidth;
  const out = new Float32Array(3 * plane);
  for (let k = 0; k < 3; k++) {
    const src = BGR[k] as number;
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < resizedWidth; x++) {
        out[k * plane + y * inputWidth + x] = ((px[(y * resizedWidth + x) * 4 + src] as number) / 255 - 0.5) / 0.5;
      }
    }
  }
  return out;
}

/**
 * The recognizer's input width for one crop: PaddleOCR widens the 320-pixel default to the
 * crop's aspect ratio (int(48 × w / h)); we run every crop on its own, so the width does not
 * depend on which other crops shared a batch, and cap it at `recMaxWidth`.
 */
export function recInputWidth(crop: Pick<Rgba, 'width' | 'height'>, p: Pick<OcrParams, 'recHeight' | 'recMinWidth' | 'recMaxWidth'>): number {
  const wide = Math.trunc((p.recHeight * crop.width) / crop.height);
  return Math.min(Math.max(p.recMinWidth, wide), p.recMaxWidth);
}
