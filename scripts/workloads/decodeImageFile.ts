/**
 * Image files to RGBA pixels in Node, for the reference run: PNG with pngjs and JPEG with jpeg-js,
 * both pure JavaScript and free of colour management, so the pixels are the file's stored values
 * as the browser's exact decode gives them (decodeImage.ts). The size is read from the header and
 * checked against the pixel limit before anything is decoded.
 */
import path from 'node:path';
import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import { checkImagePixels } from '../../src/workloads/inputs/resizeImage.ts';
import type { RgbaImage } from '../../src/workloads/ocr/params.ts';
import type { ImageDecoder } from '../../src/runtime/imagePipeline.ts';
import { errorMessage } from '../../src/protocol/errorMessage.ts';

export class ImageFileError extends Error {
  override readonly name = 'ImageFileError';
}

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

export type ImageKind = 'png' | 'jpeg';

export function imageKind(bytes: Uint8Array): ImageKind | null {
  if (bytes.length >= 24 && PNG_SIGNATURE.every((b, i) => bytes[i] === b)) return 'png';
  if (bytes.length >= 4 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return 'jpeg';
  return null;
}

/** Width and height from a JPEG's first start-of-frame marker, or null when there is none. */
function jpegSize(bytes: Uint8Array): { width: number; height: number } | null {
  let i = 2;
  while (i + 9 < bytes.length) {
    if (bytes[i] !== 0xff) return null;
    const marker = bytes[i + 1] as number;
    // Fill bytes and markers without a length.
    if (marker === 0xff) {
      i++;
      continue;
    }
    if (marker === 0xd8 || (marker >= 0xd0 && marker <= 0xd7) || marker === 0x01) {
      i += 2;
      continue;
    }
    const length = ((bytes[i + 2] as number) << 8) | (bytes[i + 3] as number);
    // SOF0..SOF15, except DHT (C4), JPG (C8) and DAC (CC).
    if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
      return { height: ((bytes[i + 5] as number) << 8) | (bytes[i + 6] as number), width: ((bytes[i + 7] as number) << 8) | (bytes[i + 8] as number) };
    }
    i += 2 + length;
  }
  return null;
}

/** The image's size from its header, checked against the pixel limit; throws naming the file. */
export function checkImageFile(bytes: Uint8Array, file: string): { kind: ImageKind; width: number; height: number } {
  const name = path.basename(file);
  const kind = imageKind(bytes);
  if (kind === null) throw new ImageFileError(`"${name}" is not a PNG or JPEG image: give PNG or JPEG files.`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const size = kind === 'png' ? { width: view.getUint32(16), height: view.getUint32(20) } : jpegSize(bytes);
  if (size === null) throw new ImageFileError(`"${name}" looks like a JPEG but has no image header: it is damaged; export it again.`);
  checkImagePixels(size.width, size.height, name);
  return { kind, ...size };
}

/** The RGBA pixels of a PNG or JPEG file's bytes, exactly as stored (8 bits per sample). */
export function decodeImageFile(bytes: Uint8Array, file: string): RgbaImage {
  const name = path.basename(file);
  const { kind } = checkImageFile(bytes, file);
  try {
    if (kind === 'png') {
      const png = PNG.sync.read(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
      return { width: png.width, height: png.height, rgba: new Uint8Array(png.data.buffer, png.data.byteOffset, png.data.byteLength) };
    }
    const img = jpeg.decode(bytes, { useTArray: true, formatAsRGBA: true, maxResolutionInMP: 40, maxMemoryUsageInMB: 1024 });
    return { width: img.width, height: img.height, rgba: img.data };
  } catch (e) {
    throw new ImageFileError(`could not decode "${name}" as ${kind === 'png' ? 'PNG' : 'JPEG'} (${errorMessage(e)}): the file is damaged; export it again.`);
  }
}

/** `decodeImageFile` as the pipeline executor's decoder: the Node reference's stand-in for the browser's exact decode. */
export const nodeImageDecoder: ImageDecoder = async (bytes, name) => decodeImageFile(new Uint8Array(bytes), name);
