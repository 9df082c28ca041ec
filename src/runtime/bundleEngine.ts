/**
 * [J-9] [W-23] An InferenceEngine that also takes asset bundles and runs every file pipeline. It
 * wraps any engine (onnxruntime-web in the volunteer's Worker, onnxruntime-node in the reference):
 * a bundle is parsed, each entry hashed, its ONNX entries loaded into the inner engine under their
 * own hashes and its text entries (a CTC dictionary) kept; a plain model loads as before. Pipelines
 * run through `runFilePipeline`, whose model runs are the inner engine's.
 */
import type { Backend, Capabilities } from '../protocol/capabilities.ts';
import type { ModelHash } from '../protocol/ids.ts';
import { isAssetBundle, parseAssetBundle } from '../protocol/assetBundle.ts';
import type { JobFile } from '../protocol/jobFiles.ts';
import { answerKindOf, pipelineModels, type Pipeline } from '../protocol/pipeline.ts';
import type { WireTensor } from '../protocol/tensor.ts';
import { InferenceError } from './engine.ts';
import type { CapabilitiesListener, EnginePreferences, InferenceEngine, InferenceResult, ModelSignature } from './engine.ts';
import type { ImageDecoder } from './imagePipeline.ts';
import { charsetOf, runFilePipeline } from './pipelineRunner.ts';
import { sha256Hex } from './sha256.ts';
import { errorMessage } from '../protocol/errorMessage.ts';

/** A loaded bundle: which of its entries are sessions in the inner engine and which are text. */
interface LoadedBundle {
  readonly models: ReadonlySet<ModelHash>;
  readonly texts: ReadonlyMap<ModelHash, Uint8Array>;
}

/** A bundle has no single model signature; its entries' are the inner engine's business. */
const BUNDLE_SIGNATURE: ModelSignature = { inputs: [], outputs: [] };

/**
 * Text, not a model: UTF-8 without control characters other than tab and line ends. An ONNX file
 * is a protobuf whose first byte is a field tag (0x08 for ir_version), so it never passes; the
 * decision rests on the bytes, never on the entry's name, which is only a label.
 */
function isTextAsset(bytes: Uint8Array): boolean {
  for (const b of bytes) if (b < 0x20 && b !== 0x09 && b !== 0x0a && b !== 0x0d) return false;
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    return true;
  } catch {
    return false;
  }
}

const short = (hash: string): string => `${hash.slice(0, 12)}…`;

class BundleEngine implements InferenceEngine {
  private readonly bundles = new Map<ModelHash, LoadedBundle>();
  /** Bundles holding each ONNX entry: two jobs' bundles may share a model, and one unload must not end the other's session. */
  private readonly entryRefs = new Map<ModelHash, number>();
  private readonly charsets = new Map<ModelHash, readonly string[]>();
  private readonly loading = new Map<ModelHash, Promise<void>>();
  private backend: Backend = 'wasm';

  constructor(
    private readonly inner: InferenceEngine,
    private readonly decodeImage: ImageDecoder | null,
  ) {
    inner.onCapabilitiesChanged?.((caps) => {
      this.backend = caps.backend;
    });
  }

  async init(prefs: EnginePreferences): Promise<Capabilities> {
    const caps = await this.inner.init(prefs);
    this.backend = caps.backend;
    return caps;
  }

  async loadModel(hash: ModelHash, bytes: ArrayBuffer): Promise<ModelSignature> {
    const view = new Uint8Array(bytes);
    if (!isAssetBundle(view)) return this.inner.loadModel(hash, bytes);
    if (!this.bundles.has(hash)) {
      // Two loads of one bundle at once (the Worker serves requests as they come) share one pass,
      // so each entry is counted once for it.
      let loading = this.loading.get(hash);
      if (!loading) {
        loading = this.loadBundle(hash, view).finally(() => this.loading.delete(hash));
        this.loading.set(hash, loading);
      }
      await loading;
    }
    return BUNDLE_SIGNATURE;
  }

  private async loadBundle(hash: ModelHash, view: Uint8Array): Promise<void> {
    let entries;
    try {
      entries = parseAssetBundle(view);
    } catch (err) {
      throw new InferenceError(`the job's asset bundle does not parse (${errorMessage(err)}): the requester must submit it again`);
    }
    const models = new Set<ModelHash>();
    const texts = new Map<ModelHash, Uint8Array>();
    try {
      for (const entry of entries) {
        const entryHash = await sha256Hex(entry.bytes);
        if (models.has(entryHash) || texts.has(entryHash)) continue;
        if (isTextAsset(entry.bytes)) {
          // A copy: the bundle's buffer may be handed on (transferred) once this returns.
          texts.set(entryHash, entry.bytes.slice());
          continue;
        }
        if ((this.entryRefs.get(entryHash) ?? 0) === 0) await this.inner.loadModel(entryHash, entry.bytes.slice().buffer);
        this.entryRefs.set(entryHash, (this.entryRefs.get(entryHash) ?? 0) + 1);
        models.add(entryHash);
      }
    } catch (err) {
      await this.release(models);
      throw err;
    }
    this.bundles.set(hash, { models, texts });
  }

  run(hash: ModelHash, inputs: readonly WireTensor[]): Promise<InferenceResult> {
    return this.inner.run(hash, inputs);
  }

  async runPipeline(hash: ModelHash, pipeline: Pipeline, files: readonly JobFile[]): Promise<InferenceResult> {
    const bundle = this.bundles.get(hash) ?? null;
    // Answer pipelines other than top-k name their own models: they must all be in this job's bundle.
    const needsBundle = answerKindOf(pipeline) === 'ocr' || answerKindOf(pipeline) === 'segments';
    if (needsBundle) this.checkAssets(hash, bundle, pipeline);
    let backend = this.backend;
    const started = performance.now();
    const result = await runFilePipeline(hash, pipeline, files, {
      run: async (model, inputs) => {
        const r = await this.inner.run(model, inputs);
        backend = r.backend;
        return r.outputs;
      },
      decodeImage: this.decodeImage,
      charset: (dictionary) => this.charset(bundle, dictionary),
    });
    const inferMs = performance.now() - started;
    return result.answers ? { outputs: [], answers: result.answers, inferMs, backend } : { outputs: result.outputs, inferMs, backend };
  }

  async unloadModel(hash: ModelHash): Promise<void> {
    const bundle = this.bundles.get(hash);
    if (!bundle) return this.inner.unloadModel(hash);
    this.bundles.delete(hash);
    for (const t of bundle.texts.keys()) this.charsets.delete(t);
    await this.release(bundle.models);
  }

  dispose(): Promise<void> {
    this.bundles.clear();
    this.entryRefs.clear();
    this.charsets.clear();
    return this.inner.dispose();
  }

  onCapabilitiesChanged(listener: CapabilitiesListener): () => void {
    return this.inner.onCapabilitiesChanged?.(listener) ?? (() => undefined);
  }

  /** [J-9] Every asset the pipeline names, by hash, is one the bundle holds, as a model or as text as the stage needs. */
  private checkAssets(hash: ModelHash, bundle: LoadedBundle | null, pipeline: Pipeline): void {
    if (!bundle)
      throw new InferenceError(
        `the job's model (${short(hash)}) is not an asset bundle, but its pipeline needs one: the requester must submit the workload's bundle`,
      );
    const dictionaries = new Set<string>(pipeline.stages.flatMap((s) => (s.op === 'ocr' ? [s.recognize.dictionary] : [])));
    for (const asset of pipelineModels(pipeline)) {
      const held = dictionaries.has(asset) ? bundle.texts.has(asset as ModelHash) : bundle.models.has(asset as ModelHash);
      if (!held) {
        const what = dictionaries.has(asset) ? 'text asset (dictionary)' : 'model';
        throw new InferenceError(
          `the pipeline names a ${what} ${short(asset)} that the job's bundle ${short(hash)} does not hold (no entry's bytes hash to it): the bundle and the pipeline do not belong together`,
        );
      }
    }
  }

  private charset(bundle: LoadedBundle | null, dictionary: ModelHash): readonly string[] {
    const cached = this.charsets.get(dictionary);
    if (cached) return cached;
    const bytes = bundle?.texts.get(dictionary);
    if (!bytes) throw new InferenceError(`the dictionary ${short(dictionary)} is not in the job's bundle`);
    const charset = charsetOf(bytes);
    this.charsets.set(dictionary, charset);
    return charset;
  }

  private async release(models: Iterable<ModelHash>): Promise<void> {
    for (const m of models) {
      const left = (this.entryRefs.get(m) ?? 1) - 1;
      if (left > 0) {
        this.entryRefs.set(m, left);
        continue;
      }
      this.entryRefs.delete(m);
      await this.inner.unloadModel(m);
    }
  }
}

/**
 * `inner` with asset bundles and every file pipeline. `decodeImage` reads image files (the
 * browser's exact decode in the Worker, pngjs/jpeg-js in Node); without it image pipelines are refused.
 */
export function createBundleEngine(inner: InferenceEngine, decodeImage: ImageDecoder | null): InferenceEngine & Required<Pick<InferenceEngine, 'runPipeline'>> {
  return new BundleEngine(inner, decodeImage);
}
