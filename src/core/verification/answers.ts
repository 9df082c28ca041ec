/**
 * Comparators for pipeline answers: two volunteers agree on an item when what a person would read
 * is the same, not when their floats are. Rule ids refer to core/SPEC.md ([V-9]–[V-11]).
 */
import type { Answer, AnswerComparator, OcrLine, Segment } from '../../protocol/pipeline.ts';
import type { Agreement } from './compare.ts';
import { truncate } from '../format.ts';

const AGREE: Agreement = { agree: true, reason: '' };
const disagree = (reason: string): Agreement => ({ agree: false, reason });

/** Compares two volunteers' answers for the same items, item by item. */
export function compareAnswerLists(a: readonly Answer[], b: readonly Answer[], comparator: AnswerComparator): Agreement {
  if (a.length !== b.length) return disagree(`${a.length} vs ${b.length} answers`);
  for (let i = 0; i < a.length; i++) {
    const r = compareAnswers(a[i]!, b[i]!, comparator);
    if (!r.agree) return disagree(`item ${i}: ${r.reason}`);
  }
  return AGREE;
}

export function compareAnswers(a: Answer, b: Answer, comparator: AnswerComparator): Agreement {
  if (a.kind !== b.kind) return disagree(`a ${a.kind} answer vs a ${b.kind} answer`);
  switch (comparator.kind) {
    case 'ocr':
      if (a.kind !== 'ocr' || b.kind !== 'ocr') return disagree(`the ocr comparator cannot compare ${a.kind} answers`);
      return compareOcr(a.lines, b.lines, comparator.minIou, comparator.maxCer);
    case 'segments':
      if (a.kind !== 'segments' || b.kind !== 'segments') return disagree(`the segments comparator cannot compare ${a.kind} answers`);
      return compareSegments(a.segments, b.segments, comparator.toleranceSec);
    case 'labels':
      if (a.kind !== 'labels' || b.kind !== 'labels') return disagree(`the labels comparator cannot compare ${a.kind} answers`);
      if (a.labels.length !== b.labels.length) return disagree(`${a.labels.length} vs ${b.labels.length} labels`);
      for (let i = 0; i < a.labels.length; i++) {
        if (a.labels[i]!.index !== b.labels[i]!.index) return disagree(`label ${i}: class ${a.labels[i]!.index} vs ${b.labels[i]!.index}`);
      }
      return AGREE;
  }
}

/**
 * [V-9] Two OCR answers agree when their lines pair up one to one by box overlap (IoU ≥ minIou,
 * pairs taken greedily from the largest overlap down) and every pair's text is within maxCer.
 * Order does not matter: reading order is derived from boxes, and a pixel's shift may swap two
 * lines of nearly the same height.
 */
export function compareOcr(a: readonly OcrLine[], b: readonly OcrLine[], minIou: number, maxCer: number): Agreement {
  if (a.length !== b.length) return disagree(`${a.length} vs ${b.length} lines`);
  const pairOfA = pairOcrLines(a, b, minIou);
  for (let i = 0; i < a.length; i++) {
    const p = pairOfA[i]!;
    if (p === null) return disagree(`line ${i} ("${clip(a[i]!.text)}") overlaps no line of the other answer by IoU ≥ ${minIou}`);
    const ta = a[i]!.text;
    const tb = b[p.j]!.text;
    if (ta === tb) continue;
    const cer = characterErrorRate(ta, tb);
    if (cer > maxCer) return disagree(`line ${i}: "${clip(ta)}" vs "${clip(tb)}" (CER ${cer.toFixed(3)} > ${maxCer})`);
  }
  return AGREE;
}

/**
 * [V-9] Each line of `a` with its partner in `b` (index and IoU), or null: pairs with IoU ≥
 * `minIou` taken greedily from the largest IoU down, each line used once. Ties go to the lower
 * indices, so the pairing is deterministic.
 */
export function pairOcrLines(a: readonly OcrLine[], b: readonly OcrLine[], minIou: number): ({ readonly j: number; readonly iou: number } | null)[] {
  const pairs: { i: number; j: number; iou: number }[] = [];
  for (let i = 0; i < a.length; i++) {
    for (let j = 0; j < b.length; j++) {
      const iou = quadIou(a[i]!.box, b[j]!.box);
      if (iou >= minIou) pairs.push({ i, j, iou });
    }
  }
  pairs.sort((x, y) => y.iou - x.iou || x.i - y.i || x.j - y.j);
  const pairOfA: ({ j: number; iou: number } | null)[] = new Array(a.length).fill(null);
  const takenB = new Array<boolean>(b.length).fill(false);
  for (const p of pairs) {
    if (pairOfA[p.i] !== null || takenB[p.j]) continue;
    pairOfA[p.i] = { j: p.j, iou: p.iou };
    takenB[p.j] = true;
  }
  return pairOfA;
}

/** [V-10] Same number of segments, each start and each end within `toleranceSec` of its partner's. */
export function compareSegments(a: readonly Segment[], b: readonly Segment[], toleranceSec: number): Agreement {
  if (a.length !== b.length) return disagree(`${a.length} vs ${b.length} segments`);
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!;
    const y = b[i]!;
    const d = Math.max(Math.abs(x.start - y.start), Math.abs(x.end - y.end));
    // A tiny epsilon: seconds are frame counts divided by a rate, and 0.032 is not exact in binary.
    if (d > toleranceSec + 1e-9) {
      return disagree(
        `segment ${i}: ${x.start.toFixed(3)}–${x.end.toFixed(3)} s vs ${y.start.toFixed(3)}–${y.end.toFixed(3)} s (off by ${d.toFixed(3)} s > ${toleranceSec})`,
      );
    }
  }
  return AGREE;
}

/**
 * Levenshtein distance between two strings, by code point, divided by the longer one's length
 * (0 for two empty strings). Symmetric, so it does not matter which replica is "the reference".
 */
export function characterErrorRate(a: string, b: string): number {
  const x = Array.from(a);
  const y = Array.from(b);
  const longest = Math.max(x.length, y.length);
  if (longest === 0) return 0;
  let prev = Array.from({ length: y.length + 1 }, (_, j) => j);
  for (let i = 1; i <= x.length; i++) {
    const row = [i];
    for (let j = 1; j <= y.length; j++) {
      row[j] = Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + (x[i - 1] === y[j - 1] ? 0 : 1));
    }
    prev = row;
  }
  return prev[y.length]! / longest;
}

type Point = readonly [number, number];

/**
 * Intersection over union of two quadrilaterals. Boxes from text detection are convex (rotated
 * rectangles); a box that is not (its corners out of order) is replaced by its convex hull, so a
 * hostile answer cannot make the area arithmetic meaningless. Degenerate boxes have IoU 0.
 */
export function quadIou(a: readonly Point[], b: readonly Point[]): number {
  const pa = convexHull(a);
  const pb = convexHull(b);
  const areaA = polygonArea(pa);
  const areaB = polygonArea(pb);
  if (!(areaA > 0) || !(areaB > 0)) return 0;
  const inter = polygonArea(clipConvex(pa, pb));
  const union = areaA + areaB - inter;
  return union > 0 ? inter / union : 0;
}

/** Shoelace area of a polygon (absolute). */
export function polygonArea(p: readonly Point[]): number {
  let s = 0;
  for (let i = 0; i < p.length; i++) {
    const [x1, y1] = p[i]!;
    const [x2, y2] = p[(i + 1) % p.length]!;
    s += x1 * y2 - x2 * y1;
  }
  return Math.abs(s) / 2;
}

/** Andrew's monotone chain: the convex hull, counter-clockwise (in y-up terms), no collinear points. */
function convexHull(points: readonly Point[]): Point[] {
  const p = [...points].sort((u, v) => u[0] - v[0] || u[1] - v[1]);
  if (p.length < 3) return p;
  const cross = (o: Point, u: Point, v: Point): number => (u[0] - o[0]) * (v[1] - o[1]) - (u[1] - o[1]) * (v[0] - o[0]);
  const lower: Point[] = [];
  for (const q of p) {
    while (lower.length >= 2 && cross(lower[lower.length - 2]!, lower[lower.length - 1]!, q) <= 0) lower.pop();
    lower.push(q);
  }
  const upper: Point[] = [];
  for (const q of [...p].reverse()) {
    while (upper.length >= 2 && cross(upper[upper.length - 2]!, upper[upper.length - 1]!, q) <= 0) upper.pop();
    upper.push(q);
  }
  return lower.slice(0, -1).concat(upper.slice(0, -1));
}

/** Sutherland–Hodgman: `subject` clipped by the convex, counter-clockwise `clip`. */
function clipConvex(subject: readonly Point[], clip: readonly Point[]): Point[] {
  let out: Point[] = [...subject];
  for (let i = 0; i < clip.length && out.length > 0; i++) {
    const a = clip[i]!;
    const b = clip[(i + 1) % clip.length]!;
    const inside = (p: Point): boolean => (b[0] - a[0]) * (p[1] - a[1]) - (b[1] - a[1]) * (p[0] - a[0]) >= 0;
    const cut = (p: Point, q: Point): Point => {
      const a1 = b[1] - a[1];
      const b1 = a[0] - b[0];
      const c1 = a1 * a[0] + b1 * a[1];
      const a2 = q[1] - p[1];
      const b2 = p[0] - q[0];
      const c2 = a2 * p[0] + b2 * p[1];
      const det = a1 * b2 - a2 * b1;
      return det === 0 ? p : [(b2 * c1 - b1 * c2) / det, (a1 * c2 - a2 * c1) / det];
    };
    const input = out;
    out = [];
    for (let k = 0; k < input.length; k++) {
      const cur = input[k]!;
      const prev = input[(k + input.length - 1) % input.length]!;
      if (inside(cur)) {
        if (!inside(prev)) out.push(cut(prev, cur));
        out.push(cur);
      } else if (inside(prev)) out.push(cut(prev, cur));
    }
  }
  return out;
}

/** 40 characters of the line, then the ellipsis. */
const clip = (s: string): string => truncate(s, 41);
