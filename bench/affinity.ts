/**
 * CPU affinity for the "own core" network rows: each volunteer's inference worker thread on a
 * core of its own, and every other thread — the volunteers' pages and WebRTC threads, the
 * coordinator's and requester's renderers, the browser, the network service, this Node process
 * (server and signaling) — on core 0. That is a volunteer's engine thread on a machine that is
 * not oversubscribed: nothing else competes for its core, as on a real volunteer's machine with
 * cores to spare. The raw rate the rows are divided by is measured the same way, the probe tab's
 * worker alone on core 1. (Pinning a volunteer's whole renderer to core 1 instead makes its own
 * receiving of the next shard's inputs compete with the run: session.run then took 1.13x as long.)
 *
 * Linux only, through util-linux's `taskset` on process and thread ids. Where it cannot work,
 * `isolationAvailable` says why.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';

function chromiumPids(kind?: 'renderer'): number[] {
  let pids: string[];
  try {
    pids = fs.readdirSync('/proc').filter((d) => /^\d+$/.test(d));
  } catch {
    return [];
  }
  const out: number[] = [];
  for (const pid of pids) {
    try {
      const cmd = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      if (!/chrom/i.test(cmd.split('\0')[0] ?? '')) continue;
      if (kind === 'renderer' && !cmd.includes('--type=renderer')) continue;
      out.push(Number(pid));
    } catch {
      // gone
    }
  }
  return out;
}

/** The renderer processes alive now (to find the one a new tab got). */
export function rendererPids(): Set<number> {
  return new Set(chromiumPids('renderer'));
}

/** Every thread of process `pid` (`-a`), or one thread when `pid` is a thread id and `all` is false. */
function pin(pid: number, cpus: string, all = true): boolean {
  return spawnSync('taskset', [...(all ? ['-a'] : []), '-p', '-c', cpus, String(pid)], { stdio: 'ignore' }).status === 0;
}

/** The Web Worker threads of a renderer (Chromium names them `DedicatedWorker`). */
function workerThreads(pid: number): number[] {
  try {
    return fs
      .readdirSync(`/proc/${pid}/task`)
      .filter((tid) => {
        try {
          return fs.readFileSync(`/proc/${pid}/task/${tid}/comm`, 'utf8').trim() === 'DedicatedWorker';
        } catch {
          return false;
        }
      })
      .map(Number);
  } catch {
    return [];
  }
}

/** Null when volunteers can be given cores of their own, else why not. */
export function isolationAvailable(volunteers: number): string | null {
  if (process.platform !== 'linux') return 'not Linux';
  if (os.cpus().length < volunteers + 1) return `${volunteers} volunteer(s) need ${volunteers + 1} cores`;
  if (spawnSync('taskset', ['-p', String(process.pid)], { stdio: 'ignore' }).status !== 0) return 'no taskset';
  return null;
}

/**
 * The worker threads of renderer `alone[i]` on core i + 1 (`whole`: all its threads, and the
 * threads it starts later, as a tab that creates its engine per measurement needs); every other
 * thread of Chromium and of this process on core 0. False when a renderer has no worker thread
 * or taskset failed.
 */
export function isolate(alone: readonly number[], whole = false): boolean {
  // Best effort for the rest: a process may exit between the listing and its taskset.
  pin(process.pid, '0');
  for (const pid of chromiumPids()) pin(pid, '0');
  let ok = true;
  alone.forEach((pid, i) => {
    if (whole) {
      ok = pin(pid, String(i + 1)) && ok;
      return;
    }
    const workers = workerThreads(pid);
    ok = workers.length > 0 && ok;
    for (const tid of workers) ok = pin(tid, String(i + 1), false) && ok;
  });
  return ok;
}

/** Every Chromium process and this one back on every core. */
export function release(): void {
  const all = `0-${os.cpus().length - 1}`;
  pin(process.pid, all);
  for (const pid of chromiumPids()) pin(pid, all);
}
