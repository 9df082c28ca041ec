/**
 * The protocol boundary: every frame starts as `unknown` and leaves here as a typed message or
 * as a `ProtocolError` with a reason that can be logged. Nothing here throws. [M-1]
 * Rule ids ([M-n]) refer to core/SPEC.md.
 */
import type { z } from 'zod';
import { isSafeId } from './ids.ts';
import { PROTOCOL_VERSION, fromCoordinatorSchema, toCoordinatorSchema, type FromCoordinator, type ToCoordinator } from './messages.ts';

export type ProtocolErrorKind = 'not-an-object' | 'version' | 'malformed';

export interface ProtocolError {
  readonly kind: ProtocolErrorKind;
  /** A one-line reason fit for a log. */
  readonly reason: string;
  /** The peer's version, when it spoke another one. */
  readonly peerVersion: number | null;
  /**
   * [J-1] The `ref` of a malformed `submit-job` (when it is itself a valid id), so the requester
   * can be told its submission was refused, and why, instead of waiting for an answer.
   */
  readonly submissionRef?: string;
}

export type Parsed<M> = { readonly ok: true; readonly msg: M } | { readonly ok: false; readonly error: ProtocolError };

/** [M-1] Never throws: even a frame whose properties throw when read is a `malformed` frame. */
function parseWith<M>(schema: z.ZodType<M>, raw: unknown): Parsed<M> {
  try {
    return parseUnsafe(schema, raw);
  } catch (e) {
    const why = e instanceof Error ? e.message.slice(0, 200) : 'unknown error';
    return { ok: false, error: { kind: 'malformed', reason: `frame could not be read: ${why}`, peerVersion: null } };
  }
}

function parseUnsafe<M>(schema: z.ZodType<M>, raw: unknown): Parsed<M> {
  // Raw bytes are objects to `typeof`, but never a frame.
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw) || raw instanceof ArrayBuffer || ArrayBuffer.isView(raw)) {
    return { ok: false, error: { kind: 'not-an-object', reason: `frame is ${describe(raw)}, not an object`, peerVersion: null } };
  }
  const { v, t } = raw as { v?: unknown; t?: unknown };
  if (typeof v !== 'number') {
    return { ok: false, error: { kind: 'malformed', reason: 'frame has no protocol version "v"', peerVersion: null } };
  }
  // [M-2] A refusal is readable across versions: it is how a peer learns it speaks the wrong one.
  if (v !== PROTOCOL_VERSION && t !== 'refused') {
    return {
      ok: false,
      error: {
        kind: 'version',
        reason: `peer speaks protocol v${v}; this tab speaks v${PROTOCOL_VERSION}. Reload both pages from the same server.`,
        peerVersion: v,
      },
    };
  }
  const result = schema.safeParse(raw);
  if (result.success) return { ok: true, msg: result.data };
  const issue = result.error.issues[0];
  const where = issue && issue.path.length > 0 ? ` at ${issue.path.join('.')}` : '';
  const type = typeof t === 'string' ? `"${t.slice(0, 40)}"` : 'untyped';
  const reason = `${type} frame rejected${where}: ${issue?.message ?? 'invalid'}`;
  const ref = (raw as { ref?: unknown }).ref;
  if (t === 'submit-job' && typeof ref === 'string' && isSafeId(ref)) {
    return { ok: false, error: { kind: 'malformed', reason, peerVersion: v, submissionRef: ref } };
  }
  return { ok: false, error: { kind: 'malformed', reason, peerVersion: v } };
}

function describe(raw: unknown): string {
  if (raw === null) return 'null';
  if (Array.isArray(raw)) return 'an array';
  if (raw instanceof ArrayBuffer || ArrayBuffer.isView(raw)) return `${raw.byteLength} raw bytes`;
  return `a ${typeof raw}`;
}

export const parseToCoordinator = (raw: unknown): Parsed<ToCoordinator> => parseWith(toCoordinatorSchema, raw);
export const parseFromCoordinator = (raw: unknown): Parsed<FromCoordinator> => parseWith(fromCoordinatorSchema, raw);
