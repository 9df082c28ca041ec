/**
 * Network efficiency: verified items/s of a whole network — one coordinator tab, N volunteer tabs
 * and a requester tab, each its own browser context, over the real PeerServer, real WebRTC and
 * real IndexedDB, running the product's hosts — divided by N x one tab's raw items/s (the
 * volunteer's Worker engine, 1 thread, same model and batch = shard size, no network), measured
 * in a tab of its own right before and after each row, so both sides of the ratio see the same load.
 *
 * Each N is measured with the volunteers pipelining leases ([W-18]: `prefetch` 1, the app's
 * default, so the next shard's inputs travel while one computes) and without (`prefetch` 0, one
 * lease at a time): two networks side by side, each with its own coordinator, volunteers and
 * requester, run every job in turn between the same two raw measurements, so the two columns see
 * the same load.
 *
 * Timing is the coordinator's own: from the core admitting the job (after the upload) to the last
 * shard verified. Each N starts fresh tabs; a small warm-up job first has every volunteer fetch
 * and load the model, so the figures are steady state. Where the time goes:
 * - `volunteerBusy`: share of the volunteers' wall time spent in session.run();
 * - `computeEfficiency`: efficiency x replication (replicas are useful work too);
 * - `inputMBps`: shard inputs the coordinator pushed to volunteers per second.
 */
import os from 'node:os';
import type { Browser } from '@playwright/test';
import { LIMITS } from '../src/protocol/limits.ts';
import type { JobTimes } from './page/api.ts';
import { isolate, isolationAvailable, release } from './affinity.ts';
import { cpuBetween, medianCpu, snapshotCpu, type CpuShare } from './cpu.ts';
import { webRow, type Sampling } from './engine.ts';
import { openTab, type BenchTab } from './env.ts';
import { MNIST_MODEL, type BenchModel } from './models.ts';
import { median, round } from './stats.ts';

export interface NetworkRow {
  readonly model: string;
  readonly shardSize: number;
  readonly volunteers: number;
  readonly replication: number;
  /** [W-18] Leases each volunteer queues behind the running one (0 = one lease at a time). */
  readonly prefetch: number;
  readonly items: number;
  readonly shards: number;
  readonly runs: number;
  /** Medians over runs. */
  readonly verifiedItemsPerSec: number;
  readonly rawItemsPerSec: number;
  readonly efficiency: number;
  /** Efficiency between the first and the last verified shard: without the pipeline's fill. */
  readonly steadyEfficiency: number;
  readonly computeEfficiency: number;
  readonly volunteerBusy: number;
  readonly inputMBps: number;
  /** Requester -> coordinator upload of the job, until the job was accepted. */
  readonly uploadMBps: number;
  /** From admission to the first verified shard (ms): the pipeline's fill time. */
  readonly firstShardMs: number;
  /** From the last shard verified until every store write of the job had finished (ms). */
  readonly storeLagMs: number;
  /**
   * Per shard, as the coordinator saw it (medians, ms): lease handed to the transport -> its result
   * back (`volunteerRoundTrip`, of which `compute` is session.run(); with prefetch it includes the
   * wait behind the shard running before it), lease-request in -> the lease answering it handed to
   * the transport (`coordinator`), and result in -> that volunteer's next lease-request in
   * (`requestGap`; with prefetch the request went out earlier, during the run, so few are measured).
   */
  readonly perShardMs: { readonly volunteerRoundTrip: number; readonly compute: number; readonly coordinator: number; readonly requestGap: number };
  /**
   * One shard's session.run() in a volunteer of the network over the same in a tab alone (same
   * model, batch and thread count): above 1, the volunteers' compute itself slowed down, sharing
   * the machine with the coordinator, the data plane and each other. efficiency is about
   * volunteerBusy / this (x the engine's own per-call overhead, which raw items/s counts).
   */
  readonly sessionSlowdown: number;
  /**
   * Each volunteer's renderer on a core of its own and the rest of the network (coordinator,
   * requester, browser, network service, server) on core 0; the raw rate alone on core 1 too.
   */
  readonly ownCores: boolean;
  /** More busy threads (N volunteers + the coordinator) than cores. */
  readonly oversubscribed: boolean;
  /**
   * Where the CPU went while the job ran (cores, medians over runs; cpu.ts): the volunteers'
   * inference, the pages, the WebRTC data plane, the browser process, the bench's server. Null
   * where /proc cannot be read.
   */
  readonly cpu: CpuShare | null;
}

export interface NetworkResult {
  /** Headline: efficiency per N and replication on the product's model, shard size 100, prefetch on (`-p0`: off). */
  readonly efficiency: Record<string, number>;
  readonly rows: readonly NetworkRow[];
}

interface JobPlan {
  readonly model: BenchModel;
  readonly shardSize: number;
  readonly replication: number;
  /** Each volunteer on a core of its own, the rest of the network on core 0 (affinity.ts). */
  readonly ownCores?: boolean;
}

const BYTES_PER_ITEM = 784 * 4;

function plans(quick: boolean, heavy: BenchModel, cores: number): { volunteers: number; jobs: JobPlan[] }[] {
  const mnist = (shardSize: number, replication = 1): JobPlan => ({ model: MNIST_MODEL, shardSize, replication });
  const big = (shardSize: number, replication = 1): JobPlan => ({ model: heavy, shardSize, replication });
  const own = (p: JobPlan): JobPlan => ({ ...p, ownCores: true });
  if (quick) {
    return [
      { volunteers: 1, jobs: [mnist(100), big(100), big(400), own(big(100))] },
      { volunteers: 2, jobs: [mnist(100), mnist(100, 2), big(100)] },
    ];
  }
  const out = [
    { volunteers: 1, jobs: [mnist(25), mnist(100), mnist(400), mnist(1600), big(100), big(400), own(mnist(100)), own(big(100)), own(big(400))] },
    { volunteers: 2, jobs: [mnist(100), mnist(400), mnist(100, 2), big(100), big(100, 2)] },
  ];
  for (let n = 3; n <= Math.max(4, cores + 1); n++) out.push({ volunteers: n, jobs: [mnist(100), mnist(100, 2), big(100)] });
  return out;
}

/** Short: measured twice per row, right before and right after the network runs it. */
const rawSampling = (quick: boolean): Sampling => ({ warmupRuns: 3, samples: quick ? 2 : 3, sampleMs: quick ? 400 : 500 });

interface Net {
  readonly prefetch: number;
  readonly coord: BenchTab;
  readonly vols: readonly BenchTab[];
  readonly req: BenchTab;
}

/** A coordinator, N volunteers queueing `prefetch` leases, and a requester, on a network of their own. */
async function openNetwork(browser: Browser, origin: string, volunteers: number, prefetch: number, tabs: BenchTab[]): Promise<Net> {
  const networkId = `bench-${volunteers}-p${prefetch}-${Date.now().toString(36)}`;
  const coord = await openTab(browser, origin, `coordinator-p${prefetch}`);
  tabs.push(coord);
  await coord.call('coordinator', networkId);
  const vols: BenchTab[] = [];
  for (let i = 0; i < volunteers; i++) {
    const v = await openTab(browser, origin, `volunteer-p${prefetch}-${i + 1}`);
    tabs.push(v);
    vols.push(v);
  }
  await Promise.all(vols.map((v) => v.call('volunteer', networkId, prefetch)));
  const req = await openTab(browser, origin, `requester-p${prefetch}`);
  tabs.push(req);
  await req.call('requester', networkId);
  return { prefetch, coord, vols, req };
}

/** Prefetch depths compared by default: one lease at a time, and the app's pipelining. */
export const DEFAULT_PREFETCH_MODES: readonly number[] = [0, 1];

export async function benchNetwork(
  browser: Browser,
  origin: string,
  opts: { quick: boolean; heavyModel: BenchModel; prefetch?: readonly number[]; volunteers?: readonly number[] },
): Promise<NetworkResult> {
  const cores = os.cpus().length;
  const pick = opts.volunteers;
  const schedule = plans(opts.quick, opts.heavyModel, cores)
    .filter((p) => !pick || pick.includes(p.volunteers))
    .map((p) => {
      const why = isolationAvailable(p.volunteers);
      if (why !== null && p.jobs.some((j) => j.ownCores)) console.warn(`  no "own core" rows for N=${p.volunteers}: ${why}`);
      return why === null ? p : { ...p, jobs: p.jobs.filter((j) => !j.ownCores) };
    });
  const modes = opts.prefetch ?? DEFAULT_PREFETCH_MODES;
  const runs = opts.quick ? 2 : 3;
  const targetSec = opts.quick ? 2.5 : 5;
  const mnistItems = opts.quick ? 8_000 : 16_000;

  // One tab's raw rate (same model, batch = shard size, 1 thread, no network) is measured in a tab
  // of its own right before and right after each row's runs, while the network's tabs sit idle:
  // on a shared machine the load drifts, and a ratio of figures taken minutes apart would not hold.
  const probe = await openTab(browser, origin, 'raw');
  const rows: NetworkRow[] = [];
  for (const { volunteers, jobs } of schedule) {
    const tabs: BenchTab[] = [];
    try {
      const nets: Net[] = [];
      for (const prefetch of modes) nets.push(await openNetwork(browser, origin, volunteers, prefetch, tabs));
      const warmed = new Set<string>();
      for (const job of jobs) {
        if (!warmed.has(job.model.name)) {
          // Every volunteer fetches, checks and loads the model once (3 shards each).
          for (const net of nets) {
            const w = await net.req.call('submit', { modelUrl: job.model.url, items: 100 * 3 * volunteers, shardSize: 100, replication: 1, quorum: 1 });
            await net.coord.call('jobDone', w.jobId, 120_000);
          }
          warmed.add(job.model.name);
        }
        // [own cores] The raw rate alone on core 1, as the volunteer will run.
        const pinProbe = async (): Promise<void> => {
          if (!job.ownCores) return;
          const pid = await probe.rendererPid();
          // Its engine (and worker) is made per measurement: the whole tab goes to core 1; its
          // main thread only posts the runs.
          if (pid === null || !isolate([pid], true)) throw new Error(`could not give the raw probe's worker a core of its own (renderer ${pid})`);
        };
        await pinProbe();
        const rawBefore = await webRow(probe, job.model, job.shardSize, 1, rawSampling(opts.quick));
        // The cheap model is bound by the data plane, not by N x raw: a fixed size. The heavy one
        // gets ~targetSec of N volunteers' raw compute.
        const wanted = job.model === MNIST_MODEL ? mnistItems : (volunteers * rawBefore.itemsPerSec * targetSec) / job.replication;
        // A job's input tensor stays within the protocol's limit (128 MiB: 42,799 digits).
        const cap = Math.floor(LIMITS.maxTensorBytes / BYTES_PER_ITEM / job.shardSize) * job.shardSize;
        const items = Math.min(cap, Math.max(job.shardSize * volunteers * 2, Math.ceil(wanted / job.shardSize) * job.shardSize));
        type Sample = {
          steady: number;
          rate: number;
          busy: number;
          upload: number;
          first: number;
          lag: number;
          rt: number;
          compute: number;
          coord: number;
          gap: number;
          cpu: CpuShare | null;
        };
        const samples = new Map<Net, Sample[]>(nets.map((n) => [n, []]));
        let shards = 0;
        // Runs alternate between the networks, so a drift in load reaches both columns alike.
        for (let r = 0; r < runs; r++) {
          for (const net of nets) {
            if (job.ownCores) {
              const pids = await Promise.all(net.vols.map((v) => v.rendererPid()));
              if (pids.some((p) => p === null) || !isolate(pids as number[])) {
                throw new Error(`could not give each volunteer's worker a core of its own (renderers: ${pids.join(', ')})`);
              }
            }
            const before = await Promise.all(net.vols.map((v) => v.call('volunteerStats')));
            const sub = await net.req.call('submit', {
              modelUrl: job.model.url,
              items,
              shardSize: job.shardSize,
              replication: job.replication,
              quorum: job.replication,
            });
            // From the job's acceptance (the upload is over, shards are being leased) to its end.
            const cpuBefore = snapshotCpu();
            const t: JobTimes = await net.coord.call('jobDone', sub.jobId, 300_000);
            const cpuAfter = snapshotCpu();
            const after = await Promise.all(net.vols.map((v) => v.call('volunteerStats')));
            const wallMs = t.lastVerifiedMs - t.admittedMs;
            const computeMs = after.reduce((s, a, i) => s + a.computeMs - (before[i]?.computeMs ?? 0), 0);
            shards = t.shardCount;
            samples.get(net)?.push({
              steady: ((t.shardCount - 1) * (items / t.shardCount)) / ((t.lastVerifiedMs - t.firstVerifiedMs) / 1000),
              rate: items / (wallMs / 1000),
              busy: computeMs / (volunteers * wallMs),
              upload: sub.inputBytes / 1e6 / (sub.uploadMs / 1000),
              first: t.firstVerifiedMs - t.admittedMs,
              lag: t.durableMs - t.lastVerifiedMs,
              rt: t.perShard.volunteerMs,
              compute: computeMs / (t.shardCount * job.replication),
              coord: t.perShard.coordinatorMs,
              gap: t.perShard.requestGapMs,
              cpu: cpuBefore && cpuAfter ? cpuBetween(cpuBefore, cpuAfter) : null,
            });
          }
        }
        await pinProbe();
        const rawAfter = await webRow(probe, job.model, job.shardSize, 1, rawSampling(opts.quick));
        if (job.ownCores) release();
        const rawItemsPerSec = median([...rawBefore.samples, ...rawAfter.samples]);
        const aloneSessionMs =
          (job.shardSize / median([rawBefore.sessionItemsPerSec ?? rawBefore.itemsPerSec, rawAfter.sessionItemsPerSec ?? rawAfter.itemsPerSec])) * 1000;
        for (const net of nets) {
          const got = samples.get(net) ?? [];
          const rate = median(got.map((s) => s.rate));
          const row: NetworkRow = {
            model: job.model.name,
            shardSize: job.shardSize,
            volunteers,
            replication: job.replication,
            prefetch: net.prefetch,
            items,
            shards,
            runs,
            verifiedItemsPerSec: round(rate),
            rawItemsPerSec: round(rawItemsPerSec),
            efficiency: round(rate / (volunteers * rawItemsPerSec), 3),
            steadyEfficiency: round(median(got.map((s) => s.steady)) / (volunteers * rawItemsPerSec), 3),
            computeEfficiency: round((rate * job.replication) / (volunteers * rawItemsPerSec), 3),
            volunteerBusy: round(median(got.map((s) => s.busy)), 3),
            inputMBps: round((rate * job.replication * BYTES_PER_ITEM) / 1e6, 3),
            uploadMBps: round(median(got.map((s) => s.upload)), 3),
            firstShardMs: round(median(got.map((s) => s.first)), 3),
            storeLagMs: round(median(got.map((s) => s.lag)), 3),
            perShardMs: {
              volunteerRoundTrip: round(median(got.map((s) => s.rt)), 3),
              compute: round(median(got.map((s) => s.compute)), 3),
              coordinator: round(median(got.map((s) => s.coord)), 3),
              requestGap: round(median(got.map((s) => s.gap)), 3),
            },
            sessionSlowdown: round(median(got.map((s) => s.compute)) / aloneSessionMs, 3),
            ownCores: job.ownCores === true,
            oversubscribed: volunteers + 1 > cores,
            cpu: medianCpu(got.map((s) => s.cpu)),
          };
          rows.push(row);
          console.log(
            `  ${row.model} shard ${row.shardSize} N=${volunteers} r=${row.replication} prefetch ${row.prefetch}: ${row.verifiedItemsPerSec} verified items/s, ` +
              `${row.ownCores ? '(own cores) ' : ''}efficiency ${row.efficiency} (raw ${row.rawItemsPerSec}), volunteers busy ${(row.volunteerBusy * 100).toFixed(0)}%, ` +
              `per shard: round trip ${row.perShardMs.volunteerRoundTrip} ms (compute ${row.perShardMs.compute}), coordinator ${row.perShardMs.coordinator} ms, load ${os.loadavg()[0]?.toFixed(1)}`,
          );
        }
      }
    } finally {
      if (jobs.some((j) => j.ownCores)) release(); // also when a row failed half-way
      await Promise.all(tabs.map((t) => t.close()));
    }
  }
  await probe.close();
  const efficiency: Record<string, number> = {};
  const key = (r: NetworkRow): string => `N${r.volunteers}-r${r.replication}${r.prefetch === 0 ? '-p0' : ''}${r.ownCores ? '-own-cores' : ''}`;
  for (const r of rows) if (r.model === MNIST_MODEL.name && r.shardSize === 100) efficiency[key(r)] = r.efficiency;
  for (const r of rows) if (r.model !== MNIST_MODEL.name && r.shardSize === 100) efficiency[`${r.model}-${key(r)}`] = r.efficiency;
  return { efficiency, rows };
}
