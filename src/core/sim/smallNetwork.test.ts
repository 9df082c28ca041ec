/**
 * Small networks ([C-4], [X-4] in core/SPEC.md): three to five volunteers, one of them a liar of
 * each kind. Establishment scales with the network, and an outvote on an answer that becomes
 * established is a strike, so the liar is quarantined within a few of its own results; honest
 * volunteers on two backends and flaky ones never are. Seeded; a failure names its seed.
 */
import { describe, it, expect } from 'vitest';
import { DEFAULT_SIM_CONFIG, runSim, type SimReport } from './sim.ts';
import { SLEEPER_HONEST_RESULTS, type VolunteerKind } from './model.ts';

const SHARDS = 400;
/** Results a liar may return before it is quarantined (once it lies: a sleeper starts honest). */
const CAUGHT_WITHIN = 30;
const SEEDS = [1, 2, 3];

function run(volunteers: number, kinds: Partial<Record<VolunteerKind, number>>, seed: number): SimReport {
  const mix = new Map<VolunteerKind, number>(Object.entries(kinds).map(([k, n]) => [k as VolunteerKind, n / volunteers]));
  return runSim({ ...DEFAULT_SIM_CONFIG, volunteers, shards: SHARDS, seed, mix });
}

describe('small networks [C-4] [X-4]', () => {
  for (const n of [3, 4, 5]) {
    for (const kind of ['random', 'perturb', 'zero', 'collude', 'sleeper'] as const) {
      it(`[C-4] [X-4] ${n} volunteers, one ${kind}: the liar is quarantined within ${CAUGHT_WITHIN} lying results, nothing wrong stays accepted`, () => {
        for (const seed of SEEDS) {
          const where = `${n} volunteers, one ${kind}, seed ${seed}`;
          const r = run(n, { honest: n - 1, [kind]: 1 }, seed);
          const liar = r.byKind.find((k) => k.kind === kind)!;
          expect(r.open, `${where}: shards left open`).toBe(0);
          expect(r.acceptedWrong, `${where}: wrong results accepted`).toBe(0);
          expect(r.acceptedCorrect, where).toBe(SHARDS);
          expect(r.honestQuarantined, `${where}: honest quarantined`).toBe(0);
          expect(liar.quarantined, `${where}: liar quarantined`).toBe(1);
          const honestFirst = kind === 'sleeper' ? SLEEPER_HONEST_RESULTS : 0;
          expect(liar.results, `${where}: results before quarantine`).toBeLessThanOrEqual(honestFirst + CAUGHT_WITHIN);
        }
      });
    }
    it(`[C-4] ${n} volunteers, one flaky: nobody is quarantined`, () => {
      for (const seed of SEEDS) {
        const r = run(n, { honest: n - 1, flaky: 1 }, seed);
        expect(r.acceptedCorrect, `seed ${seed}`).toBe(SHARDS);
        expect(r.honestQuarantined, `seed ${seed}`).toBe(0);
      }
    });
  }

  it('[C-4] five volunteers, two colluders (a minority): both are caught and their agreed lies re-verified', () => {
    for (const seed of SEEDS) {
      const r = run(5, { honest: 3, collude: 2 }, seed);
      expect(r.acceptedWrong, `seed ${seed}`).toBe(0);
      expect(r.acceptedCorrect, `seed ${seed}`).toBe(SHARDS);
      expect(r.honestQuarantined, `seed ${seed}`).toBe(0);
      expect(r.adversariesQuarantined, `seed ${seed}`).toBe(2);
    }
  });

  it('[C-4] the bound: two colluders of three are the majority, which agreement cannot tell from an honest pair', () => {
    // What the coordinator sees here (two volunteers that always agree, a third that agrees with
    // neither) is exactly what it sees with one liar among three, where the odd one out must be
    // caught. No rule based on agreement can do both; the guarantee needs a strict honest
    // majority of the known volunteers. This pins the limit down so a change to it is deliberate.
    for (const seed of SEEDS) {
      const r = run(3, { honest: 1, collude: 2 }, seed);
      expect(r.acceptedWrong, `seed ${seed}`).toBe(SHARDS);
      expect(r.adversariesQuarantined, `seed ${seed}`).toBe(0);
    }
  });
});
