/**
 * The requester dashboard's intents: prepare a job (upload a model and inputs, or pick a built-in
 * workload), submit it with a policy, and export verified results. Views call these.
 */
import type { ExportStatus } from '../stores/requesterSlice.ts';
import { patch, useQuorumStore } from '../stores/store.ts';
import { createWorkerEngine } from '../runtime/workerEngine.ts';
import type { ImagePreprocessing } from '../workloads/inputs/imageTensor.ts';
import { exportFileName, resultsToCsvParts, resultsToJsonParts, resultsToNpy } from '../workloads/export/exporters.ts';
import { itemNamesFor } from '../workloads/inputs/itemNames.ts';
import { workloadById } from '../workloads/registry.ts';
import { buildExportBlob } from './exportBlob.ts';
import { ModelInspector } from './modelInspector.ts';
import { policyFromForm, type PolicyForm } from './policyForm.ts';
import { RequesterDraftHost, type DraftFile } from './requesterDraft.ts';
import { rememberRequesterKey } from './requesterKey.ts';
import { requesterHost } from './roles.ts';
import { errorMessage } from '../protocol/errorMessage.ts';

let draft: RequesterDraftHost | null = null;

/** One inspector (and inference Worker) per tab, started on the first model chosen. */
function draftHost(): RequesterDraftHost {
  draft ??= new RequesterDraftHost(new ModelInspector(() => createWorkerEngine()));
  return draft;
}

export function chooseModelFile(file: DraftFile): void {
  patch('requester', { submitProblems: [] });
  void draftHost().setModelFile(file);
}

export function chooseInputFiles(files: readonly (DraftFile & Blob)[]): void {
  patch('requester', { submitProblems: [] });
  void draftHost().addInputFiles(files);
}

export function clearInputFiles(): void {
  draftHost().clearInputs();
}

export function setImagePreprocessing(p: ImagePreprocessing): void {
  void draftHost().setImagePreprocessing(p);
}

function refuse(problems: readonly string[]): void {
  patch('requester', { submitProblems: problems });
}

/** Submits the uploaded model and inputs; refuses (with reasons, sending nothing) if any check fails. */
export function submitUploadedJob(networkId: string, form: PolicyForm, requesterKey: string): void {
  rememberRequesterKey(networkId, requesterKey);
  const host = requesterHost();
  if (!host || useQuorumStore.getState().requester.state !== 'connected') return refuse(['not connected to the coordinator yet: wait for "connected".']);
  const built = draftHost().buildSpec(policyFromForm(form), requesterKey);
  if (!built.ok) return refuse(built.problems);
  patch('requester', { submitProblems: [] });
  host.submit(built.spec, null);
}

/** Submits `count` items of a built-in workload. */
export async function submitBuiltInJob(networkId: string, workloadId: string, count: number, form: PolicyForm, requesterKey: string): Promise<void> {
  rememberRequesterKey(networkId, requesterKey);
  const host = requesterHost();
  if (!host || useQuorumStore.getState().requester.state !== 'connected') return refuse(['not connected to the coordinator yet: wait for "connected".']);
  const workload = workloadById(workloadId);
  if (!workload) return refuse([`there is no built-in workload "${workloadId}".`]);
  const policy = policyFromForm(form);
  const problems = policy.ok ? [] : [...policy.problems];
  if (!Number.isInteger(count) || count < 1 || count > workload.maxItems)
    problems.push(`${workload.itemNoun}: choose a whole number from 1 to ${workload.maxItems}.`);
  if (!policy.ok || problems.length > 0) return refuse(problems);
  patch('requester', { submitProblems: [] });
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

const FORMAT_LABEL = { json: 'JSON', csv: 'CSV', npy: '.npy' } as const;

function setExport(jobId: string, status: ExportStatus): void {
  patch('requester', (prev) => ({ exports: { ...prev.exports, [jobId]: status } }));
}

/**
 * Downloads a job's verified results: JSON (everything), CSV, or one output as .npy. JSON and CSV
 * are built a slice at a time (the page stays responsive, and shows how far it got); a failure is
 * shown on the page, in words, with what to try instead.
 */
export async function exportResults(jobId: string, format: 'json' | 'csv' | 'npy', outputName?: string): Promise<void> {
  const results = useQuorumStore.getState().requester.results[jobId]?.assembled;
  if (!results) return;
  if (useQuorumStore.getState().requester.exports[jobId]?.state === 'building') return;
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
    if (format === 'json') {
      blob = await buildExportBlob((p) => resultsToJsonParts(results, p), { type: 'application/json', onProgress: progress });
      name = exportFileName(jobId, 'results', 'json');
    } else if (format === 'csv') {
      blob = await buildExportBlob((p) => resultsToCsvParts(results, p), { type: 'text/csv', onProgress: progress });
      name = exportFileName(jobId, 'results', 'csv');
    } else {
      const output = outputName ?? results.outputs[0]?.name ?? '';
      blob = new Blob([resultsToNpy(results, output)], { type: 'application/octet-stream' });
      name = exportFileName(jobId, output, 'npy');
    }
    const a = document.createElement('a');
    a.href = URL.createObjectURL(blob);
    a.download = name;
    document.body.append(a);
    a.click();
    a.remove();
    // Revoked later: revoking at once can cancel the download in some browsers.
    setTimeout(() => URL.revokeObjectURL(a.href), 60_000);
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
