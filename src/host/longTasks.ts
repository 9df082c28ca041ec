/**
 * Main-thread long tasks (PerformanceObserver 'longtask', the only thing this file touches): how
 * many, the longest, and how many of them fell while the inference worker was busy. The worker
 * exists so that this stays at zero while shards run; this measures that it does.
 */
import type { LongTaskStats } from '../model/volunteerView.ts';

/** Busy intervals kept for matching late-delivered entries. */
const MAX_INTERVALS = 200;

export class LongTaskMonitor {
  private observer: PerformanceObserver | null = null;
  private stats: LongTaskStats = { supported: false, count: 0, longestMs: 0, busyCount: 0, busyLongestMs: 0, busyMs: 0 };
  private busySince: number | null = null;
  private readonly intervals: { start: number; end: number }[] = [];

  constructor(private readonly onChange: (stats: LongTaskStats) => void) {}

  start(): void {
    if (this.observer) return;
    const supported = typeof PerformanceObserver !== 'undefined' && (PerformanceObserver.supportedEntryTypes ?? []).includes('longtask');
    this.stats = { ...this.stats, supported };
    if (supported) {
      this.observer = new PerformanceObserver((list) => this.take(list.getEntries()));
      this.observer.observe({ type: 'longtask', buffered: true });
    }
    this.onChange(this.stats);
  }

  /** The inference worker started (true) or finished (false) a model load or a shard. */
  setBusy(busy: boolean): void {
    const now = performance.now();
    if (busy && this.busySince === null) {
      this.busySince = now;
    } else if (!busy && this.busySince !== null) {
      this.intervals.push({ start: this.busySince, end: now });
      if (this.intervals.length > MAX_INTERVALS) this.intervals.shift();
      this.stats = { ...this.stats, busyMs: this.stats.busyMs + (now - this.busySince) };
      this.busySince = null;
      this.onChange(this.stats);
    }
  }

  stop(): void {
    this.observer?.disconnect();
    this.observer = null;
  }

  private take(entries: readonly PerformanceEntry[]): void {
    if (entries.length === 0) return;
    let { count, longestMs, busyCount, busyLongestMs } = this.stats;
    for (const e of entries) {
      count++;
      longestMs = Math.max(longestMs, e.duration);
      if (this.overlapsBusy(e.startTime, e.startTime + e.duration)) {
        busyCount++;
        busyLongestMs = Math.max(busyLongestMs, e.duration);
      }
    }
    this.stats = { ...this.stats, count, longestMs, busyCount, busyLongestMs };
    this.onChange(this.stats);
  }

  private overlapsBusy(start: number, end: number): boolean {
    if (this.busySince !== null && end > this.busySince) return true;
    return this.intervals.some((i) => start < i.end && end > i.start);
  }
}
