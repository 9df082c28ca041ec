/**
 * Cutting a text box out of the image: PaddleOCR's get_rotate_crop_image with our own perspective
 * warp and bilinear sampling (cv2.warpPerspective differs by build and uses bicubic there; the
 * recognizer does not care, but two volunteers must agree to the byte, which plain float64
 * arithmetic rounded half up gives on every platform).
 */
import { OcrError, type Point, type Quad, type RgbaImage } from './params.ts';

export interface Rgba {
  readonly width: number;
  readonly height: number;
  readonly rgba: Uint8ClampedArray;
}

/** Solves the 8×8 system A x = b by Gaussian elimination with partial pivoting. */
function solve8(a: number[][], b: number[]): number[] {
  const n = 8;
  for (let col = 0; col < n; col++) {
    let pivot = col;
    for (let r = col + 1; r < n; r++) if (Math.abs((a[r] as number[])[col] as number) > Math.abs((a[pivot] as number[])[col] as number)) pivot = r;
    if (Math.abs((a[pivot] as number[])[col] as number) < 1e-12) throw new OcrError('a text box has no area: its corners are collinear.');
    [a[col], a[pivot]] = [a[pivot] as number[], a[col] as number[]];
    [b[col], b[pivot]] = [b[pivot] as number, b[col] as number];
    const rowC = a[col] as number[];
    for (let r = col + 1; r < n; r++) {
      const row = a[r] as number[];
      const f = (row[col] as number) / (rowC[col] as number);
      if (f === 0) continue;
      for (let k = col; k < n; k++) row[k] = (row[k] as number) - f * (rowC[k] as number);
      b[r] = (b[r] as number) - f * (b[col] as number);
    }
  }
  const x = new Array<number>(n).fill(0);
  for (let r = n - 1; r >= 0; r--) {
    const row = a[r] as number[];
    let s = b[r] as number;
    for (let k = r + 1; k < n; k++) s -= (row[k] as number) * (x[k] as number);
    x[r] = s / (row[r] as number);
  }
  return x;
}

/**
 * The homography taking each `from` point to the matching `to` point, as the 9 coefficients of
 * [[h0 h1 h2] [h3 h4 h5] [h6 h7 1]].
 */
export function homography(from: readonly Point[], to: readonly Point[]): number[] {
  const a: number[][] = [];
  const b: number[] = [];
  for (let i = 0; i < 4; i++) {
    const [x, y] = from[i] as Point;
    const [u, v] = to[i] as Point;
    a.push([x, y, 1, 0, 0, 0, -u * x, -u * y]);
    b.push(u);
    a.push([0, 0, 0, x, y, 1, -v * x, -v * y]);
    b.push(v);
  }
  return [...solve8(a, b), 1];
}

/**
 * Bilinear sample of all four channels at (x, y) into out[o..o+3], pixel centres on integers,
 * edges repeated, each rounded half up to a byte. No closures: this runs once per crop pixel.
 */
function sampleInto(img: RgbaImage, x: number, y: number, out: Uint8ClampedArray, o: number): void {
  const x0 = Math.floor(x);
  const y0 = Math.floor(y);
  const tx = x - x0;
  const ty = y - y0;
  const last = img.width - 1;
  const bottom = img.height - 1;
  const xa = x0 < 0 ? 0 : x0 > last ? last : x0;
  const xb = x0 + 1 < 0 ? 0 : x0 + 1 > last ? last : x0 + 1;
  const ya = y0 < 0 ? 0 : y0 > bottom ? bottom : y0;
  const yb = y0 + 1 < 0 ? 0 : y0 + 1 > bottom ? bottom : y0 + 1;
  const p00 = (ya * img.width + xa) * 4;
  const p10 = (ya * img.width + xb) * 4;
  const p01 = (yb * img.width + xa) * 4;
  const p11 = (yb * img.width + xb) * 4;
  const px = img.rgba;
  for (let k = 0; k < 4; k++) {
    const top = (px[p00 + k] as number) * (1 - tx) + (px[p10 + k] as number) * tx;
    const low = (px[p01 + k] as number) * (1 - tx) + (px[p11 + k] as number) * tx;
    out[o + k] = Math.floor(top * (1 - ty) + low * ty + 0.5);
  }
}

/**
 * The box's content as an upright image: width = the longer of its top and bottom edges, height =
 * the longer of its left and right edges (truncated, as PaddleOCR does), each output pixel (u, v)
 * sampled where the homography from the output rectangle to the box sends it. A crop at least 1.5
 * times as tall as wide is turned 90° counter-clockwise (np.rot90), as PaddleOCR does for
 * vertical text.
 */
export function cropBox(img: RgbaImage, box: Quad): Rgba {
  const d = (p: Point, q: Point): number => Math.hypot(p[0] - q[0], p[1] - q[1]);
  const w = Math.trunc(Math.max(d(box[0], box[1]), d(box[2], box[3])));
  const h = Math.trunc(Math.max(d(box[0], box[3]), d(box[1], box[2])));
  if (w < 1 || h < 1) throw new OcrError(`a text box of ${w}×${h} pixels cannot be cropped.`);
  const rect: Point[] = [
    [0, 0],
    [w, 0],
    [w, h],
    [0, h],
  ];
  const m = homography(rect, box);
  const out = new Uint8ClampedArray(w * h * 4);
  for (let v = 0; v < h; v++) {
    for (let u = 0; u < w; u++) {
      const z = (m[6] as number) * u + (m[7] as number) * v + 1;
      const x = ((m[0] as number) * u + (m[1] as number) * v + (m[2] as number)) / z;
      const y = ((m[3] as number) * u + (m[4] as number) * v + (m[5] as number)) / z;
      sampleInto(img, x, y, out, (v * w + u) * 4);
    }
  }
  const crop = { width: w, height: h, rgba: out };
  return h / w >= 1.5 ? rotate90CounterClockwise(crop) : crop;
}

/** np.rot90: the right column becomes the top row. */
export function rotate90CounterClockwise(img: Rgba): Rgba {
  const { width: w, height: h } = img;
  const out = new Uint8ClampedArray(w * h * 4);
  // Output is h wide and w tall; output (x, y) comes from input (w - 1 - y, x).
  for (let y = 0; y < w; y++) {
    for (let x = 0; x < h; x++) {
      const s = (x * w + (w - 1 - y)) * 4;
      const o = (y * h + x) * 4;
      for (let k = 0; k < 4; k++) out[o + k] = img.rgba[s + k] as number;
    }
  }
  return { width: h, height: w, rgba: out };
}

/** The image turned upside down (cv2.rotate(img, ROTATE_180)). */
export function rotate180(img: Rgba): Rgba {
  const n = img.width * img.height;
  const out = new Uint8ClampedArray(n * 4);
  for (let i = 0; i < n; i++) for (let k = 0; k < 4; k++) out[(n - 1 - i) * 4 + k] = img.rgba[i * 4 + k] as number;
  return { width: img.width, height: img.height, rgba: out };
}
