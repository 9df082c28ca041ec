import { describe, it, expect } from 'vitest';
import { asJobId, asLeaseId, type LeaseId, type ModelHash } from '../../protocol/ids.ts';
import { LIMITS } from '../../protocol/limits.ts';
import type { FromCoordinator, ToCoordinator } from '../../protocol/messages.ts';
import { parseToCoordinator } from '../../protocol/parse.ts';
import { shardIdOf } from '../../protocol/ids.ts';
import { HASH_A, HASH_B, V, caps, countingBytes, f32 } from '../testing/fixtures.ts';
import { VolunteerCore, type LeaseMsg, type VolunteerEffect } from './volunteer.ts';

const MODEL = countingBytes(LIMITS.modelChunkBytes + 100); // two chunks
const INPUTS = [f32('x', [2, 2], [1, 2, 3, 4])];
const OUTPUTS = [f32('y', [2, 1], [3, 7])];

function leaseMsg(id = 'l1', hash: ModelHash = HASH_A, modelBytes = MODEL.byteLength): LeaseMsg {
  return {
    v: V,
    t: 'lease',
    leaseId: asLeaseId(id),
    jobId: asJobId('j1'),
    shardId: shardIdOf(asJobId('j1'), 0),
    modelHash: hash,
    modelBytes,
    inputs: INPUTS,
    outputNames: [],
    deadlineInMs: 60_000,
  };
}

function chunk(offset: number, bytes: ArrayBuffer, total = MODEL.byteLength, hash: ModelHash = HASH_A): FromCoordinator {
  return { v: V, t: 'model-chunk', hash, offset, total, bytes };
}

/** Frames the volunteer sends, each checked against the coordinator's parser. [M-1] */
function sent(fx: readonly VolunteerEffect[]): ToCoordinator[] {
  return fx.flatMap((e) => {
    if (e.kind !== 'send') return [];
    const p = parseToCoordinator(e.msg);
    if (!p.ok) throw new Error(`volunteer sent an unparseable "${e.msg.t}": ${p.error.reason}`);
    return [e.msg];
  });
}

function effect<K extends VolunteerEffect['kind']>(fx: readonly VolunteerEffect[], kind: K): Extract<VolunteerEffect, { kind: K }> {
  const found = fx.filter((e) => e.kind === kind);
  if (found.length !== 1) throw new Error(`expected one "${kind}" effect, got ${JSON.stringify(fx.map((e) => e.kind))}`);
  return found[0] as Extract<VolunteerEffect, { kind: K }>;
}

const types = (fx: readonly VolunteerEffect[]): string[] => sent(fx).map((m) => m.t);

/** A volunteer that has said hello, been welcomed, and asked for work. */
function asking(): VolunteerCore {
  const v = new VolunteerCore(caps('webgpu'), 'tab');
  v.connected(0);
  v.receive({ v: V, t: 'welcome', networkId: 'net', you: 'p1' as never }, 1);
  return v;
}

/** A volunteer holding lease l1, with the model on its way (cache miss). */
function fetching(): VolunteerCore {
  const v = asking();
  v.receive(leaseMsg(), 2);
  v.modelFromCache(HASH_A, null);
  return v;
}

describe('VolunteerCore', () => {
  it('[W-1] a connection starts with hello carrying the capabilities and label', () => {
    const v = new VolunteerCore(caps('webgpu'), 'my tab');
    const fx = v.connected(0);
    expect(sent(fx)).toEqual([{ v: V, t: 'hello', role: 'volunteer', caps: caps('webgpu'), label: 'my tab' }]);
    expect(v.stats().phase).toBe('greeting');
  });

  it('[W-1] [W-3] [W-4] the full cycle: hello → lease → model download → check → run → result → next request', () => {
    const v = new VolunteerCore(caps('webgpu'), 'tab');
    expect(types(v.connected(0))).toEqual(['hello']);

    expect(types(v.receive({ v: V, t: 'welcome', networkId: 'net', you: 'p1' as never }, 1))).toEqual(['lease-request']);
    expect(v.stats().phase).toBe('asking');

    const onLease = v.receive(leaseMsg(), 2);
    expect(effect(onLease, 'load-cached-model').hash).toBe(HASH_A);
    expect(sent(onLease)).toEqual([]);
    expect(v.stats()).toMatchObject({ phase: 'fetching-model', currentShard: 'j1/0' });

    const miss = v.modelFromCache(HASH_A, null);
    expect(sent(miss)).toEqual([{ v: V, t: 'model-request', hash: HASH_A, offset: 0 }]);

    const first = v.receive(chunk(0, MODEL.slice(0, LIMITS.modelChunkBytes)), 3);
    expect(first.some((e) => e.kind === 'check-model')).toBe(false);
    expect(v.stats().modelProgress).toEqual({ received: LIMITS.modelChunkBytes, total: MODEL.byteLength });

    const last = v.receive(chunk(LIMITS.modelChunkBytes, MODEL.slice(LIMITS.modelChunkBytes)), 4);
    const check = effect(last, 'check-model');
    expect(check.hash).toBe(HASH_A);
    const want = new Uint8Array(MODEL);
    expect(check.bytes.byteLength).toBe(MODEL.byteLength);
    expect(new Uint8Array(check.bytes).findIndex((b, i) => b !== want[i])).toBe(-1);
    expect(v.stats().phase).toBe('verifying-model');

    const ok = v.modelChecked(HASH_A, check.bytes, true);
    expect(effect(ok, 'cache-model')).toMatchObject({ hash: HASH_A, bytes: check.bytes });
    const run = effect(ok, 'run');
    expect(run).toMatchObject({ leaseId: 'l1', hash: HASH_A, model: check.bytes, inputs: INPUTS });
    expect(ok.findIndex((e) => e.kind === 'cache-model')).toBeLessThan(ok.findIndex((e) => e.kind === 'run'));
    expect(v.stats().phase).toBe('running');

    const done = v.inferenceDone(asLeaseId('l1'), OUTPUTS, 'webgpu', 42);
    expect(sent(done)).toEqual([
      { v: V, t: 'result', leaseId: 'l1', outputs: OUTPUTS, backend: 'webgpu', inferMs: 42 },
      { v: V, t: 'lease-request' },
    ]);
    expect(v.stats()).toMatchObject({ phase: 'asking', currentShard: null, computeMs: 42 });

    v.receive({ v: V, t: 'result-ack', leaseId: asLeaseId('l1'), outcome: 'received', reason: '' }, 5);
    expect(v.stats().resultsDelivered).toBe(1);
  });

  it('[W-3] a cached model runs at once, without a download', () => {
    const v = asking();
    v.receive(leaseMsg(), 2);
    const fx = v.modelFromCache(HASH_A, MODEL);
    expect(sent(fx)).toEqual([]);
    expect(effect(fx, 'run').model).toBe(MODEL);
    expect(fx.some((e) => e.kind === 'cache-model')).toBe(false);
  });

  it('[W-3] [W-7] a model that fails its hash is not run or cached; the lease is given back with a back-off', () => {
    const v = fetching();
    v.receive(chunk(0, MODEL.slice(0, LIMITS.modelChunkBytes)), 10);
    const check = effect(v.receive(chunk(LIMITS.modelChunkBytes, MODEL.slice(LIMITS.modelChunkBytes)), 20), 'check-model');
    const fx = v.modelChecked(HASH_A, check.bytes, false);
    expect(fx.some((e) => e.kind === 'run' || e.kind === 'cache-model')).toBe(false);
    expect(sent(fx)).toEqual([{ v: V, t: 'lease-abandon', leaseId: 'l1', reason: 'model failed its sha256 check' }]);
    expect(effect(fx, 'wake-at').atMs).toBe(20 + 1_000);
    expect(v.stats()).toMatchObject({ phase: 'idle', currentShard: null });
    expect(types(v.wake(1_020))).toEqual(['lease-request']);
  });

  it('[W-3] a check result for another model or in another phase is ignored', () => {
    const v = fetching();
    expect(v.modelChecked(HASH_B, MODEL, true)).toEqual([]);
    expect(v.modelChecked(HASH_A, MODEL, true)).toEqual([]); // still fetching: nothing was sent to check
  });

  it('[W-6] an out-of-order chunk abandons the lease', () => {
    const v = fetching();
    const fx = v.receive(chunk(LIMITS.modelChunkBytes, MODEL.slice(LIMITS.modelChunkBytes)), 3);
    const abandon = sent(fx)[0];
    expect(abandon).toMatchObject({ t: 'lease-abandon', leaseId: 'l1' });
    expect(abandon && abandon.t === 'lease-abandon' && abandon.reason).toMatch(/out of order/);
    expect(v.stats().phase).toBe('idle');
  });

  it('[W-6] a chunk that overruns the model or changes its total abandons the lease', () => {
    const over = fetching();
    expect(types(over.receive(chunk(0, new ArrayBuffer(MODEL.byteLength + 1)), 3))).toEqual(['lease-abandon']);
    const total = fetching();
    expect(types(total.receive(chunk(0, MODEL.slice(0, 10), MODEL.byteLength + 5), 3))).toEqual(['lease-abandon']);
  });

  it('[W-6] chunks of another model are ignored', () => {
    const v = fetching();
    expect(v.receive(chunk(0, MODEL.slice(0, 10), MODEL.byteLength, HASH_B), 3)).toEqual([]);
    expect(v.stats().modelProgress).toEqual({ received: 0, total: MODEL.byteLength });
  });

  it('[W-5] an unrequested lease is handed straight back', () => {
    const v = fetching();
    const fx = v.receive(leaseMsg('l2'), 3);
    expect(sent(fx)).toEqual([{ v: V, t: 'lease-abandon', leaseId: 'l2', reason: 'not requested' }]);
    expect(v.stats()).toMatchObject({ phase: 'fetching-model', currentShard: 'j1/0' });

    const fresh = new VolunteerCore(caps(), 'tab');
    fresh.connected(0);
    expect(types(fresh.receive(leaseMsg('l3'), 1))).toEqual(['lease-abandon']);
  });

  it('[W-8] no-work waits the given time, then asks again', () => {
    const v = asking();
    const fx = v.receive({ v: V, t: 'no-work', retryInMs: 750 }, 100);
    expect(effect(fx, 'wake-at').atMs).toBe(850);
    expect(sent(fx)).toEqual([]);
    expect(v.stats().phase).toBe('idle');
    expect(types(v.wake(850))).toEqual(['lease-request']);
    expect(v.stats().phase).toBe('asking');
    expect(v.wake(900)).toEqual([]); // already asking: no second request
  });

  it('[W-9] refused: the phase is refused with the reason, and nothing more is asked or sent', () => {
    const v = fetching();
    const fx = v.receive({ v: V + 1, t: 'refused', reason: 'speak v2', expectedVersion: V + 1 } as FromCoordinator, 5);
    expect(sent(fx)).toEqual([]);
    expect(v.stats()).toMatchObject({ phase: 'refused', refusal: 'speak v2', currentShard: null });
    expect(v.wake(10_000)).toEqual([]);
    expect(v.disconnected(6)).toEqual([]);
    expect(v.stats().phase).toBe('refused');
  });

  it('[W-9] refused while running: a run that finishes afterwards sends nothing', () => {
    const v = asking();
    v.receive(leaseMsg(), 2);
    v.modelFromCache(HASH_A, MODEL);
    v.receive({ v: V, t: 'refused', reason: 'bye', expectedVersion: V }, 3);
    expect(sent(v.inferenceDone(asLeaseId('l1'), OUTPUTS, 'webgpu', 1))).toEqual([]);
    expect(v.stats().phase).toBe('refused');
  });

  it('[W-2] a lost connection drops the lease: a run that finishes later sends nothing', () => {
    const v = asking();
    v.receive(leaseMsg(), 2);
    v.modelFromCache(HASH_A, MODEL);
    v.disconnected(3);
    expect(v.stats()).toMatchObject({ phase: 'connecting', currentShard: null });
    expect(v.inferenceDone(asLeaseId('l1'), OUTPUTS, 'webgpu', 1).filter((e) => e.kind === 'send')).toEqual([]);
    expect(types(v.connected(4))).toEqual(['hello']);
  });

  it('[W-4] a result carries the backend that really ran, and later hellos say so', () => {
    const v = asking();
    v.receive(leaseMsg(), 2);
    v.modelFromCache(HASH_A, MODEL);
    const fx = v.inferenceDone(asLeaseId('l1'), OUTPUTS, 'wasm', 3);
    // [W-13] The coordinator hears of the new backend before the result that used it.
    expect(types(fx)).toEqual(['caps', 'result', 'lease-request']);
    expect(sent(fx)[0]).toMatchObject({ t: 'caps', caps: { backend: 'wasm', adapter: null } });
    expect(sent(fx)[1]).toMatchObject({ t: 'result', backend: 'wasm' });
    expect(v.capabilities()).toMatchObject({ backend: 'wasm', adapter: null });
    const again = sent(v.connected(10))[0];
    expect(again && again.t === 'hello' && again.caps?.backend).toBe('wasm');
  });

  it('[W-4] a result for a lease not in hand is ignored', () => {
    const v = asking();
    v.receive(leaseMsg(), 2);
    v.modelFromCache(HASH_A, MODEL);
    expect(v.inferenceDone(asLeaseId('other') as LeaseId, OUTPUTS, 'webgpu', 1)).toEqual([]);
    expect(v.stats().phase).toBe('running');
  });

  it('[W-7] a failed inference or an unavailable model gives the lease back with a back-off', () => {
    const v = asking();
    v.receive(leaseMsg(), 2);
    v.modelFromCache(HASH_A, MODEL);
    const failed = v.inferenceFailed(asLeaseId('l1'), 'out of memory');
    expect(sent(failed)[0]).toMatchObject({ t: 'lease-abandon', leaseId: 'l1', reason: 'inference failed: out of memory' });
    expect(effect(failed, 'wake-at').atMs).toBe(1_002);

    const w = fetching();
    const fx = w.receive({ v: V, t: 'model-unavailable', hash: HASH_A, reason: 'you hold no lease that needs this model' }, 7);
    expect(types(fx)).toEqual(['lease-abandon']);
    expect(effect(fx, 'wake-at').atMs).toBe(1_007);
  });

  it('[W-7] a model larger than the limit is given back instead of downloaded', () => {
    const v = asking();
    v.receive(leaseMsg('l1', HASH_A, LIMITS.maxModelBytes + 1), 2);
    const fx = v.modelFromCache(HASH_A, null);
    expect(types(fx)).toEqual(['lease-abandon']);
  });

  it('[W-10] a result-ack that was not "received" is not counted', () => {
    const v = asking();
    v.receive({ v: V, t: 'result-ack', leaseId: asLeaseId('l1'), outcome: 'duplicate', reason: 'shard is already verified' }, 1);
    expect(v.stats().resultsDelivered).toBe(0);
  });
});

/** A volunteer running lease l1 (model from the cache). */
function running(): VolunteerCore {
  const v = asking();
  v.receive(leaseMsg(), 2);
  v.modelFromCache(HASH_A, MODEL);
  return v;
}

describe('VolunteerCore: pause, CPU cap, capabilities, standing', () => {
  it('[W-11] pausing while running hands the lease back ("paused"), says so, and asks for nothing more', () => {
    const v = running();
    expect(v.stats().phase).toBe('running');
    const fx = v.setPaused(true, 'you paused it', 5);
    expect(sent(fx)).toEqual([
      { v: V, t: 'volunteer-state', paused: true, reason: 'you paused it' },
      { v: V, t: 'lease-abandon', leaseId: 'l1', reason: 'paused' },
    ]);
    expect(fx.some((e) => e.kind === 'wake-at')).toBe(false); // no back-off timer: nothing to retry
    expect(v.stats()).toMatchObject({ phase: 'paused', paused: true, pauseReason: 'you paused it', currentShard: null });
    // The run that was under way finishes: nothing is sent, nothing asked.
    expect(sent(v.inferenceDone(asLeaseId('l1'), OUTPUTS, 'webgpu', 40, 6))).toEqual([]);
    // Timers and no-work answers wake nothing while paused.
    expect(sent(v.wake(10_000))).toEqual([]);
    expect(sent(v.receive({ v: V, t: 'no-work', retryInMs: 10 }, 10_001))).toEqual([]);
    expect(v.stats().phase).toBe('paused');
  });

  it('[W-11] resuming says so and asks for work at once', () => {
    const v = running();
    v.setPaused(true, 'the tab is hidden', 5);
    const fx = v.setPaused(false, '', 6);
    expect(sent(fx)).toEqual([
      { v: V, t: 'volunteer-state', paused: false, reason: '' },
      { v: V, t: 'lease-request' },
    ]);
    expect(v.stats()).toMatchObject({ phase: 'asking', paused: false, pauseReason: '' });
  });

  it('[W-11] pausing while downloading or verifying the model drops the download; late bytes and checks are ignored', () => {
    const v = fetching();
    expect(types(v.setPaused(true, 'x', 3))).toEqual(['volunteer-state', 'lease-abandon']);
    expect(v.stats().modelProgress).toBeNull();
    expect(v.receive(chunk(0, MODEL.slice(0, 10)), 4).filter((e) => e.kind === 'send')).toEqual([]);
    expect(v.modelChecked(HASH_A, MODEL, true).filter((e) => e.kind !== 'status-changed')).toEqual([]);
    expect(v.stats().phase).toBe('paused');
  });

  it('[W-11] [W-5] a lease that crossed the pause (asked for before it) is handed back as "paused"', () => {
    const v = asking();
    expect(types(v.setPaused(true, 'x', 2))).toEqual(['volunteer-state']);
    expect(sent(v.receive(leaseMsg('l7'), 3))).toEqual([{ v: V, t: 'lease-abandon', leaseId: 'l7', reason: 'paused' }]);
    expect(v.stats().phase).toBe('paused');
  });

  it('[W-11] the same pause twice sends nothing; a new reason is passed on', () => {
    const v = asking();
    v.setPaused(true, 'the tab is hidden', 2);
    expect(sent(v.setPaused(true, 'the tab is hidden', 3))).toEqual([]);
    expect(sent(v.setPaused(true, 'the tab is hidden; the device is on battery', 4))).toEqual([
      { v: V, t: 'volunteer-state', paused: true, reason: 'the tab is hidden; the device is on battery' },
    ]);
    expect(sent(v.setPaused(false, 'ignored', 5))).toEqual([
      { v: V, t: 'volunteer-state', paused: false, reason: '' },
      { v: V, t: 'lease-request' },
    ]);
  });

  it('[W-11] paused before connecting: hello is followed by the pause, and welcome asks for nothing', () => {
    const v = new VolunteerCore(caps('wasm'), 'tab');
    expect(sent(v.setPaused(true, 'the device is on battery', 0))).toEqual([]); // no connection yet
    expect(v.stats()).toMatchObject({ phase: 'connecting', paused: true });
    expect(types(v.connected(1))).toEqual(['hello', 'volunteer-state']);
    expect(sent(v.receive({ v: V, t: 'welcome', networkId: 'net', you: 'p9' as never }, 2))).toEqual([]);
    expect(v.stats()).toMatchObject({ phase: 'paused', peerId: 'p9' });
    expect(types(v.setPaused(false, '', 3))).toEqual(['volunteer-state', 'lease-request']);
  });

  it('[W-11] a disconnect while paused keeps the pause; the next connection announces it again', () => {
    const v = running();
    v.setPaused(true, 'x', 3);
    v.disconnected(4);
    expect(v.stats()).toMatchObject({ phase: 'connecting', paused: true });
    expect(types(v.connected(5))).toEqual(['hello', 'volunteer-state']);
  });

  it('[W-12] under a 50 % cap the volunteer rests as long as the shard ran before asking again', () => {
    const v = running();
    v.setCpuCap(50, 2);
    const fx = v.inferenceDone(asLeaseId('l1'), OUTPUTS, 'webgpu', 400, 1_000);
    expect(types(fx)).toEqual(['result']);
    expect(effect(fx, 'wake-at').atMs).toBe(1_400);
    expect(v.stats()).toMatchObject({ phase: 'resting', restingUntilMs: 1_400, cpuCapPercent: 50 });
    // A stale timer that fires early only re-arms the due one.
    const early = v.wake(1_200);
    expect(types(early)).toEqual([]);
    expect(effect(early, 'wake-at').atMs).toBe(1_400);
    expect(types(v.wake(1_400))).toEqual(['lease-request']);
  });

  it('[W-12] a 25 % cap rests three times the run; 100 % asks at once', () => {
    const v = running();
    v.setCpuCap(25, 2);
    expect(effect(v.inferenceDone(asLeaseId('l1'), OUTPUTS, 'webgpu', 100, 500), 'wake-at').atMs).toBe(800);
    const w = running();
    expect(types(w.inferenceDone(asLeaseId('l1'), OUTPUTS, 'webgpu', 100, 500))).toEqual(['result', 'lease-request']);
  });

  it('[W-12] raising the cap to 100 % ends a rest at once', () => {
    const v = running();
    v.setCpuCap(25, 2);
    v.inferenceDone(asLeaseId('l1'), OUTPUTS, 'webgpu', 100, 500);
    expect(types(v.setCpuCap(100, 510))).toEqual(['lease-request']);
  });

  it('[W-11] [W-12] pausing during a rest ends it; resuming asks at once', () => {
    const v = running();
    v.setCpuCap(25, 2);
    v.inferenceDone(asLeaseId('l1'), OUTPUTS, 'webgpu', 100, 500);
    expect(types(v.setPaused(true, 'x', 510))).toEqual(['volunteer-state']);
    expect(types(v.wake(900))).toEqual([]);
    expect(types(v.setPaused(false, '', 901))).toEqual(['volunteer-state', 'lease-request']);
  });

  it('[W-13] new capabilities go to a connected coordinator at once, and into later hellos', () => {
    const v = asking();
    const next = { ...caps('wasm'), backendReason: 'WebGPU device lost (destroyed); switched to WASM' };
    expect(sent(v.capabilitiesChanged(next, 3))).toEqual([{ v: V, t: 'caps', caps: next }]);
    expect(v.capabilities()).toEqual(next);
    v.disconnected(4);
    expect(sent(v.capabilitiesChanged(caps('webgpu'), 5))).toEqual([]); // not connected: the next hello carries them
    expect(sent(v.connected(6))[0]).toMatchObject({ t: 'hello', caps: caps('webgpu') });
  });

  it('[P-7] the coordinator\'s word on this volunteer is kept for the page', () => {
    const v = asking();
    v.receive(
      { v: V, t: 'volunteer-status', shardsAccepted: 4, resultsReturned: 5, resultsRejected: 0, paused: false, trusted: false, streak: 4, trustLevel: 0.4, quarantined: false },
      3,
    );
    expect(v.stats().standing).toEqual({ shardsAccepted: 4, resultsReturned: 5, resultsRejected: 0, paused: false, trusted: false, streak: 4, trustLevel: 0.4, quarantined: false });
    v.connected(4);
    expect(v.stats().standing).toBeNull(); // a new connection starts a new count
  });

  it('the last result names its shard, its backend and its time', () => {
    const v = running();
    v.inferenceDone(asLeaseId('l1'), OUTPUTS, 'webgpu', 12, 20);
    expect(v.stats().lastResult).toEqual({ shardId: 'j1/0', backend: 'webgpu', inferMs: 12 });
  });
});
