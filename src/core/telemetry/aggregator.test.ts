import { describe, expect, it } from 'vitest';
import { asPeerId } from '../../protocol/ids.ts';
import type { JobStatus } from '../../protocol/messages.ts';
import { parseFromCoordinator } from '../../protocol/parse.ts';
import { TELEMETRY_LIMITS } from '../../protocol/telemetry.ts';
import { seededRng } from '../rng.ts';
import { TelemetryAggregator, type PeerSample, type TelemetrySample } from './aggregator.ts';

function vol(name: string, over: Partial<PeerSample> = {}): PeerSample {
  return {
    peerId: asPeerId(name),
    role: 'volunteer',
    label: `${name} tab`,
    backend: 'wasm',
    adapter: null,
    connectedAtMs: 0,
    activeLeases: 0,
    leasesIssued: 0,
    resultsReturned: 0,
    shardsAccepted: 0,
    rejected: 0,
    quarantined: false,
    paused: false,
    reputation: null,
    ...over,
  };
}

function job(id: string, createdAtMs: number, verified: number, disagreements = 0): JobStatus {
  return {
    jobId: id as JobStatus['jobId'],
    name: id,
    createdAtMs,
    items: 100,
    shards: 10,
    verified,
    inFlight: 0,
    pending: 10 - verified,
    unverifiable: 0,
    disagreements,
    done: verified === 10,
  };
}

const sample = (peers: PeerSample[], jobs: JobStatus[] = []): TelemetrySample => ({ peers, jobs, backendPairs: [] });

describe('telemetry aggregator', () => {
  it('[T-3] a peer first seen has zero flow; later flows are counter differences since the last tick', () => {
    const agg = new TelemetryAggregator();
    const first = agg.tick(sample([vol('a', { leasesIssued: 5, resultsReturned: 4, shardsAccepted: 3, rejected: 1 })]), 1000);
    expect(first.peers[0]!.flow).toEqual({ leases: 0, results: 0, verified: 0, disagreements: 0 });
    expect(first.intervalMs).toBe(0);
    const second = agg.tick(sample([vol('a', { leasesIssued: 7, resultsReturned: 6, shardsAccepted: 4, rejected: 2, activeLeases: 1 })]), 1500);
    expect(second.peers[0]!.flow).toEqual({ leases: 2, results: 2, verified: 1, disagreements: 1 });
    expect(second.totals.flow).toEqual({ leases: 2, results: 2, verified: 1, disagreements: 1 });
    expect(second.intervalMs).toBe(500);
    expect(second.seq).toBe(1);
  });

  it('[T-3] flows summed over ticks equal the growth of the counters: nothing counted twice or lost', () => {
    const agg = new TelemetryAggregator();
    const rng = seededRng(11);
    let c = { leasesIssued: 0, resultsReturned: 0, shardsAccepted: 0, rejected: 0 };
    agg.tick(sample([vol('a', c)]), 0);
    const sum = { leases: 0, results: 0, verified: 0, disagreements: 0 };
    for (let t = 1; t <= 200; t++) {
      c = {
        leasesIssued: c.leasesIssued + Math.floor(rng.next() * 4),
        resultsReturned: c.resultsReturned + Math.floor(rng.next() * 4),
        shardsAccepted: c.shardsAccepted + Math.floor(rng.next() * 3),
        rejected: c.rejected + (rng.next() < 0.1 ? 1 : 0),
      };
      const f = agg.tick(sample([vol('a', c)]), t * 500).totals.flow;
      sum.leases += f.leases;
      sum.results += f.results;
      sum.verified += f.verified;
      sum.disagreements += f.disagreements;
    }
    expect(sum).toEqual({ leases: c.leasesIssued, results: c.resultsReturned, verified: c.shardsAccepted, disagreements: c.rejected });
  });

  it('[T-3] throughput is a smoothed results-per-second rate that decays when work stops', () => {
    const agg = new TelemetryAggregator({ maxPeers: 10, throughputTauMs: 2000 });
    let results = 0;
    agg.tick(sample([vol('a')]), 0);
    let tp = 0;
    for (let t = 1; t <= 40; t++) {
      results += 5; // 5 results every 500 ms = 10/s
      tp = agg.tick(sample([vol('a', { resultsReturned: results })]), t * 500).peers[0]!.throughputPerS;
    }
    expect(tp).toBeGreaterThan(9.9);
    expect(tp).toBeLessThanOrEqual(10);
    for (let t = 41; t <= 80; t++) tp = agg.tick(sample([vol('a', { resultsReturned: results })]), t * 500).peers[0]!.throughputPerS;
    expect(tp).toBeLessThan(0.1);
  });

  it('[T-4] status: quarantined over paused over working over idle; non-volunteers are online', () => {
    const agg = new TelemetryAggregator();
    const f = agg.tick(
      sample([
        vol('q', { quarantined: true, activeLeases: 1, paused: true }),
        vol('p', { paused: true, activeLeases: 1 }),
        vol('w', { activeLeases: 1 }),
        vol('i'),
        { ...vol('r'), role: 'requester', backend: null },
        { ...vol('o'), role: 'observer', backend: null },
      ]),
      0,
    );
    const status = Object.fromEntries(f.peers.map((p) => [p.peerId, p.status]));
    expect(status).toEqual({ q: 'quarantined', p: 'paused', w: 'working', i: 'idle', r: 'online', o: 'online' });
    expect(f.totals).toMatchObject({ peers: 6, volunteers: 4, working: 1, idle: 1, paused: 1, quarantined: 1, activeLeases: 3 });
    expect(f.peers.find((p) => p.peerId === 'q')!.quarantined).toBe(true);
  });

  it('[T-4] a volunteer that returned a result this tick counts as working even with no lease out now', () => {
    const agg = new TelemetryAggregator();
    agg.tick(sample([vol('a')]), 0);
    expect(agg.tick(sample([vol('a', { resultsReturned: 1 })]), 500).peers[0]!.status).toBe('working');
    expect(agg.tick(sample([vol('a', { resultsReturned: 1 })]), 1000).peers[0]!.status).toBe('idle');
  });

  it('agreement rate is accepted / (accepted + rejected), null before any decision; reputation passes through', () => {
    const agg = new TelemetryAggregator();
    const f = agg.tick(sample([vol('a', { shardsAccepted: 3, rejected: 1, reputation: 0.8 }), vol('b')]), 0);
    expect(f.peers[0]).toMatchObject({ peerId: 'a', agreementRate: 0.75, reputation: 0.8, shardsDone: 3, rejected: 1 });
    expect(f.peers[1]).toMatchObject({ peerId: 'b', agreementRate: null, reputation: null });
  });

  it('[T-2] no more than maxPeers are listed; the rest are summarised and the totals still cover everyone', () => {
    const agg = new TelemetryAggregator({ maxPeers: 3, throughputTauMs: 5000 });
    const peers = Array.from({ length: 8 }, (_, i) => vol(`v${i}`, { connectedAtMs: i, shardsAccepted: 1, activeLeases: i % 2 }));
    const f = agg.tick(sample(peers), 10);
    expect(f.peers.map((p) => p.peerId)).toEqual(['v0', 'v1', 'v2']);
    expect(f.rest).toMatchObject({ peers: 5, volunteers: 5, working: 3, shardsDone: 5 });
    expect(f.peers.length + f.rest.peers).toBe(f.totals.peers);
    expect(f.totals.working).toBe(4);
  });

  it('[T-2] listing order: quarantined first, then peers listed last time, volunteers before other roles, oldest first', () => {
    const agg = new TelemetryAggregator({ maxPeers: 2, throughputTauMs: 5000 });
    const a = vol('a', { connectedAtMs: 1 });
    const b = vol('b', { connectedAtMs: 2 });
    const c = vol('c', { connectedAtMs: 3 });
    const obs = { ...vol('obs', { connectedAtMs: 0 }), role: 'observer' as const, backend: null };
    expect(agg.tick(sample([obs, c, b, a]), 0).peers.map((p) => p.peerId)).toEqual(['a', 'b']);
    // An older volunteer joins: the listed ones keep their places.
    const old = vol('old', { connectedAtMs: 0 });
    expect(agg.tick(sample([obs, c, b, a, old]), 500).peers.map((p) => p.peerId)).toEqual(['a', 'b']);
    // A quarantined volunteer always makes the list.
    const f = agg.tick(sample([obs, { ...c, quarantined: true }, b, a, old]), 1000);
    expect(f.peers.map((p) => p.peerId)).toEqual(['c', 'a']);
    expect(f.rest.peers).toBe(3);
  });

  it("[T-2] a frame at 5,000 peers and 100 jobs stays within the limits and passes the observer's parser", () => {
    const agg = new TelemetryAggregator();
    const peers = Array.from({ length: 5000 }, (_, i) => vol(`v${i}`, { connectedAtMs: i, resultsReturned: i }));
    const jobs = Array.from({ length: 100 }, (_, i) => job(`j${i}`, i, i % 10, 1));
    agg.tick(sample(peers, jobs), 0);
    const f = agg.tick(sample(peers, jobs), 500);
    expect(f.peers).toHaveLength(TELEMETRY_LIMITS.maxPeers);
    expect(f.rest.peers).toBe(5000 - TELEMETRY_LIMITS.maxPeers);
    expect(f.jobs).toHaveLength(TELEMETRY_LIMITS.maxJobs);
    expect(f.jobs[0]!.jobId).toBe('j99'); // most recent first
    expect(f.totals.disagreements).toBe(100); // every job counted, listed or not
    expect(f.totals.shardsVerified).toBe(jobs.reduce((n, j) => n + j.verified, 0));
    const parsed = parseFromCoordinator(JSON.parse(JSON.stringify(f)));
    expect(parsed.ok, parsed.ok ? '' : parsed.error.reason).toBe(true);
  });

  it('peers that leave are forgotten: coming back, they start from a new baseline', () => {
    const agg = new TelemetryAggregator();
    agg.tick(sample([vol('a', { resultsReturned: 10 })]), 0);
    agg.tick(sample([]), 500);
    const f = agg.tick(sample([vol('a', { resultsReturned: 2 })]), 1000);
    expect(f.peers[0]!.flow.results).toBe(0);
  });

  it('[D-1] the same samples at the same times give the same frames', () => {
    const run = (): unknown[] => {
      const agg = new TelemetryAggregator({ maxPeers: 5, throughputTauMs: 3000 });
      const rng = seededRng(3);
      const counts = new Map<string, number>();
      const frames: unknown[] = [];
      for (let t = 0; t < 30; t++) {
        const peers = Array.from({ length: 8 }, (_, i) => {
          const n = (counts.get(`v${i}`) ?? 0) + Math.floor(rng.next() * 3);
          counts.set(`v${i}`, n);
          return vol(`v${i}`, { resultsReturned: n, shardsAccepted: n, connectedAtMs: 8 - i, activeLeases: rng.next() < 0.5 ? 1 : 0 });
        });
        frames.push(agg.tick(sample(peers), t * 250));
      }
      return frames;
    };
    expect(run()).toEqual(run());
  });
});
