/**
 * Counts this browser's Quorum volunteer tabs over a same-origin BroadcastChannel (the only thing
 * this file touches); the counting itself is core/volunteer/tabRoster.ts. [W-14]
 */
import { TAB_CHANNEL, TAB_HEARTBEAT_MS, TabRoster, parseTabMessage, type TabMessage } from '../core/volunteer/tabRoster.ts';

export class TabPresence {
  private readonly roster: TabRoster;
  private channel: BroadcastChannel | null = null;
  private timer: ReturnType<typeof setInterval> | null = null;
  private readonly startedAt = Date.now();
  private readonly onPageHide = (): void => this.post({ t: 'bye', id: this.roster.selfId });

  constructor(private readonly onChange: (tabs: number, others: number) => void) {
    this.roster = new TabRoster(`t${Math.random().toString(36).slice(2, 12)}`);
  }

  start(): void {
    if (this.channel || typeof BroadcastChannel === 'undefined') return;
    const channel = new BroadcastChannel(TAB_CHANNEL);
    this.channel = channel;
    channel.onmessage = (event: MessageEvent<unknown>) => {
      const msg = parseTabMessage(event.data);
      if (!msg) return;
      const { reply, changed } = this.roster.receive(msg, Date.now());
      if (reply) this.post(reply);
      if (changed) this.report();
    };
    this.post({ t: 'hello', id: this.roster.selfId, volunteering: false });
    this.timer = setInterval(() => {
      if (this.volunteering) this.post({ t: 'here', id: this.roster.selfId });
      if (this.roster.prune(Date.now())) this.report();
    }, TAB_HEARTBEAT_MS);
    // Outside a page (Node runs the volunteer shell in tests) there is no pagehide to watch.
    if (typeof window !== 'undefined') window.addEventListener('pagehide', this.onPageHide);
    this.report();
  }

  private volunteering = false;

  /** This tab starts (or stops) counting as a volunteer tab, and tells the others. */
  setVolunteering(on: boolean): void {
    this.volunteering = on;
    this.roster.setVolunteering(on);
    this.post(on ? { t: 'here', id: this.roster.selfId } : { t: 'bye', id: this.roster.selfId });
    this.report();
  }

  /** Other volunteer tabs; waits first until tabs that were already open had time to answer the hello. */
  async othersSettled(waitMs = 300): Promise<number> {
    const left = this.startedAt + waitMs - Date.now();
    if (this.channel && left > 0) await new Promise((r) => setTimeout(r, left));
    return this.roster.others();
  }

  /** Other volunteer tabs heard from lately. */
  others(): number {
    return this.roster.others();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    if (this.volunteering) this.onPageHide();
    if (typeof window !== 'undefined') window.removeEventListener('pagehide', this.onPageHide);
    this.channel?.close();
    this.channel = null;
  }

  private post(msg: TabMessage): void {
    try {
      this.channel?.postMessage(msg);
    } catch {
      // a closed channel: nothing to tell
    }
  }

  private report(): void {
    this.onChange(this.roster.count(), this.roster.others());
  }
}
