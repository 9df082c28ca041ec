/**
 * Plane geometry the detector's postprocessing needs, in float64: convex hull, the minimum-area
 * rotated rectangle (cv2.minAreaRect), its corners in DBPostProcess.get_mini_boxes' order, and
 * growing a rectangle by a distance (the "unclip").
 *
 * Unclip without a clipper library: PaddleOCR offsets the box with pyclipper (round joins) and
 * then takes the minimum-area rectangle of the result. For a rectangle w × h grown by d with round
 * joins, that rectangle is exactly (w + 2d) × (h + 2d) with the same centre and angle (the round
 * corners stay inside it and touch every side), so growing the sides is the same answer without
 * polygon clipping. pyclipper's integer grid moves it by under a pixel.
 */
import type { Point } from './params.ts';

export interface RotatedRect {
  readonly cx: number;
  readonly cy: number;
  /** Length along the direction (ux, uy). */
  readonly width: number;
  /** Length along the perpendicular (-uy, ux). */
  readonly height: number;
  readonly ux: number;
  readonly uy: number;
}

function cross(o: Point, a: Point, b: Point): number {
  return (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0]);
}

/** Andrew's monotone chain; counter-clockwise in a y-up frame, no collinear points. */
export function convexHull(points: readonly Point[]): Point[] {
  const pts = [...points].sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  if (pts.length < 3) return pts;
  const lower: Point[] = [];
  for (const p of pts) {
    while (lower.length >= 2 && cross(lower[lower.length - 2] as Point, lower[lower.length - 1] as Point, p) <= 0) lower.pop();
    lower.push(p);
  }
  const upper: Point[] = [];
  for (let i = pts.length - 1; i >= 0; i--) {
    const p = pts[i] as Point;
    while (upper.length >= 2 && cross(upper[upper.length - 2] as Point, upper[upper.length - 1] as Point, p) <= 0) upper.pop();
    upper.push(p);
  }
  lower.pop();
  upper.pop();
  return lower.concat(upper);
}

/**
 * The smallest-area rectangle holding every point (rotating calipers over the hull's edges: the
 * optimum has a side on one of them). Fewer than two distinct points give a zero-size rectangle.
 */
export function minAreaRect(points: readonly Point[]): RotatedRect {
  const hull = convexHull(points);
  if (hull.length === 0) return { cx: 0, cy: 0, width: 0, height: 0, ux: 1, uy: 0 };
  let best: RotatedRect | null = null;
  let bestArea = Infinity;
  const n = hull.length;
  for (let i = 0; i < Math.max(n, 1); i++) {
    const a = hull[i] as Point;
    const b = hull[(i + 1) % n] as Point;
    const len = Math.hypot(b[0] - a[0], b[1] - a[1]);
    // A single point: any axis will do.
    const ux = len > 0 ? (b[0] - a[0]) / len : 1;
    const uy = len > 0 ? (b[1] - a[1]) / len : 0;
    let minU = Infinity;
    let maxU = -Infinity;
    let minV = Infinity;
    let maxV = -Infinity;
    for (const p of hull) {
      const u = p[0] * ux + p[1] * uy;
      const v = -p[0] * uy + p[1] * ux;
      if (u < minU) minU = u;
      if (u > maxU) maxU = u;
      if (v < minV) minV = v;
      if (v > maxV) maxV = v;
    }
    const area = (maxU - minU) * (maxV - minV);
    // Strictly smaller: the first of equal rectangles wins, so the answer does not depend on
    // rounding noise between equal candidates.
    if (area < bestArea - 1e-9) {
      bestArea = area;
      const cu = (minU + maxU) / 2;
      const cv = (minV + maxV) / 2;
      best = { cx: cu * ux - cv * uy, cy: cu * uy + cv * ux, width: maxU - minU, height: maxV - minV, ux, uy };
    }
  }
  return best as RotatedRect;
}

/** The four corners of a rotated rectangle, in no particular order. */
export function rectCorners(r: RotatedRect): Point[] {
  const hx = [(r.ux * r.width) / 2, (r.uy * r.width) / 2] as const;
  const hy = [(-r.uy * r.height) / 2, (r.ux * r.height) / 2] as const;
  return [
    [r.cx - hx[0] - hy[0], r.cy - hx[1] - hy[1]],
    [r.cx + hx[0] - hy[0], r.cy + hx[1] - hy[1]],
    [r.cx + hx[0] + hy[0], r.cy + hx[1] + hy[1]],
    [r.cx - hx[0] + hy[0], r.cy - hx[1] + hy[1]],
  ];
}

/**
 * DBPostProcess.get_mini_boxes' order: sort by x; of the two leftmost the upper is first and the
 * lower fourth; of the two rightmost the upper is second and the lower third.
 */
export function miniBoxOrder(corners: readonly Point[]): [Point, Point, Point, Point] {
  const p = [...corners].sort((a, b) => a[0] - b[0]);
  const [p0, p1, p2, p3] = p as [Point, Point, Point, Point];
  const [first, fourth] = p1[1] > p0[1] ? [p0, p1] : [p1, p0];
  const [second, third] = p3[1] > p2[1] ? [p2, p3] : [p3, p2];
  return [first, second, third, fourth];
}

/** Grows a rectangle by `distance` on every side (see the file comment for why this is the unclip). */
export function growRect(r: RotatedRect, distance: number): RotatedRect {
  return { ...r, width: r.width + 2 * distance, height: r.height + 2 * distance };
}

/** DB's unclip distance for a box: area × ratio / perimeter. */
export function unclipDistance(r: RotatedRect, ratio: number): number {
  const perimeter = 2 * (r.width + r.height);
  return perimeter > 0 ? (r.width * r.height * ratio) / perimeter : 0;
}

/**
 * PaddleOCR's order_points_clockwise: top-left has the smallest x + y, bottom-right the largest;
 * of the other two, top-right has the smaller y − x.
 */
export function orderClockwise(pts: readonly Point[]): [Point, Point, Point, Point] {
  const sums = pts.map((p) => p[0] + p[1]);
  let iMin = 0;
  let iMax = 0;
  sums.forEach((s, i) => {
    if (s < (sums[iMin] as number)) iMin = i;
    if (s > (sums[iMax] as number)) iMax = i;
  });
  // np.argmin/argmax take the first of equals; with all sums equal, the two must still differ.
  if (iMax === iMin) iMax = iMin === 0 ? 1 : 0;
  const rest = pts.filter((_, i) => i !== iMin && i !== iMax);
  const [a, b] = rest as [Point, Point];
  const [tr, bl] = b[1] - b[0] < a[1] - a[0] ? [b, a] : [a, b];
  return [pts[iMin] as Point, tr, pts[iMax] as Point, bl];
}
