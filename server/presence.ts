/**
 * [E-4] GET /presence?id=quorum-<network>: whether that coordinator id is registered with the
 * signaling server right now. A browser spends one of its page's 500 RTCPeerConnections on every
 * dial, failed ones too (peerjs builds the connection before signaling says the peer is absent),
 * so clients ask here first and wait while the coordinator is away.
 *
 * Not an id-enumeration oracle: only the protocol's id grammar and only coordinator ids are
 * answered (400 otherwise), so it tells no more than "network X has a coordinator online", which
 * anyone may learn by dialing `quorum-X`. Answers are rate-limited per client address (an IPv6
 * /64 counts as one) like the rest of the signaling guard, with 429 and Retry-After.
 */
import { addressKey } from './clientAddress.ts';
import type { SignalingLimits } from './config.ts';
import { pathnameOf, sendJson, type Middleware } from './middleware.ts';
import { createTokenBucket, type TokenBucket } from './tokenBucket.ts';
import { isCoordinatorId, PRESENCE_PATH, type PresenceReply } from '../src/protocol/presence.ts';

export interface PresenceOptions {
  /** Whether `id` is registered with the current signaling instance (false while signaling is stopped). */
  registered(id: string): boolean;
  limits: Pick<SignalingLimits, 'presenceBurst' | 'presencePerMinute'>;
  now?: () => number;
}

/** Addresses whose buckets are full are forgotten every this many requests, so one-off clients do not pile up. */
const SWEEP_EVERY = 1000;

export function presenceMiddleware(options: PresenceOptions): Middleware {
  const now = options.now ?? Date.now;
  const { presenceBurst, presencePerMinute } = options.limits;
  const buckets = new Map<string, TokenBucket>();
  let sinceSweep = 0;
  return (req, res, next) => {
    if (pathnameOf(req.url) !== PRESENCE_PATH) return next();
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('Allow', 'GET, HEAD');
      return sendJson(res, 405, { error: 'use GET /presence?id=quorum-<network>' });
    }
    if (++sinceSweep >= SWEEP_EVERY) {
      sinceSweep = 0;
      for (const [key, b] of buckets) if (b.full()) buckets.delete(key);
    }
    const key = addressKey(req.socket.remoteAddress);
    let bucket = buckets.get(key);
    if (!bucket) {
      bucket = createTokenBucket(presenceBurst, presencePerMinute / 60, now);
      buckets.set(key, bucket);
    }
    if (!bucket.take(1)) {
      const retryS = Math.max(1, Math.ceil(60 / presencePerMinute));
      res.setHeader('Retry-After', String(retryS));
      return sendJson(res, 429, { error: `too many presence checks from your address (over ${presencePerMinute}/min); try again in ${retryS} s` }, req.method);
    }
    const id = new URL(req.url ?? '', 'http://presence').searchParams.get('id') ?? '';
    if (!isCoordinatorId(id)) {
      return sendJson(res, 400, { error: 'id must be a coordinator id: quorum-<network>, the network name 1-40 letters, digits, - or _' }, req.method);
    }
    const reply: PresenceReply = { id, present: options.registered(id) };
    sendJson(res, 200, reply, req.method);
  };
}
