/**
 * The volunteer's own controls, as pure decisions the host applies: whether to be paused now
 * (the user's pause, a hidden tab, a battery), how long to rest after a shard under a CPU cap,
 * and how many WASM threads to use. Settings read back from storage are `unknown` until
 * `normaliseVolunteerSettings` has checked them. Rule ids ([W-n]) refer to core/SPEC.md.
 */

/** How much of the time the tab may compute: a duty cycle ([W-12]). */
export const CPU_CAPS = [25, 50, 100] as const;
export type CpuCapPercent = (typeof CPU_CAPS)[number];

/** More WASM threads than this never helps a volunteer tab. */
export const MAX_THREADS = 16;

export interface VolunteerSettings {
  /** Share of wall time spent computing shards; the rest is rest between shards. */
  readonly cpuCapPercent: CpuCapPercent;
  /** Pause while the tab is hidden (Page Visibility API). */
  readonly pauseWhenHidden: boolean;
  /** Pause while the device runs on battery (Battery Status API, where the browser has it). */
  readonly pauseOnBattery: boolean;
  /** WASM threads; null = automatic (`defaultThreads`). */
  readonly threads: number | null;
}

export const DEFAULT_VOLUNTEER_SETTINGS: VolunteerSettings = {
  cpuCapPercent: 100,
  pauseWhenHidden: true,
  pauseOnBattery: true,
  threads: null,
};

/** Settings from storage (or a form): anything unknown or out of range falls back to the default. */
export function normaliseVolunteerSettings(raw: unknown): VolunteerSettings {
  const r = (typeof raw === 'object' && raw !== null ? raw : {}) as Partial<Record<keyof VolunteerSettings, unknown>>;
  const d = DEFAULT_VOLUNTEER_SETTINGS;
  const cap = CPU_CAPS.find((c) => c === r.cpuCapPercent) ?? d.cpuCapPercent;
  const threads = typeof r.threads === 'number' && Number.isInteger(r.threads) && r.threads >= 1 && r.threads <= MAX_THREADS ? r.threads : null;
  return {
    cpuCapPercent: cap,
    pauseWhenHidden: typeof r.pauseWhenHidden === 'boolean' ? r.pauseWhenHidden : d.pauseWhenHidden,
    pauseOnBattery: typeof r.pauseOnBattery === 'boolean' ? r.pauseOnBattery : d.pauseOnBattery,
    threads,
  };
}

/** What the host knows about the tab and the device right now. */
export interface PauseInputs {
  /** The user pressed pause. */
  readonly userPaused: boolean;
  /** `document.visibilityState === 'hidden'`. */
  readonly hidden: boolean;
  /** null when the browser has no Battery Status API (or it failed): never a reason to pause. */
  readonly battery: { readonly charging: boolean } | null;
}

export type PauseReason = 'user' | 'hidden' | 'battery';

export interface PauseDecision {
  readonly paused: boolean;
  /** Every reason that holds, in this order: user, hidden, battery. */
  readonly reasons: readonly PauseReason[];
  /** For the page and the coordinator; empty when running. */
  readonly text: string;
}

const REASON_TEXT: Record<PauseReason, string> = {
  user: 'you paused it',
  hidden: 'the tab is hidden',
  battery: 'the device is on battery',
};

/** [W-11] Paused iff the user paused, or the tab is hidden and that setting is on, or on battery and that one is. */
export function decidePause(settings: VolunteerSettings, inputs: PauseInputs): PauseDecision {
  const reasons: PauseReason[] = [];
  if (inputs.userPaused) reasons.push('user');
  if (inputs.hidden && settings.pauseWhenHidden) reasons.push('hidden');
  if (inputs.battery !== null && !inputs.battery.charging && settings.pauseOnBattery) reasons.push('battery');
  return { paused: reasons.length > 0, reasons, text: reasons.map((r) => REASON_TEXT[r]).join('; ') };
}

/**
 * [W-12] Under a cap of c %, a shard that computed for t ms is followed by t·(100/c − 1) ms of rest,
 * so computing takes c % of the time. No rest at 100 % (or for a bad cap or time).
 */
export function restAfterShardMs(inferMs: number, capPercent: number): number {
  if (!Number.isFinite(inferMs) || inferMs <= 0) return 0;
  if (!Number.isFinite(capPercent) || capPercent >= 100 || capPercent <= 0) return 0;
  return inferMs * (100 / capPercent - 1);
}

/**
 * Automatic thread count: 1 when other volunteer tabs share this machine (they already keep its
 * cores busy, and threads then only add contention), else half the logical cores, at most 4.
 */
export function defaultThreads(hardwareConcurrency: number, otherVolunteerTabs: number): number {
  if (otherVolunteerTabs > 0) return 1;
  const cores = Number.isFinite(hardwareConcurrency) && hardwareConcurrency > 0 ? Math.floor(hardwareConcurrency) : 1;
  return Math.max(1, Math.min(4, Math.floor(cores / 2)));
}

/** The thread count to start the engine with: the user's choice, or the automatic one. */
export function threadsToUse(settings: VolunteerSettings, hardwareConcurrency: number, otherVolunteerTabs: number): number {
  return settings.threads ?? defaultThreads(hardwareConcurrency, otherVolunteerTabs);
}
