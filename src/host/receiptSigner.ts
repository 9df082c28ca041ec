/**
 * [AU-3] The coordinator signs a job's receipt with its key ([K-1]), and anyone checks one
 * ([AU-4]) with WebCrypto: the page, the dashboard and the verify-receipt script share this.
 * What is signed and what is checked is decided in protocol/receipt.ts and receiptCheck.ts.
 */
import type { JobRecord } from '../core/coordinator/state.ts';
import type { Digest } from '../protocol/merkle.ts';
import type { JobStatus, VerifiedShard } from '../protocol/messages.ts';
import { buildReceipt, receiptPayload, type ReceiptJob, type SignedReceipt } from '../protocol/receipt.ts';
import { checkReceipt, type ExportedResults, type ReceiptVerdict } from '../protocol/receiptCheck.ts';
import { keyFingerprint, signBytes, verifyBytes, type CoordinatorIdentity } from './coordinatorKey.ts';

/** SHA-256 with WebCrypto (browsers, Workers, Node ≥ 19). */
export const webSha256: Digest = async (bytes) => new Uint8Array(await crypto.subtle.digest('SHA-256', bytes));

/** [AU-3] A signed receipt for the job's verified shards, or null when none is verified yet. */
export async function issueReceipt(
  identity: CoordinatorIdentity,
  job: ReceiptJob,
  shards: readonly VerifiedShard[],
  nowMs: number,
): Promise<SignedReceipt | null> {
  const unsigned = await buildReceipt(webSha256, job, shards, nowMs);
  if (unsigned === null) return null;
  const sig = await signBytes(identity.privateKey, receiptPayload(unsigned.body));
  return { body: unsigned.body, key: identity.publicKey, sig, leaves: [...unsigned.leaves], proofs: unsigned.proofs.map((p) => [...p]) };
}

/** [AU-4] Checks a receipt against an export's contents, trusting `expectedFingerprint` (null: report it only). */
export function verifyReceipt(receipt: unknown, exported: ExportedResults, expectedFingerprint: string | null): Promise<ReceiptVerdict> {
  return checkReceipt(receipt, exported, { digest: webSha256, verifySignature: verifyBytes, fingerprintOf: keyFingerprint, expectedFingerprint });
}

/** [AU-3] What a receipt says of a job, from the coordinator's record and its status now. */
export function receiptJobOf(networkId: string, job: JobRecord, status: JobStatus): ReceiptJob {
  return {
    networkId,
    jobId: job.id,
    jobName: job.name,
    modelHash: job.modelHash,
    policy: job.policy,
    items: job.items,
    shards: job.shardCount,
    complete: status.done,
  };
}

/** The findings of a verdict as lines a person reads (also the verify-receipt script's output). */
export function verdictLines(verdict: ReceiptVerdict, what: string): string[] {
  if (!verdict.ok) return [`The receipt does NOT verify for this ${what}:`, ...verdict.problems];
  const key = verdict.fingerprintChecked
    ? `signed by the trusted coordinator key ${verdict.fingerprint}`
    : `signed by key ${verdict.fingerprint ?? '?'} — not compared with a trusted key: give its fingerprint (the join link's fp) to check who signed it`;
  return [
    `The receipt verifies: job ${verdict.jobId ?? '?'}, ${verdict.shardsChecked} shard(s) of this ${what} hash into the signed root, ${key}.`,
    ...(verdict.complete === false ? ['The job was not complete when the receipt was signed: it vouches for the shards verified by then.'] : []),
    ...(verdict.volunteerSignatures > 0 ? [`Its ${verdict.volunteerSignatures} volunteer result signature(s) verify, each by its volunteer's key.`] : []),
  ];
}
