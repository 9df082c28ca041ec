/**
 * `quorum submit`'s progress line: a bar, then shards verified / in flight / pending, items/s and
 * time left (the dashboard's figures: src/model/jobRates.ts, src/core/format.ts). Pure: the status and rate come in.
 */
import { formatDuration } from '../../src/core/format.ts';
import type { JobStatus } from '../../src/protocol/messages.ts';
import type { JobRate } from '../../src/model/requesterView.ts';

const BAR_WIDTH = 20;

export function progressLine(job: JobStatus, rate: JobRate | null): string {
  const share = job.shards === 0 ? 0 : job.verified / job.shards;
  const filled = Math.min(BAR_WIDTH, Math.floor(share * BAR_WIDTH));
  const bar = `[${'#'.repeat(filled)}${'.'.repeat(BAR_WIDTH - filled)}]`;
  const parts = [`${bar} ${job.verified}/${job.shards} shards verified`, `${job.inFlight} in flight`, `${job.pending} pending`];
  if (job.unverifiable > 0) parts.push(`${job.unverifiable} unverifiable`);
  const perSec = rate?.itemsPerSec;
  parts.push(perSec === null || perSec === undefined ? '– items/s' : `${perSec.toFixed(perSec < 10 ? 1 : 0)} items/s`);
  if (job.done) parts.push('done');
  else parts.push(rate?.etaMs === null || rate?.etaMs === undefined ? 'ETA –' : `ETA ${formatDuration(rate.etaMs)}`);
  return parts.join(' · ');
}
