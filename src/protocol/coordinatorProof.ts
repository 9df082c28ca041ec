/**
 * [K-1]…[K-5] What a coordinator signs to prove that it holds its network's key on *this*
 * connection, and how a client decides whether the key it was shown is the one it trusts. Pure:
 * the host does the WebCrypto (host/coordinatorKey.ts), this file decides what the bytes are and
 * what a verdict means.
 *
 * The proof binds four things, so that it cannot be replayed or relayed:
 * - the client's fresh nonce (another connection's proof names another nonce);
 * - the network id (a key that coordinates two networks cannot be lured from one to the other);
 * - both ends' DTLS certificate fingerprints as this connection's SDP names them: a relay in the
 *   middle terminates DTLS itself, so the fingerprints the coordinator sees on its leg are not
 *   the ones the client sees on its own, and the signature fails on the client's side;
 * - the protocol version.
 */
import { PROTOCOL_VERSION } from './messages.ts';
import { fingerprintSchema, nonceSchema } from './keySchemas.ts';

/** Whether `s` looks like a key fingerprint (a join link's `fp`, a stored pin). */
export function isKeyFingerprint(s: string): boolean {
  return fingerprintSchema.safeParse(s).success;
}

/**
 * A DTLS certificate fingerprint as an SDP's `a=fingerprint:` names it, normalised: the hash
 * function in lower case, one space, the hex pairs in upper case separated by colons
 * (`sha-256 AB:CD:…`). Both ends must write it the same way for the signature to check.
 */
export const DTLS_FINGERPRINT = /^[a-z0-9-]{1,16} [0-9A-F]{2}(:[0-9A-F]{2}){15,63}$/;

/** Normalises an `a=fingerprint:` value (`SHA-256 ab:cd…`), or null for one that is not one. */
export function normaliseDtlsFingerprint(value: string): string | null {
  const m = /^\s*([A-Za-z0-9-]{1,16})\s+([0-9A-Fa-f:]+)\s*$/.exec(value);
  if (!m) return null;
  const fp = `${m[1]!.toLowerCase()} ${m[2]!.toUpperCase()}`;
  return DTLS_FINGERPRINT.test(fp) ? fp : null;
}

/** Both ends of one connection, each by its DTLS certificate fingerprint (normalised). */
export interface ConnectionFingerprints {
  readonly coordinator: string;
  readonly client: string;
}

export interface ProofContext {
  readonly networkId: string;
  readonly nonce: string;
  readonly dtls: ConnectionFingerprints;
}

/** Why a context cannot be signed or checked (a field with a character the layout cannot hold), or null. */
export function proofContextProblem(ctx: ProofContext): string | null {
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(ctx.networkId)) return `network id "${ctx.networkId.slice(0, 70)}" is not a safe id`;
  if (!nonceSchema.safeParse(ctx.nonce).success) return 'the nonce is not 22-86 base64url characters';
  if (!DTLS_FINGERPRINT.test(ctx.dtls.coordinator)) return "the coordinator's DTLS fingerprint is not a normalised fingerprint";
  if (!DTLS_FINGERPRINT.test(ctx.dtls.client)) return "the client's DTLS fingerprint is not a normalised fingerprint";
  return null;
}

/**
 * [K-3] The exact bytes a coordinator signs: ASCII lines, a fixed label first (so the key's
 * signature over these bytes means nothing anywhere else), every field named, in a fixed order.
 * No field can hold a newline ([proofContextProblem] checks), so the layout is unambiguous.
 * Throws for a context that cannot be laid out: callers check it first.
 */
export function proofPayload(ctx: ProofContext): Uint8Array {
  const problem = proofContextProblem(ctx);
  if (problem !== null) throw new Error(`cannot lay out a coordinator proof: ${problem}`);
  const text = [
    'quorum-coordinator-proof',
    `v=${PROTOCOL_VERSION}`,
    `network=${ctx.networkId}`,
    `nonce=${ctx.nonce}`,
    `coordinator-dtls=${ctx.dtls.coordinator}`,
    `client-dtls=${ctx.dtls.client}`,
    '',
  ].join('\n');
  // Every character is ASCII (checked above): one byte each, without TextEncoder (no DOM here).
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) out[i] = text.charCodeAt(i);
  return out;
}

/** What a client knows before it sees a key: the join link's fingerprint and its stored pin. */
export interface PinState {
  /** The `fp` of the link this page was opened with, if it had one. */
  readonly linkFingerprint: string | null;
  /** The fingerprint this client pinned for the network before (its own storage), if any. */
  readonly pinnedFingerprint: string | null;
}

/** Where the expectation a key failed came from, for the warning. */
export type PinSource = 'link' | 'pin';

export type PinVerdict =
  /** The key is the expected one, or the first one seen (trust on first use): `pin` it. */
  | { readonly ok: true; readonly pin: string; readonly firstUse: boolean }
  /** Not the key this client trusts: nothing is sent, the page warns. */
  | { readonly ok: false; readonly expected: string; readonly seen: string; readonly source: PinSource };

/**
 * [K-4] Whether a key (by fingerprint) is the network's: a join link's fingerprint is the
 * expectation when there is one (the person who shared the link vouches for it, and it replaces
 * an older pin once the key proves itself); otherwise the pin; with neither, the first key seen
 * is pinned (trust on first use).
 */
export function judgePin(state: PinState, seen: string): PinVerdict {
  if (state.linkFingerprint !== null) {
    if (state.linkFingerprint === seen) return { ok: true, pin: seen, firstUse: false };
    return { ok: false, expected: state.linkFingerprint, seen, source: 'link' };
  }
  if (state.pinnedFingerprint !== null) {
    if (state.pinnedFingerprint === seen) return { ok: true, pin: seen, firstUse: false };
    return { ok: false, expected: state.pinnedFingerprint, seen, source: 'pin' };
  }
  return { ok: true, pin: seen, firstUse: true };
}

/** A coordinator whose key is not the one this client trusts, as the page shows it. */
export interface KeyAlarm {
  readonly networkId: string;
  readonly expected: string;
  readonly seen: string;
  readonly source: PinSource;
}

/** [K-4] The warning the page shows for an alarm: what happened, what was not done, what to do. */
export function keyAlarmMessage(alarm: KeyAlarm): string {
  const whose = alarm.source === 'link' ? 'the join link you opened names' : 'this browser pinned';
  return (
    `The coordinator of network "${alarm.networkId}" presented key ${alarm.seen}, but ${whose} key ${alarm.expected}. ` +
    'It may be an impostor that took the coordinator\u2019s id: nothing was sent to it, and this page keeps retrying until the ' +
    'trusted coordinator is back. Only if the coordinator\u2019s operator tells you its key changed, press "Trust the new key".'
  );
}
