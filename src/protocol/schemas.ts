/**
 * zod schemas for the pieces that both directions of the protocol share. Everything that arrives
 * from a peer is `unknown` until one of these has accepted it.
 */
import { z } from 'zod';
import { BACKENDS } from './capabilities.ts';
import { isModelHash, isSafeId, type JobId, type LeaseId, type ModelHash, type PeerId, type ShardId } from './ids.ts';
import { LIMITS } from './limits.ts';
import { BYTES_PER_ELEMENT, TENSOR_DTYPES, elementCount } from './tensor.ts';

/** [M-3] Binary fields arrive as ArrayBuffer or as a typed-array view, depending on the serializer. */
export const bytesSchema = z
  .custom<ArrayBuffer | ArrayBufferView>((v) => v instanceof ArrayBuffer || ArrayBuffer.isView(v), 'expected binary data (ArrayBuffer)')
  .transform((v): ArrayBuffer => {
    if (v instanceof ArrayBuffer) return v;
    // Copy views into a fresh, aligned buffer so typed-array views over it are always valid.
    const copy = new Uint8Array(v.byteLength);
    copy.set(new Uint8Array(v.buffer, v.byteOffset, v.byteLength));
    return copy.buffer;
  });

// [M-4] Every string and list is bounded, and ids are short and safe to log or use as keys.
export const safeIdSchema = z.string().refine(isSafeId, 'expected an id of 1-64 letters, digits, - or _');
export const peerIdSchema = safeIdSchema.transform((s) => s as PeerId);
export const jobIdSchema = safeIdSchema.transform((s) => s as JobId);
export const leaseIdSchema = safeIdSchema.transform((s) => s as LeaseId);
export const shardIdSchema = z
  .string()
  .regex(/^[A-Za-z0-9_-]{1,64}\/\d{1,9}$/, 'expected a shard id "<job>/<index>"')
  .transform((s) => s as ShardId);
export const modelHashSchema = z
  .string()
  .refine(isModelHash, 'expected a lowercase hex sha256')
  .transform((s) => s as ModelHash);

// Counts, times and shares, one definition each: the frames, receipts and telemetry bound them alike.
/** A count of things: a non-negative integer a double holds exactly. */
export const countSchema = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);
/** A time in milliseconds (epoch or span), never negative. */
export const msSchema = z.number().min(0).max(Number.MAX_SAFE_INTEGER);
/** A share in [0, 1]. */
export const fractionSchema = z.number().min(0).max(1);

/**
 * The roles a peer says hello as. Here rather than in messages.ts: telemetry.ts needs them too,
 * and messages.ts imports telemetry.ts, so a value imported back from messages.ts is not yet
 * initialised when telemetry.ts runs (a ReferenceError at load, whichever file loads first).
 */
const ROLES = ['volunteer', 'requester', 'observer'] as const;
export type Role = (typeof ROLES)[number];
export const roleSchema = z.enum(ROLES);

export const backendSchema = z.enum(BACKENDS);
export const reasonSchema = z.string().max(LIMITS.maxReasonLength);
export const nameSchema = z.string().min(1).max(LIMITS.maxNameLength);

const dimSchema = z
  .number()
  .int()
  .min(0)
  .max(2 ** 31 - 1);

/** [M-3] A tensor whose byte length matches its dims and dtype exactly, within LIMITS. */
export const wireTensorSchema = z
  .object({
    name: z.string().min(1).max(LIMITS.maxNameLength),
    dtype: z.enum(TENSOR_DTYPES),
    dims: z.array(dimSchema).max(LIMITS.maxTensorRank).readonly(),
    data: bytesSchema,
  })
  .superRefine((t, ctx) => {
    const expected = elementCount(t.dims) * BYTES_PER_ELEMENT[t.dtype];
    if (expected > LIMITS.maxTensorBytes) {
      ctx.addIssue({ code: 'custom', message: `tensor "${t.name}" is larger than ${LIMITS.maxTensorBytes} bytes` });
    } else if (t.data.byteLength !== expected) {
      ctx.addIssue({
        code: 'custom',
        message: `tensor "${t.name}" has ${t.data.byteLength} bytes, but dims [${t.dims.join(',')}] of ${t.dtype} need ${expected}`,
      });
    }
  });

export const tensorListSchema = z.array(wireTensorSchema).max(LIMITS.maxTensorsPerMessage);

export const adapterSchema = z.object({
  vendor: z.string().max(LIMITS.maxNameLength),
  architecture: z.string().max(LIMITS.maxNameLength),
  description: z.string().max(LIMITS.maxNameLength),
  isFallbackAdapter: z.boolean(),
});

export const capabilitiesSchema = z.object({
  backend: backendSchema,
  adapter: adapterSchema.nullable(),
  backendReason: reasonSchema,
  ortVersion: z.string().max(50),
  threads: z.number().int().min(1).max(256),
});

export const comparatorSchema = z.discriminatedUnion('kind', [
  z.object({
    kind: z.literal('allclose'),
    atol: z.number().min(0).max(1e6),
    rtol: z.number().min(0).max(1e6),
  }),
  z.object({ kind: z.literal('argmax') }),
  z.object({ kind: z.literal('exact') }),
  /** [V-6] Every row (last axis) has cosine similarity ≥ threshold, e.g. for embeddings. */
  z.object({ kind: z.literal('cosine'), threshold: z.number().min(-1).max(1) }),
]);

/**
 * How two volunteers' answers to a pipeline job are compared ([V-9]–[V-11] in core/SPEC.md). Here
 * rather than in pipeline.ts because the policy carries it and pipeline.ts builds on this file.
 */
export const answerComparatorSchema = z.discriminatedUnion('kind', [
  /** Lines pair one to one with box IoU ≥ `minIou`; each pair's text differs by at most `maxCer` (character error rate). */
  z.object({ kind: z.literal('ocr'), minIou: z.number().min(0.05).max(1), maxCer: z.number().min(0).max(1) }),
  /** Same number of segments, each start and end within `toleranceSec`. */
  z.object({ kind: z.literal('segments'), toleranceSec: z.number().min(0).max(10) }),
  /** The same classes in the same order. */
  z.object({ kind: z.literal('labels') }),
]);
export type AnswerComparator = z.infer<typeof answerComparatorSchema>;

export const policySchema = z
  .object({
    /**
     * Minimum replicas: volunteers that compute each shard before it can be accepted. New (not yet
     * trusted) volunteers are always cross-checked by this many ([A-3]).
     */
    replication: z.number().int().min(1).max(LIMITS.maxReplicas),
    /** How many of them must agree. */
    quorum: z.number().int().min(1).max(LIMITS.maxReplicas),
    /** Disagreement adds replicas up to this many; then the shard is unverifiable. */
    maxReplicas: z.number().int().min(1).max(LIMITS.maxReplicas),
    comparator: comparatorSchema,
    /** [V-7] Comparators for named outputs (e.g. `exact` for an integer output); others use `comparator`. */
    outputComparators: z
      .array(z.object({ name: z.string().min(1).max(LIMITS.maxNameLength), comparator: comparatorSchema }))
      .max(LIMITS.maxTensorsPerMessage)
      .optional(),
    /** [V-12] How answers of a pipeline job are compared; absent: the default for the pipeline's answer kind. */
    answerComparator: answerComparatorSchema.optional(),
    /** Adaptive replication: a trusted volunteer may compute a shard alone (spot-checked). Default false. */
    adaptive: z.boolean().optional(),
    /** [C-1] Share of leases that are canaries (shards with a known answer). Default in policy.ts. */
    canaryRate: fractionSchema.optional(),
    /** Share of a trusted volunteer's lone shards that are re-checked anyway. Default in policy.ts. */
    spotCheckRate: fractionSchema.optional(),
  })
  // [M-5] A policy whose quorum could never be reached is refused at the door.
  .refine((p) => p.quorum <= p.replication && p.replication <= p.maxReplicas, {
    message: 'policy needs quorum ≤ replication ≤ maxReplicas',
  })
  .refine((p) => new Set((p.outputComparators ?? []).map((o) => o.name)).size === (p.outputComparators ?? []).length, {
    message: 'policy names an output comparator twice',
  });
