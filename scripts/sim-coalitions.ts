/**
 * `npx tsx scripts/sim-coalitions.ts [--seeds N] [--from S] [--shards S] [--case NAME]`: how small
 * networks with a colluding minority fare over many seeds ([C-4], [X-3], [X-5] in core/SPEC.md).
 * Each case is a network of a few volunteers, some of them colluders (the same wrong answer for a
 * shard from each), joining at random times in the first 2 s (the simulation's default), so the
 * colluders are sometimes a majority of the volunteers known *so far*. A run fails when a wrong
 * result stays accepted, an honest volunteer ends quarantined or a liar that lied is not.
 * Unfinished runs (audits still owed when the simulation gave up waiting, [A-6]) are counted
 * apart: they are about liveness, not safety. One line per case, then one JSON object.
 *
 * Seeds are consecutive from --from (default 1000); a failing run is named by its seed so it can
 * be replayed with QUORUM_SIM_SEEDS=<seed> in src/core/sim/smallNetwork.test.ts.
 */
import { cliArgs } from './lib/measureCli.ts';
import { DEFAULT_SIM_CONFIG, runSim, type SimConfig } from '../src/core/sim/sim.ts';
import type { VolunteerKind } from '../src/core/sim/model.ts';

interface Case {
  readonly name: string;
  readonly kinds: Partial<Record<VolunteerKind, number>>;
  readonly over?: Partial<SimConfig>;
}

const CASES: readonly Case[] = [
  { name: '5: 3 honest, 2 colluders', kinds: { honest: 3, collude: 2 } },
  { name: '5: 3 honest, 2 colluders, all join at once', kinds: { honest: 3, collude: 2 }, over: { joinSpreadMs: 0 } },
  { name: '6: 4 honest, 2 colluders', kinds: { honest: 4, collude: 2 } },
  { name: '7: 4 honest, 3 colluders', kinds: { honest: 4, collude: 3 } },
  // The single liars of smallNetwork.test.ts, to see that catching them did not change.
  { name: '3: 2 honest, 1 random', kinds: { honest: 2, random: 1 } },
  { name: '4: 3 honest, 1 collude', kinds: { honest: 3, collude: 1 } },
  { name: '5: 4 honest, 1 sleeper', kinds: { honest: 4, sleeper: 1 } },
];

const args = cliArgs();
const seeds = Number(args.option('--seeds', '500'));
const from = Number(args.option('--from', '1000'));
const shards = Number(args.option('--shards', '400'));
const only = args.option('--case', '');

interface Tally {
  name: string;
  runs: number;
  /** Runs with a safety failure, and by kind of failure. */
  failed: number;
  wrongAccepted: number;
  wrongShards: number;
  honestQuarantined: number;
  liarFree: number;
  unfinished: number;
  /** Up to 10 failing seeds, and up to 10 unfinished ones. */
  seeds: number[];
  unfinishedSeeds: number[];
}

const out: Tally[] = [];
for (const c of CASES) {
  if (only && !c.name.includes(only)) continue;
  const volunteers = Object.values(c.kinds).reduce((a, b) => a + b, 0);
  const mix = new Map<VolunteerKind, number>(Object.entries(c.kinds).map(([k, n]) => [k as VolunteerKind, n / volunteers]));
  const t: Tally = {
    name: c.name,
    runs: 0,
    failed: 0,
    wrongAccepted: 0,
    wrongShards: 0,
    honestQuarantined: 0,
    liarFree: 0,
    unfinished: 0,
    seeds: [],
    unfinishedSeeds: [],
  };
  for (let seed = from; seed < from + seeds; seed++) {
    const r = runSim({ ...DEFAULT_SIM_CONFIG, volunteers, shards, seed, mix, ...c.over });
    t.runs++;
    const wrong = r.acceptedWrong > 0 || r.open > 0;
    const honest = r.honestQuarantined > 0;
    const free = r.adversariesQuarantined < r.adversariesThatLied;
    const unfinished = !r.finished;
    if (wrong) t.wrongAccepted++;
    t.wrongShards += r.acceptedWrong;
    if (honest) t.honestQuarantined++;
    if (free) t.liarFree++;
    if (unfinished) {
      t.unfinished++;
      if (t.unfinishedSeeds.length < 10) t.unfinishedSeeds.push(seed);
    }
    if (wrong || honest || free) {
      t.failed++;
      if (t.seeds.length < 10) t.seeds.push(seed);
    }
  }
  out.push(t);
  console.log(
    `${t.name.padEnd(44)} ${t.failed}/${t.runs} failed: wrong accepted ${t.wrongAccepted} (${t.wrongShards} shards), honest quarantined ${t.honestQuarantined}, liar free ${t.liarFree}` +
      `${t.seeds.length ? ` (seeds ${t.seeds.join(' ')})` : ''}; unfinished ${t.unfinished}${t.unfinishedSeeds.length ? ` (seeds ${t.unfinishedSeeds.join(' ')})` : ''}`,
  );
}
console.log(JSON.stringify({ seeds, from, shards, cases: out }));
