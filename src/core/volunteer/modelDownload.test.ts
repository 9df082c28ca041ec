import { describe, expect, it } from 'vitest';
import { HASH_A } from '../testing/fixtures.ts';
import { ModelDownload } from './modelDownload.ts';

const CHUNK = 16;

/** Bytes whose pattern (period 251) never lines up with the chunk grid, so a misplaced chunk shows. */
function distinctBytes(n: number): ArrayBuffer {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = (i * 31) % 251;
  return b.buffer;
}

/** The chunks the coordinator sends for `model`: on the grid, the last one shorter. */
function chunksOf(model: ArrayBuffer): { offset: number; bytes: ArrayBuffer }[] {
  const out = [];
  for (let offset = 0; offset < model.byteLength; offset += CHUNK) out.push({ offset, bytes: model.slice(offset, offset + CHUNK) });
  return out;
}

describe('ModelDownload [W-6]', () => {
  for (const size of [CHUNK - 5, CHUNK, 3 * CHUNK, 3 * CHUNK + 7]) {
    it(`a ${size}-byte model arrives whole in any order (last chunk first, reversed, interleaved)`, () => {
      const model = distinctBytes(size);
      const chunks = chunksOf(model);
      const orders = [
        chunks,
        [...chunks].reverse(),
        [chunks.at(-1)!, ...chunks.slice(0, -1)],
        chunks.filter((_, i) => i % 2 === 1).concat(chunks.filter((_, i) => i % 2 === 0)),
      ];
      for (const order of orders) {
        const d = new ModelDownload(HASH_A, size, CHUNK);
        for (const [i, c] of order.entries()) {
          expect(d.complete).toBe(false);
          expect(d.place(c.offset, size, c.bytes)).toBeNull();
          expect(d.received).toBe(order.slice(0, i + 1).reduce((n, x) => n + x.bytes.byteLength, 0));
        }
        expect(d.complete).toBe(true);
        expect(d.bytes).toEqual(new Uint8Array(model));
      }
    });
  }

  it('refuses a chunk past the end, off the grid, of the wrong length, repeated, or with another total', () => {
    const size = 2 * CHUNK + 3;
    const fresh = (): ModelDownload => new ModelDownload(HASH_A, size, CHUNK);
    expect(fresh().place(3 * CHUNK, size, new ArrayBuffer(3))).toMatch(/off the 16-byte grid/);
    expect(fresh().place(CHUNK + 1, size, new ArrayBuffer(CHUNK))).toMatch(/off the 16-byte grid/);
    expect(fresh().place(2 * CHUNK, size, new ArrayBuffer(CHUNK))).toMatch(/has 16 bytes, expected 3/);
    expect(fresh().place(0, size, new ArrayBuffer(CHUNK - 1))).toMatch(/has 15 bytes, expected 16/);
    expect(fresh().place(0, size + 1, new ArrayBuffer(CHUNK))).toMatch(/announces 36 bytes, the lease said 35/);
    const twice = fresh();
    expect(twice.place(CHUNK, size, new ArrayBuffer(CHUNK))).toBeNull();
    expect(twice.place(CHUNK, size, new ArrayBuffer(CHUNK))).toMatch(/arrived twice/);
    expect(twice.received).toBe(CHUNK);
  });
});
