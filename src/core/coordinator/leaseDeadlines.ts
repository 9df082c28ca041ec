/**
 * [L-8] The lease speed model: each volunteer's smoothed time per item, measured from its
 * results, and the deadline a new lease gets from it; [L-10] and how far a progress frame from
 * its holder moves a lease's deadline. Separate from the coordinator because it owns its own
 * per-volunteer state, which nothing else reads, and its arithmetic is the only place lease
 * deadlines come from.
 */
import type { PeerId } from '../../protocol/ids.ts';
import { LEASE_PROGRESS_INTERVAL_MS } from '../../protocol/messages.ts';
import { DEFAULT_LEASE_CEILING_MS, type CoordinatorConfig, type LeaseState } from './state.ts';

/**
 * [L-10] A progress frame keeps its lease for this long after it arrives: three intervals, so one
 * or two frames lost or delayed do not end the lease of a volunteer that is still working.
 */
export const LEASE_PROGRESS_GRACE_MS = 3 * LEASE_PROGRESS_INTERVAL_MS;
/**
 * [L-10] Progress frames on one lease closer together than this extend nothing: a volunteer
 * sends one per interval, so more is a broken or hostile sender, and each extension costs a
 * lease write ([S-1]).
 */
export const LEASE_PROGRESS_MIN_GAP_MS = LEASE_PROGRESS_INTERVAL_MS / 2;

export class LeaseDeadlines {
  /** [L-8] Smoothed milliseconds per item, per volunteer id. */
  private readonly msPerItem = new Map<PeerId, number>();
  /**
   * [L-8] When each volunteer's last result arrived: a lease queued behind another ([W-18]) only
   * starts then, so its time is counted from there, not from its issue.
   */
  private readonly lastResultMs = new Map<PeerId, number>();

  constructor(private readonly config: Pick<CoordinatorConfig, 'leaseTimeoutMs' | 'leaseDeadline' | 'leaseCeilingMs'>) {}

  /** [L-10] The longest a lease may last from its issue (never below `leaseTimeoutMs`). */
  get ceilingMs(): number {
    return Math.max(this.config.leaseTimeoutMs, this.config.leaseCeilingMs ?? DEFAULT_LEASE_CEILING_MS);
  }

  /**
   * [L-8] A volunteer's lease deadline: scaled to its measured time per item when there is one,
   * clamped to [min(floor, leaseTimeoutMs), ceiling] — a slow honest volunteer's measured time may
   * well exceed `leaseTimeoutMs`, and a deadline it cannot meet would only waste its work. A
   * volunteer not yet measured gets `leaseTimeoutMs`.
   */
  deadlineMs(volunteer: PeerId, items: number): number {
    const timeout = this.config.leaseTimeoutMs;
    const tuning = this.config.leaseDeadline;
    const perItem = this.msPerItem.get(volunteer);
    if (!tuning || perItem === undefined) return timeout;
    const scaled = tuning.factor * perItem * items + tuning.slackMs;
    return Math.round(Math.min(this.ceilingMs, Math.max(Math.min(tuning.floorMs, timeout), scaled)));
  }

  /**
   * [L-10] Its holder says it still works on `lease` (the caller checked who sent it): the
   * deadline moves to `now + LEASE_PROGRESS_GRACE_MS` if that is later, never past issue +
   * ceiling, at most once per LEASE_PROGRESS_MIN_GAP_MS. True when the deadline moved.
   */
  progressed(lease: LeaseState, now: number): boolean {
    if (lease.progressAtMs !== undefined && now - lease.progressAtMs < LEASE_PROGRESS_MIN_GAP_MS) return false;
    lease.progressAtMs = now;
    const extended = Math.min(lease.issuedAtMs + this.ceilingMs, now + LEASE_PROGRESS_GRACE_MS);
    if (extended <= lease.deadlineMs) return false;
    lease.deadlineMs = extended;
    return true;
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
