/**
 * Where the benchmarks run: the machine's description, the bench page's build and server, and
 * headless Chromium launched exactly as the e2e suite launches it (e2e/support/env.ts).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type BrowserContext, type Page } from '@playwright/test';
import { CHROMIUM_ARGS, CHROMIUM_PATH, CONTEXT_PERMISSIONS } from '../e2e/support/env.ts';
import { startServer, type RunningServer } from '../server/app.ts';
import { rendererPids } from './affinity.ts';
import type { BenchApi } from './page/api.ts';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const BENCH_TMP = path.join(ROOT, '.tmp', 'bench');
export const BENCH_DIST = path.join(BENCH_TMP, 'dist');

const versionOf = (pkg: string): string => {
  try {
    return (JSON.parse(fs.readFileSync(path.join(ROOT, 'node_modules', pkg, 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
};

export interface Machine {
  readonly cpuModel: string;
  readonly cores: number;
  readonly memoryGiB: number;
  readonly os: string;
  readonly node: string;
  readonly chromium: string;
  readonly onnxruntimeWeb: string;
  readonly onnxruntimeNode: string;
  readonly gpu: string;
  readonly networkNamespace: boolean;
  readonly commit: string;
  /** 1-minute load average when the run started: other work on the machine skews every figure. */
  readonly loadAverageAtStart: number;
}

export function describeMachine(chromiumVersion: string): Machine {
  let commit = 'unknown';
  try {
    commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT, encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain'], { cwd: ROOT, encoding: 'utf8' }).trim();
    if (dirty) commit += '+changes';
  } catch {
    // not a git checkout
  }
  return {
    cpuModel: os.cpus()[0]?.model ?? 'unknown',
    cores: os.cpus().length,
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    node: process.version,
    chromium: chromiumVersion,
    onnxruntimeWeb: versionOf('onnxruntime-web'),
    onnxruntimeNode: versionOf('onnxruntime-node'),
    gpu: 'none: not measured (no GPU in this run)',
    networkNamespace: process.env['QUORUM_BENCH_NETNS_ACTIVE'] === '1',
    commit,
    loadAverageAtStart: Math.round((os.loadavg()[0] ?? 0) * 100) / 100,
  };
}

/** Builds the bench page into .tmp/bench/dist (a second or two). */
export function buildBenchPage(): void {
  const vite = path.join(ROOT, 'node_modules', '.bin', 'vite');
  const r = spawnSync(vite, ['build', '--config', path.join(ROOT, 'bench', 'vite.config.ts')], { cwd: ROOT, stdio: 'inherit' });
  if (r.status !== 0) throw new Error(`building the bench page failed (exit ${r.status})`);
}

export function serveBenchPage(): Promise<RunningServer> {
  // Port 0: a free port, so benchmarks never collide with e2e runs on 18080.
  return startServer({ port: 0, host: '127.0.0.1', distDir: BENCH_DIST, iceServers: [], logSignaling: false });
}

export function launchChromium(): Promise<Browser> {
  const tmp = path.join(BENCH_TMP, 'chromium-tmp');
  fs.rmSync(tmp, { recursive: true, force: true });
  fs.mkdirSync(tmp, { recursive: true });
  // WebGPU for the OCR section's WebGPU row (SwiftShader where there is no GPU); every other
  // measurement asks for WASM explicitly.
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    args: [...CHROMIUM_ARGS, '--enable-unsafe-webgpu'],
    env: { ...process.env, TMPDIR: tmp } as Record<string, string>,
  });
}

/** One browser context (own profile, own renderer, own IndexedDB) on the bench page. */
export interface BenchTab {
  readonly context: BrowserContext;
  readonly page: Page;
  /** The renderer process this tab runs in (Linux; null where it could not be told), found once. */
  rendererPid(): Promise<number | null>;
  call<K extends keyof BenchApi>(fn: K, ...args: Parameters<BenchApi[K]>): Promise<Awaited<ReturnType<BenchApi[K]>>>;
  close(): Promise<void>;
}

/** CPU ticks of a renderer's main thread (fields 14 + 15 of /proc/PID/task/PID/stat), or -1. */
function mainThreadTicks(pid: number): number {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/task/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(fields[11]) + Number(fields[12]);
  } catch {
    return -1;
  }
}

/**
 * Which renderer runs `page`: the one whose main thread's CPU time grows while the page spins for
 * 500 ms, by a clear margin (tried 3 times). Not simply "the renderer that appeared with the tab":
 * Chromium keeps a spare renderer ready, hands it to the next navigation and starts another.
 */
async function rendererOf(page: Page): Promise<number | null> {
  for (let attempt = 0; attempt < 3; attempt++) {
    const candidates = [...rendererPids()];
    const t0 = candidates.map(mainThreadTicks);
    const spun = await page.evaluate(() => {
      const start = performance.now();
      while (performance.now() - start < 500) {
        // spin
      }
      return performance.now() - start;
    });
    const grew = candidates.map((p, i) => mainThreadTicks(p) - (t0[i] ?? 0));
    const sorted = [...grew].sort((a, b) => b - a);
    const [best = 0, second = 0] = sorted;
    // At 100 ticks/s a 500 ms spin is ~50 ticks: the winner must have most of them, alone.
    if (best >= (spun / 1000) * 100 * 0.6 && best >= 2 * second) return candidates[grew.indexOf(best)] ?? null;
  }
  return null;
}

export async function openTab(browser: Browser, origin: string, name: string): Promise<BenchTab> {
  const context = await browser.newContext({ permissions: [...CONTEXT_PERMISSIONS] });
  const page = await context.newPage();
  page.on('pageerror', (e) => console.warn(`[${name}] pageerror: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning') console.warn(`[${name}] ${m.type()}: ${m.text()}`);
  });
  await page.goto(`${origin}/`, { waitUntil: 'load' });
  await page.waitForFunction(() => (window as { __bench?: unknown }).__bench !== undefined);
  let pid: Promise<number | null> | null = null;
  return {
    context,
    page,
    rendererPid: () => (pid ??= rendererOf(page)),
    call: (fn, ...args) =>
      page.evaluate(({ fn: f, args: a }) => (window as unknown as { __bench: Record<string, (...x: unknown[]) => unknown> }).__bench[f]!(...a), {
        fn,
        args: args as unknown[],
      }) as never,
    close: () => context.close().catch(() => undefined),
  };
}
