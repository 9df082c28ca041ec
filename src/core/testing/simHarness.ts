/**
 * A seeded, in-process network for simulations: one `CoordinatorCore`, any number of
 * `VolunteerCore`s and a requester, wired by links whose delays a seeded rng decides. Every frame
 * is copied as a serializer would (binary as fresh buffers or as views into bigger ones) and goes
 * through the real parsers in both directions, so the protocol boundary is part of every run.
 *
 * Pure, like the core: a virtual clock (`EventQueue`), no Date.now, no Math.random, no timers.
 * The same seed replays the same run.
 */
import type { Backend } from '../../protocol/capabilities.ts';
import { asModelHash, asPeerId, type JobId, type ModelHash, type PeerId, type ShardId } from '../../protocol/ids.ts';
import { PROTOCOL_VERSION, type FromCoordinator, type JobSpec, type ToCoordinator } from '../../protocol/messages.ts';
import { parseFromCoordinator, parseToCoordinator } from '../../protocol/parse.ts';
import { elementCount, float32View, type WireTensor } from '../../protocol/tensor.ts';
import { CoordinatorCore } from '../coordinator/coordinator.ts';
import type { CoordinatorEffect } from '../coordinator/effects.ts';
import { DEFAULT_COORDINATOR_CONFIG, type CoordinatorConfig, type ShardStatus } from '../coordinator/state.ts';
import { seededRng, type Rng } from '../rng.ts';
import { testOnlySecrets } from '../secrets.ts';
import { VolunteerCore, type VolunteerEffect } from '../volunteer/volunteer.ts';
import { caps } from './fixtures.ts';

// ---------------------------------------------------------------------------------------------
// Virtual time
// ---------------------------------------------------------------------------------------------

/** Timed callbacks on a virtual clock. Callbacks due at the same time run in the order queued. */
export class EventQueue {
  private readonly events: { readonly at: number; readonly run: () => void }[] = [];
  private clock = 0;

  get now(): number {
    return this.clock;
  }

  get pending(): number {
    return this.events.length;
  }

  /** Runs `run` at `atMs` (or now, if that has passed). */
  at(atMs: number, run: () => void): void {
    const at = Math.max(atMs, this.clock);
    let lo = 0;
    let hi = this.events.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((this.events[mid] as { at: number }).at <= at) lo = mid + 1;
      else hi = mid;
    }
    this.events.splice(lo, 0, { at, run });
  }

  after(delayMs: number, run: () => void): void {
    this.at(this.clock + delayMs, run);
  }

  /** Runs the next callback; false when none is left. */
  step(): boolean {
    const e = this.events.shift();
    if (!e) return false;
    this.clock = e.at;
    e.run();
    return true;
  }

  /** Steps until `done()` holds (true) or the next callback lies past `limitMs` (false). */
  runUntil(done: () => boolean, limitMs: number): boolean {
    while (!done()) {
      const next = this.events[0];
      if (!next || next.at > limitMs) return false;
      this.step();
    }
    return true;
  }
}

// ---------------------------------------------------------------------------------------------
// A fake model, its hash, and the wire
// ---------------------------------------------------------------------------------------------

/**
 * A stand-in for sha256 (no crypto in the pure core): 64 lowercase hex digits from two 32-bit
 * FNV-style passes, spread out. Any change to the bytes changes it; collisions do not matter here.
 */
export function fakeModelHash(bytes: ArrayBuffer): ModelHash {
  const b = new Uint8Array(bytes);
  let h1 = 0x811c9dc5;
  let h2 = 0x1b873593 ^ b.length;
  for (let i = 0; i < b.length; i++) {
    const x = b[i] as number;
    h1 = Math.imul(h1 ^ x, 0x01000193);
    h2 = Math.imul(h2 ^ x, 0x5bd1e995) ^ (h2 >>> 13);
  }
  let out = '';
  let s = (h1 ^ Math.imul(h2, 0x9e3779b1)) >>> 0;
  for (let lane = 0; lane < 8; lane++) {
    s = (s + 0x6d2b79f5 + (lane % 2 === 0 ? h1 : h2)) >>> 0;
    let t = Math.imul(s ^ (s >>> 15), s | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    out += ((t ^ (t >>> 14)) >>> 0).toString(16).padStart(8, '0');
  }
  return asModelHash(out);
}

/** Model bytes whose first byte is the fake model's output width `k`; the rest is filler. */
export function makeFakeModel(sizeBytes: number, k: number, rng: Rng): ArrayBuffer {
  const b = new Uint8Array(sizeBytes);
  for (let i = 1; i < sizeBytes; i++) b[i] = Math.floor(rng.next() * 256);
  b[0] = k;
  return b.buffer;
}

/** What a volunteer does with a shard. */
export type Behaviour =
  /** Computes the model; on 'webgpu' with ~1e-7 noise, as real backends differ. */
  | 'honest'
  /** Computes the model, then shifts one value well outside any sane tolerance. */
  | 'liar'
  /** Returns NaN everywhere. */
  | 'nan';

/**
 * The fake model: input "x" float32 [rows, d] → output "y" float32 [rows, k] with
 * y[r][j] = (j + 1) · Σ_c x[r][c], k = model byte 0.
 */
export function fakeInfer(model: ArrayBuffer, inputs: readonly WireTensor[], backend: Backend, behaviour: Behaviour): WireTensor[] {
  const k = new Uint8Array(model)[0] as number;
  const x = inputs.find((t) => t.name === 'x');
  if (!x) throw new Error('fake model: no input "x"');
  const rows = x.dims[0] as number;
  const d = elementCount(x.dims.slice(1));
  const xs = float32View(x);
  const y = new Float32Array(rows * k);
  for (let r = 0; r < rows; r++) {
    let sum = 0;
    for (let c = 0; c < d; c++) sum += xs[r * d + c] as number;
    for (let j = 0; j < k; j++) {
      const v = (j + 1) * sum;
      y[r * k + j] = backend === 'webgpu' ? v * (1 + 2e-7) + 1e-7 : v;
    }
  }
  if (behaviour === 'liar' && y.length > 0) y[0] = (y[0] as number) + 0.5 + Math.abs(y[0] as number) * 0.05;
  if (behaviour === 'nan') y.fill(NaN);
  return [{ name: 'y', dtype: 'float32', dims: [rows, k], data: y.buffer }];
}

/**
 * A frame as it comes out of a serializer on the other side: a deep copy whose binary fields are
 * fresh ArrayBuffers or (as often as not) typed-array views at an offset into a bigger buffer.
 */
export function wireCopy(value: unknown, rng: Rng): unknown {
  if (value instanceof ArrayBuffer) {
    if (rng.next() < 0.5) return value.slice(0);
    const pad = 1 + Math.floor(rng.next() * 7);
    const backing = new Uint8Array(value.byteLength + pad + 3);
    backing.set(new Uint8Array(value), pad);
    return backing.subarray(pad, pad + value.byteLength);
  }
  if (ArrayBuffer.isView(value)) {
    return wireCopy(value.buffer.slice(value.byteOffset, value.byteOffset + value.byteLength), rng);
  }
  if (Array.isArray(value)) return value.map((v: unknown) => wireCopy(v, rng));
  if (typeof value === 'object' && value !== null) {
    const out: Record<string, unknown> = {};
    for (const [key, v] of Object.entries(value)) out[key] = wireCopy(v, rng);
    return out;
  }
  return value;
}

// ---------------------------------------------------------------------------------------------
// The simulation
// ---------------------------------------------------------------------------------------------

export interface SimVolunteerSpec {
  readonly id: string;
  readonly backend: Backend;
  readonly behaviour?: Behaviour;
  readonly joinAtMs?: number;
  /** The tab closes at this time: the connection drops and nothing of it runs any more. */
  readonly leaveAtMs?: number | null;
  /** The tab freezes or vanishes at this time without its channel closing: only silence tells. */
  readonly vanishAtMs?: number | null;
  /** Compute time per shard, drawn uniformly from [min, max]. */
  readonly inferMs?: readonly [number, number];
}

export interface SimOptions {
  readonly seed: number;
  readonly volunteers: readonly SimVolunteerSpec[];
  readonly config?: Partial<Omit<CoordinatorConfig, 'networkId'>>;
  /** One-way delay of a frame, drawn uniformly; each link stays in order (a reliable channel). */
  readonly linkDelayMs?: readonly [number, number];
  readonly tickEveryMs?: number;
  /** Every connected peer pings this often, as the host's keep-alive does. */
  readonly pingEveryMs?: number;
}

/** A `store-shard` effect as it happened. */
export interface ShardDecision {
  readonly shardId: ShardId;
  readonly status: ShardStatus;
  readonly volunteers: readonly PeerId[];
  readonly backends: readonly Backend[];
  readonly atMs: number;
}

export interface Departure {
  readonly volunteer: PeerId;
  readonly atMs: number;
  /** Leases the coordinator had out to it when it left. */
  readonly leasesHeld: number;
}

interface Node {
  readonly spec: SimVolunteerSpec;
  readonly id: PeerId;
  readonly core: VolunteerCore;
  readonly cache: Map<ModelHash, ArrayBuffer>;
  connected: boolean;
  closed: boolean;
  /** Bumped on every connect and disconnect; frames of an older connection are lost. */
  epoch: number;
}

export class Simulation {
  readonly queue = new EventQueue();
  readonly coordinator: CoordinatorCore;
  readonly requester: PeerId = asPeerId('requester');
  /** Frames the requester received, parsed. */
  readonly requesterInbox: FromCoordinator[] = [];
  readonly decisions: ShardDecision[] = [];
  readonly departures: Departure[] = [];
  /** Frames a parser refused. A correct run has none. */
  readonly protocolErrors: string[] = [];
  /** Coordinator logs and volunteer warnings, for a failing seed's post-mortem. */
  readonly log: string[] = [];
  /** Frames that crossed the wire, by direction. */
  framesToCoordinator = 0;
  framesFromCoordinator = 0;

  /**
   * Frames the coordinator sends to strangers: peers outside the simulation (a fuzzer's), whose
   * frames come in through `inject`. Called as each frame is sent.
   */
  onStrangerFrame: ((to: PeerId, msg: FromCoordinator) => void) | null = null;

  private readonly strangers = new Set<PeerId>();
  private readonly rng: Rng;
  private readonly wireRng: Rng;
  private readonly nodes = new Map<PeerId, Node>();
  private readonly linkClock = new Map<string, number>();
  private readonly linkDelayMs: readonly [number, number];

  constructor(readonly options: SimOptions) {
    this.rng = seededRng(options.seed);
    this.wireRng = seededRng(options.seed ^ 0x5bd1e995);
    this.linkDelayMs = options.linkDelayMs ?? [1, 40];
    this.coordinator = new CoordinatorCore(
      { networkId: 'sim', ...DEFAULT_COORDINATOR_CONFIG, ...options.config },
      seededRng(options.seed + 1),
      testOnlySecrets(options.seed),
    );
    this.applyCoordinator(this.coordinator.connect(this.requester, 0));
    this.sendToCoordinator(this.requester, 0, { v: PROTOCOL_VERSION, t: 'hello', role: 'requester', caps: null, label: 'requester' });

    for (const spec of options.volunteers) {
      const id = asPeerId(spec.id);
      const node: Node = { spec, id, core: new VolunteerCore(caps(spec.backend), spec.id), cache: new Map(), connected: false, closed: false, epoch: 0 };
      this.nodes.set(id, node);
      this.queue.at(spec.joinAtMs ?? 0, () => this.join(node));
      if (spec.leaveAtMs !== undefined && spec.leaveAtMs !== null) this.queue.at(spec.leaveAtMs, () => this.leave(node, true));
      if (spec.vanishAtMs !== undefined && spec.vanishAtMs !== null) {
        this.queue.at(spec.vanishAtMs, () => {
          node.closed = true;
        });
      }
    }
    const every = options.tickEveryMs ?? 250;
    const tick = (): void => {
      this.applyCoordinator(this.coordinator.tick(this.queue.now));
      this.queue.after(every, tick);
    };
    this.queue.after(every, tick);
    const pingEvery = options.pingEveryMs ?? 2_000;
    const ping = (): void => {
      this.sendToCoordinator(this.requester, 0, { v: PROTOCOL_VERSION, t: 'ping' });
      for (const node of this.nodes.values()) {
        if (node.connected && !node.closed) this.sendToCoordinator(node.id, node.epoch, { v: PROTOCOL_VERSION, t: 'ping' });
      }
      this.queue.after(pingEvery, ping);
    };
    this.queue.after(pingEvery, ping);
  }

  get now(): number {
    return this.queue.now;
  }

  /** The requester submits a job (through the wire, like everything else). */
  submit(spec: JobSpec, ref = 'r1'): void {
    this.sendToCoordinator(this.requester, 0, { v: PROTOCOL_VERSION, t: 'submit-job', ref, spec });
  }

  requestResults(jobId: JobId): void {
    this.sendToCoordinator(this.requester, 0, { v: PROTOCOL_VERSION, t: 'results-request', jobId });
  }

  /** The first frame of type `t` the requester received, if any. */
  received<T extends FromCoordinator['t']>(t: T): Extract<FromCoordinator, { t: T }> | undefined {
    return this.requesterInbox.find((m): m is Extract<FromCoordinator, { t: T }> => m.t === t);
  }

  run(done: () => boolean, limitMs: number): boolean {
    return this.queue.runUntil(done, limitMs);
  }

  volunteer(id: string): VolunteerCore | undefined {
    return this.nodes.get(asPeerId(id))?.core;
  }

  /** A stranger connects: the coordinator sees it as any peer; what it sends comes through `inject`. */
  connectStranger(id: PeerId): void {
    if (this.nodes.has(id) || id === this.requester || this.strangers.has(id)) return;
    this.strangers.add(id);
    this.applyCoordinator(this.coordinator.connect(id, this.now));
  }

  /** A stranger's connection closes (it left, or the coordinator closed it). */
  disconnectStranger(id: PeerId): void {
    if (!this.strangers.delete(id)) return;
    this.applyCoordinator(this.coordinator.disconnect(id, this.now));
  }

  isStrangerConnected(id: PeerId): boolean {
    return this.strangers.has(id);
  }

  /**
   * A raw frame from a connected stranger, handled now as a host handles every frame: parsed,
   * then either handed to the core or reported as a protocol error. Returns whether it parsed.
   */
  inject(from: PeerId, raw: unknown): boolean {
    if (!this.strangers.has(from)) return false;
    const parsed = parseToCoordinator(raw);
    if (!parsed.ok) {
      this.applyCoordinator(this.coordinator.protocolError(from, parsed.error, this.now));
      return false;
    }
    this.applyCoordinator(this.coordinator.handle(from, parsed.msg, this.now));
    return true;
  }

  // -------------------------------------------------------------------------------------------

  private join(node: Node): void {
    node.connected = true;
    node.epoch++;
    this.applyCoordinator(this.coordinator.connect(node.id, this.now));
    this.applyVolunteer(node, node.core.connected(this.now));
  }

  private leave(node: Node, closeTab: boolean): void {
    if (!node.connected) return;
    const held = this.coordinator.peerSummaries().find((p) => p.peerId === node.id)?.activeLeases ?? 0;
    this.departures.push({ volunteer: node.id, atMs: this.now, leasesHeld: held });
    node.connected = false;
    node.closed = closeTab;
    node.epoch++;
    this.applyCoordinator(this.coordinator.disconnect(node.id, this.now));
    this.applyVolunteer(node, node.core.disconnected(this.now));
  }

  private delay(): number {
    const [lo, hi] = this.linkDelayMs;
    return lo + this.rng.next() * (hi - lo);
  }

  /** When a frame sent now on `link` arrives: after a random delay, never before an earlier frame. */
  private arrival(link: string): number {
    const at = Math.max(this.linkClock.get(link) ?? 0, this.now + this.delay());
    this.linkClock.set(link, at);
    return at;
  }

  private sendToCoordinator(from: PeerId, epoch: number, msg: ToCoordinator): void {
    const frame = wireCopy(msg, this.wireRng);
    this.queue.at(this.arrival(`${from}>c`), () => {
      const node = this.nodes.get(from);
      if (node && (!node.connected || node.epoch !== epoch)) return; // the connection it left on is gone
      this.framesToCoordinator++;
      const parsed = parseToCoordinator(frame);
      if (!parsed.ok) {
        this.protocolErrors.push(`${from} → coordinator: ${parsed.error.reason}`);
        this.applyCoordinator(this.coordinator.protocolError(from, parsed.error, this.now));
        return;
      }
      this.applyCoordinator(this.coordinator.handle(from, parsed.msg, this.now));
    });
  }

  private sendToPeer(to: PeerId, msg: FromCoordinator): void {
    if (this.strangers.has(to)) {
      this.onStrangerFrame?.(to, msg);
      return;
    }
    const node = this.nodes.get(to);
    if (node && !node.connected) return;
    const epoch = node?.epoch ?? 0;
    const frame = wireCopy(msg, this.wireRng);
    this.queue.at(this.arrival(`c>${to}`), () => {
      if (node && (!node.connected || node.closed || node.epoch !== epoch)) return;
      this.framesFromCoordinator++;
      const parsed = parseFromCoordinator(frame);
      if (!parsed.ok) {
        this.protocolErrors.push(`coordinator → ${to}: ${parsed.error.reason}`);
        if (node) this.applyVolunteer(node, node.core.protocolError(parsed.error, this.now));
        return;
      }
      if (node) this.applyVolunteer(node, node.core.receive(parsed.msg, this.now));
      else if (to === this.requester) this.requesterInbox.push(parsed.msg);
    });
  }

  private applyCoordinator(effects: readonly CoordinatorEffect[]): void {
    for (const e of effects) {
      switch (e.kind) {
        case 'send':
          this.sendToPeer(e.to, e.msg);
          break;
        case 'close': {
          const node = this.nodes.get(e.peer);
          if (node) this.queue.after(1, () => this.leave(node, false));
          else if (this.strangers.has(e.peer)) this.queue.after(1, () => this.disconnectStranger(e.peer));
          break;
        }
        case 'hash-model': {
          const { peer, ref, spec } = e;
          this.queue.after(3, () => {
            this.applyCoordinator(this.coordinator.admitJob(peer, ref, spec, fakeModelHash(spec.model), this.now));
          });
          break;
        }
        case 'store-shard':
          this.decisions.push({
            shardId: e.shard.id,
            status: e.shard.status,
            volunteers: [...(e.shard.accepted?.volunteers ?? [])],
            backends: [...(e.shard.accepted?.backends ?? [])],
            atMs: this.now,
          });
          break;
        case 'log':
          this.log.push(`${this.now.toFixed(0)} coordinator ${e.level}: ${e.text}`);
          break;
        case 'store-model':
        case 'store-job':
        case 'status-changed':
          break;
      }
    }
  }

  private applyVolunteer(node: Node, effects: readonly VolunteerEffect[]): void {
    const local = (delayMs: number, run: () => void): void =>
      this.queue.after(delayMs, () => {
        if (!node.closed) run();
      });
    for (const e of effects) {
      switch (e.kind) {
        case 'send':
          if (node.connected && !node.closed) this.sendToCoordinator(node.id, node.epoch, e.msg);
          break;
        case 'load-cached-model': {
          const { hash } = e;
          local(1, () => this.applyVolunteer(node, node.core.modelFromCache(hash, node.cache.get(hash) ?? null)));
          break;
        }
        case 'check-model': {
          const { hash, bytes } = e;
          local(2, () => this.applyVolunteer(node, node.core.modelChecked(hash, bytes, fakeModelHash(bytes) === hash)));
          break;
        }
        case 'cache-model':
          node.cache.set(e.hash, e.bytes);
          break;
        case 'run': {
          const { leaseId, model, inputs } = e;
          const [lo, hi] = node.spec.inferMs ?? [20, 200];
          const ms = lo + this.rng.next() * (hi - lo);
          const backend = node.spec.backend;
          local(ms, () => {
            const outputs = fakeInfer(model, inputs, backend, node.spec.behaviour ?? 'honest');
            this.applyVolunteer(node, node.core.inferenceDone(leaseId, outputs, backend, ms));
          });
          break;
        }
        case 'wake-at':
          this.queue.at(e.atMs, () => {
            if (!node.closed) this.applyVolunteer(node, node.core.wake(this.now));
          });
          break;
        case 'progress-at':
          this.queue.at(e.atMs, () => {
            if (!node.closed) this.applyVolunteer(node, node.core.progressDue(this.now));
          });
          break;
        case 'log':
          if (e.level !== 'info') this.log.push(`${this.now.toFixed(0)} ${node.id} ${e.level}: ${e.text}`);
          break;
        case 'status-changed':
          break;
      }
    }
  }
}
