/**
 * Population mixes for the simulation: "honest:0.7,random:0.1" style shares, turned into exact
 * per-volunteer assignments (largest remainder, then a seeded shuffle), so a mix of 1,000
 * volunteers at 0.1 has exactly 100 of that kind.
 */
import { BACKENDS, type Backend } from '../../protocol/capabilities.ts';
import type { Rng } from '../rng.ts';
import { VOLUNTEER_KINDS, type VolunteerKind } from './model.ts';

/** Raised for a mix string that does not parse; the message says what is expected. */
export class MixError extends Error {
  override readonly name = 'MixError';
}

/** Parses "a:0.5,b:0.5" into shares over `names`. Shares must be ≥ 0 and sum to 1 (± 1e-6). */
export function parseShares<N extends string>(text: string, names: readonly N[], what: string): Map<N, number> {
  const out = new Map<N, number>();
  for (const part of text.split(',')) {
    const trimmed = part.trim();
    if (trimmed === '') continue;
    const [name, value] = trimmed.split(':');
    if (!name || value === undefined || !(names as readonly string[]).includes(name.trim())) {
      throw new MixError(`${what}: "${trimmed}" should be NAME:SHARE with NAME one of ${names.join(', ')}`);
    }
    const share = Number(value);
    if (!Number.isFinite(share) || share < 0) throw new MixError(`${what}: share of ${name} must be a number ≥ 0, got "${value}"`);
    out.set(name.trim() as N, (out.get(name.trim() as N) ?? 0) + share);
  }
  const total = [...out.values()].reduce((a, b) => a + b, 0);
  if (Math.abs(total - 1) > 1e-6) throw new MixError(`${what}: shares add up to ${total}, not 1`);
  return out;
}

/** Exactly `n` labels in the given shares (largest remainder), shuffled with `rng`. */
export function assign<N extends string>(shares: ReadonlyMap<N, number>, n: number, rng: Rng): N[] {
  const entries = [...shares.entries()];
  const counts = entries.map(([, s]) => Math.floor(s * n));
  let left = n - counts.reduce((a, b) => a + b, 0);
  const order = entries.map(([, s], i) => ({ i, rem: s * n - Math.floor(s * n) })).sort((a, b) => b.rem - a.rem || a.i - b.i);
  for (const { i } of order) {
    if (left <= 0) break;
    counts[i] = (counts[i] as number) + 1;
    left--;
  }
  const out: N[] = [];
  entries.forEach(([name], i) => {
    for (let k = 0; k < (counts[i] as number); k++) out.push(name);
  });
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(rng.next() * (i + 1));
    const t = out[i] as N;
    out[i] = out[j] as N;
    out[j] = t;
  }
  return out;
}

export const parseMix = (text: string): Map<VolunteerKind, number> => parseShares(text, VOLUNTEER_KINDS, '--mix');
export const parseBackends = (text: string): Map<Backend, number> => parseShares(text, BACKENDS, '--backends');
