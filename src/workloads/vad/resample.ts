/**
 * The project's own sample-rate conversion, so that every volunteer (any browser, any CPU) and
 * the Node reference turn the same file into the same 16 kHz samples, bit for bit.
 *
 * The filter is a windowed sinc (Blackman window, 16 zero crossings each side of the lower of the
 * two rates, cut-off at 90 % of that rate's Nyquist frequency), evaluated exactly at each output
 * sample's position: the input position of output n is n · from / to, a rational number, so the
 * filter has one set of taps per phase (to / gcd(from, to) phases) and no drift accumulates.
 * Why this filter: linear interpolation would fold everything above 8 kHz in a 44.1 kHz recording
 * back into the speech band the model listens to; this one (measured at 16 kHz out) passes 0–6 kHz
 * within 0.05 %, is at half amplitude near 7 kHz, and is ≥ 70 dB down from 8 kHz on, so nothing
 * folds back and the band that carries speech is untouched. The taps of each phase are scaled to sum
 * to 1, so silence stays silence and DC stays DC. Outside the recording the edge sample is held
 * (rather than zeros), so the first and last milliseconds are not faded.
 *
 * Why it is deterministic: `Math.sin`/`Math.cos` are not specified to the last bit and differ
 * between JavaScript engines, so the sinc and the window use `sinPi` below, a fixed polynomial
 * built from + and × only; those, and the float64 accumulation, are exact IEEE 754 operations in
 * every engine (JavaScript never fuses a multiply-add).
 */

/** Zero crossings of the sinc on each side of the centre, at the lower rate. */
const ZERO_CROSSINGS = 16;
/** Fraction of the lower rate's Nyquist frequency that is kept. */
const ROLLOFF = 0.9;

/** `samples` (at `fromHz`) at `toHz`: ceil(length · to / from) samples. The input is not modified. */
export function resample(samples: Float32Array, fromHz: number, toHz: number): Float32Array {
  if (!Number.isInteger(fromHz) || !Number.isInteger(toHz) || fromHz <= 0 || toHz <= 0) {
    throw new RangeError(`sample rates must be positive integers (got ${fromHz} Hz → ${toHz} Hz)`);
  }
  if (fromHz === toHz) return samples.slice();
  const n = samples.length;
  if (n === 0) return new Float32Array(0);
  const g = gcd(fromHz, toHz);
  const up = toHz / g;
  const down = fromHz / g;
  // Cut-off in cycles per input sample, and the half-width of the kernel in input samples.
  const cutoff = 0.5 * Math.min(1, up / down) * ROLLOFF;
  const halfWidth = ZERO_CROSSINGS / (2 * cutoff);
  const reach = Math.ceil(halfWidth);
  const tapCount = 2 * reach;
  // Phases are computed when first met: a rate like 44,099 Hz has 16,000 of them.
  const phases: (Float64Array | undefined)[] = new Array<Float64Array | undefined>(up);

  const outLength = Math.floor((n * up + down - 1) / down);
  const out = new Float32Array(outLength);
  for (let o = 0; o < outLength; o++) {
    // Exact integer arithmetic: n · up < 2^53 for every file WAV_LIMITS allows.
    const pos = o * down;
    const base = Math.floor(pos / up);
    const phase = pos - base * up;
    let taps = phases[phase];
    if (!taps) {
      taps = phaseTaps(phase / up, reach, halfWidth, cutoff);
      phases[phase] = taps;
    }
    const first = base - reach + 1;
    let acc = 0;
    if (first >= 0 && first + tapCount <= n) {
      // Inside the recording (nearly every sample): no edge to hold. Same sums, same order.
      for (let k = 0; k < tapCount; k++) acc += (taps[k] as number) * (samples[first + k] as number);
    } else {
      for (let k = 0; k < tapCount; k++) {
        const j = first + k;
        acc += (taps[k] as number) * (samples[j < 0 ? 0 : j >= n ? n - 1 : j] as number);
      }
    }
    out[o] = acc;
  }
  return out;
}

/** The taps for an output `frac` (0 ≤ frac < 1) input samples past an input sample, summing to 1. */
function phaseTaps(frac: number, reach: number, halfWidth: number, cutoff: number): Float64Array {
  const taps = new Float64Array(2 * reach);
  let sum = 0;
  for (let k = 0; k < taps.length; k++) {
    const t = k - reach + 1 - frac; // distance from the output position, in input samples
    if (Math.abs(t) >= halfWidth) continue;
    const x = 2 * cutoff * t;
    const sinc = x === 0 ? 1 : sinPi(x) / (Math.PI * x);
    const w = t / halfWidth;
    const blackman = 0.42 + 0.5 * cosPi(w) + 0.08 * cosPi(2 * w);
    taps[k] = sinc * blackman;
    sum += taps[k] as number;
  }
  for (let k = 0; k < taps.length; k++) taps[k] = (taps[k] as number) / sum;
  return taps;
}

// Taylor coefficients of sin(u) up to u^21: 1/3!, 1/5!, … (exact divisions, the same everywhere).
const SIN_COEFFS: readonly number[] = (() => {
  const c: number[] = [];
  let f = 1;
  for (let k = 1; k <= 21; k++) {
    f *= k;
    if (k % 2 === 1) c.push((((k - 1) / 2) % 2 === 0 ? 1 : -1) / f);
  }
  return c;
})();

/**
 * sin(π·x) from + and × only: reduce x to r in [−½, ½] (exact), then a Taylor polynomial in π·r,
 * whose error on |π·r| ≤ π/2 is below 1e-18, under float64 rounding. Exported for its tests.
 */
export function sinPi(x: number): number {
  const k = Math.round(x);
  const r = x - k;
  const u = Math.PI * r;
  const u2 = u * u;
  let p = 0;
  for (let i = SIN_COEFFS.length - 1; i >= 0; i--) p = p * u2 + (SIN_COEFFS[i] as number);
  const s = u * p;
  return Math.abs(k) % 2 === 1 ? -s : s;
}

/** cos(π·x) = sin(π·(x + ½)). */
export function cosPi(x: number): number {
  return sinPi(x + 0.5);
}

function gcd(a: number, b: number): number {
  while (b !== 0) [a, b] = [b, a % b];
  return a;
}
