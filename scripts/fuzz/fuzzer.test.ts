/**
 * The attacker's fuzzer in the unit suite: a fixed seed (replayable) and a few fresh ones each
 * run (printed when they fail: keep a failing one as a named regression test below), 3,000
 * frames each, across every layer, with an honest job beside them.
 */
import { describe, expect, it } from 'vitest';
import { runFuzz, type FuzzSummary } from './fuzzer.ts';

const FRAMES = 3_000;

function expectClean(s: FuzzSummary): void {
  const where = `seed ${s.seed} (replay: npm run fuzz -- --frames ${s.frames} --seed ${s.seed})`;
  expect(s.crashSamples, where).toEqual([]);
  expect(s.crashes, where).toBe(0);
  expect(s.honestJobProblem, where).toBeNull();
  expect(s.honestJobCompleted, where).toBe(true);
}

describe('fuzzing every layer a hostile peer reaches', () => {
  it('a fixed seed: no crash, budgets hold, the honest job completes with correct results', () => {
    const s = runFuzz({ frames: FRAMES, seed: 1 });
    expectClean(s);
    // Every layer was reached, and mutations got past the parsers into the cores.
    for (const n of Object.values(s.byLayer)) expect(n).toBeGreaterThan(FRAMES / 10);
    expect(s.parsedIntoCores).toBeGreaterThan(FRAMES / 10);
  });

  it('fresh seeds (printed on failure)', () => {
    const base = Date.now() % 1_000_000_007;
    for (let i = 0; i < 2; i++) expectClean(runFuzz({ frames: FRAMES, seed: (base + i * 7919) >>> 0 }));
  });

  it('the same seed replays the same run', () => {
    const a = runFuzz({ frames: 500, seed: 42 });
    const b = runFuzz({ frames: 500, seed: 42 });
    expect(b).toEqual(a);
  });
});
