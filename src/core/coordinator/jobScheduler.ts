/**
 * Which job gets the next lease, when several have work: stride scheduling (Waldspurger & Weihl,
 * 1995), so that over any stretch of time during which jobs all have work, each gets leases in
 * proportion to its priority. Deterministic; no clock, no randomness.
 *
 * Every job has a `pass`; the job with the lowest pass among those that have work for the asking
 * volunteer wins (ties: the order the caller lists candidates in, i.e. oldest job first), and its
 * pass advances by STRIDE / priority. A job that had no work for a while (or is new) re-enters at
 * the current virtual time rather than with its old, low pass: being idle earns no credit, so a
 * returning job cannot starve the others with a burst.
 */

/** A job that has work for the volunteer now. */
export interface SchedulingCandidate<Id extends string = string> {
  readonly id: Id;
  /** 1 (default) to 10; a job gets leases in proportion to it. */
  readonly priority: number;
}

/** Priority bounds of the job spec. */
export const MIN_PRIORITY = 1;
export const MAX_PRIORITY = 10;
export const DEFAULT_PRIORITY = 1;

/** 2520 = lcm(1..10): every stride is an integer, so passes never accumulate rounding error. */
export const STRIDE = 2520;

export function normalisePriority(p: number | undefined): number {
  if (p === undefined || !Number.isFinite(p)) return DEFAULT_PRIORITY;
  return Math.min(MAX_PRIORITY, Math.max(MIN_PRIORITY, Math.round(p)));
}

export class JobScheduler<Id extends string = string> {
  private readonly passes = new Map<Id, number>();
  /** The pass of the latest winner: where idle and new jobs (re-)enter. */
  private virtualTime = 0;

  /**
   * Chooses among `candidates` (jobs with work for the asker, oldest first) and charges the winner
   * one lease. Returns null when there is none.
   */
  pick<C extends SchedulingCandidate<Id>>(candidates: readonly C[]): C | null {
    let best: C | null = null;
    let bestPass = Infinity;
    for (const c of candidates) {
      const pass = Math.max(this.passes.get(c.id) ?? this.virtualTime, this.virtualTime);
      this.passes.set(c.id, pass);
      if (pass < bestPass) {
        best = c;
        bestPass = pass;
      }
    }
    if (best === null) return null;
    this.virtualTime = bestPass;
    this.passes.set(best.id, bestPass + STRIDE / normalisePriority(best.priority));
    return best;
  }

  /** Forgets a finished job. */
  forget(id: Id): void {
    this.passes.delete(id);
  }

  /** For tests and the coordinator's view: a job's current pass (undefined before its first pick). */
  passOf(id: Id): number | undefined {
    return this.passes.get(id);
  }
}
