/**
 * Images to tensors, the pure part: decoded RGBA pixels (as ImageData holds them) become a
 * float32 tensor in the layout, channel order and value range a model expects. Decoding happens
 * in the browser (decodeImage.ts), resizing in resizeImage.ts; everything here is plain arithmetic
 * and tested in Node.
 */
import type { NpyArray } from './npy.ts';

export const LAYOUTS = ['CHW', 'HWC'] as const;
export type Layout = (typeof LAYOUTS)[number];

export const CHANNEL_ORDERS = ['RGB', 'BGR', 'gray'] as const;
export type ChannelOrder = (typeof CHANNEL_ORDERS)[number];

/** value = (pixel / 255 - mean[c]) / std[c], per channel in RGB order. */
export interface Normalisation {
  readonly label: string;
  readonly mean: readonly [number, number, number];
  readonly std: readonly [number, number, number];
  /** Used instead of mean/std for one-channel (gray) images. */
  readonly grayMean: number;
  readonly grayStd: number;
}

export const NORMALISATIONS = {
  unit: { label: '0..1 (pixel / 255)', mean: [0, 0, 0], std: [1, 1, 1], grayMean: 0, grayStd: 1 },
  imagenet: {
    label: 'ImageNet mean/std',
    mean: [0.485, 0.456, 0.406],
    std: [0.229, 0.224, 0.225],
    // The luma-weighted ImageNet statistics, as torchvision's Grayscale models use.
    grayMean: 0.449,
    grayStd: 0.226,
  },
  symmetric: { label: '-1..1 ((pixel / 255 - 0.5) / 0.5)', mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5], grayMean: 0.5, grayStd: 0.5 },
  raw: { label: '0..255 (pixel values as they are)', mean: [0, 0, 0], std: [1 / 255, 1 / 255, 1 / 255], grayMean: 0, grayStd: 1 / 255 },
} as const satisfies Record<string, Normalisation>;
export type NormalisationId = keyof typeof NORMALISATIONS;

export interface ImagePreprocessing {
  /** Every image is resized to width × height. */
  readonly width: number;
  readonly height: number;
  readonly layout: Layout;
  readonly channels: ChannelOrder;
  readonly normalisation: NormalisationId;
}

/** Named starting points; every field can still be changed on the form. */
export const IMAGE_PRESETS: Readonly<Record<string, ImagePreprocessing>> = {
  'ImageNet 224 (CHW, RGB, mean/std)': { width: 224, height: 224, layout: 'CHW', channels: 'RGB', normalisation: 'imagenet' },
  'MNIST 28×28 gray (0..1)': { width: 28, height: 28, layout: 'CHW', channels: 'gray', normalisation: 'unit' },
  'CHW, RGB, -1..1': { width: 224, height: 224, layout: 'CHW', channels: 'RGB', normalisation: 'symmetric' },
  'HWC, BGR, 0..255': { width: 224, height: 224, layout: 'HWC', channels: 'BGR', normalisation: 'raw' },
};

export class ImageTensorError extends Error {
  override readonly name = 'ImageTensorError';
}

/** ITU-R BT.601 luma, the weights PIL's convert('L') and OpenCV's cvtColor use. */
const LUMA = [0.299, 0.587, 0.114] as const;

export function channelCount(p: ImagePreprocessing): number {
  return p.channels === 'gray' ? 1 : 3;
}

/** Dims of one image's tensor, without the batch dim. */
export function imageDims(p: ImagePreprocessing): number[] {
  const c = channelCount(p);
  return p.layout === 'CHW' ? [c, p.height, p.width] : [p.height, p.width, c];
}

export function checkPreprocessing(p: ImagePreprocessing): void {
  for (const [what, v] of [
    ['width', p.width],
    ['height', p.height],
  ] as const) {
    if (!Number.isInteger(v) || v < 1 || v > 8192) throw new ImageTensorError(`image ${what} must be an integer from 1 to 8192, not ${v}.`);
  }
}

/**
 * One image's RGBA pixels (width × height × 4 bytes, row-major, as ImageData holds them) as a
 * float32 tensor of `imageDims(p)`. Alpha is ignored.
 */
export function pixelsToTensor(rgba: ArrayLike<number>, width: number, height: number, p: ImagePreprocessing): Float32Array {
  checkPreprocessing(p);
  if (width !== p.width || height !== p.height) {
    throw new ImageTensorError(`image is ${width}×${height}, but the preprocessing expects ${p.width}×${p.height}: resize it first.`);
  }
  if (rgba.length !== width * height * 4) {
    throw new ImageTensorError(`expected ${width * height * 4} RGBA bytes for ${width}×${height}, got ${rgba.length}.`);
  }
  const norm: Normalisation = NORMALISATIONS[p.normalisation];
  const c = channelCount(p);
  const plane = width * height;
  const out = new Float32Array(plane * c);
  // Source channel (in RGBA) for each output channel.
  const source = p.channels === 'BGR' ? [2, 1, 0] : [0, 1, 2];
  for (let i = 0; i < plane; i++) {
    const base = i * 4;
    for (let k = 0; k < c; k++) {
      let v: number;
      let mean: number;
      let std: number;
      if (p.channels === 'gray') {
        v = (LUMA[0] * (rgba[base] as number) + LUMA[1] * (rgba[base + 1] as number) + LUMA[2] * (rgba[base + 2] as number)) / 255;
        mean = norm.grayMean;
        std = norm.grayStd;
      } else {
        const s = source[k] as number;
        v = (rgba[base + s] as number) / 255;
        // Statistics follow the colour, not the slot: in BGR, slot 0 is blue and uses blue's mean.
        mean = norm.mean[s] as number;
        std = norm.std[s] as number;
      }
      const value = (v - mean) / std;
      out[p.layout === 'CHW' ? k * plane + i : i * c + k] = value;
    }
  }
  return out;
}

/** Stacks same-sized image tensors into one batch of shape [N, ...imageDims(p)]. */
export function stackImages(images: readonly Float32Array[], p: ImagePreprocessing): NpyArray {
  if (images.length === 0) throw new ImageTensorError('no images: choose at least one PNG or JPEG file.');
  const dims = imageDims(p);
  const per = dims.reduce((a, b) => a * b, 1);
  const out = new Float32Array(per * images.length);
  images.forEach((img, n) => {
    if (img.length !== per) throw new ImageTensorError(`image ${n + 1} has ${img.length} values, expected ${per}.`);
    out.set(img, n * per);
  });
  return { dtype: 'float32', shape: [images.length, ...dims], data: out.buffer };
}

/** PaddleOCR's recognizer input: 48 high, 320 wide (`rec_image_shape` 3,48,320). */
const TEXT_LINE_WIDTH_PER_HEIGHT = 320 / 48;

/**
 * Fits the preprocessing to a model input's declared dims: [N, C, H, W] with C = 1 or 3 means
 * CHW, [N, H, W, C] means HWC; fixed H and W set the size, C = 1 means gray. [N, 3, H, W] with a
 * fixed H and a free W is a text-line recognizer (PaddleOCR's convention: lines scaled to a fixed
 * height, read as OpenCV reads them, BGR, normalised to -1..1): 48 high gets PaddleOCR's 48×320.
 * Anything else (or free dims) leaves `current` as it is.
 */
export function suggestPreprocessing(dims: readonly (number | string)[] | null, current: ImagePreprocessing): ImagePreprocessing {
  if (!dims || dims.length !== 4) return current;
  const fixed = (d: number | string | undefined): d is number => typeof d === 'number' && d > 0;
  const [, a, b, c] = dims;
  const colour = (n: number): ChannelOrder => (n === 1 ? 'gray' : current.channels === 'gray' ? 'RGB' : current.channels);
  if (fixed(a) && (a === 1 || a === 3) && fixed(b) && fixed(c)) return { ...current, layout: 'CHW', channels: colour(a), height: b, width: c };
  if (fixed(c) && (c === 1 || c === 3) && fixed(a) && fixed(b)) return { ...current, layout: 'HWC', channels: colour(c), height: a, width: b };
  if (a === 3 && fixed(b) && !fixed(c)) {
    return { layout: 'CHW', channels: 'BGR', normalisation: 'symmetric', height: b, width: Math.round(b * TEXT_LINE_WIDTH_PER_HEIGHT) };
  }
  return current;
}
