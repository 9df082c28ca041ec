import { describe, expect, it } from 'vitest';
import type { SignatureLike } from './jobChecks.ts';
import { checkShardOutputBudget, largestShardSizeWithin, outputBytesPerItem, proposedShardSize, SHARD_OUTPUT_BUDGET_BYTES } from './shardOutputBudget.ts';

/** PaddleOCR's recognizer on 40-step lines: [lines, 40, 6625] float32 softmax, 1,060,000 bytes a line. */
const RECOGNIZER: SignatureLike = {
  inputs: [{ name: 'x', dtype: 'float32', dims: ['n', 3, 48, 320] }],
  outputs: [{ name: 'softmax', dtype: 'float32', dims: ['n', 40, 6625] }],
};
const SMALL: SignatureLike = {
  inputs: [{ name: 'x', dtype: 'float32', dims: ['n', 784] }],
  outputs: [
    { name: 'logits', dtype: 'float32', dims: ['n', 10] },
    { name: 'label', dtype: 'int64', dims: [-1] },
  ],
};
const SYMBOLIC: SignatureLike = {
  inputs: [{ name: 'x', dtype: 'float32', dims: ['n', 3, 48, 'w'] }],
  outputs: [{ name: 'softmax', dtype: 'float32', dims: ['n', 'steps', 6625] }],
};

describe('[J-5] the shard output budget', () => {
  it('is 32 MiB', () => {
    expect(SHARD_OUTPUT_BUDGET_BYTES).toBe(32 * 1024 * 1024);
  });

  it("counts every output's bytes per item from fixed dims, and knows nothing when a dim past the batch is free", () => {
    expect(outputBytesPerItem(RECOGNIZER)).toBe(40 * 6625 * 4);
    expect(outputBytesPerItem(SMALL)).toBe(10 * 4 + 8);
    expect(outputBytesPerItem(SYMBOLIC)).toBeNull();
    expect(outputBytesPerItem({ inputs: [], outputs: [{ name: 'y', dtype: 'float32', dims: null }] })).toBeNull();
  });

  it('gives the largest shard size whose outputs fit, and proposes it when below the usual 100', () => {
    expect(largestShardSizeWithin(RECOGNIZER)).toBe(31); // 31 × 1,060,000 ≤ 33,554,432 < 32 × 1,060,000
    expect(proposedShardSize(RECOGNIZER)).toBe(31);
    expect(proposedShardSize(SMALL)).toBe(100);
    expect(proposedShardSize(SYMBOLIC)).toBe(100);
    // An item bigger than the whole budget still gets shards of one.
    expect(largestShardSizeWithin({ inputs: [], outputs: [{ name: 'y', dtype: 'float32', dims: ['n', 10_000_000] }] })).toBe(1);
  });

  it('refuses a shard size over the budget, naming the numbers and the largest size that fits', () => {
    expect(checkShardOutputBudget(RECOGNIZER, 31)).toEqual([]);
    expect(checkShardOutputBudget(SYMBOLIC, 1000)).toEqual([]);
    // 20 lines with shard size 100 make one shard of 20 lines: 20.2 MiB, within the budget.
    expect(checkShardOutputBudget(RECOGNIZER, 100, 20)).toEqual([]);
    expect(checkShardOutputBudget(RECOGNIZER, 100, 40)).toHaveLength(1);
    expect(checkShardOutputBudget(RECOGNIZER, 100)).toEqual([
      "shard size 100 makes each shard's outputs 101.1 MiB (1.0 MiB per item), over the budget of 32.0 MiB per shard result: use shard size 31 or less.",
    ]);
  });
});
