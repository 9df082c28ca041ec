/**
 * [W-6] A model download put together from `model-chunk` frames, whatever order they arrive in.
 *
 * The coordinator queues every chunk of a model at once and the transport interleaves several
 * messages chunk by chunk, so a shorter last chunk can complete before chunks queued ahead of it:
 * frames of one download do not arrive in offset order, even on a reliable, ordered channel.
 * Each chunk is therefore placed at its offset and coverage is tracked per chunk.
 *
 * The grid is fixed by the protocol: chunk k starts at k·chunkBytes and holds
 * min(chunkBytes, total − k·chunkBytes) bytes. That makes every chunk a slot that is either empty
 * or full: a hostile sender cannot overlap chunks, split them into slivers to grow bookkeeping, or
 * write past the end; anything off the grid, a repeat, or a changed total is refused with a reason.
 * Pure: no I/O.
 */
import type { ModelHash } from '../../protocol/ids.ts';
import { LIMITS } from '../../protocol/limits.ts';

export class ModelDownload {
  /** The model's bytes, filled in as chunks arrive. */
  readonly bytes: Uint8Array<ArrayBuffer>;
  /** One flag per chunk slot: 1 once that chunk has been placed. */
  private readonly have: Uint8Array;
  private receivedBytes = 0;

  constructor(
    readonly hash: ModelHash,
    readonly total: number,
    readonly chunkBytes: number = LIMITS.modelChunkBytes,
  ) {
    this.bytes = new Uint8Array(total);
    this.have = new Uint8Array(Math.ceil(total / chunkBytes));
  }

  /** Bytes placed so far (for a progress bar). */
  get received(): number {
    return this.receivedBytes;
  }

  get complete(): boolean {
    return this.receivedBytes === this.total;
  }

  /**
   * Places one chunk. Returns null when it was taken, or why it was refused: a chunk off the
   * protocol's grid, of the wrong length, past the end, a repeat, or one announcing another total.
   */
  place(offset: number, total: number, chunk: ArrayBuffer): string | null {
    if (total !== this.total) return `model chunk announces ${total} bytes, the lease said ${this.total}`;
    if (offset % this.chunkBytes !== 0 || offset >= this.total) {
      return `model chunk at offset ${offset} is off the ${this.chunkBytes}-byte grid of a ${this.total}-byte model`;
    }
    const expected = Math.min(this.chunkBytes, this.total - offset);
    if (chunk.byteLength !== expected) return `model chunk at offset ${offset} has ${chunk.byteLength} bytes, expected ${expected}`;
    const slot = offset / this.chunkBytes;
    if (this.have[slot] === 1) return `model chunk at offset ${offset} arrived twice`;
    this.have[slot] = 1;
    this.bytes.set(new Uint8Array(chunk), offset);
    this.receivedBytes += expected;
    return null;
  }
}
