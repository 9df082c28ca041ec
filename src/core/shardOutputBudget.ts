/**
 * [J-5] How many output bytes one shard's result may hold, and the shard size that keeps a
 * model's outputs within it. Pure; shared by the requester's dashboard (to propose a shard size
 * and explain a refusal before sending) and the coordinator host (which checks again at admission).
 *
 * Why a budget: a shard's result crosses the data channel as one frame, is held in the
 * coordinator's memory once per replica (2-3 usually, up to `LIMITS.maxReplicas`) until the shard
 * is decided, and is stored with its replicas. With shard size 100, PaddleOCR's recognizer returned
 * 106 MB per replica, and two of them in one IndexedDB put aborted the write. 32 MiB keeps three
 * replicas under 100 MiB of memory and 8 storage pieces each, and still allows 31 such lines per shard.
 */
import { BYTES_PER_ELEMENT } from '../protocol/tensor.ts';
import { formatBytes } from './format.ts';
import type { SignatureLike } from './jobChecks.ts';

/** The most output bytes (all outputs of one replica's result together) a shard should return. */
export const SHARD_OUTPUT_BUDGET_BYTES = 32 * 1024 * 1024;

/** The shard size the dashboard proposes when the outputs allow it. */
export const USUAL_SHARD_SIZE = 100;

/**
 * Output bytes per item, from the signature's fixed dims past the batch (dim 0); null when any
 * output's shape or type is unknown or has a free dim there (its size is known only once computed).
 */
export function outputBytesPerItem(signature: SignatureLike): number | null {
  let total = 0;
  for (const o of signature.outputs) {
    if (o.dtype === null || o.dims === null || o.dims.length === 0) return null;
    let elements = 1;
    for (const d of o.dims.slice(1)) {
      if (typeof d !== 'number' || d < 0) return null;
      elements *= d;
    }
    total += elements * BYTES_PER_ELEMENT[o.dtype];
  }
  return total;
}

/** The largest shard size whose outputs fit `budget` (at least 1: an item cannot be split), or null when unknown. */
export function largestShardSizeWithin(signature: SignatureLike, budget: number = SHARD_OUTPUT_BUDGET_BYTES): number | null {
  return largestShardSizeFor(outputBytesPerItem(signature), budget);
}

/** As `largestShardSizeWithin`, from output bytes per item known otherwise (e.g. measured on one item). */
export function largestShardSizeFor(perItem: number | null, budget: number = SHARD_OUTPUT_BUDGET_BYTES): number | null {
  if (perItem === null) return null;
  if (perItem === 0) return Number.MAX_SAFE_INTEGER;
  return Math.max(1, Math.floor(budget / perItem));
}

/** The shard size to propose: the usual one, or less when outputs of `perItem` bytes per item would not fit. */
export function proposedShardSizeFor(perItem: number | null): number {
  return Math.min(USUAL_SHARD_SIZE, largestShardSizeFor(perItem) ?? USUAL_SHARD_SIZE);
}

/** The shard size to propose for a model, from its signature's fixed output dims. */
export function proposedShardSize(signature: SignatureLike): number {
  return proposedShardSizeFor(outputBytesPerItem(signature));
}

/**
 * Why `shardSize` would make a shard's outputs exceed the budget, or [] when it fits or cannot be
 * known from the signature (free output dims: the coordinator cannot know before running; the
 * dashboard measures one item instead, see `checkShardOutputBytes`). A shard of one item is never
 * refused: it cannot be smaller. With `items`, a job smaller than one shard is judged by its real size.
 */
export function checkShardOutputBudget(signature: SignatureLike, shardSize: number, items?: number, budget: number = SHARD_OUTPUT_BUDGET_BYTES): string[] {
  return checkShardOutputBytes(outputBytesPerItem(signature), shardSize, items, budget);
}

/** As `checkShardOutputBudget`, from output bytes per item known otherwise; [] when unknown (null). */
export function checkShardOutputBytes(perItem: number | null, shardSize: number, items?: number, budget: number = SHARD_OUTPUT_BUDGET_BYTES): string[] {
  // A job of fewer items than the shard size is one shard of that many items.
  const largestShard = Math.min(shardSize, items ?? shardSize);
  if (perItem === null || largestShard <= 1 || perItem * largestShard <= budget) return [];
  const largest = Math.max(1, Math.floor(budget / perItem));
  return [
    `shard size ${shardSize} makes each shard's outputs ${formatBytes(perItem * largestShard)} (${formatBytes(perItem)} per item), over the budget of ${formatBytes(budget)} per shard result: use shard size ${largest} or less.`,
  ];
}
