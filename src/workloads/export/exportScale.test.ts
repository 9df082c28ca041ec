/**
 * Exports of real-model sizes: a recognizer's softmax for 40 text lines is [40, 40, 6625] float32
 * (10.6 M values). Exports are built as bounded pieces, never one string, so they cannot overflow
 * the stack or hit the engine's string length limit, however many items a job has.
 */
import { describe, expect, it } from 'vitest';
import type { VerifiedShard } from '../../protocol/messages.ts';
import { assembleResults } from './assemble.ts';
import { EXPORT_PIECE_CHARS, resultsToCsvParts, resultsToJsonParts } from './exporters.ts';

const ITEMS = 40;
const ROWS = 40;
const CLASSES = 6625;
const PER_ITEM = ROWS * CLASSES;

/**
 * Small integers, quick to write, with a 9-digit softmax-like value every 1000th: the shape and
 * the exactness matter here; the time to write 10.6 M 9-digit floats is measured, not tested.
 */
function values(n: number): Float32Array {
  const data = new Float32Array(n);
  let s = 12345;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    data[i] = i % 1000 === 0 || i === n - 1 ? (s / 2 ** 32) ** 4 : (i % 97) - 48;
  }
  return data;
}

const DATA = values(ITEMS * PER_ITEM);
const SHARDS: VerifiedShard[] = [0, 1, 2, 3].map((k) => ({
  index: k,
  start: k * 10,
  count: 10,
  outputs: [{ name: 'softmax', dtype: 'float32', dims: [10, ROWS, CLASSES], data: DATA.slice(k * 10 * PER_ITEM, (k + 1) * 10 * PER_ITEM).buffer }],
  volunteers: ['vA', 'vB'] as VerifiedShard['volunteers'],
  backends: ['wasm', 'webgpu'],
}));
const NAMES = Array.from({ length: ITEMS }, (_, i) => `line-${i}.png`);
const R = assembleResults('j1', 'rec', ITEMS, SHARDS, NAMES);

interface Measured {
  readonly pieces: string[];
  readonly total: number;
  readonly largest: number;
}

function measure(parts: Iterable<string>): Measured {
  const pieces: string[] = [];
  let total = 0;
  let largest = 0;
  for (const p of parts) {
    pieces.push(p);
    total += p.length;
    largest = Math.max(largest, p.length);
  }
  return { pieces, total, largest };
}

describe('exports of a [40, 40, 6625] float32 result', () => {
  it('CSV: builds in bounded pieces, one row per item with its file name, values exact', () => {
    const { pieces, total, largest } = measure(resultsToCsvParts(R));
    expect(largest).toBeLessThanOrEqual(EXPORT_PIECE_CHARS);
    expect(total).toBeGreaterThan(30 * 2 ** 20);
    // One string here only to check the text; the page never builds one.
    const lines = pieces.join('').split('\n');
    expect(lines).toHaveLength(ITEMS + 2);
    expect(lines[ITEMS + 1]).toBe('');
    const header = lines[0]!.split(',"');
    expect(header.slice(0, 2)).toEqual(['item,file,verified,shard,volunteers,backends', 'softmax[0,0]"']);
    expect(header).toHaveLength(PER_ITEM + 1);
    for (const i of [0, 7, 39]) {
      const row = lines[i + 1]!.split(',');
      expect(row.slice(0, 6)).toEqual([String(i), `line-${i}.png`, 'true', String(Math.floor(i / 10)), 'vA vB', 'wasm webgpu']);
      expect(row).toHaveLength(6 + PER_ITEM);
      for (const k of [0, 4242, 5000, PER_ITEM - 1]) expect(Math.fround(Number(row[6 + k]))).toBe(DATA[i * PER_ITEM + k]);
    }
  });

  it('JSON: compact, in bounded pieces, parses back to the same values and names', () => {
    const { pieces, total, largest } = measure(resultsToJsonParts(R));
    expect(largest).toBeLessThanOrEqual(EXPORT_PIECE_CHARS);
    // Compact: no line per value (indented, one value per line took 189 MiB).
    expect(total).toBeLessThan(4 * ITEMS * PER_ITEM);
    const doc = JSON.parse(pieces.join(''));
    expect(doc).toMatchObject({ format: 'quorum-results/2', jobId: 'j1', items: ITEMS, verifiedItems: ITEMS, itemNames: NAMES });
    const values = doc.outputs[0].values as number[][][];
    expect(values).toHaveLength(ITEMS);
    for (const [i, r, c] of [
      [0, 0, 0],
      [7, 13, 4242],
      [39, 39, 6624],
      [20, 0, 1000],
    ] as const) {
      expect(Math.fround(values[i]![r]![c]!)).toBe(DATA[i * PER_ITEM + r * CLASSES + c]);
    }
    expect(doc.shards).toHaveLength(4);
  });
});

describe('an export larger than any one string can be', () => {
  it('JSON of 89.5 M values (over 2^29 characters, the engine string limit) builds in bounded pieces', () => {
    // Size-equivalent of the 500-item job (1.3 G characters): bool values are 1 byte each but
    // 5-6 characters of JSON, so the text passes the limit that "Invalid string length" reports.
    const items = 500;
    const per = 179_000;
    const data = new Uint8Array(items * per);
    const r = assembleResults('j2', 'big', items, [
      { index: 0, start: 0, count: items, outputs: [{ name: 'mask', dtype: 'bool', dims: [items, per], data: data.buffer }], volunteers: [], backends: [] },
    ] as unknown as VerifiedShard[]);
    let total = 0;
    let largest = 0;
    let pieces = 0;
    for (const p of resultsToJsonParts(r)) {
      total += p.length;
      largest = Math.max(largest, p.length);
      pieces++;
    }
    expect(total).toBeGreaterThan(2 ** 29);
    expect(largest).toBeLessThanOrEqual(EXPORT_PIECE_CHARS);
    expect(pieces).toBeGreaterThan(total / EXPORT_PIECE_CHARS);
  }, 120_000);
});
