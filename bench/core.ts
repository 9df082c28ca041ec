/**
 * Coordinator core: results/s that the pure verification core (src/core/coordinator) takes in
 * with 1,000 and 10,000 simulated volunteers, in this Node process, with no transport and no
 * storage. Every volunteer holds one lease and returns agreeing outputs ([10, 10] float32 logits
 * per shard of 10 items); results are timed through `core.handle` alone, and again with the
 * protocol parser in front (as the coordinator host runs them). If the project has `npm run sim`
 * (scripts/sim.ts, printing a JSON last line with `resultsPerSec`), its figures are added too:
 * `coreResultsPerSec` (time in the core's calls) and `resultsPerSec` (its whole loop: simulated
 * volunteers and parsers included).
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { CoordinatorCore } from '../src/core/coordinator/coordinator.ts';
import type { CoordinatorEffect } from '../src/core/coordinator/effects.ts';
import { DEFAULT_COORDINATOR_CONFIG } from '../src/core/coordinator/state.ts';
import { seededRng } from '../src/core/rng.ts';
import { asModelHash, asPeerId, type LeaseId, type PeerId } from '../src/protocol/ids.ts';
import { PROTOCOL_VERSION, type JobSpec, type ToCoordinator } from '../src/protocol/messages.ts';
import { parseToCoordinator } from '../src/protocol/parse.ts';
import { ROOT } from './env.ts';
import { median, round } from './stats.ts';

export interface CoreRow {
  readonly volunteers: number;
  readonly results: number;
  readonly replication: number;
  /** Median over runs. */
  readonly resultsPerSec: number;
  readonly resultsPerSecWithParse: number;
  readonly source: string;
}

export interface CoreResult {
  /** Headline: results/s of core.handle at 1,000 and 10,000 volunteers, replication 2. */
  readonly resultsPerSec: Record<string, number>;
  readonly rows: readonly CoreRow[];
}

const V = PROTOCOL_VERSION;
const SHARD_ITEMS = 10;
const CLASSES = 10;

function hello(): ToCoordinator {
  return {
    v: V,
    t: 'hello',
    role: 'volunteer',
    caps: { backend: 'wasm', adapter: null, backendReason: 'bench', ortVersion: '1.30.0', threads: 1 },
    label: 'sim',
  };
}

function leasesIn(effects: readonly CoordinatorEffect[], out: Map<PeerId, LeaseId>): void {
  for (const e of effects) if (e.kind === 'send' && e.msg.t === 'lease') out.set(e.to, e.msg.leaseId);
}

/** One run: `volunteers` peers, `results` results in total; seconds spent in handle(result). */
function runOnce(volunteers: number, results: number, replication: number, withParse: boolean): number {
  const core = new CoordinatorCore({ ...DEFAULT_COORDINATOR_CONFIG, networkId: 'bench', leaseTimeoutMs: 1e12, peerTimeoutMs: 1e12 }, seededRng(7));
  let now = 1;
  const requester = asPeerId('requester');
  core.connect(requester, now);
  core.handle(requester, { v: V, t: 'hello', role: 'requester', caps: null, label: 'bench' }, now);
  const shards = Math.ceil(results / replication);
  const items = shards * SHARD_ITEMS;
  const spec: JobSpec = {
    name: 'core bench',
    model: new Uint8Array(64).buffer,
    inputs: [{ name: 'x', dtype: 'float32', dims: [items, 1], data: new ArrayBuffer(items * 4) }],
    shardSize: SHARD_ITEMS,
    policy: { replication, quorum: replication, maxReplicas: Math.max(4, replication), comparator: { kind: 'allclose', atol: 1e-4, rtol: 1e-3 } },
    requesterKey: '',
  };
  const submitted = core.handle(requester, { v: V, t: 'submit-job', ref: 'r1', spec }, now);
  const hashing = submitted.find((e) => e.kind === 'hash-model');
  if (!hashing || hashing.kind !== 'hash-model') throw new Error(`submit-job gave no hash-model effect: ${submitted.map((e) => e.kind).join(', ')}`);
  core.admitJob(requester, 'r1', hashing.spec, asModelHash('d'.repeat(64)), now);

  const peers = Array.from({ length: volunteers }, (_, i) => asPeerId(`v${i}`));
  for (const p of peers) {
    core.connect(p, now);
    core.handle(p, hello(), now);
  }
  const logits = new Float32Array(SHARD_ITEMS * CLASSES);
  for (let i = 0; i < logits.length; i++) logits[i] = (i % 7) - 3;
  const leases = new Map<PeerId, LeaseId>();
  for (const p of peers) leasesIn(core.handle(p, { v: V, t: 'lease-request' }, now), leases);

  let done = 0;
  let ns = 0n;
  while (done < results && leases.size > 0) {
    const round = [...leases];
    leases.clear();
    for (const [peer, leaseId] of round) {
      if (done >= results) break;
      now += 0.01;
      // Each result brings its own copy of the outputs, as a decoded frame does.
      const raw = {
        v: V,
        t: 'result',
        leaseId,
        outputs: [{ name: 'logits', dtype: 'float32', dims: [SHARD_ITEMS, CLASSES], data: logits.slice().buffer }],
        backend: 'wasm',
        inferMs: 1,
      };
      const t0 = process.hrtime.bigint();
      let msg: ToCoordinator;
      if (withParse) {
        const parsed = parseToCoordinator(raw);
        if (!parsed.ok) throw new Error(parsed.error.reason);
        msg = parsed.msg;
      } else {
        msg = raw as ToCoordinator;
      }
      core.handle(peer, msg, now);
      ns += process.hrtime.bigint() - t0;
      done++;
      leasesIn(core.handle(peer, { v: V, t: 'lease-request' }, now), leases);
    }
  }
  if (done < results) throw new Error(`only ${done} of ${results} results could be delivered (leases ran out)`);
  return done / (Number(ns) / 1e9);
}

function fromSim(volunteers: number, shards: number): CoreRow | null {
  const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { scripts?: Record<string, string> };
  if (!pkg.scripts?.['sim'] || !fs.existsSync(path.join(ROOT, 'scripts', 'sim.ts'))) return null;
  // All honest, the default policy (replication 2, adaptive): the coordinator's everyday load.
  const args = ['run', '--silent', 'sim', '--', `--volunteers=${volunteers}`, `--shards=${shards}`, '--mix=honest:1'];
  const r = spawnSync('npm', args, { cwd: ROOT, encoding: 'utf8', timeout: 300_000 });
  const last = (r.stdout ?? '').trim().split('\n').pop() ?? '';
  try {
    const j = JSON.parse(last) as { resultsPerSec?: number; coreResultsPerSec?: number; resultsProcessed?: number };
    if (typeof j.resultsPerSec !== 'number') return null;
    return {
      volunteers,
      results: j.resultsProcessed ?? NaN,
      replication: 2,
      resultsPerSec: round(j.coreResultsPerSec ?? NaN),
      resultsPerSecWithParse: round(j.resultsPerSec),
      source: 'npm run sim (adaptive replication, canaries)',
    };
  } catch {
    return null;
  }
}

export async function benchCore(opts: { quick: boolean }): Promise<CoreResult> {
  const runs = opts.quick ? 2 : 5;
  const results = opts.quick ? 20_000 : 100_000;
  const rows: CoreRow[] = [];
  for (const volunteers of [1_000, 10_000]) {
    for (const replication of [1, 2]) {
      const plain: number[] = [];
      const parsed: number[] = [];
      for (let i = 0; i < runs; i++) {
        plain.push(runOnce(volunteers, results, replication, false));
        parsed.push(runOnce(volunteers, results, replication, true));
      }
      const row: CoreRow = {
        volunteers,
        results,
        replication,
        resultsPerSec: round(median(plain)),
        resultsPerSecWithParse: round(median(parsed)),
        source: 'bench/core.ts',
      };
      rows.push(row);
      console.log(`  ${volunteers} volunteers, replication ${replication}: ${row.resultsPerSec} results/s (${row.resultsPerSecWithParse} with parse)`);
    }
    const sim = fromSim(volunteers, opts.quick ? 10_000 : 50_000);
    if (sim) rows.push(sim);
  }
  const resultsPerSec: Record<string, number> = {};
  for (const r of rows) if (r.source === 'bench/core.ts' && r.replication === 2) resultsPerSec[`volunteers${r.volunteers}`] = r.resultsPerSec;
  await Promise.resolve();
  return { resultsPerSec, rows };
}
