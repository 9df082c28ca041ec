/**
 * Randomness is a parameter of the core, never `Math.random()`: a seeded `Rng` makes every
 * simulation and test replayable from its seed. [D-1]
 */
export interface Rng {
  /** A float in [0, 1). */
  next(): number;
}

/** mulberry32: tiny, fast, and good enough for scheduling and sampling (not for secrets). */
export function seededRng(seed: number): Rng {
  let a = seed >>> 0;
  return {
    next(): number {
      a = (a + 0x6d2b79f5) >>> 0;
      let t = a;
      t = Math.imul(t ^ (t >>> 15), t | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    },
  };
}

/** A short random id fragment (base 36) for minting ids. */
export function randomTag(rng: Rng, length = 8): string {
  let s = '';
  for (let i = 0; i < length; i++) s += Math.floor(rng.next() * 36).toString(36);
  return s;
}
