import { describe, expect, it } from 'vitest';
import { PEER_BUDGETS } from '../protocol/peerBudgets.ts';
import { TokenBucket } from '../protocol/tokenBucket.ts';
import { sendQueueOverflow } from './peerGuard.ts';

describe('[B-5] the send queue', () => {
  const budgets = { ...PEER_BUDGETS, maxSendQueueBytes: 1_000, maxSendQueueFrames: 3 };

  it('[B-5] one frame of any size is queued when nothing waits', () => {
    expect(sendQueueOverflow(0, 0, 1_000_000, budgets)).toBeNull();
  });

  it('[B-5] past the bytes or the frames limit, the peer is not reading: the reason says so', () => {
    expect(sendQueueOverflow(600, 1, 400, budgets)).toBeNull();
    expect(sendQueueOverflow(600, 1, 401, budgets)).toMatch(/not reading: 600 bytes are already queued to it, and 401 more would pass the limit of 1000/);
    expect(sendQueueOverflow(10, 2, 10, budgets)).toBeNull();
    expect(sendQueueOverflow(10, 3, 10, budgets)).toMatch(/not reading: 3 frames are already queued to it \(the limit is 3\)/);
  });
});

describe('[B-1] [B-2] token buckets', () => {
  it('[B-1] holds a burst, refills at its rate, never above the burst, and a clock stepping back refills nothing', () => {
    const b = new TokenBucket(10, 5, 0);
    for (let i = 0; i < 5; i++) expect(b.take(1, 0)).toBe(true);
    expect(b.take(1, 0)).toBe(false);
    expect(b.take(1, 100)).toBe(true); // 0.1 s at 10/s: one token
    expect(b.take(1, 100)).toBe(false);
    expect(b.available(10_000)).toBe(5);
    b.take(5, 10_000);
    expect(b.available(5_000)).toBe(0);
  });
});
