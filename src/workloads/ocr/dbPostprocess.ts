/**
 * Text boxes from the detector's probability map: PaddleOCR's DBPostProcess (quad boxes, 'fast'
 * score) followed by TextDetector.filter_tag_det_res, step for step:
 *   1. binarize at `detThresh`; each connected region → its minimum-area rectangle; sides < 3 out;
 *   2. score = mean probability inside the rectangle (corners truncated to integers, as
 *      cv2.fillPoly gets them); below `detBoxThresh` out;
 *   3. unclip: grow the rectangle by area × ratio / perimeter (geometry.ts); short side < 5 out;
 *   4. scale the corners back to the original image, round, clip to it;
 *   5. order the corners clockwise from top-left, clip to the last pixel, truncate to integers,
 *      and drop boxes whose width or height is ≤ 3 pixels.
 */
import { connectedRegions } from './components.ts';
import { growRect, minAreaRect, miniBoxOrder, orderClockwise, rectCorners, unclipDistance } from './geometry.ts';
import type { OcrParams, Point, Quad } from './params.ts';
import { roundHalfEven } from './rounding.ts';

export interface ProbabilityMap {
  readonly width: number;
  readonly height: number;
  /** Row-major, one value per pixel, 0..1. */
  readonly data: ArrayLike<number>;
}

const MIN_SIZE = 3;

/** Is (x, y) inside or on the convex quad `q`, either winding? */
function insideConvex(q: readonly Point[], x: number, y: number): boolean {
  let sign = 0;
  for (let i = 0; i < q.length; i++) {
    const a = q[i] as Point;
    const b = q[(i + 1) % q.length] as Point;
    const c = (b[0] - a[0]) * (y - a[1]) - (b[1] - a[1]) * (x - a[0]);
    if (c === 0) continue;
    const s = c > 0 ? 1 : -1;
    if (sign === 0) sign = s;
    else if (s !== sign) return false;
  }
  return true;
}

/**
 * box_score_fast: the mean of the map over the pixels the quad covers, corners truncated to
 * integers and pixels on the outline counted, as cv2.fillPoly draws it.
 */
export function boxScore(map: ProbabilityMap, quad: readonly Point[]): number {
  const q = quad.map((p) => [Math.trunc(p[0]), Math.trunc(p[1])] as Point);
  const clampX = (v: number): number => Math.min(Math.max(v, 0), map.width - 1);
  const clampY = (v: number): number => Math.min(Math.max(v, 0), map.height - 1);
  const xmin = clampX(Math.floor(Math.min(...quad.map((p) => p[0]))));
  const xmax = clampX(Math.ceil(Math.max(...quad.map((p) => p[0]))));
  const ymin = clampY(Math.floor(Math.min(...quad.map((p) => p[1]))));
  const ymax = clampY(Math.ceil(Math.max(...quad.map((p) => p[1]))));
  let sum = 0;
  let n = 0;
  for (let y = ymin; y <= ymax; y++) {
    for (let x = xmin; x <= xmax; x++) {
      if (!insideConvex(q, x, y)) continue;
      sum += map.data[y * map.width + x] as number;
      n++;
    }
  }
  return n > 0 ? sum / n : 0;
}

export interface DetectedBox {
  readonly box: Quad;
  readonly score: number;
}

/**
 * Text boxes in the original image's pixel coordinates (`imageWidth × imageHeight`), from a map
 * computed at the detector's input size.
 */
export function boxesFromMap(
  map: ProbabilityMap,
  imageWidth: number,
  imageHeight: number,
  p: Pick<OcrParams, 'detThresh' | 'detBoxThresh' | 'detUnclipRatio' | 'detMaxCandidates'>,
): DetectedBox[] {
  const mask = new Uint8Array(map.width * map.height);
  for (let i = 0; i < mask.length; i++) mask[i] = (map.data[i] as number) > p.detThresh ? 1 : 0;
  const out: DetectedBox[] = [];
  for (const region of connectedRegions(mask, map.width, map.height, p.detMaxCandidates)) {
    const rect = minAreaRect(region.extremes);
    if (Math.min(rect.width, rect.height) < MIN_SIZE) continue;
    const score = boxScore(map, miniBoxOrder(rectCorners(rect)));
    if (score < p.detBoxThresh) continue;
    const grown = growRect(rect, unclipDistance(rect, p.detUnclipRatio));
    if (Math.min(grown.width, grown.height) < MIN_SIZE + 2) continue;
    const scaled = miniBoxOrder(rectCorners(grown)).map((c): Point => [
      Math.min(Math.max(roundHalfEven((c[0] / map.width) * imageWidth), 0), imageWidth),
      Math.min(Math.max(roundHalfEven((c[1] / map.height) * imageHeight), 0), imageHeight),
    ]);
    const ordered = orderClockwise(scaled).map((c): Point => [
      Math.trunc(Math.min(Math.max(c[0], 0), imageWidth - 1)),
      Math.trunc(Math.min(Math.max(c[1], 0), imageHeight - 1)),
    ]) as unknown as Quad;
    const w = Math.trunc(Math.hypot(ordered[0][0] - ordered[1][0], ordered[0][1] - ordered[1][1]));
    const h = Math.trunc(Math.hypot(ordered[0][0] - ordered[3][0], ordered[0][1] - ordered[3][1]));
    if (w <= 3 || h <= 3) continue;
    out.push({ box: ordered, score });
  }
  return out;
}
