/**
 * The attacker's fuzzer: seeded random and mutated inputs at every layer a hostile peer reaches,
 * while an honest job runs beside them in the seeded simulation (src/core/testing/simHarness.ts).
 *
 * - chunks: raw chunks (valid ones cut from real frames, then mutated, dropped, repeated; or
 *   forged headers; or not binary at all) into the receiving half of connections (InboundLink:
 *   the per-peer budgets, the Reassembler, the frame codec), on the coordinator's side for every
 *   role and before hello, and on a volunteer's side; whole frames that come out go on into the
 *   parsers and the cores.
 * - codec: mutated encodings (bytes flipped, cut, spliced; parts added or lost) into decodeFrame.
 * - parse: mutated and random values (getters that throw included) into both parsers.
 * - coordinator: mutations of valid frames of every type from strangers in every state (before
 *   hello, greeted as each role, holding leases the coordinator really gave them) into the
 *   simulation's coordinator core, beside its honest volunteers and requester.
 * - volunteer: mutations of valid coordinator frames (and of frames the coordinator really sent)
 *   into volunteer cores in every state (before welcome, welcomed, fetching a model, running).
 *
 * A crash is an exception escaping a layer (for decodeFrame: any but its FrameCodecError), or a
 * budget overrun (more bytes held in reassembly than the peer's budgets allow). At the end the
 * honest job must finish with every shard verified and correct. Pure apart from `heapBytes`, the
 * caller's probe of the process's memory: the same seed replays the same run.
 */
import { seededRng, type Rng } from '../../src/core/rng.ts';
import { f32 } from '../../src/core/testing/fixtures.ts';
import { Simulation, fakeModelHash, makeFakeModel } from '../../src/core/testing/simHarness.ts';
import { allclose } from '../../src/core/verification/compare.ts';
import { VolunteerCore, type VolunteerEffect } from '../../src/core/volunteer/volunteer.ts';
import { asPeerId, type JobId, type LeaseId, type PeerId } from '../../src/protocol/ids.ts';
import { LIMITS } from '../../src/protocol/limits.ts';
import { PROTOCOL_VERSION, type FromCoordinator, type JobSpec } from '../../src/protocol/messages.ts';
import { parseFromCoordinator, parseToCoordinator } from '../../src/protocol/parse.ts';
import { DEFAULT_POLICY } from '../../src/protocol/policy.ts';
import { float32View } from '../../src/protocol/tensor.ts';
import { caps } from '../../src/core/testing/fixtures.ts';
import { ByteBudget, CHUNK_HEADER_BYTES, CHUNK_FORMAT_VERSION, ChunkQueue, type ReassemblyLimits } from '../../src/transport/chunker.ts';
import { DEFAULT_DATA_PLANE } from '../../src/transport/dataPlane.ts';
import { FrameCodecError, decodeFrame, encodeFrame } from '../../src/transport/frameCodec.ts';
import { InboundLink } from '../../src/transport/inboundLink.ts';
import { fromCoordinatorFrame, helloAs, toCoordinatorFrame, volunteerFrame, type FuzzContext } from './corpus.ts';
import { chance, int, mutateBytes, mutateValue, pick, randomBytes, randomValue } from './mutate.ts';

export const FUZZ_LAYERS = ['chunks', 'codec', 'parse', 'coordinator', 'volunteer'] as const;
export type FuzzLayer = (typeof FUZZ_LAYERS)[number];

export interface FuzzOptions {
  readonly frames: number;
  readonly seed: number;
  /** The process's memory in use (V8 heap), sampled now and then; absent in pure runs. */
  readonly heapBytes?: () => number;
  /** Keep each crash's stack in its sample (for finding where a failing seed throws). */
  readonly stacks?: boolean;
}

export interface FuzzCrash {
  readonly layer: FuzzLayer;
  /** The fuzz input's number (0-based): replay with the same seed and as many frames. */
  readonly frame: number;
  readonly error: string;
}

export interface FuzzSummary {
  readonly seed: number;
  readonly frames: number;
  readonly crashes: number;
  readonly maxHeapMB: number;
  readonly honestJobCompleted: boolean;
  /** Why the honest job did not complete correctly, when it did not. */
  readonly honestJobProblem: string | null;
  readonly byLayer: Readonly<Record<FuzzLayer, number>>;
  /** Frames that got through their parser into a core. */
  readonly parsedIntoCores: number;
  /** Leases the coordinator gave the strangers: how deep their results could reach. */
  readonly leasesToStrangers: number;
  /** Peers dropped by the transport's budgets (a verdict, not a crash). */
  readonly peersDropped: number;
  /** The most bytes the coordinator's side held in reassembly at once, all connections together. */
  readonly maxReassemblyMB: number;
  /** The first crashes, with the frame that caused each. */
  readonly crashSamples: readonly FuzzCrash[];
}

const MiB = 1024 * 1024;
const STRANGERS = 6;
const ITEMS = 24;
const SHARD_SIZE = 4;
const WIDTH = 3;
const K = 4;
const SAMPLE_CRASHES = 20;
/** Ids a hostile peer remembers (leases, jobs): enough to hit live ones, bounded. */
const REMEMBER = 64;

const describe = (e: unknown, stacks = false): string =>
  e instanceof Error ? `${e.name}: ${e.message}`.slice(0, 300) + (stacks ? `\n${e.stack ?? ''}` : '') : String(e).slice(0, 300);

function remember(list: string[], id: string): void {
  if (list.includes(id)) return;
  list.push(id);
  if (list.length > REMEMBER) list.shift();
}

/** The honest requester's job: rows of noise through the simulation's fake model (k = K). */
function honestSpec(rng: Rng): JobSpec {
  const xs = Array.from({ length: ITEMS * WIDTH }, () => rng.next() * 2 - 1);
  return {
    name: 'honest job',
    model: makeFakeModel(LIMITS.modelChunkBytes + 4096, K, rng),
    inputs: [f32('x', [ITEMS, WIDTH], xs)],
    shardSize: SHARD_SIZE,
    policy: DEFAULT_POLICY,
    requesterKey: '',
  };
}

/** A coordinator-side connection under attack, and the stranger its frames come from. */
interface CoordinatorLink {
  readonly role: 'pre-hello' | 'volunteer' | 'requester' | 'observer';
  readonly peer: PeerId;
  link: InboundLink;
  /** What its reassembly may hold (for the budget check). */
  readonly limits: ReassemblyLimits;
}

/** A volunteer core under attack, driven as its host would. */
interface FuzzVolunteer {
  core: VolunteerCore;
  /** Runs the core asked for, finished (or failed) on a later op. */
  readonly runs: LeaseId[];
}

export function runFuzz(options: FuzzOptions): FuzzSummary {
  const { seed } = options;
  const rng = seededRng(seed);
  const byLayer: Record<FuzzLayer, number> = { chunks: 0, codec: 0, parse: 0, coordinator: 0, volunteer: 0 };
  const crashSamples: FuzzCrash[] = [];
  let crashes = 0;
  let parsedIntoCores = 0;
  let peersDropped = 0;
  let leasesToStrangers = 0;
  let maxHeap = options.heapBytes?.() ?? 0;
  let maxReassembly = 0;
  let frame = 0;
  const crash = (layer: FuzzLayer, error: unknown): void => {
    crashes++;
    if (crashSamples.length < SAMPLE_CRASHES) crashSamples.push({ layer, frame, error: describe(error, options.stacks) });
  };

  // The honest network: four volunteers on two backends and a requester, every frame parsed.
  const sim = new Simulation({
    seed,
    volunteers: Array.from({ length: 4 }, (_, i) => ({ id: `honest${i}`, backend: i % 2 === 0 ? 'webgpu' : 'wasm', joinAtMs: i * 10 })),
    config: { leaseTimeoutMs: 5_000, noWorkRetryMs: 200 },
  });
  const spec = honestSpec(seededRng(seed ^ 0xabcdef));
  sim.submit(spec);

  // What the strangers learn from the frames the coordinator sends them.
  const known = { leaseIds: [] as string[], jobIds: [] as string[], modelHashes: [] as string[] };
  const captured: FromCoordinator[] = [];
  sim.onStrangerFrame = (_to, msg) => {
    if (msg.t === 'lease') {
      leasesToStrangers++;
      remember(known.leaseIds, msg.leaseId);
      remember(known.jobIds, msg.jobId);
      remember(known.modelHashes, msg.modelHash);
    } else if (msg.t === 'job-accepted') remember(known.jobIds, msg.jobId);
    if (captured.length < 200) captured.push(msg);
    else if (chance(rng, 0.05)) captured[int(rng, 0, captured.length - 1)] = msg;
  };
  // A stranger that comes back does so under a fresh id, as a refused or renewed tab would: its
  // old id is not its to claim again without the token ([I-1]).
  const strangers = Array.from({ length: STRANGERS }, (_, i) => asPeerId(`fz${i}`));
  let generation = 0;
  const ctx: FuzzContext = known;

  // The transport's receiving side on the coordinator, one connection per role, sharing the
  // endpoint's budget as the real endpoints do.
  const plane = DEFAULT_DATA_PLANE;
  const budgets = plane.budgets;
  const shared = new ByteBudget(plane.maxBufferedBytesAllPeers);
  let linkNow = 0;
  const openLink = (role: CoordinatorLink['role']): InboundLink => {
    const link = new InboundLink(budgets, plane.limits, shared, false, linkNow);
    if (role !== 'pre-hello') link.greet(role);
    return link;
  };
  /** [B-3] [B-9] What each role's connection may hold, as the budgets say. */
  const linkLimits = (role: CoordinatorLink['role']): ReassemblyLimits =>
    role === 'requester' ? plane.limits : role === 'pre-hello' ? budgets.preHello : budgets[role];
  const links: CoordinatorLink[] = (['pre-hello', 'volunteer', 'requester', 'observer'] as const).map((role) => ({
    role,
    peer: asPeerId(`link-${role}`),
    link: openLink(role),
    limits: linkLimits(role),
  }));
  const helloOf = (role: CoordinatorLink['role']): unknown =>
    role === 'volunteer'
      ? { v: PROTOCOL_VERSION, t: 'hello', role, caps: caps('wasm'), label: 'link' }
      : { v: PROTOCOL_VERSION, t: 'hello', role: role === 'pre-hello' ? 'observer' : role, caps: null, label: 'link' };
  const connectLinkPeer = (l: CoordinatorLink): void => {
    sim.connectStranger(l.peer);
    if (l.role !== 'pre-hello') sim.inject(l.peer, helloOf(l.role));
  };
  for (const l of links) connectLinkPeer(l);
  // A volunteer's side: the connection it opened to its coordinator (full limits, own budget).
  const volunteerShared = new ByteBudget(plane.maxBufferedBytesAllPeers);
  let volunteerLink = new InboundLink(budgets, plane.limits, volunteerShared, true, linkNow);

  // Volunteer cores in every state, and the model their leases name.
  const fuzzModel = makeFakeModel(3000, 2, seededRng(seed ^ 0x1234));
  const fuzzHash = fakeModelHash(fuzzModel);
  const volunteerCtx = { ...known, model: fuzzModel, modelHash: fuzzHash };
  let volNow = 0;
  const fresh = (): FuzzVolunteer => ({ core: new VolunteerCore(caps(chance(rng, 0.5) ? 'wasm' : 'webgpu'), 'fuzz'), runs: [] });
  const volunteers: FuzzVolunteer[] = [fresh(), fresh(), fresh()];
  /** Carries out a volunteer core's effects as a host would, the model's hash and runs included. */
  const apply = (vol: FuzzVolunteer, effects: readonly VolunteerEffect[], depth = 0): void => {
    if (depth > 4) return;
    for (const e of effects) {
      if (e.kind === 'load-cached-model') apply(vol, vol.core.modelFromCache(e.hash, chance(rng, 0.5) && e.hash === fuzzHash ? fuzzModel : null), depth + 1);
      else if (e.kind === 'check-model') apply(vol, vol.core.modelChecked(e.hash, e.bytes, fakeModelHash(e.bytes) === e.hash), depth + 1);
      else if (e.kind === 'run') vol.runs.push(e.leaseId);
    }
  };
  const driveToState = (vol: FuzzVolunteer): void => {
    // Before hello, welcomed, or welcomed and holding a lease (whose model it may then fetch).
    const target = int(rng, 0, 3);
    if (target === 0) return;
    apply(vol, vol.core.connected(volNow));
    if (target === 1) return;
    apply(vol, vol.core.receive({ v: PROTOCOL_VERSION, t: 'welcome', networkId: 'fuzz', you: asPeerId('vf') }, volNow));
    if (target === 2) return;
    const lease = fromCoordinatorFrame(rng, volunteerCtx);
    if (lease.t === 'lease') apply(vol, vol.core.receive(lease, volNow));
  };
  for (const v of volunteers) driveToState(v);

  const feedVolunteer = (vol: FuzzVolunteer, raw: unknown): void => {
    const parsed = parseFromCoordinator(raw);
    if (parsed.ok) {
      parsedIntoCores++;
      apply(vol, vol.core.receive(parsed.msg, volNow));
    } else apply(vol, vol.core.protocolError(parsed.error, volNow));
  };

  // --- one input per layer -------------------------------------------------------------------

  /** A valid frame of either direction, or a mutation of one. */
  const someFrame = (toCoordinator: boolean, mutate: number): unknown => {
    const base: unknown = toCoordinator
      ? toCoordinatorFrame(rng, ctx)
      : chance(rng, 0.3) && captured.length > 0
        ? pick(rng, captured)
        : fromCoordinatorFrame(rng, volunteerCtx);
    return chance(rng, mutate) ? mutateValue(rng, base) : base;
  };

  /** Encodes a frame; a frame the encoder refuses (a mutation can make one) gives random bytes. */
  const encodeSome = (value: unknown): Uint8Array[] => {
    try {
      return encodeFrame(value);
    } catch (e) {
      if (!(e instanceof FrameCodecError)) throw e;
      return [randomBytes(rng, int(rng, 1, 200))];
    }
  };

  const forgedChunk = (): Uint8Array<ArrayBuffer> => {
    const payload = randomBytes(rng, int(rng, 0, 300));
    const chunk = new Uint8Array(CHUNK_HEADER_BYTES + payload.length);
    const view = new DataView(chunk.buffer);
    view.setUint8(0, chance(rng, 0.95) ? CHUNK_FORMAT_VERSION : int(rng, 0, 255));
    view.setUint8(1, chance(rng, 0.95) ? 0 : int(rng, 1, 255));
    view.setUint16(2, chance(rng, 0.8) ? 0 : int(rng, 0, 0xffff), true);
    view.setUint32(4, int(rng, 0, 7), true);
    view.setUint32(8, chance(rng, 0.6) ? 0 : int(rng, 0, 3), true);
    // Declared sizes from tiny to past every limit: budgets must hold before anything is allocated.
    const total = pick(rng, [payload.length, payload.length + 1, 1 * MiB, 64 * MiB, 256 * MiB, LIMITS.maxFrameBytes, 0xffffffff]);
    view.setUint32(12, pick(rng, [1, 2, 1000, 0xffffffff, 0]), true);
    view.setUint32(16, total, true);
    view.setUint32(20, pick(rng, [payload.length, total, 0, 1, 0xffffffff]), true);
    chunk.set(payload, CHUNK_HEADER_BYTES);
    return chunk;
  };

  /** Chunks of one frame as a sender would cut them, then damaged: a header field, a byte, order. */
  const chunksOf = (parts: Uint8Array[]): unknown[] => {
    const q = new ChunkQueue(pick(rng, [CHUNK_HEADER_BYTES + 1, 64, 512, 4096, 64 * 1024]), 1);
    q.enqueue(parts);
    const out: unknown[] = [];
    for (let c = q.next(); c !== null && out.length < 400; c = q.next()) out.push(c);
    if (chance(rng, 0.5) && out.length > 0) {
      const at = int(rng, 0, out.length - 1);
      switch (int(rng, 0, 5)) {
        case 0:
          out[at] = mutateBytes(rng, out[at] as Uint8Array);
          break;
        case 1:
          out.splice(at, 1);
          break;
        case 2:
          out.splice(at, 0, out[at]);
          break;
        case 3:
          out.reverse();
          break;
        case 4: {
          const c = (out[at] as Uint8Array).slice();
          new DataView(c.buffer).setUint32(pick(rng, [4, 8, 12, 16, 20]), pick(rng, [0, 1, 0xffffffff, int(rng, 0, 1 << 20)]), true);
          out[at] = c;
          break;
        }
        default:
          out.push(pick(rng, ['a string', 42, null, { bytes: 1 }, new ArrayBuffer(3)]));
      }
    }
    return out;
  };

  const checkBudgets = (l: { link: InboundLink; limits: ReassemblyLimits } | null, budget: ByteBudget): void => {
    if (l && (l.link.bufferedBytes > l.limits.maxBufferedBytes || l.link.partialMessages > l.limits.maxPartialMessages)) {
      throw new Error(`reassembly holds ${l.link.bufferedBytes} bytes in ${l.link.partialMessages} messages, over its limits`);
    }
    if (budget.usedBytes > budget.maxBytes) throw new Error(`shared reassembly budget holds ${budget.usedBytes} of ${budget.maxBytes} bytes`);
  };

  const fuzzChunks = (): void => {
    linkNow += int(rng, 0, 40);
    const toCoordinator = chance(rng, 0.8);
    const raws: unknown[] = chance(rng, 0.25) ? [forgedChunk()] : chunksOf(encodeSome(someFrame(toCoordinator, 0.4)));
    if (toCoordinator) {
      const l = pick(rng, links);
      for (const raw of raws) {
        const r = l.link.receive(raw, linkNow);
        checkBudgets(l, shared);
        maxReassembly = Math.max(maxReassembly, shared.usedBytes);
        if (r.kind === 'frame') {
          if (sim.inject(l.peer, r.frame)) parsedIntoCores++;
        } else if (r.kind === 'drop') {
          // The transport closes the connection; the peer comes back on a fresh one.
          peersDropped++;
          l.link.clear();
          sim.disconnectStranger(l.peer);
          l.link = openLink(l.role);
          connectLinkPeer(l);
          break;
        }
      }
      if (chance(rng, 0.05)) {
        for (const x of links) {
          const v = x.link.sweep(linkNow);
          if (v.drop !== null) {
            peersDropped++;
            x.link.clear();
            x.link = openLink(x.role);
          }
        }
        checkBudgets(null, shared);
      }
    } else {
      const vol = pick(rng, volunteers);
      for (const raw of raws) {
        const r = volunteerLink.receive(raw, linkNow);
        checkBudgets({ link: volunteerLink, limits: plane.limits }, volunteerShared);
        if (r.kind === 'frame') feedVolunteer(vol, r.frame);
        else if (r.kind === 'drop') {
          peersDropped++;
          volunteerLink.clear();
          volunteerLink = new InboundLink(budgets, plane.limits, volunteerShared, true, linkNow);
          break;
        }
      }
    }
  };

  const fuzzCodec = (): void => {
    const parts = encodeSome(someFrame(chance(rng, 0.5), 0.5));
    switch (int(rng, 0, 4)) {
      case 0:
      case 1: {
        const at = int(rng, 0, parts.length - 1);
        parts[at] = mutateBytes(rng, parts[at] as Uint8Array);
        break;
      }
      case 2:
        parts.push(randomBytes(rng, int(rng, 0, 70_000)));
        break;
      case 3:
        if (parts.length > 1) parts.pop();
        else parts[0] = randomBytes(rng, int(rng, 0, 100));
        break;
      default:
        parts.reverse();
    }
    let value: unknown;
    try {
      value = decodeFrame(parts);
    } catch (e) {
      if (e instanceof FrameCodecError) return;
      throw e;
    }
    parseToCoordinator(value);
    parseFromCoordinator(value);
  };

  const fuzzParse = (): void => {
    let value: unknown;
    switch (int(rng, 0, 3)) {
      case 0:
        value = randomValue(rng);
        break;
      case 1: {
        // A frame whose property throws when read, as a hostile object inside one tab could be.
        const made = someFrame(chance(rng, 0.5), 0.3);
        const base = typeof made === 'object' && made !== null ? (made as Record<string, unknown>) : {};
        const key = pick(rng, [...Object.keys(base), 'v', 't', 'spec']);
        value = Object.defineProperty({ ...base }, key, {
          get() {
            throw new Error('hostile getter');
          },
          enumerable: true,
        });
        break;
      }
      default:
        value = someFrame(chance(rng, 0.5), 0.9);
    }
    for (const r of [parseToCoordinator(value), parseFromCoordinator(value)]) {
      if (!r.ok && typeof r.error.reason !== 'string') throw new Error('a refusal without a reason');
    }
  };

  /** The role each stranger plays on its current connection ('none': it never says hello). */
  const persona = new Map<PeerId, 'volunteer' | 'requester' | 'observer' | 'none'>();
  const fuzzCoordinator = (): void => {
    const slot = int(rng, 0, strangers.length - 1);
    let peer = strangers[slot] as PeerId;
    if (!sim.isStrangerConnected(peer)) {
      persona.delete(peer);
      peer = asPeerId(`fz${slot}-${++generation}`);
      strangers[slot] = peer;
      sim.connectStranger(peer);
      const role = pick(rng, ['volunteer', 'volunteer', 'volunteer', 'requester', 'requester', 'observer', 'none'] as const);
      persona.set(peer, role);
      if (role !== 'none') sim.inject(peer, helloAs(rng, role));
    }
    if (chance(rng, 0.02)) {
      sim.disconnectStranger(peer);
      return;
    }
    const base = (): unknown => {
      const role = persona.get(peer);
      if (role === 'volunteer' && chance(rng, 0.7)) return volunteerFrame(rng, ctx);
      return toCoordinatorFrame(rng, ctx);
    };
    let raw: unknown;
    if (chance(rng, 0.05)) {
      raw = randomValue(rng);
    } else if (chance(rng, 0.1)) {
      // Through the codec, as the wire would carry it.
      const parts = encodeSome(chance(rng, 0.5) ? mutateValue(rng, base()) : base());
      parts[0] = chance(rng, 0.5) ? mutateBytes(rng, parts[0] as Uint8Array) : (parts[0] as Uint8Array);
      try {
        raw = decodeFrame(parts);
      } catch (e) {
        if (!(e instanceof FrameCodecError)) throw e;
        return;
      }
    } else raw = chance(rng, 0.5) ? mutateValue(rng, base()) : base();
    if (sim.inject(peer, raw)) parsedIntoCores++;
  };

  const fuzzVolunteer = (): void => {
    volNow += int(rng, 0, 3_000);
    const i = int(rng, 0, volunteers.length - 1);
    const vol = volunteers[i] as FuzzVolunteer;
    switch (int(rng, 0, 12)) {
      case 0:
        apply(vol, vol.core.disconnected(volNow));
        return;
      case 1:
        apply(vol, vol.core.connected(volNow));
        return;
      case 2: {
        const leaseId = vol.runs.shift();
        if (leaseId === undefined) break;
        if (chance(rng, 0.8)) apply(vol, vol.core.inferenceDone(leaseId, [f32('y', [1, 2], [1, 2])], 'wasm', int(rng, 0, 500), volNow));
        else apply(vol, vol.core.inferenceFailed(leaseId, 'fuzz'));
        return;
      }
      case 3:
        apply(vol, chance(rng, 0.5) ? vol.core.wake(volNow) : vol.core.progressDue(volNow));
        return;
      case 4:
        if (chance(rng, 0.2)) {
          // A fresh tab, driven to one state or another.
          volunteers[i] = fresh();
          driveToState(volunteers[i] as FuzzVolunteer);
          return;
        }
        apply(vol, vol.core.setPaused(chance(rng, 0.5), 'fuzz', volNow));
        return;
      default:
        break;
    }
    feedVolunteer(vol, chance(rng, 0.1) ? randomValue(rng) : someFrame(false, 0.6));
  };

  const run: Record<FuzzLayer, () => void> = {
    chunks: fuzzChunks,
    codec: fuzzCodec,
    parse: fuzzParse,
    coordinator: fuzzCoordinator,
    volunteer: fuzzVolunteer,
  };
  const weights: readonly [FuzzLayer, number][] = [
    ['chunks', 0.25],
    ['codec', 0.15],
    ['parse', 0.15],
    ['coordinator', 0.3],
    ['volunteer', 0.15],
  ];
  const layerOf = (x: number): FuzzLayer => {
    for (const [layer, w] of weights) {
      if (x < w) return layer;
      x -= w;
    }
    return 'coordinator';
  };

  for (frame = 0; frame < options.frames; frame++) {
    const layer = layerOf(rng.next());
    byLayer[layer]++;
    try {
      run[layer]();
    } catch (e) {
      crash(layer, e);
    }
    // The honest network goes on beside the attack.
    try {
      for (let s = 0; s < 2; s++) sim.queue.step();
    } catch (e) {
      crash('coordinator', e);
    }
    if (frame % 256 === 0) {
      if (sim.log.length > 1_000) sim.log.splice(0, sim.log.length - 200);
      if (options.heapBytes) maxHeap = Math.max(maxHeap, options.heapBytes());
    }
  }

  const honestJobProblem = finishHonestJob(sim, spec, (e) => crash('coordinator', e));
  if (options.heapBytes) maxHeap = Math.max(maxHeap, options.heapBytes());
  return {
    seed,
    frames: options.frames,
    crashes,
    maxHeapMB: Math.round((maxHeap / MiB) * 10) / 10,
    honestJobCompleted: honestJobProblem === null,
    honestJobProblem,
    byLayer,
    parsedIntoCores,
    leasesToStrangers,
    peersDropped,
    maxReassemblyMB: Math.round((maxReassembly / MiB) * 10) / 10,
    crashSamples,
  };
}

/** What the fake model computes for row r: (j + 1) · Σ x[r]. */
function expectedRows(spec: JobSpec, start: number, count: number): Float32Array {
  const x = float32View(spec.inputs[0] as never);
  const out = new Float32Array(count * K);
  for (let r = 0; r < count; r++) {
    let sum = 0;
    for (let c = 0; c < WIDTH; c++) sum += x[(start + r) * WIDTH + c] as number;
    for (let j = 0; j < K; j++) out[r * K + j] = (j + 1) * sum;
  }
  return out;
}

/**
 * Runs the simulation until the honest job is done and its results are back (the strangers stay
 * connected, holding whatever they hold), then checks every shard: null when all is right.
 */
function finishHonestJob(sim: Simulation, spec: JobSpec, onCrash: (e: unknown) => void): string | null {
  const limit = sim.now + 30 * 60_000;
  try {
    if (!sim.run(() => sim.received('job-accepted') !== undefined, limit)) return 'the honest job was never accepted';
    const jobId = (sim.received('job-accepted') as { jobId: JobId }).jobId;
    if (!sim.run(() => sim.coordinator.jobStatus(sim.coordinator.job(jobId) as never).done, limit)) {
      return `the honest job did not finish: ${JSON.stringify(sim.coordinator.jobStatus(sim.coordinator.job(jobId) as never))}`;
    }
    sim.requestResults(jobId);
    if (!sim.run(() => sim.requesterInbox.some((m) => m.t === 'job-results' && m.jobId === jobId), limit)) return 'the honest results never came back';
    if (sim.protocolErrors.length > 0) return `honest traffic was refused: ${sim.protocolErrors[0] ?? ''}`;
    const results = sim.requesterInbox.find((m) => m.t === 'job-results' && m.jobId === jobId);
    if (results?.t !== 'job-results') return 'no results';
    const shards = Math.ceil(ITEMS / SHARD_SIZE);
    if (results.shards.length !== shards) return `${results.shards.length} shards verified of ${shards}`;
    for (const s of results.shards) {
      const y = s.outputs.find((t) => t.name === 'y');
      if (!y || y.dims[0] !== s.count || y.dims[1] !== K) return `shard ${s.index}: no output "y" of [${s.count}, ${K}]`;
      const agreement = allclose(new Float32Array(y.data), expectedRows(spec, s.start, s.count), 1e-4, 1e-3);
      if (agreement.reason !== '') return `shard ${s.index} was accepted wrong: ${agreement.reason}`;
      if (s.volunteers.some((v) => !v.startsWith('honest'))) return `shard ${s.index} was accepted on a stranger's word: ${s.volunteers.join(', ')}`;
    }
    return null;
  } catch (e) {
    onCrash(e);
    return `the simulation threw: ${describe(e)}`;
  }
}
