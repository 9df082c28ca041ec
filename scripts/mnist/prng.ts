/**
 * Seeded randomness for training. Math.random is unseeded and differs per run, so everything
 * random (weight init, the held-out split, minibatch order) comes from here instead.
 *
 * mulberry32: 32-bit state, only integer ops (Math.imul, shifts, xor), so every JS engine on every
 * machine produces the same stream bit for bit.
 */
export type Rng = () => number;

/** Returns a generator of uint32 values. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  };
}

/** Uniform float in [0, 1): uint32 / 2^32 is exact in a double. */
export function uniformRng(seed: number): Rng {
  const next = mulberry32(seed);
  return () => next() / 4294967296;
}

/** Integer in [0, n). n must be <= 2^32; the tiny modulo bias is irrelevant here. */
export function randomInt(rng: Rng, n: number): number {
  return Math.floor(rng() * n);
}

/** In-place Fisher-Yates shuffle of an index array (every permutation reachable, fixed per seed). */
export function shuffleInPlace(items: Int32Array, rng: Rng): void {
  for (let i = items.length - 1; i > 0; i--) {
    const j = randomInt(rng, i + 1);
    const tmp = items[i] as number;
    items[i] = items[j] as number;
    items[j] = tmp;
  }
}

/** 0, 1, ..., n-1 shuffled. */
export function shuffledIndices(n: number, rng: Rng): Int32Array {
  const idx = new Int32Array(n);
  for (let i = 0; i < n; i++) idx[i] = i;
  shuffleInPlace(idx, rng);
  return idx;
}
