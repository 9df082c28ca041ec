/**
 * The dashboard's draft with the real engine (onnxruntime-web WASM in Node): a model is inspected,
 * input files become tensors routed to the right input, and every problem is listed before
 * anything could be sent.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { PNG } from 'pngjs';
import { beforeEach, describe, expect, it } from 'vitest';
import { buildModel, buildProbeModel } from '../../scripts/make-probe-model.ts';
import { sniffOnnx } from '../core/onnxSniff.ts';
import { createOrtEngine } from '../runtime/ortEngine.ts';
import { PROBE_MODEL_BYTES } from '../runtime/probeModel.ts';
import { initialDraft, type RequesterDraft } from '../model/requesterView.ts';
import { memoryViewPort, type ViewPort } from '../model/viewPort.ts';
import { writeNpy } from '../workloads/inputs/npy.ts';
import { ModelInspector } from './modelInspector.ts';
import { defaultPolicyForm, policyFromForm } from '../model/policyForm.ts';
import { RequesterDraftHost, type DraftImageDecoder } from './requesterDraft.ts';
import { parseToCoordinator } from '../protocol/parse.ts';
import { sha256Hex } from '../runtime/sha256.ts';

const inspector = new ModelInspector(() => createOrtEngine());
const LINES = new URL('../../e2e/fixtures/ocr-lines/', import.meta.url);
const lineFiles = (): File[] =>
  readdirSync(LINES)
    .filter((f) => f.endsWith('.png'))
    .sort()
    .map((name) => new File([readFileSync(new URL(name, LINES))], name, { type: 'image/png' }));
/** pngjs for Node: the stored samples, as the browser's exact decode gives them. */
const decodePng: DraftImageDecoder = async (file) => {
  const png = PNG.sync.read(Buffer.from(await file.arrayBuffer()));
  return { width: png.width, height: png.height, rgba: png.data };
};
/** A text-line model shaped like PaddleOCR's recognizer's input: x [n, 3, 48, w], returned as it is. */
const lineModel = () =>
  buildModel({
    inputs: [{ name: 'x', type: 'float32', dims: ['n', 3, 48, 'w'] }],
    outputs: [{ name: 'y', type: 'float32', dims: ['n', 3, 48, 'w'] }],
    nodes: [{ op: 'Identity', inputs: ['x'], outputs: ['y'] }],
  });
/** What the dashboard shows of the draft, shared by every draft host a test makes. */
let view: ViewPort<RequesterDraft>;
const draft = () => view.get();
const npy = (name: string, values: Float32Array, shape: number[]) => new File([writeNpy({ dtype: 'float32', shape, data: values.slice().buffer })], name);
const twoInputs = () =>
  buildModel({
    inputs: [
      { name: 'a', type: 'float32', dims: ['n', 2] },
      { name: 'ids', type: 'int64', dims: ['n'] },
    ],
    outputs: [{ name: 'y', type: 'float32', dims: ['n', 2] }],
    nodes: [{ op: 'Identity', inputs: ['a'], outputs: ['y'] }],
  });

let host: RequesterDraftHost;
beforeEach(() => {
  view = memoryViewPort(initialDraft);
  host = new RequesterDraftHost(inspector, undefined, view);
});

describe('sniffOnnx on real models', () => {
  it('accepts the probe model and the shipped MNIST model', () => {
    expect(sniffOnnx(PROBE_MODEL_BYTES).ok).toBe(true);
    expect(sniffOnnx(new Uint8Array(readFileSync(new URL('../../public/models/mnist-mlp.onnx', import.meta.url))))).toMatchObject({ ok: true, irVersion: 7 });
  });
});

describe('RequesterDraftHost', () => {
  it('inspects the model and shows its signature', async () => {
    await host.setModelFile(new File([buildProbeModel().slice()], 'probe.onnx'));
    expect(draft().model).toMatchObject({ fileName: 'probe.onnx', state: 'ready', error: null });
    expect(draft().model!.signature!.inputs).toEqual([{ name: 'x', dtype: 'float32', dims: ['batch', 4] }]);
    expect(draft().problems).toEqual(['no inputs given: the model takes "x" float32 [batch, 4].']);
  });
  it('a non-ONNX file and an unloadable model are errors with their own messages', async () => {
    await host.setModelFile(new File(['hello'], 'notes.onnx'));
    expect(draft().model).toMatchObject({ state: 'error', error: expect.stringMatching(/^this file is not an ONNX model/) });
    const bad = buildModel({
      inputs: [{ name: 'x', type: 'float32', dims: [1] }],
      outputs: [{ name: 'y', type: 'float32', dims: [1] }],
      nodes: [{ op: 'Nope', inputs: ['x'], outputs: ['y'] }],
    });
    await host.setModelFile(new File([bad.slice()], 'bad.onnx'));
    expect(draft().model!.error).toMatch(/^the browser runtime cannot load this model/);
  });
  it('routes a .npy to the only input whatever its name; builds the spec', async () => {
    await host.setModelFile(new File([buildProbeModel().slice()], 'probe.onnx'));
    await host.addInputFiles([npy('batch.npy', new Float32Array(12), [3, 4])]);
    expect(draft().inputs).toEqual([{ name: 'x', dtype: 'float32', dims: [3, 4], source: 'batch.npy' }]);
    expect(draft().problems).toEqual([]);
    const built = host.buildSpec(policyFromForm({ ...defaultPolicyForm(), shardSize: 2, priority: 5 }), 'k');
    expect(built.ok).toBe(true);
    if (built.ok) expect(built.spec).toMatchObject({ name: 'probe × 3', shardSize: 2, priority: 5, requesterKey: 'k', inputs: [{ name: 'x', dims: [3, 4] }] });
  });
  it('[J-6] names each item of a .npy batch after its row, so every export can say whose result it is', async () => {
    await host.setModelFile(new File([buildProbeModel().slice()], 'probe.onnx'));
    await host.addInputFiles([npy('batch.npy', new Float32Array(12), [3, 4])]);
    const built = host.buildSpec(policyFromForm({ ...defaultPolicyForm(), shardSize: 2 }), 'k');
    expect(built.ok && built.spec.itemNames).toEqual(['batch.npy#0', 'batch.npy#1', 'batch.npy#2']);
  });
  it('names .npy files after inputs for a model with several; JSON gives each input its dtype', async () => {
    await host.setModelFile(new File([twoInputs().slice()], 'two.onnx'));
    await host.addInputFiles([npy('data.npy', new Float32Array(4), [2, 2])]);
    expect(draft().inputError).toMatch(/"data\.npy" does not say which input it is for/);
    await host.addInputFiles([
      npy('a.npy', new Float32Array(4), [2, 2]),
      new File(['{"ids": [1, "9007199254740993"]}'], 'ids.json', { type: 'application/json' }),
    ]);
    expect(draft().inputError).toBeNull();
    expect(draft().inputs.map((i) => [i.name, i.dtype, i.dims])).toEqual([
      ['a', 'float32', [2, 2]],
      ['ids', 'int64', [2]],
    ]);
    expect(draft().problems).toEqual([]);
  });
  it('lists shape, dtype and batch problems, and refuses to build', async () => {
    await host.setModelFile(new File([buildProbeModel().slice()], 'probe.onnx'));
    await host.addInputFiles([npy('x.npy', new Float32Array(0), [0, 4])]);
    expect(draft().problems).toEqual(['the batch is empty (0 items): give at least one item.']);
    await host.addInputFiles([new File(['[[1, 2], [3]]'], 'x.json')]);
    expect(draft().inputError).toMatch(/ragged/);
    const built = host.buildSpec(policyFromForm({ ...defaultPolicyForm(), quorum: 9 }), '');
    expect(built).toMatchObject({ ok: false });
    if (!built.ok) {
      expect(built.problems).toContain('the batch is empty (0 items): give at least one item.');
      expect(built.problems.some((p) => /quorum ≤ replication/.test(p))).toBe(true);
    }
  });
  it('[J-5] proposes a shard size whose outputs fit the per-shard budget, and refuses a larger one with the numbers', async () => {
    await host.setModelFile(new File([buildProbeModel().slice()], 'probe.onnx'));
    expect(draft().proposedShardSize).toBe(100); // 8 bytes of output per item
    // Declares 20 MB of output per item (5,000,000 float32): more than one item per shard is over 32 MiB.
    const big = buildModel({
      inputs: [{ name: 'x', type: 'float32', dims: ['batch', 'n'] }],
      outputs: [{ name: 'y', type: 'float32', dims: ['batch', 5_000_000] }],
      nodes: [{ op: 'Identity', inputs: ['x'], outputs: ['y'] }],
    });
    await host.setModelFile(new File([big.slice()], 'big.onnx'));
    expect(draft().proposedShardSize).toBe(1);
    await host.addInputFiles([npy('x.npy', new Float32Array(12), [3, 4])]);
    expect(draft().problems).toEqual([]);
    const refused = host.buildSpec(policyFromForm({ ...defaultPolicyForm(), shardSize: 3 }), '');
    expect(refused).toEqual({
      ok: false,
      problems: [
        "shard size 3 makes each shard's outputs 57.2 MiB (19.1 MiB per item), over the budget of 32.0 MiB per shard result: use shard size 1 or less.",
      ],
    });
    expect(host.buildSpec(policyFromForm({ ...defaultPolicyForm(), shardSize: 1 }), '')).toMatchObject({ ok: true, spec: { shardSize: 1 } });
  });
  it("[J-5] measures one item's outputs when the model's output dims are free, and proposes and checks shard sizes with it", async () => {
    // Output dims all free: the signature cannot tell; one item of 3,000,000 float32 is 12 MB out.
    const free = buildModel({
      inputs: [{ name: 'x', type: 'float32', dims: ['batch', 'n'] }],
      outputs: [{ name: 'y', type: 'float32', dims: ['batch', 'm'] }],
      nodes: [{ op: 'Identity', inputs: ['x'], outputs: ['y'] }],
    });
    await host.setModelFile(new File([free.slice()], 'free.onnx'));
    expect(draft().proposedShardSize).toBe(100);
    await host.addInputFiles([npy('x.npy', new Float32Array(3 * 3_000_000), [3, 3_000_000])]);
    expect(draft().problems).toEqual([]);
    expect(draft()).toMatchObject({ proposedShardSize: 2, busy: false }); // 2 × 12 MB ≤ 32 MiB < 3 × 12 MB
    expect(host.buildSpec(policyFromForm({ ...defaultPolicyForm(), shardSize: 3 }), '')).toEqual({
      ok: false,
      problems: [
        "shard size 3 makes each shard's outputs 34.3 MiB (11.4 MiB per item), over the budget of 32.0 MiB per shard result: use shard size 2 or less.",
      ],
    });
    expect(host.buildSpec(policyFromForm({ ...defaultPolicyForm(), shardSize: 2 }), '')).toMatchObject({ ok: true });
  });
  it("[J-7] images are sent as their own bytes with the pipeline built from the form; the preset comes from the model's 48-high input", async () => {
    const withPng = new RequesterDraftHost(inspector, decodePng, view);
    const model = lineModel();
    await withPng.setModelFile(new File([model.slice()], 'rec.onnx'));
    // A fixed height of 48 over a free width: PaddleOCR's text line, not 224×224 ImageNet.
    expect(draft().imagePreprocessing).toEqual({ width: 320, height: 48, layout: 'CHW', channels: 'BGR', normalisation: 'symmetric' });
    await withPng.setImagePreprocessing({ ...draft().imagePreprocessing, width: 192 });
    const pngs = lineFiles();
    await withPng.addInputFiles(pngs);
    expect(draft()).toMatchObject({ inputError: null, imageCount: 6, busy: false, problems: [] });
    expect(draft().inputs).toEqual([{ name: 'x', dtype: 'float32', dims: [6, 3, 48, 192], source: '6 image file(s), decoded by each volunteer' }]);
    const built = withPng.buildSpec(policyFromForm({ ...defaultPolicyForm(), shardSize: 2 }), '');
    if (!built.ok) throw new Error(built.problems.join(' '));
    const { spec } = built;
    expect(spec.inputs).toEqual([]);
    expect(spec.files?.map((f) => f.name)).toEqual(pngs.map((f) => f.name));
    expect(spec.itemNames).toEqual(pngs.map((f) => f.name)); // [J-6] each item named by its file
    expect(spec.files?.map((f) => Buffer.from(f.bytes).equals(readFileSync(new URL(f.name, LINES))))).toEqual(new Array(6).fill(true));
    expect(spec.pipeline).toEqual({
      v: 1,
      stages: [
        { op: 'decode-image', maxPixels: 40_000_000 },
        { op: 'image-tensor', input: 'x', width: 192, height: 48, layout: 'CHW', channels: 'BGR', normalisation: 'symmetric' },
        { op: 'run-model', model: await sha256Hex(model) },
      ],
    });
    // What travels is the files: ~33 KB here, where the float tensor was 6 × 110,592 bytes.
    const sent = spec.files!.reduce((n, f) => n + f.bytes.byteLength, 0);
    expect(sent).toBeLessThan(6 * 3 * 48 * 192 * 4 * 0.1);
    // The frame passes the coordinator's own parser.
    expect(parseToCoordinator({ v: 1, t: 'submit-job', ref: 'r1', spec }).ok).toBe(true);
  });

  it('[J-7] a file that is not an image is refused before submission, naming it; no job can be built', async () => {
    const withPng = new RequesterDraftHost(inspector, decodePng, view);
    await withPng.setModelFile(new File([lineModel().slice()], 'rec.onnx'));
    await withPng.addInputFiles([...lineFiles().slice(0, 2), new File(['%PDF-1.7 not a picture'], 'scan.png', { type: 'image/png' })]);
    expect(draft().inputError).toMatch(/could not decode "scan\.png" as an image .*use PNG or JPEG files/);
    expect(draft().imageCount).toBe(0);
    const built = withPng.buildSpec(policyFromForm(defaultPolicyForm()), '');
    expect(built.ok).toBe(false);
    if (!built.ok) expect(built.problems.join(' ')).toMatch(/scan\.png/);
  });

  it('[J-7] preprocessing changed while the outputs are being measured leaves the draft ready, not busy for ever', async () => {
    const withPng = new RequesterDraftHost(inspector, decodePng, view);
    await withPng.setModelFile(new File([lineModel().slice()], 'rec.onnx'));
    await withPng.addInputFiles(lineFiles());
    const p = draft().imagePreprocessing;
    // As a form fills its fields one after another: each change starts a measurement.
    await Promise.all([withPng.setImagePreprocessing({ ...p, width: 200 }), withPng.setImagePreprocessing({ ...p, width: 192 })]);
    expect(draft()).toMatchObject({ busy: false, problems: [] });
    expect(draft().inputs[0]!.dims).toEqual([6, 3, 48, 192]);
  });

  it("[J-7] the image preprocessing is checked against the model's fixed dims before sending", async () => {
    const withPng = new RequesterDraftHost(inspector, decodePng, view);
    await withPng.setModelFile(new File([lineModel().slice()], 'rec.onnx'));
    await withPng.addInputFiles(lineFiles());
    await withPng.setImagePreprocessing({ ...draft().imagePreprocessing, height: 32 });
    expect(draft().problems).toEqual(['the image input "x" has shape [6, 3, 32, 320], but the model expects [n, 3, 48, w]: dimension 2 is 32, it must be 48.']);
  });

  it('inputs before a model are refused with what to do', async () => {
    await host.addInputFiles([npy('x.npy', new Float32Array(4), [1, 4])]);
    expect(draft().inputError).toBe('choose a model first: inputs are checked against its signature.');
  });
});
