/**
 * The InferenceEngine on onnxruntime-node's CPU execution provider, for headless volunteers
 * (`quorum volunteer`): the only file under src/ that imports onnxruntime-node (eslint enforces
 * this). It implements the same interface as ortEngine.ts, so anything that wraps an engine (the
 * volunteer's host, a bundle loader) wraps this one too.
 *
 * Honesty rule, as in the browser: the backend is reported only after the built-in probe model
 * ran on it and gave the exact numbers; results always say `node-cpu`, the provider that ran.
 */
import { SerialQueue } from './serialQueue.ts';
import * as ort from 'onnxruntime-node';
import type { Capabilities } from '../protocol/capabilities.ts';
import type { ModelHash } from '../protocol/ids.ts';
import type { WireTensor } from '../protocol/tensor.ts';
import { InferenceError } from './engine.ts';
import type { CapabilitiesListener, EnginePreferences, InferenceEngine, InferenceResult, ModelPort, ModelSignature } from './engine.ts';
import { PROBE_EXPECTED, PROBE_INPUT, PROBE_MODEL_BYTES } from './probeModel.ts';
import { checkInputs, knownDim, ownBytes, toTensorDtype, typedView } from './tensors.ts';
import { errorMessage } from '../protocol/errorMessage.ts';

const shortHash = (hash: ModelHash): string => hash.slice(0, 12);

/** The most intra-op threads one session may ask for; more than the machine has only slows it. */
const MAX_THREADS = 256;

function portOf(meta: ort.InferenceSession.ValueMetadata): ModelPort {
  if (!meta.isTensor) return { name: meta.name, dtype: null, dims: null };
  return { name: meta.name, dtype: toTensorDtype(meta.type), dims: meta.shape.map(knownDim) };
}

class OrtNodeEngine implements InferenceEngine {
  private caps: Capabilities | null = null;
  private threads = 1;
  private disposed = false;
  private disposing: Promise<void> | null = null;
  private readonly sessions = new Map<ModelHash, { readonly session: ort.InferenceSession; readonly signature: ModelSignature }>();
  /**
   * Every operation runs alone: a volunteer runs one shard at a time, and intra-op threads are
   * how one shard uses several cores, so overlapping runs would only fight over them.
   */
  private readonly queue = new SerialQueue(() => this.disposed);

  init(prefs: EnginePreferences): Promise<Capabilities> {
    return this.serial(async () => {
      if (this.caps) return this.caps;
      // 'wasm' asks for the CPU (a coordinator's ModelInspector does): here the CPU is node-cpu.
      if (prefs.backend === 'webgpu') {
        throw new InferenceError(`onnxruntime-node runs on the CPU (node-cpu); ${prefs.backend} exists only in a browser tab: open the volunteer page for it.`);
      }
      this.threads = Math.min(MAX_THREADS, Math.max(1, Math.floor(prefs.threads) || 1));
      const ortVersion = ort.env.versions.node ?? ort.env.versions.common;
      try {
        await this.probe();
      } catch (err) {
        throw new InferenceError(`onnxruntime-node ${ortVersion} could not run the probe model on the CPU: ${errorMessage(err)}`);
      }
      const how = prefs.backend === 'node-cpu' ? 'node-cpu requested' : 'headless volunteer';
      this.caps = {
        backend: 'node-cpu',
        adapter: null,
        backendReason: `${how}: probe model ran on onnxruntime-node's CPU provider`,
        ortVersion,
        threads: this.threads,
      };
      return this.caps;
    });
  }

  loadModel(hash: ModelHash, bytes: ArrayBuffer): Promise<ModelSignature> {
    return this.serial(async () => {
      this.requireInit();
      const known = this.sessions.get(hash);
      if (known) return known.signature;
      let session: ort.InferenceSession;
      try {
        session = await this.createSession(new Uint8Array(bytes));
      } catch (err) {
        throw new InferenceError(`This model cannot be loaded by onnxruntime-node ${this.caps?.ortVersion ?? ''} on node-cpu: ${errorMessage(err)}`);
      }
      const signature = { inputs: session.inputMetadata.map(portOf), outputs: session.outputMetadata.map(portOf) };
      this.sessions.set(hash, { session, signature });
      return signature;
    });
  }

  run(hash: ModelHash, inputs: readonly WireTensor[]): Promise<InferenceResult> {
    return this.serial(async () => {
      this.requireInit();
      const entry = this.sessions.get(hash);
      if (!entry) throw new InferenceError(`Model ${shortHash(hash)} is not loaded; call loadModel first.`);
      checkInputs(entry.signature, inputs);
      const feeds: Record<string, ort.Tensor> = {};
      for (const t of inputs) feeds[t.name] = new ort.Tensor(t.dtype, typedView(t), [...t.dims]);
      const started = performance.now();
      let results: ort.InferenceSession.ReturnType;
      try {
        results = await entry.session.run(feeds);
      } catch (err) {
        throw new InferenceError(`Model ${shortHash(hash)} failed to run on node-cpu: ${errorMessage(err)}`);
      }
      const inferMs = performance.now() - started;
      const outputs: WireTensor[] = entry.session.outputNames.map((name) => {
        const value = results[name];
        const dtype = value ? toTensorDtype(value.type) : null;
        if (!value || dtype === null) throw new InferenceError(`Output "${name}" has type ${value?.type ?? 'none'}, which Quorum cannot carry.`);
        // ownBytes copies when the tensor is a window into a bigger native buffer.
        return { name, dtype, dims: [...value.dims], data: ownBytes(value.data as ArrayBufferView) };
      });
      return { outputs, inferMs, backend: 'node-cpu' };
    });
  }

  unloadModel(hash: ModelHash): Promise<void> {
    return this.serial(async () => {
      const entry = this.sessions.get(hash);
      this.sessions.delete(hash);
      await entry?.session.release().catch(() => undefined);
    });
  }

  dispose(): Promise<void> {
    this.disposing ??= this.serial(async () => {
      this.disposed = true;
      const sessions = [...this.sessions.values()];
      this.sessions.clear();
      await Promise.all(sessions.map((e) => e.session.release().catch(() => undefined)));
    });
    return this.disposing;
  }

  /** The CPU provider never changes under a running process: nothing will be reported. */
  onCapabilitiesChanged(_listener: CapabilitiesListener): () => void {
    return () => undefined;
  }

  private createSession(bytes: Uint8Array): Promise<ort.InferenceSession> {
    return ort.InferenceSession.create(bytes, {
      executionProviders: ['cpu'],
      graphOptimizationLevel: 'all',
      intraOpNumThreads: this.threads,
      // One shard at a time per volunteer: parallel branches of a graph are not worth a second pool.
      interOpNumThreads: 1,
    });
  }

  private async probe(): Promise<void> {
    const session = await this.createSession(PROBE_MODEL_BYTES);
    try {
      const out = await session.run({ x: new ort.Tensor('float32', PROBE_INPUT, [1, PROBE_INPUT.length]) });
      const y = out['y']?.data;
      const ok = y instanceof Float32Array && y.length === PROBE_EXPECTED.length && PROBE_EXPECTED.every((v, i) => Math.abs((y[i] ?? NaN) - v) <= 1e-5);
      if (!ok) throw new Error(`probe model gave wrong numbers: [${Array.from(y as ArrayLike<number>).join(', ')}]`);
    } finally {
      await session.release().catch(() => undefined);
    }
  }

  private serial<T>(op: () => Promise<T>): Promise<T> {
    return this.queue.run(op);
  }

  private requireInit(): Capabilities {
    if (!this.caps) throw new InferenceError('The inference engine is not initialised; call init() first.');
    return this.caps;
  }
}

/** A fresh engine on onnxruntime-node's CPU execution provider. */
export function createOrtNodeEngine(): InferenceEngine {
  return new OrtNodeEngine();
}
