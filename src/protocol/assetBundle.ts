/**
 * [J-9] A workload's assets in one blob: a pipeline that needs several models and a dictionary
 * (PP-OCR's detector, direction classifier, recogniser and its CTC dictionary) travels as one
 * content-hashed "model", so it reuses the model path end to end — chunked delivery, the
 * volunteer's cache, at most one copy per lease — and the pipeline names each entry by its own
 * sha256, which the volunteer checks before it loads anything.
 *
 * Layout, integers little-endian:
 *   "QBUNDLE1"                        8-byte magic (an ONNX file starts with a protobuf tag, never this)
 *   u32 count                         1..ASSET_BUNDLE_LIMITS.maxEntries
 *   count × { u16 nameLen, name (UTF-8), u32 byteLength }
 *   the entries' bytes, back to back, in the same order
 * Nothing is padded and nothing may follow the last entry: a bundle has exactly one reading.
 */
import { LIMITS } from './limits.ts';

const MAGIC = 'QBUNDLE1';

export const ASSET_BUNDLE_LIMITS = {
  maxEntries: 16,
  maxNameBytes: 200,
} as const;

export interface AssetEntry {
  /** A label for people and errors ("rec.onnx"), printable ASCII; entries are identified by their bytes' hash. */
  readonly name: string;
  readonly bytes: Uint8Array;
}

const isPrintableAscii = (b: Uint8Array): boolean => b.every((c) => c >= 0x20 && c <= 0x7e);

/** True when `bytes` starts like a bundle (it may still fail to parse). */
export function isAssetBundle(bytes: Uint8Array): boolean {
  if (bytes.byteLength < MAGIC.length) return false;
  for (let i = 0; i < MAGIC.length; i++) if (bytes[i] !== MAGIC.charCodeAt(i)) return false;
  return true;
}

/** Packs entries into one bundle. Throws when they break the limits a parser enforces. */
export function buildAssetBundle(entries: readonly AssetEntry[]): Uint8Array {
  if (entries.length < 1 || entries.length > ASSET_BUNDLE_LIMITS.maxEntries) {
    throw new Error(`a bundle holds 1 to ${ASSET_BUNDLE_LIMITS.maxEntries} entries, not ${entries.length}`);
  }
  const names = entries.map((e) => Uint8Array.from(e.name, (c) => c.charCodeAt(0)));
  for (const [i, n] of names.entries()) {
    if (n.byteLength < 1 || n.byteLength > ASSET_BUNDLE_LIMITS.maxNameBytes || !isPrintableAscii(n)) {
      throw new Error(`entry ${i + 1}'s name must be 1 to ${ASSET_BUNDLE_LIMITS.maxNameBytes} printable ASCII characters`);
    }
  }
  const header = MAGIC.length + 4 + names.reduce((n, name) => n + 2 + name.byteLength + 4, 0);
  const total = header + entries.reduce((n, e) => n + e.bytes.byteLength, 0);
  if (total > LIMITS.maxModelBytes) throw new Error(`the bundle would be ${total} bytes, over the limit of ${LIMITS.maxModelBytes}`);
  const out = new Uint8Array(total);
  const view = new DataView(out.buffer);
  for (let i = 0; i < MAGIC.length; i++) out[i] = MAGIC.charCodeAt(i);
  let at = MAGIC.length;
  view.setUint32(at, entries.length, true);
  at += 4;
  for (const [i, e] of entries.entries()) {
    const name = names[i]!;
    view.setUint16(at, name.byteLength, true);
    out.set(name, at + 2);
    at += 2 + name.byteLength;
    view.setUint32(at, e.bytes.byteLength, true);
    at += 4;
  }
  for (const e of entries) {
    out.set(e.bytes, at);
    at += e.bytes.byteLength;
  }
  return out;
}

/**
 * Reads a bundle, or throws an error that says what is wrong with it. The entries are views into
 * `bytes` (no copy). Every length is checked against what is left before it is used.
 */
export function parseAssetBundle(bytes: Uint8Array): AssetEntry[] {
  if (!isAssetBundle(bytes)) throw new Error('not an asset bundle (it does not start with "QBUNDLE1")');
  if (bytes.byteLength > LIMITS.maxModelBytes) throw new Error(`the bundle is ${bytes.byteLength} bytes, over the limit of ${LIMITS.maxModelBytes}`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let at = MAGIC.length;
  const need = (n: number, what: string): void => {
    if (at + n > bytes.byteLength) throw new Error(`the bundle ends inside ${what}`);
  };
  need(4, 'its entry count');
  const count = view.getUint32(at, true);
  at += 4;
  if (count < 1 || count > ASSET_BUNDLE_LIMITS.maxEntries)
    throw new Error(`the bundle says it has ${count} entries: 1 to ${ASSET_BUNDLE_LIMITS.maxEntries} are allowed`);
  const heads: { name: string; size: number }[] = [];
  for (let i = 0; i < count; i++) {
    need(2, `entry ${i + 1}'s header`);
    const nameLen = view.getUint16(at, true);
    at += 2;
    if (nameLen < 1 || nameLen > ASSET_BUNDLE_LIMITS.maxNameBytes)
      throw new Error(`entry ${i + 1}'s name has ${nameLen} bytes: 1 to ${ASSET_BUNDLE_LIMITS.maxNameBytes} are allowed`);
    need(nameLen + 4, `entry ${i + 1}'s header`);
    const raw = bytes.subarray(at, at + nameLen);
    if (!isPrintableAscii(raw)) throw new Error(`entry ${i + 1}'s name is not printable ASCII`);
    const name = String.fromCharCode(...raw);
    at += nameLen;
    heads.push({ name, size: view.getUint32(at, true) });
    at += 4;
  }
  const entries: AssetEntry[] = [];
  for (const [i, h] of heads.entries()) {
    need(h.size, `entry ${i + 1} ("${h.name}")`);
    entries.push({ name: h.name, bytes: bytes.subarray(at, at + h.size) });
    at += h.size;
  }
  if (at !== bytes.byteLength) throw new Error(`${bytes.byteLength - at} bytes follow the bundle's last entry`);
  return entries;
}
