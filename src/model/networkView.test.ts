import { describe, expect, it } from 'vitest';
import { TelemetryAggregator } from '../core/telemetry/aggregator.ts';
import { DEFAULT_DEMO, DemoNetwork } from '../core/telemetry/demoNetwork.ts';
import { MAX_HISTORY, applyTelemetry } from './networkView.ts';
import { initialState } from './state.ts';
import type { NetworkView } from './networkView.ts';

function frames(count: number) {
  const net = new DemoNetwork({ ...DEFAULT_DEMO, volunteers: 20 }, 0);
  const agg = new TelemetryAggregator();
  return Array.from({ length: count }, (_, i) => agg.tick(net.step(i * 500), i * 500));
}

describe('network slice', () => {
  it('keeps the latest frame, its peers and jobs, and one chart point per frame, bounded', () => {
    let view: NetworkView = initialState.network;
    const all = frames(MAX_HISTORY + 10);
    for (const f of all) view = { ...view, ...applyTelemetry(view, f) };
    const last = all[all.length - 1]!;
    expect(view.telemetry).toBe(last);
    expect(view.history).toHaveLength(MAX_HISTORY);
    expect(view.history[view.history.length - 1]).toMatchObject({ t: last.atMs / 1000, shardsVerified: last.totals.shardsVerified });
    expect(view.peers.map((p) => p.peerId)).toEqual(last.peers.map((p) => p.peerId));
    expect(view.jobs).toBe(last.jobs);
  });

  it('ignores a frame older than the one shown', () => {
    const [a, b] = frames(2);
    let view: NetworkView = initialState.network;
    view = { ...view, ...applyTelemetry(view, b!) };
    expect(applyTelemetry(view, a!)).toEqual({});
  });
});
