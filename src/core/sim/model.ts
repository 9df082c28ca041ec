/**
 * The simulated workload: a small linear "classifier" (D inputs → K logits per item), its exact
 * answer, honest per-backend float drift, and the lies each adversary kind tells. Pure and
 * seeded; nothing here knows about the coordinator.
 *
 * Honest drift follows what scripts/measure-drift.ts measured on the real MNIST model: every WASM
 * run is bit-identical (so WASM volunteers agree to the bit, and differ from the exact answer by
 * a fixed rounding pattern ≤ 8.6e-6), while WebGPU differs from WASM by up to 1.34e-5. Here each
 * WebGPU volunteer gets its own noise, up to 2e-6 relative plus 1.4e-5 absolute per element:
 * a pessimistic version of the measurement, still inside the default tolerance.
 */
import type { Backend } from '../../protocol/capabilities.ts';
import type { Comparator } from '../../protocol/policy.ts';
import type { WireTensor } from '../../protocol/tensor.ts';
import type { Rng } from '../rng.ts';

/** Input features per item and logits per item. */
export const SIM_FEATURES = 4;
export const SIM_CLASSES = 10;
export const SIM_INPUT = 'x';
export const SIM_OUTPUT = 'logits';

export const VOLUNTEER_KINDS = ['honest', 'random', 'perturb', 'zero', 'collude', 'sleeper', 'flaky'] as const;
export type VolunteerKind = (typeof VOLUNTEER_KINDS)[number];
/** Kinds that return wrong results (a sleeper only after its first SLEEPER_HONEST_RESULTS). */
export const LYING_KINDS: readonly VolunteerKind[] = ['random', 'perturb', 'zero', 'collude', 'sleeper'];
export const SLEEPER_HONEST_RESULTS = 50;

/** Measured honest drift (scripts/measure-drift.ts), used for the simulated backends. */
export const WASM_DRIFT_ABS = 8.6e-6;
export const WEBGPU_DRIFT_ABS = 1.4e-5;
export const WEBGPU_DRIFT_REL = 2e-6;

const NOISE_MASK = 1023;

/** A volunteer's own float drift: 1,024 values in [-1, 1) drawn from its rng. */
export function noiseTable(rng: Rng): Float64Array {
  const t = new Float64Array(NOISE_MASK + 1);
  for (let i = 0; i < t.length; i++) t[i] = rng.next() * 2 - 1;
  return t;
}

/** mulberry32 step on a 32-bit state, as a pure function: hash-like draws without an Rng object. */
function mix32(x: number): number {
  let t = (x + 0x6d2b79f5) >>> 0;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return (t ^ (t >>> 14)) >>> 0;
}

/** A uniform draw in [-1, 1) determined by its two keys. */
function signedUnit(a: number, b: number): number {
  return (mix32(Math.imul(a, 0x9e3779b1) ^ mix32(b)) / 4294967296) * 2 - 1;
}

export class SimModel {
  /** [K, D] weights and K biases, drawn from the seed. */
  private readonly w: Float64Array;
  private readonly b: Float64Array;

  constructor(
    seed: number,
    readonly comparator: Comparator,
  ) {
    this.w = new Float64Array(SIM_CLASSES * SIM_FEATURES);
    this.b = new Float64Array(SIM_CLASSES);
    for (let i = 0; i < this.w.length; i++) this.w[i] = signedUnit(seed, i) * 6;
    for (let i = 0; i < this.b.length; i++) this.b[i] = signedUnit(seed ^ 0x55, i) * 2;
  }

  /** Inputs of a whole job: `items` rows of D features in [0, 1). */
  inputs(items: number, seed: number): WireTensor {
    const x = new Float32Array(items * SIM_FEATURES);
    for (let i = 0; i < x.length; i++) x[i] = (signedUnit(seed ^ 0x1234567, i) + 1) / 2;
    return { name: SIM_INPUT, dtype: 'float32', dims: [items, SIM_FEATURES], data: x.buffer };
  }

  /** The exact logits of a shard's input rows (float64 math, rounded once). */
  truth(x: Float32Array): Float32Array {
    const rows = x.length / SIM_FEATURES;
    const y = new Float32Array(rows * SIM_CLASSES);
    for (let r = 0; r < rows; r++) {
      for (let k = 0; k < SIM_CLASSES; k++) {
        let s = this.b[k] as number;
        for (let d = 0; d < SIM_FEATURES; d++) s += (this.w[k * SIM_FEATURES + d] as number) * (x[r * SIM_FEATURES + d] as number);
        y[r * SIM_CLASSES + k] = s;
      }
    }
    return y;
  }

  /**
   * What an honest volunteer on `backend` returns for shard `shardIndex`. WASM: one fixed rounding
   * pattern for everyone. WebGPU: the volunteer's own, read from its `noise` table (see
   * `noiseTable`), so two WebGPU volunteers differ from each other as well.
   */
  honest(x: Float32Array, shardIndex: number, backend: Backend, noise: Float64Array): Float32Array {
    const y = this.truth(x);
    const base = Math.imul(shardIndex, 2654435761) >>> 0;
    for (let i = 0; i < y.length; i++) {
      const v = y[i] as number;
      if (backend === 'wasm') {
        y[i] = v + signedUnit(shardIndex, i) * WASM_DRIFT_ABS;
      } else {
        const k = (base + i * 40503) & NOISE_MASK;
        y[i] = v * (1 + (noise[k] as number) * WEBGPU_DRIFT_REL) + (noise[k ^ 1] as number) * WEBGPU_DRIFT_ABS;
      }
    }
    return y;
  }

  /** Garbage of a plausible size. */
  random(rows: number, rng: Rng): Float32Array {
    const y = new Float32Array(rows * SIM_CLASSES);
    for (let i = 0; i < y.length; i++) y[i] = (rng.next() * 2 - 1) * 30;
    return y;
  }

  /** The honest answer with one value pushed just beyond what the comparator tolerates. */
  perturb(x: Float32Array, shardIndex: number, backend: Backend, noise: Float64Array, rng: Rng): Float32Array {
    const y = this.honest(x, shardIndex, backend, noise);
    this.breakOne(y, Math.floor(rng.next() * (y.length / SIM_CLASSES)), rng.next(), 1.5 + rng.next());
    return y;
  }

  /**
   * The coalition's answer for a shard: the same wrong bits from every colluder (a function of
   * the shard alone), so colluders agree with each other and with nobody else.
   */
  collude(x: Float32Array, shardIndex: number): Float32Array {
    const y = this.truth(x);
    const u = (mix32(shardIndex ^ 0xc011) >>> 0) / 4294967296;
    this.breakOne(y, 0, u, 40);
    return y;
  }

  /**
   * Makes row `row` disagree with the truth under the comparator: allclose — one logit moved by
   * `factor` × its tolerance; argmax — another class becomes the largest; cosine — the row is
   * turned well past the threshold; exact — one value is off by one ulp or more.
   */
  private breakOne(y: Float32Array, row: number, u: number, factor: number): void {
    const base = row * SIM_CLASSES;
    const c = this.comparator;
    if (c.kind === 'allclose') {
      const i = base + Math.floor(u * SIM_CLASSES);
      const v = y[i] as number;
      const tol = c.atol + c.rtol * Math.abs(v);
      y[i] = v + (u < 0.5 ? -1 : 1) * tol * factor;
      return;
    }
    let best = base;
    let norm = 0;
    for (let k = 0; k < SIM_CLASSES; k++) {
      const v = y[base + k] as number;
      norm += v * v;
      if (v > (y[best] as number)) best = base + k;
    }
    norm = Math.sqrt(norm);
    const other = base + ((best - base + 1 + Math.floor(u * (SIM_CLASSES - 1))) % SIM_CLASSES);
    if (c.kind === 'argmax') {
      y[other] = (y[best] as number) + 1;
    } else if (c.kind === 'cosine') {
      y[other] = (y[other] as number) + 10 * norm + 10;
    } else {
      y[other] = (y[other] as number) * (1 + 1e-3) + 1e-3;
    }
  }
}
