/**
 * `/metrics` of a headless coordinator, in Prometheus' text exposition format (version 0.0.4).
 * Pure: the host reads one snapshot of the core at scrape time and this turns it into text, so
 * the numbers are exactly what the coordinator page and the network map show.
 */
import type { VerificationTotals } from '../core/coordinator/state.ts';
import type { JobStatus, PeerSummary } from '../protocol/messages.ts';

export const METRICS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

/** What one scrape reads from the coordinator. */
export interface MetricsSnapshot {
  readonly peers: readonly PeerSummary[];
  readonly activeLeases: number;
  readonly jobs: readonly JobStatus[];
  readonly totals: Readonly<VerificationTotals>;
  /** [S-3] Why storage fails, or null while it works. */
  readonly storageFailure: string | null;
  readonly pendingWrites: number;
  /** Results taken in per second, over the last RATE_WINDOW_MS. */
  readonly resultsPerSecond: number;
}

/** Label values are quoted; backslash, quote and newline are escaped as the format requires. */
const label = (v: string): string => v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');

interface Family {
  readonly name: string;
  readonly help: string;
  readonly type: 'gauge' | 'counter';
  readonly samples: readonly { readonly labels?: Readonly<Record<string, string>>; readonly value: number }[];
}

function render(families: readonly Family[]): string {
  const lines: string[] = [];
  for (const f of families) {
    lines.push(`# HELP ${f.name} ${f.help}`, `# TYPE ${f.name} ${f.type}`);
    for (const s of f.samples) {
      const labels = Object.entries(s.labels ?? {});
      const text = labels.length === 0 ? '' : `{${labels.map(([k, v]) => `${k}="${label(v)}"`).join(',')}}`;
      lines.push(`${f.name}${text} ${Number.isFinite(s.value) ? s.value : 0}`);
    }
  }
  return `${lines.join('\n')}\n`;
}

const sum = (jobs: readonly JobStatus[], key: 'verified' | 'unverifiable' | 'disagreements' | 'shards'): number => jobs.reduce((n, j) => n + j[key], 0);

export function renderMetrics(s: MetricsSnapshot): string {
  // Peers by role and backend: every pair seen now, counted (observers and requesters have no backend).
  const byPair = new Map<string, { role: string; backend: string; n: number }>();
  for (const p of s.peers) {
    const backend = p.backend ?? 'none';
    const key = `${p.role}\u0000${backend}`;
    const entry = byPair.get(key) ?? { role: p.role, backend, n: 0 };
    entry.n++;
    byPair.set(key, entry);
  }
  return render([
    {
      name: 'quorum_peers',
      help: 'Connected peers by role and backend.',
      type: 'gauge',
      samples: [...byPair.values()].map((e) => ({ labels: { role: e.role, backend: e.backend }, value: e.n })),
    },
    { name: 'quorum_leases_out', help: 'Leases held by volunteers now.', type: 'gauge', samples: [{ value: s.activeLeases }] },
    { name: 'quorum_jobs', help: 'Jobs known to this coordinator, by state.', type: 'gauge', samples: jobStates(s.jobs) },
    { name: 'quorum_shards', help: 'Shards of every job.', type: 'gauge', samples: [{ value: sum(s.jobs, 'shards') }] },
    { name: 'quorum_shards_verified', help: 'Shards accepted on quorum and stored.', type: 'gauge', samples: [{ value: sum(s.jobs, 'verified') }] },
    {
      name: 'quorum_shards_unverifiable',
      help: 'Shards given up on: no quorum within the replica limit.',
      type: 'gauge',
      samples: [{ value: sum(s.jobs, 'unverifiable') }],
    },
    { name: 'quorum_disagreements', help: 'Replica disagreements across all jobs.', type: 'gauge', samples: [{ value: sum(s.jobs, 'disagreements') }] },
    {
      name: 'quorum_quarantines_total',
      help: 'Volunteers quarantined for wrong results since this process started.',
      type: 'counter',
      samples: [{ value: s.totals.quarantined }],
    },
    {
      name: 'quorum_peers_quarantined',
      help: 'Connected volunteers in quarantine.',
      type: 'gauge',
      samples: [{ value: s.peers.filter((p) => p.quarantined === true).length }],
    },
    { name: 'quorum_results_total', help: 'Results taken in since this process started.', type: 'counter', samples: [{ value: s.totals.results }] },
    { name: 'quorum_results_per_second', help: 'Results taken in per second, recently.', type: 'gauge', samples: [{ value: s.resultsPerSecond }] },
    {
      name: 'quorum_storage_failing',
      help: '1 while storage writes fail (no new jobs, leases or acceptances), else 0.',
      type: 'gauge',
      samples: [{ value: s.storageFailure === null ? 0 : 1 }],
    },
    { name: 'quorum_storage_pending_writes', help: 'Writes waiting for storage to work again.', type: 'gauge', samples: [{ value: s.pendingWrites }] },
  ]);
}

function jobStates(jobs: readonly JobStatus[]): Family['samples'] {
  const done = jobs.filter((j) => j.done).length;
  return [
    { labels: { state: 'running' }, value: jobs.length - done },
    { labels: { state: 'done' }, value: done },
  ];
}

/** How far back `resultsPerSecond` looks. */
export const RATE_WINDOW_MS = 10_000;

/** A rate from a cumulative count sampled at each scrape (and on a timer): count per second over the window. */
export class RateMeter {
  private samples: { atMs: number; total: number }[] = [];

  sample(atMs: number, total: number): number {
    this.samples.push({ atMs, total });
    while (this.samples.length > 2 && (this.samples[1]?.atMs ?? atMs) <= atMs - RATE_WINDOW_MS) this.samples.shift();
    const first = this.samples[0] as { atMs: number; total: number };
    const spanMs = atMs - first.atMs;
    return spanMs <= 0 ? 0 : ((total - first.total) * 1000) / spanMs;
  }
}

/** A Prometheus text body parsed into `name{labels}` → value (for tests and health checks). */
export function parseMetrics(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*(?:\{[^}]*\})?) (\S+)$/.exec(line);
    if (!m) throw new Error(`not a Prometheus sample line: ${line}`);
    out.set(m[1] as string, Number(m[2]));
  }
  return out;
}
