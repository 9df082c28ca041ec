/**
 * The adversarial simulation: one `CoordinatorCore` — the same core the coordinator tab runs —
 * and N simulated volunteers (honest ones on different backends, and liars of every kind) working
 * through one job of S shards on a virtual clock. It drives the core directly, frame objects in
 * and effects out, without the serializing harness (testing/simHarness.ts does the wire-level
 * checks on small networks), so 100,000 shards take seconds.
 *
 * Pure and seeded ([D-1]): the same config gives the same report. Wall-clock figures are the
 * caller's business (scripts/sim.ts); `clock`, if given, is only read to time the core's calls.
 */
import type { Backend } from '../../protocol/capabilities.ts';
import { asPeerId, type JobId, type LeaseId, type PeerId } from '../../protocol/ids.ts';
import { PROTOCOL_VERSION, type FromCoordinator, type JobSpec, type ToCoordinator } from '../../protocol/messages.ts';
import { DEFAULT_COMPARATOR, type Comparator, type VerificationPolicy } from '../../protocol/policy.ts';
import { float32View, type WireTensor } from '../../protocol/tensor.ts';
import { CoordinatorCore } from '../coordinator/coordinator.ts';
import type { CoordinatorEffect } from '../coordinator/effects.ts';
import { DEFAULT_COORDINATOR_CONFIG, type CoordinatorConfig } from '../coordinator/state.ts';
import type { TrustConfig } from '../reputation/reputation.ts';
import { seededRng, type Rng } from '../rng.ts';
import { testOnlySecrets } from '../secrets.ts';
import { caps } from '../testing/fixtures.ts';
import { compareOutputs } from '../verification/compare.ts';
import { EventHeap } from './eventHeap.ts';
import { assign } from './mix.ts';
import {
  LYING_KINDS,
  SIM_CLASSES,
  SIM_FEATURES,
  SIM_OUTPUT,
  SLEEPER_HONEST_RESULTS,
  SimModel,
  VOLUNTEER_KINDS,
  noiseTable,
  type VolunteerKind,
} from './model.ts';

export interface SimConfig {
  readonly volunteers: number;
  readonly shards: number;
  readonly seed: number;
  /** Policy: minimum replicas, quorum, maximum replicas, comparator, adaptive replication. */
  readonly replication: number;
  readonly quorum: number;
  readonly maxReplicas: number;
  readonly adaptive: boolean;
  /** Left out: the policy defaults (protocol/policy.ts). */
  readonly canaryRate?: number;
  readonly spotCheckRate?: number;
  readonly comparator: Comparator;
  /** Items per shard. */
  readonly shardSize: number;
  readonly backends: ReadonlyMap<Backend, number>;
  readonly mix: ReadonlyMap<VolunteerKind, number>;
  /** Volunteers join at uniformly random times in [0, joinSpreadMs). */
  readonly joinSpreadMs: number;
  /** Mean compute time per shard; each volunteer runs at its own speed (0.5×–2×). */
  readonly inferMs: number;
  /** One-way delay of every frame. */
  readonly linkMs: number;
  /** A flaky volunteer vanishes (silently, holding its lease) with this chance per lease. */
  readonly flakyVanishRate: number;
  /** Give up at this virtual time. */
  readonly limitMs: number;
  /** After every job is done, wait at most this long for pending audits of suspects. */
  readonly auditGraceMs: number;
  readonly coordinator?: Partial<Omit<CoordinatorConfig, 'networkId'>>;
  readonly trust?: Partial<TrustConfig>;
}

export const DEFAULT_SIM_CONFIG: SimConfig = {
  volunteers: 100,
  shards: 2_000,
  seed: 1,
  replication: 2,
  quorum: 2,
  maxReplicas: 4,
  adaptive: true,
  comparator: DEFAULT_COMPARATOR,
  shardSize: 1,
  backends: new Map<Backend, number>([
    ['webgpu', 0.5],
    ['wasm', 0.5],
  ]),
  mix: new Map<VolunteerKind, number>([['honest', 1]]),
  joinSpreadMs: 2_000,
  inferMs: 100,
  linkMs: 2,
  flakyVanishRate: 0.1,
  limitMs: 24 * 3600_000,
  auditGraceMs: 120_000,
};

export interface SimKindStats {
  readonly kind: VolunteerKind;
  readonly volunteers: number;
  /** Volunteers of this kind that returned at least one wrong result. */
  readonly lied: number;
  readonly quarantined: number;
  /** Results they computed and sent. */
  readonly results: number;
  /**
   * Of those, results the core judged invalid ([A-1]: outvoted, failed canaries, late
   * contradictions): the lies it saw through, as against lies still waiting for a comparison.
   */
  readonly invalid: number;
}

export interface SimReport {
  readonly seed: number;
  readonly volunteers: number;
  readonly shards: number;
  readonly acceptedCorrect: number;
  readonly acceptedWrong: number;
  readonly unverifiable: number;
  /** Shards still undecided when the run ended (0 unless it hit its limit). */
  readonly open: number;
  /** Results computed per accepted shard, canaries and re-checks included. */
  readonly copiesPerShard: number;
  readonly honestQuarantined: number;
  /** Volunteers of a lying kind (random, perturb, zero, collude, sleeper). */
  readonly adversaries: number;
  readonly adversariesQuarantined: number;
  /** Adversaries that actually returned a wrong result (a sleeper may never wake up). */
  readonly adversariesThatLied: number;
  /** Result frames the core processed (including late ones and those of liars). */
  readonly resultsProcessed: number;
  readonly canaryResults: number;
  readonly spotChecks: number;
  readonly loneAccepted: number;
  readonly reopened: number;
  /** Time the core's calls took, by `clock` (0 without one). */
  readonly coreMs: number;
  /** Time the event loop took (volunteers and core, not set-up and final check), by `clock`. */
  readonly loopMs: number;
  /** CPU time of the event loop, by `cpuClock` (0 without one). */
  readonly loopCpuMs: number;
  readonly virtualMs: number;
  readonly events: number;
  /** Every job done, no lease out and no audit pending. */
  readonly finished: boolean;
  readonly byKind: readonly SimKindStats[];
}

const JOIN = 0;
const ASK = 1;
const DONE = 2;
const TICK = 3;
const PING = 4;
const PERSIST = 5;

const TICK_MS = 1_000;
/**
 * Idle volunteers ping this often. The host's keep-alive (coordinatorLink.ts) pings every 3 s;
 * both are well inside `peerTimeoutMs` (12 s), so an idle simulated volunteer is never dropped.
 */
const PING_MS = 4_000;
/**
 * [S-1] The coordinator host writes the persist batch this soon after a lease change; the sim
 * asks the core for it on the same cadence, so its cost is in the measured throughput.
 */
const PERSIST_MS = 100;

interface Vol {
  readonly id: PeerId;
  readonly kind: VolunteerKind;
  readonly backend: Backend;
  readonly rng: Rng;
  /** Its own honest float drift on WebGPU. */
  readonly noise: Float64Array;
  readonly speed: number;
  gone: boolean;
  /** The lease being computed. */
  lease: Extract<FromCoordinator, { t: 'lease' }> | null;
  results: number;
  lied: boolean;
  /** Virtual time of the next lease-request; pings keep it alive until then. */
  nextAskAt: number;
}

/** Optional instruments; none of them changes the run. */
export interface SimProbes {
  /** A wall clock in ms: times the event loop and every call into the core. */
  readonly clock?: () => number;
  /** A CPU clock in ms (this process's CPU time): read at the start and end of the loop only. */
  readonly cpuClock?: () => number;
  /** Sees the core at the end, before the report is made (tests check invariants with it). */
  readonly inspect?: (core: CoordinatorCore, jobId: JobId) => void;
}

export function runSim(config: SimConfig, probes: SimProbes = {}): SimReport {
  const { clock, cpuClock, inspect } = probes;
  const c = config;
  const rng = seededRng(c.seed);
  const model = new SimModel(c.seed ^ 0x51f15eed, c.comparator);
  const core = new CoordinatorCore(
    { networkId: 'sim', ...DEFAULT_COORDINATOR_CONFIG, ...c.coordinator, ...(c.trust ? { trust: c.trust } : {}) },
    seededRng(c.seed + 1),
    testOnlySecrets(c.seed),
  );
  let coreMs = 0;
  let resultsProcessed = 0;
  const call = (f: () => CoordinatorEffect[]): CoordinatorEffect[] => {
    if (!clock) return f();
    const t0 = clock();
    const fx = f();
    coreMs += clock() - t0;
    return fx;
  };

  // The requester submits the job straight into the core.
  const requester = asPeerId('requester');
  const items = c.shards * c.shardSize;
  const input = model.inputs(items, c.seed);
  const policy: VerificationPolicy = {
    replication: c.replication,
    quorum: c.quorum,
    maxReplicas: c.maxReplicas,
    comparator: c.comparator,
    adaptive: c.adaptive,
    ...(c.canaryRate !== undefined ? { canaryRate: c.canaryRate } : {}),
    ...(c.spotCheckRate !== undefined ? { spotCheckRate: c.spotCheckRate } : {}),
  };
  const spec: JobSpec = { name: 'simulated job', model: new Uint8Array(64).buffer, inputs: [input], shardSize: c.shardSize, policy, requesterKey: '' };
  core.connect(requester, 0);
  core.handle(requester, { v: PROTOCOL_VERSION, t: 'hello', role: 'requester', caps: null, label: 'requester' }, 0);
  const submitted = core.handle(requester, { v: PROTOCOL_VERSION, t: 'submit-job', ref: 'sim', spec }, 0);
  const hashing = submitted.find((e) => e.kind === 'hash-model');
  if (!hashing || hashing.kind !== 'hash-model')
    throw new Error(`the simulated job was refused: ${JSON.stringify(submitted.filter((e) => e.kind === 'send'))}`);
  const admitted = core.admitJob(requester, 'sim', spec, 'f'.repeat(64) as never, 0);
  const accepted = admitted.find((e) => e.kind === 'send' && e.msg.t === 'job-accepted');
  if (!accepted || accepted.kind !== 'send' || accepted.msg.t !== 'job-accepted') throw new Error('the simulated job was not admitted');
  const jobId: JobId = accepted.msg.jobId;

  // The volunteers.
  const kinds = assign(c.mix, c.volunteers, rng);
  const backends = assign(c.backends, c.volunteers, rng);
  const vols: Vol[] = kinds.map((kind, i) => {
    const own = seededRng((c.seed * 7919) ^ (i * 104729 + 17));
    return {
      id: asPeerId(`v${i}`),
      kind,
      backend: backends[i] as Backend,
      rng: own,
      noise: noiseTable(own),
      speed: 0.5 + 1.5 * rng.next(),
      gone: false,
      lease: null,
      results: 0,
      lied: false,
      nextAskAt: 0,
    };
  });
  const byId = new Map<PeerId, number>(vols.map((v, i) => [v.id, i]));

  const events = new EventHeap();
  for (let i = 0; i < vols.length; i++) events.push(Math.floor(rng.next() * c.joinSpreadMs), JOIN, i);
  events.push(TICK_MS, TICK, -1);
  events.push(PERSIST_MS, PERSIST, -1);

  let now = 0;
  let eventCount = 0;
  let finished = false;
  let stop = false;
  let doneSince: number | null = null;

  // The hot call (every frame a volunteer sends), timed without a closure per frame.
  const send = (i: number, msg: ToCoordinator): CoordinatorEffect[] => {
    const v = vols[i] as Vol;
    if (!clock) return core.handle(v.id, msg, now);
    const t0 = clock();
    const fx = core.handle(v.id, msg, now);
    coreMs += clock() - t0;
    return fx;
  };

  /** Reads what the core sent volunteer i in answer to its frame; other effects are handled here. */
  const apply = (fx: readonly CoordinatorEffect[]): void => {
    for (const e of fx) {
      if (e.kind === 'send') {
        const i = byId.get(e.to);
        if (i === undefined) continue;
        receive(i, e.msg);
      } else if (e.kind === 'close') {
        const i = byId.get(e.peer);
        if (i === undefined) continue;
        const v = vols[i] as Vol;
        if (!v.gone) {
          v.gone = true;
          apply(call(() => core.disconnect(v.id, now)));
        }
      }
    }
  };

  const receive = (i: number, msg: FromCoordinator): void => {
    const v = vols[i] as Vol;
    if (v.gone) return;
    if (msg.t === 'lease') {
      if (v.kind === 'flaky' && v.rng.next() < c.flakyVanishRate) {
        v.gone = true; // vanishes with the lease in hand, without closing anything
        return;
      }
      v.lease = msg;
      const ms = c.inferMs * v.speed * (0.75 + 0.5 * v.rng.next());
      events.push(now + 2 * c.linkMs + ms, DONE, i);
    } else if (msg.t === 'no-work') {
      v.nextAskAt = now + c.linkMs + msg.retryInMs;
      events.push(v.nextAskAt, ASK, i);
      if (msg.retryInMs > PING_MS) events.push(now + PING_MS, PING, i);
    } else if (msg.t === 'result-ack') {
      // Ask for the next shard at once (the link delay is folded into the compute time).
      if (v.lease === null && now >= v.nextAskAt) apply(send(i, { v: PROTOCOL_VERSION, t: 'lease-request' }));
    }
  };

  const outputsFor = (v: Vol, lease: Extract<FromCoordinator, { t: 'lease' }>, x: Float32Array, rows: number): Float32Array => {
    const shardIndex = Number(lease.shardId.slice(jobId.length + 1));
    let kind = v.kind;
    if (kind === 'sleeper') kind = v.results < SLEEPER_HONEST_RESULTS ? 'honest' : 'collude';
    switch (kind) {
      case 'random':
        return model.random(rows, v.rng);
      case 'perturb':
        return model.perturb(x, shardIndex, v.backend, v.noise, v.rng);
      case 'zero':
        return new Float32Array(rows * SIM_CLASSES);
      case 'collude':
        return model.collude(x, shardIndex);
      default:
        return model.honest(x, shardIndex, v.backend, v.noise);
    }
  };

  const isLie = (x: Float32Array, y: Float32Array, rows: number): boolean => {
    const truth: WireTensor = { name: SIM_OUTPUT, dtype: 'float32', dims: [rows, SIM_CLASSES], data: model.truth(x).buffer as ArrayBuffer };
    const got: WireTensor = { name: SIM_OUTPUT, dtype: 'float32', dims: [rows, SIM_CLASSES], data: y.buffer as ArrayBuffer };
    return !compareOutputs([truth], [got], c.comparator).agree;
  };

  const isFinished = (): boolean => {
    const status = core.jobStatuses().find((j) => j.jobId === jobId);
    return status !== undefined && status.done && core.activeLeaseCount() === 0;
  };

  const loopStart = clock ? clock() : 0;
  const loopCpuStart = cpuClock ? cpuClock() : 0;
  for (let e = events.pop(); e !== undefined; e = events.pop()) {
    now = e.at;
    if (now > c.limitMs) break;
    eventCount++;
    const i = e.who;
    switch (e.kind) {
      case JOIN: {
        const v = vols[i] as Vol;
        apply(call(() => core.connect(v.id, now)));
        apply(send(i, { v: PROTOCOL_VERSION, t: 'hello', role: 'volunteer', caps: caps(v.backend), label: v.kind }));
        events.push(now + c.linkMs, ASK, i);
        break;
      }
      case ASK: {
        const v = vols[i] as Vol;
        if (v.gone || v.lease !== null || now < v.nextAskAt) break;
        apply(send(i, { v: PROTOCOL_VERSION, t: 'lease-request' }));
        break;
      }
      case PING: {
        const v = vols[i] as Vol;
        if (v.gone || now >= v.nextAskAt) break;
        apply(send(i, { v: PROTOCOL_VERSION, t: 'ping' }));
        if (v.nextAskAt - now > PING_MS) events.push(now + PING_MS, PING, i);
        break;
      }
      case DONE: {
        const v = vols[i] as Vol;
        const lease = v.lease;
        if (v.gone || lease === null) break;
        v.lease = null;
        const x = float32View(lease.inputs[0] as WireTensor);
        const rows = x.length / SIM_FEATURES;
        const y = outputsFor(v, lease, x, rows);
        if (!v.lied && v.kind !== 'honest' && v.kind !== 'flaky' && isLie(x, y, rows)) v.lied = true;
        v.results++;
        resultsProcessed++;
        const leaseId: LeaseId = lease.leaseId;
        apply(
          send(i, {
            v: PROTOCOL_VERSION,
            t: 'result',
            leaseId,
            outputs: [{ name: SIM_OUTPUT, dtype: 'float32', dims: [rows, SIM_CLASSES], data: y.buffer as ArrayBuffer }],
            backend: v.backend,
            inferMs: 1,
          }),
        );
        break;
      }
      case TICK: {
        apply(call(() => core.tick(now)));
        if (isFinished()) {
          // Done; but a suspect still connected may yet fail a canary and re-open shards.
          doneSince ??= now;
          if (core.pendingAudits() === 0) finished = true;
          stop = finished || now - doneSince >= c.auditGraceMs;
        } else {
          doneSince = null;
        }
        if (!stop) events.push(now + TICK_MS, TICK, -1);
        break;
      }
      case PERSIST: {
        if (core.hasUnsavedLeases()) apply(call(() => core.persist(now)));
        events.push(now + PERSIST_MS, PERSIST, -1);
        break;
      }
    }
    if (stop) break;
  }
  const loopMs = clock ? clock() - loopStart : 0;
  const loopCpuMs = cpuClock ? cpuClock() - loopCpuStart : 0;

  inspect?.(core, jobId);
  // The verdict: every accepted shard against the exact answer, under the job's comparator.
  let acceptedCorrect = 0;
  let acceptedWrong = 0;
  let unverifiable = 0;
  let open = 0;
  const x = float32View(input);
  for (const s of core.shardsOf(jobId)) {
    if (s.status === 'unverifiable') unverifiable++;
    else if (s.status === 'open') open++;
    else if (s.accepted) {
      const rows = x.subarray(s.start * SIM_FEATURES, (s.start + s.count) * SIM_FEATURES);
      const truth: WireTensor = { name: SIM_OUTPUT, dtype: 'float32', dims: [s.count, SIM_CLASSES], data: model.truth(rows).buffer as ArrayBuffer };
      if (compareOutputs([truth], s.accepted.outputs, c.comparator).agree) acceptedCorrect++;
      else acceptedWrong++;
    }
  }
  const byKind: SimKindStats[] = [];
  for (const kind of VOLUNTEER_KINDS) {
    const of = vols.filter((v) => v.kind === kind);
    if (of.length === 0) continue;
    byKind.push({
      kind,
      volunteers: of.length,
      lied: of.filter((v) => v.lied).length,
      quarantined: of.filter((v) => core.reputation.isQuarantined(v.id)).length,
      results: of.reduce((n, v) => n + v.results, 0),
      invalid: of.reduce((n, v) => n + (core.reputation.get(v.id)?.invalid ?? 0), 0),
    });
  }
  const liars = vols.filter((v) => LYING_KINDS.includes(v.kind));
  const totals = core.verificationTotals();
  const computed = vols.reduce((n, v) => n + v.results, 0);
  return {
    seed: c.seed,
    volunteers: c.volunteers,
    shards: c.shards,
    acceptedCorrect,
    acceptedWrong,
    unverifiable,
    open,
    copiesPerShard: acceptedCorrect + acceptedWrong > 0 ? computed / (acceptedCorrect + acceptedWrong) : 0,
    honestQuarantined: vols.filter((v) => (v.kind === 'honest' || v.kind === 'flaky') && core.reputation.isQuarantined(v.id)).length,
    adversaries: liars.length,
    adversariesQuarantined: liars.filter((v) => core.reputation.isQuarantined(v.id)).length,
    adversariesThatLied: liars.filter((v) => v.lied).length,
    resultsProcessed,
    canaryResults: totals.canaryResults,
    spotChecks: totals.spotChecks,
    loneAccepted: totals.loneAccepted,
    reopened: totals.reopened,
    coreMs,
    loopMs,
    loopCpuMs,
    virtualMs: now,
    events: eventCount,
    finished,
    byKind,
  };
}
