/**
 * `npm run bench [-- --quick] [-- --only=engine,transfer,network,core,ocr,scale,store] [-- --prefetch=0,1]
 * [-- --volunteers=1,2]`: measures the raw engine
 * (onnxruntime-web in Chromium vs onnxruntime-node), the data plane (tab-to-tab MB/s), the whole
 * network's efficiency (verified items/s over N x one tab's raw items/s) and the coordinator
 * core's results/s, the OCR workload (bench/ocr.ts), and scale (bench/scale.ts: N headless volunteers
 * against a coordinator tab and the headless coordinator; `--volunteers` picks its N too,
 * `--coordinators=tab,headless` its kinds), the SQLite store's commits (bench/storeCommit.ts, [N-7]; `--inflight=1,8,32`), side by side in one run (the network with volunteers queueing each
 * `--prefetch` depth of leases, [W-18]; default 0 and 1; `--volunteers` keeps only those N); prints a table and writes bench/results.json.
 *
 * As root, where `unshare -n` works, the run re-executes itself in a loopback-only network
 * namespace (as scripts/test-e2e.mjs does for the e2e suite), so the server, Chromium and every
 * WebRTC connection stay on 127.0.0.1. QUORUM_BENCH_NETNS=0 skips that. Never part of `npm test`.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { benchCore } from './core.ts';
import { benchEngine } from './engine.ts';
import { buildBenchPage, describeMachine, launchChromium, ROOT, serveBenchPage } from './env.ts';
import { writeHeavyModel } from './models.ts';
import { benchNetwork } from './network.ts';
import { benchOcr } from './ocr.ts';
import { benchScale, type CoordinatorKind } from './scale.ts';
import { benchStoreCommit } from './storeCommit.ts';
import { printTable, writeResults, type Results } from './report.ts';
import { benchTransfer } from './transfer.ts';

const SECTIONS = ['engine', 'transfer', 'network', 'core', 'ocr', 'scale', 'store'] as const;
type Section = (typeof SECTIONS)[number];

const argv = process.argv.slice(2);
const quick = argv.includes('--quick');
const onlyArg = argv.find((a) => a.startsWith('--only='))?.slice('--only='.length);
const only = new Set<Section>(onlyArg ? (onlyArg.split(',') as Section[]) : SECTIONS);
for (const s of only) if (!SECTIONS.includes(s)) throw new Error(`unknown section "${s}"; pick from ${SECTIONS.join(', ')}`);
const listArg = (name: string): number[] | undefined =>
  argv
    .find((a) => a.startsWith(`--${name}=`))
    ?.slice(name.length + 3)
    .split(',')
    .map(Number)
    .filter((n) => Number.isInteger(n) && n >= 0);
const prefetch = listArg('prefetch');
const volunteers = listArg('volunteers');
const inFlight = listArg('inflight');
const coordinatorsArg = argv.find((a) => a.startsWith('--coordinators='))?.slice('--coordinators='.length);
const coordinators = coordinatorsArg ? (coordinatorsArg.split(',') as CoordinatorKind[]) : undefined;
for (const c of coordinators ?? []) if (c !== 'tab' && c !== 'headless') throw new Error(`unknown coordinator "${c}"; pick from tab, headless`);
const outFile = argv.find((a) => a.startsWith('--out='))?.slice('--out='.length) ?? path.join(ROOT, 'bench', 'results.json');

function reexecInNetns(): boolean {
  if (process.env['QUORUM_BENCH_NETNS_ACTIVE'] === '1' || process.env['QUORUM_BENCH_NETNS'] === '0') return false;
  if (process.platform !== 'linux' || process.getuid?.() !== 0) {
    console.warn('bench: WARNING: not root on Linux: no loopback-only network namespace; WebRTC may use a LAN address.');
    return false;
  }
  const probe = spawnSync('unshare', ['-n', 'sh', '-c', 'ip link set lo up'], { stdio: 'pipe' });
  if (probe.status !== 0) {
    console.warn(`bench: WARNING: unshare -n failed (${String(probe.stderr).trim()}); running without a network namespace.`);
    return false;
  }
  buildBenchPage(); // outside the namespace is fine too; done once, here
  // [scale] node-datachannel (libjuice) offers no loopback candidates, so two Node peers in a
  // namespace with nothing but `lo` never connect: a veth pair, both ends inside, gives them an
  // address of their own that still never leaves the namespace.
  const setup = only.has('scale')
    ? 'ip link set lo up && ip link add q0 type veth peer name q1 && ip addr add 10.77.0.1/24 dev q0 && ip link set q1 up && ip link set q0 up'
    : 'ip link set lo up';
  const r = spawnSync('unshare', ['-n', 'sh', '-c', `${setup} && exec "$@"`, 'sh', process.execPath, ...process.execArgv, ...process.argv.slice(1)], {
    stdio: 'inherit',
    env: { ...process.env, QUORUM_BENCH_NETNS_ACTIVE: '1', QUORUM_BENCH_SKIP_BUILD: '1' },
  });
  process.exit(r.status ?? 1);
}

async function main(): Promise<void> {
  if (reexecInNetns()) return;
  const t0 = Date.now();
  if (process.env['QUORUM_BENCH_SKIP_BUILD'] !== '1') buildBenchPage();
  const heavy = await writeHeavyModel();
  const server = await serveBenchPage();
  const browser = await launchChromium();
  const results: Results = {
    generatedAt: new Date().toISOString(),
    mode: quick ? 'quick' : 'full',
    machine: describeMachine(browser.version()),
    engine: null,
    transfer: null,
    network: null,
    core: null,
    ocr: null,
    scale: null,
    store: null,
    seconds: 0,
    loadAverageAtEnd: 0,
  };
  const step = async <T>(name: Section, run: () => Promise<T>): Promise<T | null> => {
    if (!only.has(name)) return null;
    const s = Date.now();
    console.log(`bench: ${name}…`);
    const r = await run();
    console.log(`bench: ${name} done in ${((Date.now() - s) / 1000).toFixed(1)} s`);
    return r;
  };
  try {
    results.engine = await step('engine', () => benchEngine(browser, server.url, { quick, heavyModel: heavy }));
    results.transfer = await step('transfer', () => benchTransfer(browser, server.url, { payloadBytes: 50_000_000, reps: quick ? 5 : 9, sweep: !quick }));
    results.network = await step('network', () =>
      benchNetwork(browser, server.url, {
        quick,
        heavyModel: heavy,
        ...(prefetch && prefetch.length > 0 ? { prefetch } : {}),
        ...(volunteers && volunteers.length > 0 ? { volunteers } : {}),
      }),
    );
    results.core = await step('core', () => benchCore({ quick }));
    results.ocr = await step('ocr', () => benchOcr(browser, server.url, { quick, ...(volunteers && volunteers.length > 0 ? { volunteers } : {}) }));
    results.scale = await step('scale', () =>
      benchScale(browser, { quick, ...(volunteers && volunteers.length > 0 ? { volunteers } : {}), ...(coordinators ? { kinds: coordinators } : {}) }),
    );
    results.store = await step('store', () => benchStoreCommit({ quick, ...(inFlight ? { inFlight } : {}) }));
  } finally {
    await browser.close().catch(() => undefined);
    await server.close().catch(() => undefined);
  }
  results.seconds = Math.round((Date.now() - t0) / 1000);
  results.loadAverageAtEnd = Math.round((os.loadavg()[0] ?? 0) * 100) / 100;
  fs.mkdirSync(path.dirname(outFile), { recursive: true });
  writeResults(outFile, results);
  printTable(results);
  console.log(`bench: wrote ${path.relative(ROOT, outFile)} in ${results.seconds} s`);
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error('bench: failed:', err);
    process.exit(1);
  },
);
