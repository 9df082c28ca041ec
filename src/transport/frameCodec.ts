/**
 * Protocol objects <-> bytes, for transports that carry raw bytes (the WebRTC DataChannel).
 * MessagePack (@msgpack/msgpack): compact, self-describing, and binary travels as `bin`, so
 * tensors and model bytes are copied as they are, never turned into number arrays.
 *
 * - Encoding: every ArrayBuffer and typed-array view becomes `bin` holding exactly the view's
 *   bytes (a Float32Array at offset 8 sends its own bytes, not its whole buffer). `undefined`
 *   properties are left out, as JSON would.
 * - Decoding: every `bin` comes back as a fresh, owned ArrayBuffer (aligned, so typed-array views
 *   over it are always valid), whatever view type was sent; the protocol's binary fields are
 *   ArrayBuffers. Decoding is strict and bounded (string, bin, array and map sizes, nesting
 *   depth, no extension types, no trailing bytes, no `__proto__` keys): a hostile peer gets a
 *   `FrameCodecError`, never an exception from deep inside, a huge allocation or a polluted object.
 *
 * Pure: no DOM, no Node APIs.
 */
import { Decoder, Encoder } from '@msgpack/msgpack';
import { LIMITS } from '../protocol/limits.ts';

/** Deepest nesting a frame may have; protocol frames are about 5 levels deep. */
export const MAX_FRAME_DEPTH = 32;

export class FrameCodecError extends Error {
  override readonly name = 'FrameCodecError';
}

const ENCODER_OPTIONS = { ignoreUndefined: true, maxDepth: MAX_FRAME_DEPTH } as const;
/** Frames with less binary than this share one encoder; bigger ones get their own, sized to fit. */
const LARGE_FRAME_BYTES = 1024 * 1024;
const encoder = new Encoder({ ...ENCODER_OPTIONS, initialBufferSize: 64 * 1024 });

const decoder = new Decoder({
  maxStrLength: 1024 * 1024,
  // Model bytes and tensors are the only big binaries; each is bounded by its own limit.
  maxBinLength: Math.max(LIMITS.maxModelBytes, LIMITS.maxTensorBytes),
  maxArrayLength: LIMITS.maxItemsPerJob,
  maxMapLength: 10_000,
  // Protocol frames use no extension types (not even msgpack's timestamp).
  maxExtLength: 0,
});

const messageOf = (e: unknown): string => (e instanceof Error ? e.message : String(e)).slice(0, 200);

function isPlainObject(v: object): v is Record<string, unknown> {
  const proto: unknown = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

/**
 * A copy of `value` with every ArrayBuffer wrapped in a Uint8Array, which msgpack writes as `bin`
 * (no bytes are copied here); adds up the binary bytes in `sizes`.
 */
function toEncodable(value: unknown, depth: number, sizes: { bin: number }): unknown {
  if (typeof value !== 'object' || value === null) return value;
  if (depth > MAX_FRAME_DEPTH) throw new FrameCodecError(`frame is nested deeper than ${MAX_FRAME_DEPTH} levels`);
  if (value instanceof ArrayBuffer) {
    sizes.bin += value.byteLength;
    return new Uint8Array(value);
  }
  if (ArrayBuffer.isView(value)) {
    sizes.bin += value.byteLength;
    return new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
  }
  if (Array.isArray(value)) return value.map((v) => toEncodable(v, depth + 1, sizes));
  if (!isPlainObject(value)) throw new FrameCodecError(`cannot encode a ${value.constructor?.name ?? 'non-plain'} object`);
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = toEncodable(v, depth + 1, sizes);
  return out;
}

/**
 * Encodes one frame. Throws FrameCodecError for what the wire cannot carry (functions, Maps,
 * class instances, bigger than `maxFrameBytes`).
 */
export function encodeFrame(frame: unknown, maxFrameBytes: number = LIMITS.maxFrameBytes): Uint8Array {
  let bytes: Uint8Array;
  try {
    const sizes = { bin: 0 };
    const value = toEncodable(frame, 0, sizes);
    // A big frame gets an encoder of its own, sized to fit: its binary is copied once, never
    // regrown or sliced again, and no shared encoder keeps a buffer that big alive afterwards.
    bytes =
      sizes.bin < LARGE_FRAME_BYTES
        ? encoder.encode(value)
        : new Encoder({ ...ENCODER_OPTIONS, initialBufferSize: sizes.bin + 256 * 1024 }).encodeSharedRef(value);
  } catch (e) {
    if (e instanceof FrameCodecError) throw e;
    throw new FrameCodecError(`frame cannot be encoded: ${messageOf(e)}`);
  }
  if (bytes.byteLength > maxFrameBytes) {
    throw new FrameCodecError(`frame of ${bytes.byteLength} bytes exceeds the limit of ${maxFrameBytes}`);
  }
  return bytes;
}

/**
 * Replaces every Uint8Array (a `bin` view into the message) with an owned ArrayBuffer. Iterative,
 * so a deeply nested hostile frame cannot overflow the stack; depth is bounded all the same.
 */
function ownBinaries(root: unknown): unknown {
  if (root instanceof Uint8Array) return root.slice().buffer;
  if (typeof root !== 'object' || root === null) return root;
  const stack: { container: Record<string, unknown> | unknown[]; depth: number }[] = [{ container: root as Record<string, unknown>, depth: 1 }];
  while (stack.length > 0) {
    const { container, depth } = stack.pop() as (typeof stack)[number];
    if (depth > MAX_FRAME_DEPTH) throw new FrameCodecError(`frame is nested deeper than ${MAX_FRAME_DEPTH} levels`);
    const keys: (string | number)[] = Array.isArray(container) ? container.map((_, i) => i) : Object.keys(container);
    for (const k of keys) {
      const v = (container as Record<string | number, unknown>)[k];
      if (v instanceof Uint8Array) (container as Record<string | number, unknown>)[k] = v.slice().buffer;
      else if (typeof v === 'object' && v !== null) stack.push({ container: v as Record<string, unknown>, depth: depth + 1 });
    }
  }
  return root;
}

/** Decodes one frame; throws FrameCodecError with a reason fit for a log on anything malformed. */
export function decodeFrame(bytes: Uint8Array): unknown {
  let value: unknown;
  try {
    value = decoder.decode(bytes);
  } catch (e) {
    throw new FrameCodecError(`frame is not valid MessagePack: ${messageOf(e)}`);
  }
  return ownBinaries(value);
}
