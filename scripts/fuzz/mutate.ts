/**
 * Seeded mutations for the fuzzer: of decoded frames (structure-aware: a field dropped, retyped,
 * pushed to a boundary, a frame's type swapped for another's) and of raw bytes (bit flips,
 * truncations, splices). Every choice comes from the caller's Rng, so a seed replays a run.
 */
import type { Rng } from '../../src/core/rng.ts';

export const pick = <T>(rng: Rng, xs: readonly T[]): T => xs[Math.floor(rng.next() * xs.length)] as T;
export const int = (rng: Rng, lo: number, hi: number): number => lo + Math.floor(rng.next() * (hi - lo + 1));
export const chance = (rng: Rng, p: number): boolean => rng.next() < p;

/** Numbers at the edges of what a schema may forget: non-finite, negative, fractional, past 2^53. */
const EDGE_NUMBERS = [0, -0, -1, 1, 0.5, 255, 256, 65_535, 2 ** 31 - 1, 2 ** 31, 2 ** 32, 2 ** 53, -(2 ** 53), 1e308, -1e308, NaN, Infinity, -Infinity];
/** Strings that have broken parsers elsewhere: empty, prototype keys, path tricks, long, odd code points. */
const EDGE_STRINGS = [
  '',
  '__proto__',
  'constructor',
  'prototype',
  'toString',
  '../../etc',
  'a/1',
  'x/99999999999',
  '\u0000',
  '\ud800',
  '💥'.repeat(20),
  'f'.repeat(64),
  'F'.repeat(64),
];
const FRAME_TYPES = [
  'hello',
  'lease-request',
  'model-request',
  'result',
  'lease-abandon',
  'lease-progress',
  'volunteer-state',
  'caps',
  'submit-job',
  'results-request',
  'ping',
  'welcome',
  'refused',
  'lease',
  'no-work',
  'work-available',
  'model-chunk',
  'model-unavailable',
  'result-ack',
  'volunteer-status',
  'job-accepted',
  'job-rejected',
  'job-status',
  'job-results',
  'network',
  'telemetry',
  'pong',
];

/** Sets an own property, "__proto__" included (plain assignment to that key swaps the prototype). */
function setOwn(o: object, key: string, value: unknown): void {
  Object.defineProperty(o, key, { value, enumerable: true, configurable: true, writable: true });
}

export function randomBytes(rng: Rng, n: number): Uint8Array<ArrayBuffer> {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = Math.floor(rng.next() * 256);
  return b;
}

/** A value of any wire type, small or at an edge. */
export function randomValue(rng: Rng, depth = 0): unknown {
  switch (int(rng, 0, depth > 2 ? 5 : 8)) {
    case 0:
      return pick(rng, EDGE_NUMBERS);
    case 1:
      return rng.next() * 2 ** int(rng, 0, 40) * (chance(rng, 0.3) ? -1 : 1);
    case 2:
      return pick(rng, EDGE_STRINGS);
    case 3:
      return 'x'.repeat(pick(rng, [1, 63, 64, 65, 100, 199, 200, 201, 500, 501, 5_000]));
    case 4:
      return chance(rng, 0.5) ? null : chance(rng, 0.5);
    case 5:
      return randomBytes(rng, pick(rng, [0, 1, 3, 4, 7, 8, 12, 16, 100])).buffer;
    case 6:
      return Array.from({ length: int(rng, 0, 4) }, () => randomValue(rng, depth + 1));
    case 7: {
      const o: Record<string, unknown> = {};
      for (let i = int(rng, 0, 3); i > 0; i--)
        setOwn(o, pick(rng, ['t', 'v', 'kind', 'name', 'data', 'dims', 'x', ...EDGE_STRINGS]), randomValue(rng, depth + 1));
      return o;
    }
    default:
      // A long list: the parsers' caps on list lengths.
      return Array.from({ length: pick(rng, [65, 1_000, 20_000]) }, (_, i) => i);
  }
}

/** Every (container, key) in `value`, depth first, for picking a spot to mutate. */
function spots(value: unknown, out: { container: Record<string | number, unknown>; key: string | number }[] = [], depth = 0): typeof out {
  if (depth > 8 || typeof value !== 'object' || value === null || value instanceof ArrayBuffer || ArrayBuffer.isView(value)) return out;
  const container = value as Record<string | number, unknown>;
  // Index loops, not map: a mutated array may carry an own "constructor" that map would call.
  const keys: (string | number)[] = Array.isArray(value) ? Array.from({ length: value.length }, (_, i) => i) : Object.keys(value);
  for (const k of keys) {
    // An own "__proto__" key stays as it is: assigning to it would swap the object's prototype.
    if (k === '__proto__') continue;
    out.push({ container, key: k });
    spots(container[k], out, depth + 1);
  }
  return out;
}

/** A deep copy (binaries copied too), so a mutation never reaches the corpus it came from. */
export function deepCopy(value: unknown): unknown {
  if (value instanceof ArrayBuffer) return value.slice(0);
  if (ArrayBuffer.isView(value)) return value.buffer.slice(value.byteOffset, value.byteOffset + value.byteLength);
  if (Array.isArray(value)) return Array.from({ length: value.length }, (_, i) => deepCopy(value[i]));
  if (typeof value === 'object' && value !== null) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) setOwn(out, k, deepCopy(v));
    return out;
  }
  return value;
}

/** One to `maxEdits` structure-aware edits of a copy of `frame`. */
export function mutateValue(rng: Rng, frame: unknown, maxEdits = 3): unknown {
  const root = { frame: deepCopy(frame) } as Record<string, unknown>;
  for (let n = int(rng, 1, maxEdits); n > 0; n--) {
    const all = spots(root);
    if (all.length === 0) break;
    const spot = pick(rng, all);
    const current = spot.container[spot.key];
    switch (int(rng, 0, 9)) {
      case 0:
        if (Array.isArray(spot.container)) spot.container.splice(Number(spot.key), 1);
        else delete spot.container[spot.key];
        break;
      case 1:
      case 2:
        spot.container[spot.key] = randomValue(rng);
        break;
      case 3:
        // Type confusion: the frame claims another type but keeps its fields.
        if (typeof current === 'object' && current !== null && !Array.isArray(current) && 't' in current) {
          (current as Record<string, unknown>)['t'] = pick(rng, FRAME_TYPES);
        } else spot.container[spot.key] = pick(rng, EDGE_NUMBERS);
        break;
      case 4:
        if (typeof current === 'number') spot.container[spot.key] = chance(rng, 0.5) ? pick(rng, EDGE_NUMBERS) : current + pick(rng, [-1, 1, 0.5, 1e6]);
        else if (typeof current === 'string')
          spot.container[spot.key] = chance(rng, 0.5) ? current + pick(rng, EDGE_STRINGS) : current.slice(0, int(rng, 0, current.length));
        else spot.container[spot.key] = pick(rng, EDGE_NUMBERS);
        break;
      case 5:
        // A binary of the wrong length: tensors whose bytes do not match their dims.
        if (current instanceof ArrayBuffer) {
          const len = Math.max(0, current.byteLength + pick(rng, [-4, -1, 1, 4, -current.byteLength]));
          const next = new Uint8Array(len);
          next.set(new Uint8Array(current).subarray(0, len));
          spot.container[spot.key] = next.buffer;
        } else spot.container[spot.key] = randomBytes(rng, int(rng, 0, 64)).buffer;
        break;
      case 6:
        if (Array.isArray(current) && current.length > 0) {
          // Repeat or reorder elements: duplicate names, shuffled items.
          if (chance(rng, 0.5)) current.push(deepCopy(pick(rng, current)));
          else current.reverse();
        } else if (typeof current === 'object' && current !== null && !(current instanceof ArrayBuffer)) {
          setOwn(current, pick(rng, ['extra', 'x', ...EDGE_STRINGS]), randomValue(rng));
        } else spot.container[spot.key] = [current];
        break;
      case 7:
        // An own "__proto__" key, as a hostile MessagePack map can carry one.
        if (typeof current === 'object' && current !== null && !Array.isArray(current) && !(current instanceof ArrayBuffer)) {
          setOwn(current, '__proto__', randomValue(rng));
        } else spot.container[spot.key] = {};
        break;
      case 8:
        if (Array.isArray(current)) current.length = int(rng, 0, current.length);
        else spot.container[spot.key] = null;
        break;
      default: {
        // Deep nesting.
        let deep: unknown = current;
        for (let d = int(rng, 5, 40); d > 0; d--) deep = chance(rng, 0.5) ? [deep] : { x: deep };
        spot.container[spot.key] = deep;
      }
    }
  }
  return root['frame'];
}

/** One to a few byte-level edits of a copy of `bytes`. */
export function mutateBytes(rng: Rng, bytes: Uint8Array): Uint8Array<ArrayBuffer> {
  let b: Uint8Array<ArrayBuffer> = bytes.slice();
  for (let n = int(rng, 1, 4); n > 0; n--) {
    const at = b.length === 0 ? 0 : int(rng, 0, b.length - 1);
    switch (int(rng, 0, 6)) {
      case 0:
        if (b.length > 0) b[at] = (b[at] as number) ^ (1 << int(rng, 0, 7));
        break;
      case 1:
        if (b.length > 0) b[at] = pick(rng, [0x00, 0x7f, 0x80, 0xc1, 0xc4, 0xc7, 0xd4, 0xdc, 0xdd, 0xde, 0xdf, 0xff, 0xd6, 0xc9, 0xca, 0xcb]);
        break;
      case 2:
        b = b.slice(0, at);
        break;
      case 3: {
        const extra = randomBytes(rng, int(rng, 1, 16));
        const next = new Uint8Array(b.length + extra.length);
        next.set(b.subarray(0, at));
        next.set(extra, at);
        next.set(b.subarray(at), at + extra.length);
        b = next;
        break;
      }
      case 4: {
        // A length prefix pushed to its maximum (str32/bin32/array32/map32 headers).
        if (b.length > 4) b.set([pick(rng, [0xc6, 0xdb, 0xdd, 0xdf]), 0xff, 0xff, 0xff, 0xff].slice(0, Math.min(5, b.length - at)), at);
        break;
      }
      case 5: {
        const end = Math.min(b.length, at + int(rng, 1, 32));
        b = new Uint8Array([...b.subarray(0, at), ...b.subarray(end)]);
        break;
      }
      default:
        b = randomBytes(rng, int(rng, 0, 64));
    }
  }
  return b;
}
