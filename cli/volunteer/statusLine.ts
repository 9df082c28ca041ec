/**
 * What `quorum volunteer` shows: on a terminal, one line rewritten in place (shards done, the
 * shard in hand, items per second); otherwise (a log file, a pipe, CI) one plain line per shard,
 * since carriage returns would garble a log. Log messages print above the status line.
 */
import type { VolunteerStats } from '../../src/core/volunteer/volunteer.ts';

/** Items per second are counted over this trailing window. */
export const RATE_WINDOW_MS = 10_000;
/** A terminal line is redrawn at most this often (shards may finish hundreds of times a second). */
const REDRAW_MS = 250;

export interface StatusSink {
  readonly isTTY?: boolean;
  write(text: string): unknown;
}

/** Throughput over a trailing window of finished shards. */
export class ItemRate {
  private readonly done: { atMs: number; items: number }[] = [];
  private firstAtMs: number | null = null;

  add(items: number, atMs: number): void {
    this.firstAtMs ??= atMs;
    this.done.push({ atMs, items });
  }

  /** Items per second over the last RATE_WINDOW_MS (or since the first shard, if sooner). */
  perSecond(nowMs: number): number {
    while (this.done.length > 0 && this.done[0]!.atMs <= nowMs - RATE_WINDOW_MS) this.done.shift();
    if (this.firstAtMs === null || this.done.length === 0) return 0;
    const spanMs = Math.min(RATE_WINDOW_MS, Math.max(1_000, nowMs - this.firstAtMs));
    return (this.done.reduce((n, d) => n + d.items, 0) * 1000) / spanMs;
  }
}

interface Row {
  stats: VolunteerStats | null;
  shardsDone: number;
}

/** The status of every volunteer of a process, in one line. */
export class StatusBoard {
  private readonly rows: Row[];
  private readonly rate = new ItemRate();
  private lastDrawMs = -Infinity;
  private drawn = false;

  constructor(
    count: number,
    private readonly out: StatusSink,
    private readonly now: () => number = () => Date.now(),
  ) {
    this.rows = Array.from({ length: count }, () => ({ stats: null, shardsDone: 0 }));
  }

  status(index: number, stats: VolunteerStats): void {
    const row = this.rows[index];
    if (!row) return;
    row.stats = stats;
    this.redraw(false);
  }

  shardDone(index: number, shardId: string | null, items: number, inferMs: number): void {
    const row = this.rows[index];
    if (!row) return;
    row.shardsDone++;
    const now = this.now();
    this.rate.add(items, now);
    if (this.out.isTTY) this.redraw(false);
    else this.out.write(`${this.prefix(index)}shard ${shardId ?? '?'} done: ${items} items in ${inferMs.toFixed(0)} ms; ${this.line()}\n`);
  }

  /** A message of volunteer `index`, or of the whole process (null). */
  log(index: number | null, level: 'info' | 'warn' | 'error', text: string): void {
    const line = `${this.prefix(index)}${level === 'info' ? '' : `${level}: `}${text}\n`;
    if (this.out.isTTY && this.drawn) this.out.write(`\r\x1b[2K${line}`);
    else this.out.write(line);
    this.drawn = false;
    this.redraw(true);
  }

  /** The summary: volunteers connected, shards done, the shards in hand, items/s, results held back. */
  line(): string {
    const n = this.rows.length;
    const done = this.rows.reduce((s, r) => s + r.shardsDone, 0);
    const running = this.rows.flatMap((r) => (r.stats?.currentShard ? [r.stats.currentShard] : []));
    const online = this.rows.filter((r) => r.stats !== null && r.stats.phase !== 'connecting').length;
    const held = this.rows.reduce((s, r) => s + (r.stats?.outbox ?? 0), 0);
    const paused = this.rows.find((r) => r.stats?.paused)?.stats?.pauseReason;
    const parts = [
      n === 1 ? (online ? 'connected' : 'connecting') : `${online}/${n} connected`,
      `${done} shard${done === 1 ? '' : 's'} done`,
      running.length === 0 ? 'idle' : running.length <= 3 ? `running ${running.join(', ')}` : `running ${running.length} shards`,
      `${this.rate.perSecond(this.now()).toFixed(1)} items/s`,
    ];
    if (held > 0) parts.push(`${held} awaiting acknowledgement`);
    if (paused) parts.push(`paused: ${paused}`);
    return parts.join(' · ');
  }

  /** Redraws the terminal line: items/s decays while no shard finishes. */
  refresh(): void {
    this.redraw(true);
  }

  /** Ends the terminal line, so what is printed next starts on its own. */
  close(): void {
    if (this.out.isTTY && this.drawn) this.out.write('\n');
    this.drawn = false;
  }

  private prefix(index: number | null): string {
    return index !== null && this.rows.length > 1 ? `[volunteer ${index + 1}] ` : '';
  }

  private redraw(force: boolean): void {
    if (!this.out.isTTY) return;
    const now = this.now();
    if (!force && now - this.lastDrawMs < REDRAW_MS) return;
    this.lastDrawMs = now;
    this.out.write(`\r\x1b[2K${this.line()}`);
    this.drawn = true;
  }
}
