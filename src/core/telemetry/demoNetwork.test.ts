import { describe, expect, it } from 'vitest';
import { parseFromCoordinator } from '../../protocol/parse.ts';
import { TelemetryAggregator } from './aggregator.ts';
import { DEFAULT_DEMO, DemoNetwork } from './demoNetwork.ts';

function run(volunteers: number, seconds: number, seed = 1) {
  const net = new DemoNetwork({ ...DEFAULT_DEMO, volunteers, seed }, 1_000_000);
  const agg = new TelemetryAggregator();
  const frames = [];
  for (let t = 0; t <= seconds * 2; t++) frames.push(agg.tick(net.step(1_000_000 + t * 500), 1_000_000 + t * 500));
  return frames;
}

describe('demo network (seeded synthetic telemetry)', () => {
  it('[D-1] the same seed gives the same frames; another seed gives others', () => {
    expect(run(50, 10)).toEqual(run(50, 10));
    expect(run(50, 10, 2)).not.toEqual(run(50, 10));
  });

  it('keeps the asked-for number of volunteers (plus one requester and one observer) through churn', () => {
    const frames = run(500, 60);
    for (const f of frames) {
      expect(f.totals.volunteers).toBe(500);
      expect(f.totals.peers).toBe(502);
    }
  });

  it('produces work, verified shards, both backends, and quarantined liars; every frame parses', () => {
    const frames = run(500, 30);
    const last = frames[frames.length - 1]!;
    expect(last.totals.throughputPerS).toBeGreaterThan(10);
    expect(last.totals.shardsVerified).toBeGreaterThan(100);
    expect(last.totals.quarantined).toBeGreaterThan(0);
    expect(last.totals.working).toBeGreaterThan(100);
    expect(new Set(last.peers.map((p) => p.backend))).toEqual(new Set(['wasm', 'webgpu', null]));
    expect(last.backendPairs.some((p) => p.disagree > 0)).toBe(true);
    expect(frames.some((f) => f.peers.some((p) => p.flow.results > 0))).toBe(true);
    for (const f of frames.slice(-3)) {
      const parsed = parseFromCoordinator(JSON.parse(JSON.stringify(f)));
      expect(parsed.ok, parsed.ok ? '' : parsed.error.reason).toBe(true);
    }
  });
});
