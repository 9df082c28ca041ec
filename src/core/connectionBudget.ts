/**
 * [E-1]…[E-4] A browser page's budget of RTCPeerConnections, and when a client waits instead of
 * spending one. Chromium lets a page construct 500 RTCPeerConnections in its life, closed ones
 * included, and a reload does not give them back (same renderer process); the 501st construction
 * throws "Cannot create so many PeerConnections". Every dial costs one, a failed dial too, so the
 * shell counts them ([E-2]), warns the operator early ([E-3]) and dials only a coordinator that
 * the signaling server says is there ([E-4]). Pure: the shell brings the counts and the clock.
 */

/** Chromium's lifetime limit per page (measured on Chromium 156: the 501st construction throws). */
export const PAGE_PEER_CONNECTION_BUDGET = 500;

/** [E-3] The share of the budget at which the coordinator page starts warning. */
export const BUDGET_WARN_SHARE = 0.8;

export type BudgetLevel = 'ok' | 'warn' | 'spent';

export interface BudgetStatus {
  /** RTCPeerConnections this page has constructed. */
  readonly used: number;
  readonly limit: number;
  /** Constructions left before the browser refuses (never negative). */
  readonly left: number;
  readonly level: BudgetLevel;
}

/**
 * [E-3] Where a page stands: `warn` from ⌊80 % of the limit⌋ constructions on (400 of 500), so a
 * coordinator has a hundred connections left to move to a fresh window; `spent` once none is left.
 */
export function budgetStatus(used: number, limit: number): BudgetStatus {
  const safeUsed = Math.max(0, Math.floor(used));
  const safeLimit = Math.max(0, Math.floor(limit));
  const left = Math.max(0, safeLimit - safeUsed);
  const warnAt = Math.floor(safeLimit * BUDGET_WARN_SHARE);
  const level: BudgetLevel = left === 0 ? 'spent' : safeUsed >= warnAt ? 'warn' : 'ok';
  return { used: safeUsed, limit: safeLimit, left, level };
}

/**
 * [E-2] The count a page kept in its tab's storage: a whole number ≥ 0, or 0 for anything else
 * (nothing stored, or a value someone edited into nonsense: counting from 0 again is all we can do).
 */
export function parseStoredCount(raw: string | null): number {
  if (raw === null || !/^\d{1,9}$/.test(raw)) return 0;
  return Number(raw);
}

/**
 * [E-1] A lowered limit (test builds only) as stored: a whole number 1…PAGE_PEER_CONNECTION_BUDGET,
 * or null (no override, or an unusable one: the real limit then applies). A limit can only be
 * lowered, never raised past what the browser allows.
 */
export function parseLimitOverride(raw: string | null): number | null {
  if (raw === null || !/^\d{1,9}$/.test(raw)) return null;
  const n = Number(raw);
  return n >= 1 && n <= PAGE_PEER_CONNECTION_BUDGET ? n : null;
}

/** [E-4] How long a client waits before asking again whether its coordinator is there. */
const PRESENCE_WAIT_MS = [1_000, 2_000, 4_000, 8_000] as const;
/** [E-4] The longest wait: a returning coordinator is dialed at most this long after it registers. */
export const PRESENCE_MAX_WAIT_MS = 10_000;

/**
 * [E-4] The wait after the `checks`-th answer in a row (0-based) that the coordinator is absent:
 * 1 s, 2 s, 4 s, 8 s, then 10 s for as long as it stays away. Asking costs one small HTTP request
 * and no RTCPeerConnection, so a tab may wait like this for days. A server that asked us to slow
 * down (`retryAfterMs`, from a 429) is obeyed when it asks for longer.
 */
export function presenceWaitMs(checks: number, retryAfterMs = 0): number {
  const scheduled = PRESENCE_WAIT_MS[Math.max(0, Math.floor(checks))] ?? PRESENCE_MAX_WAIT_MS;
  return Math.max(scheduled, Math.min(Math.max(0, retryAfterMs), 60_000));
}
