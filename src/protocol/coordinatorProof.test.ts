import { describe, expect, it } from 'vitest';
import { judgePin, keyAlarmMessage, normaliseDtlsFingerprint, proofContextProblem, proofPayload, type ProofContext } from './coordinatorProof.ts';
import { PROTOCOL_VERSION } from './messages.ts';

const hex = (b: number): string => Array.from({ length: 32 }, (_, i) => ((b + i) & 0xff).toString(16).toUpperCase().padStart(2, '0')).join(':');
const CTX: ProofContext = { networkId: 'net-1', nonce: 'n'.repeat(22), dtls: { coordinator: `sha-256 ${hex(1)}`, client: `sha-256 ${hex(2)}` } };
const ascii = (b: Uint8Array): string => String.fromCharCode(...b);

describe('[K-3] the proof payload', () => {
  it('is a fixed label and every field by name, one per line, in a fixed order', () => {
    expect(ascii(proofPayload(CTX))).toBe(
      `quorum-coordinator-proof\nv=${PROTOCOL_VERSION}\nnetwork=net-1\nnonce=${'n'.repeat(22)}\ncoordinator-dtls=sha-256 ${hex(1)}\nclient-dtls=sha-256 ${hex(2)}\n`,
    );
  });

  it('differs whenever any bound field differs, including the two ends swapped', () => {
    const base = ascii(proofPayload(CTX));
    const variants: ProofContext[] = [
      { ...CTX, networkId: 'net-2' },
      { ...CTX, nonce: 'm'.repeat(22) },
      { ...CTX, dtls: { coordinator: CTX.dtls.client, client: CTX.dtls.coordinator } },
      { ...CTX, dtls: { ...CTX.dtls, client: `sha-256 ${hex(3)}` } },
    ];
    for (const v of variants) expect(ascii(proofPayload(v))).not.toBe(base);
  });

  it('refuses a field that could smuggle a line (or is not what its name says) instead of signing it', () => {
    expect(proofContextProblem({ ...CTX, networkId: 'net\nnonce=x' })).toMatch(/not a safe id/);
    expect(proofContextProblem({ ...CTX, nonce: 'short' })).toMatch(/nonce/);
    expect(proofContextProblem({ ...CTX, dtls: { ...CTX.dtls, client: 'sha-256 AB\nx' } })).toMatch(/client's DTLS/);
    expect(() => proofPayload({ ...CTX, nonce: 'a b'.repeat(10) })).toThrow(/cannot lay out/);
  });

  it('normalises an SDP fingerprint value, and rejects what is not one', () => {
    expect(normaliseDtlsFingerprint(`SHA-256 ${hex(1).toLowerCase()}`)).toBe(`sha-256 ${hex(1)}`);
    expect(normaliseDtlsFingerprint('sha-256 AB:CD')).toBeNull();
    expect(normaliseDtlsFingerprint('sha-256')).toBeNull();
  });
});

describe('[K-4] which key a client trusts', () => {
  const A = 'a'.repeat(43);
  const B = 'b'.repeat(43);

  it('trusts and pins the first key it sees when it has neither a link fingerprint nor a pin', () => {
    expect(judgePin({ linkFingerprint: null, pinnedFingerprint: null }, A)).toEqual({ ok: true, pin: A, firstUse: true });
  });

  it('trusts only the pinned key; another one is a mismatch against the pin', () => {
    expect(judgePin({ linkFingerprint: null, pinnedFingerprint: A }, A)).toEqual({ ok: true, pin: A, firstUse: false });
    expect(judgePin({ linkFingerprint: null, pinnedFingerprint: A }, B)).toEqual({ ok: false, expected: A, seen: B, source: 'pin' });
  });

  it("a join link's fingerprint is the expectation even over an older pin, and replaces it once it matches", () => {
    expect(judgePin({ linkFingerprint: B, pinnedFingerprint: A }, B)).toEqual({ ok: true, pin: B, firstUse: false });
    expect(judgePin({ linkFingerprint: B, pinnedFingerprint: null }, A)).toEqual({ ok: false, expected: B, seen: A, source: 'link' });
    expect(judgePin({ linkFingerprint: B, pinnedFingerprint: A }, A)).toEqual({ ok: false, expected: B, seen: A, source: 'link' });
  });

  it('the warning names both keys, says nothing was sent and what to do', () => {
    const text = keyAlarmMessage({ networkId: 'net-1', expected: A, seen: B, source: 'pin' });
    expect(text).toContain(A);
    expect(text).toContain(B);
    expect(text).toMatch(/nothing was sent/);
    expect(text).toMatch(/Trust the new key/);
  });
});
