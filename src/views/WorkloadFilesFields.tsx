/** The file and folder choosers of a built-in workload of files (OCR, VAD), and how the check went. */
import { formatBytes } from '../core/format.ts';
import { chooseWorkloadFiles, clearWorkloadFiles } from '../host/requesterRole.ts';
import type { WorkloadFilesView } from '../model/requesterView.ts';
import type { FileWorkload } from '../workloads/fileWorkloads.ts';

/** React passes it through to the DOM; the type definitions do not know it. */
const FOLDER_PICKER = { webkitdirectory: '' } as const;

export function WorkloadFilesFields({ workload, view }: { workload: FileWorkload; view: WorkloadFilesView }) {
  const mine = view.workloadId === workload.id ? view : null;
  const onChoose = (input: HTMLInputElement): void => {
    // An empty folder gives an empty list: checked too, so the page says so.
    void chooseWorkloadFiles(workload.id, input.files ? [...input.files] : []);
    input.value = '';
  };
  return (
    <>
      <label>
        Files <input type="file" name="workloadFiles" multiple accept={workload.accept} data-testid="workload-files" onChange={(e) => onChoose(e.target)} />
      </label>
      <label>
        or a folder <input type="file" name="workloadFolder" {...FOLDER_PICKER} data-testid="workload-folder" onChange={(e) => onChoose(e.target)} />
      </label>
      {mine?.state === 'checking' ? <p data-testid="workload-files-state">checking every file…</p> : null}
      {mine?.state === 'ready' ? (
        <p data-testid="workload-files-state" data-state="ready">
          {mine.count} {workload.itemNoun} ({formatBytes(mine.bytes)}) checked and ready
          {mine.skipped > 0 ? `; ${mine.skipped} hidden file(s) of the folder left out` : ''}.{' '}
          <button type="button" onClick={clearWorkloadFiles}>
            Clear
          </button>
        </p>
      ) : null}
      {mine?.state === 'error' ? (
        <p className="error" data-testid="workload-files-error" role="alert">
          {mine.error}
        </p>
      ) : null}
    </>
  );
}
