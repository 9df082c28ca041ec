/**
 * Looks inside a model before anyone runs it: is it ONNX at all, does onnxruntime-web load it,
 * and what are its inputs and outputs. The requester's dashboard uses it to explain problems
 * before sending; the coordinator uses its own to re-check every submission, trusting no
 * dashboard. Runs the real engine (a Worker with WASM in the app; ortEngine in Node tests).
 */
import { sniffOnnx } from '../core/onnxSniff.ts';
import { asModelHash, type ModelHash } from '../protocol/ids.ts';
import { sliceRows } from '../core/coordinator/shardInputs.ts';
import type { WireTensor } from '../protocol/tensor.ts';
import type { InferenceEngine, ModelSignature } from '../runtime/engine.ts';
import { sha256Hex } from '../runtime/sha256.ts';
import { hashedAssets, type HashedAsset } from '../runtime/assetHashes.ts';
import { errorMessage } from '../protocol/errorMessage.ts';

export type ModelInspection =
  | { readonly ok: true; readonly hash: ModelHash; readonly signature: ModelSignature }
  | { readonly ok: false; readonly kind: 'not-onnx' | 'cannot-load'; readonly reason: string };

/** [J-9] A bundle that parsed, whose ONNX entries all load here: its hash and its entries' hashes. */
export type BundleInspection =
  | { readonly ok: true; readonly hash: ModelHash; readonly entries: readonly { readonly name: string; readonly hash: ModelHash }[] }
  | { readonly ok: false; readonly reason: string };

export class ModelInspector {
  private engine: Promise<InferenceEngine> | null = null;

  /** `makeEngine` is called once, on the first inspection. */
  constructor(private readonly makeEngine: () => InferenceEngine) {}

  async inspect(bytes: ArrayBuffer): Promise<ModelInspection> {
    const sniff = sniffOnnx(bytes);
    if (!sniff.ok) return { ok: false, kind: 'not-onnx', reason: sniff.reason };
    const hash = asModelHash(await sha256Hex(bytes));
    let engine: InferenceEngine;
    try {
      engine = await this.start();
    } catch (e) {
      return {
        ok: false,
        kind: 'cannot-load',
        reason: `the inference runtime in this tab could not start, so the model cannot be checked: ${errorMessage(e)}`,
      };
    }
    try {
      // A copy: the engine may keep (or, in a Worker, transfer) what it is given.
      const signature = await engine.loadModel(hash, bytes.slice(0));
      return { ok: true, hash, signature };
    } catch (e) {
      return {
        ok: false,
        kind: 'cannot-load',
        reason: `the browser runtime cannot load this model (${errorMessage(e)}): export it with standard ONNX operators (opset 7-21) and float32/int64 tensors, or check it loads in onnxruntime.`,
      };
    } finally {
      // Inspection only: free the session; volunteers load the model when they run it.
      await engine.unloadModel(hash).catch(() => undefined);
    }
  }

  /**
   * [J-9] An asset bundle: it must parse, and every entry named in `models` must be ONNX that
   * loads in this tab's engine like a model sent alone ([J-4]); other entries (a dictionary) are data.
   */
  async inspectBundle(bytes: ArrayBuffer, models: ReadonlySet<string>): Promise<BundleInspection> {
    let entries: HashedAsset[];
    try {
      entries = await hashedAssets(new Uint8Array(bytes));
    } catch (e) {
      return { ok: false, reason: `the asset bundle is malformed: ${errorMessage(e)}` };
    }
    for (const entry of entries) {
      if (!models.has(entry.hash)) continue;
      const inspection = await this.inspect(entry.bytes.slice().buffer);
      if (!inspection.ok) return { ok: false, reason: `bundle entry "${entry.name}": ${inspection.reason}` };
    }
    return { ok: true, hash: asModelHash(await sha256Hex(bytes)), entries: entries.map((e) => ({ name: e.name, hash: e.hash })) };
  }

  /**
   * [J-5] Output bytes per item, measured by running the model on the first `batch` items of
   * `inputs` (1, or the model's fixed batch size), for models whose signature leaves output dims
   * free; null when it cannot run here (the job's own checks say why, or the volunteers will).
   */
  async measureOutputBytesPerItem(bytes: ArrayBuffer, inputs: readonly WireTensor[], batch = 1): Promise<number | null> {
    if (inputs.length === 0 || inputs.some((t) => (t.dims[0] ?? 0) < batch)) return null;
    const hash = asModelHash(await sha256Hex(bytes));
    try {
      const engine = await this.start();
      try {
        await engine.loadModel(hash, bytes.slice(0));
        const { outputs } = await engine.run(
          hash,
          inputs.map((t) => sliceRows(t, 0, batch)),
        );
        return outputs.reduce((n, t) => n + t.data.byteLength, 0) / batch;
      } finally {
        await engine.unloadModel(hash).catch(() => undefined);
      }
    } catch {
      return null;
    }
  }

  async dispose(): Promise<void> {
    const engine = this.engine;
    this.engine = null;
    if (engine) await (await engine.catch(() => null))?.dispose();
  }

  private start(): Promise<InferenceEngine> {
    if (!this.engine) {
      const engine = this.makeEngine();
      this.engine = engine.init({ backend: 'wasm', threads: 1 }).then(() => engine);
      // A failed start may be retried by a later inspection.
      this.engine.catch(() => {
        this.engine = null;
      });
    }
    return this.engine;
  }
}
