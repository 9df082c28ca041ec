/**
 * A built-in workload of the requester's own files (OCR on images, VAD on WAV files): every file
 * chosen is checked here, by name, before anything is sent (an image that decodes within the
 * pixel limit, a WAV file that parses), then the workload's assets are fetched from the app's own
 * origin and the job of files is built ([J-10]): the asset bundle as its model, the files in path order,
 * the pipeline that names each asset by its hash, and the form's answer comparator ([V-12]).
 */
import { checkFileJobLimits } from '../core/fileJobChecks.ts';
import { HARD_JOB_LIMITS } from '../core/jobChecks.ts';
import { LIMITS } from '../protocol/limits.ts';
import { FILE_LIMITS, type JobFile } from '../protocol/jobFiles.ts';
import type { JobSpec } from '../protocol/messages.ts';
import { errorMessage } from '../protocol/errorMessage.ts';
import { buildOcrWorkload, buildVadWorkload } from '../workloads/builtinWorkloads.ts';
import { OCR_ASSET_URLS, VAD_MODEL_URL, type FileWorkload } from '../workloads/fileWorkloads.ts';
import { checkImagePixels } from '../workloads/inputs/resizeImage.ts';
import type { OcrAssetId } from '../workloads/ocr/ocrWorkload.ts';
import { parseWav } from '../workloads/vad/wav.ts';
import type { Pipeline } from '../protocol/pipeline.ts';
import type { PolicyFormResult } from '../model/policyForm.ts';
import type { DraftFile, DraftImageDecoder } from './requesterDraft.ts';

/** A chosen file: from a file input, or a folder input (which fills `webkitRelativePath`). */
export type ChosenFile = DraftFile & Blob & { readonly webkitRelativePath?: string };

/** An image's size in pixels, or a recording's length in seconds. */
export type ItemDetail = { readonly width: number; readonly height: number } | { readonly durationS: number };

/** A chosen file that cannot be an item of the workload; the message names it and what to do. */
export class WorkloadFileError extends Error {
  override readonly name = 'WorkloadFileError';
}

/** The files of a workload, checked: each item's name (its path in a chosen folder) and bytes. */
export interface CheckedFiles {
  readonly files: readonly JobFile[];
  /** What the check learnt of each file, in the same order: an image's size, a recording's length (for the results view). */
  readonly details: readonly ItemDetail[];
  /** Hidden files of a chosen folder (".DS_Store", "._x.png"), left out rather than refused. */
  readonly skipped: readonly string[];
}

/** The item's name: its path within the chosen folder, else its file name, within the protocol's bound. */
export function itemNameOf(f: ChosenFile): string {
  const path = f.webkitRelativePath || f.name;
  // A deep folder can exceed the bound; the end of the path is the part that tells files apart.
  return path.length <= LIMITS.maxNameLength ? path : `…${path.slice(path.length - LIMITS.maxNameLength + 1)}`;
}

const isHidden = (f: ChosenFile): boolean =>
  itemNameOf(f)
    .split('/')
    .some((part) => part.startsWith('.'));

/**
 * Every file checked as the workload's item, in path order (a folder's listing order is the
 * browser's own). Throws `WorkloadFileError` naming the first bad file, or saying that nothing
 * usable was chosen.
 */
export async function checkWorkloadFiles(workload: FileWorkload, chosen: readonly ChosenFile[], decodeImage: DraftImageDecoder): Promise<CheckedFiles> {
  const skipped = chosen.filter(isHidden).map(itemNameOf);
  const files = chosen.filter((f) => !isHidden(f)).sort((a, b) => (itemNameOf(a) < itemNameOf(b) ? -1 : itemNameOf(a) > itemNameOf(b) ? 1 : 0));
  if (files.length === 0) {
    throw new WorkloadFileError(
      chosen.length === 0
        ? `no files were chosen (an empty folder?): ${workload.hint}.`
        : `the folder holds only hidden files (${skipped.slice(0, 3).join(', ')}): ${workload.hint}.`,
    );
  }
  const out: JobFile[] = [];
  const details: ItemDetail[] = [];
  for (const f of files) {
    const name = itemNameOf(f);
    if (!workload.takes(f.name)) throw new WorkloadFileError(`"${name}" is not one of the ${workload.itemNoun} this workload reads: ${workload.hint}.`);
    const bytes = await f.arrayBuffer();
    if (bytes.byteLength === 0) throw new WorkloadFileError(`"${name}" is empty: ${workload.hint}.`);
    if (bytes.byteLength > FILE_LIMITS.maxFileBytes) {
      throw new WorkloadFileError(`"${name}" is over the limit of ${FILE_LIMITS.maxFileBytes / 2 ** 20} MiB per file: shrink or split it.`);
    }
    if (workload.answerKind === 'ocr') {
      let image: Awaited<ReturnType<DraftImageDecoder>>;
      try {
        image = await decodeImage(f);
      } catch (e) {
        throw new WorkloadFileError(`could not decode "${name}" as an image (${errorMessage(e)}): ${workload.hint}.`);
      }
      try {
        checkImagePixels(image.width, image.height, name);
      } catch (e) {
        throw new WorkloadFileError(errorMessage(e));
      }
      details.push({ width: image.width, height: image.height });
    } else {
      try {
        details.push({ durationS: parseWav(new Uint8Array(bytes), name).durationS });
      } catch (e) {
        throw new WorkloadFileError(errorMessage(e)); // WavError names the file and what to do
      }
    }
    out.push({ name, bytes });
  }
  return { files: out, details, skipped };
}

/** Fetches bytes from the app's own origin (the page's `fetch`, or the disk in Node tests). */
export type FetchBytes = (urlPath: string) => Promise<Uint8Array>;

/** The workload's assets, fetched from the app's origin, as one bundle and the pipeline naming them. */
export async function loadWorkloadAssets(workload: FileWorkload, fetchBytes: FetchBytes): Promise<{ bundle: Uint8Array; pipeline: Pipeline }> {
  if (workload.answerKind === 'segments') return buildVadWorkload(await fetchBytes(VAD_MODEL_URL));
  const ids = Object.keys(OCR_ASSET_URLS) as OcrAssetId[];
  const bytes = await Promise.all(ids.map((id) => fetchBytes(OCR_ASSET_URLS[id])));
  return buildOcrWorkload(Object.fromEntries(ids.map((id, i) => [id, bytes[i]])) as Record<OcrAssetId, Uint8Array>);
}

/** The job to send, or everything that stops it (the policy form's problems, the job limits). */
export function workloadJobSpec(args: {
  readonly workload: FileWorkload;
  readonly assets: { readonly bundle: Uint8Array; readonly pipeline: Pipeline };
  readonly files: readonly JobFile[];
  readonly form: PolicyFormResult;
  readonly requesterKey: string;
}): { ok: true; spec: JobSpec } | { ok: false; problems: readonly string[] } {
  const { workload, assets, files, form } = args;
  if (!form.ok) return { ok: false, problems: form.problems };
  const problems = checkFileJobLimits(
    { modelBytes: assets.bundle.byteLength, fileBytes: files.map((f) => f.bytes.byteLength), pipeline: assets.pipeline, shardSize: form.shardSize },
    HARD_JOB_LIMITS,
  );
  if (problems.length > 0) return { ok: false, problems };
  const bundle = assets.bundle;
  return {
    ok: true,
    spec: {
      name: `${workload.id.toUpperCase()} × ${files.length} ${workload.itemNoun}`,
      // Copies: the transport may transfer what it sends, and the chosen files stay usable.
      model: bundle.buffer.slice(bundle.byteOffset, bundle.byteOffset + bundle.byteLength) as ArrayBuffer,
      inputs: [],
      files: files.map((f) => ({ name: f.name, bytes: f.bytes.slice(0) })),
      pipeline: assets.pipeline,
      shardSize: form.shardSize,
      policy: form.policy,
      requesterKey: args.requesterKey,
      priority: form.priority,
      itemNames: files.map((f) => f.name),
    },
  };
}
