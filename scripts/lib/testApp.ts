/**
 * The measuring scripts' test app: the app built in test mode (its `window.__quorum` hook
 * included), served by server/main.ts on a free loopback port, and headless Chromium with the
 * e2e flags. One place sets it up and tears all of it down, whatever the measurement throws.
 */
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium, type Browser, type Page } from '@playwright/test';
import { CHROMIUM_ARGS, CHROMIUM_PATH } from '../../e2e/support/env.ts';
import { freePort, waitForHealth } from './measureCli.ts';

export interface TestAppOptions {
  /** The repository root (where vite.config.ts and server/ are). */
  readonly root: string;
  /** Where the test build goes (and is served from). */
  readonly dist: string;
  /** Serve what is in `dist` already instead of building. */
  readonly skipBuild: boolean;
  /** Prefix of the browser's temporary directory. */
  readonly tmpPrefix: string;
  /** Chromium flags beside the e2e ones. */
  readonly extraChromiumArgs?: readonly string[];
}

export interface TestApp {
  /** The server's origin, e.g. http://127.0.0.1:40123. */
  readonly base: string;
  readonly browser: Browser;
}

export async function withTestApp<T>(o: TestAppOptions, measure: (app: TestApp) => Promise<T>): Promise<T> {
  if (!o.skipBuild) {
    console.log(`building the test app into ${path.relative(o.root, o.dist)} ...`);
    const b = spawnSync('npx', ['vite', 'build', '--mode', 'test', '--outDir', o.dist, '--emptyOutDir', '--logLevel', 'warn'], {
      cwd: o.root,
      stdio: 'inherit',
    });
    if (b.status !== 0) throw new Error('vite build failed');
  }
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const server = spawn(process.execPath, ['--import', 'tsx', 'server/main.ts'], {
    cwd: o.root,
    env: { ...process.env, QUORUM_DIST: o.dist, PORT: String(port), HOST: '127.0.0.1', QUORUM_ICE_SERVERS: '[]' },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), o.tmpPrefix));
  try {
    await waitForHealth(`${base}/healthz`, server, 30_000);
    const browser = await chromium.launch({
      executablePath: CHROMIUM_PATH,
      args: [...CHROMIUM_ARGS, ...(o.extraChromiumArgs ?? [])],
      env: { ...process.env, TMPDIR: tmp },
    });
    try {
      return await measure({ base, browser });
    } finally {
      await browser.close();
    }
  } finally {
    server.kill('SIGTERM');
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

/** A fresh page (its own worker and WASM realm) on the requester route, once the test hook is there. */
export async function hookPage(app: TestApp): Promise<Page> {
  const page = await app.browser.newPage();
  await page.goto(`${app.base}/#/requester`);
  await page.waitForFunction(() => (window as { __quorum?: unknown }).__quorum !== undefined, null, { timeout: 30_000 });
  return page;
}
