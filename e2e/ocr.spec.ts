/**
 * [V-12] [J-9] [J-10] The built-in OCR workload end to end, as a requester uses it: 32 text-line
 * images and 4 document images (rendered once by scripts/fixtures/render-ocr-fixtures.ts, the
 * text of each in manifest.json) uploaded through the dashboard; PP-OCRv4's three models and
 * dictionary served by the app's own origin, sent to volunteers as one asset bundle; one WASM
 * volunteer and one WebGPU (SwiftShader) volunteer read every image; the coordinator accepts an
 * image only when both answers agree on what a person reads (boxes overlap, text equal).
 *
 * The verified answers must equal the Node reference run (`npm run workload -- ocr`, the same
 * pipeline code on onnxruntime-node) under the same comparator the coordinator used, read at
 * least 95 % of the known lines exactly, and still be there — and exportable — after the
 * requester's page is reloaded.
 *
 * SwiftShader runs PP-OCR about 100× slower than WASM (npm run bench: 0.11 against 10.5 lines/s),
 * so a second WASM volunteer shares the work and shards are small: the WebGPU volunteer verifies
 * the shards it takes together with a WASM one (cross-backend agreement, as on real hardware),
 * and the job does not wait for SwiftShader to read all 36 images.
 */
import fs from 'node:fs';
import path from 'node:path';
import { chromium, type Browser } from '@playwright/test';
import { compareOcr } from '../src/core/verification/answers.ts';
import { DEFAULT_ANSWER_COMPARATORS, type OcrLine } from '../src/protocol/pipeline.ts';
import { ocrCommand } from '../scripts/workloads/ocrCommand.ts';
import { expect, test } from './support/browser.ts';
import { CHROMIUM_ARGS, CHROMIUM_PATH, CONTEXT_PERMISSIONS, E2E_BASE_URL } from './support/env.ts';
import { download, expectConnected, requesterKeyOf } from './support/requester.ts';
import { appState as state } from './support/state.ts';

const FIXTURES = path.join(import.meta.dirname, 'fixtures', 'ocr');
const manifest: { lines: { file: string; text: string }[]; documents: { file: string; lines: string[] }[] } = JSON.parse(
  fs.readFileSync(path.join(FIXTURES, 'manifest.json'), 'utf8'),
);
/** Every fixture: the line images, then the documents, with the text each holds. */
const ITEMS = [...manifest.lines.map((l) => ({ file: l.file, lines: [l.text] })), ...manifest.documents];

interface AnswersExport {
  readonly format: string;
  readonly items: number;
  readonly verifiedItems: number;
  readonly answers: { item: number; name: string; verified: boolean; answer: { kind: 'ocr'; lines: OcrLine[] } | null }[];
  readonly shards: { index: number; start: number; count: number; volunteers: string[]; backends: string[] }[];
}

let gpuBrowser: Browser | null = null;
test.afterEach(async () => {
  await gpuBrowser?.close();
  gpuBrowser = null;
});

test('OCR of 32 text lines and 4 documents, verified by WASM and WebGPU volunteers, equals the reference run and survives a reload @ocr', async ({
  openRoles,
}) => {
  test.setTimeout(900_000);
  // The reference first, in this process: the same pipeline code on onnxruntime-node.
  const reference = await ocrCommand(ITEMS.map((i) => path.join(FIXTURES, i.file)));

  const [coord] = await openRoles(['coordinator']);
  await expectConnected(coord!.page);
  const key = await requesterKeyOf(coord!.page);
  gpuBrowser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: [...CHROMIUM_ARGS, '--enable-unsafe-webgpu'] });
  const gpu = await (await gpuBrowser.newContext({ baseURL: E2E_BASE_URL, permissions: [...CONTEXT_PERMISSIONS] })).newPage();
  await gpu.goto('/#/volunteer?autostart=1');
  const [wasmA, wasmB, req] = await openRoles(['volunteer?autostart=1', 'volunteer?autostart=1', 'requester']);
  await expect(gpu.getByTestId('backend')).toHaveText('webgpu', { timeout: 60_000 });
  for (const v of [wasmA!, wasmB!]) await expect(v.page.getByTestId('backend')).toHaveText('wasm', { timeout: 30_000 });
  await expect(coord!.page.getByTestId('volunteer-count')).toHaveText('3', { timeout: 30_000 });

  const page = req!.page;
  await expectConnected(page);
  await page.locator('input[name=requesterKey]').fill(key);
  await page.getByTestId('workload-select').selectOption('ocr');
  await page
    .getByTestId('workload-files')
    .setInputFiles(ITEMS.map((i) => ({ name: path.basename(i.file), mimeType: 'image/png', buffer: fs.readFileSync(path.join(FIXTURES, i.file)) })));
  await expect(page.getByTestId('workload-files-state')).toHaveAttribute('data-state', 'ready', { timeout: 60_000 });
  await page.locator('input[name=shardSize]').fill('2');
  await page.getByTestId('submit-job').click();
  const sub = page.locator('[data-testid=submissions] li');
  await expect(sub).toHaveAttribute('data-state', 'accepted', { timeout: 120_000 });
  const jobId = (await state(page)).requester.submissions[0]!.jobId!;
  const card = page.getByTestId(`results-${jobId}`);
  await expect(card.getByTestId('verified-items')).toHaveText(String(ITEMS.length), { timeout: 780_000 });

  const exported: AnswersExport = JSON.parse((await download(page, card.getByTestId('export-json'))).bytes.toString('utf8'));
  expect(exported.verifiedItems).toBe(ITEMS.length);
  // Every shard verified by two different volunteers; the WebGPU volunteer's answers agreed with WASM ones.
  for (const s of exported.shards) expect(new Set(s.volunteers).size, `shard ${s.index}`).toBe(2);
  expect(exported.shards.reduce((n, s) => n + s.count, 0)).toBe(ITEMS.length);
  const crossBackend = exported.shards.filter((s) => s.backends.includes('webgpu') && s.backends.includes('wasm'));
  console.log(`OCR e2e: ${crossBackend.length} of ${exported.shards.length} shards verified by WebGPU and WASM together`);
  expect(crossBackend.length).toBeGreaterThan(0);

  // The network's verified answer is the reference's, under the comparator the coordinator used.
  const { minIou, maxCer } = DEFAULT_ANSWER_COMPARATORS.ocr;
  let exact = 0;
  let known = 0;
  // The dashboard orders a folder's files by path: match items by name.
  const byName = new Map(exported.answers.map((a) => [a.name, a]));
  expect(byName.size).toBe(ITEMS.length);
  for (const [i, item] of ITEMS.entries()) {
    const got = byName.get(path.basename(item.file));
    expect(got?.verified, item.file).toBe(true);
    const lines = got!.answer!.lines;
    const agreement = compareOcr(lines, reference[i]!.lines, minIou, maxCer);
    expect(agreement.agree, `${item.file}: ${agreement.reason}`).toBe(true);
    const read = new Set(lines.map((l) => l.text));
    known += item.lines.length;
    exact += item.lines.filter((t) => read.has(t)).length;
  }
  console.log(`OCR e2e: ${exact} of ${known} known lines read exactly (${((100 * exact) / known).toFixed(1)} %)`);
  expect(exact / known).toBeGreaterThanOrEqual(0.95);

  // [V-13] What the coordinator measured between the two backends, for the README's thresholds.
  const spread = (await state(coord!.page)).coordinator.jobs.find((j) => j.jobId === jobId)?.spread;
  console.log(`OCR e2e: spread between replicas ${JSON.stringify(spread)}`);

  // [J-8] A reloaded requester page still has the answers, and exports them.
  await page.reload();
  const again = page.getByTestId(`results-${jobId}`);
  await expect(again.getByTestId('verified-items')).toHaveText(String(ITEMS.length), { timeout: 60_000 });
  const text = (await download(page, again.getByTestId('export-txt'))).bytes.toString('utf8');
  expect(text).toContain(`==> ${path.basename(ITEMS[0]!.file)} <==\n${ITEMS[0]!.lines[0]}`);
  for (const item of ITEMS) expect(text).toContain(`==> ${path.basename(item.file)} <==`);
  const reexported: AnswersExport = JSON.parse((await download(page, again.getByTestId('export-json'))).bytes.toString('utf8'));
  expect(reexported.answers).toEqual(exported.answers);
});
