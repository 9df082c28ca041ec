/**
 * `npm run fuzz -- --frames 100000 --seed N`: the attacker's fuzzer (scripts/fuzz/fuzzer.ts) from
 * the command line. Prints the crashes it found (each with its layer, frame number and error) and
 * one JSON summary as its last line: `frames`, `crashes`, `maxHeapMB`, `honestJobCompleted`,
 * `seed`, and more. Exits 1 when anything crashed or the honest job did not complete correctly,
 * so a failing seed is printed for a regression test. Without `--seed`, a fresh seed from the clock.
 * `--stacks 1` prints each crash's stack, to find where a failing seed throws.
 */
import { runFuzz } from './fuzz/fuzzer.ts';

function arg(name: string): string | undefined {
  const argv = process.argv.slice(2);
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    if (a === `--${name}`) return argv[i + 1];
    if (a.startsWith(`--${name}=`)) return a.slice(name.length + 3);
  }
  return undefined;
}

function int(name: string, fallback: number): number {
  const raw = arg(name);
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isSafeInteger(n) || n < 0) {
    console.error(`--${name} must be a non-negative integer, got "${raw}"`);
    process.exit(2);
  }
  return n;
}

const frames = int('frames', 10_000);
const seed = int('seed', Date.now() % 2 ** 31);
const started = performance.now();
const summary = runFuzz({ frames, seed, heapBytes: () => process.memoryUsage().heapUsed, stacks: int('stacks', 0) > 0 });
const seconds = (performance.now() - started) / 1000;
for (const c of summary.crashSamples) console.log(`crash in ${c.layer} at frame ${c.frame}: ${c.error}`);
if (summary.honestJobProblem !== null) console.log(`honest job: ${summary.honestJobProblem}`);
console.log(`${summary.frames} frames in ${seconds.toFixed(1)} s (seed ${summary.seed}): ${summary.crashes} crashes`);
console.log(JSON.stringify({ ...summary, crashSamples: undefined, seconds: Math.round(seconds * 10) / 10 }));
process.exit(summary.crashes === 0 && summary.honestJobCompleted ? 0 : 1);
