/**
 * What the coordinator tells volunteers unasked: [P-7] standing reports (what it now knows of a
 * volunteer's counters, trust and quarantine) and [L-9] `work-available` nudges to those told
 * `no-work`. Separate from the coordinator because both are deferred: events only note who is
 * concerned, and the frames go out later (standing on a due `tick` or when the event is flushed,
 * nudges once per event), so the bookkeeping of who is owed what lives here with its timing.
 */
import type { PeerId } from '../../protocol/ids.ts';
import type { FromCoordinator } from '../../protocol/messages.ts';
import { PROTOCOL_VERSION } from '../../protocol/messages.ts';
import type { ReputationBook } from '../reputation/reputation.ts';
import type { PersistTracker } from './persistTracker.ts';
import { volunteerStatusOf } from './readModels.ts';
import type { CoordinatorConfig, PeerState } from './state.ts';

export class VolunteerNotices {
  /** [P-7] Volunteers whose standing changed through results: reported on the next due `tick`. */
  private readonly touched = new Set<PeerId>();
  /** [P-7] Volunteers whose own action (pause, caps) or quarantine changed their standing: reported at once. */
  private readonly touchedNow = new Set<PeerId>();
  private nextStandingReportMs = 0;
  /**
   * [L-9] Volunteers told `no-work` since their last lease or nudge. Without a nudge each would
   * sit out `noWorkRetryMs` after work appears, which delays every new job's first shards.
   */
  private readonly waitingForWork = new Set<PeerId>();
  /** [L-9] Work appeared during this event: the waiting volunteers are told once, when it is flushed. */
  private workAppeared = false;

  constructor(
    private readonly peers: ReadonlyMap<PeerId, PeerState>,
    private readonly reputation: ReputationBook,
    private readonly config: Pick<CoordinatorConfig, 'standingReportMs' | 'maxLeasesPerVolunteer'>,
    private readonly persistence: PersistTracker,
    private readonly send: (to: PeerId, msg: FromCoordinator) => void,
  ) {}

  /** [P-7] Its results may have changed its standing: reported on the next due `tick`. */
  standingChanged(peer: PeerId): void {
    this.touched.add(peer);
  }

  /** [P-7] Its own action or a quarantine changed its standing: reported when the event is flushed. */
  standingChangedNow(peer: PeerId): void {
    this.touchedNow.add(peer);
  }

  /** [L-9] It was told `no-work`: nudged when work appears. */
  waiting(peer: PeerId): void {
    this.waitingForWork.add(peer);
  }

  /** [L-9] It got a lease: it is working again. */
  working(peer: PeerId): void {
    if (this.waitingForWork.size > 0) this.waitingForWork.delete(peer);
  }

  /** It left: nobody is left to nudge. */
  gone(peer: PeerId): void {
    this.waitingForWork.delete(peer);
  }

  /** [L-9] Work appeared (a job, a re-offered shard, storage back): the waiting hear of it at the flush. */
  markWorkAppeared(): void {
    this.workAppeared = true;
  }

  /** [P-7] On `tick`: the result-driven reports, at most every `standingReportMs`. */
  reportDue(now: number): void {
    if (this.touched.size > 0 && now >= this.nextStandingReportMs) {
      this.reportVolunteers(this.touched);
      this.nextStandingReportMs = now + this.config.standingReportMs;
    }
  }

  /** At the end of every event: the reports due at once, then the nudges. */
  flush(storageFails: boolean): void {
    if (this.touchedNow.size > 0) this.reportVolunteers(this.touchedNow);
    if (this.workAppeared) this.nudgeWaiting(storageFails);
  }

  /** [P-7] Tells each volunteer whose standing changed what the coordinator now knows of it. */
  private reportVolunteers(ids: Set<PeerId>): void {
    for (const id of ids) {
      const p = this.peers.get(id);
      if (!p || p.role !== 'volunteer') continue;
      this.send(id, volunteerStatusOf(p, this.reputation));
      this.touched.delete(id);
      this.persistence.peerChanged(id); // [S-1] its standing changed: stored with the next batch
    }
    ids.clear();
  }

  /**
   * [L-9] Once per event that made work appear: every volunteer waiting after `no-work` that
   * could be leased now hears `work-available`, and is forgotten until its next `no-work` — so a
   * burst of re-offered shards costs each volunteer one frame. A paused, quarantined or full one
   * is dropped unnudged: it asks by itself when it resumes or a lease ends. While storage fails
   * nobody is leased anything, so they wait for `storageRecovered`.
   */
  private nudgeWaiting(storageFails: boolean): void {
    if (storageFails) return;
    this.workAppeared = false;
    if (this.waitingForWork.size === 0) return;
    for (const id of this.waitingForWork) {
      const p = this.peers.get(id);
      if (!p || p.role !== 'volunteer' || p.paused || p.leases.size >= this.config.maxLeasesPerVolunteer) continue;
      if (this.reputation.isQuarantined(id)) continue;
      this.send(id, { v: PROTOCOL_VERSION, t: 'work-available' });
    }
    this.waitingForWork.clear();
  }
}
