/**
 * [J-4] The coordinator trusts no dashboard: raw submit-job frames (what a modified or hostile
 * requester could send) are checked by the coordinator host itself — its limits, the model in its
 * own onnxruntime-web engine (real ORT, WASM, in Node), the inputs against the model's signature —
 * and refused with a clear job-rejected reason. Only a job that passes is admitted.
 */
import 'fake-indexeddb/auto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildModel, buildProbeModel } from '../../scripts/make-probe-model.ts';
import { hello } from '../core/testing/fixtures.ts';
import { CoordinatorStore } from '../persistence/coordinatorStore.ts';
import { openQuorumDb, type QuorumDb } from '../persistence/db.ts';
import type { Pipeline } from '../protocol/pipeline.ts';
import { buildAssetBundle } from '../protocol/assetBundle.ts';
import { asModelHash } from '../protocol/ids.ts';
import { ocrPipeline } from '../workloads/ocr/ocrWorkload.ts';
import { sha256Hex } from '../runtime/sha256.ts';
import { PROTOCOL_VERSION, type FromCoordinator, type JobSpec } from '../protocol/messages.ts';
import { DEFAULT_POLICY } from '../protocol/policy.ts';
import type { WireTensor } from '../protocol/tensor.ts';
import { createOrtEngine } from '../runtime/ortEngine.ts';
import { MemoryNetwork } from '../transport/memoryTransport.ts';
import { CoordinatorHost } from './coordinatorHost.ts';
import { ModelInspector } from './modelInspector.ts';
import { coordinatorPeerId } from './networkId.ts';
import { coordinatorClient, type CoordinatorClient } from './testing/coordinatorClient.ts';

const KEY = 'sesame';
const COORD = coordinatorPeerId('jobchecks');
const probe = (): ArrayBuffer => buildProbeModel().slice().buffer;

const f32 = (name: string, dims: number[]): WireTensor => ({ name, dtype: 'float32', dims, data: new ArrayBuffer(4 * dims.reduce((a, b) => a * b, 1)) });
const spec = (over: Partial<JobSpec> = {}): JobSpec => ({
  name: 'raw',
  model: probe(),
  inputs: [f32('x', [6, 4])],
  shardSize: 2,
  policy: DEFAULT_POLICY,
  requesterKey: KEY,
  ...over,
});

/** A model shaped like PaddleOCR's recognizer's input: x [n, 3, 48, w]. */
const lineModel = (): Uint8Array =>
  buildModel({
    inputs: [{ name: 'x', type: 'float32', dims: ['n', 3, 48, 'w'] }],
    outputs: [{ name: 'y', type: 'float32', dims: ['n', 3, 48, 'w'] }],
    nodes: [{ op: 'Identity', inputs: ['x'], outputs: ['y'] }],
  });
const linePipeline = (model: string, tensor: Record<string, unknown> = {}): Pipeline =>
  ({
    v: 1,
    stages: [
      { op: 'decode-image', maxPixels: 1_000_000 },
      { op: 'image-tensor', input: 'x', width: 192, height: 48, layout: 'CHW', channels: 'BGR', normalisation: 'symmetric', ...tensor },
      { op: 'run-model', model },
    ],
  }) as Pipeline;

let net: MemoryNetwork;
let db: QuorumDb;
let host: CoordinatorHost;
let requester: CoordinatorClient;
let refs = 0;

beforeAll(async () => {
  net = new MemoryNetwork();
  db = await openQuorumDb(`coordhost-${Math.random()}`);
  host = new CoordinatorHost({
    networkId: 'jobchecks',
    factory: net.factory,
    store: new CoordinatorStore(db, 'jobchecks'),
    // Raw test peers say hello without keys: [I-2] [I-3] are tested in coordinatorHost.volunteerKeys.test.ts.
    config: { requesterKey: KEY, volunteerKeys: false },
    jobLimits: { maxModelBytes: 1024 * 1024, maxInputBytes: 1024 * 1024, maxItems: 100 },
    inspector: new ModelInspector(() => createOrtEngine()),
  });
  await host.start();
  requester = coordinatorClient(net, null, COORD);
  net.flush();
  requester.send({ v: PROTOCOL_VERSION, t: 'hello', role: 'requester', caps: null, label: 'raw requester' });
  net.flush();
});

afterAll(() => host.stop());

/** Sends one raw submission and waits for the coordinator's answer to it. */
async function submit(s: JobSpec): Promise<Extract<FromCoordinator, { t: 'job-accepted' | 'job-rejected' }>> {
  const ref = `r${++refs}`;
  requester.send({ v: PROTOCOL_VERSION, t: 'submit-job', ref, spec: s });
  for (let i = 0; i < 1000; i++) {
    net.flush();
    const answer = requester.received.find(
      (m): m is Extract<FromCoordinator, { t: 'job-accepted' | 'job-rejected' }> => (m.t === 'job-accepted' || m.t === 'job-rejected') && m.ref === ref,
    );
    if (answer) return answer;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`no answer to ${ref}`);
}

async function reason(s: JobSpec): Promise<string> {
  const answer = await submit(s);
  if (answer.t !== 'job-rejected') throw new Error('expected job-rejected, got job-accepted');
  return answer.reason;
}

describe('[J-4] the coordinator host re-checks every submission', () => {
  it('a file that is not ONNX', async () => {
    expect(await reason(spec({ model: new TextEncoder().encode('{"not": "a model"}').buffer }))).toMatch(
      /^this file is not an ONNX model .*choose an \.onnx file/,
    );
  });
  it('an ONNX model the runtime cannot load', async () => {
    const model = buildModel({
      inputs: [{ name: 'x', type: 'float32', dims: ['batch', 4] }],
      outputs: [{ name: 'y', type: 'float32', dims: ['batch', 4] }],
      nodes: [{ op: 'NoSuchOperator', inputs: ['x'], outputs: ['y'] }],
    });
    expect(await reason(spec({ model: model.slice().buffer }))).toMatch(/^the browser runtime cannot load this model \(.*NoSuchOperator/);
  });
  it('inputs whose shape, dtype or name do not match the model', async () => {
    expect(await reason(spec({ inputs: [f32('x', [6, 5])] }))).toMatch(/dimension 1 is 5, it must be 4/);
    expect(await reason(spec({ inputs: [{ name: 'x', dtype: 'int32', dims: [6, 4], data: new ArrayBuffer(96) }] }))).toMatch(
      /"x" is int32, but the model expects float32/,
    );
    expect(await reason(spec({ inputs: [f32('pixels', [6, 4])] }))).toMatch(/no input named "pixels".*needs input "x"/);
  });
  it("over this coordinator's limits", async () => {
    expect(await reason(spec({ inputs: [f32('x', [101, 4])] }))).toMatch(/101 items, over this coordinator's limit of 100/);
    const big = new Uint8Array(2 * 1024 * 1024);
    big.set(buildProbeModel());
    expect(await reason(spec({ model: big.buffer }))).toMatch(/the model is 2\.0 MiB, over this coordinator's limit of 1\.0 MiB/);
  });
  it('[J-5] a shard size whose outputs would exceed the per-shard output budget, naming the largest that fits', async () => {
    // Declares 20 MB of output per item (5,000,000 float32): two items per shard is over 32 MiB.
    const model = buildModel({
      inputs: [{ name: 'x', type: 'float32', dims: ['batch', 'n'] }],
      outputs: [{ name: 'y', type: 'float32', dims: ['batch', 5_000_000] }],
      nodes: [{ op: 'Identity', inputs: ['x'], outputs: ['y'] }],
    });
    expect(await reason(spec({ model: model.slice().buffer }))).toMatch(
      /^shard size 2 makes each shard's outputs 38\.1 MiB \(19\.1 MiB per item\), over the budget of 32\.0 MiB per shard result: use shard size 1 or less\.$/,
    );
  });
  it('an empty batch and a wrong key are refused by the core before any of this', async () => {
    expect(await reason(spec({ inputs: [f32('x', [0, 4])] }))).toMatch(/the batch is empty/);
    expect(await reason(spec({ requesterKey: 'guess' }))).toMatch(/wrong requester key/);
  });
  it("[J-7] a job of files: the pipeline's tensor against the model's signature, its model, and the limits on the files", async () => {
    const model = lineModel();
    const hash = await sha256Hex(model);
    const files = (n: number, bytes = 100) => Array.from({ length: n }, (_, i) => ({ name: `line-${i}.png`, bytes: new Uint8Array(bytes).fill(i).buffer }));
    const filesSpec = (over: Partial<JobSpec> = {}, tensor: Record<string, unknown> = {}): JobSpec =>
      spec({ model: model.slice().buffer, inputs: [], files: files(6), pipeline: linePipeline(hash, tensor), ...over });
    expect(await reason(filesSpec({}, { height: 32 }))).toMatch(
      /^the image input "x" has shape \[6, 3, 32, 192\], but the model expects \[n, 3, 48, w\]: dimension 2 is 32, it must be 48\.$/,
    );
    expect(await reason(filesSpec({}, { input: 'image' }))).toMatch(/no input named "image".*needs input "x"/);
    expect(await reason(filesSpec({ pipeline: linePipeline('c'.repeat(64)) }))).toMatch(/run-model stage names model cccccccccccc…, not the uploaded model/);
    expect(await reason(filesSpec({ files: files(2, 600 * 1024) }))).toMatch(/the files are 1\.2 MiB, over this coordinator's limit of 1\.0 MiB per job/);
    expect(await reason(filesSpec({ files: files(101, 10) }))).toMatch(/101 files, over this coordinator's limit of 100/);
  });
  it('nothing refused became a job; a good submission does', async () => {
    expect(host.core.jobStatuses()).toHaveLength(0);
    const ok = await submit(spec({ priority: 4 }));
    expect(ok).toMatchObject({ t: 'job-accepted', shards: 3 });
    expect(host.core.jobStatuses()).toMatchObject([{ items: 6, shards: 3, priority: 4 }]);
  });

  it("[R-7] an admitted job records the outputs its model has in this coordinator's engine, to check every result against", async () => {
    const ok = await submit(spec());
    if (ok.t !== 'job-accepted') throw new Error(`refused: ${ok.reason}`);
    expect(host.core.job(ok.jobId)?.outputSignature).toEqual([{ name: 'y', dtype: 'float32', dims: ['batch', 2] }]);
  });
  it('[R-7] a result padded with a junk output is rejected against the signature the engine reported; a fitting one is received', async () => {
    const ok = await submit(spec({ name: 'padded' }));
    if (ok.t !== 'job-accepted') throw new Error(`refused: ${ok.reason}`);
    const vol = coordinatorClient(net, 'padder', COORD);
    net.flush();
    vol.send(hello('volunteer'));
    net.flush();
    const leaseOf = (): Extract<FromCoordinator, { t: 'lease' }> => {
      vol.send({ v: PROTOCOL_VERSION, t: 'lease-request' });
      net.flush();
      const lease = vol.received.filter((m): m is Extract<FromCoordinator, { t: 'lease' }> => m.t === 'lease').at(-1);
      if (!lease) throw new Error('no lease');
      return lease;
    };
    const ackOf = (leaseId: string) =>
      vol.received.find((m): m is Extract<FromCoordinator, { t: 'result-ack' }> => m.t === 'result-ack' && m.leaseId === leaseId);
    const first = leaseOf();
    const rows = first.inputs[0]!.dims[0]!;
    vol.send({
      v: PROTOCOL_VERSION,
      t: 'result',
      leaseId: first.leaseId,
      outputs: [f32('y', [rows, 2]), f32('junk', [rows, 100_000])],
      backend: 'wasm',
      inferMs: 1,
    });
    net.flush();
    expect(ackOf(first.leaseId)).toMatchObject({ outcome: 'rejected', reason: 'output "junk" is not an output of the model (it has "y")' });
    const second = leaseOf();
    vol.send({ v: PROTOCOL_VERSION, t: 'result', leaseId: second.leaseId, outputs: [f32('y', [second.inputs[0]!.dims[0]!, 2])], backend: 'wasm', inferMs: 1 });
    net.flush();
    expect(ackOf(second.leaseId)).toMatchObject({ outcome: 'received' });
  });
  it('[J-7] a good job of files becomes a job of one item per file, its files kept for a reload', async () => {
    const model = lineModel();
    const hash = await sha256Hex(model);
    const files = Array.from({ length: 5 }, (_, i) => ({ name: `line-${i}.png`, bytes: new Uint8Array(10 + i).fill(i).buffer }));
    const ok = await submit(spec({ model: model.slice().buffer, inputs: [], files, pipeline: linePipeline(hash) }));
    if (ok.t !== 'job-accepted') throw new Error(ok.reason);
    expect(ok.shards).toBe(3);
    expect(host.core.jobStatuses().find((j) => j.jobId === ok.jobId)).toMatchObject({ items: 5, shards: 3 });
    // What a reloaded coordinator would read back: the files, byte for byte.
    // Only once the host's write is done (its record comes last): loading removes pieces without a record.
    // Up to 30 s of real time, not 200 polls: a loaded machine may take seconds over the write.
    const deadline = Date.now() + 30_000;
    while (!(await db.get('jobs', ok.jobId)) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    const stored = (await new CoordinatorStore(db, 'jobchecks').loadJobs()).find((r) => r.job.id === ok.jobId);
    expect(stored?.job.files?.map((f) => [f.name, [...new Uint8Array(f.bytes)]])).toEqual(files.map((f) => [f.name, [...new Uint8Array(f.bytes)]]));
    expect(stored?.job.pipeline).toEqual(linePipeline(hash));
  });
  it("[J-9] an OCR job's models come in an asset bundle that must parse, hold every asset its pipeline names, and load here", async () => {
    const rec = buildModel({
      inputs: [{ name: 'x', type: 'float32', dims: ['n', 3, 48, 'w'] }],
      outputs: [{ name: 'softmax', type: 'float32', dims: ['n', 3, 48, 'w'] }],
      nodes: [{ op: 'Identity', inputs: ['x'], outputs: ['softmax'] }],
    });
    const [det, cls] = [lineModel(), buildProbeModel()];
    const dictionary = new Uint8Array([0x61, 0x0a, 0x62, 0x0a]);
    const h = async (b: Uint8Array) => asModelHash(await sha256Hex(b));
    const hashes = { det: await h(det), cls: await h(cls), rec: await h(rec), dictionary: await h(dictionary) };
    const files = [{ name: 'scan.png', bytes: new Uint8Array([1, 2, 3]).buffer }];
    const ocrSpec = (model: Uint8Array, over: Partial<JobSpec> = {}): JobSpec =>
      spec({ name: 'ocr', model: model.slice().buffer, inputs: [], files, pipeline: ocrPipeline(hashes), shardSize: 1, ...over });
    const bundle = (...entries: [string, Uint8Array][]) => buildAssetBundle(entries.map(([name, bytes]) => ({ name, bytes })));
    expect(await reason(ocrSpec(det))).toMatch(/must come in an asset bundle/);
    expect(await reason(ocrSpec(bundle(['det.onnx', det], ['cls.onnx', cls], ['dict.txt', dictionary])))).toMatch(
      /names an asset the bundle does not hold .*it holds det\.onnx, cls\.onnx, dict\.txt/,
    );
    const truncated = bundle(['det.onnx', det], ['cls.onnx', cls], ['rec.onnx', rec], ['dict.txt', dictionary]).slice(0, -1);
    expect(await reason(ocrSpec(truncated))).toMatch(/the asset bundle is malformed: the bundle ends inside entry 4/);
    const broken = new Uint8Array([0x08, 0x07, 0x12, 0x04, 0x74, 0x65, 0x73, 0x74, 0x3a, 0x02, 0x10, 0x0d]);
    expect(
      await reason(
        ocrSpec(bundle(['det.onnx', det], ['cls.onnx', broken], ['rec.onnx', rec], ['dict.txt', dictionary]), {
          pipeline: ocrPipeline({ ...hashes, cls: await h(broken) }),
        }),
      ),
    ).toMatch(/bundle entry "cls\.onnx": /);
    const ok = await submit(ocrSpec(bundle(['det.onnx', det], ['cls.onnx', cls], ['rec.onnx', rec], ['dict.txt', dictionary])));
    expect(ok).toMatchObject({ t: 'job-accepted', shards: 1 });
  });
  it('limits set later apply to the next submission', async () => {
    host.setJobLimits({ maxModelBytes: 1024 * 1024, maxInputBytes: 50, maxItems: 100 });
    expect(await reason(spec())).toMatch(/the inputs are 96 bytes, over this coordinator's limit of 50 bytes per job/);
  });
});
