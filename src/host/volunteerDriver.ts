/**
 * Drives one `VolunteerCore` wherever a volunteer runs — a browser tab (volunteerHost.ts) or a
 * headless process (`quorum volunteer`, cli/): links to the coordinator, and carries out what the
 * core asks for — send frames, look up and fill the model cache, sha256 model bytes, run shards on
 * the inference engine, wake up later. It keeps the volunteer's peer id and resume token ([W-17])
 * and the outbox of unacknowledged results ([W-15]) in the storage it is given, so results
 * finished while the coordinator was gone, or before a restart, are still delivered. What is
 * particular to a tab (its store, visibility, battery, other tabs) stays with the tab's host.
 */
import { VolunteerCore, type OutboxEntry, type VolunteerEffect, type VolunteerStats } from '../core/volunteer/volunteer.ts';
import type { Capabilities } from '../protocol/capabilities.ts';
import { errorMessage } from '../protocol/errorMessage.ts';
import type { LeaseId, ModelHash, ShardId } from '../protocol/ids.ts';
import type { InferenceEngine, InferenceResult } from '../runtime/engine.ts';
import { sha256Hex } from '../runtime/sha256.ts';
import type { EndpointFactory } from '../transport/transport.ts';
import { CoordinatorLink, type LinkHandlers } from './coordinatorLink.ts';
import type { LinkTrust } from './coordinatorTrust.ts';
import { coordinatorPeerId } from './networkId.ts';
import type { IdentityStorage, VolunteerIdentity } from './volunteerIdentity.ts';
import type { VolunteerKeyIdentity } from './volunteerKey.ts';
import { needsSignature, VolunteerSigner } from './volunteerSigner.ts';

/** [W-15] Where unacknowledged results are kept (IndexedDB in a tab, files in a headless volunteer). */
export interface OutboxStorage {
  put(volunteerId: string, networkId: string, entry: OutboxEntry, nowMs: number): Promise<void>;
  delete(volunteerId: string, leaseId: LeaseId): Promise<void>;
  load(volunteerId: string, networkId: string, nowMs: number): Promise<OutboxEntry[]>;
}

/** Models by content hash; the caller has checked the bytes against the hash before `put`. */
export interface ModelStorage {
  get(hash: ModelHash): Promise<ArrayBuffer | null>;
  put(hash: ModelHash, bytes: ArrayBuffer, nowMs: number): Promise<void>;
}

/** A shard the engine finished: how many items it held and how long the run took (for items/s). */
export interface ShardRun {
  readonly shardId: ShardId | null;
  readonly items: number;
  readonly inferMs: number;
}

/** What the driver tells its shell, for people to see. */
export interface VolunteerDriverEvents {
  log(level: 'info' | 'warn' | 'error', text: string): void;
  /** What the link to the coordinator is doing, in words. */
  link(state: 'connecting' | 'connected', detail: string): void;
  /** Signaling registered this volunteer under `id`. */
  peerId(id: string): void;
  /** The core's state changed. */
  status(stats: VolunteerStats): void;
  /** A shard started or stopped computing. */
  busy(busy: boolean): void;
  ran?(run: ShardRun): void;
}

export interface VolunteerDriverOptions {
  readonly networkId: string;
  readonly factory: EndpointFactory;
  readonly cache: ModelStorage;
  readonly outbox: OutboxStorage;
  /** [W-17] This volunteer's peer id and resume token. */
  readonly identity: IdentityStorage;
  readonly label: string;
  /** [W-18] Leases queued behind the running one; absent = the core's default (1). */
  readonly prefetch?: number;
  readonly now: () => number;
  readonly events: VolunteerDriverEvents;
  /** [K-2] [K-4] How this volunteer authenticates its coordinator before sending it anything. */
  readonly trust: LinkTrust;
  /**
   * [I-2] [I-3] This volunteer's own key pair (IndexedDB in a tab, a key file in a state
   * directory): it proves the peer id is this volunteer's and signs every result. Loaded once.
   */
  readonly volunteerKey: () => Promise<VolunteerKeyIdentity>;
  /** [K-4] What the tab shows when the coordinator proves an untrusted key, or the trusted one. */
  readonly keyHandlers?: Pick<LinkHandlers, 'untrusted' | 'verified'>;
}

/** Why a shard cannot run while the engine is being replaced. */
export const NO_ENGINE = 'restarting the inference engine';

export class VolunteerDriver {
  private coreRef: VolunteerCore | null = null;
  private link: CoordinatorLink | null = null;
  private engine: InferenceEngine | null = null;
  private loaded = new Set<ModelHash>();
  /**
   * The bytes of the model most recently read or verified, so consecutive leases of one job skip
   * the cache read (68 ms per lease for a 23 MB model in IndexedDB, see BENCHMARKS.md). One model
   * only: the cache, not memory, is where models live.
   */
  private recentModel: { readonly hash: ModelHash; readonly bytes: ArrayBuffer } | null = null;
  private timers = new Set<ReturnType<typeof setTimeout>>();
  /** [W-17] The id and token this volunteer runs under; null before its first registration. */
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
  /** [I-2] [I-3] Signs the hello and every result as they leave. */
  private readonly signer: VolunteerSigner;

  constructor(private readonly options: VolunteerDriverOptions) {
    this.signer = new VolunteerSigner(options.networkId, options.volunteerKey);
  }

  /** The core, once `begin` made it. */
  get core(): VolunteerCore | null {
    return this.coreRef;
  }

  /** The engine shards run on; null while it is replaced (a shard then goes back). */
  setEngine(engine: InferenceEngine | null): void {
    this.engine = engine;
    this.loaded.clear();
  }

  /**
   * Makes the core for an engine with these capabilities, under the stored identity. The shell
   * may set the core's controls (CPU cap, pause) with `act` before `connect`, so the hello says them.
   */
  begin(caps: Capabilities): VolunteerCore {
    this.identity = this.options.identity.load();
    const prefetch = this.options.prefetch;
    const core = new VolunteerCore(caps, this.options.label, {
      resumeToken: this.identity?.token ?? null,
      ...(prefetch !== undefined ? { prefetch } : {}),
    });
    this.coreRef = core;
    return core;
  }

  /** Links to the network's coordinator (and keeps reconnecting until `stop`). */
  connect(): void {
    const core = this.coreRef;
    if (!core || this.link) return;
    this.link = new CoordinatorLink(
      this.options.factory,
      coordinatorPeerId(this.options.networkId),
      {
        open: () => this.act((c, now) => c.connected(now)),
        frame: (msg) => this.act((c, now) => c.receive(msg, now)),
        protocolError: (error) => this.act((c, now) => c.protocolError(error, now)),
        close: () => this.act((c, now) => c.disconnected(now)),
        status: (state, detail) => this.options.events.link(state, detail),
        registered: (id) => this.registered(core, id),
        ...this.options.keyHandlers,
      },
      { stableId: this.identity?.peerId ?? null, trust: this.options.trust },
    );
    this.link.start();
  }

  /** Feeds the core one event and carries out what it returns. */
  act(step: (core: VolunteerCore, now: number) => readonly VolunteerEffect[]): void {
    const core = this.coreRef;
    if (core) this.apply(step(core, this.options.now()));
  }

  /** Resolves once every outbox write and frame queued so far has been carried out. */
  async settled(): Promise<void> {
    let seen: Promise<void> | null = null;
    // A step may queue more behind it (a write, then the frames after it): wait until none is new.
    while (seen !== this.ordered) {
      seen = this.ordered;
      await seen;
    }
  }

  stop(): void {
    this.link?.stop();
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
  }

  // -------------------------------------------------------------------------------------------

  /**
   * [W-17] Signaling registered the link under `id`. The first time it is this volunteer's id,
   * results stored under it before a restart are handed to the core ([W-15]): only then, so a
   * copy using the same identity (a duplicated tab) never delivers the other's results. A fresh
   * id (the old one stayed taken, or the coordinator refused it as another volunteer's, [W-20])
   * voids the old token and what was held under the old id.
   */
  private registered(core: VolunteerCore, id: string): void {
    const before = this.identity;
    if (before?.peerId !== id) {
      if (before) {
        this.log('warn', `volunteering under a fresh peer id ${id}: ${before.peerId} stayed taken or belongs to another volunteer`);
        this.apply(core.identityChanged(this.options.now()));
      }
      this.identity = { peerId: id, token: null };
      this.options.identity.save(this.identity);
    }
    this.options.events.peerId(id);
    if (this.outboxLoaded.has(id)) return;
    this.outboxLoaded.add(id);
    void this.options.outbox.load(id, this.options.networkId, this.options.now()).then(
      (entries) => {
        if (this.identity?.peerId !== id) return;
        for (const entry of entries) this.signer.noteResult(entry.leaseId, entry.shardId);
        this.apply(core.restoreOutbox(entries, this.options.now()));
      },
      (e: unknown) => this.log('warn', `could not read the results held back before this volunteer restarted: ${errorMessage(e)}`),
    );
  }

  /** [W-15] Writes a result to the outbox; a failure is logged and the result is sent all the same. */
  private async putOutbox(entry: OutboxEntry): Promise<void> {
    const id = this.identity?.peerId;
    if (id === undefined) return;
    try {
      await this.options.outbox.put(id, this.options.networkId, entry, this.options.now());
    } catch (e) {
      this.log(
        'warn',
        `could not keep the result for ${entry.shardId} in storage (sending it anyway; a restart before it is acknowledged loses it): ${errorMessage(e)}`,
      );
    }
  }

  private apply(effects: readonly VolunteerEffect[]): void {
    const core = this.coreRef;
    if (!core) return;
    for (const e of effects) {
      switch (e.kind) {
        case 'outbox-put':
          this.signer.noteResult(e.entry.leaseId, e.entry.shardId);
          // [W-15] The result is stored before it is sent: the frames after it wait for the write.
          this.inOrder(() => this.putOutbox(e.entry));
          break;
        case 'outbox-delete': {
          const id = this.identity?.peerId;
          this.signer.forget(e.leaseId);
          if (id !== undefined) {
            this.options.outbox.delete(id, e.leaseId).catch((err: unknown) => {
              this.log('warn', `could not remove an acknowledged result from storage (it expires in a day): ${errorMessage(err)}`);
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
          // [I-2] [I-3] A hello and a result leave signed: after the signature, in order.
          if (needsSignature(msg))
            this.inOrder(async () => {
              if (this.link) await this.signer.send(this.link, msg, core.capabilities());
            });
          else if (this.orderedPending === 0) this.link?.send(msg);
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
          this.options.cache.put(e.hash, e.bytes, this.options.now()).catch((err: unknown) => {
            this.log('warn', `could not cache model ${e.hash.slice(0, 12)}: ${String(err)}`);
          });
          break;
        case 'run':
          void this.run(core, e);
          break;
        case 'wake-at':
          this.timer(e.atMs, () => core.wake(this.options.now()));
          break;
        case 'progress-at':
          // [W-21] The core decides which leases to report; the shard runs off this thread (a
          // Worker, or onnxruntime-node's own threads), so this one is free to send meanwhile.
          this.timer(e.atMs, () => core.progressDue(this.options.now()));
          break;
        case 'log':
          this.log(e.level, e.text);
          break;
        case 'status-changed':
          this.options.events.status(core.stats());
          break;
      }
    }
  }

  /** Applies what `step` returns at `atMs`; cleared with the others when the driver stops. */
  private timer(atMs: number, step: () => VolunteerEffect[]): void {
    const t = setTimeout(
      () => {
        this.timers.delete(t);
        this.apply(step());
      },
      Math.max(0, atMs - this.options.now()),
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
      this.apply(core.inferenceFailed(e.leaseId, NO_ENGINE));
      return;
    }
    const shardId = core.stats().currentShard as ShardId | null;
    this.options.events.busy(true);
    try {
      if (!this.loaded.has(e.hash)) {
        // The engine may detach buffers it is given (a Worker's transfer); keep the cached copy intact.
        await engine.loadModel(e.hash, e.model.slice(0));
        if (engine === this.engine) this.loaded.add(e.hash);
      }
      const result = await this.infer(engine, e);
      this.options.events.busy(false);
      this.options.events.ran?.({ shardId, items: e.files?.length ?? e.inputs[0]?.dims[0] ?? 0, inferMs: result.inferMs });
      this.apply(core.inferenceDone(e.leaseId, result.outputs, result.backend, result.inferMs, this.options.now(), result.answers));
    } catch (err) {
      this.options.events.busy(false);
      this.apply(core.inferenceFailed(e.leaseId, errorMessage(err)));
    }
  }

  /** [W-22] A job of files runs its pipeline in the engine; tensors run as they came. */
  private infer(engine: InferenceEngine, e: Extract<VolunteerEffect, { kind: 'run' }>): Promise<InferenceResult> {
    if (!e.files || !e.pipeline) return engine.run(e.hash, e.inputs);
    if (!engine.runPipeline) return Promise.reject(new Error("this volunteer's engine cannot decode files: the shard goes to another volunteer"));
    return engine.runPipeline(e.hash, e.pipeline, e.files);
  }

  private log(level: 'info' | 'warn' | 'error', text: string): void {
    this.options.events.log(level, text);
  }
}
