/**
 * [K-7] The HTTP side of coordinator id claims (coordinatorIds.ts): a nonce to sign, and a signed
 * claim traded for a registration ticket. Each client address gets a small bucket of requests,
 * so no one address can keep the server's bounded set of outstanding nonces full.
 */
import express from 'express';
import { SIGNALING_CLAIM_PATH, SIGNALING_NONCE_PATH } from '../src/protocol/signalingClaim.ts';
import { addressKey } from './clientAddress.ts';
import type { CoordinatorIds } from './coordinatorIds.ts';
import { createTokenBucket, type TokenBucket } from './tokenBucket.ts';

/** Requests per address: a coordinator claims once per registration (every few seconds at most). */
const BURST = 20;
const PER_SECOND = 1;
/** Addresses remembered at once; beyond it the full buckets (idle addresses) are forgotten. */
const MAX_ADDRESSES = 10_000;

export function coordinatorIdRoutes(ids: CoordinatorIds, now: () => number = Date.now): express.Router {
  const buckets = new Map<string, TokenBucket>();
  const allowed = (req: express.Request): boolean => {
    const key = addressKey(req.socket.remoteAddress);
    let bucket = buckets.get(key);
    if (!bucket) {
      if (buckets.size >= MAX_ADDRESSES) for (const [k, b] of buckets) if (b.full()) buckets.delete(k);
      bucket = createTokenBucket(BURST, PER_SECOND, now);
      buckets.set(key, bucket);
    }
    return bucket.take(1);
  };
  const text = (res: express.Response, status: number, body: string): void => {
    res.status(status).type('text/plain').setHeader('Cache-Control', 'no-store').send(body);
  };

  const router = express.Router();
  router.get(SIGNALING_NONCE_PATH, (req, res) => {
    if (!allowed(req)) return text(res, 429, 'too many claims from your address; try again shortly');
    const id = typeof req.query['id'] === 'string' ? req.query['id'] : '';
    const answer = ids.nonce(id);
    if ('nonce' in answer) text(res, 200, answer.nonce);
    else text(res, answer.status, answer.reason);
  });
  router.post(SIGNALING_CLAIM_PATH, express.json({ limit: '4kb' }), (req, res, next) => {
    if (!allowed(req)) return text(res, 429, 'too many claims from your address; try again shortly');
    ids.claim(req.body as unknown).then((answer) => (answer.ok ? text(res, 200, answer.ticket) : text(res, answer.status, answer.reason)), next);
  });
  // A body that is not JSON (or too large) is the client's mistake: say so, as text.
  router.use(SIGNALING_CLAIM_PATH, (err: unknown, _req: express.Request, res: express.Response, next: express.NextFunction) => {
    if (err && typeof err === 'object' && 'status' in err && typeof err.status === 'number' && err.status < 500) {
      return text(res, err.status, 'a claim is JSON {id, nonce, publicKey, signature}, at most 4 KiB');
    }
    next(err);
  });
  return router;
}
