/**
 * [I-2] [I-3] A volunteer's key in WebCrypto: proving it on a connection, signing results, and
 * the coordinator's checks of both. The algorithms and encodings are the coordinator key's
 * (coordinatorKey.ts); what is signed is laid out in protocol/volunteerProof.ts. Checks answer a
 * `SignatureCheck` for the core, never an exception: a hostile volunteer's bytes make a "no".
 */
import type { SignatureCheck } from '../core/coordinator/state.ts';
import type { Answer } from '../protocol/pipeline.ts';
import type { WireTensor } from '../protocol/tensor.ts';
import { resultDigestParts, resultPayload, volunteerProofPayload, type ResultSubject, type VolunteerProofContext } from '../protocol/volunteerProof.ts';
import { sha256Hex } from '../runtime/sha256.ts';
import { CoordinatorKeyStore } from '../persistence/coordinatorKeyStore.ts';
import type { QuorumDb } from '../persistence/db.ts';
import { generateCoordinatorKeyPair, identityOf, keyFingerprint, signBytes, verifyBytes, type CoordinatorIdentity } from './coordinatorKey.ts';

/** A volunteer's key pair as it signs: the same shape as the coordinator's. */
export type VolunteerKeyIdentity = CoordinatorIdentity;

/** [I-2] This browser profile's volunteer key for `networkId`: made on first use, kept in IndexedDB (non-extractable). */
export async function storedVolunteerKey(db: QuorumDb, networkId: string): Promise<VolunteerKeyIdentity> {
  return identityOf(await new CoordinatorKeyStore(db, 'volunteerKeys').keyPair(networkId, generateCoordinatorKeyPair, Date.now()));
}

/** [I-2] `keySig` for this connection's hello. */
export function proveVolunteerKey(identity: VolunteerKeyIdentity, ctx: VolunteerProofContext): Promise<string> {
  return signBytes(identity.privateKey, volunteerProofPayload(ctx));
}

/** [I-2] The coordinator's check of a hello's key proof on this connection. */
export async function checkVolunteerProof(key: string | undefined, sig: string | undefined, ctx: VolunteerProofContext | null): Promise<SignatureCheck> {
  if (key === undefined || sig === undefined) return { ok: false, reason: 'the hello carries no key and signature' };
  if (ctx === null) return { ok: false, reason: 'this connection has no nonce to sign yet: challenge the coordinator first' };
  if (!(await verifyBytes(key, sig, volunteerProofPayload(ctx)))) {
    return { ok: false, reason: "the key's signature over this connection does not check" };
  }
  return { ok: true, publicKey: key, fingerprint: await keyFingerprint(key), sig };
}

/** [I-3] The output digest a result's signature covers: sha256 (hex) of its outputs or answers. */
export async function resultDigest(outputs: readonly WireTensor[], answers: readonly Answer[] | undefined): Promise<string> {
  const parts = resultDigestParts(outputs, answers);
  let size = 0;
  for (const p of parts) size += p.byteLength;
  const all = new Uint8Array(size);
  let at = 0;
  for (const p of parts) {
    all.set(p, at);
    at += p.byteLength;
  }
  return sha256Hex(all);
}

/** [I-3] A result's `sig`. */
export function signResult(identity: VolunteerKeyIdentity, subject: ResultSubject): Promise<string> {
  return signBytes(identity.privateKey, resultPayload(subject));
}

/**
 * [I-3] The coordinator's check of a result's signature by the key its volunteer proved. A good
 * one reports the output digest it covers: the replica keeps it, so a receipt can carry what
 * each volunteer signed ([AU-2]) even where tolerance accepted another volunteer's outputs.
 */
export async function checkResultSignature(publicKey: string | undefined, sig: string | undefined, subject: ResultSubject | null): Promise<SignatureCheck> {
  if (publicKey === undefined) return { ok: false, reason: 'this volunteer proved no key' };
  if (sig === undefined) return { ok: false, reason: 'the result is not signed' };
  if (subject === null) return { ok: false, reason: 'the lease is not this volunteer’s' };
  if (!(await verifyBytes(publicKey, sig, resultPayload(subject)))) return { ok: false, reason: "its volunteer's key did not sign this result" };
  return { ok: true, publicKey, fingerprint: await keyFingerprint(publicKey), sig, outputDigest: subject.outputDigest };
}
