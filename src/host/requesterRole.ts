/**
 * The requester dashboard's intents: prepare a job (upload a model and inputs, or pick a built-in
 * workload), submit it with a policy, and export verified results. Views call these.
 */
import type { ExportStatus } from '../model/requesterView.ts';
import { ui } from './uiPorts.ts';
import { fieldViewPort } from '../model/viewPort.ts';
import { createWorkerEngine } from '../runtime/workerEngine.ts';
import type { ImagePreprocessing } from '../workloads/inputs/imageTensor.ts';
import { answersToCsvParts, answersToJsonParts, answersToTextParts } from '../workloads/export/answerExporters.ts';
import { exportFileName, resultsToCsvParts, resultsToJsonParts, resultsToNpy } from '../workloads/export/exporters.ts';
import { receiptSidecar, sidecarName } from '../workloads/export/receiptExport.ts';
import { fileWorkloadById, type FileWorkload } from '../workloads/fileWorkloads.ts';
import { decodePixels } from '../workloads/inputs/decodeImage.ts';
import { itemNamesFor } from '../workloads/inputs/itemNames.ts';
import { workloadById } from '../workloads/registry.ts';
import { buildExportBlob } from './exportBlob.ts';
import { ModelInspector } from './modelInspector.ts';
import { policyFromForm, type PolicyForm } from '../model/policyForm.ts';
import { RequesterDraftHost, type DraftFile } from './requesterDraft.ts';
import { rememberRequesterKey } from './requesterKey.ts';
import { requesterHost } from './requesterConnection.ts';
import { errorMessage } from '../protocol/errorMessage.ts';
import type { Pipeline } from '../protocol/pipeline.ts';
import { initialWorkloadFiles, type ItemPreview } from '../model/requesterView.ts';
import { checkWorkloadFiles, loadWorkloadAssets, workloadJobSpec, type CheckedFiles, type ChosenFile } from './workloadFiles.ts';

let draft: RequesterDraftHost | null = null;

/** One inspector (and inference Worker) per tab, started on the first model chosen. */
function draftHost(): RequesterDraftHost {
  draft ??= new RequesterDraftHost(new ModelInspector(() => createWorkerEngine()), undefined, fieldViewPort(ui().requester, 'draft'));
  return draft;
}

export function chooseModelFile(file: DraftFile): void {
  ui().requester.patch({ submitProblems: [] });
  void draftHost().setModelFile(file);
}

export function chooseInputFiles(files: readonly (DraftFile & Blob)[]): void {
  ui().requester.patch({ submitProblems: [] });
  void draftHost().addInputFiles(files);
}

export function clearInputFiles(): void {
  draftHost().clearInputs();
}

export function setImagePreprocessing(p: ImagePreprocessing): void {
  void draftHost().setImagePreprocessing(p);
}

function refuse(problems: readonly string[]): void {
  ui().requester.patch({ submitProblems: problems });
}

/** Submits the uploaded model and inputs; refuses (with reasons, sending nothing) if any check fails. */
export function submitUploadedJob(networkId: string, form: PolicyForm, requesterKey: string): void {
  rememberRequesterKey(networkId, requesterKey);
  const host = requesterHost();
  if (!host || ui().requester.get().state !== 'connected') return refuse(['not connected to the coordinator yet: wait for "connected".']);
  const built = draftHost().buildSpec(policyFromForm(form), requesterKey);
  if (!built.ok) return refuse(built.problems);
  ui().requester.patch({ submitProblems: [] });
  host.submit(built.spec, null);
}

/** Submits `count` items of a built-in workload. */
export async function submitBuiltInJob(networkId: string, workloadId: string, count: number, form: PolicyForm, requesterKey: string): Promise<void> {
  rememberRequesterKey(networkId, requesterKey);
  const host = requesterHost();
  if (!host || ui().requester.get().state !== 'connected') return refuse(['not connected to the coordinator yet: wait for "connected".']);
  const workload = workloadById(workloadId);
  if (!workload) return refuse([`there is no built-in workload "${workloadId}".`]);
  const policy = policyFromForm(form);
  const problems = policy.ok ? [] : [...policy.problems];
  if (!Number.isInteger(count) || count < 1 || count > workload.maxItems)
    problems.push(`${workload.itemNoun}: choose a whole number from 1 to ${workload.maxItems}.`);
  if (!policy.ok || problems.length > 0) return refuse(problems);
  ui().requester.patch({ submitProblems: [] });
  try {
    const batch = await workload.build(count);
    // [J-6] Built-in items are rows of the workload's own batch: `mnist#0`, `mnist#1`, …
    const itemNames = itemNamesFor({ batchFile: workload.id }, batch.inputs[0]?.dims[0] ?? 0);
    host.submit(
      {
        name: batch.name,
        model: batch.model,
        inputs: [...batch.inputs],
        shardSize: policy.shardSize,
        policy: policy.policy,
        requesterKey,
        priority: policy.priority,
        ...(itemNames ? { itemNames } : {}),
      },
      batch.labels,
    );
  } catch (e) {
    refuse([`could not load the ${workload.label} workload: ${errorMessage(e)}`]);
  }
}

/** The files chosen for a built-in workload of files, once checked; bumped by every choice. */
let chosen: { version: number; workloadId: string; checked: CheckedFiles | null } = { version: 0, workloadId: '', checked: null };
/** Each workload's assets, fetched and hashed once per tab (16 MB for OCR). */
const assetsByWorkload = new Map<string, Promise<{ bundle: Uint8Array; pipeline: Pipeline }>>();

/** Checks every chosen file of a built-in workload (OCR images, VAD WAV files) now, before anything is sent. */
export async function chooseWorkloadFiles(workloadId: string, files: readonly ChosenFile[]): Promise<void> {
  const workload = fileWorkloadById(workloadId);
  if (!workload) return;
  const version = chosen.version + 1;
  chosen = { version, workloadId, checked: null };
  ui().requester.patch({ submitProblems: [], workloadFiles: { ...initialWorkloadFiles, workloadId, state: 'checking' } });
  try {
    const checked = await checkWorkloadFiles(workload, files, (f) => decodePixels(f));
    if (chosen.version !== version) return;
    chosen = { version, workloadId, checked };
    const bytes = checked.files.reduce((n, f) => n + f.bytes.byteLength, 0);
    ui().requester.patch({ workloadFiles: { workloadId, state: 'ready', count: checked.files.length, bytes, skipped: checked.skipped.length, error: null } });
  } catch (e) {
    if (chosen.version !== version) return;
    ui().requester.patch({ workloadFiles: { ...initialWorkloadFiles, workloadId, state: 'error', error: errorMessage(e) } });
  }
}

export function clearWorkloadFiles(): void {
  chosen = { version: chosen.version + 1, workloadId: '', checked: null };
  ui().requester.patch({ workloadFiles: initialWorkloadFiles });
}

async function fetchFromOrigin(urlPath: string): Promise<Uint8Array> {
  const res = await fetch(urlPath);
  if (!res.ok) throw new Error(`${urlPath} answered HTTP ${res.status}: the app is served without its models (rebuild it with npm run build)`);
  return new Uint8Array(await res.arrayBuffer());
}

const IMAGE_TYPES: Readonly<Record<string, string>> = { png: 'image/png', jpg: 'image/jpeg', jpeg: 'image/jpeg' };

/** What the results view shows beside each item: the requester's own image, its size, or a recording's length. */
function previewsOf(workload: FileWorkload, checked: CheckedFiles): Record<string, ItemPreview> {
  const out: Record<string, ItemPreview> = {};
  checked.files.forEach((f, i) => {
    const d = checked.details[i];
    if (d && 'durationS' in d) out[f.name] = { durationS: d.durationS };
    else if (d && workload.answerKind === 'ocr') {
      const type = IMAGE_TYPES[f.name.split('.').pop()?.toLowerCase() ?? ''] ?? '';
      out[f.name] = { url: URL.createObjectURL(new Blob([f.bytes], { type })), width: d.width, height: d.height };
    }
  });
  return out;
}

/** Submits the chosen files to a built-in workload of files, with the form's answer comparator ([V-12]). */
export async function submitFileWorkloadJob(networkId: string, workloadId: string, form: PolicyForm, requesterKey: string): Promise<void> {
  rememberRequesterKey(networkId, requesterKey);
  const host = requesterHost();
  if (!host || ui().requester.get().state !== 'connected') return refuse(['not connected to the coordinator yet: wait for "connected".']);
  const workload = fileWorkloadById(workloadId);
  if (!workload) return refuse([`there is no built-in workload "${workloadId}".`]);
  const checked = chosen.workloadId === workloadId ? chosen.checked : null;
  if (!checked) {
    const view = ui().requester.get().workloadFiles;
    if (view.state === 'checking') return refuse([`the ${workload.itemNoun} are still being checked.`]);
    return refuse([view.state === 'error' && view.error ? view.error : `choose the ${workload.itemNoun} (files or a folder) first.`]);
  }
  const policy = policyFromForm(form, workload.answerKind);
  if (!policy.ok) return refuse(policy.problems);
  ui().requester.patch({ submitProblems: [] });
  let assets: { bundle: Uint8Array; pipeline: Pipeline };
  try {
    let loading = assetsByWorkload.get(workloadId);
    if (!loading) {
      loading = loadWorkloadAssets(workload, fetchFromOrigin);
      assetsByWorkload.set(workloadId, loading);
    }
    assets = await loading;
  } catch (e) {
    assetsByWorkload.delete(workloadId);
    return refuse([`could not load the ${workload.label} models: ${errorMessage(e)}`]);
  }
  const built = workloadJobSpec({ workload, assets, files: checked.files, form: policy, requesterKey });
  if (!built.ok) return refuse(built.problems);
  const ref = host.submit(built.spec, null);
  const previews = previewsOf(workload, checked);
  ui().requester.patch((prev) => ({ previews: { ...prev.previews, [ref]: previews } }));
}

const FORMAT_LABEL = { json: 'JSON', csv: 'CSV', npy: '.npy', txt: 'text' } as const;

function setExport(jobId: string, status: ExportStatus): void {
  ui().requester.patch((prev) => ({ exports: { ...prev.exports, [jobId]: status } }));
}

function download(blob: Blob, name: string): void {
  const a = document.createElement('a');
  a.href = URL.createObjectURL(blob);
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  // Revoked later: revoking at once can cancel the download in some browsers.
  setTimeout(() => URL.revokeObjectURL(a.href), 60_000);
}

/**
 * Downloads a job's verified results: JSON (everything), CSV, or one output as .npy. JSON and CSV
 * are built a slice at a time (the page stays responsive, and shows how far it got); a failure is
 * shown on the page, in words, with what to try instead.
 */
export async function exportResults(jobId: string, format: 'json' | 'csv' | 'npy' | 'txt', outputName?: string): Promise<void> {
  const results = ui().requester.get().results[jobId]?.assembled;
  if (!results) return;
  if (ui().requester.get().exports[jobId]?.state === 'building') return;
  let shown = 0;
  const progress = (fraction: number): void => {
    // A store update re-renders the page: once per percent is plenty.
    if (fraction - shown < 0.01 && fraction < 1) return;
    shown = fraction;
    setExport(jobId, { format, state: 'building', progress: fraction, bytes: null, error: null });
  };
  setExport(jobId, { format, state: 'building', progress: 0, bytes: null, error: null });
  try {
    let blob: Blob;
    let name: string;
    if (results.answers) {
      // [V-12] A pipeline job's answers: per item, its name and answer.
      const parts = format === 'csv' ? answersToCsvParts : format === 'txt' ? answersToTextParts : answersToJsonParts;
      const type = format === 'csv' ? 'text/csv' : format === 'txt' ? 'text/plain' : 'application/json';
      blob = await buildExportBlob((p) => parts(results, p), { type, onProgress: progress });
      name = exportFileName(jobId, format === 'txt' ? 'text' : 'answers', format === 'npy' ? 'json' : format);
    } else if (format === 'json') {
      blob = await buildExportBlob((p) => resultsToJsonParts(results, p), { type: 'application/json', onProgress: progress });
      name = exportFileName(jobId, 'results', 'json');
    } else if (format === 'csv') {
      blob = await buildExportBlob((p) => resultsToCsvParts(results, p), { type: 'text/csv', onProgress: progress });
      name = exportFileName(jobId, 'results', 'csv');
    } else if (format === 'txt') {
      throw new Error('a job of tensors has no text to export');
    } else {
      const output = outputName ?? results.outputs[0]?.name ?? '';
      blob = new Blob([resultsToNpy(results, output)], { type: 'application/octet-stream' });
      name = exportFileName(jobId, output, 'npy');
    }
    download(blob, name);
    // [AU-6] JSON carries its receipt inline; every other export gets it beside it.
    if (results.receipt && !name.endsWith('.json')) {
      const kind = results.answers ? (format === 'txt' ? 'answers-text' : 'answers-csv') : format === 'npy' ? 'npy' : 'results-csv';
      const output = format === 'npy' && !results.answers ? (outputName ?? results.outputs[0]?.name) : undefined;
      download(new Blob([receiptSidecar(results.receipt, name, kind, output)], { type: 'application/json' }), sidecarName(name));
    }
    setExport(jobId, { format, state: 'done', progress: 1, bytes: blob.size, error: null });
  } catch (e) {
    const other = format === 'npy' ? 'the JSON or CSV export' : 'the .npy export (numbers only, no text to build)';
    setExport(jobId, {
      format,
      state: 'failed',
      progress: shown,
      bytes: null,
      error: `the ${FORMAT_LABEL[format]} export failed: ${errorMessage(e).replace(/\.$/, '')}. Close other tabs to free memory and try again, or use ${other}.`,
    });
  }
}
