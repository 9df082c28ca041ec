/**
 * The dashboard's built-in workloads of files with the real assets (the ones the app serves from
 * node_modules) and the real fixtures: files are checked by name before anything is sent, and the
 * job built from them is one the coordinator's own parser accepts.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { PNG } from 'pngjs';
import { describe, expect, it } from 'vitest';
import { resolveModelAssets } from '../../vite-plugins/modelAssets.ts';
import { parseAssetBundle } from '../protocol/assetBundle.ts';
import { PROTOCOL_VERSION } from '../protocol/messages.ts';
import { parseToCoordinator } from '../protocol/parse.ts';
import { DEFAULT_ANSWER_COMPARATORS } from '../protocol/pipeline.ts';
import { sha256Hex } from '../runtime/sha256.ts';
import { ocrWorkload, vadWorkload } from '../workloads/fileWorkloads.ts';
import { ocrPipeline } from '../workloads/ocr/ocrWorkload.ts';
import { vadPipeline } from '../workloads/vad/vadPipeline.ts';
import { defaultPolicyForm, policyFromForm } from '../model/policyForm.ts';
import type { DraftImageDecoder } from './requesterDraft.ts';
import { checkWorkloadFiles, loadWorkloadAssets, workloadJobSpec, type ChosenFile, type FetchBytes } from './workloadFiles.ts';

const FIXTURES = new URL('../../e2e/fixtures/', import.meta.url);
const fixtures = (dir: string, ext: string): File[] =>
  readdirSync(new URL(`${dir}/`, FIXTURES))
    .filter((f) => f.endsWith(ext))
    .map((name) => new File([readFileSync(new URL(`${dir}/${name}`, FIXTURES))], name));
/** A file as a folder input gives it: its path within the chosen folder. */
const inFolder = (f: File, folder: string): ChosenFile => Object.assign(f, { webkitRelativePath: `${folder}/${f.name}` });
/** pngjs for Node, as the browser's exact decode gives the pixels. */
const decodePng: DraftImageDecoder = async (file) => {
  const png = PNG.sync.read(Buffer.from(await file.arrayBuffer()));
  return { width: png.width, height: png.height, rgba: png.data };
};
/** The app's origin as the dev server and the build serve it: the same URL paths, the same files. */
const served = resolveModelAssets(process.cwd());
const fetchFromOrigin: FetchBytes = async (urlPath) => {
  const file = served.get(urlPath);
  if (!file) throw new Error(`404 ${urlPath}`);
  return new Uint8Array(readFileSync(file));
};
const submitFrame = (spec: unknown) => parseToCoordinator({ v: PROTOCOL_VERSION, t: 'submit-job', ref: 'r1', spec });

describe('OCR on the dashboard: images checked, then the PP-OCRv4 bundle and pipeline', () => {
  it('[J-10] builds a job of the chosen folder, in path order, that the coordinator accepts, with the default OCR comparator', async () => {
    const images = fixtures('ocr-lines', '.png').reverse();
    const chosen = [...images.map((f) => inFolder(f, 'scans')), inFolder(new File(['junk'], '.DS_Store'), 'scans')];
    const checked = await checkWorkloadFiles(ocrWorkload, chosen, decodePng);
    expect(checked.skipped).toEqual(['scans/.DS_Store']);
    expect(checked.files.map((f) => f.name)).toEqual(images.map((f) => `scans/${f.name}`).sort());
    expect(checked.details).toHaveLength(6);
    expect(checked.details.every((d) => 'width' in d && d.width > d.height && d.height > 0)).toBe(true);

    const assets = await loadWorkloadAssets(ocrWorkload, fetchFromOrigin);
    const entries = parseAssetBundle(assets.bundle);
    expect(entries.map((e) => e.name)).toEqual([
      'ch_PP-OCRv4_det_infer.onnx',
      'ch_ppocr_mobile_v2.0_cls_infer.onnx',
      'ch_PP-OCRv4_rec_infer.onnx',
      'ppocr_keys_v1.txt',
    ]);
    const [det, cls, rec, dictionary] = await Promise.all(entries.map((e) => sha256Hex(e.bytes)));
    expect(assets.pipeline).toEqual(ocrPipeline({ det: det!, cls: cls!, rec: rec!, dictionary: dictionary! }));

    const built = workloadJobSpec({ workload: ocrWorkload, assets, files: checked.files, form: policyFromForm(defaultPolicyForm(), 'ocr'), requesterKey: 'k' });
    if (!built.ok) throw new Error(built.problems.join('; '));
    const parsed = submitFrame(built.spec);
    if (!parsed.ok) throw new Error(parsed.error.reason);
    expect(built.spec).toMatchObject({ name: 'OCR × 6 images', inputs: [], itemNames: checked.files.map((f) => f.name) });
    expect(built.spec.policy.answerComparator).toEqual(DEFAULT_ANSWER_COMPARATORS.ocr);
    expect(built.spec.files?.map((f) => f.bytes.byteLength)).toEqual(checked.files.map((f) => f.bytes.byteLength));
  });

  it('[J-10] refuses, by name, a file that is not an image, and one that does not decode', async () => {
    const good = fixtures('ocr-lines', '.png');
    await expect(checkWorkloadFiles(ocrWorkload, [...good, new File(['hello'], 'notes.txt')], decodePng)).rejects.toThrow(
      '"notes.txt" is not one of the images this workload reads: choose PNG or JPEG images.',
    );
    await expect(checkWorkloadFiles(ocrWorkload, [...good, new File(['not a png at all'], 'broken.png')], decodePng)).rejects.toThrow(
      /^could not decode "broken\.png" as an image \(.+\): choose PNG or JPEG images\.$/,
    );
    await expect(checkWorkloadFiles(ocrWorkload, [inFolder(new File([], 'blank.png'), 'scans')], decodePng)).rejects.toThrow(
      '"scans/blank.png" is empty: choose PNG or JPEG images.',
    );
  });

  it('[J-10] says so when nothing was chosen, or a folder holds only hidden files', async () => {
    await expect(checkWorkloadFiles(ocrWorkload, [], decodePng)).rejects.toThrow('no files were chosen (an empty folder?): choose PNG or JPEG images.');
    await expect(checkWorkloadFiles(ocrWorkload, [inFolder(new File(['x'], '.DS_Store'), 'empty')], decodePng)).rejects.toThrow(
      'the folder holds only hidden files (empty/.DS_Store): choose PNG or JPEG images.',
    );
  });
});

describe('VAD on the dashboard: WAV files checked, then Silero v5 and its pipeline', () => {
  it('[J-10] builds a job of the chosen WAV files that the coordinator accepts, with the form’s tolerance', async () => {
    const wavs = fixtures('vad', '.wav');
    const checked = await checkWorkloadFiles(vadWorkload, wavs, decodePng);
    expect(checked.files.map((f) => f.name)).toEqual(wavs.map((f) => f.name).sort());
    // The manifest's lengths: 2.846 s, 2.656 s, …
    expect(checked.details[0]).toEqual({ durationS: expect.closeTo(2.846, 3) });
    const assets = await loadWorkloadAssets(vadWorkload, fetchFromOrigin);
    const [model] = parseAssetBundle(assets.bundle);
    expect(model?.bytes.byteLength).toBe(readFileSync('node_modules/@ricky0123/vad-web/dist/silero_vad_v5.onnx').byteLength);
    expect(assets.pipeline).toEqual(vadPipeline(await sha256Hex(model!.bytes)));
    const form = { ...defaultPolicyForm(), shardSize: vadWorkload.defaultShardSize, vadToleranceMs: 64 };
    const built = workloadJobSpec({ workload: vadWorkload, assets, files: checked.files, form: policyFromForm(form, 'segments'), requesterKey: '' });
    if (!built.ok) throw new Error(built.problems.join('; '));
    const parsed = submitFrame(built.spec);
    if (!parsed.ok) throw new Error(parsed.error.reason);
    expect(built.spec.policy.answerComparator).toEqual({ kind: 'segments', toleranceSec: 0.064 });
    expect(built.spec.name).toBe('VAD × 3 WAV files');
  });

  it('[J-10] refuses, by name, a file that is not WAV audio, with what to do', async () => {
    const wavs = fixtures('vad', '.wav');
    await expect(checkWorkloadFiles(vadWorkload, [...wavs, new File(['ID3 mp3 bytes'], 'talk.mp3')], decodePng)).rejects.toThrow(
      '"talk.mp3" is not one of the WAV files this workload reads: choose .wav files',
    );
    await expect(checkWorkloadFiles(vadWorkload, [...wavs, new File(['RIFF....AVI LIST'], 'clip.wav')], decodePng)).rejects.toThrow(
      /^"clip\.wav" is not a WAV file/,
    );
  });

  it('passes the policy form’s problems on instead of building a job', async () => {
    const assets = await loadWorkloadAssets(vadWorkload, fetchFromOrigin);
    const checked = await checkWorkloadFiles(vadWorkload, fixtures('vad', '.wav'), decodePng);
    const form = policyFromForm({ ...defaultPolicyForm(), vadToleranceMs: -5 }, 'segments');
    expect(workloadJobSpec({ workload: vadWorkload, assets, files: checked.files, form, requesterKey: '' })).toEqual({
      ok: false,
      problems: ['the segment tolerance must be from 0 to 10000 ms.'],
    });
  });
});
