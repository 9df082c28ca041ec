import { describe, expect, it } from 'vitest';
import { connectedRegions } from './components.ts';

const parse = (rows: string[]): { mask: number[]; width: number; height: number } => ({
  mask: rows.flatMap((r) => [...r].map((c) => (c === '#' ? 1 : 0))),
  width: (rows[0] as string).length,
  height: rows.length,
});

describe('connected regions', () => {
  it('joins diagonal neighbours (8-connectivity) and keeps separate blobs apart, in scan order', () => {
    const { mask, width, height } = parse([
      '##.....#', //
      '..#....#',
      '...#....',
      '........',
      '.####...',
    ]);
    const regions = connectedRegions(mask, width, height);
    expect(regions.map((r) => r.pixelCount)).toEqual([4, 2, 4]);
    expect(regions.map((r) => r.firstIndex)).toEqual([0, 7, 33]);
  });

  it("keeps only each row's leftmost and rightmost pixel: enough for the hull", () => {
    const { mask, width, height } = parse(['.###.', '#####']);
    const [region] = connectedRegions(mask, width, height);
    expect(region?.extremes).toEqual([
      [1, 0],
      [3, 0],
      [0, 1],
      [4, 1],
    ]);
  });

  it('stops at the candidate limit', () => {
    const { mask, width, height } = parse(['#.#.#.#']);
    expect(connectedRegions(mask, width, height, 2)).toHaveLength(2);
  });
});
