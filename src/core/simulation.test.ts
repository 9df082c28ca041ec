/**
 * Seeded simulations: one coordinator, several volunteers (honest, lying, leaving, slow), every
 * frame through the real parsers. A failing run names its seed; replay it with `runJob(seed, …)`
 * and keep it as a test.
 */
import { describe, it, expect } from 'vitest';
import { asPeerId, type JobId } from '../protocol/ids.ts';
import { LIMITS } from '../protocol/limits.ts';
import type { FromCoordinator, JobSpec } from '../protocol/messages.ts';
import { DEFAULT_POLICY } from '../protocol/policy.ts';
import { float32View } from '../protocol/tensor.ts';
import { seededRng, type Rng } from './rng.ts';
import { f32 } from './testing/fixtures.ts';
import { Simulation, makeFakeModel, type SimVolunteerSpec } from './testing/simHarness.ts';
import { allclose } from './verification/compare.ts';

const SEEDS = Array.from({ length: 16 }, (_, i) => 1000 + i * 7919);
const ITEMS = 45;
const SHARD_SIZE = 4; // 12 shards, the last one short
const WIDTH = 3; // input features
const K = 4; // fake model outputs per row
const LEASE_TIMEOUT_MS = 5_000;
const LIMIT_MS = 10 * 60_000;

type JobResults = Extract<FromCoordinator, { t: 'job-results' }>;

function makeSpec(rng: Rng): JobSpec {
  const xs: number[] = [];
  for (let i = 0; i < ITEMS * WIDTH; i++) xs.push(rng.next() * 2 - 1);
  return {
    name: 'simulated job',
    model: makeFakeModel(LIMITS.modelChunkBytes + 4096, K, rng), // two chunks
    inputs: [f32('x', [ITEMS, WIDTH], xs)],
    shardSize: SHARD_SIZE,
    policy: DEFAULT_POLICY,
    requesterKey: '',
  };
}

/** What an exact model computes for row r: (j + 1) · Σ x[r]. */
function expectedRows(spec: JobSpec, start: number, count: number): Float32Array {
  const x = float32View(spec.inputs[0]!);
  const out = new Float32Array(count * K);
  for (let r = 0; r < count; r++) {
    let sum = 0;
    for (let c = 0; c < WIDTH; c++) sum += x[(start + r) * WIDTH + c] as number;
    for (let j = 0; j < K; j++) out[r * K + j] = (j + 1) * sum;
  }
  return out;
}

interface Run {
  readonly sim: Simulation;
  readonly spec: JobSpec;
  readonly jobId: JobId;
  readonly results: JobResults;
}

/** Submits one job, runs until it is done and its results are back, and checks the basics. */
function runJob(seed: number, volunteers: readonly SimVolunteerSpec[], leaseTimeoutMs = LEASE_TIMEOUT_MS): Run {
  const sim = new Simulation({ seed, volunteers, config: { leaseTimeoutMs, noWorkRetryMs: 200 } });
  const spec = makeSpec(seededRng(seed ^ 0xabcdef));
  sim.submit(spec);
  const where = `seed ${seed}`;

  expect(
    sim.run(() => sim.received('job-accepted') !== undefined, LIMIT_MS),
    `${where}: job accepted`,
  ).toBe(true);
  const jobId = sim.received('job-accepted')!.jobId;
  const done = sim.run(() => sim.coordinator.jobStatuses()[0]?.done === true, LIMIT_MS);
  expect(done, `${where}: job done\n${sim.log.slice(-20).join('\n')}`).toBe(true);
  sim.requestResults(jobId);
  expect(
    sim.run(() => sim.received('job-results') !== undefined, LIMIT_MS),
    `${where}: results back`,
  ).toBe(true);
  expect(sim.protocolErrors, where).toEqual([]);
  return { sim, spec, jobId, results: sim.received('job-results')! };
}

/** Every shard verified exactly once, by distinct volunteers, with outputs the model computes. */
function expectAllVerifiedCorrectly(run: Run, seed: number): void {
  const { sim, spec, results } = run;
  const where = `seed ${seed}`;
  const shards = Math.ceil(ITEMS / SHARD_SIZE);
  expect(
    sim.decisions.filter((d) => d.status === 'unverifiable'),
    where,
  ).toEqual([]);
  const verified = sim.decisions.filter((d) => d.status === 'verified').map((d) => d.shardId);
  expect(verified.length, where).toBe(shards);
  expect(new Set(verified).size, `${where}: a shard was verified twice`).toBe(shards);

  expect(results.shards.map((s) => s.index).sort((a, b) => a - b)).toEqual([...Array(shards).keys()]);
  for (const s of results.shards) {
    expect(s.volunteers.length, where).toBeGreaterThanOrEqual(DEFAULT_POLICY.quorum);
    expect(new Set(s.volunteers).size, `${where}: shard ${s.index} verified by one volunteer twice`).toBe(s.volunteers.length);
    expect(s.backends.length).toBe(s.volunteers.length);
    expect(s.start).toBe(s.index * SHARD_SIZE);
    const y = s.outputs.find((t) => t.name === 'y');
    expect(y?.dims, where).toEqual([s.count, K]);
    const agreement = allclose(new Float32Array(y!.data), expectedRows(spec, s.start, s.count), 1e-4, 1e-3);
    expect(agreement.reason, `${where}: shard ${s.index}`).toBe('');
  }
}

/** `n` volunteers joining at random times in the first 100 ms, half on each backend. */
function crowd(rng: Rng, n: number): SimVolunteerSpec[] {
  return Array.from({ length: n }, (_, i) => ({
    id: `vol${i}`,
    backend: i % 2 === 0 ? 'webgpu' : 'wasm',
    joinAtMs: Math.floor(rng.next() * 100),
  }));
}

describe('simulation: one coordinator, several volunteers, real parsers both ways', () => {
  it('[R-3] [L-2] [M-1] every shard is verified exactly once by two different volunteers, with the right outputs', () => {
    let mixed = 0;
    for (const seed of SEEDS) {
      const run = runJob(seed, crowd(seededRng(seed), 5));
      expectAllVerifiedCorrectly(run, seed);
      expect(run.sim.framesToCoordinator).toBeGreaterThan(0);
      expect(run.sim.framesFromCoordinator).toBeGreaterThan(0);
      mixed += run.results.shards.filter((s) => new Set(s.backends).size > 1).length;
    }
    // WebGPU and WASM results (which differ by ~1e-7) verify each other.
    expect(mixed).toBeGreaterThan(0);
  });

  it('[P-2] [L-3] a volunteer leaving mid-job loses no shard', () => {
    let leftHolding = 0;
    for (const seed of SEEDS) {
      const rng = seededRng(seed);
      const volunteers = crowd(rng, 5);
      const leaver = Math.floor(rng.next() * volunteers.length);
      const leaveAtMs = 150 + Math.floor(rng.next() * 400);
      volunteers[leaver] = { ...volunteers[leaver]!, leaveAtMs };
      // No lease expires within the run: only the release on disconnect can free its shard.
      const run = runJob(seed, volunteers, 2 * LIMIT_MS);
      expectAllVerifiedCorrectly(run, seed);
      const gone = run.sim.departures.find((d) => d.volunteer === `vol${leaver}`);
      expect(gone, `seed ${seed}`).toBeDefined();
      if (gone!.leasesHeld > 0) leftHolding++;
      // Nothing of it counts after it left.
      for (const shard of run.sim.coordinator.shardsOf(run.jobId)) {
        for (const r of shard.replicas) if (r.volunteer === gone!.volunteer) expect(r.receivedAtMs).toBeLessThanOrEqual(gone!.atMs);
      }
    }
    // The point of the scenario: most departures happen with a lease in hand.
    expect(leftHolding).toBeGreaterThan(SEEDS.length / 2);
  });

  it('[P-4] a tab that vanishes without closing its channel loses no shard', () => {
    let dropped = 0;
    for (const seed of SEEDS.slice(0, 6)) {
      const rng = seededRng(seed);
      const volunteers = crowd(rng, 4);
      volunteers[0] = { ...volunteers[0]!, vanishAtMs: 150 + Math.floor(rng.next() * 300) };
      // No lease expires within the run: only the silence timeout can free its shard.
      const run = runJob(seed, volunteers, 2 * LIMIT_MS);
      expectAllVerifiedCorrectly(run, seed);
      dropped += run.sim.log.filter((l) => /vol0 silent for/.test(l)).length;
      expect(run.sim.coordinator.peerSummaries().map((p) => p.peerId)).not.toContain('vol0');
    }
    expect(dropped).toBe(6);
  });

  it('[Q-1] [R-4] a lying volunteer never gets a wrong result accepted while honest ones outnumber it', () => {
    let outvoted = 0;
    for (const seed of SEEDS) {
      const rng = seededRng(seed);
      const volunteers = crowd(rng, 5);
      const liar = Math.floor(rng.next() * volunteers.length);
      volunteers[liar] = { ...volunteers[liar]!, behaviour: 'liar' };
      const run = runJob(seed, volunteers);
      expectAllVerifiedCorrectly(run, seed);
      for (const s of run.results.shards) expect(s.volunteers, `seed ${seed}`).not.toContain(`vol${liar}`);
      outvoted += run.sim.coordinator.jobStatuses()[0]!.disagreements;
    }
    expect(outvoted).toBeGreaterThan(0); // the liar did take part, and lost
  });

  it('[V-3] [Q-1] a volunteer returning NaN never gets its result accepted', () => {
    for (const seed of SEEDS.slice(0, 6)) {
      const volunteers = crowd(seededRng(seed), 5);
      volunteers[1] = { ...volunteers[1]!, behaviour: 'nan' };
      const run = runJob(seed, volunteers);
      expectAllVerifiedCorrectly(run, seed);
      for (const s of run.results.shards) expect(s.volunteers).not.toContain('vol1');
    }
  });

  it('[L-4] [L-3] [R-2] a straggler slower than the lease timeout delays nothing and is never counted twice', () => {
    let expired = 0;
    for (const seed of SEEDS.slice(0, 8)) {
      const volunteers = crowd(seededRng(seed), 4);
      volunteers.push({ id: 'slow', backend: 'wasm', inferMs: [LEASE_TIMEOUT_MS + 500, LEASE_TIMEOUT_MS + 3000] });
      const run = runJob(seed, volunteers);
      expectAllVerifiedCorrectly(run, seed);
      expired += run.sim.log.filter((l) => /lease expired/.test(l)).length;
    }
    expect(expired).toBeGreaterThan(0);
  });

  it('[L-10] [W-21] [L-8] a volunteer that needs 73 s a shard keeps its 60 s leases by progress frames: nothing expires, its work counts', () => {
    const SLOW_MS = 73_000;
    for (const seed of SEEDS.slice(0, 4)) {
      const volunteers: SimVolunteerSpec[] = [...crowd(seededRng(seed), 2), { id: 'slow', backend: 'webgpu', inferMs: [SLOW_MS - 1_000, SLOW_MS] }];
      const run = runJob(seed, volunteers, 60_000);
      expectAllVerifiedCorrectly(run, seed);
      expect(
        run.sim.log.filter((l) => /lease expired/.test(l)),
        `seed ${seed}`,
      ).toEqual([]);
      const bySlow = run.results.shards.filter((s) => s.volunteers.includes(asPeerId('slow'))).length;
      expect(bySlow, `seed ${seed}: the slow volunteer's results are in accepted answers`).toBeGreaterThan(0);
    }
  });

  it('[D-1] a seed replays the same run', () => {
    const once = (seed: number): string => {
      const run = runJob(seed, crowd(seededRng(seed), 4));
      return JSON.stringify(run.sim.decisions);
    };
    expect(once(42)).toBe(once(42));
    expect(once(42)).not.toBe(once(43));
  });

  it('[C-2] [X-1] [X-3] over the wire: canaries pass the real parsers and volunteers, a liar fails one and is quarantined', () => {
    let canaries = 0;
    for (const seed of SEEDS.slice(0, 4)) {
      const volunteers = crowd(seededRng(seed), 6);
      volunteers[2] = { ...volunteers[2]!, behaviour: 'liar' };
      const sim = new Simulation({ seed, volunteers, config: { leaseTimeoutMs: LEASE_TIMEOUT_MS, noWorkRetryMs: 200 } });
      const spec = { ...makeSpec(seededRng(seed ^ 0xabcdef)), policy: { ...DEFAULT_POLICY, canaryRate: 0.3 } };
      sim.submit(spec);
      const where = `seed ${seed}`;
      // Until every shard is decided and the suspect liar has been tested.
      const settled = (): boolean => sim.coordinator.jobStatuses()[0]?.done === true && sim.coordinator.pendingAudits() === 0;
      expect(sim.run(settled, LIMIT_MS), `${where}: settled\n${sim.log.slice(-20).join('\n')}`).toBe(true);
      expect(sim.protocolErrors, where).toEqual([]);
      expect(sim.coordinator.reputation.isQuarantined(asPeerId('vol2')), where).toBe(true);
      for (let i = 0; i < 6; i++) if (i !== 2) expect(sim.coordinator.reputation.isQuarantined(asPeerId(`vol${i}`)), where).toBe(false);
      canaries += sim.coordinator.verificationTotals().canaryResults;
      const jobId = sim.received('job-accepted')!.jobId;
      for (const s of sim.coordinator.shardsOf(jobId)) {
        expect(s.status, where).toBe('verified');
        expect(s.accepted!.volunteers, where).not.toContain('vol2');
      }
    }
    expect(canaries).toBeGreaterThan(4);
  });
});
