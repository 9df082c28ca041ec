/**
 * One contract suite for InferenceEngine, run against ortEngine (onnxruntime-web's WASM EP in
 * Node) and against workerEngine talking to the same engine over a MessageChannel, which is what
 * the browser Worker does minus the thread. Real models, real ORT; no mocks of ORT.
 */
import { readFileSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { buildModel, buildProbeModel, probeModelSource } from '../../scripts/make-probe-model.ts';
import type { ModelHash } from '../protocol/ids.ts';
import type { WireTensor } from '../protocol/tensor.ts';
import { InferenceError } from './engine.ts';
import type { CapabilitiesListener, InferenceEngine } from './engine.ts';
import { createOrtEngine } from './ortEngine.ts';
import { PROBE_MODEL_BYTES } from './probeModel.ts';
import { sha256Hex } from './sha256.ts';
import { createWorkerEngine } from './workerEngine.ts';
import type { WorkerLike } from './workerEngine.ts';
import { serveEngine } from './workerServer.ts';
import type { MessageEndpoint } from './workerServer.ts';

type Engine = InferenceEngine & { onCapabilitiesChanged(listener: CapabilitiesListener): () => void };

const MNIST = new URL('../../public/models/mnist-mlp.onnx', import.meta.url);

const f32 = (name: string, dims: number[], values: number[]): WireTensor => ({
  name,
  dtype: 'float32',
  dims,
  data: new Float32Array(values).buffer,
});
const copyOf = (bytes: Uint8Array): ArrayBuffer => bytes.slice().buffer;

/** A workerEngine whose "worker" is the other end of a MessageChannel served by a real ortEngine. */
function channelWorkerEngine(): Engine {
  const { port1, port2 } = new MessageChannel();
  serveEngine(port2 as unknown as MessageEndpoint, createOrtEngine());
  const worker: WorkerLike = {
    postMessage: (msg, transfer) => port1.postMessage(msg, transfer as Transferable[]),
    addEventListener: (type: string, listener: (event: never) => void) =>
      port1.addEventListener(type as 'message', listener as unknown as (e: MessageEvent) => void),
    terminate: () => {
      port1.close();
      port2.close();
    },
  };
  port1.start();
  port2.start();
  return createWorkerEngine({ spawn: () => worker });
}

describe('the generated probe model', () => {
  it('matches scripts/make-probe-model.ts (regenerate with `npx tsx scripts/make-probe-model.ts`)', () => {
    const bytes = buildProbeModel();
    // Bytes, not file text, so a formatter run cannot break this. PROBE_EXPECTED is checked by
    // every init(), which runs the probe and compares.
    expect(Array.from(PROBE_MODEL_BYTES)).toEqual(Array.from(bytes));
    expect(probeModelSource(bytes)).toContain(`A ${bytes.length}-byte ONNX model`);
  });
});

describe.each([
  ['ortEngine', (): Engine => createOrtEngine()],
  ['workerEngine over a MessageChannel', channelWorkerEngine],
])('InferenceEngine contract: %s', (_name, make) => {
  let engine: Engine;
  let probeHash: ModelHash;
  beforeEach(async () => {
    engine = make();
    probeHash = await sha256Hex(PROBE_MODEL_BYTES);
  });
  afterEach(async () => {
    await engine.dispose();
  });

  it('reports WASM in Node, with the reason and the real ORT version', async () => {
    const caps = await engine.init({ backend: 'auto', threads: 4 });
    expect(caps).toEqual({
      backend: 'wasm',
      adapter: null,
      backendReason: 'WebGPU unavailable: navigator.gpu missing',
      ortVersion: '1.30.0',
      threads: 1, // not cross-origin isolated
    });
  });

  it('says "WASM requested" when asked for WASM', async () => {
    expect((await engine.init({ backend: 'wasm', threads: 1 })).backendReason).toBe('WASM requested');
  });

  it('refuses work before init', async () => {
    await expect(engine.loadModel(probeHash, copyOf(PROBE_MODEL_BYTES))).rejects.toThrow(/call init\(\) first/);
  });

  it('loads the probe model, reports its signature, and runs it exactly', async () => {
    await engine.init({ backend: 'auto', threads: 1 });
    const sig = await engine.loadModel(probeHash, copyOf(PROBE_MODEL_BYTES));
    expect(sig).toEqual({
      inputs: [{ name: 'x', dtype: 'float32', dims: ['batch', 4] }],
      outputs: [{ name: 'y', dtype: 'float32', dims: ['batch', 2] }],
    });
    // Loading again is a cache hit.
    expect(await engine.loadModel(probeHash, copyOf(PROBE_MODEL_BYTES))).toEqual(sig);
    const result = await engine.run(probeHash, [f32('x', [2, 4], [1, 2, 3, 4, 0, 0, 0, 1])]);
    expect(result.backend).toBe('wasm');
    expect(result.inferMs).toBeGreaterThanOrEqual(0);
    expect(result.outputs).toHaveLength(1);
    const [y] = result.outputs;
    expect(y).toMatchObject({ name: 'y', dtype: 'float32', dims: [2, 2] });
    expect(y?.data.byteLength).toBe(16);
    expect(Array.from(new Float32Array(y?.data ?? new ArrayBuffer(0)))).toEqual([8.5, 7.25, 3.5, 0.5]);
  });

  it('serialises concurrent runs', async () => {
    await engine.init({ backend: 'auto', threads: 1 });
    await engine.loadModel(probeHash, copyOf(PROBE_MODEL_BYTES));
    const runs = await Promise.all([1, 2, 3, 4, 5].map((k) => engine.run(probeHash, [f32('x', [1, 4], [k, 0, 0, 0])])));
    expect(runs.map((r) => new Float32Array(r.outputs[0]?.data ?? new ArrayBuffer(0))[0])).toEqual([1.5, 2.5, 3.5, 4.5, 5.5]);
  });

  it('carries int64, int32, int8, uint8 and bool both ways', async () => {
    await engine.init({ backend: 'wasm', threads: 1 });
    const model = buildModel({
      inputs: [
        { name: 'i64', type: 'int64', dims: ['n'] },
        { name: 'i32', type: 'int32', dims: ['n'] },
        { name: 'i8', type: 'int8', dims: ['n'] },
        { name: 'u8', type: 'uint8', dims: ['n'] },
        { name: 'flag', type: 'bool', dims: ['n'] },
      ],
      outputs: [
        { name: 'i64_twice', type: 'int64', dims: ['n'] },
        { name: 'i32_twice', type: 'int32', dims: ['n'] },
        { name: 'i8_neg', type: 'int8', dims: ['n'] },
        { name: 'u8_f', type: 'float32', dims: ['n'] },
        { name: 'flag_not', type: 'bool', dims: ['n'] },
      ],
      nodes: [
        { op: 'Add', inputs: ['i64', 'i64'], outputs: ['i64_twice'] },
        { op: 'Add', inputs: ['i32', 'i32'], outputs: ['i32_twice'] },
        { op: 'Neg', inputs: ['i8'], outputs: ['i8_neg'] },
        { op: 'Cast', inputs: ['u8'], outputs: ['u8_f'], intAttrs: { to: 1 } },
        { op: 'Not', inputs: ['flag'], outputs: ['flag_not'] },
      ],
    });
    const hash = await sha256Hex(model);
    const sig = await engine.loadModel(hash, copyOf(model));
    expect(sig.inputs.map((p) => p.dtype)).toEqual(['int64', 'int32', 'int8', 'uint8', 'bool']);
    const big = 2n ** 40n + 3n; // beyond float precision: must survive as a real int64
    const result = await engine.run(hash, [
      { name: 'i64', dtype: 'int64', dims: [2], data: new BigInt64Array([big, -5n]).buffer },
      { name: 'i32', dtype: 'int32', dims: [2], data: new Int32Array([7, -8]).buffer },
      { name: 'i8', dtype: 'int8', dims: [2], data: new Int8Array([3, -128]).buffer },
      { name: 'u8', dtype: 'uint8', dims: [2], data: new Uint8Array([0, 255]).buffer },
      { name: 'flag', dtype: 'bool', dims: [2], data: new Uint8Array([1, 0]).buffer },
    ]);
    const out = new Map(result.outputs.map((t) => [t.name, t]));
    expect(Array.from(new BigInt64Array(out.get('i64_twice')?.data ?? new ArrayBuffer(0)))).toEqual([2n * big, -10n]);
    expect(Array.from(new Int32Array(out.get('i32_twice')?.data ?? new ArrayBuffer(0)))).toEqual([14, -16]);
    expect(Array.from(new Int8Array(out.get('i8_neg')?.data ?? new ArrayBuffer(0)))).toEqual([-3, -128]); // wraps
    expect(Array.from(new Float32Array(out.get('u8_f')?.data ?? new ArrayBuffer(0)))).toEqual([0, 255]);
    expect(out.get('flag_not')).toMatchObject({ dtype: 'bool', dims: [2] });
    expect(Array.from(new Uint8Array(out.get('flag_not')?.data ?? new ArrayBuffer(0)))).toEqual([0, 1]);
  });

  it('explains a model it cannot load', async () => {
    await engine.init({ backend: 'auto', threads: 1 });
    const junk = new Uint8Array([1, 2, 3, 4]);
    const err = await engine.loadModel(await sha256Hex(junk), copyOf(junk)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InferenceError);
    expect((err as Error).message).toMatch(/^This model cannot be loaded by onnxruntime-web 1\.30\.0 on wasm: .*protobuf parsing failed/);
  });

  it('explains bad inputs and unknown models, and keeps working afterwards', async () => {
    await engine.init({ backend: 'auto', threads: 1 });
    await engine.loadModel(probeHash, copyOf(PROBE_MODEL_BYTES));
    await expect(engine.run(probeHash, [f32('x', [1, 3], [1, 2, 3])])).rejects.toThrow('Input "x" has shape [1, 3], but the model expects [batch, 4].');
    await expect(engine.run(probeHash, [f32('z', [1, 4], [1, 2, 3, 4])])).rejects.toThrow(/needs an input named "x"/);
    await expect(engine.run(probeHash, [{ ...f32('x', [1, 4], [1, 2, 3, 4]), data: new ArrayBuffer(4) }])).rejects.toThrow(/has 4 bytes/);
    const other = '0'.repeat(64) as ModelHash;
    await expect(engine.run(other, [])).rejects.toThrow(/Model 000000000000 is not loaded/);
    const ok = await engine.run(probeHash, [f32('x', [1, 4], [1, 2, 3, 4])]);
    expect(Array.from(new Float32Array(ok.outputs[0]?.data ?? new ArrayBuffer(0)))).toEqual([8.5, 7.25]);
  });

  it('forgets unloaded models and refuses work once disposed', async () => {
    await engine.init({ backend: 'auto', threads: 1 });
    await engine.loadModel(probeHash, copyOf(PROBE_MODEL_BYTES));
    await engine.unloadModel(probeHash);
    await expect(engine.run(probeHash, [f32('x', [1, 4], [1, 2, 3, 4])])).rejects.toThrow(/not loaded/);
    await engine.dispose();
    await expect(engine.init({ backend: 'auto', threads: 1 })).rejects.toThrow(/disposed/);
  });

  it('runs public/models/mnist-mlp.onnx (committed, so never skipped)', async () => {
    await engine.init({ backend: 'auto', threads: 1 });
    const bytes = new Uint8Array(readFileSync(MNIST));
    const hash = await sha256Hex(bytes);
    const sig = await engine.loadModel(hash, copyOf(bytes));
    expect(sig.inputs[0]).toMatchObject({ name: 'pixels', dtype: 'float32' });
    expect(sig.outputs[0]).toMatchObject({ name: 'logits', dtype: 'float32' });
    const batch = 8;
    const pixels = Array.from({ length: batch * 784 }, (_, i) => ((i * 7919) % 256) / 255);
    const result = await engine.run(hash, [f32('pixels', [batch, 784], pixels)]);
    expect(result.outputs[0]).toMatchObject({ name: 'logits', dims: [batch, 10] });
    expect(new Float32Array(result.outputs[0]?.data ?? new ArrayBuffer(0)).every(Number.isFinite)).toBe(true);
  });
});

describe('ortEngine backend choice when WebGPU is offered', () => {
  const realNavigator = Object.getOwnPropertyDescriptor(globalThis, 'navigator');
  const withGpu = (gpu: unknown): void => {
    Object.defineProperty(globalThis, 'navigator', { value: { gpu }, configurable: true, writable: true });
  };
  afterEach(() => {
    if (realNavigator) Object.defineProperty(globalThis, 'navigator', realNavigator);
    else delete (globalThis as { navigator?: unknown }).navigator;
  });

  it('falls back to WASM when there is no adapter', async () => {
    withGpu({ requestAdapter: async () => null });
    const engine = createOrtEngine();
    expect(await engine.init({ backend: 'auto', threads: 1 })).toMatchObject({
      backend: 'wasm',
      adapter: null,
      backendReason: 'WebGPU unavailable: no adapter',
    });
    await engine.dispose();
  });

  it('falls back to WASM when requestAdapter throws', async () => {
    withGpu({ requestAdapter: async () => Promise.reject(new Error('GPU process crashed')) });
    const engine = createOrtEngine();
    expect((await engine.init({ backend: 'webgpu', threads: 1 })).backendReason).toBe('WebGPU unavailable: requestAdapter failed: GPU process crashed');
    await engine.dispose();
  });

  it('falls back to WASM when the probe cannot run on the adapter', async () => {
    // An adapter exists, but this ORT build (Node) has no WebGPU EP: the probe must catch that.
    withGpu({ requestAdapter: async () => ({ info: { vendor: 'acme', architecture: 'x', description: '', isFallbackAdapter: false } }) });
    const engine = createOrtEngine();
    const caps = await engine.init({ backend: 'auto', threads: 1 });
    expect(caps.backend).toBe('wasm');
    expect(caps.adapter).toBeNull();
    expect(caps.backendReason).toMatch(/^WebGPU failed: .*webgpu/i);
    await engine.dispose();
  });
});

describe('workerEngine when the worker dies', () => {
  function fakeWorker(): WorkerLike & { fire(type: string, event: unknown): void; posted: unknown[]; terminated: boolean } {
    const listeners = new Map<string, ((e: never) => void)[]>();
    const w = {
      posted: [] as unknown[],
      terminated: false,
      postMessage: (msg: unknown) => void w.posted.push(msg),
      addEventListener: (type: string, l: (e: never) => void) => void listeners.set(type, [...(listeners.get(type) ?? []), l]),
      terminate: () => void (w.terminated = true),
      fire: (type: string, event: unknown) => listeners.get(type)?.forEach((l) => l(event as never)),
    };
    return w;
  }

  it('rejects pending and later calls with a clear InferenceError', async () => {
    const worker = fakeWorker();
    const engine = createWorkerEngine({ spawn: () => worker });
    const pending = engine.init({ backend: 'auto', threads: 1 });
    worker.fire('error', { message: 'Uncaught RangeError: Array buffer allocation failed' });
    await expect(pending).rejects.toThrow(InferenceError);
    await expect(pending).rejects.toThrow('The inference worker stopped (Uncaught RangeError: Array buffer allocation failed). Reload the page to restart it.');
    await expect(engine.run('a' as ModelHash, [])).rejects.toThrow(/worker stopped/);
    expect(worker.terminated).toBe(true);
  });

  it("forwards capability changes and rejects with the worker's message", async () => {
    const worker = fakeWorker();
    const engine = createWorkerEngine({ spawn: () => worker });
    const seen: string[] = [];
    engine.onCapabilitiesChanged((c) => seen.push(c.backendReason));
    const a = engine.unloadModel('a' as ModelHash);
    await Promise.resolve(); // calls are serialised: the request is posted on a later tick
    await Promise.resolve();
    const [reqA] = worker.posted as { id: number }[];
    worker.fire('message', { data: { type: 'response', id: 999, ok: true, value: null } }); // unknown id: ignored
    worker.fire('message', { data: { type: 'event', kind: 'capabilitiesChanged', capabilities: { backendReason: 'lost' } } });
    worker.fire('message', { data: { type: 'response', id: reqA?.id, ok: false, error: 'nope' } });
    await expect(a).rejects.toThrow(InferenceError);
    await expect(a).rejects.toThrow('nope');
    expect(seen).toEqual(['lost']);
  });

  it('replaces a worker stuck after a mid-run WebGPU loss with a fresh one on WASM, and retries', async () => {
    const gpuCaps = { backend: 'webgpu', adapter: null, backendReason: 'WebGPU available', ortVersion: '1.30.0', threads: 2 };
    const log: string[] = [];
    let spawned = 0;
    // A scripted worker: #1 is on WebGPU and gets stuck on its first run; #2 is a healthy WASM one.
    const spawn = (): WorkerLike => {
      const n = ++spawned;
      let onMessage: (e: { data: unknown }) => void = () => undefined;
      const reply = (data: unknown): void => void setTimeout(() => onMessage({ data }), 0);
      return {
        addEventListener: (type: string, l: (e: never) => void) => {
          if (type === 'message') onMessage = l as (e: { data: unknown }) => void;
        },
        terminate: () => log.push(`terminate #${n}`),
        postMessage: (msg) => {
          const req = msg as { id: number; kind: string; prefs?: { backend: string; threads: number } };
          log.push(`#${n} ${req.kind}${req.prefs ? ` ${req.prefs.backend}/${req.prefs.threads}` : ''}`);
          const ok = (value: unknown): void => reply({ type: 'response', id: req.id, ok: true, value });
          if (req.kind === 'init') ok(n === 1 ? gpuCaps : { ...gpuCaps, backend: 'wasm', backendReason: 'WASM requested' });
          else if (req.kind === 'load') ok({ inputs: [], outputs: [] });
          else if (req.kind === 'run' && n === 1) {
            const lost = { ...gpuCaps, backend: 'wasm', backendReason: 'WebGPU failed mid-job (device lost); switched to WASM' };
            reply({ type: 'event', kind: 'capabilitiesChanged', capabilities: lost });
            reply({ type: 'response', id: req.id, ok: false, error: 'onnxruntime-web is stuck' });
          } else if (req.kind === 'run') ok({ outputs: [], inferMs: 1, backend: 'wasm' });
        },
      };
    };
    const engine = createWorkerEngine({ spawn });
    const changes: string[] = [];
    engine.onCapabilitiesChanged((c) => changes.push(`${c.backend}: ${c.backendReason}`));
    expect((await engine.init({ backend: 'auto', threads: 2 })).backend).toBe('webgpu');
    await engine.loadModel('m1' as ModelHash, new ArrayBuffer(8));
    await engine.loadModel('m2' as ModelHash, new ArrayBuffer(8));
    const result = await engine.run('m1' as ModelHash, []);
    expect(result.backend).toBe('wasm');
    expect(changes).toEqual(['wasm: WebGPU failed mid-job (device lost); switched to WASM']);
    expect(log).toEqual(['#1 init auto/2', '#1 load', '#1 load', '#1 run', 'terminate #1', '#2 init wasm/2', '#2 load', '#2 load', '#2 run']);
    // Later failures on WASM are just failures: no more restarts.
    await engine.dispose();
  });

  it('copies inputs by default and moves them with transferInputs', async () => {
    for (const transferInputs of [false, true]) {
      const { port1, port2 } = new MessageChannel();
      serveEngine(port2 as unknown as MessageEndpoint, createOrtEngine());
      const worker: WorkerLike = {
        postMessage: (msg, transfer) => port1.postMessage(msg, transfer as Transferable[]),
        addEventListener: (type: string, l: (e: never) => void) => port1.addEventListener(type as 'message', l as never),
        terminate: () => port1.close(),
      };
      port1.start();
      port2.start();
      const engine = createWorkerEngine({ spawn: () => worker, transferInputs });
      await engine.init({ backend: 'wasm', threads: 1 });
      const model = copyOf(PROBE_MODEL_BYTES);
      const x = f32('x', [1, 4], [1, 2, 3, 4]);
      await engine.loadModel(await sha256Hex(PROBE_MODEL_BYTES), model);
      const r = await engine.run(await sha256Hex(PROBE_MODEL_BYTES), [x]);
      expect(r.outputs[0]?.data.byteLength).toBe(8);
      expect(model.byteLength).toBe(transferInputs ? 0 : PROBE_MODEL_BYTES.length);
      expect(x.data.byteLength).toBe(transferInputs ? 0 : 16);
      await engine.dispose();
      port2.close();
    }
  });
});
