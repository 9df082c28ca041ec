/**
 * [AU-4] Checking a receipt offline against what an export holds: the coordinator's signature
 * over the body, the pinned fingerprint, every leaf's inclusion proof, and every shard's outputs
 * (or answers) as the export has them, hashed again, and every agreeing volunteer's signature over
 * its own result ([I-3]), rebuilt from the body and the leaf. Pure: the hash and the signature check are
 * parameters, so the same code runs in the verify-receipt script (Node) and on the dashboard.
 * Every problem names what to look at — a shard by its index and items whenever it is one shard's.
 */
import { toHex } from './canonicalJson.ts';
import { fromHex } from './canonicalJson.ts';
import { asJobId, shardIdOf } from './ids.ts';
import { leafHash, rootFromProof, sameBytes, type Digest } from './merkle.ts';
import type { Answer } from './pipeline.ts';
import { answersBytes, leafBytes, outputBytes, receiptPayload, signedReceiptSchema, type ReceiptLeaf } from './receipt.ts';
import type { TensorDtype } from './tensor.ts';
import { resultPayload } from './volunteerProof.ts';

/** One shard as an export holds it: its items, the outputs (all or some) or answers, its provenance. */
export interface ExportedShard {
  readonly shard: number;
  readonly start: number;
  readonly count: number;
  /** The outputs the export holds for the shard's items (an `.npy` holds one), dims [count, ...]. */
  readonly outputs?: readonly { readonly name: string; readonly dtype: TensorDtype; readonly dims: readonly number[]; readonly data: ArrayBuffer }[];
  readonly answers?: readonly Answer[];
  /** The volunteers the export names for the shard, when it names them. */
  readonly volunteers?: readonly string[];
}

/** What an export holds, as far as a receipt can vouch for it. */
export interface ExportedResults {
  readonly jobId: string | null;
  readonly shards: readonly ExportedShard[];
}

export interface ReceiptCheckDeps {
  readonly digest: Digest;
  /** Whether `sig` (P1363, base64url) is `publicKey`'s (SPKI, base64url) ECDSA P-256 signature over `bytes`. */
  readonly verifySignature: (publicKey: string, sig: string, bytes: Uint8Array<ArrayBuffer>) => Promise<boolean>;
  /** [K-1] base64url(sha256(SPKI)) of a key. */
  readonly fingerprintOf: (publicKey: string) => Promise<string>;
  /** The fingerprint the checker trusts (a pin, a join link's `fp`, `--fp`); null: reported, not checked. */
  readonly expectedFingerprint: string | null;
}

export interface ReceiptVerdict {
  readonly ok: boolean;
  /** Each problem found, in words; empty when `ok`. */
  readonly problems: readonly string[];
  readonly jobId: string | null;
  /** The fingerprint of the key that signed, when the receipt has one. */
  readonly fingerprint: string | null;
  /** Whether the fingerprint was compared with an expected one. */
  readonly fingerprintChecked: boolean;
  readonly shardsChecked: number;
  readonly complete: boolean | null;
  /** Volunteer result signatures the receipt carries, each checked against its volunteer's key. */
  readonly volunteerSignatures: number;
}

const items = (l: { start: number; count: number }): string => (l.count === 1 ? `item ${l.start}` : `items ${l.start}–${l.start + l.count - 1}`);
const shardName = (l: { shard: number; start: number; count: number }): string => `shard ${l.shard} (${items(l)})`;

/** [AU-4] Checks a receipt (as read from a file: unknown) against an export's contents. */
export async function checkReceipt(raw: unknown, exported: ExportedResults, deps: ReceiptCheckDeps): Promise<ReceiptVerdict> {
  const problems: string[] = [];
  const parsed = signedReceiptSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue?.path.length ? ` at ${issue.path.join('.')}` : '';
    return {
      ok: false,
      problems: [`the receipt is malformed${where}: ${issue?.message ?? 'unreadable'}. Export the results again from the dashboard.`],
      jobId: exported.jobId,
      fingerprint: null,
      fingerprintChecked: false,
      shardsChecked: 0,
      complete: null,
      volunteerSignatures: 0,
    };
  }
  const receipt = parsed.data;
  // Signed bytes and leaf bytes come from the raw values, as the file has them: a field this
  // build's schema does not know still counts, and nothing is re-serialised into a match.
  const rawReceipt = raw as { body: unknown; leaves: unknown[] };
  const fingerprint = await deps.fingerprintOf(receipt.key);
  if (deps.expectedFingerprint !== null && fingerprint !== deps.expectedFingerprint) {
    problems.push(
      `the receipt is signed by key ${fingerprint}, not by the trusted coordinator key ${deps.expectedFingerprint}: it was not issued by this network's coordinator.`,
    );
  }
  if (!(await deps.verifySignature(receipt.key, receipt.sig, receiptPayload(rawReceipt.body)))) {
    problems.push("the coordinator's signature over the receipt does not verify: the receipt was changed after it was signed.");
  }
  if (exported.jobId !== null && exported.jobId !== receipt.body.jobId) {
    problems.push(`the export is of job ${exported.jobId}, the receipt of job ${receipt.body.jobId}: use the receipt that came with this export.`);
  }
  const root = fromHex(receipt.body.root);
  const seen = new Set<number>();
  for (const [i, leaf] of receipt.leaves.entries()) {
    if (seen.has(leaf.shard)) problems.push(`shard ${leaf.shard} has two leaves in the receipt.`);
    seen.add(leaf.shard);
    const hash = await leafHash(deps.digest, leafBytes(rawReceipt.leaves[i]));
    const reached = await rootFromProof(deps.digest, hash, i, receipt.body.leafCount, (receipt.proofs[i] ?? []).map(fromHex));
    if (reached === null || !sameBytes(reached, root))
      problems.push(`${shardName(leaf)}: its leaf does not hash into the signed root: the receipt's entry for it was changed.`);
    problems.push(...(await volunteerSignatureProblems(receipt.body, leaf, deps)));
  }
  const byShard = new Map(exported.shards.map((s) => [s.shard, s]));
  for (const leaf of receipt.leaves) {
    const s = byShard.get(leaf.shard);
    if (!s) {
      problems.push(`${shardName(leaf)} is in the receipt but not in the export: the export is missing verified results.`);
      continue;
    }
    problems.push(...(await contentProblems(leaf, s, deps.digest)));
  }
  for (const s of exported.shards) {
    if (!seen.has(s.shard)) problems.push(`${shardName(s)} is in the export but not in the receipt: nothing vouches for its results.`);
  }
  return {
    ok: problems.length === 0,
    problems,
    jobId: receipt.body.jobId,
    fingerprint,
    fingerprintChecked: deps.expectedFingerprint !== null,
    shardsChecked: receipt.leaves.length,
    complete: receipt.body.complete,
    volunteerSignatures: receipt.leaves.reduce((n, l) => n + l.volunteers.filter((v) => v.sig !== undefined).length, 0),
  };
}

/**
 * [AU-4] [I-3] Each volunteer signature of a leaf, checked by rebuilding the `resultPayload` its
 * volunteer signed: the network and job from the signed body, the shard id as the coordinator
 * names it, the entry's lease, own output digest, backend and adapter. Under a tolerance
 * comparator a volunteer's digest may differ from the accepted outputs': the coordinator's
 * signature attests that they agreed, the volunteer's that these were its outputs.
 */
async function volunteerSignatureProblems(body: { networkId: string; jobId: string }, leaf: ReceiptLeaf, deps: ReceiptCheckDeps): Promise<string[]> {
  const problems: string[] = [];
  for (const v of leaf.volunteers) {
    if (v.key === undefined || v.sig === undefined || v.lease === undefined || v.adapter === undefined || v.digest === undefined) continue;
    const payload = resultPayload({
      networkId: body.networkId,
      jobId: body.jobId,
      shardId: shardIdOf(asJobId(body.jobId), leaf.shard),
      leaseId: v.lease,
      outputDigest: v.digest,
      backend: v.backend,
      adapter: v.adapter,
    });
    if (!(await deps.verifySignature(v.key, v.sig, payload))) {
      problems.push(
        `${shardName(leaf)}: volunteer ${v.peer}'s result signature does not verify: the receipt's entry for it was changed, or that volunteer did not sign this result.`,
      );
    }
  }
  return problems;
}

/** Why an exported shard's contents are not what its leaf vouches for. */
async function contentProblems(leaf: ReceiptLeaf, s: ExportedShard, digest: Digest): Promise<string[]> {
  const name = shardName(leaf);
  if (s.start !== leaf.start || s.count !== leaf.count) return [`${name}: the export puts it at ${items(s)}, the receipt at ${items(leaf)}.`];
  const problems: string[] = [];
  if (s.volunteers && s.volunteers.join(' ') !== leaf.volunteers.map((v) => v.peer).join(' ')) {
    problems.push(`${name}: the export names volunteers ${s.volunteers.join(', ')}, the receipt ${leaf.volunteers.map((v) => v.peer).join(', ')}.`);
  }
  if (leaf.answers !== undefined) {
    if (!s.answers) return [...problems, `${name}: the receipt vouches for answers, the export has none for it.`];
    if (toHex(await digest(answersBytes(s.answers))) !== leaf.answers)
      problems.push(`${name}: its answers do not hash to the receipt's digest: they were changed.`);
    return problems;
  }
  const outputs = s.outputs ?? [];
  if (outputs.length === 0) return [...problems, `${name}: the export has no outputs for it.`];
  for (const o of outputs) {
    const vouched = leaf.outputs?.find((x) => x.name === o.name);
    if (!vouched) {
      problems.push(`${name}: output "${o.name}" is not in the receipt.`);
      continue;
    }
    if (o.dtype !== vouched.dtype || o.dims.join(',') !== vouched.dims.join(',')) {
      problems.push(
        `${name}: output "${o.name}" is ${o.dtype} [${o.dims.join(', ')}] in the export, ${vouched.dtype} [${vouched.dims.join(', ')}] in the receipt.`,
      );
      continue;
    }
    if (toHex(await digest(outputBytes(o))) !== vouched.digest)
      problems.push(`${name}: output "${o.name}" does not hash to the receipt's digest: its values were changed.`);
  }
  return problems;
}
