/**
 * The project's own image resize, in plain arithmetic, so that every requester's browser, GPU and
 * the Node reference turn the same decoded pixels into the same tensor. Canvas and
 * `createImageBitmap` scaling differ between browsers, versions and GPU drivers (and
 * `resizeQuality` is only a hint), so decoding hands over the image at its native size and the
 * resize happens here.
 *
 * The filter is bilinear with half-pixel centres and clamped edges, the sampling of OpenCV's
 * `cv2.resize(..., interpolation=INTER_LINEAR)`: that is the default of `cv2.resize`, which the
 * preprocessing of the models this network runs (PaddleOCR's detector, recognizer and direction
 * classifier among them) uses, so an offline reference built on it sees the same sampling. It does
 * not low-pass before downscaling (neither does INTER_LINEAR); a model trained on area- or
 * antialiased resizes wants its images sized beforehand. The arithmetic is float64 and each
 * result is rounded half up to a byte, which IEEE arithmetic makes identical on every platform
 * (OpenCV's 8-bit path uses 11-bit fixed-point weights, so it may differ from this by 1).
 */

/** The most pixels an image may have before it is decoded for a job: 40 megapixels. */
export const MAX_IMAGE_PIXELS = 40_000_000;

export class ImageSizeError extends Error {
  override readonly name = 'ImageSizeError';
}

/**
 * Refuses an image too large to decode for inference (its RGBA copy alone would be over 160 MB),
 * naming the file so the requester knows which one to shrink.
 */
export function checkImagePixels(width: number, height: number, fileName: string): void {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
    throw new ImageSizeError(`"${fileName}" has no pixels (${width}×${height}): choose another image.`);
  }
  const pixels = width * height;
  if (pixels > MAX_IMAGE_PIXELS) {
    throw new ImageSizeError(
      `"${fileName}" is ${width}×${height} (${(pixels / 1e6).toFixed(1)} megapixels), over the limit of ${MAX_IMAGE_PIXELS / 1e6} megapixels: scale it down before adding it.`,
    );
  }
}

/** For each destination index, the two source indices and the weight of the second. */
interface Taps {
  readonly lo: Int32Array;
  readonly hi: Int32Array;
  readonly w: Float64Array;
}

/** INTER_LINEAR's sampling along one axis: centre-aligned, clamped at both edges. */
function taps(srcSize: number, dstSize: number): Taps {
  const lo = new Int32Array(dstSize);
  const hi = new Int32Array(dstSize);
  const w = new Float64Array(dstSize);
  const scale = srcSize / dstSize;
  for (let d = 0; d < dstSize; d++) {
    const f = (d + 0.5) * scale - 0.5;
    let s = Math.floor(f);
    let t = f - s;
    // Past the first or last centre there is nothing to blend with: the edge pixel is repeated.
    if (s < 0) {
      s = 0;
      t = 0;
    }
    if (s >= srcSize - 1) {
      s = srcSize - 1;
      t = 0;
    }
    lo[d] = s;
    hi[d] = Math.min(s + 1, srcSize - 1);
    w[d] = t;
  }
  return { lo, hi, w };
}

/**
 * Resizes straight (not premultiplied) RGBA pixels, row-major, `srcWidth × srcHeight × 4` bytes,
 * to `dstWidth × dstHeight`. Every channel, alpha included, is interpolated on its own. The same
 * size returns an exact copy.
 */
export function resizeRgba(src: ArrayLike<number>, srcWidth: number, srcHeight: number, dstWidth: number, dstHeight: number): Uint8ClampedArray {
  for (const [what, v] of [
    ['source width', srcWidth],
    ['source height', srcHeight],
    ['width', dstWidth],
    ['height', dstHeight],
  ] as const) {
    if (!Number.isInteger(v) || v < 1) throw new ImageSizeError(`resize: the ${what} must be a positive integer, not ${v}.`);
  }
  if (src.length !== srcWidth * srcHeight * 4) {
    throw new ImageSizeError(`resize: expected ${srcWidth * srcHeight * 4} RGBA bytes for ${srcWidth}×${srcHeight}, got ${src.length}.`);
  }
  const out = new Uint8ClampedArray(dstWidth * dstHeight * 4);
  const xs = taps(srcWidth, dstWidth);
  const ys = taps(srcHeight, dstHeight);
  const rowStride = srcWidth * 4;
  for (let dy = 0; dy < dstHeight; dy++) {
    const row0 = (ys.lo[dy] as number) * rowStride;
    const row1 = (ys.hi[dy] as number) * rowStride;
    const wy = ys.w[dy] as number;
    for (let dx = 0; dx < dstWidth; dx++) {
      const c0 = (xs.lo[dx] as number) * 4;
      const c1 = (xs.hi[dx] as number) * 4;
      const wx = xs.w[dx] as number;
      const o = (dy * dstWidth + dx) * 4;
      for (let k = 0; k < 4; k++) {
        const top = (src[row0 + c0 + k] as number) * (1 - wx) + (src[row0 + c1 + k] as number) * wx;
        const bottom = (src[row1 + c0 + k] as number) * (1 - wx) + (src[row1 + c1 + k] as number) * wx;
        // Uint8ClampedArray would round half to even; round half up explicitly, as documented.
        out[o + k] = Math.floor(top * (1 - wy) + bottom * wy + 0.5);
      }
    }
  }
  return out;
}
