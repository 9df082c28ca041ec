/**
 * SHA-256 from the runtime's WebCrypto, for tests of the pure code that takes a hash as a
 * parameter. Reached through `globalThis` because the core's typecheck has no DOM types: the
 * pure code itself never calls it.
 */
import type { Digest } from '../merkle.ts';

interface Subtle {
  digest(algorithm: 'SHA-256', data: Uint8Array<ArrayBuffer>): Promise<ArrayBuffer>;
}

export const sha256: Digest = async (bytes) => {
  const subtle = (globalThis as unknown as { crypto: { subtle: Subtle } }).crypto.subtle;
  return new Uint8Array(await subtle.digest('SHA-256', bytes));
};

/** UTF-8 as the runtime's TextEncoder writes it, to check the pure encoder against. */
export function runtimeUtf8(text: string): Uint8Array {
  const Encoder = (globalThis as unknown as { TextEncoder: new () => { encode(s: string): Uint8Array } }).TextEncoder;
  return new Encoder().encode(text);
}
