/**
 * `npm run workload -- ocr <files…>`: the OCR pipeline outside the network, on the same code the
 * volunteers run (src/workloads/ocr), with onnxruntime-node. Returns, per file, the answer the
 * network would verify: `{ file, lines: [{ box, text, confidence }] }`.
 */
import fs from 'node:fs';
import path from 'node:path';
import { runOcr, type OcrLine } from '../../src/workloads/ocr/pipeline.ts';
import { checkImageFile, decodeImageFile, ImageFileError } from './decodeImageFile.ts';
import { loadNodeOcrModels } from './ortNodeModels.ts';

export interface OcrFileResult {
  readonly file: string;
  readonly lines: OcrLine[];
}

export interface OcrCommandOptions {
  /** Called after each file with its result and how long it took. */
  readonly onFile?: (result: OcrFileResult, ms: number) => void;
}

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
  const models = await loadNodeOcrModels();
  try {
    const results: OcrFileResult[] = [];
    for (let i = 0; i < files.length; i++) {
      const file = files[i] as string;
      const started = performance.now();
      const image = decodeImageFile(bytes[i] as Uint8Array, file);
      const { lines } = await runOcr(image, models, models.charset);
      const result = { file: path.basename(file), lines };
      options.onFile?.(result, performance.now() - started);
      results.push(result);
    }
    return results;
  } finally {
    await models.release();
  }
}
