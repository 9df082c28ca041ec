/**
 * [V-13] Measuring how far two replicas of the same shard are apart, in the terms of the job's
 * comparator, and gathering it over a job's first shards. The coordinator measures; the
 * dashboard compares the measure with the tolerance (`spreadWarnings`). Pure arithmetic.
 */
import type { Answer } from '../../protocol/pipeline.ts';
import type { ResolvedPolicy } from '../../protocol/policy.ts';
import type { Spread } from '../../protocol/spread.ts';
import type { WireTensor } from '../../protocol/tensor.ts';
import { characterErrorRate, pairOcrLines } from './answers.ts';
import type { ComparableResult } from './resultComparison.ts';

/** Any overlap at all pairs two lines for the measure: the comparator's own IoU bound is what is being judged. */
const PAIRING_IOU = 0.01;

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/** A job's spread so far; `add` one measured pair at a time. */
export class SpreadTally {
  private readonly spread: Mutable<Spread> = { pairs: 0, crossBackendPairs: 0 };
  private readonly outputs = new Map<string, { maxAbs: number; needAtol: number }>();

  get pairs(): number {
    return this.spread.pairs;
  }

  /** Measures `a` against `b` under `policy` and adds it; results of unlike shapes add nothing. */
  add(a: ComparableResult, b: ComparableResult, crossBackend: boolean, policy: Pick<ResolvedPolicy, 'comparator' | 'answerComparator'>): void {
    const measured = policy.answerComparator ? this.addAnswers(a.answers, b.answers) : this.addTensors(a.outputs, b.outputs, policy);
    if (!measured) return;
    this.spread.pairs++;
    if (crossBackend) this.spread.crossBackendPairs++;
  }

  /** A copy: the tally keeps counting after it is read. */
  snapshot(): Spread {
    const outputs = [...this.outputs].map(([name, o]) => ({ name, maxAbs: o.maxAbs, needAtol: o.needAtol }));
    const { ocr, segments, ...counts } = this.spread;
    return { ...counts, ...(outputs.length > 0 ? { outputs } : {}), ...(ocr ? { ocr: { ...ocr } } : {}), ...(segments ? { segments: { ...segments } } : {}) };
  }

  private addTensors(a: readonly WireTensor[], b: readonly WireTensor[], policy: Pick<ResolvedPolicy, 'comparator'>): boolean {
    const rtol = policy.comparator.kind === 'allclose' ? policy.comparator.rtol : 0;
    let any = false;
    for (const ta of a) {
      const tb = b.find((t) => t.name === ta.name);
      const m = tb ? tensorSpread(ta, tb, rtol) : null;
      if (!m) continue;
      any = true;
      const o = this.outputs.get(ta.name);
      if (o) {
        o.maxAbs = Math.max(o.maxAbs, m.maxAbs);
        o.needAtol = Math.max(o.needAtol, m.needAtol);
      } else if (this.outputs.size < 64) this.outputs.set(ta.name, m);
    }
    return any;
  }

  private addAnswers(a: readonly Answer[] | undefined, b: readonly Answer[] | undefined): boolean {
    if (!a || !b || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) {
      const x = a[i]!;
      const y = b[i]!;
      if (x.kind === 'ocr' && y.kind === 'ocr') {
        const o = (this.spread.ocr ??= { minIou: 1, maxCer: 0, unpaired: 0 });
        let unpaired = x.lines.length !== y.lines.length;
        for (const [k, p] of pairOcrLines(x.lines, y.lines, PAIRING_IOU).entries()) {
          if (p === null) {
            unpaired = true;
            continue;
          }
          o.minIou = Math.min(o.minIou, p.iou);
          o.maxCer = Math.max(o.maxCer, characterErrorRate(x.lines[k]!.text, y.lines[p.j]!.text));
        }
        if (unpaired) o.unpaired++;
      } else if (x.kind === 'segments' && y.kind === 'segments') {
        const s = (this.spread.segments ??= { maxShiftSec: 0, countMismatch: 0 });
        if (x.segments.length !== y.segments.length) {
          s.countMismatch++;
          continue;
        }
        for (let k = 0; k < x.segments.length; k++) {
          s.maxShiftSec = Math.max(s.maxShiftSec, Math.abs(x.segments[k]!.start - y.segments[k]!.start), Math.abs(x.segments[k]!.end - y.segments[k]!.end));
        }
      }
    }
    return true;
  }
}

/**
 * Two float32 tensors of one shape: the largest |x − y|, and the smallest atol with which
 * |x − y| ≤ atol + rtol·max(|x|, |y|) holds everywhere ([V-3]). Null for other dtypes, unlike
 * shapes or non-finite values (those are broken results, not spread).
 */
export function tensorSpread(a: WireTensor, b: WireTensor, rtol: number): { maxAbs: number; needAtol: number } | null {
  if (a.dtype !== 'float32' || b.dtype !== 'float32' || a.dims.length !== b.dims.length || a.data.byteLength !== b.data.byteLength) return null;
  for (let i = 0; i < a.dims.length; i++) if (a.dims[i] !== b.dims[i]) return null;
  const x = new Float32Array(a.data);
  const y = new Float32Array(b.data);
  let maxAbs = 0;
  let needAtol = 0;
  for (let i = 0; i < x.length; i++) {
    const xi = x[i]!;
    const yi = y[i]!;
    if (!Number.isFinite(xi) || !Number.isFinite(yi)) return null;
    const d = Math.abs(xi - yi);
    if (d > maxAbs) maxAbs = d;
    const need = d - rtol * Math.max(Math.abs(xi), Math.abs(yi));
    if (need > needAtol) needAtol = need;
  }
  return { maxAbs, needAtol };
}

/** How much wider than the honest spread a tolerance may be before the dashboard says a liar has room. */
export const ROOM_FACTOR = 1000;

/**
 * [V-13] What a requester should know about the tolerance, given the measured spread: below it
 * (honest replicas would disagree, shards go unverifiable), or so far above it that a liar could
 * move results a long way and still agree. Empty when it fits or nothing was measured.
 */
export function spreadWarnings(policy: Pick<ResolvedPolicy, 'comparator' | 'answerComparator'>, spread: Spread | undefined): string[] {
  if (!spread || spread.pairs === 0) return [];
  const where = `measured on ${spread.pairs} pair${spread.pairs === 1 ? '' : 's'} of replicas (${spread.crossBackendPairs} across backends)`;
  const out: string[] = [];
  const c = policy.comparator;
  const ac = policy.answerComparator;
  if (ac?.kind === 'ocr' && spread.ocr) {
    if (spread.ocr.minIou < ac.minIou)
      out.push(
        `honest boxes overlapped by IoU ${spread.ocr.minIou.toFixed(2)}, below the required ${ac.minIou} (${where}): lower it or shards will go unverifiable.`,
      );
    if (spread.ocr.maxCer > ac.maxCer)
      out.push(`honest lines differed by a character error rate of ${spread.ocr.maxCer.toFixed(3)}, over the allowed ${ac.maxCer} (${where}).`);
  } else if (ac?.kind === 'segments' && spread.segments) {
    if (spread.segments.maxShiftSec > ac.toleranceSec + 1e-9) {
      out.push(
        `honest segments moved by ${spread.segments.maxShiftSec.toFixed(3)} s, over the tolerance of ${ac.toleranceSec} s (${where}): raise it or shards will go unverifiable.`,
      );
    }
  } else if (!ac && c.kind === 'allclose') {
    for (const o of spread.outputs ?? []) {
      if (o.needAtol > c.atol) {
        out.push(
          `output "${o.name}": honest replicas differ by up to ${o.maxAbs.toPrecision(3)}, needing atol ≥ ${o.needAtol.toPrecision(3)} at rtol ${c.rtol}, over the job's atol ${c.atol} (${where}): shards will go unverifiable.`,
        );
      } else if (c.atol > ROOM_FACTOR * Math.max(o.maxAbs, 1e-7)) {
        out.push(
          `output "${o.name}": the job's atol ${c.atol} is over ${ROOM_FACTOR}× the honest spread ${o.maxAbs.toPrecision(3)} (${where}): a liar has room; a tighter tolerance would still verify.`,
        );
      }
    }
  } else if (!ac && c.kind === 'exact') {
    for (const o of spread.outputs ?? []) {
      if (o.maxAbs > 0)
        out.push(`output "${o.name}": honest replicas differ by up to ${o.maxAbs.toPrecision(3)}, so "exact" will leave shards unverifiable (${where}).`);
    }
  }
  return out;
}
