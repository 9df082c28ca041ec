#!/usr/bin/env node
// `npm run test:e2e [-- playwright args]`: builds the test build (vite build --mode test ->
// dist-test/), then runs Playwright. As root, where `unshare -n` works, Playwright (its web server
// and every browser) runs in a fresh network namespace with only loopback up, so no test traffic
// can leave the machine and WebRTC has nothing but 127.0.0.1 to use. Elsewhere it warns and runs
// directly. Exit code: Playwright's.
//
// Env: QUORUM_E2E_NETNS=0 skips the namespace; QUORUM_E2E_SKIP_BUILD=1 reuses dist-test/;
//      E2E_PORT (18080), CHROMIUM_PATH (/usr/bin/chromium) are read by playwright.config.ts.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const bin = (name) => path.join(root, 'node_modules', '.bin', name);
const args = process.argv.slice(2);

// One run at a time per checkout: runs share dist-test/, test-results/e2e/ and .tmp/e2e/, and a
// second run would delete the first one's build, artifacts and browser profiles under it.
const lockDir = path.join(root, '.tmp', 'e2e.lock');
function alive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return e.code === 'EPERM';
  }
}
async function acquireLock() {
  fs.mkdirSync(path.dirname(lockDir), { recursive: true });
  let warned = false;
  for (;;) {
    try {
      fs.mkdirSync(lockDir);
      fs.writeFileSync(path.join(lockDir, 'pid'), String(process.pid));
      return;
    } catch (e) {
      if (e.code !== 'EEXIST') throw e;
    }
    const owner = Number(fs.readFileSync(path.join(lockDir, 'pid'), { encoding: 'utf8', flag: 'a+' }) || 0);
    if (owner && !alive(owner)) {
      fs.rmSync(lockDir, { recursive: true, force: true }); // stale: its owner is gone
      continue;
    }
    if (!warned) {
      console.log(`test-e2e: another e2e run (pid ${owner || '?'}) is using this checkout; waiting for it to finish`);
      warned = true;
    }
    await new Promise((r) => setTimeout(r, 1000));
  }
}
await acquireLock();
process.on('exit', () => {
  try {
    if (fs.readFileSync(path.join(lockDir, 'pid'), 'utf8') === String(process.pid)) fs.rmSync(lockDir, { recursive: true, force: true });
  } catch {
    // already gone
  }
});

// A TMPDIR of our own: Chromium profiles and Playwright artifacts land here, not in /tmp.
const tmpDir = path.join(root, '.tmp', 'e2e');
fs.rmSync(tmpDir, { recursive: true, force: true });
fs.mkdirSync(tmpDir, { recursive: true });
const env = { ...process.env, TMPDIR: tmpDir };

function run(cmd, cmdArgs) {
  return new Promise((resolve) => {
    const child = spawn(cmd, cmdArgs, { cwd: root, env, stdio: 'inherit' });
    const forward = (sig) => child.kill(sig);
    process.on('SIGINT', forward);
    process.on('SIGTERM', forward);
    child.on('error', (err) => {
      console.error(`test-e2e: cannot run ${cmd}: ${err.message}`);
      resolve(127);
    });
    child.on('exit', (code, signal) => {
      process.off('SIGINT', forward);
      process.off('SIGTERM', forward);
      resolve(code ?? (signal ? 128 + 1 : 1));
    });
  });
}

function canUseNetns() {
  if (process.env.QUORUM_E2E_NETNS === '0') return { ok: false, why: 'QUORUM_E2E_NETNS=0' };
  if (process.platform !== 'linux') return { ok: false, why: `not Linux (${process.platform})` };
  if (process.getuid?.() !== 0) return { ok: false, why: 'not running as root' };
  const probe = spawnSync('unshare', ['-n', 'sh', '-c', 'ip link set lo up'], { stdio: 'pipe' });
  if (probe.error) return { ok: false, why: `unshare unavailable (${probe.error.message})` };
  if (probe.status !== 0) return { ok: false, why: `unshare -n / ip failed: ${String(probe.stderr).trim()}` };
  return { ok: true, why: '' };
}

const t0 = Date.now();
if (process.env.QUORUM_E2E_SKIP_BUILD !== '1') {
  console.log('test-e2e: building the test build (vite build --mode test -> dist-test/)');
  const code = await run(bin('vite'), ['build', '--mode', 'test', '--logLevel', 'warn']);
  if (code !== 0) {
    console.error(`test-e2e: build failed (exit ${code})`);
    process.exit(code);
  }
  console.log(`test-e2e: built in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
}

const playwright = [bin('playwright'), 'test', ...args];
const netns = canUseNetns();
let code;
if (netns.ok) {
  console.log('test-e2e: running Playwright in a loopback-only network namespace');
  env.QUORUM_E2E_NETNS_ACTIVE = '1';
  code = await run('unshare', ['-n', 'sh', '-c', 'ip link set lo up && exec "$@"', 'sh', ...playwright]);
} else {
  console.warn(`test-e2e: WARNING: no network namespace (${netns.why}); running Playwright directly.`);
  console.warn("test-e2e: Chromium may route WebRTC over this machine's LAN address; results still count.");
  code = await run(playwright[0], playwright.slice(1));
}
console.log(`test-e2e: done in ${((Date.now() - t0) / 1000).toFixed(1)} s (exit ${code})`);
process.exit(code);
