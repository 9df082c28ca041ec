/**
 * The volunteer tab's shell: probes the inference backend, links to the coordinator, and carries
 * out what `VolunteerCore` asks for — send frames, look up and fill the model cache, sha256 model
 * bytes, run shards in the inference Worker, wake up later. It also feeds the core the volunteer's
 * controls: the user's pause, a hidden tab, a battery (decided by core/volunteer/controls.ts), the
 * CPU cap, and a thread count that restarts the engine when changed; and it reports the tab's
 * surroundings (other volunteer tabs, cross-origin isolation, main-thread long tasks) to the page.
 * It keeps the tab's peer id and resume token ([W-17]) and the outbox of unacknowledged results
 * in IndexedDB ([W-15]), so results finished while the coordinator was gone, or before a reload,
 * are still delivered.
 */
import {
  DEFAULT_VOLUNTEER_SETTINGS,
  decidePause,
  defaultThreads,
  normaliseVolunteerSettings,
  threadsToUse,
  type VolunteerSettings,
} from '../core/volunteer/controls.ts';
import { VolunteerCore, type OutboxEntry, type VolunteerEffect } from '../core/volunteer/volunteer.ts';
import type { Backend, Capabilities } from '../protocol/capabilities.ts';
import type { LeaseId, ModelHash } from '../protocol/ids.ts';
import type { ModelCache } from '../persistence/modelCache.ts';
import type { InferenceEngine, InferenceResult } from '../runtime/engine.ts';
import { sha256Hex } from '../runtime/sha256.ts';
import { appendLog } from '../stores/logSlice.ts';
import { patch } from '../stores/store.ts';
import type { VolunteerControlsView, VolunteerEnv } from '../stores/volunteerSlice.ts';
import type { EndpointFactory } from '../transport/transport.ts';
import { watchBattery, type BatteryReading } from './battery.ts';
import { CoordinatorLink } from './coordinatorLink.ts';
import type { CoordinatorTrust } from './coordinatorTrust.ts';
import { keyTrustHandlers } from './keyAlarms.ts';
import { LongTaskMonitor } from './longTasks.ts';
import { coordinatorPeerId } from './networkId.ts';
import { TabPresence } from './tabPresence.ts';
import type { IdentityStorage, VolunteerIdentity } from './volunteerIdentity.ts';
import { watchVisibility } from './visibility.ts';
import { errorMessage } from '../protocol/errorMessage.ts';

/** Where the volunteer's controls are kept (persistence/settingsStore.ts in the app). */
export interface VolunteerSettingsStorage {
  volunteerSettings(): Promise<VolunteerSettings>;
  putVolunteerSettings(settings: unknown): Promise<VolunteerSettings>;
}

/** [W-15] Where unacknowledged results are kept (persistence/outboxStore.ts in the app). */
export interface OutboxStorage {
  put(volunteerId: string, networkId: string, entry: OutboxEntry, nowMs: number): Promise<void>;
  delete(volunteerId: string, leaseId: LeaseId): Promise<void>;
  load(volunteerId: string, networkId: string, nowMs: number): Promise<OutboxEntry[]>;
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
  /** 'auto' = WebGPU when it really works, else WASM; a test may force one. */
  readonly backend: 'auto' | Backend;
  readonly label: string;
  /** [K-2] How the coordinator proves its key on each connection. */
  readonly trust: CoordinatorTrust;
  /** [W-18] Leases queued behind the running one; absent = the core's default (1). */
  readonly prefetch?: number;
  readonly now?: () => number;
}

const RESTARTING = 'restarting the inference engine';

export class VolunteerHost {
  private core: VolunteerCore | null = null;
  private link: CoordinatorLink | null = null;
  private engine: InferenceEngine | null = null;
  /** Bumped per engine: events from an engine we replaced are ignored. */
  private engineGeneration = 0;
  private loaded = new Set<ModelHash>();
  /**
   * The bytes of the model most recently read or verified, so consecutive leases of one job skip
   * the IndexedDB read (68 ms per lease for a 23 MB model, see BENCHMARKS.md). One model only:
   * the cache, not memory, is where models live.
   */
  private recentModel: { readonly hash: ModelHash; readonly bytes: ArrayBuffer } | null = null;
  private timers = new Set<ReturnType<typeof setTimeout>>();
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
  /** [W-17] The id and token this tab volunteers under; null before its first registration. */
  private identity: VolunteerIdentity | null = null;
  /** Peer ids whose stored outbox was read already. */
  private readonly outboxLoaded = new Set<string>();
  /**
   * [W-15] Outbox writes, and the frames the core emitted after one, in order: a frame leaves only
   * after every write before it, and never overtakes an earlier frame. Only frames wait: the next
   * shard starts while the last result is being written ([W-18]).
   */
  private ordered: Promise<void> = Promise.resolve();
  private orderedPending = 0;

  constructor(private readonly options: VolunteerHostOptions) {
    this.now = options.now ?? (() => Date.now());
    this.presence = new TabPresence((tabs, otherTabs) => {
      this.patchEnv({ tabs, otherTabs });
      this.patchControls({ autoThreads: defaultThreads(this.hardwareConcurrency(), otherTabs) });
    });
    this.longTasks = new LongTaskMonitor((longTasks) => this.patchControls({ longTasks }));
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
    patch('volunteer', { state: 'starting', networkId: this.options.networkId, error: null });
    await this.prepare();
    // Tabs that already volunteer answer the presence hello at once: wait a moment for them.
    const others = await this.presence.othersSettled();
    let caps: Capabilities;
    try {
      caps = await this.startEngine(threadsToUse(this.settings, this.hardwareConcurrency(), others));
    } catch (e) {
      const message = `The inference runtime could not start: ${errorMessage(e)}`;
      patch('volunteer', { state: 'error', error: message });
      this.log('error', message);
      return;
    }
    this.presence.setVolunteering(true);
    this.identity = this.options.identity.load();
    const prefetch = this.options.prefetch;
    const core = new VolunteerCore(caps, this.options.label, {
      resumeToken: this.identity?.token ?? null,
      ...(prefetch !== undefined ? { prefetch } : {}),
    });
    this.core = core;
    this.apply(core.setCpuCap(this.settings.cpuCapPercent, this.now()));
    this.applyPause(); // paused already (hidden tab, battery)? The hello will say so.
    this.link = new CoordinatorLink(
      this.options.factory,
      coordinatorPeerId(this.options.networkId),
      {
        open: () => this.apply(core.connected(this.now())),
        frame: (msg) => this.apply(core.receive(msg, this.now())),
        protocolError: (error) => this.apply(core.protocolError(error, this.now())),
        close: () => this.apply(core.disconnected(this.now())),
        status: (state, detail) => {
          patch('volunteer', { state });
          if (state === 'connecting') this.log('info', detail);
        },
        registered: (id) => this.registered(core, id),
        ...keyTrustHandlers('volunteer', this.options.trust),
      },
      { stableId: this.identity?.peerId ?? null, trust: this.options.trust },
    );
    this.link.start();
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
    if (this.core) this.apply(this.core.setCpuCap(next.cpuCapPercent, this.now()));
    this.applyPause();
    try {
      await this.options.settings.putVolunteerSettings(next);
    } catch (e) {
      this.log('warn', `could not save the volunteer settings (they apply until this tab closes): ${errorMessage(e)}`);
    }
    if (next.threads !== before.threads && this.core && this.engine) {
      const want = threadsToUse(next, this.hardwareConcurrency(), this.presence.others());
      const have = this.core.capabilities().threads;
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
    this.link?.stop();
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    this.presence.stop();
    this.longTasks.stop();
    for (const stop of this.unwatch.splice(0)) stop();
    void this.engine?.dispose();
    this.engine = null;
  }

  // -------------------------------------------------------------------------------------------

  /**
   * [W-17] Signaling registered the link under `id`. The first time it is this tab's id, results
   * stored under it before a reload are handed to the core ([W-15]): only then, so a duplicated
   * tab (same sessionStorage, id taken) never delivers the other tab's results. A fresh id (the
   * old one stayed taken, or the coordinator refused it as another volunteer's, [W-20]) voids the
   * old token and what was held under the old id.
   */
  private registered(core: VolunteerCore, id: string): void {
    const before = this.identity;
    if (before?.peerId !== id) {
      if (before) {
        this.log('warn', `volunteering under a fresh peer id ${id}: ${before.peerId} stayed taken or belongs to another volunteer`);
        this.apply(core.identityChanged(this.now()));
      }
      this.identity = { peerId: id, token: null };
      this.options.identity.save(this.identity);
    }
    patch('volunteer', { peerId: id });
    if (this.outboxLoaded.has(id)) return;
    this.outboxLoaded.add(id);
    void this.options.outbox.load(id, this.options.networkId, this.now()).then(
      (entries) => {
        if (this.identity?.peerId === id) this.apply(core.restoreOutbox(entries, this.now()));
      },
      (e: unknown) => this.log('warn', `could not read the results held back before this tab reloaded: ${errorMessage(e)}`),
    );
  }

  /** [W-15] Writes a result to the outbox; a failure is logged and the result is sent all the same. */
  private async putOutbox(entry: OutboxEntry): Promise<void> {
    const id = this.identity?.peerId;
    if (id === undefined) return;
    try {
      await this.options.outbox.put(id, this.options.networkId, entry, this.now());
    } catch (e) {
      this.log(
        'warn',
        `could not keep the result for ${entry.shardId} in IndexedDB (sending it anyway; a reload before it is acknowledged loses it): ${errorMessage(e)}`,
      );
    }
  }

  private async startEngine(threads: number): Promise<Capabilities> {
    const engine = this.options.createEngine();
    const generation = ++this.engineGeneration;
    this.engine = engine;
    this.loaded.clear();
    const caps = await engine.init({ backend: this.options.backend, threads });
    // [W-13] A move to WASM mid-job (WebGPU device lost) is shown and told to the coordinator.
    engine.onCapabilitiesChanged?.((next) => {
      if (generation !== this.engineGeneration) return;
      patch('volunteer', { caps: next });
      this.log('warn', `backend is now ${next.backend}: ${next.backendReason}`);
      if (this.core) this.apply(this.core.capabilitiesChanged(next, this.now()));
    });
    patch('volunteer', { caps });
    this.log('info', `running on ${caps.backend} with ${caps.threads} thread(s): ${caps.backendReason}`);
    return caps;
  }

  /** Hands back the shard in hand (a pause), replaces the engine, tells the coordinator, resumes. */
  private async restartEngine(threads: number): Promise<void> {
    const core = this.core;
    if (!core || this.restarting) return;
    this.restarting = true;
    this.patchControls({ engineRestarting: true });
    this.applyPause();
    const old = this.engine;
    this.engine = null;
    this.engineGeneration++;
    await old?.dispose().catch(() => undefined);
    try {
      const caps = await this.startEngine(threads);
      this.apply(core.capabilitiesChanged(caps, this.now()));
    } catch (e) {
      const message = `The inference runtime could not restart with ${threads} thread(s): ${errorMessage(e)}`;
      patch('volunteer', { state: 'error', error: message });
      this.log('error', message);
      this.link?.stop();
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
    if (this.core) this.apply(this.core.setPaused(paused, text, this.now()));
  }

  private apply(effects: readonly VolunteerEffect[]): void {
    const core = this.core;
    if (!core) return;
    for (const e of effects) {
      switch (e.kind) {
        case 'outbox-put':
          // [W-15] The result is stored before it is sent: the frames after it wait for the write.
          this.inOrder(() => this.putOutbox(e.entry));
          break;
        case 'outbox-delete': {
          const id = this.identity?.peerId;
          if (id !== undefined) {
            this.options.outbox.delete(id, e.leaseId).catch((err: unknown) => {
              this.log('warn', `could not remove an acknowledged result from IndexedDB (it expires in a day): ${errorMessage(err)}`);
            });
          }
          break;
        }
        case 'renew-id':
          // [W-20] `registered` sees the fresh id and calls `identityChanged`.
          this.link?.renewId('the coordinator says this peer id belongs to another volunteer; registering under a fresh id');
          break;
        case 'save-token':
          if (this.identity) {
            this.identity = { ...this.identity, token: e.token };
            this.options.identity.save(this.identity);
          }
          break;
        case 'send': {
          // A frame must not overtake one still waiting for its write: the coordinator would see
          // the next lease-request before the result that frees a lease for it ([W-18]).
          const msg = e.msg;
          if (this.orderedPending === 0) this.link?.send(msg);
          else
            this.inOrder(() => {
              this.link?.send(msg);
            });
          break;
        }
        case 'load-cached-model': {
          const recent = this.recentModel;
          if (recent && recent.hash === e.hash) {
            // Stay asynchronous, as the cache read is: effects keep their order.
            queueMicrotask(() => this.apply(core.modelFromCache(e.hash, recent.bytes)));
            break;
          }
          void this.options.cache.get(e.hash).then(
            (bytes) => {
              if (bytes) this.recentModel = { hash: e.hash, bytes };
              this.apply(core.modelFromCache(e.hash, bytes));
            },
            () => this.apply(core.modelFromCache(e.hash, null)),
          );
          break;
        }
        case 'check-model':
          void sha256Hex(e.bytes).then((digest) => this.apply(core.modelChecked(e.hash, e.bytes, digest === e.hash)));
          break;
        case 'cache-model':
          this.recentModel = { hash: e.hash, bytes: e.bytes };
          this.options.cache.put(e.hash, e.bytes, this.now()).catch((err: unknown) => {
            this.log('warn', `could not cache model ${e.hash.slice(0, 12)}: ${String(err)}`);
          });
          break;
        case 'run':
          void this.run(core, e);
          break;
        case 'wake-at':
          this.timer(e.atMs, () => core.wake(this.now()));
          break;
        case 'progress-at':
          // [W-21] The core decides which leases to report; the shard runs in the Worker, so this
          // thread is free to send while it computes.
          this.timer(e.atMs, () => core.progressDue(this.now()));
          break;
        case 'log':
          this.log(e.level, e.text);
          break;
        case 'status-changed':
          patch('volunteer', { stats: core.stats() });
          break;
      }
    }
  }

  /** Applies what `step` returns at `atMs`; cleared with the others when the host stops. */
  private timer(atMs: number, step: () => VolunteerEffect[]): void {
    const t = setTimeout(
      () => {
        this.timers.delete(t);
        this.apply(step());
      },
      Math.max(0, atMs - this.now()),
    );
    this.timers.add(t);
  }

  /** [W-15] Runs `step` after every write and frame queued before it. */
  private inOrder(step: () => Promise<void> | void): void {
    this.orderedPending++;
    this.ordered = this.ordered
      .then(step)
      .catch((err: unknown) => this.log('warn', `could not send a frame to the coordinator: ${errorMessage(err)}`))
      .finally(() => {
        this.orderedPending--;
      });
  }

  private async run(core: VolunteerCore, e: Extract<VolunteerEffect, { kind: 'run' }>): Promise<void> {
    const engine = this.engine;
    if (!engine) {
      this.apply(core.inferenceFailed(e.leaseId, RESTARTING));
      return;
    }
    this.longTasks.setBusy(true);
    try {
      if (!this.loaded.has(e.hash)) {
        // The worker may detach buffers it is given; keep the cached copy intact.
        await engine.loadModel(e.hash, e.model.slice(0));
        if (engine === this.engine) this.loaded.add(e.hash);
      }
      const result = await this.infer(engine, e);
      this.longTasks.setBusy(false);
      this.apply(core.inferenceDone(e.leaseId, result.outputs, result.backend, result.inferMs, this.now(), result.answers));
    } catch (err) {
      this.longTasks.setBusy(false);
      this.apply(core.inferenceFailed(e.leaseId, errorMessage(err)));
    }
  }

  /** [W-22] A job of files runs its pipeline in the engine's Worker; tensors run as they came. */
  private infer(engine: InferenceEngine, e: Extract<VolunteerEffect, { kind: 'run' }>): Promise<InferenceResult> {
    if (!e.files || !e.pipeline) return engine.run(e.hash, e.inputs);
    if (!engine.runPipeline) return Promise.reject(new Error("this volunteer's engine cannot decode files: the shard goes to another volunteer"));
    return engine.runPipeline(e.hash, e.pipeline, e.files);
  }

  private hardwareConcurrency(): number {
    return typeof navigator !== 'undefined' && navigator.hardwareConcurrency > 0 ? navigator.hardwareConcurrency : 1;
  }

  private patchControls(delta: Partial<VolunteerControlsView>): void {
    patch('volunteer', (prev) => ({ controls: { ...prev.controls, ...delta } }));
  }

  private patchEnv(delta: Partial<VolunteerEnv>): void {
    patch('volunteer', (prev) => ({ controls: { ...prev.controls, env: { ...prev.controls.env, ...delta } } }));
  }

  private log(level: 'info' | 'warn' | 'error', text: string): void {
    if (level !== 'info') console.warn(`[volunteer] ${text}`);
    patch('volunteer', (prev) => ({ log: appendLog(prev.log, { atMs: this.now(), level, text }) }));
  }
}
