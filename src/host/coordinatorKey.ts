/**
 * [K-1] [K-3] The coordinator's key in WebCrypto (browsers and Node alike): an ECDSA P-256 pair
 * whose private half is made non-extractable (script can sign with it, never read it out), its
 * public half's fingerprint, and signing and checking `proofPayload` bytes. What is signed is
 * decided in protocol/coordinatorProof.ts; this file only runs the algorithms.
 */
import { proofPayload, type ProofContext } from '../protocol/coordinatorProof.ts';

const ALGORITHM = { name: 'ECDSA', namedCurve: 'P-256' } as const;
const SIGNING = { name: 'ECDSA', hash: 'SHA-256' } as const;

/** A coordinator's identity: the key pair and what clients pin of it. */
export interface CoordinatorIdentity {
  readonly privateKey: CryptoKey;
  /** The public key as SPKI, base64url: what `proof.key` carries. */
  readonly publicKey: string;
  /** [K-1] base64url(sha256(SPKI)): what join links carry as `fp` and clients pin. */
  readonly fingerprint: string;
}

function subtle(): SubtleCrypto {
  const s = (globalThis as { crypto?: { subtle?: SubtleCrypto } }).crypto?.subtle;
  // WebCrypto's subtle API exists only in secure contexts (https, or localhost).
  if (!s) throw new Error('this page has no WebCrypto (crypto.subtle): open Quorum over https or on localhost.');
  return s;
}

export function toBase64Url(bytes: Uint8Array): string {
  let binary = '';
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

export function fromBase64Url(text: string): Uint8Array<ArrayBuffer> {
  const binary = atob(text.replace(/-/g, '+').replace(/_/g, '/'));
  const out = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) out[i] = binary.charCodeAt(i);
  return out;
}

/** [K-1] base64url(sha256(spki)), for a key given as base64url SPKI. */
export async function keyFingerprint(publicKey: string): Promise<string> {
  return toBase64Url(new Uint8Array(await subtle().digest('SHA-256', fromBase64Url(publicKey))));
}

/** [K-1] A fresh key pair: the private key non-extractable, so not even this page can export it. */
export async function generateCoordinatorKeyPair(): Promise<CryptoKeyPair> {
  return subtle().generateKey(ALGORITHM, false, ['sign', 'verify']);
}

/** The identity of a stored or fresh key pair. */
export async function identityOf(pair: CryptoKeyPair): Promise<CoordinatorIdentity> {
  const publicKey = toBase64Url(new Uint8Array(await subtle().exportKey('spki', pair.publicKey)));
  return { privateKey: pair.privateKey, publicKey, fingerprint: await keyFingerprint(publicKey) };
}

/** [K-3] The signature (P1363, base64url) over this connection's proof payload. */
export async function signProof(identity: CoordinatorIdentity, ctx: ProofContext): Promise<string> {
  return signBytes(identity, new Uint8Array(proofPayload(ctx)));
}

/** The signature (P1363, base64url) over `bytes`: a proof payload, or a receipt's ([AU-3]). */
export async function signBytes(identity: CoordinatorIdentity, bytes: Uint8Array<ArrayBuffer>): Promise<string> {
  return toBase64Url(new Uint8Array(await subtle().sign(SIGNING, identity.privateKey, bytes)));
}

/**
 * [K-3] Whether `sig` is `publicKey`'s signature over this connection's proof payload. False for
 * anything malformed (a key that does not import, a signature of the wrong size): a hostile
 * coordinator's bytes make a "no", never an exception.
 */
export async function verifyProof(publicKey: string, sig: string, ctx: ProofContext): Promise<boolean> {
  try {
    return await verifyBytes(publicKey, sig, new Uint8Array(proofPayload(ctx)));
  } catch {
    return false;
  }
}

/** Whether `sig` is `publicKey`'s signature over `bytes`; false for anything malformed, never a throw. */
export async function verifyBytes(publicKey: string, sig: string, bytes: Uint8Array<ArrayBuffer>): Promise<boolean> {
  try {
    const key = await subtle().importKey('spki', fromBase64Url(publicKey), ALGORITHM, false, ['verify']);
    return await subtle().verify(SIGNING, key, fromBase64Url(sig), bytes);
  } catch {
    return false;
  }
}
