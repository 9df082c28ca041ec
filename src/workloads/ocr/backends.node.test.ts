/**
 * The same pipeline on the volunteer's engine (onnxruntime-web's WASM EP, through the app's
 * InferenceEngine) and on the Node reference (onnxruntime-node): on every OCR fixture both must
 * give the same lines, the same texts and boxes within a pixel. Prints the spread it measured,
 * which is what an `ocr` comparator's thresholds have to allow between honest backends. On all 36
 * fixtures (60 lines) the boxes were identical and confidences within 1.1e-6; the test takes the
 * documents and every fourth line image, as WASM needs ~1 s an image on these machines.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodeImageFile } from '../../../scripts/workloads/decodeImageFile.ts';
import { loadNodeOcrModels, OCR_MODEL_FILES, ocrAssetsDir } from '../../../scripts/workloads/ortNodeModels.ts';
import type { ModelHash } from '../../protocol/ids.ts';
import { createOrtEngine } from '../../runtime/ortEngine.ts';
import { sha256Hex } from '../../runtime/sha256.ts';
import { engineOcrModels } from './engineModels.ts';
import { runOcr, type OcrModelId, type OcrResult } from './pipeline.ts';

const FIXTURES = path.resolve(import.meta.dirname, '../../../e2e/fixtures/ocr');
const manifest = JSON.parse(fs.readFileSync(path.join(FIXTURES, 'manifest.json'), 'utf8')) as { lines: { file: string }[]; documents: { file: string }[] };

describe('OCR on two backends', () => {
  it('onnxruntime-web (WASM) reads every fixture as onnxruntime-node does', async () => {
    const engine = createOrtEngine();
    await engine.init({ backend: 'wasm', threads: 1 });
    const dir = ocrAssetsDir();
    const hashes = {} as Record<OcrModelId, ModelHash>;
    for (const id of Object.keys(OCR_MODEL_FILES) as OcrModelId[]) {
      const bytes = fs.readFileSync(path.join(dir, OCR_MODEL_FILES[id]));
      hashes[id] = await sha256Hex(new Uint8Array(bytes));
      await engine.loadModel(hashes[id], bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
    }
    const web = engineOcrModels(engine, hashes);
    const node = await loadNodeOcrModels(dir);
    let maxCorner = 0;
    let maxConfidence = 0;
    let lines = 0;
    try {
      for (const { file } of [...manifest.lines.filter((_, i) => i % 4 === 0), ...manifest.documents]) {
        const image = decodeImageFile(fs.readFileSync(path.join(FIXTURES, file)), file);
        const a: OcrResult = await runOcr(image, web, node.charset);
        const b: OcrResult = await runOcr(image, node, node.charset);
        expect(
          a.lines.map((l) => l.text),
          file,
        ).toEqual(b.lines.map((l) => l.text));
        a.lines.forEach((l, i) => {
          const other = b.lines[i];
          if (!other) return;
          lines++;
          l.box.forEach((p, k) => {
            const q = other.box[k] as readonly [number, number];
            maxCorner = Math.max(maxCorner, Math.abs(p[0] - q[0]), Math.abs(p[1] - q[1]));
          });
          maxConfidence = Math.max(maxConfidence, Math.abs(l.confidence - other.confidence));
        });
      }
    } finally {
      await node.release();
      await engine.dispose();
    }
    console.log(
      `OCR WASM vs onnxruntime-node: ${lines} lines, largest box-corner difference ${maxCorner} px, largest confidence difference ${maxConfidence.toExponential(2)}`,
    );
    expect(maxCorner).toBeLessThanOrEqual(1);
  }, 300_000);
});
