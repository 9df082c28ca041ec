/**
 * `npm run sim -- [options]`: the adversarial simulation (src/core/sim/sim.ts) from the command
 * line. Runs the coordinator core with N simulated volunteers on one job of S shards, prints a
 * table, and prints one JSON object as its last line.
 *
 *   --volunteers N        (100)          --shards S            (2000)
 *   --seed X              (1)            --shard-size ITEMS    (1)
 *   --replication R       (2)            --quorum Q            (2)
 *   --max-replicas M      (max(4, R+2), at most 16)
 *   --adaptive true|false (true)         trusted volunteers may compute shards alone ([A-3])
 *   --canary-rate F       (policy default)  --spot-check-rate F (policy default)
 *   --comparator allclose[:ATOL:RTOL] | argmax | cosine:T | exact   (allclose with the default tolerance)
 *   --backends "webgpu:0.5,wasm:0.5"
 *   --mix "honest:0.7,random:0.1,perturb:0.05,zero:0.05,collude:0.1"
 *        kinds: honest random perturb zero collude sleeper flaky
 *
 * `resultsPerSec` is results processed per wall-clock second of the simulation loop (simulated
 * volunteers and core together, one thread; job set-up and the final check of every shard are
 * not in it); `coreResultsPerSec` counts only the time spent in the core's calls;
 * `resultsPerCpuSec` divides by the loop's CPU time (this process, GC threads included) instead
 * of wall time, which other work on a busy machine inflates.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { DEFAULT_COMPARATOR, type Comparator } from '../src/protocol/policy.ts';
import { policySchema } from '../src/protocol/schemas.ts';
import { MixError, parseBackends, parseMix } from '../src/core/sim/mix.ts';
import { DEFAULT_SIM_CONFIG, runSim, type SimConfig } from '../src/core/sim/sim.ts';

// Millions of short-lived frames: a young generation larger than V8's default halves GC time.
// Re-run this script once with the flag (same args, same output) unless it is already set.
const SEMI_SPACE_FLAG = '--max-semi-space-size=64';
if (!process.execArgv.includes(SEMI_SPACE_FLAG) && process.env['QUORUM_SIM_NO_RESPAWN'] !== '1') {
  const r = spawnSync(process.execPath, [SEMI_SPACE_FLAG, ...process.execArgv, fileURLToPath(import.meta.url), ...process.argv.slice(2)], {
    stdio: 'inherit',
    env: { ...process.env, QUORUM_SIM_NO_RESPAWN: '1' },
  });
  process.exit(r.status ?? 1);
}

class UsageError extends Error {
  override readonly name = 'UsageError';
}

function parseArgs(argv: readonly string[]): Map<string, string> {
  const out = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    if (!a.startsWith('--')) throw new UsageError(`unexpected argument "${a}"`);
    const eq = a.indexOf('=');
    if (eq > 0) out.set(a.slice(2, eq), a.slice(eq + 1));
    else {
      const v = argv[i + 1];
      if (v === undefined || v.startsWith('--')) throw new UsageError(`${a} needs a value`);
      out.set(a.slice(2), v);
      i++;
    }
  }
  return out;
}

const KNOWN = [
  'volunteers',
  'shards',
  'seed',
  'shard-size',
  'replication',
  'quorum',
  'max-replicas',
  'adaptive',
  'canary-rate',
  'spot-check-rate',
  'comparator',
  'backends',
  'mix',
];

function int(args: Map<string, string>, name: string, fallback: number, min: number): number {
  const raw = args.get(name);
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min) throw new UsageError(`--${name} must be an integer ≥ ${min}, got "${raw}"`);
  return n;
}

function rate(args: Map<string, string>, name: string): number | undefined {
  const raw = args.get(name);
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (!(n >= 0 && n <= 1)) throw new UsageError(`--${name} must be a number in [0, 1], got "${raw}"`);
  return n;
}

function comparator(raw: string | undefined): Comparator {
  if (raw === undefined) return DEFAULT_COMPARATOR;
  const [kind, a, b] = raw.split(':');
  if (kind === 'allclose') return a === undefined ? DEFAULT_COMPARATOR : { kind, atol: Number(a), rtol: Number(b ?? 0) };
  if (kind === 'argmax' || kind === 'exact') return { kind };
  if (kind === 'cosine') return { kind, threshold: Number(a ?? 0.999) };
  throw new UsageError(`--comparator must be allclose[:ATOL:RTOL], argmax, cosine:T or exact, got "${raw}"`);
}

function configFrom(args: Map<string, string>): SimConfig {
  for (const k of args.keys()) if (!KNOWN.includes(k)) throw new UsageError(`unknown option --${k} (known: ${KNOWN.map((x) => `--${x}`).join(' ')})`);
  const replication = int(args, 'replication', DEFAULT_SIM_CONFIG.replication, 1);
  const adaptive = args.get('adaptive') ?? 'true';
  if (adaptive !== 'true' && adaptive !== 'false') throw new UsageError(`--adaptive must be true or false, got "${adaptive}"`);
  const canaryRate = rate(args, 'canary-rate');
  const spotCheckRate = rate(args, 'spot-check-rate');
  const config: SimConfig = {
    ...DEFAULT_SIM_CONFIG,
    volunteers: int(args, 'volunteers', DEFAULT_SIM_CONFIG.volunteers, 1),
    shards: int(args, 'shards', DEFAULT_SIM_CONFIG.shards, 1),
    seed: int(args, 'seed', DEFAULT_SIM_CONFIG.seed, 0),
    shardSize: int(args, 'shard-size', DEFAULT_SIM_CONFIG.shardSize, 1),
    replication,
    quorum: int(args, 'quorum', DEFAULT_SIM_CONFIG.quorum, 1),
    maxReplicas: int(args, 'max-replicas', Math.min(16, Math.max(4, replication + 2)), 1),
    adaptive: adaptive === 'true',
    ...(canaryRate !== undefined ? { canaryRate } : {}),
    ...(spotCheckRate !== undefined ? { spotCheckRate } : {}),
    comparator: comparator(args.get('comparator')),
    backends: args.has('backends') ? parseBackends(args.get('backends') as string) : DEFAULT_SIM_CONFIG.backends,
    mix: args.has('mix') ? parseMix(args.get('mix') as string) : DEFAULT_SIM_CONFIG.mix,
  };
  // The same check a requester's policy meets at the door ([M-5]).
  const policy = policySchema.safeParse({
    replication: config.replication,
    quorum: config.quorum,
    maxReplicas: config.maxReplicas,
    comparator: config.comparator,
  });
  if (!policy.success) throw new UsageError(`invalid policy: ${policy.error.issues[0]?.message ?? 'rejected'}`);
  return config;
}

function main(): void {
  let config: SimConfig;
  try {
    config = configFrom(parseArgs(process.argv.slice(2)));
  } catch (e) {
    if (e instanceof UsageError || e instanceof MixError) {
      console.error(`sim: ${e.message}`);
      process.exit(2);
    }
    throw e;
  }
  const share = (m: ReadonlyMap<string, number>): string => [...m].map(([k, v]) => `${k}:${v}`).join(',');
  console.log(
    `sim: ${config.volunteers} volunteers (${share(config.mix)}; ${share(config.backends)}), ${config.shards} shards of ${config.shardSize}, seed ${config.seed}, ` +
      `policy R=${config.replication} Q=${config.quorum} max=${config.maxReplicas} adaptive=${config.adaptive} comparator=${JSON.stringify(config.comparator)}`,
  );
  const cpu = (): number => {
    const u = process.cpuUsage();
    return (u.user + u.system) / 1000;
  };
  const wall0 = performance.now();
  const r = runSim(config, { clock: () => performance.now(), cpuClock: cpu });
  const elapsedMs = performance.now() - wall0;

  console.log('');
  console.log(`${'kind'.padEnd(8)} ${'volunteers'.padStart(10)} ${'lied'.padStart(6)} ${'quarantined'.padStart(11)} ${'results'.padStart(9)}`);
  for (const k of r.byKind) {
    console.log(
      `${k.kind.padEnd(8)} ${String(k.volunteers).padStart(10)} ${String(k.lied).padStart(6)} ${String(k.quarantined).padStart(11)} ${String(k.results).padStart(9)}`,
    );
  }
  console.log('');
  const rows: [string, string | number][] = [
    ['shards accepted correct', r.acceptedCorrect],
    ['shards accepted WRONG', r.acceptedWrong],
    ['shards unverifiable', r.unverifiable],
    ['shards still open', r.open],
    ['copies per accepted shard', r.copiesPerShard.toFixed(4)],
    ['lone acceptances / spot-checks / canary results', `${r.loneAccepted} / ${r.spotChecks} / ${r.canaryResults}`],
    ['shards re-opened after a quarantine', r.reopened],
    ['honest quarantined', r.honestQuarantined],
    ['adversaries quarantined / lied / total', `${r.adversariesQuarantined} / ${r.adversariesThatLied} / ${r.adversaries}`],
    ['virtual time', `${(r.virtualMs / 1000).toFixed(1)} s${r.finished ? '' : ' (stopped before the end)'}`],
    ['results processed', r.resultsProcessed],
    [
      'results/s (loop wall, core calls only, loop cpu)',
      `${Math.round((r.resultsProcessed / r.loopMs) * 1000)}, ${Math.round((r.resultsProcessed / r.coreMs) * 1000)}, ${Math.round((r.resultsProcessed / r.loopCpuMs) * 1000)}`,
    ],
  ];
  for (const [k, v] of rows) console.log(`${k.padEnd(48)} ${v}`);
  const round = (x: number): number => Math.round(x);
  console.log(
    JSON.stringify({
      shards: r.shards,
      acceptedCorrect: r.acceptedCorrect,
      acceptedWrong: r.acceptedWrong,
      unverifiable: r.unverifiable,
      copiesPerShard: Number(r.copiesPerShard.toFixed(4)),
      honestQuarantined: r.honestQuarantined,
      adversaries: r.adversaries,
      adversariesQuarantined: r.adversariesQuarantined,
      resultsPerSec: round((r.resultsProcessed / r.loopMs) * 1000),
      elapsedMs: round(elapsedMs),
      open: r.open,
      adversariesThatLied: r.adversariesThatLied,
      volunteers: r.volunteers,
      seed: r.seed,
      resultsProcessed: r.resultsProcessed,
      coreResultsPerSec: round((r.resultsProcessed / r.coreMs) * 1000),
      resultsPerCpuSec: round((r.resultsProcessed / r.loopCpuMs) * 1000),
      loopMs: round(r.loopMs),
      coreMs: round(r.coreMs),
      canaryResults: r.canaryResults,
      spotChecks: r.spotChecks,
      loneAccepted: r.loneAccepted,
      reopened: r.reopened,
      virtualMs: r.virtualMs,
      finished: r.finished,
    }),
  );
}

main();
