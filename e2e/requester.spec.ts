/**
 * The requester dashboard through its real UI: upload a model and inputs, watch the job, export
 * verified results; bad inputs get their documented errors and make no job; a wrong requester key
 * is refused; two jobs share volunteers by priority.
 */
import fs from 'node:fs';
import type { Page } from '@playwright/test';
import { parseNpy } from '../src/workloads/inputs/npy.ts';
import { expect, test, type TestContext } from './support/browser.ts';
import { parseCsv } from './support/csv.ts';
import { download, expectConnected, openWorkingNetwork, requesterKeyOf } from './support/requester.ts';
import { appState as state } from './support/state.ts';
import { npyFile, RELU_IN, RELU_OUT, reluModel, reluReference, seededInputs, unloadableModel } from './support/tinyModels.ts';

const ITEMS = 100;
const SHARD = 16;
const TOLERANCE = 1e-4;

const file = (name: string, buffer: Buffer, mimeType = 'application/octet-stream') => ({ name, mimeType, buffer });

/** A requester page on the upload form, with the coordinator's key filled in. */
async function uploadForm(req: TestContext, key: string): Promise<Page> {
  const page = req.page;
  await expectConnected(page);
  await page.locator('input[name=requesterKey]').fill(key);
  await page.getByTestId('source-upload').check();
  return page;
}

async function chooseModel(page: Page, name: string, bytes: Buffer, state: 'ready' | 'error'): Promise<void> {
  await page.locator('input[name=model]').setInputFiles(file(name, bytes));
  await expect(page.getByTestId('model-state')).toHaveAttribute('data-state', state, { timeout: 60_000 });
}

async function policy(page: Page, p: { shardSize: number; replication: number; quorum: number; priority?: number }): Promise<void> {
  await page.locator('input[name=shardSize]').fill(String(p.shardSize));
  await page.locator('input[name=replication]').fill(String(p.replication));
  await page.locator('input[name=quorum]').fill(String(p.quorum));
  await page.locator('input[name=priority]').fill(String(p.priority ?? 1));
}

test('an uploaded ONNX model with .npy inputs runs on two volunteers; CSV and .npy exports match a reference run @requester', async ({ openRoles }) => {
  test.setTimeout(180_000);
  const { coord, key, volunteers } = await openWorkingNetwork(openRoles);

  const [req] = await openRoles(['requester']);
  const page = await uploadForm(req!, key);
  await chooseModel(page, 'relu-mlp.onnx', reluModel(), 'ready');
  // The dashboard read the model's signature in the browser.
  await expect(page.getByTestId('signature-input-x')).toContainText('float32');
  await expect(page.getByTestId('signature-input-x')).toContainText('[batch, 4]');

  const x = seededInputs(ITEMS, 20261125);
  await page.locator('input[name=inputs]').setInputFiles(file('x.npy', npyFile(x, [ITEMS, RELU_IN])));
  await expect(page.getByTestId('draft-ready')).toContainText(`x float32 [${ITEMS}, 4]`);
  await policy(page, { shardSize: SHARD, replication: 2, quorum: 2 });
  await page.getByTestId('submit-job').click();
  const sub = page.locator('[data-testid=submissions] li');
  await expect(sub).toHaveAttribute('data-state', 'accepted', { timeout: 60_000 });
  const jobId = (await state(page)).requester.submissions[0]!.jobId!;
  const card = page.getByTestId(`results-${jobId}`);
  await expect(card).toBeVisible({ timeout: 120_000 });
  await expect(card.getByTestId('verified-items')).toHaveText(String(ITEMS));
  await expect(page.getByTestId(`job-rate-${jobId}`)).toContainText('ETA done');

  const expected = reluReference(x);
  // CSV: one row per item, every item verified by two different volunteers, values as the reference.
  const csv = await download(page, card.getByTestId('export-csv'));
  expect(csv.name).toBe(`${jobId}-results.csv`);
  // The page says the file is ready (and would say, in words, if it had failed).
  await expect(card.getByTestId('export-status')).toHaveAttribute('data-state', 'done');
  await expect(card.getByTestId('export-error')).toHaveCount(0);
  const [header, ...rows] = parseCsv(csv.bytes.toString('utf8'));
  expect(header).toEqual(['item', 'file', 'verified', 'shard', 'volunteers', 'backends', 'y[0]', 'y[1]', 'y[2]']);
  expect(rows).toHaveLength(ITEMS);
  let maxDiff = 0;
  rows.forEach((row, i) => {
    expect(row[0]).toBe(String(i));
    // Each item's name: its row of the uploaded .npy.
    expect(row[1]).toBe(`x.npy#${i}`);
    expect(row[2]).toBe('true');
    expect(Number(row[3])).toBe(Math.floor(i / SHARD));
    const agreeing = row[4]!.split(' ');
    expect(new Set(agreeing).size).toBe(2);
    expect(row[5]!.split(' ')).toHaveLength(2);
    for (let j = 0; j < RELU_OUT; j++) maxDiff = Math.max(maxDiff, Math.abs(Number(row[6 + j]) - expected[i * RELU_OUT + j]!));
  });
  expect(maxDiff).toBeLessThanOrEqual(TOLERANCE);

  // NPY: the verified output tensor, [items, 3] float32, equal to the reference and to the CSV.
  const npy = await download(page, card.locator('[data-testid=export-npy][data-output=y]'));
  expect(npy.name).toBe(`${jobId}-y.npy`);
  const y = parseNpy(new Uint8Array(npy.bytes));
  expect(y.dtype).toBe('float32');
  expect(y.shape).toEqual([ITEMS, RELU_OUT]);
  const values = new Float32Array(y.data);
  values.forEach((v, k) => {
    expect(Math.abs(v - expected[k]!)).toBeLessThanOrEqual(TOLERANCE);
    // The CSV holds the shortest text that reads back as exactly this float32.
    expect(Math.fround(Number(rows[Math.floor(k / RELU_OUT)]![6 + (k % RELU_OUT)]))).toBe(v);
  });

  // JSON: the same values and provenance per shard.
  const json = JSON.parse((await download(page, card.getByTestId('export-json'))).bytes.toString('utf8'));
  expect(json).toMatchObject({ format: 'quorum-results/2', jobId, items: ITEMS, verifiedItems: ITEMS });
  expect(json.itemNames).toEqual(Array.from({ length: ITEMS }, (_, i) => `x.npy#${i}`));
  expect(json.shards).toHaveLength(Math.ceil(ITEMS / SHARD));
  expect((json.outputs[0].values[7] as number[]).map(Math.fround)).toEqual([...values.slice(21, 24)]);
  for (const tc of [coord, req!, ...volunteers]) expect(tc.foreignRequests()).toEqual([]);
});

test('bad inputs get their documented errors and make no job @requester', async ({ openRoles }) => {
  test.setTimeout(180_000);
  const [coord] = await openRoles(['coordinator']);
  await expectConnected(coord!.page);
  const key = await requesterKeyOf(coord!.page);
  const [req] = await openRoles(['requester']);
  const page = await uploadForm(req!, key);
  const submitError = page.getByTestId('submit-error');

  // A file that is not ONNX.
  await chooseModel(page, 'notes.onnx', Buffer.from('these are my notes, not a model\n'), 'error');
  await expect(page.getByTestId('model-error')).toContainText('this file is not an ONNX model');
  await page.getByTestId('submit-job').click();
  await expect(submitError).toContainText('this file is not an ONNX model');

  // A model the browser runtime cannot load.
  await chooseModel(page, 'custom-op.onnx', unloadableModel(), 'error');
  await expect(page.getByTestId('model-error')).toContainText('the browser runtime cannot load this model');
  await expect(page.getByTestId('model-error')).toContainText('NoSuchOperator');

  // Inputs that do not match the model: shape, dtype, name; an empty batch; a ragged JSON array.
  await chooseModel(page, 'relu-mlp.onnx', reluModel(), 'ready');
  const problems = page.getByTestId('input-problems');
  const inputs = page.locator('input[name=inputs]');
  await inputs.setInputFiles(file('x.npy', npyFile(seededInputs(5, 1).slice(0, 15), [5, 3])));
  await expect(problems).toContainText('input "x" has shape [5, 3], but the model expects [batch, 4]: dimension 1 is 3, it must be 4.');
  await inputs.setInputFiles(file('x.npy', npyFile(new Int32Array(8), [2, 4])));
  await expect(problems).toContainText('input "x" is int32, but the model expects float32');
  await page.getByTestId('submit-job').click();
  await expect(submitError).toContainText('input "x" is int32, but the model expects float32');
  await page.getByRole('button', { name: 'Clear inputs' }).click();
  await inputs.setInputFiles(file('inputs.json', Buffer.from(JSON.stringify({ pixels: [[1, 2, 3, 4]] })), 'application/json'));
  await expect(problems).toContainText('the model has no input named "pixels" (it takes "x"): rename it.');
  await expect(problems).toContainText('the model needs input "x" (float32 [batch, 4]), which was not given.');
  await page.getByRole('button', { name: 'Clear inputs' }).click();
  await inputs.setInputFiles(file('x.npy', npyFile(new Float32Array(0), [0, 4])));
  await expect(problems).toContainText('the batch is empty (0 items): give at least one item.');
  await inputs.setInputFiles(file('x.json', Buffer.from('[[1,2,3,4],[5,6,7]]'), 'application/json'));
  await expect(page.getByTestId('input-error')).toContainText('JSON array is ragged: [1] has 3 elements, but [0] has 4');
  await inputs.setInputFiles(file('x.npy', parseableFortranNpy()));
  await expect(page.getByTestId('input-error')).toContainText('Fortran (column-major) order');

  // A bad policy.
  await inputs.setInputFiles(file('x.npy', npyFile(seededInputs(20, 2), [20, 4])));
  await expect(page.getByTestId('draft-ready')).toBeVisible();
  await policy(page, { shardSize: 5, replication: 2, quorum: 3 });
  await page.getByTestId('submit-job').click();
  await expect(submitError).toContainText('the policy needs quorum ≤ replication ≤ max replicas (now 3, 2, 4).');

  // Over the coordinator's (configured) limits: the dashboard cannot know them, the coordinator refuses.
  await coord!.page.locator('input[name=maxItems]').fill('10');
  await coord!.page.getByTestId('save-limits').click();
  await expect(coord!.page.getByTestId('limits-status')).toHaveText('saved');
  await policy(page, { shardSize: 5, replication: 2, quorum: 2 });
  await page.getByTestId('submit-job').click();
  const sub = page.locator('[data-testid=submissions] li');
  await expect(sub).toHaveAttribute('data-state', 'rejected', { timeout: 60_000 });
  await expect(sub.getByTestId('rejection')).toContainText(
    "the job has 20 items, over this coordinator's limit of 10 per job (the limits are set by the coordinator: on its page, or with quorum coordinator --max-model-mib, --max-inputs-mib, --max-items)",
  );

  // No job was made by any of it.
  expect((await state(page)).requester.submissions).toHaveLength(1);
  expect((await state(coord!.page)).coordinator.jobs).toEqual([]);
  // The limit survives a reload of the coordinator (IndexedDB settings).
  await coord!.page.reload();
  await expect(coord!.page.locator('input[name=maxItems]')).toHaveValue('10', { timeout: 20_000 });
});

test('a submission with a wrong requester key is refused; the right key is accepted; watching needs the key @requester', async ({ openRoles }) => {
  test.setTimeout(120_000);
  const [coord] = await openRoles(['coordinator']);
  await expectConnected(coord!.page);
  const key = await requesterKeyOf(coord!.page);
  const [req, watcher] = await openRoles(['requester', 'requester']);
  const page = req!.page;
  await expectConnected(page);
  await page.locator('input[name=count]').fill('20');
  await page.locator('input[name=requesterKey]').fill('0123456789abcdef0123456789abcdef');
  await page.getByTestId('submit-job').click();
  const subs = page.locator('[data-testid=submissions] li');
  await expect(subs.first()).toHaveAttribute('data-state', 'rejected', { timeout: 30_000 });
  await expect(subs.first().getByTestId('rejection')).toContainText(
    'wrong requester key: copy the key the coordinator shows (on its page, or in the requester link quorum coordinator logs when ready)',
  );
  expect((await state(coord!.page)).coordinator.jobs).toEqual([]);

  // The key the coordinator page shows works, and the page remembers it for this network.
  await page.locator('input[name=requesterKey]').fill(key);
  await page.getByTestId('submit-job').click();
  await expect(subs.nth(1)).toHaveAttribute('data-state', 'accepted', { timeout: 30_000 });
  await page.reload();
  await expect(page.locator('input[name=requesterKey]')).toHaveValue(key);

  // [J-11] Another requester tab holding the key (opened from the coordinator's link) follows the
  // job; one without it sees nothing of it.
  const [keyed] = await openRoles([`requester?key=${key}`]);
  await expectConnected(keyed!.page);
  await expect(keyed!.page.getByTestId('other-jobs')).toContainText('MNIST 20 digits', { timeout: 20_000 });
  await expectConnected(watcher!.page);
  expect((await state(watcher!.page)).requester.jobs).toEqual([]);
  await expect(watcher!.page.getByTestId('other-jobs')).toHaveCount(0);
});

test('two jobs with priorities 3 and 1 share the volunteers 3:1 while both have work @requester', async ({ openRoles }) => {
  test.setTimeout(240_000);
  const [coord] = await openRoles(['coordinator']);
  await expectConnected(coord!.page);
  const key = await requesterKeyOf(coord!.page);
  const [req] = await openRoles(['requester']);
  const page = await uploadForm(req!, key);
  await chooseModel(page, 'relu-mlp.onnx', reluModel(), 'ready');
  // One item per shard, one replica each: every lease is one unit of the job's share.
  const items = 300;
  await page.locator('input[name=inputs]').setInputFiles(file('x.npy', npyFile(seededInputs(items, 7), [items, RELU_IN])));
  await expect(page.getByTestId('draft-ready')).toBeVisible();
  // Both jobs are in before any volunteer arrives, so neither gets a head start.
  await policy(page, { shardSize: 1, replication: 1, quorum: 1, priority: 3 });
  await page.getByTestId('submit-job').click();
  await policy(page, { shardSize: 1, replication: 1, quorum: 1, priority: 1 });
  await page.getByTestId('submit-job').click();
  const subs = page.locator('[data-testid=submissions] li');
  await expect(subs.nth(0)).toHaveAttribute('data-state', 'accepted', { timeout: 60_000 });
  await expect(subs.nth(1)).toHaveAttribute('data-state', 'accepted', { timeout: 60_000 });
  const [high, low] = (await state(page)).requester.submissions.map((s) => s.jobId!);

  await openRoles(['volunteer?autostart=1', 'volunteer?autostart=1']);
  // Sample the coordinator until 80 shards are verified; both jobs must still have work then.
  let snapshot: { high: number; low: number; highLeft: number; lowLeft: number } | null = null;
  await expect
    .poll(
      async () => {
        const jobs = (await state(coord!.page)).coordinator.jobs;
        const h = jobs.find((j) => j.jobId === high);
        const l = jobs.find((j) => j.jobId === low);
        if (!h || !l) return 0;
        snapshot = { high: h.verified, low: l.verified, highLeft: h.pending + h.inFlight, lowLeft: l.pending + l.inFlight };
        return h.verified + l.verified;
      },
      { timeout: 180_000, intervals: [250] },
    )
    .toBeGreaterThanOrEqual(80);
  const s = snapshot as unknown as { high: number; low: number; highLeft: number; lowLeft: number };
  console.log(`verified when sampled: priority 3 → ${s.high}, priority 1 → ${s.low} (ratio ${(s.high / Math.max(1, s.low)).toFixed(2)})`);
  expect(s.highLeft).toBeGreaterThan(0);
  expect(s.lowLeft).toBeGreaterThan(0);
  // Stride scheduling gives exactly 3:1 leases; verified counts trail leases by at most the two in flight.
  const ratio = s.high / Math.max(1, s.low);
  expect(ratio).toBeGreaterThanOrEqual(2.4);
  expect(ratio).toBeLessThanOrEqual(3.8);
  // The dashboard shows both jobs with their priorities.
  await expect(page.getByTestId(`job-rate-${high}`)).toContainText('priority 3');
  await expect(page.getByTestId(`job-rate-${low}`)).toContainText('priority 1');
});

/** A float32 .npy in Fortran order (as numpy.save(np.asfortranarray(x)) writes it). */
function parseableFortranNpy(): Buffer {
  const bytes = npyFile(new Float32Array(8), [2, 4]);
  const at = bytes.indexOf("'fortran_order': False");
  bytes.write("'fortran_order': True ", at, 'latin1'); // same length: the header stays aligned
  return bytes;
}

test('OCR and VAD workloads: bad files are refused by name, an empty choice says so, no job is made; good WAV files are verified on two volunteers @requester', async ({
  openRoles,
}) => {
  test.setTimeout(240_000);
  const { coord, key } = await openWorkingNetwork(openRoles);
  const [req] = await openRoles(['requester']);
  const page = req!.page;
  await expectConnected(page);
  await page.locator('input[name=requesterKey]').fill(key);
  const fixture = (rel: string) => file(rel.split('/').pop()!, fs.readFileSync(new URL(`fixtures/${rel}`, import.meta.url)));
  const filesError = page.getByTestId('workload-files-error');
  const submitError = page.getByTestId('submit-error');

  // OCR: nothing chosen yet, then a text file among the images, then an image that does not decode.
  await page.getByTestId('workload-select').selectOption('ocr');
  await expect(page.locator('input[name=shardSize]')).toHaveValue('4');
  await expect(page.locator('input[name=ocrMinIou]')).toHaveValue('0.5');
  await page.getByTestId('submit-job').click();
  await expect(submitError).toContainText('choose the images (files or a folder) first.');
  const images = ['01-total-12-80.png', '02-invoice-4711.png'].map((f) => fixture(`ocr-lines/${f}`));
  await page.getByTestId('workload-files').setInputFiles([...images, file('notes.txt', Buffer.from('not an image'), 'text/plain')]);
  await expect(filesError).toHaveText('"notes.txt" is not one of the images this workload reads: choose PNG or JPEG images.');
  await page.getByTestId('workload-files').setInputFiles([...images, file('broken.png', Buffer.from('not a png'), 'image/png')]);
  await expect(filesError).toContainText('could not decode "broken.png" as an image');
  await page.getByTestId('submit-job').click();
  await expect(submitError).toContainText('could not decode "broken.png" as an image');

  // VAD: a WAV file that is not one.
  await page.getByTestId('workload-select').selectOption('vad');
  await expect(page.locator('input[name=vadToleranceMs]')).toHaveValue('32');
  await page.getByTestId('workload-files').setInputFiles([fixture('vad/02-hello-network.wav'), file('clip.wav', Buffer.from('RIFF....AVI LIST'))]);
  await expect(filesError).toContainText('"clip.wav" is not a WAV file');
  expect((await state(page)).requester.submissions).toEqual([]);
  expect((await state(coord!.page)).coordinator.jobs).toEqual([]);

  // Good WAV files: checked, sent with Silero v5 fetched from the app's own origin, verified by two volunteers.
  await page.getByTestId('workload-files').setInputFiles([fixture('vad/01-quorum-checks-answers.wav'), fixture('vad/02-hello-network.wav')]);
  await expect(page.getByTestId('workload-files-state')).toHaveAttribute('data-state', 'ready');
  await page.getByTestId('submit-job').click();
  const sub = page.locator('[data-testid=submissions] li');
  await expect(sub).toHaveAttribute('data-state', 'accepted', { timeout: 60_000 });
  await expect(sub).toContainText('VAD × 2 WAV files');
  const jobId = (await state(page)).requester.submissions[0]!.jobId!;
  const card = page.getByTestId(`results-${jobId}`);
  await expect(card).toBeVisible({ timeout: 150_000 });
  await expect(card.getByTestId('verified-items')).toHaveText('2');
  // Each file's speech as segments on the page (the fixtures hold one spoken sentence each).
  await expect(card.getByTestId('segments')).toHaveCount(2);
  await expect(card.getByTestId('export-txt')).toHaveCount(0);
  const csv = await download(page, card.getByTestId('export-csv'));
  const [header, ...rows] = parseCsv(csv.bytes.toString('utf8'));
  expect(header).toEqual(['item', 'file', 'verified', 'segment', 'start_s', 'end_s']);
  expect(rows.map((r) => [r[1], r[2]])).toEqual([
    ['01-quorum-checks-answers.wav', 'true'],
    ['02-hello-network.wav', 'true'],
  ]);
  // 01's manifest: speech from 0.75 s to 1.946 s; the segment covers it give or take the pad.
  expect(Number(rows[0]![4])).toBeCloseTo(0.75, 0);
  expect(Number(rows[0]![5])).toBeCloseTo(1.946, 0);
});

test('OCR of two images on two volunteers: thumbnails with boxes, lines, and a text export @requester', async ({ openRoles }) => {
  test.setTimeout(240_000);
  const { key } = await openWorkingNetwork(openRoles);
  const [req] = await openRoles(['requester']);
  const page = req!.page;
  await expectConnected(page);
  await page.locator('input[name=requesterKey]').fill(key);
  await page.getByTestId('workload-select').selectOption('ocr');
  const names = ['01-total-12-80.png', '02-invoice-4711.png'];
  await page
    .getByTestId('workload-files')
    .setInputFiles(names.map((n) => file(n, fs.readFileSync(new URL(`fixtures/ocr-lines/${n}`, import.meta.url)), 'image/png')));
  await expect(page.getByTestId('workload-files-state')).toHaveAttribute('data-state', 'ready');
  await page.getByTestId('submit-job').click();
  const sub = page.locator('[data-testid=submissions] li');
  await expect(sub).toHaveAttribute('data-state', 'accepted', { timeout: 90_000 });
  const jobId = (await state(page)).requester.submissions[0]!.jobId!;
  const card = page.getByTestId(`results-${jobId}`);
  await expect(card).toBeVisible({ timeout: 180_000 });
  await expect(card.getByTestId('verified-items')).toHaveText('2');
  // Each image as a thumbnail with its boxes drawn, its lines beside it.
  await expect(card.locator('svg.ocr-thumb')).toHaveCount(2);
  await expect(card.locator('svg.ocr-thumb polygon').first()).toBeVisible();
  await expect(card.getByTestId('ocr-lines').first()).toContainText('12.80');
  const text = await download(page, card.getByTestId('export-txt'));
  expect(text.name).toBe(`${jobId}-text.txt`);
  const body = text.bytes.toString('utf8');
  expect(body).toMatch(/^==> 01-total-12-80\.png <==\n.*12\.80/);
  expect(body).toContain('\n==> 02-invoice-4711.png <==\n');
});
