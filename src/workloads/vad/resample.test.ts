import { describe, expect, it } from 'vitest';
import { cosPi, resample, sinPi } from './resample.ts';

const tone = (hz: number, rate: number, n: number, amplitude: number): Float32Array =>
  Float32Array.from({ length: n }, (_, i) => amplitude * Math.sin((2 * Math.PI * hz * i) / rate));

/** Largest |out[i] − ideal(i)| away from the first and last `margin` samples. */
function maxError(out: Float32Array, ideal: (i: number) => number, margin: number): number {
  let worst = 0;
  for (let i = margin; i < out.length - margin; i++) worst = Math.max(worst, Math.abs((out[i] as number) - ideal(i)));
  return worst;
}

function rms(x: Float32Array, margin: number): number {
  let sum = 0;
  for (let i = margin; i < x.length - margin; i++) sum += (x[i] as number) ** 2;
  return Math.sqrt(sum / (x.length - 2 * margin));
}

describe("[VAD-2] sinPi / cosPi (the filter's own trigonometry)", () => {
  it('match sin(πx) and cos(πx) to float64 precision', () => {
    for (let x = -40; x <= 40; x += 0.0137) {
      expect(Math.abs(sinPi(x) - Math.sin(Math.PI * x))).toBeLessThan(1e-13);
      expect(Math.abs(cosPi(x) - Math.cos(Math.PI * x))).toBeLessThan(1e-13);
    }
    expect(sinPi(0.5)).toBe(1);
    expect(Math.abs(sinPi(7))).toBe(0);
  });
});

describe('[VAD-2] resample', () => {
  it('has ceil(n · to / from) samples', () => {
    expect(resample(new Float32Array(44100), 44100, 16000).length).toBe(16000);
    expect(resample(new Float32Array(22050), 22050, 16000).length).toBe(16000);
    expect(resample(new Float32Array(8000), 8000, 16000).length).toBe(16000);
    expect(resample(new Float32Array(48001), 48000, 16000).length).toBe(16001);
    expect(resample(new Float32Array(1), 44100, 16000).length).toBe(1);
    expect(resample(new Float32Array(0), 44100, 16000).length).toBe(0);
    expect(resample(new Float32Array(3), 8000, 16000).length).toBe(6);
  });

  it('returns a copy of the samples at the same rate', () => {
    const x = Float32Array.of(0.1, -0.2, 0.3);
    const y = resample(x, 16000, 16000);
    expect(y).toEqual(x);
    expect(y).not.toBe(x);
  });

  it('keeps DC exactly, edges included', () => {
    for (const from of [44100, 22050, 48000, 8000, 11025, 44099]) {
      const out = resample(new Float32Array(3000).fill(0.25), from, 16000);
      for (const v of out) expect(Math.abs(v - 0.25)).toBeLessThan(1e-7);
    }
  });

  it('keeps a tone in the speech band at its frequency and amplitude (downsampling)', () => {
    for (const [from, hz] of [
      [44100, 1000],
      [22050, 440],
      [48000, 3000],
      [44100, 5000],
    ] as const) {
      const out = resample(tone(hz, from, from, 0.5), from, 16000);
      // The filter is symmetric (zero phase): output n sits exactly at input time n / 16000 s.
      const err = maxError(out, (i) => 0.5 * Math.sin((2 * Math.PI * hz * i) / 16000), 200);
      expect(err, `${hz} Hz from ${from} Hz`).toBeLessThan(1e-3);
    }
  });

  it('keeps a tone at its frequency and amplitude (upsampling)', () => {
    const out = resample(tone(1000, 8000, 8000, 0.8), 8000, 16000);
    expect(maxError(out, (i) => 0.8 * Math.sin((2 * Math.PI * 1000 * i) / 16000), 200)).toBeLessThan(1e-3);
  });

  it('removes what is above the new Nyquist frequency instead of folding it into speech', () => {
    // 12 kHz at 44.1 kHz would alias to 4 kHz at 16 kHz without the low-pass.
    const out = resample(tone(12000, 44100, 44100, 0.5), 44100, 16000);
    expect(rms(out, 200)).toBeLessThan(0.5 * 1e-3);
    // 8.5 kHz, just past the new Nyquist frequency, is as good as gone too…
    expect(rms(resample(tone(8500, 44100, 44100, 0.5), 44100, 16000), 200)).toBeLessThan(0.5 * 1e-3);
    // …while 6 kHz passes whole (a tone's RMS is amplitude / √2).
    expect(rms(resample(tone(6000, 44100, 44100, 0.5), 44100, 16000), 200)).toBeCloseTo(0.5 / Math.SQRT2, 3);
  });

  it('is pinned: the same input gives these exact samples (verification depends on it)', () => {
    const x = tone(440, 44100, 4410, 0.9);
    const out = resample(x, 44100, 16000);
    expect(resample(x, 44100, 16000)).toEqual(out);
    // Hash of the float32 bytes (FNV-1a); a change to the filter must change this on purpose.
    let h = 0x811c9dc5;
    for (const b of new Uint8Array(out.buffer)) h = Math.imul(h ^ b, 0x01000193) >>> 0;
    expect({ length: out.length, hash: h.toString(16) }).toEqual({ length: 1600, hash: PINNED_HASH });
  });

  it('refuses rates that are not positive integers', () => {
    expect(() => resample(new Float32Array(4), 0, 16000)).toThrow(RangeError);
    expect(() => resample(new Float32Array(4), 44100.5, 16000)).toThrow(/positive integers/);
  });
});

const PINNED_HASH = '2d677d96';
