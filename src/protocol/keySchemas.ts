/**
 * [K-1] [K-2] The shapes of keys, nonces and signatures on the wire (coordinatorProof.ts says
 * what they mean). A file of their own so that messages.ts and coordinatorProof.ts both import
 * them without importing each other.
 */
import { z } from 'zod';

/** [K-2] Bytes of a client's nonce (128 bits): from `crypto.getRandomValues`, never a seeded Rng. */
export const NONCE_BYTES = 16;

const BASE64URL = /^[A-Za-z0-9_-]+$/;

/** A nonce as base64url: at least 128 bits (22 characters), at most 512. */
export const nonceSchema = z.string().min(22).max(86).regex(BASE64URL, 'expected base64url');

/** A P-256 public key as SPKI (91 bytes), base64url; a little room for other encodings of it. */
export const publicKeySchema = z.string().min(80).max(300).regex(BASE64URL, 'expected base64url');

/** An ECDSA P-256 signature in IEEE P1363 form (64 bytes), base64url. */
export const signatureSchema = z.string().min(80).max(200).regex(BASE64URL, 'expected base64url');

/** [K-1] A key's fingerprint: base64url (no padding) of the sha256 of its SPKI, 43 characters. */
export const fingerprintSchema = z.string().length(43).regex(BASE64URL, 'expected the 43-character base64url fingerprint of a coordinator key');

/** [I-3] [AU-1] A sha256 as lowercase hex: what a result signature's output digest and a receipt's digests are. */
export const digestHexSchema = z.string().regex(/^[0-9a-f]{64}$/, 'expected a lowercase hex sha256');
