import { describe, it, expect } from 'vitest';
import { asJobId, asLeaseId, type LeaseId, type ModelHash } from '../../protocol/ids.ts';
import { LIMITS } from '../../protocol/limits.ts';
import { LEASE_PROGRESS_INTERVAL_MS, REFUSED_ID_TAKEN, type FromCoordinator, type ToCoordinator } from '../../protocol/messages.ts';
import { parseFromCoordinator, parseToCoordinator } from '../../protocol/parse.ts';
import { shardIdOf } from '../../protocol/ids.ts';
import { files, imagePipeline } from '../testing/fileJobFixtures.ts';
import { HASH_A, HASH_B, V, caps, countingBytes, f32 } from '../testing/fixtures.ts';
import { VolunteerCore, type LeaseMsg, type OutboxEntry, type VolunteerEffect } from './volunteer.ts';

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

/**
 * One lease at a time: the rules below are about a single lease in hand; pipelining ([W-18], on
 * by default) has its own tests at the end.
 */
const SERIAL = { prefetch: 0 } as const;

const types = (fx: readonly VolunteerEffect[]): string[] => sent(fx).map((m) => m.t);

/** A volunteer that has said hello, been welcomed, and asked for work. */
function asking(): VolunteerCore {
  const v = new VolunteerCore(caps('webgpu'), 'tab', SERIAL);
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
    const v = new VolunteerCore(caps('webgpu'), 'my tab', SERIAL);
    const fx = v.connected(0);
    expect(sent(fx)).toEqual([{ v: V, t: 'hello', role: 'volunteer', caps: caps('webgpu'), label: 'my tab' }]);
    expect(v.stats().phase).toBe('greeting');
  });

  it('[W-1] [W-3] [W-4] the full cycle: hello → lease → model download → check → run → result → next request', () => {
    const v = new VolunteerCore(caps('webgpu'), 'tab', SERIAL);
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

  it('[W-22] a lease of files hands its files and pipeline to the run; an undecodable file gives the lease back naming it', () => {
    const v = asking();
    const lease: LeaseMsg = { ...leaseMsg(), inputs: [], files: files(2), pipeline: imagePipeline() };
    v.receive(lease, 2);
    const run = effect(v.modelFromCache(HASH_A, MODEL), 'run');
    expect(run.inputs).toEqual([]);
    expect(run.files?.map((f) => f.name)).toEqual(['line-0.png', 'line-1.png']);
    expect(run.pipeline).toEqual(imagePipeline());
    const fx = v.inferenceFailed(asLeaseId('l1'), 'file "line-1.png" (item 2 of the shard) could not be decoded: not a PNG');
    expect(sent(fx)).toEqual([
      { v: V, t: 'lease-abandon', leaseId: 'l1', reason: 'inference failed: file "line-1.png" (item 2 of the shard) could not be decoded: not a PNG' },
    ]);
    expect(fx.some((e) => e.kind === 'outbox-put')).toBe(false); // no empty result is ever sent
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

  it('[W-6] chunks that arrive out of order are placed by offset: the model is checked whole', () => {
    const v = fetching();
    expect(v.receive(chunk(LIMITS.modelChunkBytes, MODEL.slice(LIMITS.modelChunkBytes)), 3).some((e) => e.kind === 'check-model')).toBe(false);
    expect(v.stats().modelProgress).toEqual({ received: 100, total: MODEL.byteLength });
    const check = effect(v.receive(chunk(0, MODEL.slice(0, LIMITS.modelChunkBytes)), 4), 'check-model');
    expect(new Uint8Array(check.bytes)).toEqual(new Uint8Array(MODEL));
    expect(v.stats().phase).toBe('verifying-model');
  });

  it('[W-6] a chunk off the grid, of the wrong length, or sent twice abandons the lease', () => {
    const reasonOf = (fx: readonly VolunteerEffect[]): string => {
      const m = sent(fx)[0];
      return m?.t === 'lease-abandon' ? m.reason : `no abandon (${types(fx).join(',')})`;
    };
    expect(reasonOf(fetching().receive(chunk(10, MODEL.slice(10, 20)), 3))).toMatch(/off the .*grid/);
    expect(reasonOf(fetching().receive(chunk(0, MODEL.slice(0, 10)), 3))).toMatch(/has 10 bytes, expected/);
    const twice = fetching();
    twice.receive(chunk(LIMITS.modelChunkBytes, MODEL.slice(LIMITS.modelChunkBytes)), 3);
    expect(reasonOf(twice.receive(chunk(LIMITS.modelChunkBytes, MODEL.slice(LIMITS.modelChunkBytes)), 4))).toMatch(/twice/);
    expect(twice.stats().phase).toBe('idle');
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

  it('[B-8] frames from the coordinator that do not parse are logged in aggregate, not one entry each', () => {
    const v = asking();
    const parsed = parseFromCoordinator({ v: V, t: 'no-such-frame' });
    if (parsed.ok) throw new Error('the frame parsed');
    const error = parsed.error;
    const logs: string[] = [];
    for (let i = 0; i < 10_000; i++) {
      for (const e of v.protocolError(error, 10 + Math.floor(i / 100))) if (e.kind === 'log') logs.push(e.text);
    }
    expect(logs[0]).toBe(`frames from the coordinator: dropped a malformed frame: ${error.reason}`);
    expect(logs.length).toBeLessThanOrEqual(3);
    expect(logs.some((l) => /over its budget of malformed frames/.test(l))).toBe(true);
    // A new connection starts a new count: its first bad frame is reported at once.
    v.disconnected(200);
    v.connected(300);
    expect(v.protocolError(error, 301).filter((e) => e.kind === 'log')).toHaveLength(1);
  });

  it('[W-5] an unrequested lease is handed straight back', () => {
    const v = fetching();
    const fx = v.receive(leaseMsg('l2'), 3);
    expect(sent(fx)).toEqual([{ v: V, t: 'lease-abandon', leaseId: 'l2', reason: 'not requested' }]);
    expect(v.stats()).toMatchObject({ phase: 'fetching-model', currentShard: 'j1/0' });

    const fresh = new VolunteerCore(caps(), 'tab', SERIAL);
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

  it('[W-19] work-available while idle after no-work asks at once; the old timer then wakes nothing', () => {
    const v = asking();
    v.receive({ v: V, t: 'no-work', retryInMs: 1_000 }, 100);
    const fx = v.receive({ v: V, t: 'work-available' }, 300);
    expect(sent(fx)).toEqual([{ v: V, t: 'lease-request' }]);
    expect(v.stats().phase).toBe('asking');
    expect(sent(v.wake(1_100))).toEqual([]); // the no-work wait's timer
    expect(sent(v.receive({ v: V, t: 'work-available' }, 301))).toEqual([]); // asking already: not twice
    expect(types(v.receive(leaseMsg(), 302))).toEqual([]); // the answer is the requested lease ([W-5] untouched)
    expect(v.stats().currentShard).not.toBeNull();
  });

  it('[W-19] work-available is ignored in every other phase: no lease-request, no state change', () => {
    const quiet = (v: VolunteerCore, at: number): void => {
      const phase = v.stats().phase;
      expect(sent(v.receive({ v: V, t: 'work-available' }, at))).toEqual([]);
      expect(v.stats().phase).toBe(phase);
    };
    // Before hello's answer, and while asking.
    const greeting = new VolunteerCore(caps(), 'tab', SERIAL);
    greeting.connected(0);
    quiet(greeting, 1);
    quiet(asking(), 2);
    // Holding a lease: fetching and running (a run's prefetch no-work does not make it idle).
    quiet(fetching(), 3);
    const r = running();
    quiet(r, 4);
    const piped = new VolunteerCore(caps('webgpu'), 'tab');
    piped.connected(0);
    piped.receive({ v: V, t: 'welcome', networkId: 'net', you: 'p1' as never }, 1);
    piped.receive(leaseMsg(), 2);
    expect(types(piped.modelFromCache(HASH_A, MODEL))).toEqual(['lease-request']);
    piped.receive({ v: V, t: 'no-work', retryInMs: 1_000 }, 3);
    quiet(piped, 4);
    // Backing off after a failed shard ([W-7]): the back-off is not cut short.
    const failed = running();
    failed.inferenceFailed(asLeaseId('l1'), 'boom');
    expect(failed.stats().phase).toBe('idle');
    quiet(failed, 5);
    // Resting under a CPU cap ([W-12]).
    const resting = running();
    resting.setCpuCap(50, 2);
    resting.inferenceDone(asLeaseId('l1'), OUTPUTS, 'webgpu', 400, 1_000);
    quiet(resting, 1_100);
    // Paused ([W-11]): a no-work that crossed the pause leaves it paused, and so does the hint.
    const paused = asking();
    paused.setPaused(true, 'tab hidden', 5);
    paused.receive({ v: V, t: 'no-work', retryInMs: 1_000 }, 6);
    quiet(paused, 7);
    // Refused ([W-9]).
    const refused = asking();
    refused.receive({ v: V, t: 'refused', reason: 'no', expectedVersion: V }, 5);
    quiet(refused, 6);
  });

  it('[W-19] after a disconnect the hint of the old connection is ignored', () => {
    const v = asking();
    v.receive({ v: V, t: 'no-work', retryInMs: 1_000 }, 100);
    v.disconnected(150);
    expect(sent(v.receive({ v: V, t: 'work-available' }, 200))).toEqual([]);
    expect(v.stats().phase).toBe('connecting');
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

  it("[W-20] refused because the id is another volunteer's: the token is dropped and a fresh id asked for", () => {
    const v = new VolunteerCore(caps('webgpu'), 'tab', { ...SERIAL, resumeToken: 'old-token' });
    v.connected(0);
    const fx = v.receive({ v: V, t: 'refused', reason: 'peer id p1 belongs to another volunteer', expectedVersion: V, code: REFUSED_ID_TAKEN }, 1);
    expect(fx.filter((e) => e.kind === 'renew-id')).toHaveLength(1);
    expect(sent(fx)).toEqual([]);
    expect(v.stats().phase).toBe('refused');
    // The host registers under a fresh id; the hello there carries no token and the refusal is gone.
    v.identityChanged(2);
    v.disconnected(2);
    expect(v.stats().refusal).toBeNull();
    expect(sent(v.connected(3))).toEqual([{ v: V, t: 'hello', role: 'volunteer', caps: caps('webgpu'), label: 'tab' }]);
    v.receive({ v: V, t: 'welcome', networkId: 'net', you: 'p2' as never, token: 'new-token' }, 4);
    expect(v.stats().phase).toBe('asking');
  });

  it('[W-20] other refusals (another version, a bad hello) keep the id: no fresh id is asked for', () => {
    for (const code of [undefined, 'some-future-code']) {
      const v = asking();
      const fx = v.receive({ v: V, t: 'refused', reason: 'no', expectedVersion: V, ...(code ? { code } : {}) }, 5);
      expect(fx.some((e) => e.kind === 'renew-id')).toBe(false);
    }
  });

  it('[W-9] refused while running: a run that finishes afterwards sends nothing', () => {
    const v = asking();
    v.receive(leaseMsg(), 2);
    v.modelFromCache(HASH_A, MODEL);
    v.receive({ v: V, t: 'refused', reason: 'bye', expectedVersion: V }, 3);
    expect(sent(v.inferenceDone(asLeaseId('l1'), OUTPUTS, 'webgpu', 1))).toEqual([]);
    expect(v.stats().phase).toBe('refused');
  });

  it('[W-2] a lost connection keeps a run going but asks for nothing; a download in progress is dropped', () => {
    const v = running();
    const fx = v.disconnected(3);
    expect(sent(fx)).toEqual([]);
    expect(v.stats()).toMatchObject({ phase: 'running', currentShard: 'j1/0' });
    expect(v.wake(10_000)).toEqual([]);

    const w = fetching();
    w.disconnected(3);
    expect(w.stats()).toMatchObject({ phase: 'connecting', currentShard: null, modelProgress: null });
    expect(w.receive(chunk(0, MODEL.slice(0, LIMITS.modelChunkBytes)), 4).filter((e) => e.kind !== 'status-changed')).toEqual([]);
    expect(types(w.connected(5))).toEqual(['hello']);
  });

  it('[W-2] a cache miss after a disconnect drops the lease instead of asking a coordinator that is gone', () => {
    const v = asking();
    v.receive(leaseMsg(), 2);
    v.disconnected(3);
    expect(sent(v.modelFromCache(HASH_A, null))).toEqual([]);
    expect(v.stats()).toMatchObject({ phase: 'connecting', currentShard: null });
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
    const v = new VolunteerCore(caps('wasm'), 'tab', SERIAL);
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

  it("[P-7] the coordinator's word on this volunteer is kept for the page", () => {
    const v = asking();
    v.receive(
      {
        v: V,
        t: 'volunteer-status',
        shardsAccepted: 4,
        resultsReturned: 5,
        resultsRejected: 0,
        paused: false,
        trusted: false,
        streak: 4,
        trustLevel: 0.4,
        quarantined: false,
      },
      3,
    );
    expect(v.stats().standing).toEqual({
      shardsAccepted: 4,
      resultsReturned: 5,
      resultsRejected: 0,
      paused: false,
      trusted: false,
      streak: 4,
      trustLevel: 0.4,
      quarantined: false,
    });
    v.connected(4);
    expect(v.stats().standing).toBeNull(); // a new connection starts a new count
  });

  it('the last result names its shard, its backend and its time', () => {
    const v = running();
    v.inferenceDone(asLeaseId('l1'), OUTPUTS, 'webgpu', 12, 20);
    expect(v.stats().lastResult).toEqual({ shardId: 'j1/0', backend: 'webgpu', inferMs: 12 });
  });
});

const welcome = (token?: string): FromCoordinator =>
  token === undefined ? { v: V, t: 'welcome', networkId: 'net', you: 'p1' as never } : { v: V, t: 'welcome', networkId: 'net', you: 'p1' as never, token };
const ack = (leaseId: string, outcome: 'received' | 'duplicate' | 'unknown-lease' | 'rejected' = 'received'): FromCoordinator => ({
  v: V,
  t: 'result-ack',
  leaseId: asLeaseId(leaseId),
  outcome,
  reason: '',
});
const kinds = (fx: readonly VolunteerEffect[]): string[] =>
  fx.filter((e) => e.kind !== 'log' && e.kind !== 'status-changed').map((e) => (e.kind === 'send' ? `send:${e.msg.t}` : e.kind));

function storedEntry(id: string, index = 0): OutboxEntry {
  return {
    leaseId: asLeaseId(id),
    shardId: shardIdOf(asJobId('j1'), index),
    frame: { v: V, t: 'result', leaseId: asLeaseId(id), outputs: OUTPUTS, backend: 'webgpu', inferMs: 5 },
  };
}

describe('VolunteerCore: outbox and held-back results', () => {
  it('[W-15] a result is put in the outbox before it is sent, and leaves it when acknowledged', () => {
    const v = running();
    const done = v.inferenceDone(asLeaseId('l1'), OUTPUTS, 'webgpu', 4);
    expect(kinds(done)).toEqual(['outbox-put', 'send:result', 'send:lease-request']);
    const put = effect(done, 'outbox-put').entry;
    expect(put).toEqual({ leaseId: 'l1', shardId: 'j1/0', frame: sent(done)[0] });
    expect(v.stats()).toMatchObject({ outbox: 1, resultsDelivered: 0 });

    const acked = v.receive(ack('l1'), 5);
    expect(effect(acked, 'outbox-delete').leaseId).toBe('l1');
    expect(v.stats()).toMatchObject({ outbox: 0, resultsDelivered: 1, heldBackSent: 0, heldBackDelivered: 0 });
    // A second ack for it finds nothing to delete.
    expect(kinds(v.receive(ack('l1'), 6))).toEqual([]);
  });

  it('[W-15] a duplicate, unknown-lease or rejected ack is final too: the result is deleted, not counted', () => {
    for (const outcome of ['duplicate', 'unknown-lease', 'rejected'] as const) {
      const v = running();
      v.inferenceDone(asLeaseId('l1'), OUTPUTS, 'webgpu', 4);
      const fx = v.receive(ack('l1', outcome), 5);
      expect(effect(fx, 'outbox-delete').leaseId).toBe('l1');
      expect(v.stats()).toMatchObject({ outbox: 0, resultsDelivered: 0 });
      // Nothing is re-sent on the next connection.
      v.disconnected(6);
      v.connected(7);
      expect(types(v.receive(welcome(), 8))).toEqual(['lease-request']);
    }
  });

  it('[W-2] [W-15] [W-16] a result finished while disconnected waits, and is delivered after the next welcome, before asking for work', () => {
    const v = running();
    v.disconnected(3);
    const done = v.inferenceDone(asLeaseId('l1'), OUTPUTS, 'webgpu', 4, 10);
    expect(kinds(done)).toEqual(['outbox-put']);
    expect(v.stats()).toMatchObject({ phase: 'connecting', currentShard: null, outbox: 1, computeMs: 4 });
    expect(v.wake(20_000)).toEqual([]);

    expect(types(v.connected(30))).toEqual(['hello']);
    const fx = v.receive(welcome(), 31);
    expect(sent(fx)).toEqual([
      { v: V, t: 'result', leaseId: 'l1', outputs: OUTPUTS, backend: 'webgpu', inferMs: 4 },
      { v: V, t: 'lease-request' },
    ]);
    expect(v.stats()).toMatchObject({ phase: 'asking', heldBackSent: 1, heldBackDelivered: 0 });

    v.receive(ack('l1'), 32);
    expect(v.stats()).toMatchObject({ outbox: 0, resultsDelivered: 1, heldBackSent: 1, heldBackDelivered: 1 });
  });

  it('[W-16] a result sent but not acknowledged before a disconnect is sent again after the welcome, and counts as held back', () => {
    const v = running();
    expect(types(v.inferenceDone(asLeaseId('l1'), OUTPUTS, 'webgpu', 4))).toEqual(['result', 'lease-request']);
    v.disconnected(5);
    v.connected(6);
    expect(types(v.receive(welcome(), 7))).toEqual(['result', 'lease-request']);
    v.receive(ack('l1'), 8);
    expect(v.stats()).toMatchObject({ resultsDelivered: 1, heldBackSent: 1, heldBackDelivered: 1 });
  });

  it('[W-16] a run that finishes after the reconnect but before the welcome waits for it; one still running at the welcome delays the request', () => {
    const v = running();
    v.disconnected(3);
    v.connected(4);
    expect(v.stats().phase).toBe('running');
    // Welcomed while still running: no request yet (the shard in hand comes first).
    expect(types(v.receive(welcome(), 5))).toEqual([]);
    expect(v.stats()).toMatchObject({ phase: 'running', currentShard: 'j1/0' });
    expect(types(v.inferenceDone(asLeaseId('l1'), OUTPUTS, 'webgpu', 4, 6))).toEqual(['result', 'lease-request']);

    const w = running();
    w.disconnected(3);
    w.connected(4);
    expect(kinds(w.inferenceDone(asLeaseId('l1'), OUTPUTS, 'webgpu', 4, 5))).toEqual(['outbox-put']);
    expect(w.stats().phase).toBe('greeting');
    expect(types(w.receive(welcome(), 6))).toEqual(['result', 'lease-request']);
    w.receive(ack('l1'), 7);
    expect(w.stats().heldBackDelivered).toBe(1);
  });

  it('[W-15] [W-16] results restored after a reload are delivered after the welcome (or at once when welcomed), each once', () => {
    const v = new VolunteerCore(caps('webgpu'), 'tab', SERIAL);
    expect(kinds(v.restoreOutbox([storedEntry('a', 0), storedEntry('b', 1)], 0))).toEqual([]);
    expect(v.stats().outbox).toBe(2);
    v.connected(1);
    const fx = sent(v.receive(welcome(), 2));
    expect(fx.map((m) => (m.t === 'result' ? `result:${m.leaseId}` : m.t))).toEqual(['result:a', 'result:b', 'lease-request']);

    // Restored late (storage was slow): sent at once; one already known is skipped.
    expect(types(v.restoreOutbox([storedEntry('b', 1), storedEntry('c', 2)], 3))).toEqual(['result']);
    v.receive(ack('a'), 4);
    v.receive(ack('b', 'duplicate'), 5);
    v.receive(ack('c'), 6);
    expect(v.stats()).toMatchObject({ outbox: 0, resultsDelivered: 2, heldBackSent: 3, heldBackDelivered: 2 });
  });

  it('[W-15] an entry whose frame names another lease is not restored', () => {
    const v = new VolunteerCore(caps('webgpu'), 'tab', SERIAL);
    const bad = { ...storedEntry('a'), leaseId: asLeaseId('b') };
    v.restoreOutbox([bad], 0);
    expect(v.stats().outbox).toBe(0);
  });

  it('[W-11] [W-16] held-back results are delivered while paused; a pause still hands the lease in hand back', () => {
    const v = running();
    v.disconnected(3);
    v.inferenceDone(asLeaseId('l1'), OUTPUTS, 'webgpu', 4, 4);
    v.setPaused(true, 'you paused it', 5);
    expect(types(v.connected(6))).toEqual(['hello', 'volunteer-state']);
    expect(types(v.receive(welcome(), 7))).toEqual(['result']);
    expect(v.stats().phase).toBe('paused');

    const w = running();
    w.disconnected(3);
    // Offline, the lease is dropped without a frame (the coordinator already let it go).
    expect(sent(w.setPaused(true, 'hidden', 4))).toEqual([]);
    expect(w.stats()).toMatchObject({ phase: 'connecting', currentShard: null });
    expect(kinds(w.inferenceDone(asLeaseId('l1'), OUTPUTS, 'webgpu', 4, 5))).toEqual([]);
  });

  it('[W-7] a run that outlived a disconnect and fails waits for the welcome, without a back-off timer', () => {
    const v = running();
    v.disconnected(3);
    const fx = v.inferenceFailed(asLeaseId('l1'), 'out of memory');
    expect(kinds(fx)).toEqual([]);
    expect(v.stats()).toMatchObject({ phase: 'connecting', currentShard: null });
    v.connected(4);
    expect(types(v.receive(welcome(), 5))).toEqual(['lease-request']);
  });

  it('[W-17] the token from a welcome is kept, and every later hello sends it as resume', () => {
    const v = new VolunteerCore(caps('webgpu'), 'tab', SERIAL);
    const first = sent(v.connected(0))[0];
    expect(first && first.t === 'hello' && first.resume).toBeUndefined();
    const fx = v.receive(welcome('secret-1'), 1);
    expect(effect(fx, 'save-token').token).toBe('secret-1');
    v.disconnected(2);
    expect(sent(v.connected(3))[0]).toMatchObject({ t: 'hello', resume: 'secret-1' });
    // A welcome without a token, or with the same one, changes nothing.
    expect(v.receive(welcome(), 4).some((e) => e.kind === 'save-token')).toBe(false);
    expect(v.receive(welcome('secret-1'), 5).some((e) => e.kind === 'save-token')).toBe(false);

    const restored = new VolunteerCore(caps('webgpu'), 'tab', { ...SERIAL, resumeToken: 'kept' });
    expect(sent(restored.connected(0))[0]).toMatchObject({ t: 'hello', resume: 'kept' });
  });

  it('[W-17] a fresh peer id drops the token, the held-back results and the lease of the old id', () => {
    const v = new VolunteerCore(caps('webgpu'), 'tab', { ...SERIAL, resumeToken: 'old' });
    v.restoreOutbox([storedEntry('a')], 0);
    v.connected(1);
    v.receive(welcome(), 2);
    v.receive(leaseMsg('l2'), 3);
    v.modelFromCache(HASH_A, MODEL);
    v.disconnected(4);
    const fx = v.identityChanged(5);
    expect(kinds(fx)).toEqual([]);
    expect(v.stats()).toMatchObject({ outbox: 0, currentShard: null, phase: 'connecting' });
    expect(kinds(v.inferenceDone(asLeaseId('l2'), OUTPUTS, 'webgpu', 1))).toEqual([]);
    const hello = sent(v.connected(6))[0];
    expect(hello && hello.t === 'hello' && hello.resume).toBeUndefined();
    expect(types(v.receive(welcome(), 7))).toEqual(['lease-request']);
  });
});

describe('VolunteerCore: pipelined leases [W-18]', () => {
  const lease = (id: string, index: number, hash: ModelHash = HASH_A): LeaseMsg => ({ ...leaseMsg(id, hash), shardId: shardIdOf(asJobId('j1'), index) });

  /** Default prefetch: welcomed, running l1 (shard j1/0, model from the cache), its prefetch request out. */
  function pipelined(options: { prefetch?: number } = {}): { v: VolunteerCore; onRun: VolunteerEffect[] } {
    const v = new VolunteerCore(caps('webgpu'), 'tab', options);
    v.connected(0);
    v.receive(welcome(), 1);
    v.receive(lease('l1', 0), 2);
    return { v, onRun: v.modelFromCache(HASH_A, MODEL) };
  }

  it('asks for the next lease as a run starts, queues it, and starts it the moment the run ends', () => {
    const { v, onRun } = pipelined();
    expect(kinds(onRun)).toEqual(['run', 'send:lease-request']);
    const onQueued = v.receive(lease('l2', 1), 3);
    expect(kinds(onQueued)).toEqual([]); // depth 1: no third lease asked for
    expect(v.stats()).toMatchObject({ phase: 'running', currentShard: 'j1/0', queuedLeases: 1 });

    const done = v.inferenceDone(asLeaseId('l1'), OUTPUTS, 'webgpu', 40, 50);
    expect(kinds(done)).toEqual(['outbox-put', 'send:result', 'load-cached-model']);
    expect(v.stats()).toMatchObject({ phase: 'fetching-model', currentShard: 'j1/1', queuedLeases: 0 });
    const next = v.modelFromCache(HASH_A, MODEL);
    expect(effect(next, 'run').leaseId).toBe('l2');
    expect(types(next)).toEqual(['lease-request']);
  });

  it('a no-work answer to the prefetch leaves the run alone; the volunteer asks again when it ends', () => {
    const { v } = pipelined();
    expect(kinds(v.receive({ v: V, t: 'no-work', retryInMs: 1_000 }, 3))).toEqual([]);
    expect(v.stats().phase).toBe('running');
    expect(types(v.inferenceDone(asLeaseId('l1'), OUTPUTS, 'webgpu', 40, 50))).toEqual(['result', 'lease-request']);
  });

  it('a prefetch still unanswered when the run ends is not asked twice; its lease starts on arrival', () => {
    const { v } = pipelined();
    expect(types(v.inferenceDone(asLeaseId('l1'), OUTPUTS, 'webgpu', 40, 50))).toEqual(['result']);
    expect(v.stats().phase).toBe('asking');
    expect(effect(v.receive(lease('l2', 1), 51), 'load-cached-model').hash).toBe(HASH_A);
    expect(v.stats()).toMatchObject({ phase: 'fetching-model', currentShard: 'j1/1', queuedLeases: 0 });
  });

  it('the depth is configurable: 2 holds three leases; 0 asks only after a run', () => {
    const deep = pipelined({ prefetch: 2 }).v;
    expect(types(deep.receive(lease('l2', 1), 3))).toEqual(['lease-request']);
    expect(types(deep.receive(lease('l3', 2), 4))).toEqual([]);
    expect(deep.stats().queuedLeases).toBe(2);

    const { v, onRun } = pipelined({ prefetch: 0 });
    expect(kinds(onRun)).toEqual(['run']);
    expect(types(v.inferenceDone(asLeaseId('l1'), OUTPUTS, 'webgpu', 40, 50))).toEqual(['result', 'lease-request']);
  });

  it('[W-5] a lease beyond the queue (not asked for) is still handed straight back', () => {
    const { v } = pipelined();
    v.receive(lease('l2', 1), 3);
    expect(sent(v.receive(lease('l3', 2), 4))).toEqual([{ v: V, t: 'lease-abandon', leaseId: 'l3', reason: 'not requested' }]);
    expect(v.stats().queuedLeases).toBe(1);
  });

  it('[W-11] a pause hands back every lease held, the running one and the queued ones; one crossing the pause too', () => {
    const { v } = pipelined({ prefetch: 2 });
    v.receive(lease('l2', 1), 3);
    const fx = v.setPaused(true, 'you paused it', 4);
    expect(sent(fx)).toEqual([
      { v: V, t: 'volunteer-state', paused: true, reason: 'you paused it' },
      { v: V, t: 'lease-abandon', leaseId: 'l1', reason: 'paused' },
      { v: V, t: 'lease-abandon', leaseId: 'l2', reason: 'paused' },
    ]);
    expect(v.stats()).toMatchObject({ phase: 'paused', currentShard: null, queuedLeases: 0 });
    // The second prefetch request crossed the pause.
    expect(sent(v.receive(lease('l3', 2), 5))).toEqual([{ v: V, t: 'lease-abandon', leaseId: 'l3', reason: 'paused' }]);
    expect(kinds(v.inferenceDone(asLeaseId('l1'), OUTPUTS, 'webgpu', 40, 6))).toEqual([]);
    expect(types(v.setPaused(false, '', 7))).toEqual(['volunteer-state', 'lease-request']);
  });

  it('[W-2] [W-16] a disconnect drops the queued lease (the coordinator released it) but not the run; its result leads after the welcome', () => {
    const { v } = pipelined();
    v.receive(lease('l2', 1), 3);
    expect(kinds(v.disconnected(4))).toEqual([]); // nothing to send to a coordinator that is gone
    expect(v.stats()).toMatchObject({ phase: 'running', currentShard: 'j1/0', queuedLeases: 0 });
    expect(kinds(v.inferenceDone(asLeaseId('l1'), OUTPUTS, 'webgpu', 40, 5))).toEqual(['outbox-put']);
    expect(v.stats().phase).toBe('connecting');
    v.connected(6);
    expect(types(v.receive(welcome(), 7))).toEqual(['result', 'lease-request']);
    // A lease for the request before the disconnect is not a queued one now: it is the one asked for.
    expect(v.receive(lease('l3', 2), 8).some((e) => e.kind === 'load-cached-model')).toBe(true);
  });

  it('[W-12] under a CPU cap no lease is queued; one queued before the cap was lowered starts after the rest', () => {
    const capped = new VolunteerCore(caps('webgpu'), 'tab');
    capped.setCpuCap(50, 0);
    capped.connected(0);
    capped.receive(welcome(), 1);
    capped.receive(lease('l1', 0), 2);
    expect(kinds(capped.modelFromCache(HASH_A, MODEL))).toEqual(['run']);

    const { v } = pipelined();
    v.receive(lease('l2', 1), 3);
    v.setCpuCap(50, 4);
    const done = v.inferenceDone(asLeaseId('l1'), OUTPUTS, 'webgpu', 100, 200);
    expect(kinds(done)).toEqual(['outbox-put', 'send:result', 'wake-at']);
    expect(v.stats()).toMatchObject({ phase: 'resting', queuedLeases: 1 });
    expect(kinds(v.wake(250))).toEqual(['wake-at']);
    const woke = v.wake(300);
    expect(kinds(woke)).toEqual(['load-cached-model']);
    expect(v.stats()).toMatchObject({ currentShard: 'j1/1', queuedLeases: 0 });
    expect(kinds(v.modelFromCache(HASH_A, MODEL))).toEqual(['run']); // still capped: no prefetch
  });

  it('[W-7] a failed run is given back with a back-off; the queued lease starts when it ends, without asking', () => {
    const { v } = pipelined();
    v.receive(lease('l2', 1), 3);
    const fx = v.inferenceFailed(asLeaseId('l1'), 'boom');
    expect(sent(fx)).toEqual([{ v: V, t: 'lease-abandon', leaseId: 'l1', reason: 'inference failed: boom' }]);
    expect(v.stats()).toMatchObject({ phase: 'idle', queuedLeases: 1 });
    const atMs = effect(fx, 'wake-at').atMs;
    expect(kinds(v.wake(atMs))).toEqual(['load-cached-model']);
    expect(v.stats().currentShard).toBe('j1/1');
  });

  it('[W-3] [W-6] a queued lease of another model gets that model when it starts: from the cache, or downloaded', () => {
    const { v } = pipelined();
    v.receive(lease('l2', 1, HASH_B), 3);
    const done = v.inferenceDone(asLeaseId('l1'), OUTPUTS, 'webgpu', 40, 50);
    expect(effect(done, 'load-cached-model').hash).toBe(HASH_B);
    expect(sent(v.modelFromCache(HASH_B, null))).toEqual([{ v: V, t: 'model-request', hash: HASH_B, offset: 0 }]);
    expect(v.stats()).toMatchObject({ phase: 'fetching-model', currentModel: HASH_B, currentShard: 'j1/1' });
  });

  it('[W-9] [W-17] a refusal or a fresh peer id forgets queued leases', () => {
    const { v } = pipelined();
    v.receive(lease('l2', 1), 3);
    expect(types(v.receive({ v: V, t: 'refused', reason: 'full', expectedVersion: V }, 4))).toEqual([]);
    expect(v.stats()).toMatchObject({ phase: 'refused', currentShard: null, queuedLeases: 0 });

    const w = pipelined().v;
    w.receive(lease('l2', 1), 3);
    w.identityChanged(4);
    expect(w.stats().queuedLeases).toBe(0);
  });
});

describe('VolunteerCore: progress on leases held [W-21]', () => {
  const lease = (id: string, index: number): LeaseMsg => ({ ...leaseMsg(id), shardId: shardIdOf(asJobId('j1'), index) });
  const progressOf = (fx: readonly VolunteerEffect[]): { leaseId: string; elapsedMs: number }[] =>
    sent(fx).flatMap((m) => (m.t === 'lease-progress' ? [{ leaseId: m.leaseId, elapsedMs: m.elapsedMs }] : []));

  it('[W-21] [L-10] while a shard runs, it says so every interval until the result goes out', () => {
    const v = asking();
    const onLease = v.receive(leaseMsg(), 2);
    expect(effect(onLease, 'progress-at').atMs).toBe(2 + LEASE_PROGRESS_INTERVAL_MS);
    v.modelFromCache(HASH_A, MODEL);
    expect(v.stats().phase).toBe('running');
    let at = 2;
    for (let i = 1; i <= 7; i++) {
      at += LEASE_PROGRESS_INTERVAL_MS;
      const fx = v.progressDue(at);
      expect(progressOf(fx)).toEqual([{ leaseId: 'l1', elapsedMs: at - 2 }]);
      expect(effect(fx, 'progress-at').atMs).toBe(at + LEASE_PROGRESS_INTERVAL_MS);
    }
    // 73 s in: the result goes out, and the next timer says nothing and sets no other.
    v.inferenceDone(asLeaseId('l1'), OUTPUTS, 'webgpu', 73_000, 73_002);
    const after = v.progressDue(at + LEASE_PROGRESS_INTERVAL_MS);
    expect(progressOf(after)).toEqual([]);
    expect(after.some((e) => e.kind === 'progress-at')).toBe(false);
  });

  it('[W-21] an early or stale timer sends nothing before the interval and re-arms for it', () => {
    const v = asking();
    v.receive(leaseMsg(), 2);
    v.modelFromCache(HASH_A, MODEL);
    const early = v.progressDue(5_000);
    expect(progressOf(early)).toEqual([]);
    expect(effect(early, 'progress-at').atMs).toBe(2 + LEASE_PROGRESS_INTERVAL_MS);
  });

  it('[W-21] [W-18] a lease queued behind the running one is reported too, from when it arrived', () => {
    const v = new VolunteerCore(caps('webgpu'), 'tab');
    v.connected(0);
    v.receive(welcome(), 1);
    v.receive(lease('l1', 0), 2);
    v.modelFromCache(HASH_A, MODEL);
    v.receive(lease('l2', 1), 3);
    expect(v.stats().queuedLeases).toBe(1);
    const first = v.progressDue(2 + LEASE_PROGRESS_INTERVAL_MS);
    expect(progressOf(first)).toEqual([{ leaseId: 'l1', elapsedMs: LEASE_PROGRESS_INTERVAL_MS }]);
    expect(effect(first, 'progress-at').atMs).toBe(3 + LEASE_PROGRESS_INTERVAL_MS);
    expect(progressOf(v.progressDue(3 + LEASE_PROGRESS_INTERVAL_MS))).toEqual([{ leaseId: 'l2', elapsedMs: LEASE_PROGRESS_INTERVAL_MS }]);
  });

  it('[W-21] [W-6] a lease whose model is still downloading is reported too', () => {
    const v = fetching();
    expect(v.stats().phase).toBe('fetching-model');
    expect(progressOf(v.progressDue(2 + LEASE_PROGRESS_INTERVAL_MS))).toEqual([{ leaseId: 'l1', elapsedMs: LEASE_PROGRESS_INTERVAL_MS }]);
  });

  it('[W-21] [W-2] nothing is said while the coordinator is away; the run it outlives is reported after the next welcome', () => {
    const v = asking();
    v.receive(leaseMsg(), 2);
    v.modelFromCache(HASH_A, MODEL);
    v.disconnected(3);
    const away = v.progressDue(2 + LEASE_PROGRESS_INTERVAL_MS);
    expect(progressOf(away)).toEqual([]);
    const rearm = effect(away, 'progress-at').atMs;
    v.connected(rearm - 10);
    v.receive(welcome(), rearm - 5);
    expect(progressOf(v.progressDue(rearm))).toEqual([{ leaseId: 'l1', elapsedMs: rearm - 2 }]);
  });

  it('[W-21] [W-11] leases handed back at a pause are not reported', () => {
    const v = asking();
    v.receive(leaseMsg(), 2);
    v.modelFromCache(HASH_A, MODEL);
    v.setPaused(true, 'user', 3);
    const fx = v.progressDue(2 + LEASE_PROGRESS_INTERVAL_MS);
    expect(progressOf(fx)).toEqual([]);
    expect(fx.some((e) => e.kind === 'progress-at')).toBe(false);
  });

  it('[W-21] [W-5] a lease handed straight back is never reported', () => {
    const v = asking();
    v.receive(leaseMsg('l1'), 2);
    v.modelFromCache(HASH_A, MODEL);
    v.receive(leaseMsg('l9'), 3); // not asked for (SERIAL): handed back at once
    expect(progressOf(v.progressDue(3 + LEASE_PROGRESS_INTERVAL_MS)).map((p) => p.leaseId)).toEqual(['l1']);
  });
});
