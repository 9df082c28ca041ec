/**
 * The volunteer tab's shell: probes the inference backend and hands the core to the driver
 * (volunteerDriver.ts, shared with headless volunteers), which links to the coordinator and
 * carries out what `VolunteerCore` asks for, with shards run in the inference Worker. The host
 * shows it all in the page's store, and feeds the core the volunteer's controls: the user's
 * pause, a hidden tab, a battery (decided by core/volunteer/controls.ts), the CPU cap, and a
 * thread count that restarts the engine when changed; and it reports the tab's surroundings
 * (other volunteer tabs, cross-origin isolation, main-thread long tasks) to the page. The
 * driver keeps the tab's peer id and resume token ([W-17]) and the outbox of unacknowledged
 * results in IndexedDB ([W-15]), so results finished while the coordinator was gone, or before
 * a reload, are still delivered.
 */
import {
  DEFAULT_VOLUNTEER_SETTINGS,
  decidePause,
  defaultThreads,
  normaliseVolunteerSettings,
  threadsToUse,
  type VolunteerSettings,
} from '../core/volunteer/controls.ts';
import type { Backend, Capabilities } from '../protocol/capabilities.ts';
import type { ModelCache } from '../persistence/modelCache.ts';
import type { InferenceEngine } from '../runtime/engine.ts';
import { appendLog } from '../model/log.ts';
import type { KeyTrustView } from '../model/keyTrustView.ts';
import { initialState } from '../model/state.ts';
import { memoryViewPort, type ViewPort } from '../model/viewPort.ts';
import type { VolunteerControlsView, VolunteerEnv, VolunteerView } from '../model/volunteerView.ts';
import type { EndpointFactory } from '../transport/transport.ts';
import { watchBattery, type BatteryReading } from './battery.ts';
import type { CoordinatorTrust } from './coordinatorTrust.ts';
import { keyTrustHandlers } from './keyAlarms.ts';
import { LongTaskMonitor } from './longTasks.ts';
import { TabPresence } from './tabPresence.ts';
import { NO_ENGINE, VolunteerDriver, type OutboxStorage, type VolunteerDriverOptions } from './volunteerDriver.ts';
import type { IdentityStorage } from './volunteerIdentity.ts';
import { watchVisibility } from './visibility.ts';
import { errorMessage } from '../protocol/errorMessage.ts';

/** Where the volunteer's controls are kept (persistence/settingsStore.ts in the app). */
export interface VolunteerSettingsStorage {
  volunteerSettings(): Promise<VolunteerSettings>;
  putVolunteerSettings(settings: unknown): Promise<VolunteerSettings>;
}

export interface VolunteerHostOptions {
  readonly networkId: string;
  readonly factory: EndpointFactory;
  /** Makes a fresh inference engine: at start, and again to apply a new thread count. */
  readonly createEngine: () => InferenceEngine;
  readonly cache: ModelCache;
  readonly settings: VolunteerSettingsStorage;
  readonly outbox: OutboxStorage;
  /** [W-17] This tab's peer id and resume token (sessionStorage in the app). */
  readonly identity: IdentityStorage;
  /** [I-2] [I-3] This profile's volunteer key pair for the network: proves the peer id, signs results. */
  readonly volunteerKey: VolunteerDriverOptions['volunteerKey'];
  /** 'auto' = WebGPU when it really works, else WASM; a test may force one. */
  readonly backend: 'auto' | Backend;
  readonly label: string;
  /** [K-2] How the coordinator proves its key on each connection. */
  readonly trust: CoordinatorTrust;
  /** [W-18] Leases queued behind the running one; absent = the core's default (1). */
  readonly prefetch?: number;
  readonly now?: () => number;
  /** What the page shows; absent (Node, tests): kept in memory, readable as `view`. */
  readonly view?: ViewPort<VolunteerView>;
  /** [K-4] Where the page shows the coordinator's key and its alarms; absent: kept in memory. */
  readonly keyTrust?: ViewPort<KeyTrustView>;
}

const RESTARTING = NO_ENGINE;

export class VolunteerHost {
  private readonly driver: VolunteerDriver;
  private engine: InferenceEngine | null = null;
  /** Bumped per engine: events from an engine we replaced are ignored. */
  private engineGeneration = 0;
  private readonly now: () => number;
  private settings: VolunteerSettings = DEFAULT_VOLUNTEER_SETTINGS;
  private userPaused = false;
  private hidden = false;
  private battery: BatteryReading | null = null;
  private restarting = false;
  private prepared: Promise<void> | null = null;
  private started = false;
  private stopped = false;
  private readonly presence: TabPresence;
  private readonly longTasks: LongTaskMonitor;
  private readonly unwatch: (() => void)[] = [];

  /** What the volunteer page shows (state, capabilities, stats, controls, log). */
  readonly view: ViewPort<VolunteerView>;

  constructor(private readonly options: VolunteerHostOptions) {
    this.view = options.view ?? memoryViewPort(initialState.volunteer);
    this.now = options.now ?? (() => Date.now());
    this.presence = new TabPresence((tabs, otherTabs) => {
      this.patchEnv({ tabs, otherTabs });
      this.patchControls({ autoThreads: defaultThreads(this.hardwareConcurrency(), otherTabs) });
    });
    this.longTasks = new LongTaskMonitor((longTasks) => this.patchControls({ longTasks }));
    this.driver = new VolunteerDriver({
      networkId: options.networkId,
      factory: options.factory,
      cache: options.cache,
      outbox: options.outbox,
      identity: options.identity,
      volunteerKey: options.volunteerKey,
      label: options.label,
      ...(options.prefetch !== undefined ? { prefetch: options.prefetch } : {}),
      now: this.now,
      trust: options.trust,
      keyHandlers: keyTrustHandlers('volunteer', options.trust, options.keyTrust ?? memoryViewPort(initialState.keyTrust)),
      events: {
        log: (level, text) => this.log(level, text),
        link: (state, detail) => {
          this.view.patch({ state });
          if (state === 'connecting') this.log('info', detail);
        },
        peerId: (peerId) => this.view.patch({ peerId }),
        status: (stats) => this.view.patch({ stats }),
        busy: (busy) => this.longTasks.setBusy(busy),
      },
    });
  }

  /**
   * Before starting (when the page opens): reads the saved controls and starts watching the tab
   * (visibility, other volunteer tabs, long tasks) and the battery, so the page can show them.
   */
  prepare(): Promise<void> {
    this.prepared ??= (async () => {
      this.patchEnv({
        crossOriginIsolated: globalThis.crossOriginIsolated === true,
        hardwareConcurrency: this.hardwareConcurrency(),
      });
      this.presence.start();
      this.longTasks.start();
      this.unwatch.push(
        watchVisibility((hidden) => {
          this.hidden = hidden;
          this.patchEnv({ hidden });
          this.applyPause();
        }),
      );
      void watchBattery((reading) => {
        this.battery = reading;
        this.patchEnv({ battery: reading });
        this.applyPause();
      }).then((stop) => (this.stopped ? stop() : this.unwatch.push(stop)));
      try {
        this.settings = await this.options.settings.volunteerSettings();
      } catch (e) {
        this.log('warn', `could not read the saved volunteer settings; using defaults: ${errorMessage(e)}`);
      }
      this.patchControls({ settings: this.settings, settingsLoaded: true });
      this.applyPause();
    })();
    return this.prepared;
  }

  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    this.view.patch({ state: 'starting', networkId: this.options.networkId, error: null });
    await this.prepare();
    // Tabs that already volunteer answer the presence hello at once: wait a moment for them.
    const others = await this.presence.othersSettled();
    let caps: Capabilities;
    try {
      caps = await this.startEngine(threadsToUse(this.settings, this.hardwareConcurrency(), others));
    } catch (e) {
      const message = `The inference runtime could not start: ${errorMessage(e)}`;
      this.view.patch({ state: 'error', error: message });
      this.log('error', message);
      return;
    }
    this.presence.setVolunteering(true);
    this.driver.begin(caps);
    const cpuCap = this.settings.cpuCapPercent;
    this.driver.act((core, now) => core.setCpuCap(cpuCap, now));
    this.applyPause(); // paused already (hidden tab, battery)? The hello will say so.
    this.driver.connect();
  }

  /** The pause button. */
  setUserPaused(paused: boolean): void {
    this.userPaused = paused;
    this.applyPause();
  }

  /**
   * Saves the controls and applies them: the CPU cap from the next shard, pause rules at once, and
   * a new thread count by restarting the engine (the WASM runtime reads it only when it starts).
   */
  async updateSettings(change: Partial<VolunteerSettings>): Promise<void> {
    const before = this.settings;
    const next = normaliseVolunteerSettings({ ...before, ...change });
    this.settings = next;
    this.patchControls({ settings: next });
    this.driver.act((core, now) => core.setCpuCap(next.cpuCapPercent, now));
    this.applyPause();
    try {
      await this.options.settings.putVolunteerSettings(next);
    } catch (e) {
      this.log('warn', `could not save the volunteer settings (they apply until this tab closes): ${errorMessage(e)}`);
    }
    const core = this.driver.core;
    if (next.threads !== before.threads && core && this.engine) {
      const want = threadsToUse(next, this.hardwareConcurrency(), this.presence.others());
      const have = core.capabilities().threads;
      if (want === have) return;
      if (globalThis.crossOriginIsolated !== true && want > 1) {
        this.log('warn', 'this page is not cross-origin isolated: WASM can only use 1 thread here');
        return;
      }
      await this.restartEngine(want);
    }
  }

  stop(): void {
    this.stopped = true;
    this.driver.stop();
    this.presence.stop();
    this.longTasks.stop();
    for (const stop of this.unwatch.splice(0)) stop();
    void this.engine?.dispose();
    this.engine = null;
  }

  // -------------------------------------------------------------------------------------------

  private async startEngine(threads: number): Promise<Capabilities> {
    const engine = this.options.createEngine();
    const generation = ++this.engineGeneration;
    this.engine = engine;
    this.driver.setEngine(engine);
    const caps = await engine.init({ backend: this.options.backend, threads });
    // [W-13] A move to WASM mid-job (WebGPU device lost) is shown and told to the coordinator.
    engine.onCapabilitiesChanged?.((next) => {
      if (generation !== this.engineGeneration) return;
      this.view.patch({ caps: next });
      this.log('warn', `backend is now ${next.backend}: ${next.backendReason}`);
      this.driver.act((core, now) => core.capabilitiesChanged(next, now));
    });
    this.view.patch({ caps });
    this.log('info', `running on ${caps.backend} with ${caps.threads} thread(s): ${caps.backendReason}`);
    return caps;
  }

  /** Hands back the shard in hand (a pause), replaces the engine, tells the coordinator, resumes. */
  private async restartEngine(threads: number): Promise<void> {
    if (!this.driver.core || this.restarting) return;
    this.restarting = true;
    this.patchControls({ engineRestarting: true });
    this.applyPause();
    const old = this.engine;
    this.engine = null;
    this.driver.setEngine(null);
    this.engineGeneration++;
    await old?.dispose().catch(() => undefined);
    try {
      const caps = await this.startEngine(threads);
      this.driver.act((core, now) => core.capabilitiesChanged(caps, now));
    } catch (e) {
      const message = `The inference runtime could not restart with ${threads} thread(s): ${errorMessage(e)}`;
      this.view.patch({ state: 'error', error: message });
      this.log('error', message);
      this.driver.stop();
      return;
    } finally {
      this.restarting = false;
      this.patchControls({ engineRestarting: false });
    }
    this.applyPause();
  }

  /** [W-11] Decides from the user's pause, the tab, the battery and the settings, and tells the core. */
  private applyPause(): void {
    const battery = this.battery?.supported && this.battery.charging !== null ? { charging: this.battery.charging } : null;
    const decision = decidePause(this.settings, { userPaused: this.userPaused, hidden: this.hidden, battery });
    this.patchControls({ pause: decision, userPaused: this.userPaused });
    const paused = decision.paused || this.restarting;
    const text = this.restarting ? [decision.text, RESTARTING].filter(Boolean).join('; ') : decision.text;
    this.driver.act((core, now) => core.setPaused(paused, text, now));
  }

  private hardwareConcurrency(): number {
    return typeof navigator !== 'undefined' && navigator.hardwareConcurrency > 0 ? navigator.hardwareConcurrency : 1;
  }

  private patchControls(delta: Partial<VolunteerControlsView>): void {
    this.view.patch((prev) => ({ controls: { ...prev.controls, ...delta } }));
  }

  private patchEnv(delta: Partial<VolunteerEnv>): void {
    this.view.patch((prev) => ({ controls: { ...prev.controls, env: { ...prev.controls.env, ...delta } } }));
  }

  private log(level: 'info' | 'warn' | 'error', text: string): void {
    if (level !== 'info') console.warn(`[volunteer] ${text}`);
    this.view.patch((prev) => ({ log: appendLog(prev.log, { atMs: this.now(), level, text }) }));
  }
}
