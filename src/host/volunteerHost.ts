/**
 * The volunteer tab's shell: probes the inference backend, links to the coordinator, and carries
 * out what `VolunteerCore` asks for — send frames, look up and fill the model cache, sha256 model
 * bytes, run shards in the inference Worker, wake up later.
 */
import { VolunteerCore, type VolunteerEffect } from '../core/volunteer/volunteer.ts';
import type { ModelHash } from '../protocol/ids.ts';
import type { ModelCache } from '../persistence/modelCache.ts';
import type { EnginePreferences, InferenceEngine } from '../runtime/engine.ts';
import { sha256Hex } from '../runtime/sha256.ts';
import { appendLog } from '../stores/logSlice.ts';
import { patch } from '../stores/store.ts';
import type { EndpointFactory } from '../transport/transport.ts';
import { CoordinatorLink } from './coordinatorLink.ts';
import { coordinatorPeerId } from './networkId.ts';

export interface VolunteerHostOptions {
  readonly networkId: string;
  readonly factory: EndpointFactory;
  readonly engine: InferenceEngine;
  readonly cache: ModelCache;
  readonly prefs: EnginePreferences;
  readonly label: string;
  readonly now?: () => number;
}

export class VolunteerHost {
  private core: VolunteerCore | null = null;
  private link: CoordinatorLink | null = null;
  private loaded = new Set<ModelHash>();
  private timers = new Set<ReturnType<typeof setTimeout>>();
  private readonly now: () => number;

  constructor(private readonly options: VolunteerHostOptions) {
    this.now = options.now ?? (() => Date.now());
  }

  async start(): Promise<void> {
    patch('volunteer', { state: 'starting', networkId: this.options.networkId, error: null });
    let caps;
    try {
      caps = await this.options.engine.init(this.options.prefs);
    } catch (e) {
      const message = `The inference runtime could not start: ${e instanceof Error ? e.message : String(e)}`;
      patch('volunteer', { state: 'error', error: message });
      this.log('error', message);
      return;
    }
    patch('volunteer', { caps });
    this.log('info', `running on ${caps.backend}: ${caps.backendReason}`);
    const core = new VolunteerCore(caps, this.options.label);
    this.core = core;
    this.options.engine.onCapabilitiesChanged?.((next) => {
      patch('volunteer', { caps: next });
      this.log('warn', `backend is now ${next.backend}: ${next.backendReason}`);
    });
    this.link = new CoordinatorLink(this.options.factory, coordinatorPeerId(this.options.networkId), {
      open: () => this.apply(core.connected(this.now())),
      frame: (msg) => this.apply(core.receive(msg, this.now())),
      protocolError: (error) => this.apply(core.protocolError(error)),
      close: () => this.apply(core.disconnected(this.now())),
      status: (state, detail) => {
        patch('volunteer', { state });
        if (state === 'connecting') this.log('info', detail);
      },
    });
    this.link.start();
  }

  stop(): void {
    this.link?.stop();
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    void this.options.engine.dispose();
  }

  private apply(effects: readonly VolunteerEffect[]): void {
    const core = this.core;
    if (!core) return;
    for (const e of effects) {
      switch (e.kind) {
        case 'send':
          this.link?.send(e.msg);
          break;
        case 'load-cached-model':
          void this.options.cache.get(e.hash).then(
            (bytes) => this.apply(core.modelFromCache(e.hash, bytes)),
            () => this.apply(core.modelFromCache(e.hash, null)),
          );
          break;
        case 'check-model':
          void sha256Hex(e.bytes).then((digest) => this.apply(core.modelChecked(e.hash, e.bytes, digest === e.hash)));
          break;
        case 'cache-model':
          this.options.cache.put(e.hash, e.bytes, this.now()).catch((err: unknown) => {
            this.log('warn', `could not cache model ${e.hash.slice(0, 12)}: ${String(err)}`);
          });
          break;
        case 'run':
          void this.run(core, e);
          break;
        case 'wake-at': {
          const t = setTimeout(() => {
            this.timers.delete(t);
            this.apply(core.wake(this.now()));
          }, Math.max(0, e.atMs - this.now()));
          this.timers.add(t);
          break;
        }
        case 'log':
          this.log(e.level, e.text);
          break;
        case 'status-changed':
          patch('volunteer', { stats: core.stats() });
          break;
      }
    }
  }

  private async run(core: VolunteerCore, e: Extract<VolunteerEffect, { kind: 'run' }>): Promise<void> {
    try {
      if (!this.loaded.has(e.hash)) {
        // The worker may detach buffers it is given; keep the cached copy intact.
        await this.options.engine.loadModel(e.hash, e.model.slice(0));
        this.loaded.add(e.hash);
      }
      const result = await this.options.engine.run(e.hash, e.inputs);
      this.apply(core.inferenceDone(e.leaseId, result.outputs, result.backend, result.inferMs));
    } catch (err) {
      this.apply(core.inferenceFailed(e.leaseId, err instanceof Error ? err.message : String(err)));
    }
  }

  private log(level: 'info' | 'warn' | 'error', text: string): void {
    if (level !== 'info') console.warn(`[volunteer] ${text}`);
    patch('volunteer', (prev) => ({ log: appendLog(prev.log, { atMs: this.now(), level, text }) }));
  }
}
