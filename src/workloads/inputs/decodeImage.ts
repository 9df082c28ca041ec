/**
 * Images to tensors, the browser part: decode at the image's native size without colour
 * management, read the RGBA pixels back through an OffscreenCanvas, resize them with the
 * project's own arithmetic (resizeImage.ts) and hand them to the pure `pixelsToTensor`.
 *
 * Why not let the browser resize and convert: Chromium colour-manages PNGs that carry gAMA, cHRM,
 * sRGB or iCCP chunks (shifting pixels by up to 9/255 for a gAMA of 1/1.8), and canvas scaling
 * differs by browser and GPU, so two requesters (or a requester and the Node reference) would
 * build different tensors from the same file. With `colorSpaceConversion: 'none'` the bitmap
 * holds the file's stored values; drawing it onto the default (sRGB) 2D canvas at 1:1 converts
 * nothing (checked by e2e/decode.spec.ts). Straight alpha (`premultiplyAlpha: 'none'`) keeps the
 * colour of opaque pixels exact; the canvas still stores premultiplied colour, so the colour of
 * translucent pixels may round, which `pixelsToTensor` accepts as it ignores alpha.
 */
import { ImageTensorError, pixelsToTensor, stackImages, type ImagePreprocessing } from './imageTensor.ts';
import type { NpyArray } from './npy.ts';
import { checkImagePixels, resizeRgba } from './resizeImage.ts';

/** Options that make `createImageBitmap` hand over the file's stored values, untouched. */
export const EXACT_DECODE: ImageBitmapOptions = { colorSpaceConversion: 'none', premultiplyAlpha: 'none' };

/**
 * The RGBA pixels of an image file at its native size, as stored in the file. Works in a Worker
 * too (createImageBitmap and OffscreenCanvas both exist there): volunteers decode a job's files
 * with it ([W-22]), the requester's page to check them before sending.
 */
export async function decodePixels(
  file: Blob & { readonly name?: string },
  name: string = file.name ?? 'image',
): Promise<{ width: number; height: number; rgba: Uint8ClampedArray }> {
  let bitmap: ImageBitmap;
  try {
    bitmap = await createImageBitmap(file, EXACT_DECODE);
  } catch {
    throw new ImageTensorError(`could not decode "${name}" as an image: use PNG or JPEG files.`);
  }
  try {
    const { width, height } = bitmap;
    // Before the canvas and its pixel copy double what the bitmap already holds.
    checkImagePixels(width, height, name);
    const canvas = new OffscreenCanvas(width, height);
    // willReadFrequently keeps the canvas on the CPU: no GPU round trip (or GPU rounding) on read.
    const ctx = canvas.getContext('2d', { willReadFrequently: true });
    if (!ctx) throw new ImageTensorError('this browser has no 2D OffscreenCanvas to read image pixels.');
    ctx.drawImage(bitmap, 0, 0);
    return { width, height, rgba: ctx.getImageData(0, 0, width, height).data };
  } finally {
    bitmap.close();
  }
}

/** One image file as the tensor `p` describes: exact decode, own resize, then normalisation. */
export async function decodeImage(file: Blob & { readonly name?: string }, p: ImagePreprocessing): Promise<Float32Array> {
  const { width, height, rgba } = await decodePixels(file);
  const sized = width === p.width && height === p.height ? rgba : resizeRgba(rgba, width, height, p.width, p.height);
  return pixelsToTensor(sized, p.width, p.height, p);
}

/** Every file, in the order given, as one batch [N, ...]. */
export async function imagesToTensor(files: readonly Blob[], p: ImagePreprocessing): Promise<NpyArray> {
  const images: Float32Array[] = [];
  for (const f of files) images.push(await decodeImage(f, p));
  return stackImages(images, p);
}
