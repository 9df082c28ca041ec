import { describe, expect, it } from 'vitest';
import type { ProofContext } from '../protocol/coordinatorProof.ts';
import { fromBase64Url, generateCoordinatorKeyPair, identityOf, keyFingerprint, signProof, toBase64Url, verifyProof } from './coordinatorKey.ts';

const hex = (b: number): string => Array.from({ length: 32 }, (_, i) => ((b * 7 + i) & 0xff).toString(16).toUpperCase().padStart(2, '0')).join(':');
const CTX: ProofContext = { networkId: 'net-1', nonce: 'QUJDREVGR0hJSktMTU5PUA', dtls: { coordinator: `sha-256 ${hex(1)}`, client: `sha-256 ${hex(2)}` } };

describe('[K-1] [K-3] the coordinator key in WebCrypto', () => {
  it('makes a P-256 pair whose private key cannot be exported, and a 43-character fingerprint of its SPKI', async () => {
    const pair = await generateCoordinatorKeyPair();
    expect(pair.privateKey.extractable).toBe(false);
    await expect(crypto.subtle.exportKey('pkcs8', pair.privateKey)).rejects.toThrow();
    const id = await identityOf(pair);
    expect(fromBase64Url(id.publicKey).byteLength).toBe(91);
    expect(id.fingerprint).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(id.fingerprint).toBe(toBase64Url(new Uint8Array(await crypto.subtle.digest('SHA-256', fromBase64Url(id.publicKey)))));
    expect(await keyFingerprint(id.publicKey)).toBe(id.fingerprint);
  });

  it('a proof checks for exactly the context it was made for', async () => {
    const id = await identityOf(await generateCoordinatorKeyPair());
    const sig = await signProof(id, CTX);
    expect(await verifyProof(id.publicKey, sig, CTX)).toBe(true);
  });

  it('fails with a swapped or replaced DTLS fingerprint (a relay in the middle), another nonce (a replay), another network', async () => {
    const id = await identityOf(await generateCoordinatorKeyPair());
    const sig = await signProof(id, CTX);
    expect(await verifyProof(id.publicKey, sig, { ...CTX, dtls: { coordinator: CTX.dtls.client, client: CTX.dtls.coordinator } })).toBe(false);
    expect(await verifyProof(id.publicKey, sig, { ...CTX, dtls: { ...CTX.dtls, client: `sha-256 ${hex(3)}` } })).toBe(false);
    expect(await verifyProof(id.publicKey, sig, { ...CTX, dtls: { ...CTX.dtls, coordinator: `sha-256 ${hex(4)}` } })).toBe(false);
    expect(await verifyProof(id.publicKey, sig, { ...CTX, nonce: 'WllaWllaWllaWllaWllaWl' })).toBe(false);
    expect(await verifyProof(id.publicKey, sig, { ...CTX, networkId: 'net-2' })).toBe(false);
  });

  it('fails for another key, and says no (never throws) for a key or signature that is garbage', async () => {
    const id = await identityOf(await generateCoordinatorKeyPair());
    const other = await identityOf(await generateCoordinatorKeyPair());
    const sig = await signProof(other, CTX);
    expect(await verifyProof(id.publicKey, sig, CTX)).toBe(false);
    expect(await verifyProof('A'.repeat(122), sig, CTX)).toBe(false);
    expect(await verifyProof(id.publicKey, 'A'.repeat(86), CTX)).toBe(false);
    expect(await verifyProof(id.publicKey, 'not*base64', CTX)).toBe(false);
  });
});
