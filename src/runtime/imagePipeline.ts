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
const shortName = (name: string): string => (name.length > 80 ? `${name.slice(0, 79)}…` : name);

/** The shard's files as one batch tensor [N, ...] for the pipeline's image-tensor stage. */
export async function filesToTensor(pipeline: Pipeline, files: readonly JobFile[], decode: ImageDecoder): Promise<WireTensor> {
  const stages = imageStages(pipeline);
  if (!stages) throw new ItemDecodeError('this volunteer runs only decode-image → image-tensor → run-model pipelines on files');
  const { input, width, height, layout, channels, normalisation } = stages.tensor;
  const p: ImagePreprocessing = { width, height, layout, channels, normalisation };
  const images: Float32Array[] = [];
  for (const [i, file] of files.entries()) {
    const name = shortName(file.name);
    let image: DecodedImage;
    try {
      image = await decode(file.bytes, name);
      checkImagePixels(image.width, image.height, name);
      if (image.width * image.height > stages.decode.maxPixels) {
        throw new Error(`it is ${image.width}×${image.height}, over the pipeline's limit of ${stages.decode.maxPixels} pixels`);
      }
    } catch (err) {
      const why = err instanceof Error ? err.message : String(err);
      throw new ItemDecodeError(`file "${name}" (item ${i + 1} of the shard) could not be decoded: ${why.slice(0, 200)}`);
    }
    const sized = image.width === width && image.height === height ? image.rgba : resizeRgba(image.rgba, image.width, image.height, width, height);
    images.push(pixelsToTensor(sized, width, height, p));
  }
  const batch = stackImages(images, p);
  return { name: input, dtype: 'float32', dims: batch.shape, data: batch.data };
}
