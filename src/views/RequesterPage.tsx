import { useEffect, useState, type FormEvent } from 'react';
import { formatBytes, formatDims, formatDuration } from '../core/format.ts';
import { ADAPTIVE_EXPLAINED, COMPARATOR_KINDS, COMPARATOR_LABELS, defaultPolicyForm, type ComparatorKind, type PolicyForm } from '../model/policyForm.ts';
import { moveRequesterKeyOutOfUrl, rememberedRequesterKey } from '../host/requesterKey.ts';
import {
  chooseInputFiles,
  chooseModelFile,
  clearInputFiles,
  exportResults,
  clearWorkloadFiles,
  setImagePreprocessing,
  submitBuiltInJob,
  submitFileWorkloadJob,
  submitUploadedJob,
} from '../host/requesterRole.ts';
import { connectRequester, runReference } from '../host/requesterConnection.ts';
import type { JobStatus } from '../protocol/messages.ts';
import { spreadWarnings } from '../core/verification/spread.ts';
import { ReceiptVerifier } from './ReceiptVerifier.tsx';
import type { ExportStatus, RequesterDraft } from '../model/requesterView.ts';
import { useQuorumStore } from '../stores/store.ts';
import { type JobResults, type Submission } from '../model/requesterView.ts';
import {
  CHANNEL_ORDERS,
  IMAGE_PRESETS,
  LAYOUTS,
  NORMALISATIONS,
  type ChannelOrder,
  type ImagePreprocessing,
  type Layout,
  type NormalisationId,
} from '../workloads/inputs/imageTensor.ts';
import { FILE_WORKLOADS, fileWorkloadById, type FileWorkload } from '../workloads/fileWorkloads.ts';
import { WORKLOADS } from '../workloads/registry.ts';
import { AnswerResults } from './AnswerResults.tsx';
import { JobProgress, LogView, StateBadge } from './common.tsx';
import { WorkloadFilesFields } from './WorkloadFilesFields.tsx';
import { KeyAlarmBanner } from './KeyAlarmBanner.tsx';
import type { Route } from './route.ts';

type Source = 'builtin' | 'upload';

export function RequesterPage({ route }: { route: Route }) {
  const r = useQuorumStore((s) => s.requester);
  const [source, setSource] = useState<Source>('builtin');
  const [workloadId, setWorkloadId] = useState(WORKLOADS[0]?.id ?? '');
  const workload = WORKLOADS.find((w) => w.id === workloadId);
  const fileWorkload = fileWorkloadById(workloadId);
  const [count, setCount] = useState(workload?.defaultItems ?? 100);
  const [form, setForm] = useState<PolicyForm>(defaultPolicyForm);
  const [key, setKey] = useState(() => route.params.get('key') ?? rememberedRequesterKey(route.networkId));
  useEffect(() => moveRequesterKeyOutOfUrl(route.networkId), [route.networkId]);
  useEffect(() => {
    void connectRequester(route.networkId);
  }, [route.networkId]);

  // [J-5] A newly chosen model's outputs may need smaller shards than the usual default.
  const proposedShardSize = r.draft.proposedShardSize;
  useEffect(() => {
    if (proposedShardSize !== null) setForm((f) => ({ ...f, shardSize: proposedShardSize }));
  }, [proposedShardSize]);

  const field =
    <K extends keyof PolicyForm>(name: K) =>
    (value: PolicyForm[K]) =>
      setForm((f) => ({ ...f, [name]: value }));
  const submit = (e: FormEvent): void => {
    e.preventDefault();
    if (source === 'builtin' && fileWorkload) void submitFileWorkloadJob(route.networkId, workloadId, form, key.trim());
    else if (source === 'builtin') void submitBuiltInJob(route.networkId, workloadId, count, form, key.trim());
    else submitUploadedJob(route.networkId, form, key.trim());
  };
  const chooseWorkload = (id: string): void => {
    setWorkloadId(id);
    clearWorkloadFiles();
    // A file workload's items are heavier than a digit: start from its own shard size.
    const chosen = fileWorkloadById(id);
    if (chosen) setForm((f) => ({ ...f, shardSize: chosen.defaultShardSize }));
  };
  const myJobIds = new Set(r.submissions.map((s) => s.jobId));
  const mine = r.jobs.filter((j) => myJobIds.has(j.jobId));
  const others = r.jobs.filter((j) => !myJobIds.has(j.jobId));
  return (
    <section>
      <h1>Requester</h1>
      <p>
        Submit a job to network <code>{route.networkId}</code> — a built-in workload, or your own ONNX model with its inputs — watch it run on volunteers'
        browsers, and take away results that a quorum of independent volunteers agreed on.
      </p>
      <StateBadge state={r.state} error={r.error} />
      <KeyAlarmBanner role="requester" />
      <form className="submit" onSubmit={submit} data-testid="submit-form">
        <fieldset>
          <legend>Requester key</legend>
          <label>
            Key{' '}
            <input
              type="text"
              name="requesterKey"
              value={key}
              onChange={(e) => setKey(e.target.value)}
              placeholder="on the coordinator page, or in its requester link"
              autoComplete="off"
            />
          </label>
          <span className="muted">The coordinator only takes jobs that carry its key; this page remembers it for this network.</span>
        </fieldset>

        <fieldset>
          <legend>What to run</legend>
          <label className="inline">
            <input
              type="radio"
              name="source"
              value="builtin"
              checked={source === 'builtin'}
              onChange={() => setSource('builtin')}
              data-testid="source-builtin"
            />{' '}
            Built-in workload
          </label>
          <label className="inline">
            <input type="radio" name="source" value="upload" checked={source === 'upload'} onChange={() => setSource('upload')} data-testid="source-upload" />{' '}
            Upload an ONNX model
          </label>
        </fieldset>

        {source === 'builtin' ? (
          <fieldset data-testid="builtin-workload">
            <legend>Built-in workload</legend>
            <label>
              Workload
              <select name="workload" value={workloadId} onChange={(e) => chooseWorkload(e.target.value)} data-testid="workload-select">
                {[...WORKLOADS, ...FILE_WORKLOADS].map((w) => (
                  <option key={w.id} value={w.id}>
                    {w.label}
                  </option>
                ))}
              </select>
            </label>
            {fileWorkload ? (
              <WorkloadFilesFields workload={fileWorkload} view={r.workloadFiles} />
            ) : (
              <label>
                {workload?.itemNoun ?? 'Items'}{' '}
                <input type="number" name="count" min={1} max={workload?.maxItems} value={count} onChange={(e) => setCount(Number(e.target.value))} />
              </label>
            )}
            <span className="muted">{(fileWorkload ?? workload)?.description}</span>
          </fieldset>
        ) : (
          <UploadFields draft={r.draft} />
        )}

        <fieldset>
          <legend>Verification policy</legend>
          <NumberField label="Shard size" name="shardSize" value={form.shardSize} min={1} onChange={field('shardSize')} />
          <NumberField label="Replication" name="replication" value={form.replication} min={1} max={16} onChange={field('replication')} />
          <NumberField label="Quorum" name="quorum" value={form.quorum} min={1} max={16} onChange={field('quorum')} />
          <NumberField label="Max replicas" name="maxReplicas" value={form.maxReplicas} min={1} max={16} onChange={field('maxReplicas')} />
          {source === 'builtin' && fileWorkload ? <AnswerComparatorFields workload={fileWorkload} form={form} field={field} /> : null}
          <label hidden={source === 'builtin' && fileWorkload !== undefined}>
            Comparator
            <select
              name="comparator"
              value={form.comparator}
              onChange={(e) => field('comparator')(e.target.value as ComparatorKind)}
              title={COMPARATOR_LABELS[form.comparator]}
            >
              {COMPARATOR_KINDS.map((k) => (
                <option key={k} value={k}>
                  {k}
                </option>
              ))}
            </select>
          </label>
          {form.comparator === 'allclose' && !(source === 'builtin' && fileWorkload) ? (
            <>
              <NumberField label="atol" name="atol" value={form.atol} min={0} step="any" onChange={field('atol')} />
              <NumberField label="rtol" name="rtol" value={form.rtol} min={0} step="any" onChange={field('rtol')} />
            </>
          ) : null}
          {form.comparator === 'cosine' && !(source === 'builtin' && fileWorkload) ? (
            <NumberField label="threshold" name="threshold" value={form.threshold} min={-1} max={1} step="any" onChange={field('threshold')} />
          ) : null}
          <NumberField label="Priority (1-10)" name="priority" value={form.priority} min={1} max={10} onChange={field('priority')} />
          <label title={ADAPTIVE_EXPLAINED}>
            <input type="checkbox" name="adaptive" checked={form.adaptive} onChange={(e) => field('adaptive')(e.target.checked)} /> Adaptive replication
          </label>
          <span className="muted">
            {source === 'builtin' && fileWorkload ? ANSWER_COMPARATOR_LABELS[fileWorkload.answerKind] : COMPARATOR_LABELS[form.comparator]}. Jobs share
            volunteers in proportion to their priorities.
          </span>
          {form.adaptive ? (
            <span className="muted" data-testid="adaptive-explained">
              {ADAPTIVE_EXPLAINED}
            </span>
          ) : null}
        </fieldset>
        <button className="primary" type="submit" data-testid="submit-job" disabled={r.state !== 'connected'}>
          Submit job
        </button>
        {r.submitProblems.length > 0 ? (
          <ul className="error" data-testid="submit-error">
            {r.submitProblems.map((p, i) => (
              <li key={i}>{p}</li>
            ))}
          </ul>
        ) : null}
      </form>

      <h2>Submissions</h2>
      <ul data-testid="submissions">
        {r.submissions.map((s) => (
          <SubmissionLine key={s.ref} s={s} />
        ))}
      </ul>

      <h2>Your jobs</h2>
      {mine.length === 0 ? <p className="muted">None yet.</p> : null}
      {mine.map((j) => (
        <div key={j.jobId}>
          <JobProgress job={j} />
          <JobRateLine job={j} />
          <SpreadLine job={j} policy={r.submissions.find((s) => s.jobId === j.jobId)?.policy} />
          {r.results[j.jobId] ? <Results results={r.results[j.jobId]!} previewRef={r.submissions.find((s) => s.jobId === j.jobId)?.ref} /> : null}
        </div>
      ))}
      {others.length > 0 ? (
        <details data-testid="other-jobs">
          <summary>Other jobs on this network ({others.length})</summary>
          {others.map((j) => (
            <JobProgress key={j.jobId} job={j} />
          ))}
        </details>
      ) : null}

      {source === 'builtin' && workload?.hasReference ? (
        <>
          <h2>Check against a local run</h2>
          <p>Runs the same model on the same {workload.itemNoun} in this tab alone, so you can compare it with what the network verified.</p>
          <button data-testid="run-reference" onClick={() => void runReference(count)} disabled={r.reference?.state === 'running'}>
            Run {count} {workload.itemNoun} locally
          </button>
        </>
      ) : null}
      {r.reference ? (
        <p data-testid="reference-state" data-state={r.reference.state}>
          {r.reference.detail}
        </p>
      ) : null}
      <LogView log={r.log} />
    </section>
  );
}

const ANSWER_COMPARATOR_LABELS: Readonly<Record<FileWorkload['answerKind'], string>> = {
  ocr: 'OCR answers agree when their lines pair one to one with boxes overlapping at least the minimum IoU, and texts within the character error rate',
  segments: 'speech answers agree when they have as many segments, each start and end within the tolerance',
};

/** [V-12] The answer comparator's numbers for the chosen workload (defaults: DEFAULT_ANSWER_COMPARATORS). */
function AnswerComparatorFields({
  workload,
  form,
  field,
}: {
  workload: FileWorkload;
  form: PolicyForm;
  field: <K extends keyof PolicyForm>(name: K) => (value: PolicyForm[K]) => void;
}) {
  if (workload.answerKind === 'segments') {
    return (
      <NumberField label="Segment tolerance (ms)" name="vadToleranceMs" value={form.vadToleranceMs} min={0} max={10000} onChange={field('vadToleranceMs')} />
    );
  }
  return (
    <>
      <NumberField label="Min box IoU" name="ocrMinIou" value={form.ocrMinIou} min={0.05} max={1} step="any" onChange={field('ocrMinIou')} />
      <NumberField label="Max character error rate" name="ocrMaxCer" value={form.ocrMaxCer} min={0} max={1} step="any" onChange={field('ocrMaxCer')} />
    </>
  );
}

function NumberField(props: { label: string; name: string; value: number; min?: number; max?: number; step?: string; onChange: (v: number) => void }) {
  return (
    <label>
      {props.label}{' '}
      <input
        type="number"
        name={props.name}
        min={props.min}
        max={props.max}
        step={props.step}
        value={props.value}
        onChange={(e) => props.onChange(Number(e.target.value))}
      />
    </label>
  );
}

function SubmissionLine({ s }: { s: Submission }) {
  const size = formatBytes(s.bytes);
  return (
    <li data-state={s.state} data-ref={s.ref}>
      {s.name} (priority {s.priority}):{' '}
      {s.state === 'sending' ? <span data-testid="upload-progress">sending… {size}; the coordinator checks the model before accepting it</span> : null}
      {s.state === 'accepted' ? (
        <>
          accepted as <code>{s.jobId}</code> <span className="muted">({size} sent)</span>
        </>
      ) : null}
      {s.state === 'rejected' ? (
        <>
          rejected{' '}
          <span className="error" data-testid="rejection">
            — {s.reason}
          </span>
        </>
      ) : null}
    </li>
  );
}

function UploadFields({ draft }: { draft: RequesterDraft }) {
  const model = draft.model;
  const sig = model?.signature ?? null;
  const wantsImages = draft.imageCount > 0 || (sig?.inputs.some((p) => p.dims?.length === 4) ?? false);
  return (
    <fieldset data-testid="upload-fields">
      <legend>Your model and inputs</legend>
      <label>
        Model (.onnx)
        <input type="file" name="model" accept=".onnx,application/octet-stream" onChange={(e) => e.target.files?.[0] && chooseModelFile(e.target.files[0])} />
      </label>
      {model ? (
        <p data-testid="model-state" data-state={model.state}>
          <code>{model.fileName}</code> {model.bytes ? `(${formatBytes(model.bytes)})` : ''}:{' '}
          {model.state === 'inspecting' ? 'checking that this browser can load it…' : model.state === 'ready' ? 'loads in onnxruntime-web.' : null}
          {model.error ? (
            <span className="error" data-testid="model-error">
              {model.error}
            </span>
          ) : null}
        </p>
      ) : null}
      {sig ? (
        <table className="peers" data-testid="model-signature">
          <thead>
            <tr>
              <th>port</th>
              <th>name</th>
              <th>dtype</th>
              <th>shape</th>
              <th>given</th>
            </tr>
          </thead>
          <tbody>
            {sig.inputs.map((p) => {
              const given = draft.inputs.find((i) => i.name === p.name);
              return (
                <tr key={`in-${p.name}`} data-testid={`signature-input-${p.name}`}>
                  <td>input</td>
                  <td>
                    <code>{p.name}</code>
                  </td>
                  <td>{p.dtype ?? 'unsupported'}</td>
                  <td>{formatDims(p.dims)}</td>
                  <td>{given ? `${given.dtype} ${formatDims(given.dims)} from ${given.source}` : '—'}</td>
                </tr>
              );
            })}
            {sig.outputs.map((p) => (
              <tr key={`out-${p.name}`}>
                <td>output</td>
                <td>
                  <code>{p.name}</code>
                </td>
                <td>{p.dtype ?? 'unsupported'}</td>
                <td>{formatDims(p.dims)}</td>
                <td />
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
      <label>
        Inputs (.npy, .json, PNG/JPEG)
        <input
          type="file"
          name="inputs"
          multiple
          accept=".npy,.json,.png,.jpg,.jpeg,application/json,image/png,image/jpeg"
          disabled={model?.state !== 'ready'}
          onChange={(e) => {
            const files = e.target.files ? [...e.target.files] : [];
            if (files.length > 0) chooseInputFiles(files);
            e.target.value = '';
          }}
        />
      </label>
      {draft.inputs.length > 0 || draft.imageCount > 0 ? (
        <button type="button" onClick={clearInputFiles}>
          Clear inputs
        </button>
      ) : null}
      {wantsImages ? <ImageFields p={draft.imagePreprocessing} /> : null}
      <p className="muted">
        Name each .npy after the model input it feeds (<code>x.npy</code>) — a model with one input takes any name. A .json file holds nested arrays, or{' '}
        <code>{'{"input": [...]}'}</code>. Images become one batch for the image input. The first dimension of every input is the item (batch) dimension.
      </p>
      {draft.busy ? <p data-testid="draft-busy">reading…</p> : null}
      {draft.inputError ? (
        <p className="error" data-testid="input-error">
          {draft.inputError}
        </p>
      ) : null}
      {model?.state === 'ready' && draft.problems.length > 0 ? (
        <ul className="error" data-testid="input-problems">
          {draft.problems.map((p, i) => (
            <li key={i}>{p}</li>
          ))}
        </ul>
      ) : null}
      {model?.state === 'ready' && draft.problems.length === 0 && !draft.busy ? (
        <p data-testid="draft-ready">Ready: {draft.inputs.map((i) => `${i.name} ${i.dtype} ${formatDims(i.dims)}`).join(', ')} fit the model.</p>
      ) : null}
    </fieldset>
  );
}

function ImageFields({ p }: { p: ImagePreprocessing }) {
  const set = (delta: Partial<ImagePreprocessing>): void => setImagePreprocessing({ ...p, ...delta });
  return (
    <div data-testid="image-preprocessing">
      <label>
        Preset
        <select
          name="imagePreset"
          value=""
          onChange={(e) => {
            const preset = IMAGE_PRESETS[e.target.value];
            if (preset) setImagePreprocessing(preset);
          }}
        >
          <option value="">choose a preset…</option>
          {Object.keys(IMAGE_PRESETS).map((k) => (
            <option key={k} value={k}>
              {k}
            </option>
          ))}
        </select>
      </label>
      <NumberField label="Width" name="imageWidth" value={p.width} min={1} onChange={(width) => set({ width })} />
      <NumberField label="Height" name="imageHeight" value={p.height} min={1} onChange={(height) => set({ height })} />
      <label>
        Layout
        <select name="imageLayout" value={p.layout} onChange={(e) => set({ layout: e.target.value as Layout })}>
          {LAYOUTS.map((l) => (
            <option key={l}>{l}</option>
          ))}
        </select>
      </label>
      <label>
        Channels
        <select name="imageChannels" value={p.channels} onChange={(e) => set({ channels: e.target.value as ChannelOrder })}>
          {CHANNEL_ORDERS.map((c) => (
            <option key={c}>{c}</option>
          ))}
        </select>
      </label>
      <label>
        Normalisation
        <select name="imageNormalisation" value={p.normalisation} onChange={(e) => set({ normalisation: e.target.value as NormalisationId })}>
          {Object.entries(NORMALISATIONS).map(([id, n]) => (
            <option key={id} value={id}>
              {n.label}
            </option>
          ))}
        </select>
      </label>
    </div>
  );
}

function JobRateLine({ job }: { job: JobStatus }) {
  const rate = useQuorumStore((s) => s.requester.rates[job.jobId]);
  return (
    <p className="job-counts" data-testid={`job-rate-${job.jobId}`}>
      priority {job.priority ?? 1} · throughput {rate?.itemsPerSec != null ? `${rate.itemsPerSec.toFixed(1)} items/s` : '—'} · ETA{' '}
      {job.done ? 'done' : rate?.etaMs != null ? formatDuration(rate.etaMs) : '—'}
    </p>
  );
}

/**
 * [V-13] The spread the coordinator measured between replicas of the job's first shards, and
 * what it says about the tolerance: below it, honest shards go unverifiable; far above it, a liar has room.
 */
function SpreadLine({ job, policy }: { job: JobStatus; policy: Submission['policy'] }) {
  const spread = job.spread;
  if (!spread) return null;
  const warnings = policy ? spreadWarnings(policy, spread) : [];
  const measured = spread.ocr
    ? `box IoU ≥ ${spread.ocr.minIou.toFixed(2)}, CER ≤ ${spread.ocr.maxCer.toFixed(3)}`
    : spread.segments
      ? `segment shift ≤ ${(spread.segments.maxShiftSec * 1000).toFixed(0)} ms`
      : (spread.outputs ?? []).map((o) => `"${o.name}" ≤ ${o.maxAbs.toPrecision(2)}`).join(', ');
  return (
    <div data-testid={`job-spread-${job.jobId}`}>
      <p className="muted">
        Honest spread between replicas ({spread.pairs} pairs, {spread.crossBackendPairs} across backends): {measured || '—'}
      </p>
      {warnings.map((w) => (
        <p key={w} className="warning" role="status">
          {w}
        </p>
      ))}
    </div>
  );
}

const EXPORT_LABEL = { json: 'JSON', csv: 'CSV', npy: '.npy', txt: 'text' } as const;

/** How the last results download is going: progress while it is built, then its size or why it failed. */
function ExportLine({ status }: { status: ExportStatus }) {
  const label = EXPORT_LABEL[status.format];
  if (status.state === 'failed') {
    return (
      <p className="error" data-testid="export-error" role="alert">
        {status.error}
      </p>
    );
  }
  return (
    <p className="muted" data-testid="export-status" data-state={status.state}>
      {status.state === 'building'
        ? `Building the ${label} file… ${Math.floor(status.progress * 100)} %`
        : `${label} file ready (${formatBytes(status.bytes ?? 0)}).`}
    </p>
  );
}

function Results({ results, previewRef }: { results: JobResults; previewRef: string | undefined }) {
  const previews = useQuorumStore((s) => (previewRef ? s.requester.previews[previewRef] : undefined));
  const reference = useQuorumStore((s) => s.requester.reference);
  const matches =
    reference?.state === 'done' && reference.predictions.length === results.predictions.length
      ? results.predictions.filter((p, i) => p === reference.predictions[i]).length
      : null;
  const backends = new Set(results.provenance.flatMap((p) => p.backends));
  const exportStatus = useQuorumStore((s) => s.requester.exports[results.jobId]);
  const building = exportStatus?.state === 'building';
  return (
    <div className="results" data-testid={`results-${results.jobId}`}>
      <p>
        <strong data-testid="verified-items">{results.verifiedItems}</strong> of {results.items} items verified
        {results.accuracy !== null ? (
          <>
            ; accuracy against the true labels <strong data-testid="accuracy">{(results.accuracy * 100).toFixed(2)}%</strong>
          </>
        ) : null}
        ; agreeing backends: {[...backends].join(', ') || '—'}.
      </p>
      {matches !== null ? (
        <p data-testid="reference-match">
          {matches} of {results.predictions.length} predictions match the local run.
        </p>
      ) : null}
      {results.accuracy !== null ? <p className="mono">First predictions: {results.predictions.slice(0, 40).join(' ')}…</p> : null}
      {results.assembleError ? <p className="error">{results.assembleError}</p> : null}
      {results.assembled?.answers ? (
        <AnswerExports results={results} answers={results.assembled.answers} previews={previews} building={building} />
      ) : (
        <TensorExports results={results} building={building} />
      )}
      {exportStatus ? <ExportLine status={exportStatus} /> : null}
      <ReceiptVerifier />
      {results.verifiedItems < results.items ? (
        <p className="muted">
          {results.assembled?.answers
            ? 'Items that could not be verified are marked verified = false in CSV and JSON, and [not verified] in text.'
            : 'Items that could not be verified are empty in CSV, null in JSON, and NaN (or 0) in NPY.'}
        </p>
      ) : null}
    </div>
  );
}

/** [V-12] A pipeline job's answers on the page, and their exports (JSON, CSV; text for OCR). */
function AnswerExports(props: {
  results: JobResults;
  answers: NonNullable<NonNullable<JobResults['assembled']>['answers']>;
  previews: Parameters<typeof AnswerResults>[0]['previews'];
  building: boolean;
}) {
  const { results, answers, building } = props;
  const ocr = answers.some((a) => a?.kind === 'ocr');
  return (
    <>
      <AnswerResults answers={answers} itemNames={results.assembled?.itemNames ?? null} previews={props.previews} />
      <p>
        Download verified answers with provenance:{' '}
        <button type="button" data-testid="export-json" onClick={() => void exportResults(results.jobId, 'json')} disabled={building}>
          JSON
        </button>{' '}
        <button type="button" data-testid="export-csv" onClick={() => void exportResults(results.jobId, 'csv')} disabled={building}>
          CSV
        </button>{' '}
        {ocr ? (
          <button type="button" data-testid="export-txt" onClick={() => void exportResults(results.jobId, 'txt')} disabled={building}>
            Text
          </button>
        ) : null}
      </p>
    </>
  );
}

function TensorExports({ results, building }: { results: JobResults; building: boolean }) {
  const outputs = results.assembled?.outputs ?? [];
  return (
    <>
      <p className="mono">Outputs: {outputs.map((o) => `${o.name} ${o.dtype} [${o.dims.join(', ')}]`).join('; ') || '—'}</p>
      <p>
        Download verified results with provenance:{' '}
        <button type="button" data-testid="export-json" onClick={() => void exportResults(results.jobId, 'json')} disabled={!results.assembled || building}>
          JSON
        </button>{' '}
        <button type="button" data-testid="export-csv" onClick={() => void exportResults(results.jobId, 'csv')} disabled={!results.assembled || building}>
          CSV
        </button>{' '}
        {outputs.map((o) => (
          <button
            type="button"
            key={o.name}
            data-testid="export-npy"
            data-output={o.name}
            onClick={() => void exportResults(results.jobId, 'npy', o.name)}
            disabled={building}
          >
            {o.name}.npy
          </button>
        ))}
      </p>
    </>
  );
}
