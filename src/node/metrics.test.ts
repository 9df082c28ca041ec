/** [N-4] /metrics text: every family parses back, counts add up, labels are escaped. */
import { describe, expect, it } from 'vitest';
import type { JobStatus, PeerSummary } from '../protocol/messages.ts';
import { asJobId, asPeerId } from '../protocol/ids.ts';
import { parseMetrics, RateMeter, RATE_WINDOW_MS, renderMetrics, type MetricsSnapshot } from './metrics.ts';

const peer = (id: string, role: PeerSummary['role'], backend: PeerSummary['backend'], over: Partial<PeerSummary> = {}): PeerSummary => ({
  peerId: asPeerId(id),
  role,
  label: id,
  backend,
  adapter: null,
  shardsDone: 0,
  activeLeases: 0,
  connectedAtMs: 0,
  ...over,
});
const job = (id: string, over: Partial<JobStatus>): JobStatus => ({
  jobId: asJobId(id),
  name: id,
  createdAtMs: 0,
  items: 10,
  shards: 5,
  verified: 0,
  inFlight: 0,
  pending: 0,
  unverifiable: 0,
  disagreements: 0,
  done: false,
  ...over,
});
const snapshot = (over: Partial<MetricsSnapshot> = {}): MetricsSnapshot => ({
  peers: [],
  activeLeases: 0,
  jobs: [],
  totals: { results: 0, canaryLeases: 0, canaryResults: 0, spotChecks: 0, loneAccepted: 0, reopened: 0, quarantined: 0 },
  storageFailure: null,
  pendingWrites: 0,
  resultsPerSecond: 0,
  ...over,
});

describe('[N-4] Prometheus metrics', () => {
  it('counts peers by role and backend, shards, disagreements, quarantines, results and storage', () => {
    const text = renderMetrics(
      snapshot({
        peers: [
          peer('v1', 'volunteer', 'webgpu'),
          peer('v2', 'volunteer', 'wasm'),
          peer('v3', 'volunteer', 'wasm', { quarantined: true }),
          peer('r1', 'requester', null),
        ],
        activeLeases: 3,
        jobs: [job('j1', { verified: 5, done: true, disagreements: 2 }), job('j2', { verified: 1, unverifiable: 1, disagreements: 1 })],
        totals: { results: 17, canaryLeases: 0, canaryResults: 0, spotChecks: 0, loneAccepted: 0, reopened: 0, quarantined: 1 },
        storageFailure: 'disk full',
        pendingWrites: 4,
        resultsPerSecond: 2.5,
      }),
    );
    const m = parseMetrics(text);
    expect(Object.fromEntries(m)).toEqual({
      'quorum_peers{role="volunteer",backend="webgpu"}': 1,
      'quorum_peers{role="volunteer",backend="wasm"}': 2,
      'quorum_peers{role="requester",backend="none"}': 1,
      quorum_leases_out: 3,
      'quorum_jobs{state="running"}': 1,
      'quorum_jobs{state="done"}': 1,
      quorum_shards: 10,
      quorum_shards_verified: 6,
      quorum_shards_unverifiable: 1,
      quorum_disagreements: 3,
      quorum_quarantines_total: 1,
      quorum_peers_quarantined: 1,
      quorum_results_total: 17,
      quorum_results_per_second: 2.5,
      quorum_storage_failing: 1,
      quorum_storage_pending_writes: 4,
    });
    // Every family says what it is.
    expect(text).toContain('# TYPE quorum_results_total counter\n');
    expect(text).toContain('# TYPE quorum_leases_out gauge\n');
    expect(text.endsWith('\n')).toBe(true);
  });

  it('parses no line it does not understand', () => {
    expect(() => parseMetrics('quorum_x 1\nnot a sample\n')).toThrow(/not a Prometheus sample line: not a sample/);
  });

  it('results per second over the recent window', () => {
    const meter = new RateMeter();
    expect(meter.sample(0, 0)).toBe(0);
    expect(meter.sample(1000, 10)).toBe(10);
    expect(meter.sample(2000, 30)).toBe(15);
    // Older samples fall out of the window: only the last RATE_WINDOW_MS counts.
    meter.sample(RATE_WINDOW_MS + 5000, 30);
    expect(meter.sample(RATE_WINDOW_MS * 2 + 5000, 30)).toBe(0);
  });
});
