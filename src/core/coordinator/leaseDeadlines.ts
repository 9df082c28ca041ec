/**
 * [L-8] The lease speed model: each volunteer's smoothed time per item, measured from its
 * results, and the deadline a new lease gets from it. Separate from the coordinator because it
 * owns its own per-volunteer state, which nothing else reads, and its arithmetic is the only
 * place lease deadlines come from.
 */
import type { PeerId } from '../../protocol/ids.ts';
import type { CoordinatorConfig } from './state.ts';

export class LeaseDeadlines {
  /** [L-8] Smoothed milliseconds per item, per volunteer id. */
  private readonly msPerItem = new Map<PeerId, number>();
  /**
   * [L-8] When each volunteer's last result arrived: a lease queued behind another ([W-18]) only
   * starts then, so its time is counted from there, not from its issue.
   */
  private readonly lastResultMs = new Map<PeerId, number>();

  constructor(private readonly config: Pick<CoordinatorConfig, 'leaseTimeoutMs' | 'leaseDeadline'>) {}

  /**
   * [L-8] A volunteer's lease deadline: scaled to its measured time per item when there is one,
   * clamped to [floor, leaseTimeoutMs]; a volunteer not yet measured gets `leaseTimeoutMs`.
   */
  deadlineMs(volunteer: PeerId, items: number): number {
    const cap = this.config.leaseTimeoutMs;
    const tuning = this.config.leaseDeadline;
    const perItem = this.msPerItem.get(volunteer);
    if (!tuning || perItem === undefined) return cap;
    const scaled = tuning.factor * perItem * items + tuning.slackMs;
    return Math.round(Math.min(cap, Math.max(Math.min(tuning.floorMs, cap), scaled)));
  }

  /**
   * [L-8] A result for a lease of `items` items issued at `issuedAtMs` arrived at `now`: its time,
   * from its issue or the volunteer's previous result if later, is folded into the volunteer's speed.
   */
  resultArrived(volunteer: PeerId, issuedAtMs: number, now: number, items: number): void {
    const previous = this.lastResultMs.get(volunteer);
    this.lastResultMs.set(volunteer, now);
    const startedMs = previous !== undefined && previous > issuedAtMs ? previous : issuedAtMs;
    this.measureSpeed(volunteer, now - startedMs, items);
  }

  /** [L-8] Folds one lease's time into the volunteer's smoothed time per item. */
  private measureSpeed(volunteer: PeerId, elapsedMs: number, items: number): void {
    const tuning = this.config.leaseDeadline;
    if (!tuning || items <= 0 || !(elapsedMs >= 0)) return;
    const sample = elapsedMs / items;
    const before = this.msPerItem.get(volunteer);
    this.msPerItem.set(volunteer, before === undefined ? sample : before + tuning.alpha * (sample - before));
  }
}
