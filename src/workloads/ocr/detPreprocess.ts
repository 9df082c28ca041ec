/**
 * The detector's input: PaddleOCR's DetResizeForTest (limit type 'max') followed by
 * NormalizeImage and ToCHWImage, with the project's own resize (resizeImage.ts) in place of
 * cv2.resize.
 *
 * Channel order: PaddleOCR reads images with cv2.imread, so the detector was trained and is
 * served with BGR planes, and NormalizeImage applies its mean/std lists *by position* to those
 * planes (0.485/0.229 to blue, …), not by colour. We do the same, so our tensor is PaddleOCR's.
 */
import { resizeRgba } from '../inputs/resizeImage.ts';
import { OcrError, type RgbaImage } from './params.ts';
import { roundHalfEven } from './rounding.ts';

const DET_MEAN = [0.485, 0.456, 0.406] as const;
const DET_STD = [0.229, 0.224, 0.225] as const;
/** RGBA offsets of the planes in the order PaddleOCR feeds them: B, G, R. */
const BGR = [2, 1, 0] as const;

/** The size the detector sees: longest side ≤ limit, both sides multiples of 32 (at least 32). */
export function detInputSize(width: number, height: number, limitSideLen: number): { width: number; height: number } {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
    throw new OcrError(`an image of ${width}×${height} pixels cannot be read: it has no pixels.`);
  }
  const ratio = Math.max(width, height) > limitSideLen ? limitSideLen / Math.max(width, height) : 1;
  // int() truncates, then the side is rounded to a multiple of 32.
  const w = Math.trunc(width * ratio);
  const h = Math.trunc(height * ratio);
  return { width: Math.max(roundHalfEven(w / 32) * 32, 32), height: Math.max(roundHalfEven(h / 32) * 32, 32) };
}

/** The detector's input tensor [1, 3, H, W] and the size it was made at. */
export function detInput(image: RgbaImage, limitSideLen: number): { data: Float32Array<ArrayBuffer>; width: number; height: number } {
  const size = detInputSize(image.width, image.height, limitSideLen);
  const px =
    size.width === image.width && size.height === image.height ? image.rgba : resizeRgba(image.rgba, image.width, image.height, size.width, size.height);
  const plane = size.width * size.height;
  const data = new Float32Array(3 * plane);
  for (let k = 0; k < 3; k++) {
    const src = BGR[k] as number;
    const mean = DET_MEAN[k] as number;
    const std = DET_STD[k] as number;
    const base = k * plane;
    for (let i = 0; i < plane; i++) data[base + i] = ((px[i * 4 + src] as number) / 255 - mean) / std;
  }
  return { data, ...size };
}
