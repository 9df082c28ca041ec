/**
 * [E-4] The app server's presence endpoint: `GET /presence?id=<coordinator id>` answers whether
 * that id is registered with the signaling server right now, so a client dials only a coordinator
 * that is there. It answers only for coordinator ids (`quorum-<network>`): it says which networks
 * have a coordinator online, and nothing about any volunteer's, requester's or observer's id.
 */
import { z } from 'zod';
import { isSafeId } from './ids.ts';

export const PRESENCE_PATH = '/presence';

/** The coordinator of network N registers as `quorum-N` (host/networkId.ts); only those are answered. */
const COORDINATOR_ID = /^quorum-[A-Za-z0-9_-]{1,40}$/;

export function isCoordinatorId(id: string): boolean {
  return isSafeId(id) && COORDINATOR_ID.test(id);
}

/** The body of a 200 answer. */
export const presenceReplySchema = z.object({ id: z.string(), present: z.boolean() }).strict();
export type PresenceReply = z.infer<typeof presenceReplySchema>;

/** What a client learns from one answer. */
export type Presence =
  | { readonly kind: 'present' }
  | { readonly kind: 'absent' }
  /** Ask again later, no sooner than `retryAfterMs` (the server is rate-limiting this address). */
  | { readonly kind: 'slow-down'; readonly retryAfterMs: number }
  /** No usable answer (no such endpoint, a proxy's error page, a network error): dial as before. */
  | { readonly kind: 'unknown'; readonly reason: string };

/**
 * Reads one HTTP answer from the presence endpoint, whose every byte is untrusted: `status`, the
 * parsed JSON body (`undefined` when it was not JSON), the `Retry-After` header.
 */
export function readPresence(id: string, status: number, body: unknown, retryAfter: string | null): Presence {
  if (status === 429) {
    const seconds = retryAfter !== null && /^\d{1,4}$/.test(retryAfter) ? Number(retryAfter) : 1;
    return { kind: 'slow-down', retryAfterMs: Math.max(1, seconds) * 1000 };
  }
  if (status !== 200) return { kind: 'unknown', reason: `the presence endpoint answered HTTP ${status}` };
  const parsed = presenceReplySchema.safeParse(body);
  if (!parsed.success || parsed.data.id !== id) return { kind: 'unknown', reason: 'the presence endpoint sent an answer that is not about this coordinator' };
  return { kind: parsed.data.present ? 'present' : 'absent' };
}
