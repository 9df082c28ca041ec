/** What the volunteer page shows beyond the core's stats: controls, the device and tab, long tasks. */
import type { VolunteerStats } from '../core/volunteer/volunteer.ts';
import type { Capabilities } from '../protocol/capabilities.ts';
import type { RoleConnectionView } from './connection.ts';
import type { LogLine } from './log.ts';
import { DEFAULT_VOLUNTEER_SETTINGS, type PauseDecision, type VolunteerSettings } from '../core/volunteer/controls.ts';

/** The tab and the device as the volunteer host sees them. */
export interface VolunteerEnv {
  /** `document.visibilityState === 'hidden'`. */
  readonly hidden: boolean;
  /** null until known; `supported: false` where the browser has no Battery Status API. */
  readonly battery: { readonly supported: boolean; readonly charging: boolean | null; readonly level: number | null } | null;
  /** Quorum volunteer tabs in this browser (this one included once it volunteers), and the others. */
  readonly tabs: number;
  readonly otherTabs: number;
  /** COOP/COEP in force: SharedArrayBuffer, hence WASM threads, are available. */
  readonly crossOriginIsolated: boolean;
  readonly hardwareConcurrency: number;
}

/** Main-thread long tasks (PerformanceObserver 'longtask', ≥ 50 ms) since the page opened. */
export interface LongTaskStats {
  /** false where the browser does not report long tasks. */
  readonly supported: boolean;
  readonly count: number;
  readonly longestMs: number;
  /** Those that overlapped a time the inference worker was busy (loading a model or running a shard). */
  readonly busyCount: number;
  readonly busyLongestMs: number;
  /** Total time the worker was busy, as the page saw it. */
  readonly busyMs: number;
}

export interface VolunteerControlsView {
  readonly settings: VolunteerSettings;
  /** Whether settings were read from storage yet (the form waits for them). */
  readonly settingsLoaded: boolean;
  readonly userPaused: boolean;
  /** The current pause decision (see core/volunteer/controls.ts). */
  readonly pause: PauseDecision;
  readonly env: VolunteerEnv;
  /** The thread count "automatic" would pick now, and whether the engine is restarting to apply a change. */
  readonly autoThreads: number;
  readonly engineRestarting: boolean;
  readonly longTasks: LongTaskStats;
}

export const initialVolunteerControls: VolunteerControlsView = {
  settings: DEFAULT_VOLUNTEER_SETTINGS,
  settingsLoaded: false,
  userPaused: false,
  pause: { paused: false, reasons: [], text: '' },
  env: { hidden: false, battery: null, tabs: 0, otherTabs: 0, crossOriginIsolated: false, hardwareConcurrency: 1 },
  autoThreads: 1,
  engineRestarting: false,
  longTasks: { supported: false, count: 0, longestMs: 0, busyCount: 0, busyLongestMs: 0, busyMs: 0 },
};

export interface VolunteerView extends RoleConnectionView {
  readonly caps: Capabilities | null;
  readonly stats: VolunteerStats | null;
  /** [W-17] The peer id this tab volunteers under, kept for the tab's life (and its reloads). */
  readonly peerId: string | null;
  readonly log: readonly LogLine[];
  /** Pause, CPU cap, threads, the tab and device state, long tasks (see below). */
  readonly controls: VolunteerControlsView;
}
