import { describe, expect, it } from 'vitest';
import { assembleResults } from '../workloads/export/assemble.ts';
import { resultsToCsvParts, type ExportProgress } from '../workloads/export/exporters.ts';
import { buildExportBlob, yieldToEventLoop } from './exportBlob.ts';

/** A clock that moves `stepMs` each time the builder reads it. */
function steppingClock(stepMs: number): () => number {
  let t = 0;
  return () => (t += stepMs);
}

function* counted(n: number, progress: ExportProgress): Generator<string> {
  for (let i = 0; i < n; i++) {
    yield `${i};`;
    progress((i + 1) / n);
  }
}

describe('buildExportBlob', () => {
  it('gives the event loop a turn whenever a slice of work is used up, and reports progress there', async () => {
    const turns: number[] = [];
    const progress: number[] = [];
    let drawn = 0;
    const blob = await buildExportBlob(
      (p) => {
        const inner = counted(100, p);
        return {
          *[Symbol.iterator]() {
            for (const piece of inner) {
              drawn++;
              yield piece;
            }
          },
        };
      },
      {
        type: 'text/plain',
        sliceMs: 10,
        // Every piece costs 4 ms on this clock: a slice holds 3 pieces.
        now: steppingClock(4),
        yieldToLoop: async () => {
          turns.push(drawn);
        },
        onProgress: (f) => progress.push(f),
        blobChars: 50,
      },
    );
    expect(await blob.text()).toBe(Array.from({ length: 100 }, (_, i) => `${i};`).join(''));
    expect(blob.type).toBe('text/plain');
    // A turn after at most every 3 pieces: the page is never held for more than a slice.
    expect(turns.length).toBeGreaterThanOrEqual(33);
    turns.forEach((at, k) => expect(at - (turns[k - 1] ?? 0)).toBeLessThanOrEqual(3));
    expect(progress[progress.length - 1]).toBe(1);
    expect(progress.every((f, k) => f >= (progress[k - 1] ?? 0))).toBe(true);
  });

  it('an exporter that fails rejects with its error, so the page can say so', async () => {
    function* failing(): Generator<string> {
      yield 'a';
      throw new RangeError('Invalid string length');
    }
    await expect(buildExportBlob(() => failing(), { type: 'text/csv', yieldToLoop: yieldToEventLoop })).rejects.toThrow(/Invalid string length/);
  });

  it('a real CSV export comes out whole, in item order, and the event loop keeps turning while it is built', async () => {
    const items = 100;
    const per = 2000;
    const data = Float32Array.from({ length: items * per }, (_, i) => Math.fround(Math.sin(i) / 7));
    const r = assembleResults('j', 'n', items, [
      { index: 0, start: 0, count: items, outputs: [{ name: 'y', dtype: 'float32', dims: [items, per], data: data.buffer }], volunteers: [], backends: [] },
    ] as never);
    let ticks = 0;
    const ticker = setInterval(() => ticks++, 1);
    const blob = await buildExportBlob((p) => resultsToCsvParts(r, p), { type: 'text/csv', sliceMs: 5 });
    clearInterval(ticker);
    const lines = (await blob.text()).split('\n');
    expect(lines).toHaveLength(items + 2);
    expect(lines[items]!.split(',').slice(0, 3)).toEqual([String(items - 1), '', 'true']);
    expect(Math.fround(Number(lines[items]!.split(',')[6 + per - 1]))).toBe(data[items * per - 1]);
    // Timers ran during the build: it did not hold the loop from start to end.
    expect(ticks).toBeGreaterThan(5);
  });
});
