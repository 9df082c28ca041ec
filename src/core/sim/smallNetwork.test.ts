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
import { DEFAULT_SIM_CONFIG, runSim, type SimConfig, type SimReport } from './sim.ts';
import { freshSeeds } from '../../../scripts/lib/freshSeeds.ts';
import { SLEEPER_HONEST_RESULTS, type VolunteerKind } from './model.ts';

const SHARDS = 400;
/**
 * Lying results a liar may return before it is quarantined (once it lies: a sleeper starts
 * honest). Not "a few": most of them are never compared with anything before the quarantine, for
 * reasons of the network, not of the rule that catches it (`npm run sim:tail` measures it):
 * - a liar that joins first computes alone until two honest volunteers are online to outvote it
 *   (up to ~2,000 ms of join spread at ≥ 41.5 ms a shard); none of that work is accepted;
 * - a sleeper is trusted when it wakes, and its lone lies wait for a spot-check ([A-4]): one in
 *   each window of 20, so up to 2·20 − 2 = 38 lone lies go unchecked; re-opens them;
 * - lies already computed when the quarantine lands (waiting for a partner, or for the
 *   acceptance that outvoted it to become established, [X-4]).
 * Over seeds 1000–1999 of every case below the median is 6–12, p99.9 ≤ 42 and the maximum 48
 * (3 volunteers, one sleeper); the tail shrinks by ~6 results a decade of probability, so 70 is
 * ~4 decades past the worst of 1,000 seeds: a fresh seed fails it only on a real regression.
 */
const CAUGHT_WITHIN = 70;
/**
 * Results the core judged invalid before the quarantine ([A-1], [X-1], [X-4]): the rule itself,
 * without the network's delays. Two strikes quarantine, and an outvote strikes once its answer is
 * established, so a liar is seen through within a few lies of the first comparison. Measured
 * over seeds 1000–1999: median 3–4, p99.9 ≤ 7, maximum 10 (4 volunteers, one sleeper).
 */
const JUDGED_WITHIN = 16;
/**
 * Seeds that once failed a run, per case ("volunteers kind"), tried on every run from now on:
 * those that returned more than 30 lies, the old bound (1059903261 was found by a fresh seed);
 * 616735040: the job ended before the sleeper woke; 1934105690 (fresh): an honest volunteer left
 * owing a canary with none it could take ([A-6] audits of lone work).
 */
const REGRESSION_SEEDS: Readonly<Record<string, readonly number[]>> = {
  '3 random': [1475, 1696, 1714, 1896, 1899],
  '3 perturb': [1475, 1696, 1714, 1896, 1899],
  '3 zero': [1475, 1541, 1696, 1714, 1896, 1899],
  '3 collude': [1475, 1541, 1696, 1714, 1896, 1899],
  '3 sleeper': [1028, 1112, 1209, 1267, 1281, 1336, 1412, 1431, 1517, 1534, 1541, 1679, 1682, 1696, 1749, 1896],
  '4 random': [1066, 1067, 1186, 1934105690],
  '4 perturb': [1066, 1067, 1186],
  '4 zero': [1066, 1067, 1186],
  '4 collude': [1066, 1067, 1186],
  '4 sleeper': [1020, 1066, 1255, 1325, 1385, 1411, 1429, 1498, 1532, 1583, 1596, 1705, 1784, 1852, 1897],
  '5 zero': [1816],
  '5 collude': [1816],
  '5 sleeper': [1267, 1277, 1367, 1543, 1721, 1739, 1748, 1905, 1059903261, 616735040],
};
/**
 * Seeds of the flaky case that once ended with an audit owed: a fast honest volunteer had
 * computed every cross-checked shard (its partners only ever met it), the flaky one left, and no
 * established answer it never computed was left to serve it as a canary.
 */
const FLAKY_REGRESSION_SEEDS: Readonly<Record<number, readonly number[]>> = {
  3: [1000017, 1000277, 1000392],
  4: [1000150, 1000207, 1000285, 1000494],
};
/** Fixed seeds and one no run has tried (replay: QUORUM_SIM_SEEDS=<seed>). */
const FRESH = freshSeeds(1);
const SEEDS = [1, 2, 3, ...FRESH];
/**
 * A liar's case: one fixed seed, its regression seeds (harder ones than any fixed seed) and the
 * fresh one, so the suite takes about as long as it did with three fixed seeds.
 */
const liarSeeds = (n: number, kind: VolunteerKind): number[] => [1, ...(REGRESSION_SEEDS[`${n} ${kind}`] ?? []), ...FRESH];

interface Standing {
  /** Volunteers not quarantined that are suspects, owe a canary, or are trusted on no backend. */
  readonly suspects: number;
  readonly owing: number;
  readonly untrusted: number;
  /** `pendingAudits()` at the end. */
  readonly audits: number;
}

function run(volunteers: number, kinds: Partial<Record<VolunteerKind, number>>, seed: number, over: Partial<SimConfig> = {}): SimReport & Standing {
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
  return { ...runSim({ ...DEFAULT_SIM_CONFIG, volunteers, shards: SHARDS, seed, mix, ...over }, { inspect }), ...standing };
}

describe('small networks [C-4] [X-4]', () => {
  for (const n of [3, 4, 5]) {
    for (const kind of ['random', 'perturb', 'zero', 'collude', 'sleeper'] as const) {
      it(`[C-4] [X-4] ${n} volunteers, one ${kind}: the liar is quarantined within ${JUDGED_WITHIN} judged lies and ${CAUGHT_WITHIN} lying results, nothing wrong stays accepted`, () => {
        for (const seed of liarSeeds(n, kind)) {
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
          expect(liar.invalid, `${where}: results judged invalid before quarantine`).toBeLessThanOrEqual(JUDGED_WITHIN);
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
    it(`[C-4] [A-6] ${n} volunteers, one flaky: nobody is quarantined, no audit is left owed`, () => {
      for (const seed of [...SEEDS, ...(FLAKY_REGRESSION_SEEDS[n] ?? [])]) {
        const r = run(n, { honest: n - 1, flaky: 1 }, seed);
        expect(r.acceptedCorrect, `seed ${seed}`).toBe(SHARDS);
        expect(r.honestQuarantined, `seed ${seed}`).toBe(0);
        expect(r.audits, `seed ${seed}: audits pending`).toBe(0);
      }
    });
  }

  it('[X-1] [X-4] four volunteers, one random liar: quarantined after under 5 judged lies on average (seeds 1–15)', () => {
    // The bounds above are tails, loose enough for any fresh seed; this pins the typical speed of
    // the rule on fixed seeds, so it cannot fail at random. Today: 58 judged lies in all (3–6 each);
    // a third strike to quarantine makes it 80, five make it 108.
    let judged = 0;
    for (let seed = 1; seed <= 15; seed++) {
      const r = run(4, { honest: 3, random: 1 }, seed);
      const liar = r.byKind.find((k) => k.kind === 'random')!;
      expect(liar.quarantined, `seed ${seed}`).toBe(1);
      judged += liar.invalid;
    }
    expect(judged).toBeLessThan(15 * 5);
  });

  it('[C-4] [X-5] five volunteers, two colluders (a minority): both are caught and their agreed lies re-verified, also when they join first', () => {
    // With the default join spread some seeds (1031, 1591490079) let both colluders and one honest
    // volunteer start alone: a majority of the three then known, they strike it out
    // withdraws those strikes once the late-comers contradict them. 1814070218 (fresh): the first
    // honest volunteer computed every shard and the pair outvoted it on a third of them; each
    // outvote killed every honest answer it was in, so nothing was established until [C-4] let an
    // outvote by an answer not established wait (180 wrong shards accepted before). 38812476: the
    // same, found by a sweep of 3,000 random seeds (151 wrong; the only failure, none after).
    for (const seed of [...SEEDS, 1031, 1591490079, 1814070218, 38812476]) {
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
