import { describe, expect, it } from 'vitest';
import { convexHull, growRect, minAreaRect, miniBoxOrder, orderClockwise, rectCorners, unclipDistance } from './geometry.ts';
import type { Point } from './params.ts';

const grid = (x0: number, x1: number, y0: number, y1: number): Point[] => {
  const pts: Point[] = [];
  for (let y = y0; y <= y1; y++) for (let x = x0; x <= x1; x++) pts.push([x, y]);
  return pts;
};

const sortPts = (pts: readonly Point[]): Point[] =>
  [...pts].map((p): Point => [Math.round(p[0] * 1e6) / 1e6 + 0, Math.round(p[1] * 1e6) / 1e6 + 0]).sort((a, b) => a[0] - b[0] || a[1] - b[1]);

describe('geometry', () => {
  it('takes the convex hull without interior or collinear points', () => {
    expect(sortPts(convexHull(grid(0, 3, 0, 2)))).toEqual([
      [0, 0],
      [0, 2],
      [3, 0],
      [3, 2],
    ]);
  });

  it('finds the rectangle of an axis-aligned block through its pixel centres', () => {
    const r = minAreaRect(grid(10, 49, 12, 19));
    expect(r.cx).toBeCloseTo(29.5, 9);
    expect(r.cy).toBeCloseTo(15.5, 9);
    expect([Math.max(r.width, r.height), Math.min(r.width, r.height)].map((v) => +v.toFixed(9))).toEqual([39, 7]);
  });

  it('finds a rotated rectangle (a 45° bar) smaller than its bounding box', () => {
    // A diagonal bar: points (i, i) and (i + 1, i) for i = 0..20.
    const pts: Point[] = [];
    for (let i = 0; i <= 20; i++) pts.push([i, i], [i + 1, i]);
    const r = minAreaRect(pts);
    // Along the diagonal from (0, 0) to (21, 20): 41 / √2; across it, (1, 0) is 1 / √2 from (0, 0).
    expect(Math.max(r.width, r.height)).toBeCloseTo(41 / Math.SQRT2, 6);
    expect(Math.min(r.width, r.height)).toBeCloseTo(Math.SQRT1_2, 6);
    expect(Math.abs(r.ux)).toBeCloseTo(Math.SQRT1_2, 6);
  });

  it('orders corners as get_mini_boxes does: upper-left, upper-right, lower-right, lower-left', () => {
    const corners: Point[] = [
      [9, 1],
      [0, 5],
      [1, 0],
      [8, 6],
    ];
    expect(miniBoxOrder(corners)).toEqual([
      [1, 0],
      [9, 1],
      [8, 6],
      [0, 5],
    ]);
  });

  it('orders corners clockwise from top-left by x + y and y − x', () => {
    expect(
      orderClockwise([
        [50, 20],
        [10, 22],
        [48, 5],
        [12, 4],
      ]),
    ).toEqual([
      [12, 4],
      [48, 5],
      [50, 20],
      [10, 22],
    ]);
  });

  it('unclips a rectangle by area × ratio / perimeter on every side, like a round-joined offset', () => {
    const r = { cx: 50, cy: 20, width: 100, height: 10, ux: 1, uy: 0 };
    const d = unclipDistance(r, 1.5);
    expect(d).toBeCloseTo((1000 * 1.5) / 220, 12);
    const g = growRect(r, d);
    expect(g.width).toBeCloseTo(100 + 2 * d, 12);
    expect(g.height).toBeCloseTo(10 + 2 * d, 12);
    expect(sortPts(rectCorners(g))[0]).toEqual(sortPts([[50 - 50 - d, 20 - 5 - d]])[0]);
  });
});
