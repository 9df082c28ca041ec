/**
 * Where the CPU goes while the network runs: the CPU time of every thread of the browser (and of
 * this Node process, which serves the page and runs the PeerServer), read from Linux's /proc
 * before and after a job and summed by what the thread does. Chromium names its threads, so
 * the groups need no instrumentation in the page:
 *
 * - `inference`: Web Worker threads (`DedicatedWorker`) in renderers: the volunteers' engines
 *   (and the coordinator's model inspector, idle during a job);
 * - `pages`: the renderers' main threads: the hosts, the cores, the codec, IndexedDB calls;
 * - `webrtc`: the renderers' WebRTC threads (SCTP, DTLS) and Chromium's network service, which
 *   owns the sockets: the data plane below our transport;
 * - `browser`: the browser process (IPC, IndexedDB's backend);
 * - `node`: the bench's own server and signaling;
 * - `other`: everything else (renderer IO and compositor threads, the GPU process, V8 helpers).
 *
 * Figures are cores: CPU seconds per wall second. Null where /proc cannot be read (not Linux).
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import { median, round } from './stats.ts';

export const CPU_GROUPS = ['inference', 'pages', 'webrtc', 'browser', 'node', 'other'] as const;
export type CpuGroup = (typeof CPU_GROUPS)[number];
export type CpuShare = Readonly<Record<CpuGroup | 'total', number>>;

export interface CpuSnapshot {
  readonly atMs: number;
  /** CPU ticks per thread (`pid/tid`), with its group. */
  readonly threads: ReadonlyMap<string, { readonly group: CpuGroup; readonly ticks: number }>;
}

let ticksPerSecond: number | null = null;
function clockTicks(): number {
  if (ticksPerSecond === null) {
    try {
      ticksPerSecond = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      ticksPerSecond = 100;
    }
  }
  return ticksPerSecond;
}

function processKind(cmdline: string): 'renderer' | 'network' | 'browser' | 'other-chromium' | null {
  if (!/chrom/i.test(cmdline.split('\0')[0] ?? '')) return null;
  const type = /--type=([\w-]+)/.exec(cmdline)?.[1];
  if (type === undefined) return 'browser';
  if (type === 'renderer') return 'renderer';
  if (type === 'utility' && cmdline.includes('--utility-sub-type=network.mojom.NetworkService')) return 'network';
  return 'other-chromium';
}

function groupOf(kind: NonNullable<ReturnType<typeof processKind>>, pid: string, tid: string, comm: string): CpuGroup {
  switch (kind) {
    case 'renderer':
      if (comm === 'DedicatedWorker') return 'inference';
      if (tid === pid) return 'pages';
      if (comm.startsWith('WebRTC')) return 'webrtc';
      return 'other';
    case 'network':
      return 'webrtc';
    case 'browser':
      return 'browser';
    case 'other-chromium':
      return 'other';
  }
}

/** The CPU ticks of every Chromium thread and of this process's threads, or null without /proc. */
export function snapshotCpu(): CpuSnapshot | null {
  let pids: string[];
  try {
    pids = fs.readdirSync('/proc').filter((d) => /^\d+$/.test(d));
  } catch {
    return null;
  }
  const threads = new Map<string, { group: CpuGroup; ticks: number }>();
  const self = String(process.pid);
  for (const pid of pids) {
    let kind: ReturnType<typeof processKind> | 'node';
    try {
      kind = pid === self ? 'node' : processKind(fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8'));
    } catch {
      continue; // gone since the listing
    }
    if (kind === null) continue;
    let tids: string[];
    try {
      tids = fs.readdirSync(`/proc/${pid}/task`);
    } catch {
      continue;
    }
    for (const tid of tids) {
      try {
        const stat = fs.readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
        // The name sits in parentheses and may hold spaces; utime and stime are fields 14 and 15.
        const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
        const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
        const ticks = Number(fields[11]) + Number(fields[12]);
        threads.set(`${pid}/${tid}`, { group: kind === 'node' ? 'node' : groupOf(kind, pid, tid, comm), ticks });
      } catch {
        // the thread ended
      }
    }
  }
  return { atMs: performance.now(), threads };
}

/** Cores used per group between two snapshots (threads that ended in between are not counted). */
export function cpuBetween(a: CpuSnapshot, b: CpuSnapshot): CpuShare {
  const seconds = (b.atMs - a.atMs) / 1000;
  const ticks: Record<CpuGroup, number> = { inference: 0, pages: 0, webrtc: 0, browser: 0, node: 0, other: 0 };
  for (const [key, t] of b.threads) ticks[t.group] += t.ticks - (a.threads.get(key)?.ticks ?? 0);
  const hz = clockTicks();
  const share = Object.fromEntries(CPU_GROUPS.map((g) => [g, seconds > 0 ? Math.round((ticks[g] / hz / seconds) * 1000) / 1000 : 0])) as Record<
    CpuGroup,
    number
  >;
  const total = Math.round(CPU_GROUPS.reduce((s, g) => s + share[g], 0) * 1000) / 1000;
  return { ...share, total };
}

/** The median of each group over samples (null samples skipped; null when none is left). */
export function medianCpu(samples: readonly (CpuShare | null)[]): CpuShare | null {
  const got = samples.filter((s): s is CpuShare => s !== null);
  if (got.length === 0) return null;
  const pick = (k: keyof CpuShare): number => round(median(got.map((s) => s[k])), 3);
  return { ...(Object.fromEntries(CPU_GROUPS.map((g) => [g, pick(g)])) as Record<CpuGroup, number>), total: pick('total') };
}
