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
  return chromium.launch({ executablePath: CHROMIUM_PATH, args: [...CHROMIUM_ARGS], env: { ...process.env, TMPDIR: tmp } as Record<string, string> });
}

/** One browser context (own profile, own renderer, own IndexedDB) on the bench page. */
export interface BenchTab {
  readonly context: BrowserContext;
  readonly page: Page;
  call<K extends keyof BenchApi>(fn: K, ...args: Parameters<BenchApi[K]>): Promise<Awaited<ReturnType<BenchApi[K]>>>;
  close(): Promise<void>;
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
  return {
    context,
    page,
    call: (fn, ...args) =>
      page.evaluate(
        ({ fn: f, args: a }) => (window as unknown as { __bench: Record<string, (...x: unknown[]) => unknown> }).__bench[f]!(...a),
        { fn, args: args as unknown[] },
      ) as never,
    close: () => context.close().catch(() => undefined),
  };
}
