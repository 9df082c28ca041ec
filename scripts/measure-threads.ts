/**
 * `npx tsx scripts/measure-threads.ts [--skip-build] [--runs 30] [--threads 1,2] [--batches 100,1000] [--out file.json]`
 *
 * Measures what WASM threads buy a volunteer: the shipped MNIST model in the app's own inference
 * Worker, on 1 and 2 threads, one shard of 100 and of 1,000 digits, median of `--runs` timed runs
 * after warm-up. It builds the test app into .tmp/threads-dist (leaving dist-test/ to the e2e
 * suite), serves it cross-origin isolated with server/main.ts on a free loopback port, and drives
 * headless Chromium. Each configuration gets a fresh page (its own Worker and WASM realm), and the
 * configurations are interleaved over several rounds so a noisy moment does not favour one.
 * Prints a table; the last line is one JSON object. Never part of `npm test`.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { cliArgs } from './lib/measureCli.ts';
import { hookPage, withTestApp } from './lib/testApp.ts';
import type { ThreadBenchOptions, ThreadBenchResult } from '../src/host/threadBench.ts';
import type { QuorumTestHook } from '../src/testHook.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const { flag, option } = cliArgs(args);
const RUNS = Number(option('--runs', '30'));
const ROUNDS = Number(option('--rounds', '3'));
const THREADS = option('--threads', '1,2').split(',').map(Number);
const BATCHES = option('--batches', '100,1000').split(',').map(Number);
const OUT = option('--out', '');
const DIST = path.join(root, '.tmp', 'threads-dist');

const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
};

interface Row {
  readonly threads: number;
  readonly batch: number;
  readonly runs: number;
  readonly medianMs: number;
  readonly minMs: number;
  readonly perItemUs: number;
}

async function main(): Promise<void> {
  const samples = new Map<string, number[]>();
  const loadBefore = os.loadavg()[0] ?? 0;
  await withTestApp({ root, dist: DIST, skipBuild: flag('--skip-build'), tmpPrefix: 'quorum-threads-' }, async (app) => {
    for (let round = 0; round < ROUNDS; round++) {
      for (const batch of BATCHES) {
        for (const threads of THREADS) {
          const page = await hookPage(app);
          const o: ThreadBenchOptions = { threads, batch, warmup: 5, runs: Math.ceil(RUNS / ROUNDS) };
          const r = (await page.evaluate((opts) => (window as unknown as { __quorum: QuorumTestHook }).__quorum.threadBench(opts), o)) as ThreadBenchResult;
          await page.close();
          if (!r.crossOriginIsolated) throw new Error('the page is not cross-origin isolated: no WASM threads');
          if (r.threads !== threads) throw new Error(`asked for ${threads} threads, the engine got ${r.threads}`);
          const key = `${threads}/${batch}`;
          samples.set(key, [...(samples.get(key) ?? []), ...r.inferMs]);
        }
      }
    }
  });

  const rows: Row[] = [];
  for (const batch of BATCHES) {
    for (const threads of THREADS) {
      const xs = samples.get(`${threads}/${batch}`) ?? [];
      const med = median(xs);
      rows.push({ threads, batch, runs: xs.length, medianMs: med, minMs: Math.min(...xs), perItemUs: (med * 1000) / batch });
    }
  }
  const loadAfter = os.loadavg()[0] ?? 0;
  console.log(`\nMNIST MLP (784→64→10) on WASM in the volunteer's inference Worker, ${os.cpus().length} logical cores (${os.cpus()[0]?.model ?? '?'})`);
  // Other work on the machine decides whether a second thread finds a free core: say how busy it was.
  console.log(`load average (1 min) before ${loadBefore.toFixed(2)}, after ${loadAfter.toFixed(2)}`);
  console.log('threads  batch   runs   median ms   min ms   µs/item   speed-up');
  for (const r of rows) {
    const one = rows.find((x) => x.batch === r.batch && x.threads === 1);
    const speedup = one ? one.medianMs / r.medianMs : NaN;
    console.log(
      `${String(r.threads).padStart(7)}  ${String(r.batch).padStart(5)}  ${String(r.runs).padStart(5)}  ${r.medianMs.toFixed(2).padStart(10)}  ${r.minMs.toFixed(2).padStart(7)}  ${r.perItemUs.toFixed(1).padStart(8)}  ${speedup.toFixed(2).padStart(8)}×`,
    );
  }
  const result = { generatedAt: new Date().toISOString(), cores: os.cpus().length, loadAverage: { before: loadBefore, after: loadAfter }, rows };
  if (OUT) fs.writeFileSync(OUT, JSON.stringify(result, null, 2) + '\n');
  console.log(JSON.stringify(result));
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
