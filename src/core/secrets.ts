/**
 * Secrets (volunteers' resume tokens, [I-1]) are a parameter of the core, like time and
 * randomness: the host passes a source with full entropy (`crypto.getRandomValues`), tests and
 * simulations a replayable one. The core's seeded `Rng` never makes one: mulberry32 has 32 bits of
 * state, so a brute force over 2^32 states would recover every token drawn from it.
 */

/** Returns a fresh secret of at least 128 bits, as at most 128 URL-safe characters. */
export type NewSecret = () => string;

/** Hex digits per secret: 32, i.e. 128 bits. */
export const SECRET_HEX_DIGITS = 32;

/**
 * FOR TESTS AND SIMULATIONS ONLY: secrets shaped like real ones (32 hex digits) but derived from
 * `seed`, so runs replay exactly. Anyone who knows the seed knows every secret: never give this
 * to a coordinator that real volunteers connect to.
 */
export function testOnlySecrets(seed: number): NewSecret {
  let state = seed >>> 0;
  let counter = 0;
  // splitmix32-like mixing of (seed, counter): distinct, well-spread values without an Rng object.
  const word = (): string => {
    state = (state + 0x9e3779b9) >>> 0;
    let z = state ^ Math.imul(++counter, 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    return ((z ^ (z >>> 16)) >>> 0).toString(16).padStart(8, '0');
  };
  return () => word() + word() + word() + word();
}

/**
 * Compares a presented secret with the expected one in time that depends only on their lengths,
 * not on where they first differ: `!==` stops at the first differing character, and over many
 * tries the time it takes tells an attacker how much of a guess was right.
 */
export function secretsEqual(presented: string, expected: string): boolean {
  let diff = presented.length ^ expected.length;
  const n = Math.max(presented.length, expected.length);
  for (let i = 0; i < n; i++) diff |= (presented.charCodeAt(i) || 0) ^ (expected.charCodeAt(i) || 0);
  return diff === 0;
}
