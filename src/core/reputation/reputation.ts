/**
 * Reputation: what the coordinator has learned about each volunteer from how its results fared.
 * BOINC-like: a streak of consecutive valid results (per backend) earns trust; any invalid result
 * resets it. Trust lets a volunteer compute shards alone when the job allows it; spot-checks and
 * canaries keep checking it. A volunteer caught lying is quarantined for good, unless the answers
 * that caught it were established by a majority of a small network that has grown since and are
 * contradicted there ([X-5]).
 *
 * Records outlive connections (a quarantined volunteer that reconnects with the same id is still
 * quarantined). Pure: randomness comes in as an `Rng`. Rule ids ([A-n], [X-n]) refer to core/SPEC.md.
 */
import { BACKENDS, type Backend } from '../../protocol/capabilities.ts';
import type { PeerId } from '../../protocol/ids.ts';
import type { Rng } from '../rng.ts';

export interface TrustConfig {
  /** Consecutive valid results on one backend that make a volunteer trusted on it (BOINC uses 10). */
  readonly trustStreak: number;
  /**
   * [C-1] Distinct partners each volunteer of an accepting class must have agreed with since the
   * acceptance, with no invalid result, before the answer counts as established (usable as a
   * canary). Distinct partners, not just results: a coalition of `establishAfter` or fewer can
   * never establish its lies among itself, however long it has the network to itself. A network
   * of fewer than 2·establishAfter volunteers asks for fewer ([C-4], `establishNeed`).
   */
  readonly establishAfter: number;
  /** Chance that a suspect's next lease is a canary (when one is available). */
  readonly suspectCanaryRate: number;
  /** Spot-check probability = max(policy rate, alertGain × recent fault rate). */
  readonly alertGain: number;
  /** Half-life, in judged results, of the network's recent fault rate. */
  readonly faultHalfLife: number;
  /** [X-2] `retryInMs` in the no-work answers a quarantined volunteer gets. */
  readonly quarantineRetryMs: number;
  /**
   * Failed canaries (each from a different source) that quarantine. 2, not 1: an answer can
   * be established and still wrong (a coalition that kept agreeing), and each failure burns its
   * source, so an honest volunteer would have to meet two such rare sources.
   */
  readonly strikesToQuarantine: number;
}

export const DEFAULT_TRUST: TrustConfig = {
  trustStreak: 10,
  establishAfter: 5,
  suspectCanaryRate: 0.5,
  alertGain: 20,
  faultHalfLife: 200,
  quarantineRetryMs: 60_000,
  strikesToQuarantine: 2,
};

export interface VolunteerReputation {
  readonly id: PeerId;
  /** Consecutive valid results, per backend. */
  readonly streak: Record<Backend, number>;
  /** Valid results ever (results in an agreeing class of ≥ 2, passed canaries). */
  validated: number;
  /** Invalid results ever (outvoted, broken); each one reset the streaks. */
  invalid: number;
  /** Results accepted on this volunteer's word alone ([A-3]). */
  lone: number;
  /**
   * Lone results accepted since its last passed canary: its word, not yet backed by a known
   * answer. Cleared by passing a canary; while above 0 at the end of the work, it gets one.
   */
  debt: number;
  canariesPassed: number;
  /**
   * Bumped by every event that leaves it owing a canary (a suspicion, an invalid result, a
   * lone acceptance): a result received before the latest one is no evidence about it.
   */
  owed: number;
  /** Canaries failed (or established answers contradicted). */
  strikes: number;
  /**
   * [C-1] Its most recent distinct partners in valid results (oldest first, at most
   * `establishAfter`), and the `validated` count at which each last agreed with it.
   */
  readonly partners: PeerId[];
  readonly partnerAt: number[];
  /** Under suspicion: cross-checked and canaried more until it passes a canary. */
  suspect: boolean;
  /** Caught lying: no more work, ever (unless withdraws its strikes). */
  quarantined: boolean;
  quarantineReason: string;
  /** Stratified spot-checks: one check at a random position in each window. */
  window: number;
  windowLeft: number;
  checkAt: number;
}

export interface ReputationCounts {
  readonly volunteers: number;
  readonly suspects: number;
  readonly quarantined: number;
}

/** One streak per backend, every backend included (a headless node-cpu one too). */
function zeroStreaks(): Record<Backend, number> {
  return Object.fromEntries(BACKENDS.map((b) => [b, 0])) as Record<Backend, number>;
}

export class ReputationBook {
  private readonly records = new Map<PeerId, VolunteerReputation>();
  /** [S-1] Ids whose record may have changed since `takeDirty`: every change goes through `ensure`. */
  private readonly dirty = new Set<PeerId>();
  private fault = 0;
  private readonly faultAlpha: number;

  constructor(readonly config: TrustConfig = DEFAULT_TRUST) {
    this.faultAlpha = 1 - 2 ** (-1 / Math.max(1, config.faultHalfLife));
  }

  get(id: PeerId): VolunteerReputation | undefined {
    return this.records.get(id);
  }

  ensure(id: PeerId): VolunteerReputation {
    this.dirty.add(id);
    let r = this.records.get(id);
    if (!r) {
      r = {
        id,
        streak: zeroStreaks(),
        validated: 0,
        invalid: 0,
        lone: 0,
        debt: 0,
        canariesPassed: 0,
        owed: 0,
        strikes: 0,
        partners: [],
        partnerAt: [],
        suspect: false,
        quarantined: false,
        quarantineReason: '',
        window: 0,
        windowLeft: 0,
        checkAt: 0,
      };
      this.records.set(id, r);
    }
    return r;
  }

  /** Trusted on `backend`: a long enough streak there, not suspect, not quarantined. */
  isTrusted(id: PeerId, backend: Backend): boolean {
    const r = this.records.get(id);
    return r !== undefined && !r.quarantined && !r.suspect && r.streak[backend] >= this.config.trustStreak;
  }

  isQuarantined(id: PeerId): boolean {
    return this.records.get(id)?.quarantined === true;
  }

  isSuspect(id: PeerId): boolean {
    return this.records.get(id)?.suspect === true;
  }

  /** Progress towards trust on `backend` in [0, 1] (for the network map); null for unknown peers. */
  trustLevel(id: PeerId, backend: Backend | null): number | null {
    const r = this.records.get(id);
    if (!r || backend === null) return null;
    if (r.quarantined) return 0;
    return Math.min(1, r.streak[backend] / Math.max(1, this.config.trustStreak));
  }

  /**
   * A valid result extends the streak on the backend that produced it. `partners`: the
   * other volunteers it agreed with (for a canary, those whose answer it matched) ([C-1]).
   */
  valid(id: PeerId, backend: Backend, partners: readonly PeerId[] = []): void {
    const r = this.ensure(id);
    r.streak[backend]++;
    r.validated++;
    for (const p of partners) {
      if (p === id) continue;
      const at = r.partners.indexOf(p);
      if (at >= 0) {
        r.partners.splice(at, 1);
        r.partnerAt.splice(at, 1);
      }
      r.partners.push(p);
      r.partnerAt.push(r.validated);
      if (r.partners.length > this.config.establishAfter) {
        r.partners.shift();
        r.partnerAt.shift();
      }
    }
    this.judge(false);
  }

  /**
   * [C-1] Has it agreed with `establishAfter` distinct partners in valid results counted after
   * its `validated` count was `since`? (Small networks pool partners instead, [C-4].)
   */
  partneredSince(id: PeerId, since: number): boolean {
    const r = this.records.get(id);
    if (!r) return false;
    const need = this.config.establishAfter;
    if (need <= 0) return true;
    return r.partners.length >= need && (r.partnerAt[r.partners.length - need] as number) > since;
  }

  /** An invalid result resets every streak and makes the volunteer a suspect ([A-5]). */
  invalid(id: PeerId): void {
    const r = this.ensure(id);
    for (const b of BACKENDS) r.streak[b] = 0;
    r.invalid++;
    r.owed++;
    r.suspect = true;
    this.judge(true);
  }

  /** Suspicion without a verdict (e.g. it agreed with a volunteer later caught lying). */
  suspect(id: PeerId): void {
    const r = this.ensure(id);
    if (r.quarantined) return;
    r.suspect = true;
    r.owed++;
  }

  /** [C-3] A passed canary is a valid result (agreeing with `partners`, the answer's volunteers) and clears suspicion. */
  canaryPassed(id: PeerId, backend: Backend, partners: readonly PeerId[] = []): void {
    this.valid(id, backend, partners);
    const r = this.ensure(id);
    r.canariesPassed++;
    r.suspect = false;
    r.debt = 0;
  }

  /** A result accepted on this volunteer's word alone: no evidence either way ([A-6]). */
  lone(id: PeerId): void {
    const r = this.ensure(id);
    r.lone++;
    r.debt++;
    r.owed++;
  }

  /**
   * A result it returned while owing a canary, with no owed event since (`owed` then was
   * `owedAt`), agreed in an acceptance whose answer is now established: as good as a passed
   * canary (it answered blind, and the answer is known now), so suspicion and debt are cleared.
   * Not a second valid result: the acceptance already counted as one. False when stale.
   */
  vouched(id: PeerId, owedAt: number): boolean {
    const r = this.records.get(id);
    if (!r || r.quarantined || r.owed !== owedAt || !(r.suspect || r.debt > 0)) return false;
    this.dirty.add(id);
    r.suspect = false;
    r.debt = 0;
    return true;
  }

  /** Its current `owed` count (0 for an unknown id). */
  owedCount(id: PeerId): number {
    return this.records.get(id)?.owed ?? 0;
  }

  /** Owes a canary: under suspicion, or with lone results not yet backed by one. */
  owesCanary(id: PeerId): boolean {
    const r = this.records.get(id);
    return r !== undefined && !r.quarantined && (r.suspect || r.debt > 0);
  }

  /**
   * A failed canary: an invalid result and a strike. True when the strikes reach
   * `strikesToQuarantine` (the caller quarantines). `counted`: the result was already counted
   * invalid (an outvoted replica whose accepted answer became established, [X-4]).
   */
  strike(id: PeerId, counted = false): boolean {
    if (!counted) this.invalid(id);
    const r = this.ensure(id);
    r.strikes++;
    return r.strikes >= this.config.strikesToQuarantine;
  }

  /**
   * A strike withdrawn: the answer behind it was contradicted once the small network it was
   * established in had grown. True when the strikes left still reach `strikesToQuarantine`.
   */
  unstrike(id: PeerId): boolean {
    const r = this.ensure(id);
    r.strikes = Math.max(0, r.strikes - 1);
    return r.strikes >= this.config.strikesToQuarantine;
  }

  /**
   * Lifts a quarantine whose strikes were withdrawn below `strikesToQuarantine`: the
   * volunteer works again, as a suspect that owes a canary (its streaks stay at 0). False if it
   * was not quarantined.
   */
  release(id: PeerId): boolean {
    const r = this.ensure(id);
    if (!r.quarantined) return false;
    r.quarantined = false;
    r.quarantineReason = '';
    r.suspect = true;
    r.owed++;
    return true;
  }

  /** Quarantines (for good, unless withdraws its strikes); false if it already was. */
  quarantine(id: PeerId, reason: string): boolean {
    const r = this.ensure(id);
    if (r.quarantined) return false;
    r.quarantined = true;
    r.quarantineReason = reason;
    r.suspect = false;
    for (const b of BACKENDS) r.streak[b] = 0;
    this.judge(true);
    return true;
  }

  /**
   * Whether this lone-eligible shard of a trusted volunteer is spot-checked. The policy's
   * rate is stratified: one check at a uniformly random position in every window of
   * round(1 / rate) lone-eligible shards, so no volunteer goes 2 windows without a check. While
   * the network's recent fault rate is high, the rate rises to alertGain × fault rate (plain
   * Bernoulli draws), up to checking everything.
   */
  spotCheck(id: PeerId, rate: number, rng: Rng): boolean {
    const alert = Math.min(1, this.config.alertGain * this.fault);
    if (alert >= 1) return true;
    if (alert > rate) return rng.next() < alert;
    if (rate <= 0) return false;
    const r = this.ensure(id);
    if (r.windowLeft <= 0) {
      r.window = Math.max(1, Math.round(1 / rate));
      r.windowLeft = r.window;
      r.checkAt = Math.floor(rng.next() * r.window);
    }
    const position = r.window - r.windowLeft;
    r.windowLeft--;
    return position === r.checkAt;
  }

  /** [C-1] Chance that this volunteer's next lease is a canary. */
  canaryRate(id: PeerId, rate: number): number {
    return this.records.get(id)?.suspect === true ? Math.max(rate, this.config.suspectCanaryRate) : rate;
  }

  /** Exponentially weighted share of recent judgements that found a fault. */
  get faultRate(): number {
    return this.fault;
  }

  /** [C-4] Volunteers with a record that are not quarantined, counted up to `cap` (then it stops looking). */
  activeCount(cap: number): number {
    let n = 0;
    for (const r of this.records.values()) if (!r.quarantined && ++n >= cap) break;
    return n;
  }

  counts(): ReputationCounts {
    let suspects = 0;
    let quarantined = 0;
    for (const r of this.records.values()) {
      if (r.quarantined) quarantined++;
      else if (r.suspect) suspects++;
    }
    return { volunteers: this.records.size, suspects, quarantined };
  }

  /** [S-1] Ids whose records may have changed since the last call (for batched persistence). */
  takeDirty(): PeerId[] {
    const out = [...this.dirty];
    this.dirty.clear();
    return out;
  }

  /** [S-1] A plain, storable copy of an id's record; undefined for an unknown id. */
  snapshot(id: PeerId): unknown {
    const r = this.records.get(id);
    if (r === undefined) return undefined;
    // [S-1] A detached copy of the known shape (nested: per-backend counters and two arrays). This
    // runs for every changed volunteer in every persist batch, where a JSON round trip was one of
    // the costliest steps of the hot path. A test checks that no nested value is shared.
    return { ...r, streak: { ...r.streak }, partners: r.partners.slice(), partnerAt: r.partnerAt.slice() };
  }

  /**
   * [S-1] Puts a stored snapshot back. Read as untrusted data: only fields the record has, with
   * the same type, are taken, so a snapshot from an older build restores what it can.
   */
  restore(id: PeerId, snapshot: unknown): void {
    if (snapshot === null || typeof snapshot !== 'object' || Array.isArray(snapshot)) return;
    const r = this.ensure(id) as unknown as Record<string, unknown>;
    for (const [key, value] of Object.entries(snapshot as Record<string, unknown>)) {
      if (key === 'id' || !(key in r)) continue;
      const current = r[key];
      if (Array.isArray(current)) {
        const kind = typeof current[0];
        if (Array.isArray(value) && value.every((x) => (typeof x === 'string' || typeof x === 'number') && (current.length === 0 || typeof x === kind))) {
          current.splice(0, current.length, ...(value as unknown[]));
        }
      } else if (current !== null && typeof current === 'object') {
        if (value === null || typeof value !== 'object') continue;
        const into = current as Record<string, unknown>;
        for (const [k, v] of Object.entries(value as Record<string, unknown>)) if (k in into && typeof v === typeof into[k]) into[k] = v;
      } else if (typeof value === typeof current) {
        r[key] = value;
      }
    }
  }

  private judge(fault: boolean): void {
    this.fault += ((fault ? 1 : 0) - this.fault) * this.faultAlpha;
  }
}
