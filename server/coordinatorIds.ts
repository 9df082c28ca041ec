/**
 * [K-7] Coordinator ids reserved for the holder of the network's key. A network's coordinator
 * registers `quorum-<network>`; without this, any page could take that id while the real
 * coordinator was away and keep it (clients refuse such an impostor [K-4], but it denies service).
 *
 * The flow (paths in src/protocol/signalingClaim.ts):
 *   1. GET  nonce?id=quorum-<network>     a fresh 128-bit nonce for that id, single use, 30 s;
 *   2. POST claim {id, nonce, publicKey, signature}   the key signs the nonce; the server answers a
 *      ticket if the key's fingerprint is the one it reserved the id for, reserving it for this
 *      key when the id has none yet (first seen) — or 403 naming the reason;
 *   3. the coordinator registers the id with the ticket as peerjs' `token`.
 * Registering a reserved id without a live ticket for it is refused (`admit`). An id with no
 * reservation registers as before, so a network whose coordinator never claims works unchanged.
 *
 * Reservations come from the operator (`QUORUM_COORDINATOR_KEYS`, never forgotten) or are the
 * first key seen. A first-seen reservation is kept while its id is registered and for `idleMs`
 * after it left (a reload, a restart, a tab closed for lunch), then forgotten, so an id claimed
 * once and abandoned does not stay squatted; the operator can also release one at once
 * (`POST /admin/signaling/release?id=…`, for a network whose key was lost; without `id`, all). Tickets stay valid
 * for their id the same way (peerjs re-registers with the same token after a lost connection).
 * All of it lives in this server process's memory, across signaling restarts; a process restart
 * forgets what was first seen, and the first claim after it reserves the id again — which is why
 * a network that must never lose its id configures its key.
 */
import { webcrypto } from 'node:crypto';
import { isKeyFingerprint } from '../src/protocol/coordinatorProof.ts';
import { isSafeId } from '../src/protocol/ids.ts';
import { COORDINATOR_ID_PREFIX, signalingClaimPayload } from '../src/protocol/signalingClaim.ts';
import { keyFingerprint, toBase64Url, verifyBytes } from '../src/host/coordinatorKey.ts';
import { ConfigError } from './config.ts';

export interface CoordinatorIdLimits {
  /** How long a nonce may be signed and traded (an honest coordinator takes milliseconds). */
  readonly nonceTtlMs: number;
  /** Nonces outstanding at once, on the whole server: a flood of nonce requests costs bounded memory. */
  readonly maxNonces: number;
  /** First-seen reservations at once (as many as the server has ids, SIGNALING_LIMITS.maxClients). */
  readonly maxReservations: number;
  /** A first-seen reservation, and a ticket, unused this long after its id left is forgotten. */
  readonly idleMs: number;
}

export const COORDINATOR_ID_LIMITS: CoordinatorIdLimits = Object.freeze({
  nonceTtlMs: 30_000,
  maxNonces: 4_096,
  maxReservations: 5_000,
  idleMs: 60 * 60 * 1000,
});

export type ClaimAnswer = { readonly ok: true; readonly ticket: string } | { readonly ok: false; readonly status: number; readonly reason: string };

export interface CoordinatorIds {
  /** A nonce to sign for `id`, or the reason none is given (not a coordinator id; too many outstanding). */
  nonce(id: string): { readonly nonce: string } | { readonly status: number; readonly reason: string };
  /** Checks a signed claim (JSON already parsed, nothing about it trusted). */
  claim(body: unknown): Promise<ClaimAnswer>;
  /** At registration: null when `id` may be registered with `token`, or the reason it may not. */
  admit(id: string, token: string | null): string | null;
  /**
   * [K-8] Whether `token` is a live ticket for coordinator id `id`: the registration is the key
   * holder's, and so may have the coordinator's signaling budget.
   */
  ticketed(id: string, token: string | null): boolean;
  /** The fingerprint `id` is reserved for, if any (for tests and logs). */
  reservedFor(id: string): string | null;
  /** peer's 'connection' and 'disconnect': a reservation does not lapse while its id is registered. */
  registered(id: string): void;
  left(id: string): void;
  /**
   * The operator forgets the first-seen reservation of `id` (null: of every id) and its tickets;
   * how many were forgotten. Configured reservations stay: they are configuration.
   */
  release(id: string | null): number;
}

/** `QUORUM_COORDINATOR_KEYS`: `network=fingerprint` pairs, comma-separated. Throws naming a bad entry. */
export function parseCoordinatorKeys(raw: string | undefined): Map<string, string> {
  const out = new Map<string, string>();
  if (raw === undefined || raw.trim() === '') return out;
  for (const entry of raw.split(',')) {
    const [network, fingerprint, ...rest] = entry.trim().split('=');
    const id = `${COORDINATOR_ID_PREFIX}${network ?? ''}`;
    if (rest.length > 0 || network === undefined || network === '' || !isSafeId(id) || fingerprint === undefined || !isKeyFingerprint(fingerprint)) {
      throw new ConfigError(
        `QUORUM_COORDINATOR_KEYS: "${entry.trim().slice(0, 120)}" is not network=fingerprint (the 43-character key fingerprint the coordinator page shows)`,
      );
    }
    out.set(id, fingerprint);
  }
  return out;
}

/** Live tickets per id: one per registration in flight is plenty. */
const TICKETS_PER_ID = 4;

const isCoordinatorId = (id: string): boolean => id.startsWith(COORDINATOR_ID_PREFIX) && id.length > COORDINATOR_ID_PREFIX.length && isSafeId(id);

/** 128 random bits, base64url: within the id grammar, so a ticket passes as a peerjs token. */
function randomToken(): string {
  return toBase64Url(webcrypto.getRandomValues(new Uint8Array(16)));
}

export function createCoordinatorIds(
  configured: ReadonlyMap<string, string> = new Map(),
  limits: CoordinatorIdLimits = COORDINATOR_ID_LIMITS,
  now: () => number = Date.now,
): CoordinatorIds {
  const nonces = new Map<string, { id: string; expiresAt: number }>();
  const firstSeen = new Map<string, { fingerprint: string; lastUsed: number }>();
  const tickets = new Map<string, { id: string; lastUsed: number }>();
  /** Coordinator ids registered right now: their reservations and tickets do not lapse. */
  const live = new Set<string>();

  const sweep = (): void => {
    const t = now();
    for (const [n, v] of nonces) if (v.expiresAt <= t) nonces.delete(n);
    for (const [id, v] of firstSeen) if (!live.has(id) && t - v.lastUsed > limits.idleMs) firstSeen.delete(id);
    for (const [k, v] of tickets) if (!live.has(v.id) && t - v.lastUsed > limits.idleMs) tickets.delete(k);
  };
  /** The id is in use now: its reservation's and tickets' idle time starts again. */
  const touch = (id: string): void => {
    const t = now();
    const seen = firstSeen.get(id);
    if (seen) seen.lastUsed = t;
    for (const v of tickets.values()) if (v.id === id) v.lastUsed = t;
  };

  const reservedFor = (id: string): string | null => configured.get(id) ?? firstSeen.get(id)?.fingerprint ?? null;
  const refuse = (status: number, reason: string): ClaimAnswer => ({ ok: false, status, reason });

  return {
    nonce(id) {
      if (!isCoordinatorId(id)) return { status: 400, reason: `only coordinator ids (${COORDINATOR_ID_PREFIX}<network>) are claimed` };
      sweep();
      if (nonces.size >= limits.maxNonces) return { status: 429, reason: 'too many claims in progress; try again shortly' };
      const nonce = randomToken();
      nonces.set(nonce, { id, expiresAt: now() + limits.nonceTtlMs });
      return { nonce };
    },

    async claim(body) {
      const b = typeof body === 'object' && body !== null && !Array.isArray(body) ? (body as Record<string, unknown>) : {};
      const { id, nonce, publicKey, signature } = b;
      if (typeof id !== 'string' || typeof nonce !== 'string' || typeof publicKey !== 'string' || typeof signature !== 'string') {
        return refuse(400, 'a claim is JSON {id, nonce, publicKey, signature}, all strings');
      }
      if (!isCoordinatorId(id) || publicKey.length > 512 || signature.length > 256) return refuse(400, 'malformed claim');
      sweep();
      const issued = nonces.get(nonce);
      // Single use: a nonce is gone once a claim names it, whatever the claim's fate.
      nonces.delete(nonce);
      if (!issued || issued.id !== id) return refuse(403, 'unknown or expired nonce: ask for a fresh one');
      if (!(await verifyBytes(publicKey, signature, signalingClaimPayload(id, nonce)))) return refuse(403, 'the signature does not verify with this key');
      const fingerprint = await keyFingerprint(publicKey);
      const reserved = reservedFor(id);
      if (reserved !== null && reserved !== fingerprint) {
        return refuse(403, `${id} is reserved for the key ${reserved}; this key is ${fingerprint}`);
      }
      if (reserved === null) {
        if (firstSeen.size >= limits.maxReservations) return refuse(429, 'too many reserved coordinator ids on this server; try again later');
        firstSeen.set(id, { fingerprint, lastUsed: now() });
      } else {
        const seen = firstSeen.get(id);
        if (seen) seen.lastUsed = now();
      }
      // A few tickets per id (two tabs of one profile may both claim); the oldest make way.
      const mine = [...tickets].filter(([, v]) => v.id === id).sort((a, b) => a[1].lastUsed - b[1].lastUsed);
      for (const [k] of mine.slice(0, Math.max(0, mine.length - (TICKETS_PER_ID - 1)))) tickets.delete(k);
      const ticket = randomToken();
      tickets.set(ticket, { id, lastUsed: now() });
      return { ok: true, ticket };
    },

    admit(id, token) {
      if (!isCoordinatorId(id)) return null;
      const reserved = reservedFor(id);
      if (reserved === null) return null;
      sweep();
      const ticket = token === null ? undefined : tickets.get(token);
      if (!ticket || ticket.id !== id) {
        return `${id} is reserved for the holder of its network's key: only that coordinator may register it`;
      }
      touch(id);
      return null;
    },

    ticketed(id, token) {
      if (token === null || !isCoordinatorId(id)) return false;
      sweep();
      return tickets.get(token)?.id === id;
    },

    reservedFor,

    registered(id) {
      if (isCoordinatorId(id)) live.add(id);
    },
    left(id) {
      if (!live.delete(id)) return;
      touch(id);
    },

    release(id) {
      const ids = id === null ? [...firstSeen.keys()] : [id];
      let released = 0;
      for (const one of ids) if (firstSeen.delete(one)) released++;
      for (const [k, v] of tickets) if ((id === null || v.id === id) && !configured.has(v.id)) tickets.delete(k);
      return released;
    },
  };
}
