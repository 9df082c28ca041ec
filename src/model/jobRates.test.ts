import { describe, expect, it } from 'vitest';
import { asJobId } from '../protocol/ids.ts';
import type { JobStatus } from '../protocol/messages.ts';
import { addSample, finishedItems, rateOf, type RateSample } from './jobRates.ts';

const job = (verified: number, over: Partial<JobStatus> = {}): JobStatus => ({
  jobId: asJobId('j'),
  name: 'j',
  createdAtMs: 0,
  items: 1000,
  shards: 10,
  verified,
  inFlight: 0,
  pending: 10 - verified,
  unverifiable: 0,
  disagreements: 0,
  done: verified === 10,
  ...over,
});

describe('job rates', () => {
  it('finished items count verified and unverifiable shards', () => {
    expect(finishedItems(job(3, { unverifiable: 1 }))).toBe(400);
    expect(finishedItems(job(0, { shards: 0, items: 0 }))).toBe(0);
  });
  it('items per second and time left over the window', () => {
    let s: RateSample[] = [];
    s = addSample(s, { atMs: 0, finishedItems: 0 });
    expect(rateOf(s, job(0))).toEqual({ itemsPerSec: null, etaMs: null });
    s = addSample(s, { atMs: 2000, finishedItems: 200 });
    expect(rateOf(s, job(2))).toEqual({ itemsPerSec: 100, etaMs: 8000 });
  });
  it('the window forgets old samples but keeps one anchor before it', () => {
    let s: RateSample[] = [];
    for (let t = 0; t <= 60_000; t += 1000) s = addSample(s, { atMs: t, finishedItems: t < 30_000 ? t / 10 : 3000 + (t - 30_000) / 100 }, 10_000);
    expect(s[0]!.atMs).toBe(49_000);
    expect(rateOf(s, job(5)).itemsPerSec).toBeCloseTo(10, 6);
  });
  it('a stalled job has no ETA; a done job has ETA 0', () => {
    const s = [
      { atMs: 0, finishedItems: 100 },
      { atMs: 5000, finishedItems: 100 },
    ];
    expect(rateOf(s, job(1)).etaMs).toBeNull();
    expect(rateOf(s, job(10)).etaMs).toBe(0);
  });
});
