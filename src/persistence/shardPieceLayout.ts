/**
 * How a shard record's output bytes are cut into pieces and put back together (v4). Pure: the
 * store does the reads and writes.
 *
 * The bytes of every distinct output buffer of a record (the accepted outputs, then each
 * replica's) follow one another and are cut into pieces of at most `pieceBytes`. Distinct:
 * the accepted outputs are the buffers of the replica that won, and are stored once, as a
 * single structured clone of the whole record stored them.
 */
import type { WireTensor } from '../protocol/tensor.ts';
import type { ShardPieceLayout, StoredShard } from './records.ts';

/** Every output tensor of a record in layout order: the accepted outputs, then each replica's. */
function tensorsOf(record: StoredShard): WireTensor[] {
  return [...(record.accepted?.outputs ?? []), ...(record.replicas ?? []).flatMap((r) => r.outputs)];
}

/** The record with each tensor's data replaced by `dataOf(its index in layout order)`. */
function mapData(record: StoredShard, dataOf: (slot: number) => ArrayBuffer): StoredShard {
  let slot = 0;
  const map = (outputs: readonly WireTensor[]): WireTensor[] => outputs.map((t) => ({ ...t, data: dataOf(slot++) }));
  const accepted = record.accepted ? { ...record.accepted, outputs: map(record.accepted.outputs) } : null;
  const replicas = record.replicas?.map((r) => ({ ...r, outputs: map(r.outputs) }));
  return { ...record, accepted, ...(replicas ? { replicas } : {}) };
}

export interface ShardSplit {
  /** The record to store: outputs' data empty, `pieces` saying where the bytes are. */
  readonly record: StoredShard;
  /** Cuts the pieces one at a time, so that only one piece's copy is held at once. */
  pieces(): Generator<ArrayBuffer>;
}

/** `record` split under `tag`, or null when its outputs fit in one piece (they stay inline: one put, as small). */
export function splitShard(record: StoredShard, tag: number, pieceBytes: number): ShardSplit | null {
  const split = splitShardAlways(record, tag, pieceBytes);
  return split.bytes <= pieceBytes ? null : split;
}

/**
 * `record` split under `tag` however small its outputs (none or a few bytes: one piece or none),
 * for stores whose records cannot hold bytes inline (SQLite keeps a record as JSON).
 */
export function splitShardAlways(record: StoredShard, tag: number, pieceBytes: number): ShardSplit & { readonly bytes: number } {
  const buffers: ArrayBuffer[] = [];
  const slots = tensorsOf(record).map((t) => {
    const known = buffers.indexOf(t.data);
    return known >= 0 ? known : buffers.push(t.data) - 1;
  });
  const total = buffers.reduce((n, b) => n + b.byteLength, 0);
  const count = Math.ceil(total / pieceBytes);
  const layout: ShardPieceLayout = { tag, count, buffers: buffers.map((b) => b.byteLength), slots };
  const empty = new ArrayBuffer(0);
  return {
    bytes: total,
    record: { ...mapData(record, () => empty), pieces: layout },
    *pieces() {
      let b = 0;
      let at = 0; // within buffers[b]
      for (let p = 0; p < count; p++) {
        const piece = new Uint8Array(Math.min(pieceBytes, total - p * pieceBytes));
        let filled = 0;
        while (filled < piece.byteLength) {
          const buffer = buffers[b] as ArrayBuffer;
          const n = Math.min(buffer.byteLength - at, piece.byteLength - filled);
          piece.set(new Uint8Array(buffer, at, n), filled);
          filled += n;
          at += n;
          if (at === buffer.byteLength) {
            b++;
            at = 0;
          }
        }
        yield piece.buffer;
      }
    },
  };
}

/**
 * The record with its bytes put back from `pieces` (its tag's, in piece order), or why they do
 * not add up to its layout (a piece missing or of another size: restoring it would be garbage).
 */
export function joinShard(record: StoredShard, pieces: readonly { readonly piece: number; readonly bytes: ArrayBuffer }[]): StoredShard | string {
  const layout = record.pieces;
  if (!layout) return record;
  const total = layout.buffers.reduce((n, b) => n + b, 0);
  const got = pieces.reduce((n, p) => n + p.bytes.byteLength, 0);
  if (pieces.length !== layout.count || pieces.some((p, i) => p.piece !== i) || got !== total) {
    return `${pieces.length} of its ${layout.count} stored pieces (${got} of ${total} bytes)`;
  }
  if (layout.slots.length !== tensorsOf(record).length || layout.slots.some((s) => !(s >= 0 && s < layout.buffers.length))) {
    return `a layout of ${layout.slots.length} tensors over ${layout.buffers.length} buffers that does not fit its outputs`;
  }
  const buffers = layout.buffers.map((n) => new Uint8Array(n));
  let b = 0;
  let at = 0;
  for (const { bytes } of pieces) {
    let read = 0;
    while (read < bytes.byteLength) {
      const buffer = buffers[b] as Uint8Array;
      const n = Math.min(buffer.byteLength - at, bytes.byteLength - read);
      buffer.set(new Uint8Array(bytes, read, n), at);
      read += n;
      at += n;
      if (at === buffer.byteLength) {
        b++;
        at = 0;
      }
    }
  }
  const { pieces: _layout, ...rest } = record;
  return mapData(rest, (slot) => (buffers[layout.slots[slot] ?? -1] ?? new Uint8Array(0)).buffer);
}
