/**
 * Hand-made chunks for tests: what a hostile peer puts on a connection (a first chunk declaring
 * a huge message, garbage headers), byte for byte in the layout chunker.ts reads.
 */
import { CHUNK_FORMAT_VERSION, CHUNK_HEADER_BYTES } from '../chunker.ts';

export interface RawChunkHeader {
  readonly id: number;
  readonly index: number;
  readonly count: number;
  readonly total: number;
  readonly part?: number;
  readonly partBytes?: number;
}

export function rawChunk(h: RawChunkHeader, payload: Uint8Array): Uint8Array {
  const c = new Uint8Array(CHUNK_HEADER_BYTES + payload.byteLength);
  const v = new DataView(c.buffer);
  v.setUint8(0, CHUNK_FORMAT_VERSION);
  v.setUint16(2, h.part ?? 0, true);
  v.setUint32(4, h.id, true);
  v.setUint32(8, h.index, true);
  v.setUint32(12, h.count, true);
  v.setUint32(16, h.total, true);
  v.setUint32(20, h.partBytes ?? h.total, true);
  c.set(payload, CHUNK_HEADER_BYTES);
  return c;
}
