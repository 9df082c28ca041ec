/**
 * Small networks ([C-4], [X-4] in core/SPEC.md): three to five volunteers, one of them a liar of
 * each kind. Establishment scales with the network, and an outvote on an answer that becomes
 * established is a strike, so the liar is quarantined within a few of its own results; honest
 * volunteers on two backends and flaky ones never are. Once it is, the honest ones it brought
 * under suspicion are cleared ([A-7]: in three volunteers no canary can ever be served to them)
 * and regain trust, and no audit is left owed ([A-3], [A-6]). Seeded; a failure names its seed.
 */
import { describe, it, expect } from 'vitest';
import { asPeerId } from '../../protocol/ids.ts';
import type { CoordinatorCore } from '../coordinator/coordinator.ts';
import { DEFAULT_SIM_CONFIG, runSim, type SimReport } from './sim.ts';
import { freshSeeds } from '../../../scripts/lib/freshSeeds.ts';
import { SLEEPER_HONEST_RESULTS, type VolunteerKind } from './model.ts';

const SHARDS = 400;
/** Results a liar may return before it is quarantined (once it lies: a sleeper starts honest). */
const CAUGHT_WITHIN = 30;
/**
 * Fixed seeds, seeds that once failed, and one no run has tried (replay: QUORUM_SIM_SEEDS=<seed>).
 * 1591490079: both colluders and one honest volunteer joined first ([X-5]); 616735040: the job
 * ended before the sleeper woke.
 */
const REGRESSION_SEEDS: readonly number[] = [1591490079, 616735040];
const SEEDS = [1, 2, 3, ...REGRESSION_SEEDS, ...freshSeeds(1)];

interface Standing {
  /** Volunteers not quarantined that are suspects, owe a canary, or are trusted on no backend. */
  readonly suspects: number;
  readonly owing: number;
  readonly untrusted: number;
  /** `pendingAudits()` at the end. */
  readonly audits: number;
}

function run(volunteers: number, kinds: Partial<Record<VolunteerKind, number>>, seed: number): SimReport & Standing {
  const mix = new Map<VolunteerKind, number>(Object.entries(kinds).map(([k, n]) => [k as VolunteerKind, n / volunteers]));
  const standing = { suspects: 0, owing: 0, untrusted: 0, audits: 0 };
  // The sim names its volunteers v0, v1, …; every one it knows, whatever its kind.
  const inspect = (core: CoordinatorCore): void => {
    standing.audits = core.pendingAudits();
    for (let i = 0; i < volunteers; i++) {
      const id = asPeerId(`v${i}`);
      const r = core.reputation.get(id);
      if (!r || r.quarantined) continue;
      if (r.suspect) standing.suspects++;
      if (core.reputation.owesCanary(id)) standing.owing++;
      if (!core.reputation.isTrusted(id, 'webgpu') && !core.reputation.isTrusted(id, 'wasm')) standing.untrusted++;
    }
  };
  return { ...runSim({ ...DEFAULT_SIM_CONFIG, volunteers, shards: SHARDS, seed, mix }, { inspect }), ...standing };
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
          // A sleeper whose job ended before it woke never lied: there is nothing to catch.
          expect(liar.quarantined, `${where}: liar quarantined`).toBe(kind === 'sleeper' ? liar.lied : 1);
          const honestFirst = kind === 'sleeper' ? SLEEPER_HONEST_RESULTS : 0;
          expect(liar.results, `${where}: results before quarantine`).toBeLessThanOrEqual(honestFirst + CAUGHT_WITHIN);
          // The honest ones (every volunteer left) end cleared, trusted again (the job is
          // adaptive), and owing nothing: the run finished its audits.
          expect(DEFAULT_SIM_CONFIG.adaptive).toBe(true);
          expect(r.suspects, `${where}: honest volunteers left suspected`).toBe(0);
          expect(r.owing, `${where}: honest volunteers left owing a canary`).toBe(0);
          expect(r.untrusted, `${where}: honest volunteers left untrusted`).toBe(0);
          expect(r.audits, `${where}: audits pending`).toBe(0);
          expect(r.finished, `${where}: finished`).toBe(true);
        }
      });
    }
    it(`[C-4] ${n} volunteers, one flaky: nobody is quarantined`, () => {
      for (const seed of SEEDS) {
        const r = run(n, { honest: n - 1, flaky: 1 }, seed);
        expect(r.acceptedCorrect, `seed ${seed}`).toBe(SHARDS);
        expect(r.honestQuarantined, `seed ${seed}`).toBe(0);
        expect(r.audits, `seed ${seed}: audits pending`).toBe(0);
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
