import { describe, expect, it } from 'vitest';
import { parseAssetBundle } from '../protocol/assetBundle.ts';
import { filePipelineSchema } from '../protocol/jobFiles.ts';
import { pipelineModels } from '../protocol/pipeline.ts';
import { sha256Hex } from '../runtime/sha256.ts';
import { buildOcrWorkload, buildVadWorkload, VAD_ASSET } from './builtinWorkloads.ts';
import { OCR_ASSETS } from './ocr/ocrWorkload.ts';

const bytes = (...b: number[]): Uint8Array => Uint8Array.from(b);

describe('built-in pipeline workloads [J-9]', () => {
  it('buildOcrWorkload bundles the four assets under their file names and names each by its sha256 in a file pipeline', async () => {
    const assets = { det: bytes(1, 2), cls: bytes(3), rec: bytes(4, 5, 6), dictionary: new TextEncoder().encode('a\nb\n') };
    const { bundle, pipeline } = await buildOcrWorkload(assets);
    const entries = parseAssetBundle(bundle);
    expect(entries.map((e) => e.name)).toEqual([OCR_ASSETS.det, OCR_ASSETS.cls, OCR_ASSETS.rec, OCR_ASSETS.dictionary]);
    expect(entries.map((e) => [...e.bytes])).toEqual([[1, 2], [3], [4, 5, 6], [...assets.dictionary]]);
    expect(filePipelineSchema.safeParse(pipeline).success).toBe(true);
    const hashes = await Promise.all([assets.det, assets.cls, assets.rec, assets.dictionary].map((b) => sha256Hex(b)));
    expect(pipelineModels(pipeline)).toEqual(hashes);
  });

  it('buildVadWorkload bundles the model alone and the vad stage names its sha256', async () => {
    const model = bytes(9, 8, 7);
    const { bundle, pipeline } = await buildVadWorkload(model);
    expect(parseAssetBundle(bundle).map((e) => [e.name, [...e.bytes]])).toEqual([[VAD_ASSET, [9, 8, 7]]]);
    expect(filePipelineSchema.safeParse(pipeline).success).toBe(true);
    expect(pipelineModels(pipeline)).toEqual([await sha256Hex(model)]);
  });
});
