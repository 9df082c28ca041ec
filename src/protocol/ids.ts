/**
 * Branded identifiers. A `JobId` is a string at run time, but the brand stops a `ShardId` being
 * passed where a `JobId` is expected. Brands are applied only by parsers and by the code that
 * mints ids, never by a bare cast elsewhere.
 */
declare const brand: unique symbol;
type Brand<T, B extends string> = T & { readonly [brand]: B };

/** A peerjs peer id (the signaling server's name for a tab). */
export type PeerId = Brand<string, 'PeerId'>;
/** A job, unique within one coordinator's network. */
export type JobId = Brand<string, 'JobId'>;
/** A shard of a job: `${JobId}/${index}`. */
export type ShardId = Brand<string, 'ShardId'>;
/** Lowercase hex sha256 of a model's bytes: the model's identity everywhere. */
export type ModelHash = Brand<string, 'ModelHash'>;
/** One lease of one shard to one volunteer. */
export type LeaseId = Brand<string, 'LeaseId'>;

const SAFE_ID = /^[A-Za-z0-9_-]{1,64}$/;
const HEX64 = /^[0-9a-f]{64}$/;

export const isSafeId = (s: string): boolean => SAFE_ID.test(s);
export const isModelHash = (s: string): s is ModelHash => HEX64.test(s);

export const asPeerId = (s: string): PeerId => s as PeerId;
export const asJobId = (s: string): JobId => s as JobId;
export const asLeaseId = (s: string): LeaseId => s as LeaseId;
export const asModelHash = (s: string): ModelHash => s as ModelHash;

export function shardIdOf(jobId: JobId, index: number): ShardId {
  return `${jobId}/${index}` as ShardId;
}
