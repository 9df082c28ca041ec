/**
 * Throughput and time left for a job, from the progress reports the requester receives. Pure: the
 * host keeps the samples and passes the time in.
 */
import type { JobStatus } from '../protocol/messages.ts';
import type { JobRate } from './requesterView.ts';

export interface RateSample {
  readonly atMs: number;
  /** Items in verified or unverifiable shards (finished either way). */
  readonly finishedItems: number;
}

/** Rates are measured over this window, so they follow changes (a volunteer joins or leaves). */
export const RATE_WINDOW_MS = 15_000;

/** Items in finished shards; shards are equal-sized except the last, so this is an estimate. */
export function finishedItems(job: JobStatus): number {
  if (job.shards === 0) return 0;
  return Math.round(((job.verified + job.unverifiable) * job.items) / job.shards);
}

/** Adds a sample and drops those older than the window (keeping one before it as the baseline). */
export function addSample(samples: readonly RateSample[], sample: RateSample, windowMs = RATE_WINDOW_MS): RateSample[] {
  const next = [...samples.filter((s) => s.atMs < sample.atMs), sample];
  let firstInWindow = next.findIndex((s) => s.atMs >= sample.atMs - windowMs);
  if (firstInWindow > 0) firstInWindow--; // one older sample anchors the window's start
  return next.slice(Math.max(0, firstInWindow));
}

export function rateOf(samples: readonly RateSample[], job: JobStatus): JobRate {
  if (job.done) return { itemsPerSec: rateBetween(samples), etaMs: 0 };
  const perSec = rateBetween(samples);
  if (perSec === null || perSec <= 0) return { itemsPerSec: perSec, etaMs: null };
  const left = job.items - finishedItems(job);
  return { itemsPerSec: perSec, etaMs: (left / perSec) * 1000 };
}

function rateBetween(samples: readonly RateSample[]): number | null {
  const first = samples[0];
  const last = samples[samples.length - 1];
  if (!first || !last || last.atMs - first.atMs < 500) return null;
  return ((last.finishedItems - first.finishedItems) * 1000) / (last.atMs - first.atMs);
}
