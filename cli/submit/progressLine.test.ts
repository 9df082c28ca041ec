import { describe, expect, it } from 'vitest';
import type { JobStatus } from '../../src/protocol/messages.ts';
import { progressLine } from './progressLine.ts';

const job = (delta: Partial<JobStatus>): JobStatus => ({
  jobId: 'j1' as JobStatus['jobId'],
  name: 'MNIST 2000 digits',
  createdAtMs: 0,
  items: 2000,
  shards: 20,
  verified: 5,
  inFlight: 4,
  pending: 11,
  unverifiable: 0,
  disagreements: 0,
  done: false,
  ...delta,
});

describe("quorum submit's progress line", () => {
  it('shows a bar, verified / in flight / pending shards, items/s and the time left', () => {
    expect(progressLine(job({}), { itemsPerSec: 250, etaMs: 6_000 })).toBe(
      '[#####...............] 5/20 shards verified · 4 in flight · 11 pending · 250 items/s · ETA 6.0 s',
    );
  });

  it('says what is not known yet, unverifiable shards, and done', () => {
    expect(progressLine(job({ verified: 0 }), null)).toBe('[....................] 0/20 shards verified · 4 in flight · 11 pending · – items/s · ETA –');
    expect(progressLine(job({ verified: 19, unverifiable: 1, inFlight: 0, pending: 0, done: true }), { itemsPerSec: 7.25, etaMs: 0 })).toBe(
      '[###################.] 19/20 shards verified · 0 in flight · 0 pending · 1 unverifiable · 7.3 items/s · done',
    );
  });
});
