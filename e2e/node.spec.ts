/**
 * A mixed network (issue 17): a coordinator tab, one browser volunteer (WASM) and `quorum
 * volunteer` processes (onnxruntime-node, backend node-cpu) verify a 2,000-digit MNIST job at
 * replication 2 that `quorum submit` (a process too) submitted; its output folder's predictions
 * must equal the requester page's single-tab reference. One volunteer process is stopped with
 * Ctrl-C (SIGINT) mid-job and another killed with SIGKILL mid-job and restarted on its state
 * directory: no shard is lost or accepted twice. The [V-13] spread the job measured between the
 * WASM and node-cpu replicas is printed, to be quoted.
 *
 * Only one volunteer process runs at a time, beside the browser volunteer, which holds every
 * shard SLOW_MS: every shard then needs the browser's replica, so the job surely still runs when
 * a process is stopped right after its first shard.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect, test } from './support/browser.ts';
import { storedVerifiedShards } from './support/idb.ts';
import { requesterKeyOf } from './support/requester.ts';
import { appState } from './support/state.ts';
import { parseNpy } from '../src/workloads/inputs/npy.ts';
import { argmaxRows, MNIST_CLASSES } from '../src/workloads/mnist/holdout.ts';

const ROOT = path.resolve(import.meta.dirname, '..');
const BIN = path.join(ROOT, 'bin', 'quorum.mjs');
const DIGITS = 2000;
const SHARD_SIZE = 100;
const SHARDS = DIGITS / SHARD_SIZE;
const SLOW_MS = 400;

/** A `quorum` process, its output kept line by line. */
interface QuorumProcess {
  readonly proc: ChildProcess;
  readonly lines: string[];
  readonly exited: Promise<number | null>;
  /** Resolves with the first line matching `re` (already printed or to come). */
  line(re: RegExp, timeoutMs?: number): Promise<string>;
}

const running: QuorumProcess[] = [];

function quorum(args: string[]): QuorumProcess {
  const proc = spawn(process.execPath, [BIN, ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: string[] = [];
  const waiters: { re: RegExp; resolve: (l: string) => void }[] = [];
  const take = (stream: NodeJS.ReadableStream | null): void => {
    let buffered = '';
    stream?.on('data', (d: Buffer) => {
      buffered += d.toString();
      let nl: number;
      while ((nl = buffered.indexOf('\n')) >= 0) {
        const text = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        lines.push(text);
        for (const w of [...waiters]) {
          if (!w.re.test(text)) continue;
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve(text);
        }
      }
    });
  };
  take(proc.stdout);
  take(proc.stderr);
  const exited = new Promise<number | null>((resolve) => proc.on('exit', (code) => resolve(code)));
  const p: QuorumProcess = {
    proc,
    lines,
    exited,
    line: (re, timeoutMs = 120_000) =>
      new Promise((resolve, reject) => {
        const seen = lines.find((l) => re.test(l));
        if (seen !== undefined) return resolve(seen);
        const timer = setTimeout(() => reject(new Error(`no line matching ${re} within ${timeoutMs} ms; output:\n${lines.join('\n')}`)), timeoutMs);
        waiters.push({
          re,
          resolve: (l) => {
            clearTimeout(timer);
            resolve(l);
          },
        });
        void exited.then((code) => reject(new Error(`exited (${code}) before a line matching ${re}; output:\n${lines.join('\n')}`)));
      }),
  };
  running.push(p);
  return p;
}

test.afterEach(() => {
  for (const p of running) if (p.proc.exitCode === null && p.proc.signalCode === null) p.proc.kill('SIGKILL');
  running.length = 0;
});

test('quorum submit and quorum volunteer processes verify an MNIST job with a browser volunteer; Ctrl-C and SIGKILL mid-job lose no shard @node', async ({
  openRoles,
  appOrigin,
}) => {
  test.setTimeout(300_000);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'quorum-e2e-node-'));
  const [coord] = await openRoles(['coordinator']);
  const cpage = coord!.page;
  await expect(cpage.getByTestId('connection-state')).toHaveText('connected', { timeout: 20_000 });
  const key = await requesterKeyOf(cpage);
  // [K-1] The network and the key's fingerprint, from the volunteer link the page shows.
  const link = new URL((await cpage.getByTestId('volunteer-link').getAttribute('href')) ?? '', appOrigin);
  const query = new URLSearchParams(link.hash.slice(link.hash.indexOf('?') + 1));
  const network = query.get('network') ?? 'default';
  const fp = query.get('fp') ?? '';
  expect(fp).toMatch(/^[A-Za-z0-9_-]{43}$/);

  const [browser] = await openRoles([`volunteer?autostart=1&slowMs=${SLOW_MS}`]);
  await expect(browser!.page.getByTestId('backend')).toHaveText(/wasm|webgpu/, { timeout: 30_000 });

  const volunteerArgs = (state: string): string[] => ['volunteer', '--server', appOrigin, '--network', network, '--fp', fp, '--threads', '1', '--state', state];
  const stateA = path.join(tmp, 'a');
  const stateB = path.join(tmp, 'b');
  const a = quorum(volunteerArgs(stateA));
  await expect(cpage.getByTestId('volunteer-count')).toHaveText('2', { timeout: 60_000 });

  const out = path.join(tmp, 'out');
  const submit = quorum([
    ...['submit', '--server', appOrigin, '--network', network, '--key', key, '--fp', fp, '--state', path.join(tmp, 'requester'), '--out', out],
    ...['--workload', 'mnist', '--items', String(DIGITS), '--shard-size', String(SHARD_SIZE), '--replication', '2', '--quorum', '2'],
  ]);
  const accepted = await submit.line(/^job \S+ accepted: \d+ shards/);
  const jobId = /^job (\S+) accepted/.exec(accepted)![1]!;
  expect(accepted).toContain(`${SHARDS} shards`);

  const jobNow = async () => (await appState(cpage)).coordinator.jobs.find((j) => j.jobId === jobId);

  // Ctrl-C mid-job: as soon as process A has run a shard, while the job still runs.
  await a.line(/shard \S+ done: /);
  a.proc.kill('SIGINT');
  expect(await a.exited).toBe(0);
  const afterSigint = await jobNow();
  expect(afterSigint?.done, 'the process was stopped mid-job').toBe(false);

  // SIGKILL mid-job: process B, as soon as it has run a shard; then restarted on its state directory.
  let b = quorum(volunteerArgs(stateB));
  await b.line(/shard \S+ done: /);
  b.proc.kill('SIGKILL');
  await b.exited;
  const afterKill = await jobNow();
  expect(afterKill?.done, 'the process was killed mid-job').toBe(false);
  console.log(`[node] verified when A got Ctrl-C: ${afterSigint?.verified}/${SHARDS}; when B was killed: ${afterKill?.verified}/${SHARDS}`);
  const peerB = (JSON.parse(fs.readFileSync(path.join(stateB, `volunteer-${network}-1`, 'identity.json'), 'utf8')) as { peerId: string }).peerId;
  b = quorum(volunteerArgs(stateB));

  // The job completes; quorum submit writes it all and exits 0.
  expect(await submit.exited, submit.lines.join('\n')).toBe(0);
  expect(submit.lines.some((l) => l.startsWith(`job ${jobId} done: ${SHARDS} verified shard(s) of ${SHARDS}`))).toBe(true);
  // The restarted process came back under its peer id ([W-17]).
  await expect.poll(async () => (await appState(cpage)).coordinator.peers.some((p) => p.peerId === peerB), { timeout: 60_000 }).toBe(true);

  // No shard lost or accepted twice: the coordinator verified each shard once, stored each once,
  // and the output folder covers every item exactly once.
  const status = await jobNow();
  expect(status).toMatchObject({ items: DIGITS, shards: SHARDS, verified: SHARDS, unverifiable: 0, done: true });
  expect(await storedVerifiedShards(cpage, jobId)).toBe(SHARDS);
  const results = JSON.parse(fs.readFileSync(path.join(out, `${jobId}-results.json`), 'utf8')) as {
    verifiedItems: number;
    shards: { index: number; start: number; count: number; volunteers: string[]; backends: string[] }[];
  };
  expect(results.verifiedItems).toBe(DIGITS);
  expect(results.shards.map((s) => s.index).sort((x, y) => x - y)).toEqual(Array.from({ length: SHARDS }, (_, i) => i));
  const covered = new Array<number>(DIGITS).fill(0);
  for (const s of results.shards) {
    expect(new Set(s.volunteers).size).toBe(2);
    for (let i = s.start; i < s.start + s.count; i++) covered[i]!++;
  }
  expect(covered.filter((c) => c !== 1)).toEqual([]);
  // A mixed network: every shard paired a WASM replica with a node-cpu one.
  const pairs = results.shards.map((s) => [...s.backends].sort().join('+'));
  expect(new Set(pairs)).toEqual(new Set(['node-cpu+wasm']));
  expect(JSON.parse(fs.readFileSync(path.join(out, 'job.json'), 'utf8'))).toMatchObject({ jobId, verifiedShards: SHARDS, done: true });

  // The predictions in the output folder equal the requester page's single-tab reference run.
  const npy = parseNpy(fs.readFileSync(path.join(out, `${jobId}-logits.npy`)).slice().buffer);
  expect(npy.shape).toEqual([DIGITS, MNIST_CLASSES]);
  const predictions = Array.from(argmaxRows(new Float32Array(npy.data), MNIST_CLASSES));
  const [req] = await openRoles(['requester']);
  await req!.page.locator('input[name=count]').fill(String(DIGITS));
  await req!.page.getByTestId('run-reference').click();
  await expect(req!.page.getByTestId('reference-state')).toHaveAttribute('data-state', 'done', { timeout: 120_000 });
  const reference = (await appState(req!.page)).requester.reference?.predictions ?? [];
  expect(reference).toHaveLength(DIGITS);
  expect(predictions).toEqual(reference);

  // [V-13] The spread between WASM and node-cpu replicas, as the job reports it.
  expect(status?.spread?.crossBackendPairs).toBeGreaterThan(0);
  console.log(`[node] [V-13] spread of job ${jobId} (WASM vs node-cpu): ${JSON.stringify(status?.spread)}`);

  b.proc.kill('SIGINT');
  expect(await b.exited).toBe(0);
  fs.rmSync(tmp, { recursive: true, force: true });
});
