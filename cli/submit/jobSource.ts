/**
 * The job `quorum submit` sends, built and checked as the dashboard builds and checks it: the
 * built-in MNIST batch, a file workload's files through checkWorkloadFiles/workloadJobSpec, or a
 * model and its inputs through the dashboard's draft (RequesterDraftHost, its model inspected by
 * onnxruntime-node). A problem comes back in the dashboard's words, nothing is sent.
 *
 * The workloads' models and data are read from this checkout's public/ folder: the files the app
 * serves at the same paths, so the job is byte for byte the one the dashboard would send.
 */
import fs from 'node:fs';
import path from 'node:path';
import { nodeImageDecoder } from '../../scripts/workloads/decodeImageFile.ts';
import { ModelInspector } from '../../src/host/modelInspector.ts';
import { policyFromForm, type PolicyForm } from '../../src/model/policyForm.ts';
import { RequesterDraftHost, type DraftImageDecoder } from '../../src/host/requesterDraft.ts';
import { checkWorkloadFiles, loadWorkloadAssets, workloadJobSpec, type ChosenFile, type FetchBytes } from '../../src/host/workloadFiles.ts';
import { errorMessage } from '../../src/protocol/errorMessage.ts';
import type { JobSpec } from '../../src/protocol/messages.ts';
import { createOrtNodeEngine } from '../../src/runtime/ortNodeEngine.node.ts';
import { fileWorkloadById } from '../../src/workloads/fileWorkloads.ts';
import { itemNamesFor } from '../../src/workloads/inputs/itemNames.ts';
import { decodeMnistHoldout, MNIST_HOLDOUT_URL, MNIST_INPUT_NAME, MNIST_MODEL_URL, MNIST_PIXELS } from '../../src/workloads/mnist/holdout.ts';
import { mnistBatch } from '../../src/workloads/mnist/mnistJob.ts';
import { workloadById } from '../../src/workloads/registry.ts';
import type { JobSource } from './submitArgs.ts';

const PUBLIC_DIR = path.resolve(import.meta.dirname, '../../public');

/** The app's own files, from the checkout (what the server serves at `urlPath`). */
export const publicFile: FetchBytes = async (urlPath) => {
  const file = path.join(PUBLIC_DIR, ...urlPath.split('/').filter((p) => p !== '' && p !== '..'));
  try {
    return new Uint8Array(fs.readFileSync(file));
  } catch (e) {
    throw new Error(`${urlPath} is missing from ${PUBLIC_DIR} (${errorMessage(e)}): run quorum from a complete checkout of the project`);
  }
};

export type BuiltJob =
  { readonly ok: true; readonly spec: JobSpec; readonly labels: Uint8Array | null } | { readonly ok: false; readonly problems: readonly string[] };

/** A file on disk as the dashboard's file inputs hand one over; `relative`: its path within a chosen folder. */
function chosenFile(file: string, relative: string | null): ChosenFile {
  const f = new File([fs.readFileSync(file)], path.basename(file));
  return relative === null ? f : Object.assign(f, { webkitRelativePath: relative.split(path.sep).join('/') });
}

/**
 * The files `--inputs` names: a file as it is, a folder as every file under it (its path within
 * the folder, prefixed with the folder's name, as a browser's folder input gives it), in path order.
 */
export function readInputPaths(paths: readonly string[]): { ok: true; files: ChosenFile[] } | { ok: false; problems: string[] } {
  const files: ChosenFile[] = [];
  const problems: string[] = [];
  for (const p of paths) {
    let stat: fs.Stats;
    try {
      stat = fs.statSync(p);
    } catch {
      problems.push(`"${p}" does not exist: check the path given to --inputs.`);
      continue;
    }
    if (stat.isDirectory()) {
      const base = path.basename(path.resolve(p));
      const names = (fs.readdirSync(p, { recursive: true }) as string[]).sort();
      for (const rel of names) {
        const full = path.join(p, rel);
        if (fs.statSync(full).isFile()) files.push(chosenFile(full, path.join(base, rel)));
      }
    } else files.push(chosenFile(p, null));
  }
  return problems.length > 0 ? { ok: false, problems } : { ok: true, files };
}

/** The Node decoder, as the draft's and the workload check's image decoder. */
const decodeChosen: DraftImageDecoder = async (file) => nodeImageDecoder(await file.arrayBuffer(), file.name);

/** The built-in MNIST batch, as the dashboard's submitBuiltInJob sends it. */
async function builtInJob(workloadId: string, items: number, form: PolicyForm, requesterKey: string): Promise<BuiltJob> {
  const workload = workloadById(workloadId);
  if (!workload || workload.id !== 'mnist') return { ok: false, problems: [`there is no built-in workload "${workloadId}".`] };
  const policy = policyFromForm(form);
  if (!policy.ok) return policy;
  const [model, data] = await Promise.all([publicFile(MNIST_MODEL_URL), publicFile(MNIST_HOLDOUT_URL)]);
  const batch = mnistBatch(decodeMnistHoldout(data.slice().buffer), items);
  const n = batch.labels.length;
  // [J-6] Built-in items are rows of the workload's own batch: `mnist#0`, `mnist#1`, …
  const itemNames = itemNamesFor({ batchFile: workload.id }, n);
  return {
    ok: true,
    labels: batch.labels,
    spec: {
      name: `MNIST ${n} digits`,
      model: model.slice().buffer,
      inputs: [{ name: MNIST_INPUT_NAME, dtype: 'float32', dims: [n, MNIST_PIXELS], data: batch.data }],
      shardSize: policy.shardSize,
      policy: policy.policy,
      requesterKey,
      priority: policy.priority,
      ...(itemNames ? { itemNames } : {}),
    },
  };
}

/** OCR or VAD on the requester's files, checked file by file as the dashboard checks them. */
async function fileWorkloadJob(workloadId: string, paths: readonly string[], form: PolicyForm, requesterKey: string): Promise<BuiltJob> {
  const workload = fileWorkloadById(workloadId);
  if (!workload) return { ok: false, problems: [`there is no built-in workload "${workloadId}".`] };
  const read = readInputPaths(paths);
  if (!read.ok) return read;
  let checked;
  try {
    checked = await checkWorkloadFiles(workload, read.files, decodeChosen);
  } catch (e) {
    return { ok: false, problems: [errorMessage(e)] };
  }
  const policy = policyFromForm(form, workload.answerKind);
  if (!policy.ok) return policy;
  let assets;
  try {
    assets = await loadWorkloadAssets(workload, publicFile);
  } catch (e) {
    return { ok: false, problems: [`could not load the ${workload.label} models: ${errorMessage(e)}`] };
  }
  const built = workloadJobSpec({ workload, assets, files: checked.files, form: policy, requesterKey });
  return built.ok ? { ok: true, spec: built.spec, labels: null } : built;
}

/** The requester's model and inputs, through the dashboard's draft: the same checks, the same messages. */
async function modelJob(modelPath: string, inputPaths: readonly string[], form: PolicyForm, requesterKey: string): Promise<BuiltJob> {
  if (!fs.existsSync(modelPath) || !fs.statSync(modelPath).isFile())
    return { ok: false, problems: [`"${modelPath}" does not exist: check the path given to --model.`] };
  const read = readInputPaths(inputPaths);
  if (!read.ok) return read;
  const draft = new RequesterDraftHost(new ModelInspector(() => createOrtNodeEngine()), decodeChosen);
  await draft.setModelFile(chosenFile(modelPath, null));
  // A model that cannot be used is the one problem to report: inputs are checked against its signature.
  if (draft.view.get().model?.state === 'ready') await draft.addInputFiles(read.files);
  const built = draft.buildSpec(policyFromForm(form), requesterKey);
  return built.ok ? { ok: true, spec: built.spec, labels: null } : built;
}

/** Builds the job `source` names; problems in the dashboard's words when it cannot be sent. */
export function buildJob(source: JobSource, form: PolicyForm, requesterKey: string): Promise<BuiltJob> {
  switch (source.kind) {
    case 'builtin':
      return builtInJob(source.workload, source.items, form, requesterKey);
    case 'files':
      return fileWorkloadJob(source.workload, source.inputs, form, requesterKey);
    case 'model':
      return modelJob(source.model, source.inputs, form, requesterKey);
  }
}
