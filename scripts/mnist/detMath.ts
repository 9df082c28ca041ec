/**
 * exp() for training that gives the same bits on every machine.
 *
 * ECMAScript specifies Math.exp only as "implementation-approximated": engines (and V8 versions)
 * may return different last bits, and one flipped bit early in training changes every weight
 * after it. This version uses only +, -, *, /, Math.round and exact power-of-two scaling, all of
 * which IEEE 754 / ECMAScript define exactly, so the result is fixed everywhere. Accuracy
 * (~1 ulp-ish) is far better than training needs.
 */

// ln 2 split in two (Cody-Waite) so k * LN2_HI is exact for |k| < 2^11 and the reduction
// x - k ln2 loses no precision.
const LN2_HI = 0.69314718036912381649; // 0x3fe62e42fee00000
const LN2_LO = 1.90821492927058770002e-10; // 0x3dea39ef35793c76
const LOG2E = 1.4426950408889634;

// 1/k! for the Taylor series of e^r on |r| <= ln2/2 (~0.347): the degree-13 remainder is
// < 0.347^14 / 14! ~ 4e-18, below double precision.
const INV_FACT: readonly number[] = (() => {
  const out: number[] = [];
  let f = 1;
  for (let k = 0; k <= 13; k++) {
    if (k > 0) f *= k; // k! is exact in a double up to 18!
    out.push(1 / f);
  }
  return out;
})();

const scratch = new DataView(new ArrayBuffer(8));

/** 2^k exactly, for integer k in the normal range [-1022, 1023], by writing the exponent bits. */
function pow2(k: number): number {
  scratch.setUint32(0, (k + 1023) << 20, false);
  scratch.setUint32(4, 0, false);
  return scratch.getFloat64(0, false);
}

/** Deterministic e^x. Returns 0 below -708 and Infinity above 709 (the double range). */
export function detExp(x: number): number {
  if (Number.isNaN(x)) return NaN;
  if (x < -708) return 0;
  if (x > 709) return Infinity;
  const k = Math.round(x * LOG2E);
  const r = x - k * LN2_HI - k * LN2_LO;
  let p = INV_FACT[13] as number;
  for (let i = 12; i >= 0; i--) p = p * r + (INV_FACT[i] as number);
  // Split the scaling so k = -1022..-1023 or 1023..1024 edge cases stay in pow2's range.
  const k1 = Math.trunc(k / 2);
  return p * pow2(k1) * pow2(k - k1);
}
