/**
 * Fresh seeds for the seeded simulation suites: besides their fixed seeds, every run tries a few
 * it has never tried, so the suites keep exploring instead of replaying the same few runs. A
 * failure names its seed; replay it with `QUORUM_SIM_SEEDS=<seed> npx vitest run <file>`, and add
 * it to that suite's regression seeds so it is tried on every run from then on.
 */

/** Read through globalThis: the suites that use this compile without Node's types. */
const host = globalThis as unknown as {
  process?: { env?: Record<string, string | undefined> };
  crypto: { getRandomValues(a: Uint32Array): Uint32Array };
};
const env = host.process?.env ?? {};

/** `count` seeds: those in QUORUM_SIM_SEEDS (comma-separated) when set, fresh random ones otherwise. */
export function freshSeeds(count: number): number[] {
  const pinned = env['QUORUM_SIM_SEEDS'];
  if (pinned) {
    return pinned
      .split(',')
      .map((s) => Number(s.trim()))
      .filter((n) => Number.isSafeInteger(n) && n >= 0);
  }
  // 31 bits: the simulation's Rng takes any non-negative integer, and a short seed is easy to copy.
  return Array.from(host.crypto.getRandomValues(new Uint32Array(count)), (n) => n >>> 1);
}
