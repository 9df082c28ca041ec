/**
 * Images to tensors, the browser part: decode with createImageBitmap (which also resizes), read
 * the pixels back through an OffscreenCanvas, and hand them to the pure `pixelsToTensor`.
 */
import { ImageTensorError, pixelsToTensor, stackImages, type ImagePreprocessing } from './imageTensor.ts';
import type { NpyArray } from './npy.ts';

export async function decodeImage(file: Blob & { readonly name?: string }, p: ImagePreprocessing): Promise<Float32Array> {
  let bitmap: ImageBitmap;
  try {
    bitmap = await createImageBitmap(file, { resizeWidth: p.width, resizeHeight: p.height, resizeQuality: 'high' });
  } catch {
    throw new ImageTensorError(`could not decode "${file.name ?? 'image'}" as an image: use PNG or JPEG files.`);
  }
  try {
    const canvas = new OffscreenCanvas(p.width, p.height);
    const ctx = canvas.getContext('2d');
    if (!ctx) throw new ImageTensorError('this browser has no 2D OffscreenCanvas to read image pixels.');
    ctx.drawImage(bitmap, 0, 0);
    const { data } = ctx.getImageData(0, 0, p.width, p.height);
    return pixelsToTensor(data, p.width, p.height, p);
  } finally {
    bitmap.close();
  }
}

/** Every file, in the order given, as one batch [N, ...]. */
export async function imagesToTensor(files: readonly Blob[], p: ImagePreprocessing): Promise<NpyArray> {
  const images: Float32Array[] = [];
  for (const f of files) images.push(await decodeImage(f, p));
  return stackImages(images, p);
}
