/**
 * Reading order, as PaddleOCR's sorted_boxes: sort by the top-left corner (y, then x), then let a
 * box move ahead of the one before it when their tops are within 10 pixels (the same line) and it
 * starts further left. Lines come top to bottom, and left to right within a line.
 */
import type { Quad } from './params.ts';

const SAME_LINE_PX = 10;

export function sortReadingOrder<T extends { readonly box: Quad }>(items: readonly T[]): T[] {
  const out = [...items].sort((a, b) => a.box[0][1] - b.box[0][1] || a.box[0][0] - b.box[0][0]);
  for (let i = 0; i < out.length - 1; i++) {
    for (let j = i; j >= 0; j--) {
      const here = out[j] as T;
      const next = out[j + 1] as T;
      if (Math.abs(next.box[0][1] - here.box[0][1]) < SAME_LINE_PX && next.box[0][0] < here.box[0][0]) {
        out[j] = next;
        out[j + 1] = here;
      } else {
        break;
      }
    }
  }
  return out;
}
