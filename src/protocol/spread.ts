/**
 * [V-13] The honest spread a job measured between replicas on its first shards, reported with
 * the job's status so a requester can see whether the tolerance fits: below the spread, honest
 * shards go unverifiable; far above it, a liar has room. Advisory: it never changes a decision.
 */
import { z } from 'zod';
import { LIMITS } from './limits.ts';
import { countSchema as count, fractionSchema as fraction, nameSchema } from './schemas.ts';

const magnitude = z.number().min(0).max(1e30);

export const spreadSchema = z.object({
  /** Pairs of replicas measured, and how many of those ran on two different backends. */
  pairs: count,
  crossBackendPairs: count,
  /** A job of tensors: per output, the largest |x − y| and the atol its comparator's rtol would need to call every pair equal. */
  outputs: z
    .array(z.object({ name: nameSchema, maxAbs: magnitude, needAtol: magnitude }))
    .max(LIMITS.maxTensorsPerMessage)
    .optional(),
  /** OCR answers: the smallest IoU of paired lines, the largest character error rate, and pairs whose lines did not all pair up. */
  ocr: z.object({ minIou: fraction, maxCer: fraction, unpaired: count }).optional(),
  /** Speech segments: the largest shift of a start or end (s), and pairs with different segment counts. */
  segments: z.object({ maxShiftSec: magnitude, countMismatch: count }).optional(),
});
export type Spread = z.infer<typeof spreadSchema>;

/** Pairs a job measures on its first shards, at most: the measure costs one more pass over two results. */
export const SPREAD_MAX_PAIRS = 32;
