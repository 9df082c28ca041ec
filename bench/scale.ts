/**
 * Scale: N headless volunteers (`quorum volunteer --count`, onnxruntime-node, over the Node
 * transport: a few child processes of at most VOLUNTEERS_PER_PROCESS each) on loopback, one
 * requester tab (the bench page's requester, in headless Chromium), and a coordinator that is
 * either (a) a coordinator tab in headless Chromium (the bench page's, the app's CoordinatorHost
 * over peerjs and IndexedDB) or (b) the headless coordinator (`runHeadlessCoordinator`, what
 * `npx quorum coordinator` runs: SQLite, node-datachannel) in a process of its own
 * (bench/scaleCoordinator.ts). Both kinds run one after the other for each N, in one run.
 *
 * Per N and kind: the time from launching the volunteer processes until the coordinator counts
 * all N (their hello taken), verified shards/s and leases/s over a job of small MNIST shards at
 * replication 2 (cheap compute, so the coordinator's per-lease, per-result and per-peer work is
 * what is measured), the coordinator's main-thread busy share (tab: CDP's TaskDuration over wall
 * time; Node: event-loop utilisation) while idle with N connected and during the job, its JS heap,
 * the telemetry, network and job-status frames' sizes, and the first thing that broke.
 *
 * Loopback is one address to the signaling server, so the bench's own server raises the
 * per-address limits (BENCH_SIGNALING_LIMITS); the defaults (server/config.ts) are left as they are,
 * and so is every per-socket limit: a coordinator's socket relays an answer and ICE candidates per
 * joining volunteer, and where that trips the per-socket budget the table says so.
 */
import { fork, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import type { Browser, CDPSession } from '@playwright/test';
import { startServer, type RunningServer } from '../server/app.ts';
import type { SignalingLimits } from '../server/config.ts';
import { BENCH_DIST, BENCH_TMP, openTab, ROOT, type BenchTab } from './env.ts';
import { MNIST_MODEL } from './models.ts';
import type { ScaleCounts, ScaleFrames } from './scaleProbe.ts';
import { watchCoordinatorSignaling, type CoordinatorSignaling } from './scaleSignaling.ts';
import { round } from './stats.ts';

export type CoordinatorKind = 'tab' | 'headless';

export interface ScaleRow {
  readonly coordinator: CoordinatorKind;
  /** Volunteers launched. */
  readonly volunteers: number;
  /** The most the coordinator counted at once. */
  readonly connected: number;
  /** Launch of the volunteer processes -> the coordinator counting all N (null: it never did). */
  readonly connectSec: number | null;
  readonly shards: number;
  readonly shardSize: number;
  readonly replication: number;
  /** Shards verified when the job ended or gave up. */
  readonly verified: number;
  /** From the job's acceptance to its last verified shard (or the give-up). */
  readonly jobSec: number | null;
  readonly verifiedShardsPerSec: number | null;
  readonly leasesPerSec: number | null;
  /**
   * Bytes/s of status frames (`job-status`, `network`) the coordinator sent during the job, all
   * requesters together; tab only (null: not counted).
   */
  readonly statusBytesPerSec: number | null;
  /** Main-thread (tab) or event-loop (Node) busy share with N connected and no job. */
  readonly idleBusy: number | null;
  /** The same during the job. */
  readonly jobBusy: number | null;
  readonly heapMB: number | null;
  readonly frames: ScaleFrames | null;
  /**
   * What the coordinator's signaling socket sent from the volunteers' launch until all N connected
   * (or the deadline), and whether the server dropped it meanwhile (null: no coordinator).
   */
  readonly joinSignaling: CoordinatorSignaling | null;
  /** The first thing that failed: volunteers that never connected, a job that stalled (null: none). */
  readonly broke: string | null;
  /** The first warning or error the coordinator, else a volunteer, logged (null: none). */
  readonly firstError: string | null;
}

export interface ScaleResult {
  readonly volunteersPerProcess: number;
  readonly signalingLimits: Partial<SignalingLimits>;
  readonly rows: readonly ScaleRow[];
  /** Per kind: the largest N whose volunteers all connected and whose job completed. */
  readonly largestClean: Record<CoordinatorKind, number>;
}

/**
 * Bench-only: every volunteer, requester and coordinator of the run comes from 127.0.0.1, which the
 * signaling server counts as one client address (64 ids, 100 connects in a burst, 120 a minute by
 * default). The per-socket budgets stay at their defaults.
 */
export const BENCH_SIGNALING_LIMITS: Partial<SignalingLimits> = {
  maxIdsPerAddress: 2_000,
  connectBurst: 2_000,
  connectsPerMinute: 20_000,
};

export const VOLUNTEERS_PER_PROCESS = 50;
const SHARD_SIZE = 10;
const REPLICATION = 2;
const IDLE_WINDOW_MS = 3_000;
const POLL_MS = 500;

interface Coordinator {
  /** Bytes sent by frame type since the previous call (the tab counts them; null: not counted). */
  sentBytes(): Promise<Record<string, number> | null>;
  /** What requesters submit with. */
  readonly requesterKey: string;
  counts(): Promise<ScaleCounts>;
  /** Busy share since the previous call, and the heap now. */
  sample(): Promise<{ busy: number; heapBytes: number }>;
  frames(): Promise<ScaleFrames>;
  /** Warnings and errors the coordinator logged, oldest first. */
  readonly problems: string[];
  close(): Promise<void>;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function tabCoordinator(browser: Browser, origin: string, networkId: string): Promise<Coordinator> {
  const tab = await openTab(browser, origin, 'scale-coordinator');
  const problems: string[] = [];
  tab.page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning') problems.push(m.text());
  });
  tab.page.on('pageerror', (e) => problems.push(e.message));
  // Frames counted by type (encoding each twice: a small, equal cost before and after a change).
  await tab.call('coordinator', networkId, true);
  const cdp: CDPSession = await tab.context.newCDPSession(tab.page);
  await cdp.send('Performance.enable', { timeDomain: 'timeTicks' });
  const metrics = async (): Promise<Record<string, number>> => {
    const r = await cdp.send('Performance.getMetrics');
    return Object.fromEntries(r.metrics.map((m) => [m.name, m.value]));
  };
  let last = await metrics();
  return {
    requesterKey: '',
    sentBytes: () => tab.call('coordinatorBytes'),
    counts: () => tab.call('scaleCounts'),
    sample: async () => {
      const now = await metrics();
      // TaskDuration: seconds the renderer's main thread spent running tasks; Timestamp: seconds.
      const wall = (now['Timestamp'] ?? 0) - (last['Timestamp'] ?? 0);
      const busy = wall > 0 ? ((now['TaskDuration'] ?? 0) - (last['TaskDuration'] ?? 0)) / wall : 0;
      last = now;
      return { busy, heapBytes: now['JSHeapUsedSize'] ?? 0 };
    },
    frames: () => tab.call('scaleFrames'),
    problems,
    close: async () => {
      await cdp.detach().catch(() => undefined);
      await tab.close();
    },
  };
}

type ChildReply =
  | { t: 'ready'; requesterKey: string }
  | { t: 'failed'; reason: string }
  | { t: 'log'; line: string }
  | { t: 'counts'; counts: ScaleCounts }
  | { t: 'sample'; busy: number; heapBytes: number }
  | { t: 'frames'; frames: ScaleFrames };

async function headlessCoordinator(origin: string, networkId: string, dataDir: string): Promise<Coordinator> {
  const problems: string[] = [];
  const child = fork(path.join(ROOT, 'bench', 'scaleCoordinator.ts'), [JSON.stringify({ network: networkId, dataDir, server: origin })], {
    // QUORUM_SCALE_CPU_PROF=DIR: a V8 CPU profile of each headless coordinator, written to DIR at its exit.
    execArgv: ['--import', 'tsx', ...(process.env['QUORUM_SCALE_CPU_PROF'] ? ['--cpu-prof', `--cpu-prof-dir=${process.env['QUORUM_SCALE_CPU_PROF']}`] : [])],
    stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
  });
  child.stderr?.on('data', (d: Buffer) => problems.push(d.toString().trim()));
  const waiting = new Map<string, (reply: ChildReply) => void>();
  let failed: string | null = null;
  child.on('message', (raw) => {
    const reply = raw as ChildReply;
    if (reply.t === 'log') {
      const parsed = JSON.parse(reply.line) as { level?: string; msg?: string };
      problems.push(`${parsed.level ?? '?'}: ${parsed.msg ?? reply.line}`);
      return;
    }
    if (reply.t === 'failed') failed = reply.reason;
    const key = reply.t === 'failed' ? 'ready' : reply.t;
    waiting.get(key)?.(reply);
    waiting.delete(key);
  });
  const ask = <T extends ChildReply['t']>(t: T, request: string | null): Promise<Extract<ChildReply, { t: T }>> =>
    new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`the headless coordinator did not answer "${t}" within 60 s`)), 60_000);
      waiting.set(t, (reply) => {
        clearTimeout(timer);
        if (reply.t === 'failed') reject(new Error(`the headless coordinator failed to start: ${reply.reason}`));
        else resolve(reply as Extract<ChildReply, { t: T }>);
      });
      if (request !== null) child.send({ t: request });
    });
  const { requesterKey } = await ask('ready', null);
  if (failed !== null) throw new Error(failed);
  await ask('sample', 'sample');
  return {
    requesterKey,
    sentBytes: () => Promise.resolve(null),
    counts: async () => (await ask('counts', 'counts')).counts,
    sample: async () => {
      const s = await ask('sample', 'sample');
      return { busy: s.busy, heapBytes: s.heapBytes };
    },
    frames: async () => (await ask('frames', 'frames')).frames,
    problems,
    close: async () => {
      const exited = new Promise<void>((r) => child.once('exit', () => r()));
      child.send({ t: 'stop' });
      await Promise.race([exited, sleep(15_000)]);
      child.kill('SIGKILL');
    },
  };
}

interface VolunteerFleet {
  readonly processes: readonly ChildProcess[];
  /** Lines the volunteers logged that say something failed, oldest first. */
  readonly problems: string[];
  kill(): Promise<void>;
}

/** `quorum volunteer --count k` processes adding up to `n` volunteers, as an operator would start them. */
function launchVolunteers(origin: string, networkId: string, n: number, stateRoot: string): VolunteerFleet {
  const problems: string[] = [];
  const processes: ChildProcess[] = [];
  for (let start = 0, i = 0; start < n; start += VOLUNTEERS_PER_PROCESS, i++) {
    const count = Math.min(VOLUNTEERS_PER_PROCESS, n - start);
    const args = [path.join(ROOT, 'bin', 'quorum.mjs'), 'volunteer', '--server', origin, '--network', networkId, '--count', String(count)];
    args.push('--threads', '1', '--state', path.join(stateRoot, `p${i + 1}`));
    const p = spawn(process.execPath, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    const watch = (d: Buffer): void => {
      for (const line of d.toString().split('\n')) if (/error|fail|cannot|refused|too many/i.test(line)) problems.push(line.trim());
    };
    p.stdout?.on('data', watch);
    p.stderr?.on('data', watch);
    processes.push(p);
  }
  return {
    processes,
    problems,
    // Not measured: SIGKILL, so a few hundred hand-backs do not slow the next row's start.
    kill: async () => {
      await Promise.all(
        processes.map(
          (p) =>
            new Promise<void>((resolve) => {
              if (p.exitCode !== null || p.signalCode !== null) return resolve();
              p.once('exit', () => resolve());
              p.kill('SIGKILL');
            }),
        ),
      );
    },
  };
}

/** Shards per job: enough that every volunteer gets several leases, and the rate settles. */
export const shardsFor = (n: number, quick: boolean): number => Math.max(quick ? 100 : 200, 3 * n);

async function measureRow(browser: Browser, server: RunningServer, kind: CoordinatorKind, n: number, quick: boolean): Promise<ScaleRow> {
  const origin = server.url;
  const networkId = `scale-${kind}-${n}-${Date.now().toString(36)}`;
  const dir = path.join(BENCH_TMP, 'scale', networkId);
  fs.mkdirSync(dir, { recursive: true });
  const shards = shardsFor(n, quick);
  let broke: string | null = null;
  const breaks = (what: string): void => {
    broke ??= what;
  };
  let firstError: string | null = null;
  let coordinator: Coordinator | null = null;
  let requester: BenchTab | null = null;
  let fleet: VolunteerFleet | null = null;
  const row = {
    coordinator: kind,
    volunteers: n,
    connected: 0,
    connectSec: null as number | null,
    shards,
    shardSize: SHARD_SIZE,
    replication: REPLICATION,
    verified: 0,
    jobSec: null as number | null,
    verifiedShardsPerSec: null as number | null,
    leasesPerSec: null as number | null,
    statusBytesPerSec: null as number | null,
    idleBusy: null as number | null,
    jobBusy: null as number | null,
    heapMB: null as number | null,
    frames: null as ScaleFrames | null,
    joinSignaling: null as CoordinatorSignaling | null,
  };
  try {
    coordinator = kind === 'tab' ? await tabCoordinator(browser, origin, networkId) : await headlessCoordinator(origin, networkId, path.join(dir, 'data'));
    requester = await openTab(browser, origin, 'scale-requester');
    await requester.call('requester', networkId);

    const joins = watchCoordinatorSignaling(server, `quorum-${networkId}`);
    const t0 = performance.now();
    fleet = launchVolunteers(origin, networkId, n, path.join(dir, 'volunteers'));
    // Process start (tsx), n engines, n WebRTC connections and proofs: allow for all of it.
    const connectDeadline = t0 + 60_000 + n * 300;
    while (performance.now() < connectDeadline) {
      const c = await coordinator.counts();
      row.connected = Math.max(row.connected, c.volunteers);
      if (c.volunteers >= n) {
        row.connectSec = round((performance.now() - t0) / 1000, 3);
        break;
      }
      if (fleet.processes.every((p) => p.exitCode !== null)) break;
      await sleep(POLL_MS);
    }
    row.joinSignaling = joins.read();
    joins.stop();
    if (row.joinSignaling.disconnects > 0) {
      const why = Object.entries(row.joinSignaling.dropped).map(([reason, count]) => `${reason} ×${count}`);
      breaks(
        `the coordinator's signaling socket was dropped ${row.joinSignaling.disconnects}× while volunteers joined (${why.join(', ') || 'no reason counted'})`,
      );
    }
    if (row.connectSec === null) breaks(`only ${row.connected}/${n} volunteers connected after ${round((performance.now() - t0) / 1000, 3)} s`);

    await coordinator.sample();
    await sleep(IDLE_WINDOW_MS);
    const idle = await coordinator.sample();
    row.idleBusy = round(idle.busy, 3);

    if (row.connected > 0) {
      const before = await coordinator.counts();
      const sub = await requester.call('submit', {
        modelUrl: MNIST_MODEL.url,
        items: shards * SHARD_SIZE,
        shardSize: SHARD_SIZE,
        replication: REPLICATION,
        quorum: REPLICATION,
        requesterKey: coordinator.requesterKey,
      });
      const tJob = performance.now();
      await coordinator.sample();
      await coordinator.sentBytes();
      const jobDeadline = tJob + 120_000 + shards * 100;
      let last = before;
      let lastProgressAt = tJob;
      let heap = 0;
      while (performance.now() < jobDeadline) {
        await sleep(POLL_MS);
        const c = await coordinator.counts();
        if (c.verified !== last.verified) lastProgressAt = performance.now();
        last = c;
        if (c.verified - before.verified >= shards) break;
        // Nothing verified for a minute: the network has stalled.
        if (performance.now() - lastProgressAt > 60_000) break;
      }
      const s = await coordinator.sample();
      const bytes = await coordinator.sentBytes();
      heap = s.heapBytes;
      row.jobBusy = round(s.busy, 3);
      row.heapMB = round(heap / 2 ** 20, 3);
      row.verified = last.verified - before.verified;
      const sec = (lastProgressAt - tJob) / 1000;
      row.jobSec = round(sec, 3);
      if (sec > 0) {
        row.verifiedShardsPerSec = round(row.verified / sec, 3);
        row.leasesPerSec = round((last.leasesIssued - before.leasesIssued) / sec, 3);
        if (bytes !== null) row.statusBytesPerSec = round(((bytes['job-status'] ?? 0) + (bytes['network'] ?? 0)) / ((performance.now() - tJob) / 1000), 3);
      }
      if (row.verified < shards) breaks(`job ${sub.jobId}: ${row.verified}/${shards} shards verified when it stalled or timed out`);
      row.frames = await coordinator.frames();
    }
  } catch (e) {
    breaks(e instanceof Error ? (e.message.split('\n')[0] ?? 'error') : String(e));
  } finally {
    // Read before the teardown, whose own errors are not the network's.
    const logged = coordinator?.problems[0] ?? fleet?.problems[0] ?? null;
    firstError = logged === null ? null : logged.slice(0, 300);
    await fleet?.kill();
    await requester?.close();
    await coordinator?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
  return { ...row, broke, firstError };
}

export async function benchScale(
  browser: Browser,
  opts: { quick: boolean; volunteers?: readonly number[]; kinds?: readonly CoordinatorKind[] },
): Promise<ScaleResult> {
  const plan = opts.volunteers ?? (opts.quick ? [25, 50] : [25, 50, 100, 200, 400, 700, 1000]);
  const kinds = opts.kinds ?? (['tab', 'headless'] as const);
  // A server of its own: the per-address limits raised for the run (BENCH_SIGNALING_LIMITS).
  const server: RunningServer = await startServer({
    port: 0,
    host: '127.0.0.1',
    distDir: BENCH_DIST,
    iceServers: [],
    logSignaling: false,
    signalingLimits: BENCH_SIGNALING_LIMITS,
  });
  const rows: ScaleRow[] = [];
  const largestClean: Record<CoordinatorKind, number> = { tab: 0, headless: 0 };
  const gaveUp = new Set<CoordinatorKind>();
  try {
    for (const n of plan) {
      for (const kind of kinds) {
        // A tab constructs at most 500 RTCPeerConnections in its life (README): past that, no row.
        if (gaveUp.has(kind) || (kind === 'tab' && n > 450)) continue;
        const row = await measureRow(browser, server, kind, n, opts.quick);
        rows.push(row);
        const clean = row.connectSec !== null && row.verified >= row.shards;
        if (clean) largestClean[kind] = n;
        // Half the volunteers could not join: a larger N would only fail slower.
        if (row.connected < n / 2) gaveUp.add(kind);
        console.log(
          `  ${kind} N=${n}: connected ${row.connected}/${n} in ${row.connectSec ?? '–'} s; ${row.verifiedShardsPerSec ?? '–'} verified shards/s, ` +
            `${row.leasesPerSec ?? '–'} leases/s; status ${row.statusBytesPerSec ?? '–'} B/s; busy idle ${row.idleBusy ?? '–'}, job ${row.jobBusy ?? '–'}; heap ${row.heapMB ?? '–'} MB; ` +
            `telemetry ${row.frames?.telemetryBytes ?? '–'} B, network ${row.frames?.networkBytes ?? '–'} B; load ${os.loadavg()[0]?.toFixed(1)}` +
            (row.joinSignaling ? `; coordinator signaling while joining: ${JSON.stringify(row.joinSignaling)}` : '') +
            (row.broke ? `; broke: ${row.broke}` : '') +
            (row.firstError ? `; first error logged: ${row.firstError}` : ''),
        );
      }
    }
  } finally {
    await server.close().catch(() => undefined);
  }
  return { volunteersPerProcess: VOLUNTEERS_PER_PROCESS, signalingLimits: BENCH_SIGNALING_LIMITS, rows, largestClean };
}
