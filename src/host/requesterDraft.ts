/**
 * The job a requester is preparing: an uploaded model, inspected in this tab, and input files
 * turned into tensors and checked against the model's signature, so problems show up before
 * anything is sent. Holds the bytes; the store gets descriptions only.
 *
 * [J-7] Images are sent as the files' own bytes with the pipeline that makes them the model's
 * input on each volunteer (a 192×48 PNG of 5 KB, not its 110 KB float tensor). Each is still
 * decoded here once, so a file that is not an image (or is too large) is refused, by name, before
 * anything is sent; only the first image or batch is kept as a tensor, to measure the outputs.
 */
import { checkFileJobLimits, checkPipelineAgainstSignature, pipelineInput } from '../core/fileJobChecks.ts';
import { checkInputsAgainstSignature, checkJobLimits, HARD_JOB_LIMITS } from '../core/jobChecks.ts';
import { checkShardOutputBytes, outputBytesPerItem, proposedShardSizeFor } from '../core/shardOutputBudget.ts';
import type { ModelHash } from '../protocol/ids.ts';
import type { JobFile } from '../protocol/jobFiles.ts';
import type { JobSpec } from '../protocol/messages.ts';
import { PIPELINE_VERSION, type Pipeline } from '../protocol/pipeline.ts';
import type { TensorDtype, WireTensor } from '../protocol/tensor.ts';
import type { ModelSignature } from '../runtime/engine.ts';
import { initialDraft, type DraftInput, type RequesterDraft } from '../model/requesterView.ts';
import { memoryViewPort, type ViewPort } from '../model/viewPort.ts';
import { decodePixels } from '../workloads/inputs/decodeImage.ts';
import { checkPreprocessing, pixelsToTensor, stackImages, suggestPreprocessing, type ImagePreprocessing } from '../workloads/inputs/imageTensor.ts';
import { checkImagePixels, MAX_IMAGE_PIXELS, resizeRgba } from '../workloads/inputs/resizeImage.ts';
import { imageTarget, inputFileKind, jsonSingleTarget, npyTarget } from '../workloads/inputs/inputFiles.ts';
import { itemNamesFor } from '../workloads/inputs/itemNames.ts';
import { parseJsonInputs } from '../workloads/inputs/jsonTensor.ts';
import { parseNpy, type NpyArray } from '../workloads/inputs/npy.ts';
import type { ModelInspector } from './modelInspector.ts';
import type { PolicyFormResult } from '../model/policyForm.ts';
import { errorMessage } from '../protocol/errorMessage.ts';

/** A file as the page hands it over (a File, or anything with its name and bytes). */
export interface DraftFile {
  readonly name: string;
  readonly type: string;
  arrayBuffer(): Promise<ArrayBuffer>;
  text(): Promise<string>;
}

interface HeldTensor extends NpyArray {
  readonly source: string;
  /** The one file it was read from (a .npy or .json batch); null for decoded images. */
  readonly file: string | null;
}

/** Decodes an image file at its native size; the browser's exact decode, or pngjs in Node tests. */
export type DraftImageDecoder = (file: DraftFile & Blob) => Promise<{ readonly width: number; readonly height: number; readonly rgba: ArrayLike<number> }>;

/** The images chosen, checked: their bytes as they will travel, and the decoded first batch. */
interface HeldImages {
  readonly files: readonly JobFile[];
  readonly target: string;
  /** Pixels of the first images (as many as a fixed batch needs, else one), to measure outputs with. */
  readonly sample: readonly { readonly width: number; readonly height: number; readonly rgba: ArrayLike<number> }[];
}

export class RequesterDraftHost {
  private model: { name: string; bytes: ArrayBuffer; hash: ModelHash; signature: ModelSignature | null } | null = null;
  private readonly tensors = new Map<string, HeldTensor>();
  private images: HeldImages | null = null;
  /** Bumped by every change, so a slow inspection or decode cannot overwrite a newer choice. */
  private version = 0;
  /** [J-5] Output bytes per item: from the signature's fixed dims, or measured on one item of the inputs; null when unknown. */
  private outputBytesPerItem: number | null = null;

  constructor(
    private readonly inspector: ModelInspector,
    private readonly decode: DraftImageDecoder = (file) => decodePixels(file),
    /** What the dashboard shows of the draft (descriptions, never the bytes); absent: kept in memory. */
    readonly view: ViewPort<RequesterDraft> = memoryViewPort(initialDraft),
  ) {}

  private get draft(): RequesterDraft {
    return this.view.get();
  }

  private set(delta: Partial<RequesterDraft>): void {
    this.view.patch(delta);
  }

  async setModelFile(file: DraftFile): Promise<void> {
    const version = ++this.version;
    this.model = null;
    this.outputBytesPerItem = null;
    this.tensors.clear();
    this.images = null;
    this.set({
      model: { fileName: file.name, bytes: 0, state: 'inspecting', signature: null, error: null },
      inputs: [],
      inputError: null,
      imageCount: 0,
      problems: [],
      busy: true,
      proposedShardSize: null,
    });
    const bytes = await file.arrayBuffer();
    const inspection = await this.inspector.inspect(bytes);
    if (version !== this.version) return;
    if (!inspection.ok) {
      this.set({ model: { fileName: file.name, bytes: bytes.byteLength, state: 'error', signature: null, error: inspection.reason }, busy: false });
      this.recheck();
      return;
    }
    this.model = { name: file.name, bytes, hash: inspection.hash, signature: inspection.signature };
    this.outputBytesPerItem = outputBytesPerItem(inspection.signature);
    const imageInput = inspection.signature.inputs.find((p) => p.dims?.length === 4);
    this.set({
      model: { fileName: file.name, bytes: bytes.byteLength, state: 'ready', signature: inspection.signature, error: null },
      imagePreprocessing: suggestPreprocessing(imageInput?.dims ?? null, this.draft.imagePreprocessing),
      busy: false,
      proposedShardSize: proposedShardSizeFor(this.outputBytesPerItem),
    });
    this.recheck();
  }

  clear(): void {
    this.version++;
    this.model = null;
    this.outputBytesPerItem = null;
    this.tensors.clear();
    this.images = null;
    this.set({ model: null, inputs: [], inputError: null, imageCount: 0, problems: [], busy: false, proposedShardSize: null });
  }

  clearInputs(): void {
    this.version++;
    this.tensors.clear();
    this.images = null;
    this.set({ inputError: null, imageCount: 0, busy: false });
    this.recheck();
  }

  /** Reads the chosen input files; each replaces what it feeds. The first unreadable file stops the lot. */
  async addInputFiles(files: readonly (DraftFile & Blob)[]): Promise<void> {
    const version = ++this.version;
    const signature = this.model?.signature;
    if (!signature) {
      this.set({ inputError: 'choose a model first: inputs are checked against its signature.' });
      return;
    }
    this.set({ inputError: null, busy: true });
    const dtypeOf = (name: string): TensorDtype => signature.inputs.find((p) => p.name === name)?.dtype ?? 'float32';
    const images: (DraftFile & Blob)[] = [];
    try {
      const read = new Map<string, HeldTensor>();
      for (const f of files) {
        const kind = inputFileKind(f.name, f.type);
        if (kind === 'image') {
          images.push(f);
        } else if (kind === 'npy') {
          read.set(npyTarget(f.name, signature.inputs), { ...parseNpy(await f.arrayBuffer()), source: f.name, file: f.name });
        } else {
          for (const [name, t] of parseJsonInputs(await f.text(), jsonSingleTarget(signature.inputs), dtypeOf))
            read.set(name, { ...t, source: f.name, file: f.name });
        }
      }
      const held = images.length > 0 ? await this.checkImages(images, imageTarget(signature.inputs), signature) : null;
      if (version !== this.version) return;
      for (const [name, t] of read) this.tensors.set(name, t);
      if (held) {
        this.images = held;
        this.tensors.delete(held.target);
        this.set({ imageCount: held.files.length });
      }
      this.set({ busy: false });
    } catch (e) {
      if (version !== this.version) return;
      this.set({ inputError: `${errorMessage(e)}`, busy: false });
    }
    this.recheck();
    await this.measureOutputs(version);
  }

  /** New preprocessing is checked again (the images were decoded once, when chosen). */
  async setImagePreprocessing(p: ImagePreprocessing): Promise<void> {
    this.set({ imagePreprocessing: p });
    if (!this.images) return;
    const version = ++this.version;
    // A measurement still running for the form as it was is superseded (it will not clear `busy`
    // itself): this change owns the draft's state now, and measures again if it must.
    this.set({ busy: false });
    this.recheck();
    await this.measureOutputs(version);
  }

  /**
   * [J-7] Reads every image once: its bytes as they will travel, and a decode that refuses (by
   * name) a file that is not an image or is over the pixel limit. Only the first batch's pixels
   * are kept. Throws on the first bad file.
   */
  private async checkImages(files: readonly (DraftFile & Blob)[], target: string, signature: ModelSignature): Promise<HeldImages> {
    const port = signature.inputs.find((p) => p.name === target);
    const fixedBatch = port?.dims?.[0];
    const keep = typeof fixedBatch === 'number' && fixedBatch > 0 ? fixedBatch : 1;
    const held: JobFile[] = [];
    const sample: HeldImages['sample'][number][] = [];
    for (const f of files) {
      const bytes = await f.arrayBuffer();
      if (bytes.byteLength === 0) throw new Error(`"${f.name}" is empty: choose PNG or JPEG files.`);
      let image: HeldImages['sample'][number];
      try {
        image = await this.decode(f);
      } catch (e) {
        const why = errorMessage(e);
        throw new Error(why.includes(f.name) ? why : `could not decode "${f.name}" as an image (${why}): use PNG or JPEG files.`);
      }
      checkImagePixels(image.width, image.height, f.name);
      if (sample.length < keep) sample.push(image);
      held.push({ name: f.name, bytes });
    }
    return { files: held, target, sample };
  }

  /**
   * [J-5] A signature with free output dims cannot tell how big a shard's outputs will be: the
   * model runs once here on the first item of the inputs, and the shard size proposed and
   * checked follows from what it returned. Only for inputs that fit the model (others would not run).
   */
  private async measureOutputs(version: number): Promise<void> {
    const model = this.model;
    if (!model?.signature || outputBytesPerItem(model.signature) !== null || this.draft.problems.length > 0) return;
    this.outputBytesPerItem = null;
    // Busy until measured: the page shows the draft ready (and its shard size settled) only then.
    this.set({ busy: true });
    const fixedBatch = model.signature.inputs.map((p) => p.dims?.[0]).find((d): d is number => typeof d === 'number' && d > 0);
    const sample = this.sampleTensor();
    const measured = await this.inspector.measureOutputBytesPerItem(model.bytes, sample ? [sample] : this.inputs(), fixedBatch ?? 1);
    if (version !== this.version) return;
    this.outputBytesPerItem = measured;
    this.set({ busy: false, ...(measured === null ? {} : { proposedShardSize: proposedShardSizeFor(measured) }) });
  }

  /** [J-7] How each image becomes the model's input on a volunteer, from the preprocessing form. */
  private pipeline(): Pipeline | null {
    if (!this.images || !this.model) return null;
    const { width, height, layout, channels, normalisation } = this.draft.imagePreprocessing;
    return {
      v: PIPELINE_VERSION,
      stages: [
        { op: 'decode-image', maxPixels: MAX_IMAGE_PIXELS },
        { op: 'image-tensor', input: this.images.target, width, height, layout, channels, normalisation },
        { op: 'run-model', model: this.model.hash },
      ],
    };
  }

  /** The first images as the model's input, built as volunteers will build it: to measure outputs with. */
  private sampleTensor(): WireTensor | null {
    const images = this.images;
    const p = this.draft.imagePreprocessing;
    if (!images || images.sample.length === 0) return null;
    try {
      checkPreprocessing(p);
      const tensors = images.sample.map((img) => {
        const sized = img.width === p.width && img.height === p.height ? img.rgba : resizeRgba(img.rgba, img.width, img.height, p.width, p.height);
        return pixelsToTensor(sized, p.width, p.height, p);
      });
      const batch = stackImages(tensors, p);
      return { name: images.target, dtype: 'float32', dims: batch.shape, data: batch.data };
    } catch {
      return null; // the preprocessing form's problem is listed by `problems`
    }
  }

  private inputs(): WireTensor[] {
    return [...this.tensors].map(([name, t]) => ({ name, dtype: t.dtype, dims: t.shape, data: t.data }));
  }

  /**
   * [J-6] Each item's name for the exports: its image file when the images make one input (a
   * file per item), else row i of the first input's file (`batch.npy#i`).
   */
  private itemNames(items: number): string[] | undefined {
    const images = this.images;
    if (images) return itemNamesFor({ images: images.files.map((f) => f.name) }, items); // [J-7] one file per item
    const first = this.tensors.values().next().value;
    return first?.file ? itemNamesFor({ batchFile: first.file }, items) : undefined;
  }

  /** Every reason the draft cannot be sent as it is, shard size aside. */
  private problems(shardSize?: number): string[] {
    const d = this.draft;
    if (!d.model) return ['choose a model file (.onnx), or submit a built-in workload.'];
    if (d.model.state === 'inspecting') return ['the model is still being checked.'];
    if (d.model.state === 'error' || !this.model?.signature) return [d.model.error ?? 'the model cannot be used.'];
    if (d.busy) return ['the input files are still being read.'];
    const problems: string[] = [];
    if (d.inputError) problems.push(d.inputError);
    const inputs = this.inputs();
    const pipeline = this.pipeline();
    if (this.images && pipeline) {
      // [J-7] The images travel as files: checked as the coordinator host will check them.
      const { files } = this.images;
      try {
        checkPreprocessing(d.imagePreprocessing);
      } catch (e) {
        return [...problems, errorMessage(e)];
      }
      if (inputs.length > 0) {
        problems.push(`images feed the model's input "${this.images.target}" alone: give every input as .npy/.json files instead, or images only.`);
      }
      problems.push(...checkPipelineAgainstSignature(this.model.signature, pipeline, files.length, shardSize));
      if (shardSize !== undefined) {
        problems.push(...checkShardOutputBytes(this.outputBytesPerItem, shardSize, files.length));
        const fileBytes = files.map((f) => f.bytes.byteLength);
        problems.push(...checkFileJobLimits({ modelBytes: this.model.bytes.byteLength, fileBytes, pipeline, shardSize }, HARD_JOB_LIMITS));
      }
      return problems;
    }
    problems.push(...checkInputsAgainstSignature(this.model.signature, inputs, shardSize));
    if (shardSize !== undefined) problems.push(...checkShardOutputBytes(this.outputBytesPerItem, shardSize, inputs[0]?.dims[0]));
    problems.push(...checkJobLimits({ modelBytes: this.model.bytes.byteLength, inputs }, HARD_JOB_LIMITS));
    return problems;
  }

  private recheck(): void {
    const inputs: DraftInput[] = [...this.tensors].map(([name, t]) => ({ name, dtype: t.dtype, dims: t.shape, source: t.source }));
    const pipeline = this.pipeline();
    const images = this.images && pipeline ? pipelineInput(pipeline, this.images.files.length) : null;
    if (images)
      inputs.push({
        name: images.name,
        dtype: images.dtype,
        dims: images.dims,
        source: `${this.images?.files.length ?? 0} image file(s), decoded by each volunteer`,
      });
    this.set({ inputs, problems: this.problems() });
  }

  /** The job to send, or everything that stops it. */
  buildSpec(form: PolicyFormResult, requesterKey: string): { ok: true; spec: JobSpec } | { ok: false; problems: readonly string[] } {
    const problems = [...this.problems(form.ok ? form.shardSize : undefined), ...(form.ok ? [] : form.problems)];
    if (problems.length > 0 || !form.ok || !this.model) return { ok: false, problems: problems.length ? problems : ['nothing to submit.'] };
    const name = this.model.name.replace(/\.onnx$/i, '').slice(0, 150) || 'model';
    const inputs = this.inputs();
    const pipeline = this.pipeline();
    // [J-7] Images go as their files with the pipeline; .npy/.json inputs as tensors.
    const items =
      this.images && pipeline
        ? { inputs: [], files: this.images.files.map((f) => ({ name: f.name, bytes: f.bytes.slice(0) })), pipeline }
        : { inputs: inputs.map((t) => ({ ...t, data: t.data.slice(0) })) };
    const count = items.files ? items.files.length : (inputs[0]?.dims[0] ?? 0);
    const itemNames = this.itemNames(count);
    return {
      ok: true,
      spec: {
        name: `${name} × ${count}`,
        // Copies: the transport may transfer what it sends, and the draft stays usable.
        model: this.model.bytes.slice(0),
        ...items,
        shardSize: form.shardSize,
        policy: form.policy,
        requesterKey,
        priority: form.priority,
        ...(itemNames ? { itemNames } : {}),
      },
    };
  }
}
