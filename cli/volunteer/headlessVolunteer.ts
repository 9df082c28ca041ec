/**
 * One headless volunteer: the same core and driver as a volunteer tab (src/host/volunteerDriver.ts)
 * on onnxruntime-node, with its identity, outbox and verified models in files (stateDir.ts), so
 * a restart keeps its peer id and standing and delivers what it held back. `stop` hands every
 * lease it holds back to the coordinator before it leaves.
 */
import type { VolunteerStats } from '../../src/core/volunteer/volunteer.ts';
import { VolunteerDriver } from '../../src/host/volunteerDriver.ts';
import type { Capabilities } from '../../src/protocol/capabilities.ts';
import type { InferenceEngine } from '../../src/runtime/engine.ts';
import { createOrtNodeEngine } from '../../src/runtime/ortNodeEngine.node.ts';
import { createBundleEngine } from '../../src/runtime/bundleEngine.ts';
import { nodeImageDecoder } from '../../scripts/workloads/decodeImageFile.ts';
import type { EndpointFactory } from '../../src/transport/transport.ts';
import type { LinkTrust } from '../../src/host/coordinatorTrust.ts';
import { keyAlarmMessage } from '../../src/protocol/coordinatorProof.ts';
import { fileIdentityStorage, fileModelStorage, fileOutboxStorage } from './stateDir.ts';
import { volunteerKeyIn } from '../../src/node/dataDir.node.ts';

/** The `lease-abandon` reason and pause reason a volunteer that is shutting down gives. */
export const SHUTTING_DOWN = 'shutting down';
/**
 * After the hand-back frames are queued, how long the data channel gets to carry them before the
 * connection is torn down. The transport offers no "sent" signal; these frames are a few dozen
 * bytes each, and on loopback they leave in well under a millisecond.
 */
const HAND_BACK_FLUSH_MS = 300;

export type LogLevel = 'info' | 'warn' | 'error';

/** What a volunteer tells whoever shows it (the status line, a test). */
export interface HeadlessVolunteerEvents {
  log?(level: LogLevel, text: string): void;
  status?(stats: VolunteerStats): void;
  /** A shard ran: its items and compute time, for items/s. */
  ran?(shardId: string | null, items: number, inferMs: number): void;
}

export interface HeadlessVolunteerOptions {
  readonly networkId: string;
  readonly factory: EndpointFactory;
  /** This volunteer's own state directory (identity, outbox). */
  readonly stateDir: string;
  /** Where verified models are kept; may be shared by the volunteers of one process. */
  readonly modelsDir: string;
  /** onnxruntime-node intra-op threads for each shard. */
  readonly threads: number;
  readonly label: string;
  readonly createEngine?: () => InferenceEngine;
  /** [K-2] How the coordinator is authenticated before anything is sent to it. */
  readonly trust: LinkTrust;
  readonly events?: HeadlessVolunteerEvents;
  readonly now?: () => number;
}

export class HeadlessVolunteer {
  private readonly driver: VolunteerDriver;
  private engine: InferenceEngine | null = null;
  private connected = false;
  private stopping: Promise<void> | null = null;
  private peer: string | null = null;

  constructor(private readonly options: HeadlessVolunteerOptions) {
    const events = options.events ?? {};
    const log = (level: LogLevel, text: string): void => events.log?.(level, text);
    this.driver = new VolunteerDriver({
      networkId: options.networkId,
      factory: options.factory,
      cache: fileModelStorage(options.modelsDir),
      outbox: fileOutboxStorage(options.stateDir, (text) => log('warn', text)),
      identity: fileIdentityStorage(options.stateDir, (text) => log('warn', text)),
      // [I-2] The state directory's own key pair (volunteer-key.json, mode 0600).
      volunteerKey: () => volunteerKeyIn(options.stateDir),
      label: options.label,
      now: options.now ?? (() => Date.now()),
      trust: options.trust,
      keyHandlers: {
        untrusted: (alarm) => log('error', `${keyAlarmMessage(alarm)} (headless: delete the network's line in pins.json, or pass --fp, to trust a new key)`),
      },
      events: {
        log,
        link: (state, detail) => {
          this.connected = state === 'connected';
          log('info', state === 'connected' ? 'connected to the coordinator' : detail);
        },
        peerId: (id) => {
          this.peer = id;
        },
        status: (stats) => events.status?.(stats),
        busy: () => undefined,
        ran: (run) => events.ran?.(run.shardId, run.items, run.inferMs),
      },
    });
  }

  /** The peer id signaling registered this volunteer under; null before the first registration. */
  peerId(): string | null {
    return this.peer;
  }

  /** The core's state; null before `start`. */
  stats(): VolunteerStats | null {
    return this.driver.core?.stats() ?? null;
  }

  /** Starts the engine (throws with the reason if it cannot), then joins the network. */
  async start(): Promise<Capabilities> {
    // [W-23] Wrapped like the tab's Worker engine, so a headless volunteer runs asset bundles and
    // every file pipeline (OCR, VAD, top-k) too, decoding images with the Node decoder.
    const engine = createBundleEngine((this.options.createEngine ?? createOrtNodeEngine)(), nodeImageDecoder);
    this.engine = engine;
    const caps = await engine.init({ backend: 'auto', threads: this.options.threads });
    this.driver.setEngine(engine);
    this.driver.begin(caps);
    this.driver.connect();
    return caps;
  }

  /**
   * Leaves the network: every lease held goes back to the coordinator at once (`lease-abandon`,
   * [W-11]'s hand-back, so it is re-leased without waiting for a deadline), results not yet
   * acknowledged stay in the outbox for the next start, then the link and the engine close.
   */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      if (this.driver.core) {
        this.driver.act((core, now) => core.setPaused(true, SHUTTING_DOWN, now));
        await this.driver.settled();
        if (this.connected) await new Promise((resolve) => setTimeout(resolve, HAND_BACK_FLUSH_MS));
      }
      this.driver.stop();
      this.driver.setEngine(null);
      await this.engine?.dispose().catch(() => undefined);
      this.engine = null;
    })();
    return this.stopping;
  }
}
