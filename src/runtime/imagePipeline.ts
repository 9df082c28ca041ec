/**
 * [W-22] A shard of a job of files made into the model's input, inside the volunteer's inference
 * Worker: each file decoded at its native size (the decoder is the host's: the browser's exact
 * decode in the Worker, pngjs in Node tests), resized by the project's own bilinear, laid out and
 * normalised by `pixelsToTensor`, and the batch stacked, so every volunteer builds the very tensor
 * the requester's reference would.
 */
import type { JobFile } from '../protocol/jobFiles.ts';
import { imageStages } from '../protocol/jobFiles.ts';
import type { Pipeline } from '../protocol/pipeline.ts';
import type { WireTensor } from '../protocol/tensor.ts';
import { pixelsToTensor, stackImages, type ImagePreprocessing } from '../workloads/inputs/imageTensor.ts';
import { checkImagePixels, resizeRgba } from '../workloads/inputs/resizeImage.ts';
import { errorMessage } from '../protocol/errorMessage.ts';
import { truncate } from '../core/format.ts';

/** An image's RGBA pixels at its native size, as stored in the file. */
export interface DecodedImage {
  readonly width: number;
  readonly height: number;
  readonly rgba: ArrayLike<number>;
}

/** Decodes one file's bytes; throws (with a message for people) when they are not an image it reads. */
export type ImageDecoder = (bytes: ArrayBuffer, name: string) => Promise<DecodedImage>;

/** A file of the shard could not be made into the model's input: the lease goes back, naming it. */
export class ItemDecodeError extends Error {
  override readonly name = 'ItemDecodeError';
}

/** Names in messages are cut short: a lease-abandon reason is bounded ([M-4]). */
const shortName = (name: string): string => truncate(name, 80);

/**
 * One file of the shard decoded at its native size and checked against the pixel limits, or an
 * ItemDecodeError naming it (and its place in the shard) so the lease goes back.
 */
export async function decodeItem(file: JobFile, index: number, decode: ImageDecoder, maxPixels: number): Promise<DecodedImage> {
  const name = shortName(file.name);
  try {
    const image = await decode(file.bytes, name);
    checkImagePixels(image.width, image.height, name);
    if (image.width * image.height > maxPixels) {
      throw new Error(`it is ${image.width}×${image.height}, over the pipeline's limit of ${maxPixels} pixels`);
    }
    return image;
  } catch (err) {
    throw itemError(file.name, index, err);
  }
}

/** The error that gives a lease back because of one of its files, whichever stage found it unreadable. */
export function itemError(fileName: string, index: number, err: unknown): ItemDecodeError {
  const why = errorMessage(err);
  return new ItemDecodeError(`file "${shortName(fileName)}" (item ${index + 1} of the shard) could not be decoded: ${why.slice(0, 200)}`);
}

/** The shard's files as one batch tensor [N, ...] for the pipeline's image-tensor stage. */
export async function filesToTensor(pipeline: Pipeline, files: readonly JobFile[], decode: ImageDecoder): Promise<WireTensor> {
  const stages = imageStages(pipeline);
  if (!stages) throw new ItemDecodeError('this volunteer runs only decode-image → image-tensor → run-model pipelines on files');
  const { input, width, height, layout, channels, normalisation } = stages.tensor;
  const p: ImagePreprocessing = { width, height, layout, channels, normalisation };
  const images: Float32Array[] = [];
  for (const [i, file] of files.entries()) {
    const image = await decodeItem(file, i, decode, stages.decode.maxPixels);
    const sized = image.width === width && image.height === height ? image.rgba : resizeRgba(image.rgba, image.width, image.height, width, height);
    images.push(pixelsToTensor(sized, width, height, p));
  }
  const batch = stackImages(images, p);
  return { name: input, dtype: 'float32', dims: batch.shape, data: batch.data };
}
