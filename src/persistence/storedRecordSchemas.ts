/**
 * zod schemas for coordinator records read back from a store that keeps them as text (SQLite):
 * storage is not trusted either — a record edited by hand, cut short by a full disk or written by
 * another build must be refused whole, never handed to the core half right. Bytes are not here:
 * they are kept apart and checked against these records' dims when put back.
 *
 * A field added to one of the records must be added here too, or a reload drops it.
 */
import { z } from 'zod';
import { jobFileSchema } from '../protocol/jobFiles.ts';
import { LIMITS } from '../protocol/limits.ts';
import { answerSchema, pipelineSchema } from '../protocol/pipeline.ts';
import { backendSchema, jobIdSchema, leaseIdSchema, modelHashSchema, nameSchema, peerIdSchema, policySchema } from '../protocol/schemas.ts';
import { TENSOR_DTYPES } from '../protocol/tensor.ts';
import { digestHexSchema, publicKeySchema, signatureSchema } from '../protocol/keySchemas.ts';

const count = z.number().int().min(0);
const ms = z.number();
const label = z.string().max(LIMITS.maxNameLength);

/** A tensor without its bytes. */
export const tensorMetaSchema = z.object({
  name: nameSchema,
  dtype: z.enum(TENSOR_DTYPES),
  dims: z.array(count).max(LIMITS.maxTensorRank),
});

export const replicaRecordSchema = z.object({
  volunteer: peerIdSchema,
  backend: backendSchema,
  adapter: label.nullable(),
  ortVersion: label,
  outputs: z.array(tensorMetaSchema),
  answers: z.array(answerSchema).exactOptional(),
  receivedAtMs: ms,
  volunteerKey: publicKeySchema.exactOptional(),
  signature: signatureSchema.exactOptional(),
  signedLeaseId: leaseIdSchema.exactOptional(),
  signedDigest: digestHexSchema.exactOptional(),
});

export const acceptedRecordSchema = z.object({
  outputs: z.array(tensorMetaSchema),
  answers: z.array(answerSchema).exactOptional(),
  volunteers: z.array(peerIdSchema),
  backends: z.array(backendSchema),
  adapters: z.array(label.nullable()).exactOptional(),
  ortVersions: z.array(label).exactOptional(),
  volunteerKeys: z.array(publicKeySchema).exactOptional(),
  resultSigs: z.array(signatureSchema).exactOptional(),
  resultLeases: z.array(leaseIdSchema).exactOptional(),
  resultDigests: z.array(digestHexSchema).exactOptional(),
  acceptedAtMs: ms,
});

export const pieceLayoutSchema = z.object({ tag: count, count, buffers: z.array(count), slots: z.array(count) });

/** A shard record whose tensors' bytes are in its pieces. */
export const shardRecordSchema = z.object({
  status: z.enum(['open', 'verified', 'unverifiable']),
  disagreements: count,
  accepted: acceptedRecordSchema.nullable(),
  replicas: z.array(replicaRecordSchema),
  epoch: count,
  pieces: pieceLayoutSchema,
});

/** A job record whose inputs' and files' bytes are kept apart. */
export const jobRecordSchema = z.object({
  id: jobIdSchema,
  name: nameSchema,
  modelHash: modelHashSchema,
  modelBytes: count,
  inputs: z.array(tensorMetaSchema),
  files: z.array(jobFileSchema.pick({ name: true })).exactOptional(),
  pipeline: pipelineSchema.exactOptional(),
  items: count,
  shardSize: count,
  shardCount: count,
  policy: policySchema,
  createdAtMs: ms,
  submittedBy: peerIdSchema,
  priority: z.number().int().min(1).max(10).exactOptional(),
  itemNames: z.array(z.string()).exactOptional(),
  outputSignature: z
    .array(z.object({ name: nameSchema, dtype: z.enum(TENSOR_DTYPES), dims: z.array(z.union([z.number(), z.string().max(LIMITS.maxNameLength)])) }))
    .exactOptional(),
});

export const leaseRecordSchema = z.object({
  id: leaseIdSchema,
  jobId: jobIdSchema,
  shardIndex: count,
  volunteer: peerIdSchema,
  issuedAtMs: ms,
  deadlineMs: ms,
  canary: z.boolean(),
  epoch: count,
  retired: z.boolean(),
});

export const standingSchema = z.object({ shardsAccepted: count, resultsReturned: count, resultsRejected: count });
