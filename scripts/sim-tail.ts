/**
 * `npm run sim:tail -- [--seeds N] [--from S] [--shards 400] [--over K]`: how many lying results a
 * liar returns before it is quarantined in the small networks of src/core/sim/smallNetwork.test.ts
 * (3–5 volunteers, one liar of each kind), over many seeds. Prints, per case, the median, p99,
 * p99.9 and maximum, and every seed over `--over` (candidates for the suite's regression seeds):
 * the measurement behind that suite's bound ([C-4], [X-4] in core/SPEC.md), kept out of `npm test`.
 * `--mixed`: instead, the mixed population of src/core/sim/sim.test.ts (40 volunteers, 1,500
 * shards, 30% liars of every kind) over as many seeds, checking what that suite checks ([X-3]).
 */
import { DEFAULT_SIM_CONFIG, runSim } from '../src/core/sim/sim.ts';
import { parseMix } from '../src/core/sim/mix.ts';
import { SLEEPER_HONEST_RESULTS, type VolunteerKind } from '../src/core/sim/model.ts';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  const v = i >= 0 ? Number(process.argv[i + 1]) : fallback;
  if (!Number.isSafeInteger(v) || v < 0) throw new Error(`--${name} must be a non-negative integer`);
  return v;
}
function list(name: string, fallback: string): string[] {
  const i = process.argv.indexOf(`--${name}`);
  return (i >= 0 ? (process.argv[i + 1] ?? '') : fallback).split(',').filter(Boolean);
}

const seeds = arg('seeds', 1000);
const from = arg('from', 1000);
const shards = arg('shards', 400);
const over = arg('over', 30);
const sizes = list('n', '3,4,5').map(Number);
const kinds = list('kinds', 'random,perturb,zero,collude,sleeper') as VolunteerKind[];

function quantile(sorted: readonly number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] as number;
}

/** What sim.test.ts's expectSafe asks of every run; a non-empty answer names what failed. */
function mixedFailures(seed: number): string {
  const mix = parseMix('honest:0.7,random:0.1,perturb:0.05,zero:0.05,collude:0.1');
  const r = runSim({ ...DEFAULT_SIM_CONFIG, volunteers: 40, shards: 1_500, seed, mix });
  const bad: string[] = [];
  if (!r.finished) bad.push('not finished');
  if (r.open > 0) bad.push(`${r.open} open`);
  if (r.acceptedWrong > 0) bad.push(`${r.acceptedWrong} wrong`);
  if (r.honestQuarantined > 0) bad.push(`${r.honestQuarantined} honest quarantined`);
  if (r.adversariesQuarantined !== r.adversariesThatLied) bad.push(`${r.adversariesThatLied - r.adversariesQuarantined} liars working`);
  if (r.acceptedCorrect + r.unverifiable !== r.shards) bad.push('shards unaccounted for');
  return bad.join(', ');
}

if (process.argv.includes('--mixed')) {
  const failed: string[] = [];
  for (let seed = from; seed < from + seeds; seed++) {
    const why = mixedFailures(seed);
    if (why) failed.push(`${seed} (${why})`);
  }
  console.log(`mixed population, seeds ${from}–${from + seeds - 1}: ${failed.length} failed${failed.length ? `: ${failed.join('; ')}` : ''}`);
  process.exit(failed.length ? 1 : 0);
}

for (const n of sizes) {
  for (const kind of kinds) {
    const lies: number[] = [];
    const judged: number[] = [];
    const slow: string[] = [];
    const t0 = performance.now();
    for (let seed = from; seed < from + seeds; seed++) {
      const mix = new Map<VolunteerKind, number>([
        ['honest', (n - 1) / n],
        [kind, 1 / n],
      ]);
      const r = runSim({ ...DEFAULT_SIM_CONFIG, volunteers: n, shards, seed, mix });
      const liar = r.byKind.find((k) => k.kind === kind)!;
      const lying = liar.results - (kind === 'sleeper' ? SLEEPER_HONEST_RESULTS : 0);
      const bad = (lying > 0 && liar.quarantined !== 1) || r.acceptedWrong > 0 || r.honestQuarantined > 0 || r.open > 0;
      lies.push(lying);
      judged.push(liar.invalid);
      if (lying > over || bad) slow.push(`${seed}:${lying}/${liar.invalid}${bad ? '!' : ''}`);
    }
    lies.sort((a, b) => a - b);
    judged.sort((a, b) => a - b);
    const s = ((performance.now() - t0) / 1000).toFixed(0);
    console.log(
      `n=${n} ${kind.padEnd(7)} seeds=${seeds} median=${quantile(lies, 0.5)} p99=${quantile(lies, 0.99)} p99.9=${quantile(lies, 0.999)} max=${lies[lies.length - 1]}; judged invalid median=${quantile(judged, 0.5)} p99.9=${quantile(judged, 0.999)} max=${judged[judged.length - 1]} (${s} s)` +
        (slow.length ? ` over ${over}: ${slow.join(' ')}` : ''),
    );
  }
}
