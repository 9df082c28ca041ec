/**
 * [I-2] [I-3] What a volunteer signs: that it holds the key its peer id belongs to, on *this*
 * connection, and that a result is its own. Pure: the hosts do the WebCrypto
 * (host/volunteerKey.ts); this file decides what the bytes are, so both ends lay them out alike.
 *
 * Every payload is one line of ASCII JSON, an array in a fixed order whose first element is a
 * label: a signature over it means nothing anywhere else (not as a coordinator proof, not as the
 * other kind of volunteer payload), and JSON quoting leaves no two field lists the same bytes.
 */
import type { Capabilities } from './capabilities.ts';
import type { ConnectionFingerprints } from './coordinatorProof.ts';
import { PROTOCOL_VERSION } from './messages.ts';
import type { Answer } from './pipeline.ts';
import type { WireTensor } from './tensor.ts';

/** [I-2] One connection's context of a volunteer's key proof. */
export interface VolunteerProofContext {
  readonly networkId: string;
  /** The coordinator's fresh nonce for this connection (`proof.nonce`). */
  readonly nonce: string;
  /** The peer id the volunteer claims. */
  readonly peerId: string;
  /** Both ends' DTLS fingerprints, as in [K-3]: a relay in the middle sees other ones. */
  readonly dtls: ConnectionFingerprints;
}

/** [I-3] What a result signature is about: the coordinator rebuilds all of it from its own records. */
export interface ResultSubject {
  readonly networkId: string;
  readonly jobId: string;
  readonly shardId: string;
  readonly leaseId: string;
  /** Lowercase hex sha256 of `resultDigestParts` (the outputs or answers). */
  readonly outputDigest: string;
  readonly backend: string;
  /** The adapter as provenance names it (`resultAdapter`), null on WASM. */
  readonly adapter: string | null;
}

/** JSON with every character past ASCII escaped, so each character is one byte. */
function asciiJson(value: unknown): string {
  return JSON.stringify(value).replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** ASCII text as bytes (no TextEncoder here: no DOM types in protocol/). */
function asciiBytes(text: string): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) out[i] = text.charCodeAt(i);
  return out;
}

/** [I-2] The exact bytes a volunteer signs to prove its key on one connection. */
export function volunteerProofPayload(ctx: VolunteerProofContext): Uint8Array<ArrayBuffer> {
  return asciiBytes(asciiJson(['quorum-volunteer-proof', PROTOCOL_VERSION, ctx.networkId, ctx.nonce, ctx.peerId, ctx.dtls.coordinator, ctx.dtls.client]));
}

/** [I-3] The exact bytes a volunteer signs for one result. */
export function resultPayload(s: ResultSubject): Uint8Array<ArrayBuffer> {
  return asciiBytes(asciiJson(['quorum-result', PROTOCOL_VERSION, s.networkId, s.jobId, s.shardId, s.leaseId, s.outputDigest, s.backend, s.adapter]));
}

/** Object keys sorted at every level: the same answer parsed or built by hand lays out the same. */
function canonical(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonical);
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(value).sort()) {
      const v = (value as Record<string, unknown>)[k];
      if (v !== undefined) out[k] = canonical(v);
    }
    return out;
  }
  return value;
}

/**
 * [I-3] The pieces whose sha256 is a result's output digest, in order: per output tensor a header
 * line (name, dtype, dims, byte length) then its bytes; then the answers as canonical JSON. The
 * header carries the length, so no two results share the sequence.
 */
export function resultDigestParts(outputs: readonly WireTensor[], answers: readonly Answer[] | undefined): Uint8Array<ArrayBuffer>[] {
  const parts: Uint8Array<ArrayBuffer>[] = [];
  for (const t of outputs) {
    parts.push(asciiBytes(`${asciiJson(['tensor', t.name, t.dtype, t.dims, t.data.byteLength])}\n`));
    parts.push(new Uint8Array(t.data));
  }
  if (answers !== undefined) parts.push(asciiBytes(`${asciiJson(['answers', canonical(answers)])}\n`));
  return parts;
}

/** The job a shard id belongs to (`<job>/<index>`, ids.ts `shardIdOf`). */
export function jobOfShard(shardId: string): string {
  const slash = shardId.lastIndexOf('/');
  return slash < 0 ? shardId : shardId.slice(0, slash);
}

/**
 * [R-3] [I-3] How provenance names the adapter a result was computed on: "vendor architecture"
 * for a WebGPU result, null otherwise. The coordinator records it with the replica and both ends
 * sign it, so it is laid out here once.
 */
export function resultAdapter(caps: Capabilities | null, backend: string): string | null {
  if (backend !== 'webgpu' || !caps) return null;
  const a = caps.adapter;
  return a && caps.backend === 'webgpu' ? `${a.vendor} ${a.architecture}`.trim() || a.description || 'unnamed adapter' : null;
}
