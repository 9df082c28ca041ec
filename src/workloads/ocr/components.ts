/**
 * Connected regions of a binary map, the stand-in for cv2.findContours in DB's postprocessing.
 *
 * DB only uses each contour's minimum-area rectangle, and the rectangle of a region's border
 * pixels is the rectangle of all its pixels (same convex hull), so we label 8-connected regions
 * (the connectivity findContours follows for foreground) and hand over only each region's hull
 * candidates: the leftmost and rightmost pixel of every row. One difference, documented: RETR_LIST
 * also returns the borders of holes inside a region as contours of their own; their boxes lie
 * inside the region's box and, being mostly background, rarely reach box_thresh, so we skip them.
 */
import type { Point } from './params.ts';

export interface Region {
  /** The leftmost and rightmost pixel of each of the region's rows: enough for its convex hull. */
  readonly extremes: Point[];
  readonly pixelCount: number;
  /** Row-major index of its first pixel: regions come out in this (scan) order. */
  readonly firstIndex: number;
}

/** 8-connected regions of `mask` (non-zero = set), in scan order of their first pixel. */
export function connectedRegions(mask: ArrayLike<number | boolean>, width: number, height: number, maxRegions = Infinity): Region[] {
  const labels = new Int32Array(width * height).fill(-1);
  const regions: Region[] = [];
  const stack: number[] = [];
  for (let start = 0; start < width * height && regions.length < maxRegions; start++) {
    if (!mask[start] || (labels[start] as number) >= 0) continue;
    const label = regions.length;
    const rowMin = new Map<number, number>();
    const rowMax = new Map<number, number>();
    let count = 0;
    labels[start] = label;
    stack.push(start);
    while (stack.length > 0) {
      const i = stack.pop() as number;
      const x = i % width;
      const y = (i - x) / width;
      count++;
      if (!rowMin.has(y) || x < (rowMin.get(y) as number)) rowMin.set(y, x);
      if (!rowMax.has(y) || x > (rowMax.get(y) as number)) rowMax.set(y, x);
      for (let dy = -1; dy <= 1; dy++) {
        const ny = y + dy;
        if (ny < 0 || ny >= height) continue;
        for (let dx = -1; dx <= 1; dx++) {
          const nx = x + dx;
          if (nx < 0 || nx >= width || (dx === 0 && dy === 0)) continue;
          const j = ny * width + nx;
          if (mask[j] && (labels[j] as number) < 0) {
            labels[j] = label;
            stack.push(j);
          }
        }
      }
    }
    const extremes: Point[] = [];
    for (const [y, x0] of [...rowMin.entries()].sort((a, b) => a[0] - b[0])) {
      extremes.push([x0, y]);
      const x1 = rowMax.get(y) as number;
      if (x1 !== x0) extremes.push([x1, y]);
    }
    regions.push({ extremes, pixelCount: count, firstIndex: start });
  }
  return regions;
}
