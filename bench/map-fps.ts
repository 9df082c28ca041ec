/**
 * `npm run bench:map`: how smoothly the network map draws at scale. Builds the app (production
 * mode) into .tmp/bench-map/dist, serves it, opens `#/network?demo=N` in headless Chromium (launched
 * as the e2e suite launches it) for several N, lets the layout settle, then counts animation
 * frames for a while. Prints a table and writes bench/map-fps.json. Never part of pass/fail.
 *
 * Env: BENCH_MAP_SIZES (e.g. "100,500,1000"), BENCH_MAP_SECONDS (measurement window, 6),
 *      BENCH_MAP_SKIP_BUILD=1 (reuse the last build), BENCH_MAP_PORT (18190).
 *
 * Headless Chromium here renders the canvas in software on a 2-core machine: figures are a floor
 * for a laptop with a GPU, not a ceiling.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Page } from '@playwright/test';
import { CHROMIUM_ARGS, CHROMIUM_PATH } from '../e2e/support/env.ts';
import { startServer } from '../server/app.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const TMP = path.join(ROOT, '.tmp', 'bench-map');
const DIST = path.join(TMP, 'dist');
const OUT = path.join(ROOT, 'bench', 'map-fps.json');

const SIZES = (process.env['BENCH_MAP_SIZES'] ?? '50,200,500,1000')
  .split(',')
  .map((s) => Number(s.trim()))
  .filter((n) => Number.isInteger(n) && n > 0);
const SECONDS = Number(process.env['BENCH_MAP_SECONDS'] ?? 6);
const SETTLE_MS = 4_000;
const PORT = Number(process.env['BENCH_MAP_PORT'] ?? 18190);

interface Viewport {
  readonly name: string;
  readonly width: number;
  readonly height: number;
  readonly deviceScaleFactor: number;
}
const DESKTOP: Viewport = { name: 'desktop 1280×800', width: 1280, height: 800, deviceScaleFactor: 1 };
const PHONE: Viewport = { name: 'phone 390×844 @2x', width: 390, height: 844, deviceScaleFactor: 2 };

interface Row {
  readonly peers: number;
  readonly viewport: string;
  /** Animation frames per second the page got (requestAnimationFrame count over the window). */
  readonly fps: number;
  /** Frames in the best whole second of the window: what the map manages when the CPU is free. */
  readonly fpsBestSecond: number;
  /** The frame rate the slowest 5% of frames would give (1000 / 95th-percentile frame interval). */
  readonly fpsP5: number;
  /** Frames that took over 50 ms (janky) in the window. */
  readonly longFrames: number;
  /** The map's own cost per frame (layout tick + drawing), mean and worst, ms. */
  readonly sceneMeanMs: number | null;
  readonly sceneMaxMs: number | null;
  /** Nodes on the canvas (peers listed + coordinator). */
  readonly nodes: number | null;
}

function build(): void {
  if (process.env['BENCH_MAP_SKIP_BUILD'] === '1' && fs.existsSync(path.join(DIST, 'index.html'))) return;
  console.log('bench:map: building the app into .tmp/bench-map/dist …');
  const r = spawnSync(path.join(ROOT, 'node_modules', '.bin', 'vite'), ['build', '--outDir', DIST, '--emptyOutDir', '--logLevel', 'warn'], {
    cwd: ROOT,
    stdio: 'inherit',
  });
  if (r.status !== 0) throw new Error(`vite build failed (exit ${r.status})`);
}

/** Counts animation frames in the page for `ms`, and reads the scene's own statistics. */
async function measure(page: Page, ms: number): Promise<Omit<Row, 'peers' | 'viewport'>> {
  // A string, not a function: tsx would wrap named inner functions in a helper the page lacks.
  const frames = (await page.evaluate(`new Promise((resolve) => {
    const times = [];
    const start = performance.now();
    function step(t) {
      times.push(t);
      if (t - start < ${Number(ms)}) requestAnimationFrame(step);
      else resolve(times);
    }
    requestAnimationFrame(step);
  })`)) as number[];
  const intervals = frames.slice(1).map((t, i) => t - frames[i]!);
  const sorted = [...intervals].sort((a, b) => a - b);
  const p95 = sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * 0.95))] ?? 0;
  const span = (frames[frames.length - 1]! - frames[0]!) / 1000;
  const perSecond = new Map<number, number>();
  for (const t of frames.slice(1)) {
    const second = Math.floor((t - frames[0]!) / 1000);
    if (second < Math.floor(span)) perSecond.set(second, (perSecond.get(second) ?? 0) + 1);
  }
  const ds = await page.locator('[data-testid=map-canvas]').evaluate((c: HTMLElement) => ({ ...c.dataset }));
  const num = (s: string | undefined): number | null => (s === undefined ? null : Number(s));
  return {
    fps: span > 0 ? Math.round((intervals.length / span) * 10) / 10 : 0,
    fpsBestSecond: Math.max(0, ...perSecond.values()),
    fpsP5: p95 > 0 ? Math.round((1000 / p95) * 10) / 10 : 0,
    longFrames: intervals.filter((d) => d > 50).length,
    sceneMeanMs: num(ds['frameMs']),
    sceneMaxMs: num(ds['maxFrameMs']),
    nodes: num(ds['nodes']),
  };
}

function table(headers: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]): string => `| ${cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join(' | ')} |`;
  return [line(headers), `| ${widths.map((w) => '-'.repeat(w)).join(' | ')} |`, ...rows.map(line)].join('\n');
}

async function main(): Promise<void> {
  const t0 = Date.now();
  const loadBefore = Math.round(os.loadavg()[0]! * 100) / 100;
  build();
  fs.mkdirSync(TMP, { recursive: true });
  const server = await startServer({ port: PORT, host: '127.0.0.1', distDir: DIST, iceServers: [], tls: null });
  // A fresh profile per launch (Playwright's own), under our TMPDIR.
  const browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: [...CHROMIUM_ARGS], env: { ...process.env, TMPDIR: TMP } });
  const rows: Row[] = [];
  try {
    const runs: [number, Viewport][] = [...SIZES.map((n): [number, Viewport] => [n, DESKTOP]), [500, PHONE]];
    for (const [peers, vp] of runs) {
      const context = await browser.newContext({ viewport: { width: vp.width, height: vp.height }, deviceScaleFactor: vp.deviceScaleFactor });
      const page = await context.newPage();
      await page.goto(`${server.url}/#/network?demo=${peers}`, { waitUntil: 'load' });
      await page.locator('[data-testid=map-canvas]').waitFor();
      await page.waitForTimeout(SETTLE_MS);
      const m = await measure(page, SECONDS * 1000);
      const row: Row = { peers, viewport: vp.name, ...m };
      rows.push(row);
      console.log(`bench:map: ${peers} peers, ${vp.name}: ${m.fps} fps (slowest 5%: ${m.fpsP5} fps), scene ${m.sceneMeanMs ?? '–'} ms/frame`);
      if (peers === 500) await page.screenshot({ path: path.join(TMP, `map-${peers}-${vp.width}x${vp.height}.png`) });
      await context.close();
    }
  } finally {
    await browser.close();
    await server.close();
  }

  const result = {
    generatedAt: new Date().toISOString(),
    machine: {
      cpuModel: os.cpus()[0]?.model ?? 'unknown',
      cores: os.cpus().length,
      memoryGiB: Math.round(os.totalmem() / 2 ** 30),
      node: process.version,
      chromium: browser.version(),
      rendering: 'headless Chromium, software canvas (no GPU)',
      /** 1-minute load average before and after: above the core count, other work was competing. */
      loadBefore,
      loadAfter: Math.round(os.loadavg()[0]! * 100) / 100,
    },
    settleMs: SETTLE_MS,
    windowSeconds: SECONDS,
    rows,
    seconds: Math.round((Date.now() - t0) / 1000),
  };
  fs.writeFileSync(OUT, JSON.stringify(result, null, 2) + '\n');
  const f = (x: number | null, d = 1): string => (x === null ? '–' : x.toFixed(d));
  console.log('');
  console.log(`Network map frame rate (#/network?demo=N): Chromium ${result.machine.chromium}, ${result.machine.cores} cores, ${result.machine.rendering}`);
  console.log('');
  console.log(
    table(
      ['peers', 'viewport', 'fps', 'fps, best second', 'fps, slowest 5%', 'frames > 50 ms', 'scene ms/frame (mean)', 'scene ms (worst)', 'nodes'],
      rows.map((r) => [
        String(r.peers),
        r.viewport,
        f(r.fps),
        String(r.fpsBestSecond),
        f(r.fpsP5),
        String(r.longFrames),
        f(r.sceneMeanMs, 2),
        f(r.sceneMaxMs, 1),
        f(r.nodes, 0),
      ]),
    ),
  );
  const busy = Math.max(result.machine.loadBefore, result.machine.loadAfter);
  if (busy > result.machine.cores)
    console.log(`\nbench:map: WARNING: load average ${busy} on ${result.machine.cores} cores: other work competed; figures are low.`);
  console.log(`\nbench:map: wrote ${path.relative(ROOT, OUT)} in ${result.seconds} s`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
