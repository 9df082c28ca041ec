import type { ModelHash } from '../protocol/ids.ts';
import { asModelHash } from '../protocol/ids.ts';

/**
 * Lowercase hex sha256 of some bytes: a model's identity everywhere. Uses WebCrypto, which exists
 * on the page, in Workers and in Node ≥ 19 as `globalThis.crypto` (only in secure contexts in
 * browsers: localhost or https, which is how the app is served).
 */
export async function sha256Hex(bytes: ArrayBuffer | Uint8Array): Promise<ModelHash> {
  const digest = await crypto.subtle.digest('SHA-256', bytes as BufferSource);
  let hex = '';
  for (const b of new Uint8Array(digest)) hex += b.toString(16).padStart(2, '0');
  return asModelHash(hex);
}
