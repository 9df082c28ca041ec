/**
 * The output folder of `quorum submit` / `quorum results`: the job's verified results in the
 * dashboard's export formats (the same exporters, the same file names), rewritten each time more
 * shards are verified, and `job.json`, which names the job so an interrupted run can be resumed.
 * Every file is written whole under a temporary name and renamed over the old one, so a reader
 * (or a Ctrl-C) never sees half a file.
 */
import fs from 'node:fs';
import { writeFileAtomic } from '../volunteer/stateDir.ts';
import path from 'node:path';
import { answersToCsvParts, answersToJsonParts, answersToTextParts } from '../../src/workloads/export/answerExporters.ts';
import type { AssembledResults } from '../../src/workloads/export/assemble.ts';
import { receiptSidecar, sidecarName, type SidecarExport } from '../../src/workloads/export/receiptExport.ts';
import { exportFileName, resultsToCsvParts, resultsToJsonParts, resultsToNpy } from '../../src/workloads/export/exporters.ts';

export const JOB_FILE = 'job.json';

/** What `job.json` records: enough to reconnect and follow the job again. */
export interface JobRecordFile {
  readonly jobId: string;
  readonly name: string;
  readonly items: number;
  readonly server: string;
  readonly network: string;
  /** [K-1] The coordinator key's fingerprint it was submitted to; null when not known. */
  readonly fingerprint: string | null;
  readonly shards: number;
  readonly verifiedShards: number;
  readonly done: boolean;
}

export function writeJobRecord(dir: string, record: JobRecordFile): void {
  fs.mkdirSync(dir, { recursive: true });
  writeFileAtomic(path.join(dir, JOB_FILE), [`${JSON.stringify(record, null, 2)}\n`]);
}

/** `dir/job.json`, or null when there is none or it is not one (then the flags must say everything). */
export function readJobRecord(dir: string): Partial<JobRecordFile> | null {
  let raw: string;
  try {
    raw = fs.readFileSync(path.join(dir, JOB_FILE), 'utf8');
  } catch {
    return null;
  }
  try {
    const parsed: unknown = JSON.parse(raw);
    if (typeof parsed !== 'object' || parsed === null) return null;
    const r = parsed as Record<string, unknown>;
    const record: { -readonly [K in keyof JobRecordFile]?: JobRecordFile[K] } = {};
    for (const k of ['jobId', 'server', 'network', 'name', 'fingerprint'] as const) {
      const v = r[k];
      if (typeof v === 'string') record[k] = v;
    }
    if (typeof r['items'] === 'number') record.items = r['items'];
    return record;
  } catch {
    return null;
  }
}

/**
 * Writes every export of `results` into `dir`: a job of tensors as JSON, CSV and one .npy per
 * output; a pipeline job's answers as JSON, CSV and text ([V-12]). Returns the file names.
 */
export function writeResults(dir: string, results: AssembledResults): string[] {
  fs.mkdirSync(dir, { recursive: true });
  const id = results.jobId;
  const files: [string, Iterable<string | Uint8Array>][] = results.answers
    ? [
        [exportFileName(id, 'answers', 'json'), answersToJsonParts(results)],
        [exportFileName(id, 'answers', 'csv'), answersToCsvParts(results)],
        [exportFileName(id, 'text', 'txt'), answersToTextParts(results)],
      ]
    : [
        [exportFileName(id, 'results', 'json'), resultsToJsonParts(results)],
        [exportFileName(id, 'results', 'csv'), resultsToCsvParts(results)],
        ...results.outputs.map((o): [string, Uint8Array[]] => [exportFileName(id, o.name, 'npy'), [resultsToNpy(results, o.name)]]),
      ];
  // [AU-6] CSV, text and .npy exports get the receipt beside them, as the dashboard's downloads do
  // (the JSON exports carry it inline).
  const sidecars: [string, string][] = [];
  if (results.receipt) {
    for (const [name] of files) {
      if (name.endsWith('.json')) continue;
      const kind: SidecarExport = name.endsWith('.npy') ? 'npy' : results.answers ? (name.endsWith('.csv') ? 'answers-csv' : 'answers-text') : 'results-csv';
      const output = kind === 'npy' ? results.outputs.find((o) => exportFileName(id, o.name, 'npy') === name)?.name : undefined;
      sidecars.push([sidecarName(name), receiptSidecar(results.receipt, name, kind, output)]);
    }
  }
  for (const [name, pieces] of files) writeFileAtomic(path.join(dir, name), pieces);
  for (const [name, text] of sidecars) writeFileAtomic(path.join(dir, name), [text]);
  return [...files.map(([name]) => name), ...sidecars.map(([name]) => name)];
}
