/**
 * [AU-3]…[AU-5] A signed audit receipt: what a coordinator vouches for about one job's verified
 * results, in a form anyone can check offline with nothing but the coordinator's public key.
 * Pure: what the leaves and the signed bytes are, and what a receipt must look like. The host
 * signs and verifies (host/receiptSigner.ts); the hash is a parameter (merkle.ts).
 *
 * - A leaf per accepted shard: its index and items, a digest of each verified output (or of its
 *   answers) in a canonical encoding, and the agreeing volunteers with their backends — and, once
 *   the verified-shard record carries them, each volunteer's public key, result signature, and the
 *   rest of what it signed that the body does not hold: its lease, adapter and own output digest
 *   (optional in the schema; a volunteer entry has all of them or none).
 * - The body: job, model hash, policy, how many shards there are and whether the job was
 *   complete, the number of leaves and their Merkle root. The coordinator signs
 *   `quorum-receipt\n` + the body's canonical JSON (a label no other signature of the key starts with).
 * - The leaves and one inclusion proof per leaf travel beside the body, so any one shard can be
 *   checked on its own.
 */
import { z } from 'zod';
import { canonicalJson, toHex, utf8 } from './canonicalJson.ts';
import { LIMITS } from './limits.ts';
import { digestHexSchema, publicKeySchema, signatureSchema } from './keySchemas.ts';
import { leafHash, merkleTree, type Digest } from './merkle.ts';
import type { VerifiedShard } from './messages.ts';
import type { Answer } from './pipeline.ts';
import {
  backendSchema,
  countSchema as count,
  jobIdSchema,
  leaseIdSchema,
  modelHashSchema,
  nameSchema,
  peerIdSchema,
  policySchema,
  safeIdSchema,
} from './schemas.ts';
import { BYTES_PER_ELEMENT, TENSOR_DTYPES, elementCount, type WireTensor } from './tensor.ts';

export const RECEIPT_FORMAT = 'quorum-receipt/1';

/** What the coordinator's signature covers starts with this line: its proofs start otherwise. */
const RECEIPT_LABEL = 'quorum-receipt\n';

const digestHex = digestHexSchema;

/** One volunteer whose result was in the accepted quorum. */
export const receiptVolunteerSchema = z
  .object({
    peer: peerIdSchema,
    backend: backendSchema,
    /** Its public key (SPKI, base64url), when the verified-shard record has volunteer keys. */
    key: publicKeySchema.optional(),
    /** Its signature over its result ([I-3] `resultPayload`), when the verified-shard record has it. */
    sig: signatureSchema.optional(),
    /** [I-3] What else the signature covers: the lease it names, its adapter (null off WebGPU), and its OWN output digest. */
    lease: leaseIdSchema.optional(),
    adapter: z.string().max(LIMITS.maxNameLength).nullable().optional(),
    digest: digestHex.optional(),
  })
  .refine((v) => [v.sig, v.lease, v.adapter, v.digest].every((f) => (f === undefined) === (v.key === undefined)), {
    message: 'a volunteer has a key, a result signature, its lease, adapter and output digest together, or none of them',
  });
export type ReceiptVolunteer = z.infer<typeof receiptVolunteerSchema>;

/** One verified output of a shard: its layout and the digest of its canonical bytes. */
export const receiptOutputSchema = z.object({
  name: nameSchema,
  dtype: z.enum(TENSOR_DTYPES),
  dims: z.array(count).max(LIMITS.maxTensorRank),
  digest: digestHex,
});

export const receiptLeafSchema = z
  .object({
    shard: count,
    start: count,
    count,
    outputs: z.array(receiptOutputSchema).max(LIMITS.maxTensorsPerMessage).optional(),
    /** [V-12] The digest of a pipeline shard's answers, in item order. */
    answers: digestHex.optional(),
    volunteers: z.array(receiptVolunteerSchema).min(1).max(LIMITS.maxReplicas),
  })
  .refine((l) => (l.outputs === undefined) !== (l.answers === undefined), { message: 'a leaf digests outputs or answers, exactly one of the two' })
  .refine((l) => l.volunteers.every((v) => v.key !== undefined) || l.volunteers.every((v) => v.key === undefined), {
    message: 'either every volunteer of a leaf has its key and signature, or none has',
  });
export type ReceiptLeaf = z.infer<typeof receiptLeafSchema>;

export const receiptBodySchema = z.object({
  format: z.literal(RECEIPT_FORMAT),
  networkId: safeIdSchema,
  jobId: jobIdSchema,
  jobName: nameSchema,
  modelHash: modelHashSchema,
  policy: policySchema,
  items: count,
  /** Every shard of the job, verified or not. */
  shards: count,
  /** Verified + unverifiable = shards when it was signed ([J-3]). */
  complete: z.boolean(),
  leafCount: z.number().int().min(1).max(LIMITS.maxItemsPerJob),
  root: digestHex,
  /** When the coordinator signed it, by its clock (for people; nothing is decided by it). */
  issuedAtMs: count,
});
export type ReceiptBody = z.infer<typeof receiptBodySchema>;

export const signedReceiptSchema = z
  .object({
    body: receiptBodySchema,
    /** The coordinator's public key (SPKI, base64url); its fingerprint is what clients pin ([K-1]). */
    key: publicKeySchema,
    sig: signatureSchema,
    leaves: z.array(receiptLeafSchema).max(LIMITS.maxItemsPerJob),
    /** `proofs[i]`: leaf i's sibling hashes, bottom up (merkle.ts). */
    proofs: z.array(z.array(digestHex).max(64)).max(LIMITS.maxItemsPerJob),
  })
  .refine((r) => r.leaves.length === r.body.leafCount && r.proofs.length === r.body.leafCount, {
    message: 'a receipt has one leaf and one proof per leaf its body counts',
  });
export type SignedReceipt = z.infer<typeof signedReceiptSchema>;

/** [AU-3] The exact bytes the coordinator signs for a body (given as parsed, or as read from a file). */
export function receiptPayload(body: unknown): Uint8Array<ArrayBuffer> {
  return utf8(RECEIPT_LABEL + canonicalJson(body));
}

/** [AU-2] The bytes of a leaf that are hashed into the tree. */
export function leafBytes(leaf: unknown): Uint8Array<ArrayBuffer> {
  return utf8(canonicalJson(leaf));
}

/**
 * [AU-1] The canonical bytes of one output: its layout as canonical JSON and a newline, then its
 * elements little-endian, every float32 NaN as the one quiet NaN (0x7fc00000) so that NaN payload
 * bits, which no export keeps, do not change the digest. The layout fixes the byte count, so the
 * encoding is unambiguous.
 */
export function outputBytes(t: Pick<WireTensor, 'name' | 'dtype' | 'dims' | 'data'>): Uint8Array<ArrayBuffer> {
  const head = utf8(canonicalJson({ name: t.name, dtype: t.dtype, dims: t.dims }) + '\n');
  const size = elementCount(t.dims) * BYTES_PER_ELEMENT[t.dtype];
  if (t.data.byteLength < size) throw new RangeError(`output "${t.name}" has ${t.data.byteLength} bytes, its dims need ${size}`);
  const out = new Uint8Array(head.length + size);
  out.set(head);
  out.set(new Uint8Array(t.data, 0, size), head.length);
  if (t.dtype === 'float32') {
    const view = new DataView(out.buffer, head.length, size);
    for (let at = 0; at < size; at += 4) if (Number.isNaN(view.getFloat32(at, true))) view.setUint32(at, 0x7fc00000, true);
  }
  return out;
}

/** [AU-1] The canonical bytes of a shard's answers, in item order. */
export function answersBytes(answers: readonly Answer[]): Uint8Array<ArrayBuffer> {
  return utf8(canonicalJson(answers));
}

/**
 * [AU-2] What a leaf says a volunteer signed, when the verified-shard record has all of it; an
 * entry without a piece its signature covers could not be checked, so it carries none.
 */
function signedEntry(shard: VerifiedShard, i: number): Pick<ReceiptVolunteer, 'key' | 'sig' | 'lease' | 'adapter' | 'digest'> {
  const key = shard.volunteerKeys?.[i];
  const sig = shard.resultSigs?.[i];
  const lease = shard.resultLeases?.[i];
  const adapter = shard.adapters?.[i];
  const digest = shard.resultDigests?.[i];
  if (key === undefined || sig === undefined || lease === undefined || adapter === undefined || digest === undefined) return {};
  return { key, sig, lease, adapter, digest };
}

/** [AU-2] A verified shard's leaf. */
export async function receiptLeaf(digest: Digest, shard: VerifiedShard): Promise<ReceiptLeaf> {
  const volunteers = shard.volunteers.map((peer, i): ReceiptVolunteer => ({ peer, backend: shard.backends[i] ?? 'wasm', ...signedEntry(shard, i) }));
  const base = { shard: shard.index, start: shard.start, count: shard.count, volunteers };
  if (shard.answers !== undefined) return { ...base, answers: toHex(await digest(answersBytes(shard.answers))) };
  const outputs = [];
  for (const t of shard.outputs) outputs.push({ name: t.name, dtype: t.dtype, dims: [...t.dims], digest: toHex(await digest(outputBytes(t))) });
  return { ...base, outputs };
}

/** What a receipt says about the job, from the coordinator's records. */
export interface ReceiptJob {
  readonly networkId: string;
  readonly jobId: string;
  readonly jobName: string;
  readonly modelHash: string;
  readonly policy: unknown;
  readonly items: number;
  readonly shards: number;
  readonly complete: boolean;
}

/** A receipt's body, leaves and proofs, ready to sign; null for a job with no verified shard yet. */
export interface UnsignedReceipt {
  readonly body: ReceiptBody;
  readonly leaves: readonly ReceiptLeaf[];
  readonly proofs: readonly (readonly string[])[];
}

/** [AU-3] The receipt for a job's verified shards (in shard order), or null when none is verified. */
export async function buildReceipt(digest: Digest, job: ReceiptJob, shards: readonly VerifiedShard[], issuedAtMs: number): Promise<UnsignedReceipt | null> {
  if (shards.length === 0) return null;
  const sorted = [...shards].sort((a, b) => a.index - b.index);
  const leaves: ReceiptLeaf[] = [];
  for (const s of sorted) leaves.push(await receiptLeaf(digest, s));
  const hashes = [];
  for (const l of leaves) hashes.push(await leafHash(digest, leafBytes(l)));
  const tree = await merkleTree(digest, hashes);
  const body = receiptBodySchema.parse({
    format: RECEIPT_FORMAT,
    ...job,
    leafCount: leaves.length,
    root: toHex(tree.root),
    issuedAtMs: Math.max(0, Math.floor(issuedAtMs)),
  });
  return { body, leaves, proofs: tree.proofs.map((p) => p.map(toHex)) };
}
