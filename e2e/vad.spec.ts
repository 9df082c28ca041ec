/**
 * [V-12] [J-9] The built-in voice-activity workload end to end: three WAV files (a sentence with
 * silence around it; 16 kHz mono s16, 22.05 kHz stereo u8 and 8 kHz mono — the project's own
 * resampler makes them 16 kHz) uploaded through the dashboard; Silero VAD v5 served by the app's
 * own origin, run frame by frame with its state carried along on two volunteers. The verified
 * segments must cover the known speech span, equal the Node reference run (`npm run workload --
 * vad`) within one 32 ms frame, and survive a reload of the requester's page.
 */
import fs from 'node:fs';
import path from 'node:path';
import { compareSegments } from '../src/core/verification/answers.ts';
import { DEFAULT_ANSWER_COMPARATORS, type Segment } from '../src/protocol/pipeline.ts';
import { vadCommand } from '../scripts/workloads/vadCommand.ts';
import { expect, test } from './support/browser.ts';
import { download, expectConnected, openWorkingNetwork } from './support/requester.ts';
import { appState as state } from './support/state.ts';

const FIXTURES = path.join(import.meta.dirname, 'fixtures', 'vad');
const manifest: { file: string; speech: { start: number; end: number } }[] = JSON.parse(fs.readFileSync(path.join(FIXTURES, 'manifest.json'), 'utf8'));
/** Silero's probability rises a frame or two after a word starts and falls a little after it ends; the pipeline pads 64 ms. */
const EDGE_SLACK_S = 0.15;

test('VAD of three WAV files on two volunteers: segments cover the spoken sentence and equal the reference run @vad', async ({ openRoles }) => {
  test.setTimeout(300_000);
  const reference = await vadCommand(manifest.map((m) => path.join(FIXTURES, m.file)));
  const { key } = await openWorkingNetwork(openRoles);
  const [req] = await openRoles(['requester']);
  const page = req!.page;
  await expectConnected(page);
  await page.locator('input[name=requesterKey]').fill(key);
  await page.getByTestId('workload-select').selectOption('vad');
  await page
    .getByTestId('workload-files')
    .setInputFiles(manifest.map((m) => ({ name: m.file, mimeType: 'audio/wav', buffer: fs.readFileSync(path.join(FIXTURES, m.file)) })));
  await expect(page.getByTestId('workload-files-state')).toHaveAttribute('data-state', 'ready');
  await page.getByTestId('submit-job').click();
  await expect(page.locator('[data-testid=submissions] li')).toHaveAttribute('data-state', 'accepted', { timeout: 60_000 });
  const jobId = (await state(page)).requester.submissions[0]!.jobId!;
  const card = page.getByTestId(`results-${jobId}`);
  await expect(card.getByTestId('verified-items')).toHaveText('3', { timeout: 240_000 });

  const exported: { answers: { name: string; answer: { kind: 'segments'; segments: Segment[] } | null }[]; shards: { volunteers: string[] }[] } = JSON.parse(
    (await download(page, card.getByTestId('export-json'))).bytes.toString('utf8'),
  );
  for (const s of exported.shards) expect(new Set(s.volunteers).size).toBe(2);
  const tolerance = DEFAULT_ANSWER_COMPARATORS.segments.toleranceSec;
  for (const [i, m] of manifest.entries()) {
    const got = exported.answers[i]!;
    expect(got.name).toBe(m.file);
    const segments = got.answer!.segments;
    // One sentence: one segment, covering the speech give or take the detector's edges.
    expect(segments, m.file).toHaveLength(1);
    expect(segments[0]!.start).toBeLessThanOrEqual(m.speech.start + EDGE_SLACK_S);
    expect(segments[0]!.start).toBeGreaterThanOrEqual(m.speech.start - EDGE_SLACK_S);
    expect(segments[0]!.end).toBeGreaterThanOrEqual(m.speech.end - EDGE_SLACK_S);
    const agreement = compareSegments(segments, reference[i]!.segments, tolerance);
    expect(agreement.agree, `${m.file} against the reference: ${agreement.reason}`).toBe(true);
  }

  // [J-8] The answers are still there after a reload.
  await page.reload();
  await expect(page.getByTestId(`results-${jobId}`).getByTestId('verified-items')).toHaveText('3', { timeout: 60_000 });
  await expect(page.getByTestId(`results-${jobId}`).getByTestId('segments')).toHaveCount(3);
});
