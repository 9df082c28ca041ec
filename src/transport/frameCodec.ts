/**
 * Protocol objects <-> bytes, for transports that carry raw bytes (the WebRTC DataChannel).
 * MessagePack (@msgpack/msgpack): compact, self-describing, and binary travels as binary, so
 * tensors and model bytes are copied as they are, never turned into number arrays.
 *
 * A frame is encoded as *parts* (chunker.ts sends them as one message): part 0 is the MessagePack
 * skeleton; every binary of at least ATTACH_MIN_BYTES is left out of it, replaced by a 4-byte
 * reference (extension type ATTACHMENT_EXT: its part's number), and travels as a part of its own.
 * So a 50 MB tensor is never copied into an encoder's buffer, and on the receiving side the
 * buffer the chunks were reassembled into *is* the ArrayBuffer the protocol gets: no copy to cut
 * it out of a bigger message. Small binaries stay inline (`bin`) in the skeleton.
 *
 * - Encoding: every ArrayBuffer and typed-array view becomes exactly the view's bytes (a
 *   Float32Array at offset 8 sends its own bytes, not its whole buffer). `undefined` properties
 *   are left out, as JSON would.
 * - Decoding: every binary comes back as an owned ArrayBuffer of exactly its bytes (aligned, so
 *   typed-array views over it are always valid), whatever view type was sent; the protocol's binary
 *   fields are ArrayBuffers. Decoding is strict and bounded (string, bin, array and map sizes,
 *   nesting depth, no extension types but attachment references, each part referenced exactly
 *   once, no trailing bytes, no `__proto__` keys): a hostile peer gets a `FrameCodecError`, never
 *   an exception from deep inside, a huge allocation or a polluted object.
 *
 * Pure: no DOM, no Node APIs.
 */
import { Decoder, Encoder, ExtensionCodec } from '@msgpack/msgpack';
import { LIMITS } from '../protocol/limits.ts';
import { errorMessage } from '../protocol/errorMessage.ts';

/** Deepest nesting a frame may have; protocol frames are about 5 levels deep. */
export const MAX_FRAME_DEPTH = 32;

export class FrameCodecError extends Error {
  override readonly name = 'FrameCodecError';
}

/** Binaries of at least this many bytes travel as parts of their own, not inside the skeleton. */
export const ATTACH_MIN_BYTES = 64 * 1024;
/** The MessagePack extension type of a reference to a part: its number, u32 little-endian. */
export const ATTACHMENT_EXT = 1;

/** A binary left out of the skeleton: encoded as a reference to part `part`. */
class Attachment {
  constructor(readonly part: number) {}
}

/** The parts of the frame being decoded, and which have been referenced (decoding is synchronous). */
let decoding: { readonly parts: readonly ArrayBuffer[]; readonly used: boolean[] } | null = null;

const extensions = new ExtensionCodec();
extensions.register({
  type: ATTACHMENT_EXT,
  encode: (value: unknown) => {
    if (!(value instanceof Attachment)) return null;
    const ref = new Uint8Array(4);
    new DataView(ref.buffer).setUint32(0, value.part, true);
    return ref;
  },
  decode: (data: Uint8Array) => {
    if (data.byteLength !== 4) throw new FrameCodecError(`an attachment reference has 4 bytes, not ${data.byteLength}`);
    const part = new DataView(data.buffer, data.byteOffset, 4).getUint32(0, true);
    const at = decoding;
    const buffer = at?.parts[part - 1];
    if (!at || buffer === undefined) throw new FrameCodecError(`reference to part ${part}, which the message does not have`);
    if (at.used[part - 1]) throw new FrameCodecError(`part ${part} is referenced twice`);
    at.used[part - 1] = true;
    return buffer;
  },
});
// MessagePack's built-in timestamp extension is not part of the protocol: refuse it outright.
extensions.register({
  type: -1,
  encode: () => null,
  decode: () => {
    throw new FrameCodecError('frame holds a timestamp extension, which the protocol does not use');
  },
});

const ENCODER_OPTIONS = { ignoreUndefined: true, maxDepth: MAX_FRAME_DEPTH, extensionCodec: extensions } as const;
const encoder = new Encoder({ ...ENCODER_OPTIONS, initialBufferSize: 64 * 1024 });

const decoder = new Decoder({
  maxStrLength: 1024 * 1024,
  // Inline binaries are small (big ones are parts, bounded by the message's own limit).
  maxBinLength: ATTACH_MIN_BYTES - 1,
  maxArrayLength: LIMITS.maxItemsPerJob,
  maxMapLength: 10_000,
  // Only attachment references (4 bytes).
  maxExtLength: 4,
  extensionCodec: extensions,
});

/** Bounded: the reason goes into logs and refusals that a hostile peer can provoke at will. */
const messageOf = (e: unknown): string => errorMessage(e).slice(0, 200);

function isPlainObject(v: object): v is Record<string, unknown> {
  const proto: unknown = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

interface Encoding {
  /** The binaries left out of the skeleton, in part order (part 1 first). */
  readonly attached: Uint8Array[];
  bytes: number;
}

/**
 * A copy of `value` with every small ArrayBuffer wrapped in a Uint8Array, which msgpack writes as
 * `bin`, and every big one replaced by an Attachment (no bytes are copied here).
 */
function toEncodable(value: unknown, depth: number, enc: Encoding): unknown {
  if (typeof value !== 'object' || value === null) return value;
  if (depth > MAX_FRAME_DEPTH) throw new FrameCodecError(`frame is nested deeper than ${MAX_FRAME_DEPTH} levels`);
  let bytes: Uint8Array | null = null;
  if (value instanceof ArrayBuffer) bytes = new Uint8Array(value);
  else if (ArrayBuffer.isView(value)) bytes = new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
  if (bytes) {
    enc.bytes += bytes.byteLength;
    if (bytes.byteLength < ATTACH_MIN_BYTES) return bytes;
    enc.attached.push(bytes);
    return new Attachment(enc.attached.length);
  }
  if (Array.isArray(value)) return value.map((v) => toEncodable(v, depth + 1, enc));
  if (!isPlainObject(value)) throw new FrameCodecError(`cannot encode a ${value.constructor?.name ?? 'non-plain'} object`);
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = toEncodable(v, depth + 1, enc);
  return out;
}

/**
 * Encodes one frame as its parts: the skeleton, then each big binary (views of the caller's
 * buffers: they must not change until sent). Throws FrameCodecError for what the wire cannot
 * carry (functions, Maps, class instances, more than `maxFrameBytes` in all).
 */
export function encodeFrame(frame: unknown, maxFrameBytes: number = LIMITS.maxFrameBytes): Uint8Array[] {
  const enc: Encoding = { attached: [], bytes: 0 };
  let skeleton: Uint8Array;
  try {
    const value = toEncodable(frame, 0, enc);
    if (enc.bytes > maxFrameBytes) throw new FrameCodecError(`frame of over ${enc.bytes} bytes exceeds the limit of ${maxFrameBytes}`);
    // The shared encoder's buffer is reused: copy the skeleton out (it is small).
    skeleton = encoder.encode(value);
  } catch (e) {
    if (e instanceof FrameCodecError) throw e;
    throw new FrameCodecError(`frame cannot be encoded: ${messageOf(e)}`);
  }
  let total = skeleton.byteLength;
  for (const a of enc.attached) total += a.byteLength;
  if (total > maxFrameBytes) throw new FrameCodecError(`frame of ${total} bytes exceeds the limit of ${maxFrameBytes}`);
  return [skeleton, ...enc.attached];
}

/**
 * Replaces every Uint8Array (an inline `bin`, a view into the skeleton) with an owned ArrayBuffer
 * and refuses any object that is not plain (an unknown extension type). Iterative, so a deeply
 * nested hostile frame cannot overflow the stack; depth is bounded all the same.
 */
function ownBinaries(root: unknown): unknown {
  if (root instanceof Uint8Array) return root.slice().buffer;
  if (typeof root !== 'object' || root === null || root instanceof ArrayBuffer) return root;
  const stack: { container: Record<string, unknown> | unknown[]; depth: number }[] = [];
  const visit = (v: object, depth: number): void => {
    if (!Array.isArray(v) && !isPlainObject(v)) throw new FrameCodecError(`frame holds a ${v.constructor?.name ?? 'foreign'} value`);
    stack.push({ container: v as Record<string, unknown>, depth });
  };
  visit(root, 1);
  while (stack.length > 0) {
    const { container, depth } = stack.pop() as (typeof stack)[number];
    if (depth > MAX_FRAME_DEPTH) throw new FrameCodecError(`frame is nested deeper than ${MAX_FRAME_DEPTH} levels`);
    const keys: (string | number)[] = Array.isArray(container) ? container.map((_, i) => i) : Object.keys(container);
    for (const k of keys) {
      const v = (container as Record<string | number, unknown>)[k];
      if (v instanceof Uint8Array) (container as Record<string | number, unknown>)[k] = v.slice().buffer;
      else if (typeof v === 'object' && v !== null && !(v instanceof ArrayBuffer)) visit(v, depth + 1);
    }
  }
  return root;
}

/** A part as an ArrayBuffer of exactly its bytes: itself when it owns its buffer, else a copy. */
const ownedBuffer = (p: Uint8Array): ArrayBuffer =>
  p.byteOffset === 0 && p.byteLength === p.buffer.byteLength && p.buffer instanceof ArrayBuffer ? p.buffer : p.slice().buffer;

/**
 * Decodes one frame from its parts (the skeleton first); throws FrameCodecError with a reason fit
 * for a log on anything malformed. The parts after the first become the frame's big binaries
 * as they are: the caller must not reuse them.
 */
export function decodeFrame(parts: readonly Uint8Array[]): unknown {
  const [skeleton, ...rest] = parts;
  if (!skeleton) throw new FrameCodecError('a frame has at least one part');
  const state = { parts: rest.map(ownedBuffer), used: rest.map(() => false) };
  let value: unknown;
  decoding = state;
  try {
    value = decoder.decode(skeleton);
  } catch (e) {
    if (e instanceof FrameCodecError) throw e;
    throw new FrameCodecError(`frame is not valid MessagePack: ${messageOf(e)}`);
  } finally {
    decoding = null;
  }
  const unused = state.used.indexOf(false);
  if (unused >= 0) throw new FrameCodecError(`part ${unused + 1} of the message is never referenced`);
  return ownBinaries(value);
}
