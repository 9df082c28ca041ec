/**
 * The wire protocol: one versioned discriminated union per direction.
 *
 * - `ToCoordinator`: what volunteers, requesters and observers send to the coordinator.
 * - `FromCoordinator`: what the coordinator sends back.
 *
 * Every frame carries `v` (the protocol version) and `t` (its type). Types are inferred from the
 * zod schemas so the parser and the types can never drift apart.
 */
import { z } from 'zod';
import { LIMITS } from './limits.ts';
import {
  backendSchema,
  bytesSchema,
  capabilitiesSchema,
  countSchema as count,
  fractionSchema,
  jobIdSchema,
  leaseIdSchema,
  modelHashSchema,
  msSchema as ms,
  nameSchema,
  peerIdSchema,
  policySchema,
  reasonSchema,
  roleSchema,
  safeIdSchema,
  shardIdSchema,
  tensorListSchema,
} from './schemas.ts';
import { TELEMETRY_LIMITS, telemetryShape } from './telemetry.ts';
import { filePipelineSchema, jobFilesSchema, leaseFilesSchema } from './jobFiles.ts';
import { answerKindOf, answerSchema, type Pipeline } from './pipeline.ts';
import { spreadSchema } from './spread.ts';
import { nonceSchema, publicKeySchema, signatureSchema } from './keySchemas.ts';
import { digestHexSchema } from './keySchemas.ts';
import { signedReceiptSchema } from './receipt.ts';

/** [M-2] Every frame carries `v`; a peer speaking another version is refused, not guessed at. */
export const PROTOCOL_VERSION = 1;

/** [I-1] `refused.code` when the hello's peer id belongs to another volunteer (wrong or no resume token). */
export const REFUSED_ID_TAKEN = 'peer-id-taken';

/**
 * [L-10] How often a volunteer says it still works on a lease (`lease-progress`). Shorter than the
 * shortest deadline the coordinator gives (the [L-8] floor, 15 s), so a lease whose holder is
 * alive never lapses between two frames.
 */
export const LEASE_PROGRESS_INTERVAL_MS = 10_000;

const v = z.literal(PROTOCOL_VERSION);
export type { Role } from './schemas.ts';

/** [J-6] Why `itemNames` cannot label a batch of `items` items, or null when it can (or is absent). */
export function itemNamesProblem(itemNames: readonly string[] | undefined, items: number): string | null {
  if (itemNames === undefined || itemNames.length === items) return null;
  return `${itemNames.length} item names for ${items} items: give one name per item`;
}

/**
 * What a requester submits: the model's bytes, a batch of inputs, shard size and policy. The
 * items are either tensors (`inputs`) or files with the pipeline that makes them the model's
 * input on each volunteer (`files` + `pipeline`, [J-7]): exactly one of the two.
 */
export const jobSpecSchema = z
  .object({
    name: nameSchema,
    model: bytesSchema.refine((b) => b.byteLength <= LIMITS.maxModelBytes, {
      message: `model is larger than ${LIMITS.maxModelBytes} bytes`,
    }),
    /** One tensor per model input; the first dim of each is the batch (item) dim. Empty for a job of files. */
    inputs: tensorListSchema,
    /** [J-7] How each file becomes the model's input: decode-image → image-tensor → run-model (this job's model). */
    pipeline: filePipelineSchema.optional(),
    /** [J-7] One file per item, in item order. */
    files: jobFilesSchema.optional(),
    shardSize: z.number().int().min(1).max(LIMITS.maxShardSize),
    policy: policySchema,
    /** The requester key the coordinator shows on its page; empty when the network has none. */
    requesterKey: z.string().max(200),
    /** [L-6] 1-10: among jobs with work, each gets leases in proportion to its priority. Absent means 1. */
    priority: z.number().int().min(1).max(10).optional(),
    /**
     * [J-6] One name per item, in item order (its input file, `batch.npy#3`), so exports can say
     * which result is whose. Absent for jobs without names (and from older requesters).
     */
    itemNames: z.array(nameSchema).max(LIMITS.maxItemsPerJob).optional(),
  })
  .superRefine((spec, ctx) => {
    const problem = jobItemsProblem(spec);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
    const items = spec.files ? spec.files.length : (spec.inputs[0]?.dims[0] ?? 0);
    const names = itemNamesProblem(spec.itemNames, items);
    if (names !== null) ctx.addIssue({ code: 'custom', path: ['itemNames'], message: names });
    const comparator = answerComparatorProblem(spec);
    if (comparator !== null) ctx.addIssue({ code: 'custom', path: ['policy', 'answerComparator'], message: comparator });
  });
export type JobSpec = z.infer<typeof jobSpecSchema>;

/** [V-12] Why the policy's answer comparator does not fit what the job's pipeline answers, or null. */
function answerComparatorProblem(spec: { pipeline?: Pipeline | undefined; policy: { answerComparator?: { kind: string } | undefined } }): string | null {
  const chosen = spec.policy.answerComparator;
  if (chosen === undefined) return null;
  const kind = spec.pipeline ? answerKindOf(spec.pipeline) : null;
  if (kind === null) return 'an answer comparator applies only to a pipeline that ends in answers (OCR, speech segments, labels)';
  if (chosen.kind !== kind) return `the pipeline answers with ${kind}, so it needs the "${kind}" comparator, not "${chosen.kind}"`;
  return null;
}

/** [J-7] Why a spec's items are neither tensors alone nor files with their pipeline, or null. */
function jobItemsProblem(spec: { inputs: readonly unknown[]; pipeline?: unknown; files?: unknown }): string | null {
  const files = spec.files !== undefined;
  if (files !== (spec.pipeline !== undefined)) return 'files and their pipeline come together: send both, or tensor inputs instead';
  if (files && spec.inputs.length > 0) return 'give the items either as tensor inputs or as files, not both';
  if (!files && spec.inputs.length === 0) return 'the job has no inputs: give tensor inputs, or files with a pipeline';
  return null;
}

// ---------------------------------------------------------------------------------------------
// To the coordinator
// ---------------------------------------------------------------------------------------------

export const toCoordinatorSchema = z.discriminatedUnion('t', [
  /**
   * [K-2] A client's first frame: a fresh nonce the coordinator must sign, with both ends' DTLS
   * fingerprints, to prove it holds the network's key. The client sends nothing else (not even
   * `hello`) until the `proof` checks.
   */
  z.object({ v, t: z.literal('challenge'), nonce: nonceSchema }),
  /** First frame on every connection. Volunteers must say what they run (`caps`); others send null. [M-6] */
  z
    .object({
      v,
      t: z.literal('hello'),
      role: roleSchema,
      caps: capabilitiesSchema.nullable(),
      label: z.string().max(100),
      /**
       * [I-1] A volunteer that reconnects under the peer id it had before proves the id is its own
       * with the token the coordinator gave it in `welcome`; without it, the id's reputation,
       * leases and held-back results are not its to claim.
       */
      resume: z.string().min(1).max(128).optional(),
      /**
       * [J-11] A requester proves it holds the network's requester key, so it may read the jobs
       * submitted under it. Sent only after the coordinator's proof ([K-2]); others' is ignored.
       */
      requesterKey: z.string().max(200).optional(),
      /** [I-2] The volunteer's public key (SPKI) and its signature over `volunteerProofPayload` for this connection. */
      key: publicKeySchema.optional(),
      keySig: signatureSchema.optional(),
    })
    .refine((m) => (m.role === 'volunteer') === (m.caps !== null), { message: 'volunteers (and only they) send caps' }),
  /** A volunteer is ready for one more shard. */
  z.object({ v, t: z.literal('lease-request') }),
  /** Send the model's bytes from `offset` on, in `model-chunk` frames. */
  z.object({ v, t: z.literal('model-request'), hash: modelHashSchema, offset: count }),
  z
    .object({
      v,
      t: z.literal('result'),
      leaseId: leaseIdSchema,
      /** The model's raw outputs; empty when the job's pipeline ends in answers. */
      outputs: tensorListSchema,
      /** [V-12] A pipeline job's answers, one per item of the shard, in item order (and no outputs). */
      answers: z.array(answerSchema).max(LIMITS.maxShardSize).optional(),
      /** The backend that really produced these outputs. */
      backend: backendSchema,
      inferMs: ms,
      /** [I-3] The volunteer's signature over `resultPayload` (job, shard, lease, output digest, backend, adapter). */
      sig: signatureSchema.optional(),
    })
    .refine((m) => m.answers === undefined || m.outputs.length === 0, { message: 'a result carries answers or outputs, not both' }),
  /** The volunteer gives a lease back without a result (model failed its hash check, paused, …). */
  z.object({ v, t: z.literal('lease-abandon'), leaseId: leaseIdSchema, reason: reasonSchema }),
  /**
   * [L-10] The volunteer still holds this lease and works on it (or waits its turn behind the
   * one it runs, [W-18]): sent every `LEASE_PROGRESS_INTERVAL_MS` while held. `elapsedMs` is the
   * time since it received the lease, for logs; the coordinator times the lease by its own clock.
   */
  z.object({ v, t: z.literal('lease-progress'), leaseId: leaseIdSchema, elapsedMs: ms }),
  /** [P-5] A volunteer paused (by its user, a hidden tab, a battery) or resumed: paused ones get no lease. */
  z.object({ v, t: z.literal('volunteer-state'), paused: z.boolean(), reason: reasonSchema }),
  /** [P-6] A volunteer's capabilities changed after hello (e.g. its WebGPU device was lost: now WASM). */
  z.object({ v, t: z.literal('caps'), caps: capabilitiesSchema }),
  /** `ref` is the requester's own id for this submission, echoed in the answer. */
  z.object({ v, t: z.literal('submit-job'), ref: safeIdSchema, spec: jobSpecSchema }),
  z.object({ v, t: z.literal('results-request'), jobId: jobIdSchema }),
  /** Liveness: a tab that vanishes without closing its channel is noticed by silence. */
  z.object({ v, t: z.literal('ping') }),
]);
export type ToCoordinator = z.infer<typeof toCoordinatorSchema>;
export type ToCoordinatorType = ToCoordinator['t'];

// ---------------------------------------------------------------------------------------------
// From the coordinator
// ---------------------------------------------------------------------------------------------

export const jobStatusSchema = z.object({
  jobId: jobIdSchema,
  name: nameSchema,
  createdAtMs: ms,
  items: count,
  shards: count,
  verified: count,
  inFlight: count,
  pending: count,
  unverifiable: count,
  disagreements: count,
  done: z.boolean(),
  /** [L-6] The job's priority (1-10); absent from coordinators that predate priorities. */
  priority: z.number().int().min(1).max(10).optional(),
  /** [V-13] The spread measured between replicas of the job's first shards; absent before any pair. */
  spread: spreadSchema.optional(),
});
export type JobStatus = z.infer<typeof jobStatusSchema>;

export const peerSummarySchema = z.object({
  peerId: peerIdSchema,
  role: roleSchema,
  label: z.string().max(100),
  backend: backendSchema.nullable(),
  adapter: z.string().max(LIMITS.maxNameLength).nullable(),
  shardsDone: count,
  activeLeases: count,
  connectedAtMs: ms,
  /** Trusted on its backend (may compute shards alone in adaptive jobs). Absent from older coordinators. */
  trusted: z.boolean().optional(),
  /** Caught lying: gets no more work. Absent from older coordinators. */
  quarantined: z.boolean().optional(),
  /** [P-5] The volunteer paused itself: gets no lease until it resumes. Absent from older coordinators. */
  paused: z.boolean().optional(),
});
export type PeerSummary = z.infer<typeof peerSummarySchema>;

export const verifiedShardSchema = z.object({
  index: count,
  start: count,
  count,
  outputs: tensorListSchema,
  /** [V-12] A pipeline job's verified answers, one per item (and no outputs). */
  answers: z.array(answerSchema).max(LIMITS.maxShardSize).optional(),
  /** Provenance: the volunteers whose results agreed, and their backends. */
  volunteers: z.array(peerIdSchema).max(LIMITS.maxReplicas),
  backends: z.array(backendSchema).max(LIMITS.maxReplicas),
  /** Their WebGPU adapters (null on WASM) and onnxruntime-web versions; absent for results stored before. */
  adapters: z.array(z.string().max(LIMITS.maxNameLength).nullable()).max(LIMITS.maxReplicas).optional(),
  ortVersions: z.array(z.string().max(50)).max(LIMITS.maxReplicas).optional(),
  /** [I-3] Per agreeing volunteer (as `volunteers`): its public key (SPKI) and its signature over `resultPayload`. */
  volunteerKeys: z.array(publicKeySchema).max(LIMITS.maxReplicas).optional(),
  resultSigs: z.array(signatureSchema).max(LIMITS.maxReplicas).optional(),
  /** [I-3] The lease each signature names (it is part of what was signed). */
  resultLeases: z.array(leaseIdSchema).max(LIMITS.maxReplicas).optional(),
  /** [I-3] The output digest each signature covers (hex sha256 of `resultDigestParts`): under tolerance not the accepted outputs'. */
  resultDigests: z.array(digestHexSchema).max(LIMITS.maxReplicas).optional(),
});
export type VerifiedShard = z.infer<typeof verifiedShardSchema>;

export const fromCoordinatorSchema = z.discriminatedUnion('t', [
  /** [K-3] The answer to `challenge`: the coordinator's public key (SPKI) and its signature over `proofPayload`. */
  z.object({
    v,
    t: z.literal('proof'),
    key: publicKeySchema,
    sig: signatureSchema,
    /** [I-2] A fresh nonce a volunteer signs, with this connection's DTLS fingerprints, to prove its own key. */
    nonce: nonceSchema.optional(),
  }),
  z.object({
    v,
    t: z.literal('welcome'),
    networkId: safeIdSchema,
    you: peerIdSchema,
    /** [I-1] A secret for this peer id: sent back in `hello.resume` when reconnecting under the same id. */
    token: z.string().min(1).max(128).optional(),
  }),
  /** Sent before closing a connection the coordinator will not serve (wrong version, bad hello). */
  z.object({
    v: count,
    t: z.literal('refused'),
    reason: reasonSchema,
    expectedVersion: count,
    /**
     * [I-1] Why, for machines: `REFUSED_ID_TAKEN` when the peer id belongs to another volunteer.
     * A bounded string rather than an enum: a refusal parses at any version ([M-2]), so a code
     * this build does not know must not make the whole frame malformed.
     */
    code: z.string().min(1).max(64).optional(),
  }),
  z.object({
    v,
    t: z.literal('lease'),
    leaseId: leaseIdSchema,
    jobId: jobIdSchema,
    shardId: shardIdSchema,
    modelHash: modelHashSchema,
    modelBytes: count,
    /** The shard's rows of every input tensor; empty for a job of files ([J-7]). */
    inputs: tensorListSchema,
    /** [J-7] A job of files: the shard's files, in item order, and the pipeline that makes them the model's input. */
    files: leaseFilesSchema.optional(),
    pipeline: filePipelineSchema.optional(),
    /** Time the volunteer has, counted from when it receives the lease. */
    deadlineInMs: ms,
  }),
  z.object({ v, t: z.literal('no-work'), retryInMs: ms }),
  /**
   * [L-9] Work appeared since this volunteer was told `no-work`: it may ask now instead of waiting
   * out `retryInMs`. A hint, never a lease ([W-5]).
   */
  z.object({ v, t: z.literal('work-available') }),
  z.object({ v, t: z.literal('model-chunk'), hash: modelHashSchema, offset: count, total: count, bytes: bytesSchema }),
  z.object({ v, t: z.literal('model-unavailable'), hash: modelHashSchema, reason: reasonSchema }),
  z.object({
    v,
    t: z.literal('result-ack'),
    leaseId: leaseIdSchema,
    outcome: z.enum(['received', 'duplicate', 'unknown-lease', 'rejected']),
    reason: reasonSchema,
  }),
  /** [P-7] What the coordinator knows of this volunteer, sent when it changes: accepted shards, reputation. */
  z.object({
    v,
    t: z.literal('volunteer-status'),
    /** Results of this volunteer in an accepted quorum, on this connection. */
    shardsAccepted: count,
    resultsReturned: count,
    /** Results outvoted or rejected as broken. */
    resultsRejected: count,
    paused: z.boolean(),
    /** Trusted on the backend it runs now, its streak there, and progress to trust (0..1). */
    trusted: z.boolean(),
    streak: count,
    trustLevel: fractionSchema.nullable(),
    quarantined: z.boolean(),
  }),
  z.object({ v, t: z.literal('job-accepted'), ref: safeIdSchema, jobId: jobIdSchema, shards: count }),
  z.object({ v, t: z.literal('job-rejected'), ref: safeIdSchema, reason: reasonSchema }),
  z.object({ v, t: z.literal('job-status'), jobs: z.array(jobStatusSchema).max(10_000) }),
  z.object({
    v,
    t: z.literal('job-results'),
    jobId: jobIdSchema,
    shards: z.array(verifiedShardSchema).max(LIMITS.maxItemsPerJob),
    /** [J-6] The job's item names, when it was submitted with them. */
    itemNames: z.array(nameSchema).max(LIMITS.maxItemsPerJob).optional(),
    /** [AU-3] The coordinator's signed receipt for these shards; absent from coordinators without receipts. */
    receipt: signedReceiptSchema.optional(),
  }),
  z.object({ v, t: z.literal('network'), peers: z.array(peerSummarySchema).max(100_000) }),
  /** [T-1] Observers' only feed: peers, this tick's flows, agreement per backend pair, recent jobs. Bounded by TELEMETRY_LIMITS. */
  z.object({ v, t: z.literal('telemetry'), ...telemetryShape, jobs: z.array(jobStatusSchema).max(TELEMETRY_LIMITS.maxJobs) }),
  z.object({ v, t: z.literal('pong') }),
]);
export type FromCoordinator = z.infer<typeof fromCoordinatorSchema>;
export type FromCoordinatorType = FromCoordinator['t'];
