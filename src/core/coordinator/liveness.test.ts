/**
 * [P-4] [P-8] Silence is departure, and bytes of a frame still arriving are not silence.
 */
import { describe, expect, it } from 'vitest';
import { asPeerId } from '../../protocol/ids.ts';
import { hello } from '../testing/fixtures.ts';
import { CoordinatorCore } from './coordinator.ts';
import { DEFAULT_COORDINATOR_CONFIG } from './state.ts';
import { seededRng } from '../rng.ts';

const TIMEOUT = DEFAULT_COORDINATOR_CONFIG.peerTimeoutMs;

function core(): CoordinatorCore {
  return new CoordinatorCore({ networkId: 'net1', ...DEFAULT_COORDINATOR_CONFIG }, seededRng(1));
}

const closes = (fx: readonly { kind: string }[]): number => fx.filter((e) => e.kind === 'close').length;

describe('[P-8] a peer whose frame is still arriving is alive', () => {
  it('[P-8] chunks heard keep a greeted volunteer from being dropped for silence; without them it is dropped', () => {
    const c = core();
    const v = asPeerId('v1');
    c.connect(v, 0);
    c.handle(v, hello('volunteer'), 0);
    // Chunks of one big frame every second, for twice the silence limit: no whole frame at all.
    for (let t = 1_000; t <= 2 * TIMEOUT; t += 1_000) {
      c.heard(v, t);
      expect(closes(c.tick(t))).toBe(0);
    }
    expect(c.peerSummaries().map((p) => p.peerId)).toEqual([v]);
    // [P-4] Then nothing: dropped once the limit has passed since the last chunk.
    expect(closes(c.tick(2 * TIMEOUT + TIMEOUT))).toBe(0);
    expect(closes(c.tick(2 * TIMEOUT + TIMEOUT + 1))).toBe(1);
    expect(c.peerSummaries()).toEqual([]);
  });

  it('[P-8] [P-1] chunks before hello are no sign of life: such a peer still goes when its time to say hello is up', () => {
    const c = core();
    const p = asPeerId('p1');
    c.connect(p, 0);
    for (let t = 500; t <= 6_000; t += 500) c.heard(p, t);
    expect(closes(c.tick(6_000))).toBe(1);
  });

  it('[P-8] [P-1] chunks before hello do not hold off the silence limit either, where it is shorter than the time to say hello', () => {
    // Which of the two limits closes a peer that never said hello depends on the config; with a
    // silence limit under the hello deadline only [P-4] tells whether its chunks counted.
    const c = new CoordinatorCore({ networkId: 'net1', ...DEFAULT_COORDINATOR_CONFIG, peerTimeoutMs: 2_000 }, seededRng(1));
    const p = asPeerId('p1');
    c.connect(p, 0);
    for (let t = 500; t <= 3_000; t += 500) c.heard(p, t);
    expect(closes(c.tick(3_000))).toBe(1);
  });
});
