#!/usr/bin/env node
// `npm test`: typecheck, lint, unit tests (vitest), e2e tests (Playwright), in that order. Keeps
// going after a failure so the summary is complete, streams every step's output, and ends with
// one plain line `N passed, N failed` (each vitest test and each Playwright test counts once;
// typecheck and lint count as one check each). Exit code: 0 only if nothing failed.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const UNIT_REPORT = path.join(root, 'test-results', 'unit-report.json');
const E2E_REPORT = path.join(root, 'test-results', 'e2e-report.json');

function run(args) {
  return new Promise((resolve) => {
    const child = spawn(npm, args, { cwd: root, stdio: 'inherit' });
    const forward = (sig) => child.kill(sig);
    process.on('SIGINT', forward);
    process.on('SIGTERM', forward);
    child.on('error', (err) => {
      console.error(`test-all: cannot run npm ${args.join(' ')}: ${err.message}`);
      resolve(127);
    });
    child.on('exit', (code, signal) => {
      process.off('SIGINT', forward);
      process.off('SIGTERM', forward);
      resolve(code ?? (signal ? 130 : 1));
    });
  });
}

function readJson(file) {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch {
    return null;
  }
}

/** A step that is one check: passes iff it exits 0. */
const check = (code) => (code === 0 ? { passed: 1, failed: 0 } : { passed: 0, failed: 1 });

function vitestCounts(code) {
  const r = readJson(UNIT_REPORT);
  if (!r) return { passed: 0, failed: 1, note: 'no vitest report (vitest crashed?)' };
  const passed = r.numPassedTests ?? 0;
  let failed = r.numFailedTests ?? 0;
  let note = '';
  // A file that fails to load fails no test; count it so the run cannot look green.
  if (code !== 0 && failed === 0) {
    failed = 1;
    note = `vitest exited ${code} with no failing test (failed suite: ${r.numFailedTestSuites ?? '?'})`;
  }
  return { passed, failed, note };
}

function playwrightCounts(code) {
  const r = readJson(E2E_REPORT);
  if (!r?.stats) return { passed: 0, failed: code === 0 ? 0 : 1, note: code === 0 ? 'no Playwright report' : `no Playwright report (exit ${code})` };
  const { expected = 0, unexpected = 0, flaky = 0, skipped = 0 } = r.stats;
  let failed = unexpected;
  let note = flaky ? `${flaky} flaky (passed on retry)` : '';
  if (skipped) note += `${note ? ', ' : ''}${skipped} skipped`;
  if (code !== 0 && failed === 0) {
    failed = 1;
    const errs = (r.errors ?? []).map((e) => e.message?.split('\n')[0]).filter(Boolean);
    note += `${note ? '; ' : ''}Playwright exited ${code}${errs.length ? `: ${errs[0]}` : ''}`;
  }
  return { passed: expected + flaky, failed, note };
}

const steps = [
  { name: 'typecheck', args: ['run', 'typecheck'], count: check },
  { name: 'lint', args: ['run', 'lint'], count: check },
  {
    name: 'unit',
    args: ['run', 'test:unit', '--', '--reporter=default', '--reporter=json', `--outputFile.json=${UNIT_REPORT}`, '--passWithNoTests'],
    before: () => fs.rmSync(UNIT_REPORT, { force: true }),
    count: vitestCounts,
  },
  {
    name: 'e2e',
    args: ['run', 'test:e2e', '--', '--pass-with-no-tests'],
    before: () => fs.rmSync(E2E_REPORT, { force: true }),
    count: playwrightCounts,
  },
];

fs.mkdirSync(path.join(root, 'test-results'), { recursive: true });
const results = [];
for (const step of steps) {
  console.log(`\n=== ${step.name}: npm ${step.args.join(' ')}`);
  step.before?.();
  const t0 = Date.now();
  const code = await run(step.args);
  const seconds = (Date.now() - t0) / 1000;
  const counts = step.count(code);
  results.push({ name: step.name, code, seconds, ...counts });
  console.log(`=== ${step.name}: exit ${code} in ${seconds.toFixed(1)} s`);
}

console.log('\n=== summary');
for (const r of results) {
  const status = r.failed ? 'FAIL' : 'ok  ';
  console.log(
    `${status} ${r.name.padEnd(10)} ${String(r.passed).padStart(4)} passed ${String(r.failed).padStart(3)} failed  ${r.seconds.toFixed(1).padStart(6)} s${r.note ? `  (${r.note})` : ''}`,
  );
}
const passed = results.reduce((s, r) => s + r.passed, 0);
const failed = results.reduce((s, r) => s + r.failed, 0);
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed > 0 ? 1 : 0);
