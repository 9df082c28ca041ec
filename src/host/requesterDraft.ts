/**
 * The job a requester is preparing: an uploaded model, inspected in this tab, and input files
 * turned into tensors and checked against the model's signature, so problems show up before
 * anything is sent. Holds the bytes; the store gets descriptions only.
 */
import { checkInputsAgainstSignature, checkJobLimits, HARD_JOB_LIMITS } from '../core/jobChecks.ts';
import { checkShardOutputBytes, outputBytesPerItem, proposedShardSizeFor } from '../core/shardOutputBudget.ts';
import type { JobSpec } from '../protocol/messages.ts';
import type { TensorDtype, WireTensor } from '../protocol/tensor.ts';
import type { ModelSignature } from '../runtime/engine.ts';
import { patch, useQuorumStore } from '../stores/store.ts';
import type { DraftInput, RequesterDraft } from '../stores/requesterSlice.ts';
import { imagesToTensor } from '../workloads/inputs/decodeImage.ts';
import { checkPreprocessing, suggestPreprocessing, type ImagePreprocessing } from '../workloads/inputs/imageTensor.ts';
import { imageTarget, inputFileKind, jsonSingleTarget, npyTarget } from '../workloads/inputs/inputFiles.ts';
import { itemNamesFor } from '../workloads/inputs/itemNames.ts';
import { parseJsonInputs } from '../workloads/inputs/jsonTensor.ts';
import { parseNpy, type NpyArray } from '../workloads/inputs/npy.ts';
import type { ModelInspector } from './modelInspector.ts';
import type { PolicyFormResult } from './policyForm.ts';

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

const messageOf = (e: unknown): string => (e instanceof Error ? e.message : String(e));

export class RequesterDraftHost {
  private model: { name: string; bytes: ArrayBuffer; signature: ModelSignature | null } | null = null;
  private readonly tensors = new Map<string, HeldTensor>();
  private images: { files: readonly (DraftFile & Blob)[]; target: string } | null = null;
  /** Bumped by every change, so a slow inspection or decode cannot overwrite a newer choice. */
  private version = 0;
  /** [J-5] Output bytes per item: from the signature's fixed dims, or measured on one item of the inputs; null when unknown. */
  private outputBytesPerItem: number | null = null;

  constructor(private readonly inspector: ModelInspector) {}

  private get draft(): RequesterDraft {
    return useQuorumStore.getState().requester.draft;
  }

  private set(delta: Partial<RequesterDraft>): void {
    patch('requester', (prev) => ({ draft: { ...prev.draft, ...delta } }));
  }

  async setModelFile(file: DraftFile): Promise<void> {
    const version = ++this.version;
    this.model = null;
    this.outputBytesPerItem = null;
    this.tensors.clear();
    this.images = null;
    this.set({ model: { fileName: file.name, bytes: 0, state: 'inspecting', signature: null, error: null }, inputs: [], inputError: null, imageCount: 0, problems: [], busy: true, proposedShardSize: null });
    const bytes = await file.arrayBuffer();
    const inspection = await this.inspector.inspect(bytes);
    if (version !== this.version) return;
    if (!inspection.ok) {
      this.set({ model: { fileName: file.name, bytes: bytes.byteLength, state: 'error', signature: null, error: inspection.reason }, busy: false });
      this.recheck();
      return;
    }
    this.model = { name: file.name, bytes, signature: inspection.signature };
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
          for (const [name, t] of parseJsonInputs(await f.text(), jsonSingleTarget(signature.inputs), dtypeOf)) read.set(name, { ...t, source: f.name, file: f.name });
        }
      }
      if (images.length > 0) this.images = { files: images, target: imageTarget(signature.inputs) };
      if (version !== this.version) return;
      for (const [name, t] of read) this.tensors.set(name, t);
      if (images.length > 0) await this.decodeImages(version);
      else this.set({ busy: false });
    } catch (e) {
      if (version !== this.version) return;
      this.set({ inputError: `${messageOf(e)}`, busy: false });
    }
    this.recheck();
    await this.measureOutputs(version);
  }

  /** New preprocessing re-decodes the chosen images. */
  async setImagePreprocessing(p: ImagePreprocessing): Promise<void> {
    this.set({ imagePreprocessing: p });
    if (!this.images) return;
    const version = ++this.version;
    this.set({ busy: true });
    await this.decodeImages(version);
    this.recheck();
    await this.measureOutputs(version);
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
    const measured = await this.inspector.measureOutputBytesPerItem(model.bytes, this.inputs(), fixedBatch ?? 1);
    if (version !== this.version) return;
    this.outputBytesPerItem = measured;
    this.set({ busy: false, ...(measured === null ? {} : { proposedShardSize: proposedShardSizeFor(measured) }) });
  }

  private async decodeImages(version: number): Promise<void> {
    const images = this.images;
    if (!images) return;
    const p = this.draft.imagePreprocessing;
    try {
      checkPreprocessing(p);
      const t = await imagesToTensor(images.files, p);
      if (version !== this.version) return;
      this.tensors.set(images.target, { ...t, source: `${images.files.length} image(s)`, file: null });
      this.set({ imageCount: images.files.length, inputError: null, busy: false });
    } catch (e) {
      if (version !== this.version) return;
      this.tensors.delete(images.target);
      this.set({ imageCount: images.files.length, inputError: messageOf(e), busy: false });
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
    if (images && this.tensors.get(images.target)?.file === null) return itemNamesFor({ images: images.files.map((f) => f.name) }, items);
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
    problems.push(...checkInputsAgainstSignature(this.model.signature, inputs, shardSize));
    if (shardSize !== undefined) problems.push(...checkShardOutputBytes(this.outputBytesPerItem, shardSize, inputs[0]?.dims[0]));
    problems.push(...checkJobLimits({ modelBytes: this.model.bytes.byteLength, inputs }, HARD_JOB_LIMITS));
    return problems;
  }

  private recheck(): void {
    const inputs: DraftInput[] = [...this.tensors].map(([name, t]) => ({ name, dtype: t.dtype, dims: t.shape, source: t.source }));
    this.set({ inputs, problems: this.problems() });
  }

  /** The job to send, or everything that stops it. */
  buildSpec(form: PolicyFormResult, requesterKey: string): { ok: true; spec: JobSpec } | { ok: false; problems: readonly string[] } {
    const problems = [...this.problems(form.ok ? form.shardSize : undefined), ...(form.ok ? [] : form.problems)];
    if (problems.length > 0 || !form.ok || !this.model) return { ok: false, problems: problems.length ? problems : ['nothing to submit.'] };
    const name = this.model.name.replace(/\.onnx$/i, '').slice(0, 150) || 'model';
    const inputs = this.inputs();
    const itemNames = this.itemNames(inputs[0]?.dims[0] ?? 0);
    return {
      ok: true,
      spec: {
        name: `${name} × ${inputs[0]?.dims[0] ?? 0}`,
        // Copies: the transport may transfer what it sends, and the draft stays usable.
        model: this.model.bytes.slice(0),
        inputs: inputs.map((t) => ({ ...t, data: t.data.slice(0) })),
        shardSize: form.shardSize,
        policy: form.policy,
        requesterKey,
        priority: form.priority,
        ...(itemNames ? { itemNames } : {}),
      },
    };
  }
}
