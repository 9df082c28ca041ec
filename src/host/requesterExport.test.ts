import { beforeEach, describe, expect, it } from 'vitest';
import { attachUi, memoryUiPorts, ui } from './uiPorts.ts';
import { type JobResults } from '../model/requesterView.ts';
import { assembleResults } from '../workloads/export/assemble.ts';
import { exportResults } from './requesterRole.ts';

beforeEach(() => attachUi(memoryUiPorts()));

function withResults(): void {
  const assembled = assembleResults('j1', 'n', 1, [
    {
      index: 0,
      start: 0,
      count: 1,
      outputs: [{ name: 'y', dtype: 'float32', dims: [1, 2], data: new Float32Array([1, 2]).buffer }],
      volunteers: [],
      backends: [],
    },
  ] as never);
  const results: JobResults = {
    jobId: 'j1' as JobResults['jobId'],
    items: 1,
    verifiedItems: 1,
    predictions: [1],
    accuracy: null,
    provenance: [],
    assembled,
    assembleError: null,
  };
  ui().requester.patch({ results: { j1: results } });
}

describe('exportResults', () => {
  it('an export that fails says so on the page, in words, with what to try instead', async () => {
    withResults();
    await exportResults('j1', 'npy', 'nope');
    expect(ui().requester.get().exports['j1']).toEqual({
      format: 'npy',
      state: 'failed',
      progress: 0,
      bytes: null,
      error:
        'the .npy export failed: the job has no output named "nope" (it has "y"). Close other tabs to free memory and try again, or use the JSON or CSV export.',
    });
  });
});
