/**
 * [W-14] Counting the Quorum volunteer tabs open in one browser. Each volunteering tab announces
 * itself on a same-origin channel (the host uses a BroadcastChannel) with `here` every
 * `TAB_HEARTBEAT_MS`, says `hello` when it starts (others answer `here` at once, so a new tab
 * learns of them without waiting) and `bye` when it stops or closes. A tab not heard from for
 * `TAB_TTL_MS` is gone (a crashed tab sends no bye). Pure: the host passes messages and time in.
 */

export const TAB_CHANNEL = 'quorum-volunteer-tabs';
export const TAB_HEARTBEAT_MS = 1_000;
export const TAB_TTL_MS = 3_500;

export type TabMessage =
  /** A tab started listening: everyone volunteering answers `here`. `volunteering` says whether it is. */
  | { readonly t: 'hello'; readonly id: string; readonly volunteering: boolean }
  | { readonly t: 'here'; readonly id: string }
  | { readonly t: 'bye'; readonly id: string };

/** Messages come from other tabs of the origin: check them like any input. */
export function parseTabMessage(raw: unknown): TabMessage | null {
  if (typeof raw !== 'object' || raw === null) return null;
  const { t, id, volunteering } = raw as { t?: unknown; id?: unknown; volunteering?: unknown };
  if (typeof id !== 'string' || id.length === 0 || id.length > 64) return null;
  if (t === 'hello') return { t, id, volunteering: volunteering === true };
  if (t === 'here' || t === 'bye') return { t, id };
  return null;
}

export class TabRoster {
  /** Other volunteering tabs and when each was last heard from. */
  private readonly seen = new Map<string, number>();
  private volunteering = false;

  constructor(
    readonly selfId: string,
    private readonly ttlMs: number = TAB_TTL_MS,
  ) {}

  /** Whether this tab counts itself (it does once it volunteers). */
  setVolunteering(on: boolean): void {
    this.volunteering = on;
  }

  /**
   * Takes one message from another tab; returns what to answer (a `here` to a `hello` while this
   * tab volunteers) and whether the count may have changed.
   */
  receive(msg: TabMessage, now: number): { readonly reply: TabMessage | null; readonly changed: boolean } {
    if (msg.id === this.selfId) return { reply: null, changed: false };
    const before = this.seen.size;
    let reply: TabMessage | null = null;
    if (msg.t === 'bye') {
      this.seen.delete(msg.id);
    } else if (msg.t === 'here' || msg.volunteering) {
      this.seen.set(msg.id, now);
    }
    if (msg.t === 'hello' && this.volunteering) reply = { t: 'here', id: this.selfId };
    return { reply, changed: this.seen.size !== before };
  }

  /** Forgets tabs silent for longer than the TTL; true if any went. */
  prune(now: number): boolean {
    let changed = false;
    for (const [id, at] of this.seen) {
      if (now - at > this.ttlMs) {
        this.seen.delete(id);
        changed = true;
      }
    }
    return changed;
  }

  /** Other volunteering tabs of this browser. */
  others(): number {
    return this.seen.size;
  }

  /** Volunteer tabs in this browser, this one included when it volunteers. */
  count(): number {
    return this.seen.size + (this.volunteering ? 1 : 0);
  }
}
